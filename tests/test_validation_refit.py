"""Leave-one-experiment-out and time hold-out with real (small, seeded) refits."""

from __future__ import annotations

import pytest
from seeds import seeded
from test_validation_checks import lift, toy_frame, toy_graph, toy_scm

from causalmmm.data import load_data
from causalmmm.model.fit import SamplerConfig
from causalmmm.spec import build_spec
from causalmmm.validation import leave_one_out, time_holdout
from causalmmm.validation.experiments import predict_experiment


@pytest.mark.slow
def test_leave_one_out_and_time_holdout_refit():
    world_seed = seeded(0)  # the truth and the refit data must be the same world
    truth_scm = toy_scm(seed=world_seed)
    truth = float(predict_experiment(truth_scm, lift("t", "holdout", None)).mean())
    clicks = float(predict_experiment(truth_scm, lift("t", "holdout", None, measured=("m1",))).mean())
    exps = [lift("sales_lift", "calibrate", truth, se=0.05 * abs(truth)), lift("click_lift", "holdout", clicks, se=0.05 * abs(clicks), measured=("m1",))]
    graph = toy_graph()
    data = load_data(toy_frame(seed=world_seed)).validate_against(graph)
    spec = build_spec(graph, data)
    cfg = SamplerConfig(draws=150, tune=200, chains=2, seed=seeded(3))

    loo = leave_one_out(spec, data, cfg, exps, spend_nodes=("x",)).to_dict()
    assert [e["name"] for e in loo["experiments"]] == ["sales_lift"]
    assert loo["summary"] == {"n": 1, "n_consistent": 1}

    hold = time_holdout(spec, data, cfg, 8, exps).to_dict()
    assert hold["n_periods"] == 8 and hold["dropped_experiments"] == []
    by_node = {r["node"]: r for r in hold["nodes"]}
    assert set(by_node) == {"x", "m1", "m2", "y"}
    assert by_node["m1"]["beats_naive"] and by_node["y"]["beats_naive"]
