"""Determinism: the same inputs and seed give a byte-identical summary.json.

What legitimately varies between two identical fits (fit time, creation time, library
versions) lives in provenance.json, never in summary.json.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from seeds import seeded

from causalmmm.cli import main

TINY_DOT = """\
digraph tiny {
  c [role=confounder];
  x [role=spend];
  y [role=outcome];
  c -> x;
  c -> y;
  x -> y [adstock=none, saturation=none];
}
"""


def write_tiny_world(directory: Path, T: int = 60, seed: int = 0) -> tuple[Path, Path]:
    """A three-node world (two modelled nodes) that compiles and samples in seconds."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    c = 10 + rng.normal(0, 1, T)
    x = 50 + 3 * c + rng.normal(0, 5, T)
    y = 100 + 0.5 * x + 2 * c + rng.normal(0, 2, T)
    df = pd.DataFrame({"date": pd.date_range("2023-01-02", periods=T, freq="W-MON").strftime("%Y-%m-%d"), "c": c, "x": x, "y": y})
    df.to_csv(directory / "data.csv", index=False, float_format="%.6f")
    (directory / "graph.dot").write_text(TINY_DOT)
    return directory / "graph.dot", directory / "data.csv"


def fixed_draw_fit(spec, seconds: float = 1.0, n: int = 4):
    """A FitResult from constant parameter draws, as if sampled (no sampler)."""
    import arviz as az

    from causalmmm.model.equations import param_name
    from causalmmm.model.fit import FitResult, SamplerConfig, fit_blocks

    blocks = fit_blocks(spec)
    idata = []
    for block in blocks:
        post = {}
        for name in block:
            post[param_name(name, "intercept")] = np.full((1, n), 0.2)
            post[param_name(name, "sigma")] = np.full((1, n), 0.1)
            for e in spec.node(name).edges:
                for k in e.param_names:
                    post[param_name(name, k, e.source)] = np.full((1, n), 0.5)
        idata.append(az.from_dict(posterior=post))
    return FitResult(blocks, idata, [], SamplerConfig(draws=n, chains=1, seed=7), seconds)


VOLATILE_KEYS = {"fit_seconds", "created_at", "seconds", "timestamp", "versions", "python", "platform", "hostname"}


def _keys(obj) -> set[str]:
    if isinstance(obj, dict):
        return set(obj) | {k for v in obj.values() for k in _keys(v)}
    if isinstance(obj, list):
        return {k for v in obj for k in _keys(v)}
    return set()


def test_summary_has_no_volatile_fields_and_provenance_has_them(tmp_path):
    """Two writes of the same fit with different timings: identical summary.json, provenance differs."""
    from causalmmm.data import load_data
    from causalmmm.graph.io import graph_from_dot
    from causalmmm.model.run import load_run, write_run
    from causalmmm.spec import build_spec

    gfile, dfile = write_tiny_world(tmp_path / "world")
    graph = graph_from_dot(gfile.read_text())
    data = load_data(dfile).validate_against(graph)
    spec = build_spec(graph, data)
    write_run(tmp_path / "a", graph, spec, data, fixed_draw_fit(spec, seconds=1.25))
    write_run(tmp_path / "b", graph, spec, data, fixed_draw_fit(spec, seconds=99.5))
    a, b = (tmp_path / "a" / "summary.json").read_bytes(), (tmp_path / "b" / "summary.json").read_bytes()
    assert a == b
    summary = json.loads(a)
    assert not (_keys(summary) & VOLATILE_KEYS), _keys(summary) & VOLATILE_KEYS
    assert str(tmp_path) not in a.decode(), "summary.json must not hold absolute paths"
    prov_a = json.loads((tmp_path / "a" / "provenance.json").read_text())
    prov_b = json.loads((tmp_path / "b" / "provenance.json").read_text())
    assert prov_a["fit_seconds"] == 1.25 and prov_b["fit_seconds"] == 99.5
    assert {"created_at", "versions", "python"} <= set(prov_a) and prov_a["versions"]["causalmmm"]
    run = load_run(tmp_path / "a")
    assert run.provenance["fit_seconds"] == 1.25 and "1.2 s" in run.summary_text()
    # a run without provenance.json (or with a damaged one) still loads: it is informational
    (tmp_path / "b" / "provenance.json").unlink()
    assert load_run(tmp_path / "b").provenance == {} and "fitted 2 submodels" in load_run(tmp_path / "b").summary_text()


def _fit(gfile: Path, dfile: Path, out: Path, *extra: str) -> None:
    code = main(["--quiet", "fit", str(gfile), str(dfile), "-o", str(out), *extra])
    assert code == 0


@pytest.mark.slow
def test_same_inputs_and_seed_give_identical_summary_json(tmp_path, capsys):
    """Two seeded NUTS fits (nutpie, 2 chains): byte-identical summary.json and identical draws."""
    gfile, dfile = write_tiny_world(tmp_path / "world", seed=seeded(0))  # both fits read this one world
    settings = ["--draws", "50", "--tune", "50", "--chains", "2", "--seed", str(seeded(5))]
    _fit(gfile, dfile, tmp_path / "run1", *settings)
    _fit(gfile, dfile, tmp_path / "run2", *settings)
    s1, s2 = (tmp_path / "run1" / "summary.json").read_bytes(), (tmp_path / "run2" / "summary.json").read_bytes()
    assert s1 == s2
    assert not (_keys(json.loads(s1)) & VOLATILE_KEYS)
    from causalmmm.model.run import load_run

    d1, d2 = load_run(tmp_path / "run1").posterior_draws(), load_run(tmp_path / "run2").posterior_draws()
    assert set(d1) == set(d2) and all(np.array_equal(d1[k], d2[k]) for k in d1)
    # the seed is really used: another seed gives other draws
    _fit(gfile, dfile, tmp_path / "run3", *settings[:-1], str(seeded(6)))
    d3 = load_run(tmp_path / "run3").posterior_draws()
    assert any(not np.array_equal(d1[k], d3[k]) for k in d1)
    capsys.readouterr()


@pytest.mark.slow
def test_fast_fit_is_deterministic_too(tmp_path, capsys):
    """The Laplace approximation (--fast) draws with the same seed."""
    gfile, dfile = write_tiny_world(tmp_path / "world", seed=seeded(0))
    fast = ["--fast", "--draws", "50", "--seed", str(seeded(3))]
    _fit(gfile, dfile, tmp_path / "f1", *fast)
    _fit(gfile, dfile, tmp_path / "f2", *fast)
    assert (tmp_path / "f1" / "summary.json").read_bytes() == (tmp_path / "f2" / "summary.json").read_bytes()
    capsys.readouterr()
