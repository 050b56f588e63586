"""A wrong graph is caught: without the cannibalisation edge, a click-level switchback holdout is inconsistent.

Both graphs are calibrated by a platform click-lift test of PPC (go-dark, measured on
PPC clicks only, se 5%). That pins the PPC click leg in both models, so the test
compares what the graphs say about SEO, not sampling noise in an uncalibrated leg:
the wrong graph (no PPC -> SEO edge) predicts that the switchback loses every PPC
click, the measured switchback shows SEO recovering about a third of them. Without
the click lift the wrong graph's z sat at 1.7-2.1 depending on the machine (the
prediction's sd was ~18% of the effect); with it the margin is several se wide.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from seeds import seeded

from causalmmm.data import load_data
from causalmmm.experiments.analyze import analyze_switchback
from causalmmm.experiments.schema import load_experiments
from causalmmm.model.fit import SamplerConfig, fit_model
from causalmmm.query.do import PosteriorSCM
from causalmmm.simulate import simulate_world, write
from causalmmm.simulate.presets import add_lift_test
from causalmmm.spec import build_spec
from causalmmm.validate import validate_experiments

WORLD_SEED = seeded(5)
FIT_SEED = seeded(5)
LIFT_SEED = seeded(99)


def wrong_graph_checks(tmp_path, fit_seed: int = FIT_SEED) -> dict:
    world = simulate_world("search", WORLD_SEED)
    add_lift_test(world, "ppc_click_lift", "ppc_spend", 20, 6, np.random.default_rng(LIFT_SEED), rel_se=0.05, measured="ppc_clicks")
    write(world, tmp_path)
    exps = {e.name: e for e in load_experiments(tmp_path / "experiments.yaml")}
    holdout = replace(analyze_switchback(exps["ppc_switchback"], tmp_path).experiment, use="holdout")
    click_lift = exps["ppc_click_lift"]
    results = {}
    for label, graph in (("true", world.graph), ("wrong", world.graph.copy().remove_edge("ppc_clicks", "seo_clicks"))):
        data = load_data(world.data).validate_against(graph)
        spec = build_spec(graph, data)
        fit = fit_model(spec, data, SamplerConfig(draws=200, tune=300, chains=2, seed=fit_seed), experiments=[click_lift])
        scm = PosteriorSCM(spec, data, fit.posterior_draws(), tuple(graph.spend_nodes))
        results[label] = validate_experiments(scm, [holdout]).checks[0]
    return results


@pytest.mark.slow
def test_missing_cannibalisation_edge_is_flagged(tmp_path):
    results = wrong_graph_checks(tmp_path)
    assert abs(results["wrong"].z) > 2 and not results["wrong"].consistent
    assert abs(results["true"].z) < 2 and results["true"].consistent
