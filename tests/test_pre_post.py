"""National pre/post tests analysed with CausalPy's interrupted time series, on a simulated world."""

from __future__ import annotations

from dataclasses import replace

import pytest
from seeds import seeded

from causalmmm.errors import ExperimentError
from causalmmm.experiments.analyze import analyze_experiments, analyze_pre_post
from causalmmm.experiments.schema import load_experiments
from causalmmm.simulate import simulate_world, write
from causalmmm.simulate.presets import add_pre_post_test


@pytest.fixture(scope="module")
def world_dir(tmp_path_factory):
    w = simulate_world("search", seeded(3))
    add_pre_post_test(w, "ppc_pre_post", "ppc_spend", 140, 6)
    d = tmp_path_factory.mktemp("prepost")
    write(w, d)
    return w, d


@pytest.mark.slow  # CausalPy samples the interrupted time series with NUTS
def test_its_recovers_a_national_go_dark(world_dir):
    w, d = world_dir
    e = next(x for x in load_experiments(d / "experiments.yaml") if x.name == "ppc_pre_post")
    assert e.design == "pre_post" and e.extra["controls"] == ["demand"]
    r = analyze_pre_post(e, d, seed=seeded(0))
    truth = w.experiment_truth["ppc_pre_post"]["true"]
    assert truth < 0 and r.estimate < 0
    assert abs(r.estimate - truth) < 2.5 * r.se and r.se < 0.5 * abs(truth)
    assert set(r.diagnostics) >= {"pre_periods", "post_periods", "pre_r2", "noise_autocorrelation", "terms"}
    assert r.diagnostics["post_periods"] == 6 and "ctl_demand" in r.diagnostics["terms"]
    assert r.experiment.estimate == r.estimate and r.method.startswith("CausalPy InterruptedTimeSeries")


def test_its_needs_a_pre_period(world_dir, tmp_path):
    w, d = world_dir
    e = next(x for x in load_experiments(d / "experiments.yaml") if x.name == "ppc_pre_post")
    raw = (d / e.data).read_text().splitlines()
    (tmp_path / "short.csv").write_text("\n".join([raw[0], *raw[-16:]]) + "\n")
    with pytest.raises(ExperimentError, match="pre-period rows"):
        analyze_experiments([replace(e, data="short.csv")], tmp_path)
