"""Seeded NUTS integration on a small linear world, and run-directory behaviour."""

from __future__ import annotations

import json

import numpy as np
import pytest
from seeds import seeded
from test_query import BETAS, linear_world

from causalmmm.errors import RunError
from causalmmm.fileio import atomic_directory
from causalmmm.model.equations import param_name
from causalmmm.model.fit import SamplerConfig, fit_model
from causalmmm.model.run import load_run, write_run
from causalmmm.query.do import PosteriorSCM


@pytest.fixture(scope="module")
def fitted():
    scm, _ = linear_world(T=312, seed=seeded(2))  # six years of weeks: posterior sd of every beta below ~0.07
    fit = fit_model(scm.spec, scm.data, SamplerConfig(draws=300, tune=300, chains=2, seed=seeded(3)))
    return scm, fit


@pytest.mark.slow
def test_linear_world_coefficients_recovered_within_4_sd(fitted):
    """Every beta's posterior is precise (sd < 0.1) and centred on the truth (within 4 sd).

    "Truth inside each 94% interval" held in only ~65% of worlds (7 coefficients × a 6% miss
    rate of a calibrated posterior; offsets 1 and 2 missed m2 -> y at z = +1.9 and -2.2, and a
    312-week series missed c -> x at z = +2.4: more data narrows the interval, not the miss rate).
    In 8 measured fits (56 betas) |z| stayed below 2.4; 4 sd misses with probability ~6e-5 per beta.
    At T=312 the posterior sd is 0.03-0.07 (0.05-0.11 at T=104), so the 4 sd band is at most ±0.28.
    """
    scm, fit = fitted
    draws = fit.posterior_draws()
    for node in scm.spec.nodes:
        for e in node.edges:
            x = draws[param_name(node.name, "beta", e.source)]
            truth, mean, sd = BETAS[(e.source, node.name)], float(x.mean()), float(x.std())
            assert sd < 0.1 and abs(mean - truth) <= 4 * sd, (e.source, node.name, truth, mean, sd)
    assert all(d.r_hat_max is not None and d.r_hat_max < 1.05 for d in fit.diagnostics)


@pytest.mark.slow
def test_run_directory_round_trip_and_overwrite(fitted, tmp_path):
    scm, fit = fitted
    from causalmmm.graph import CausalGraph

    g = (
        CausalGraph("lin")
        .add_node("c", "confounder")
        .add_node("x", "spend")
        .add_node("m1", "mediator")
        .add_node("m2", "mediator")
        .add_node("y", "outcome")
        .add_edge("c", "x")
        .add_edge("c", "m2")
        .add_edge("x", "m1", adstock="none", saturation="none")
        .add_edge("m1", "m2", sign="negative")
        .add_edge("m1", "y")
        .add_edge("m2", "y")
        .add_edge("x", "y", adstock="none", saturation="none")
    )
    run = write_run(tmp_path / "run", g, scm.spec, scm.data, fit)
    again = load_run(tmp_path / "run")
    assert again.graph == g and again.spec == scm.spec
    assert again.data.fingerprint() == scm.data.fingerprint()
    a, b = run.posterior_draws(), again.posterior_draws()
    assert set(a) == set(b) and all(np.array_equal(a[k], b[k]) for k in a)
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["blocks"] == [list(x) for x in fit.blocks] and len(summary["diagnostics"]) == len(scm.spec.nodes)
    with pytest.raises(RunError, match="already exists.*--force"):
        write_run(tmp_path / "run", g, scm.spec, scm.data, fit)
    write_run(tmp_path / "run", g, scm.spec, scm.data, fit, force=True)
    # queries work on the loaded run
    q = PosteriorSCM.from_run(again)
    assert q.n_draws == 600


def test_atomic_directory_leaves_nothing_on_interrupt(tmp_path):
    target = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        with atomic_directory(target, force=False, error=RunError) as stage:
            (stage / "half.txt").write_text("x")
            raise KeyboardInterrupt
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_load_run_errors(tmp_path):
    with pytest.raises(RunError, match="not a run directory"):
        load_run(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(RunError, match=r"missing summary.json"):
        load_run(tmp_path / "empty")
