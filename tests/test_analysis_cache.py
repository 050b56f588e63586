"""The cache of analysed raw-data experiments: reused for the same entry, data and seed, never when one changes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from causalmmm.experiments import analyze
from causalmmm.experiments.analyze import analyze_experiments
from causalmmm.experiments.cache import CACHE_ENV, cache_dir
from causalmmm.experiments.schema import load_experiments

EXAMPLE = Path(__file__).resolve().parents[1] / "causalmmm" / "example"


@pytest.fixture
def switchback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The example's switchback experiment (a regression, no sampling) in a scratch folder, and a call counter."""
    for name in ("experiments.yaml", "ppc_switchback.csv", "brand_geo_dark.csv"):
        shutil.copy(EXAMPLE / name, tmp_path / name)
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    calls: list[str] = []
    real = analyze._analyze_one

    def counted(e, base, seed):
        calls.append(e.name)
        return real(e, base, seed)

    monkeypatch.setattr(analyze, "_analyze_one", counted)
    exps = [e for e in load_experiments(tmp_path / "experiments.yaml") if e.design == "switchback"]
    assert exps, "the example has a switchback experiment"
    return tmp_path, exps, calls


def test_second_analysis_is_reused_with_the_same_answer(switchback) -> None:
    folder, exps, calls = switchback
    (first,) = analyze_experiments(exps, folder, seed=0, cache=True)
    (second,) = analyze_experiments(exps, folder, seed=0, cache=True)
    assert calls == [exps[0].name]
    assert first.cached is None and second.cached is not None
    assert (second.estimate, second.se, second.method) == (first.estimate, first.se, first.method)
    assert (second.experiment.estimate, second.experiment.se) == (first.experiment.estimate, first.experiment.se)
    assert "cached analysis" in second.to_text() and "cached" not in first.to_text()
    assert len(list(Path(folder / "cache").glob("*.json"))) == 1


def test_changed_data_or_seed_is_analysed_again(switchback) -> None:
    folder, exps, calls = switchback
    analyze_experiments(exps, folder, seed=0, cache=True)
    analyze_experiments(exps, folder, seed=1, cache=True)
    csv = folder / "ppc_switchback.csv"
    lines = csv.read_text().splitlines()
    csv.write_text("\n".join(lines[:-1]) + "\n")  # drop the last row
    analyze_experiments(exps, folder, seed=0, cache=True)
    assert calls == [exps[0].name] * 3


def test_without_cache_or_when_off_nothing_is_stored(switchback, monkeypatch: pytest.MonkeyPatch) -> None:
    folder, exps, calls = switchback
    analyze_experiments(exps, folder, seed=0)
    analyze_experiments(exps, folder, seed=0)
    assert not (folder / "cache").exists()
    monkeypatch.setenv(CACHE_ENV, "off")
    assert cache_dir() is None
    analyze_experiments(exps, folder, seed=0, cache=True)
    analyze_experiments(exps, folder, seed=0, cache=True)
    assert len(calls) == 4 and not (folder / "cache").exists()


def test_unreadable_cache_entry_is_recomputed(switchback) -> None:
    folder, exps, calls = switchback
    analyze_experiments(exps, folder, seed=0, cache=True)
    (entry,) = Path(folder / "cache").glob("*.json")
    entry.write_text("{not json")
    (again,) = analyze_experiments(exps, folder, seed=0, cache=True)
    assert again.cached is None and len(calls) == 2
