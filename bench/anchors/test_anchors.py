"""Sampling-free tests of the anchor driver: missing venv error, job layout, subprocess round trip.

.venv/bin/pytest -q bench/anchors/test_anchors.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from bench.anchors import envs, run
from bench.anchors.envs import Anchor, AnchorEnvError


@pytest.fixture
def fake_root(tmp_path, monkeypatch):
    monkeypatch.setattr(envs, "ROOT", tmp_path / "anchors")
    return tmp_path


def test_missing_venv_is_one_line_with_the_install_command(fake_root):
    with pytest.raises(AnchorEnvError) as err:
        run.run_anchor("pymc-marketing", run.AnchorJob(csv="x.csv", channels=["tv"]))
    msg = str(err.value)
    assert "\n" not in msg and "python -m bench.anchors.envs install --only pymc-marketing" in msg


def test_unknown_anchor_names_the_choices(fake_root):
    with pytest.raises(AnchorEnvError, match="pymc-marketing"):
        envs.require("robyn")


def test_job_json_groups_the_sampler_settings():
    job = run.AnchorJob(
        csv="d.csv",
        channels=("tv",),
        controls=("demand",),
        draws=10,
        tune=20,
        chains=1,
        seed=3,
        nutpie=False,
        lift_tests=[{"channel": "tv", "x": 1.0, "delta_x": -1.0, "delta_y": -2.0, "sigma": 0.5}],
    ).to_json()
    assert job["sampler"] == {"draws": 10, "tune": 20, "chains": 1, "seed": 3, "nutpie": False}
    assert job["channels"] == ["tv"] and job["controls"] == ["demand"] and job["lift_tests"][0]["delta_y"] == -2.0
    assert "draws" not in job


def _fake_venv(root: Path, name: str) -> None:
    (root / name / "bin").mkdir(parents=True)
    (root / name / "bin" / "python").symlink_to(sys.executable)
    (root / name / "installed.json").write_text("{}")


def test_runner_round_trip_and_failure(fake_root, monkeypatch):
    runner = fake_root / "echo_runner.py"
    runner.write_text(
        "import json, sys\njob = json.load(open(sys.argv[1]))\n"
        "if job['csv'] == 'fail': sys.exit('boom: bad job')\n"
        "json.dump({'roas_draws': {c: [1.0, 3.0] for c in job['channels']}, 'fit_seconds': 2.0, 'sampling_seconds': 1.0,\n"
        "           'ess_per_second': 5.0, 'versions': {'x': '1'}, 'seen': job['sampler']}, open(sys.argv[2], 'w'))\n"
    )
    monkeypatch.setitem(envs.ANCHORS, "fake", Anchor("fake", "3.12", (), (), str(runner)))  # absolute path wins over HERE
    _fake_venv(envs.ROOT, "fake")
    res = run.run_anchor("fake", run.AnchorJob(csv="d.csv", channels=["tv", "radio"], draws=7))
    assert set(res.roas_draws) == {"tv", "radio"} and np.allclose(res.roas_draws["tv"], [1.0, 3.0])
    assert res.fit_seconds == 2.0 and res.versions == {"x": "1"} and res.raw["seen"]["draws"] == 7
    with pytest.raises(AnchorEnvError, match="boom: bad job"):
        run.run_anchor("fake", run.AnchorJob(csv="fail", channels=["tv"]))


def test_manifest_needs_both_python_and_installed_json(fake_root):
    (envs.ROOT / "pymc-marketing" / "bin").mkdir(parents=True)
    (envs.ROOT / "pymc-marketing" / "installed.json").write_text(json.dumps({"size_mb": 1}))
    assert envs.manifest("pymc-marketing") is None  # no python yet: an unfinished install


def test_pathmc_dsl_writes_media_terms_and_reports_lagged_edges():
    sys.path.insert(0, str(Path(run.__file__).parent))
    from runner_pathmc import dsl

    spec, lagged = dsl(
        {
            "spend": [],
            "clicks": [{"source": "spend", "media": True, "lag": 0}],
            "sales": [{"source": "clicks", "media": False, "lag": 1}, {"source": "promo", "media": False, "lag": 0}],
        }
    )
    assert spec.splitlines() == [
        "clicks ~ logistic_saturation(adstock(spend, decay=decay_spend_clicks), lam=lam_spend_clicks)",
        "sales ~ clicks + promo",
    ]
    assert lagged == ["clicks -> sales"]


def test_pathmc_shares_the_pymc_marketing_venv(fake_root):
    _fake_venv(envs.ROOT, "pymc-marketing")
    assert envs.require("pathmc") == envs.venv_python("pymc-marketing")


def _rows(errors: dict[str, tuple[float, float]], seconds: dict[str, float]) -> list[dict]:
    return [
        {"seed": s, "method": m, "channel": c, "err": e, "covered": True, "seconds": seconds[m]}
        for s in (0, 1)
        for m, errs in errors.items()
        for c, e in zip(("ppc", "brand"), errs)
    ]


def test_where_each_tool_wins_names_the_measured_winner_and_speed_ratio():
    from bench.anchors.wins import where_each_tool_wins

    rows = _rows(
        {"causalmmm calibrated": (-0.10, 0.05), "pymc-marketing 1.3: spend only": (0.80, -0.01)},
        {"causalmmm calibrated": 40.0, "pymc-marketing 1.3: spend only": 20.0},
    )
    text = where_each_tool_wins(rows, "causalmmm calibrated", confounded=["ppc"])
    assert "`ppc`: causalmmm calibrated is closest (10%" in text
    assert "`brand`: pymc-marketing 1.3: spend only is closest (1%" in text
    assert "Lowest worst-channel error: causalmmm calibrated (10%)" in text
    assert "unbiased for channels no confounder drives (`brand`)" in text and "(`ppc`) the backdoor is open" in text
    assert "causalmmm calibrated takes 2x as long" in text
