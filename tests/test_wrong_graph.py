"""A wrong graph is caught: without the cannibalisation edge, a click-level switchback holdout is inconsistent."""

from __future__ import annotations

import pytest

from causalmmm.data import load_data
from causalmmm.experiments.analyze import analyze_switchback
from causalmmm.experiments.schema import load_experiments
from causalmmm.model.fit import SamplerConfig, fit_model
from causalmmm.query.do import PosteriorSCM
from causalmmm.simulate import simulate_world, write
from causalmmm.spec import build_spec
from causalmmm.validate import validate_experiments


@pytest.mark.slow
def test_missing_cannibalisation_edge_is_flagged(tmp_path):
    world = simulate_world("search", 5)
    write(world, tmp_path)
    switchback = next(e for e in load_experiments(tmp_path / "experiments.yaml") if e.name == "ppc_switchback")
    holdout = analyze_switchback(switchback, tmp_path).experiment
    from dataclasses import replace

    holdout = replace(holdout, use="holdout")
    results = {}
    for label, graph in (("true", world.graph), ("wrong", world.graph.copy().remove_edge("ppc_clicks", "seo_clicks"))):
        data = load_data(world.data).validate_against(graph)
        spec = build_spec(graph, data)
        fit = fit_model(spec, data, SamplerConfig(draws=200, tune=300, chains=2, seed=5))
        scm = PosteriorSCM(spec, data, fit.posterior_draws(), tuple(graph.spend_nodes))
        results[label] = validate_experiments(scm, [holdout]).checks[0]
    assert abs(results["wrong"].z) > 2 and not results["wrong"].consistent
    assert abs(results["true"].z) < abs(results["wrong"].z)
