"""Validation without sampling: fixed parameter draws at the truth (or a broken version of it)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from causalmmm.data import load_data
from causalmmm.errors import DataError, ExperimentError
from causalmmm.experiments.schema import Experiment
from causalmmm.graph import CausalGraph
from causalmmm.model.equations import param_name
from causalmmm.query.do import PosteriorSCM
from causalmmm.spec import build_spec
from causalmmm.validate import ValidationReport, predict_experiment, validate_experiments
from causalmmm.validation import diagnose_residuals, leave_one_out
from causalmmm.validation import loo as loo_module
from causalmmm.validation.holdout import naive_forecasts, predict_holdout, split_data, train_spec
from causalmmm.validation.plots import plot_experiments, plot_holdout
from causalmmm.validation.residuals import autocorrelations, ljung_box

TRUTH = {("c", "x"): 2.0, ("x", "m1"): 0.8, ("m1", "m2"): 0.5, ("c", "m2"): 1.0, ("m1", "y"): 0.6, ("m2", "y"): 0.9}
INTERCEPT = {"x": 5.0, "m1": 1.0, "m2": 20.0, "y": 2.0}
SIGMA = 0.5


def toy_graph(drop: tuple[str, str] | None = None) -> CausalGraph:
    """c → x → m1 → m2 → y, m1 → y, c → m2; m1 → m2 negative (cannibalisation); linear edges."""
    g = CausalGraph("toy").add_node("c", "confounder").add_node("x", "spend").add_node("m1", "mediator").add_node("m2", "mediator").add_node("y", "outcome")
    for a, b in TRUTH:
        if (a, b) != drop:
            kw = {"adstock": "none", "saturation": "none"} if a == "x" else {}
            g = g.add_edge(a, b, **({"sign": "negative"} | kw if (a, b) == ("m1", "m2") else kw))
    return g


def toy_frame(T: int = 104, seed: int = 0, ar: float = 0.0) -> pd.DataFrame:
    """Data from the true linear SCM; ``ar`` makes y's noise AR(1)."""
    rng = np.random.default_rng(seed)
    t = np.arange(T)
    c = 10 + 2 * np.sin(2 * np.pi * t / 52) + rng.normal(0, 1, T)
    x = INTERCEPT["x"] + TRUTH[("c", "x")] * c + rng.normal(0, SIGMA, T)
    m1 = INTERCEPT["m1"] + TRUTH[("x", "m1")] * x + rng.normal(0, SIGMA, T)
    m2 = INTERCEPT["m2"] + TRUTH[("c", "m2")] * c - TRUTH[("m1", "m2")] * m1 + rng.normal(0, SIGMA, T)
    e = rng.normal(0, SIGMA, T)
    for i in range(1, T):
        e[i] += ar * e[i - 1]
    y = INTERCEPT["y"] + TRUTH[("m1", "y")] * m1 + TRUTH[("m2", "y")] * m2 + e
    return pd.DataFrame({"date": pd.date_range("2022-01-03", periods=T, freq="W-MON"), "c": c, "x": x, "m1": m1, "m2": m2, "y": y})


def toy_scm(drop: tuple[str, str] | None = None, ar: float = 0.0, T: int = 104, n_draws: int = 200, broken: str | None = None, seed: int = 0) -> PosteriorSCM:
    """A PosteriorSCM at the true parameters, in data units (every scale 1); ``broken`` zeroes that node's betas."""
    g = toy_graph(drop)
    data = load_data(toy_frame(T, seed, ar)).validate_against(g)
    spec = build_spec(g, data, trend=False, seasonality=0)
    spec = replace(spec, scales={k: 1.0 for k in spec.scales})
    draws = {}
    for n in spec.nodes:
        draws[param_name(n.name, "intercept")] = np.full(n_draws, INTERCEPT[n.name])
        draws[param_name(n.name, "sigma")] = np.full(n_draws, SIGMA)
        for e in n.edges:
            draws[param_name(n.name, "beta", e.source)] = np.full(n_draws, 0.0 if n.name == broken else TRUTH[(e.source, n.name)])
    return PosteriorSCM(spec, data, draws, ("x",))


def lift(name: str, use: str, estimate: float | None, se: float = 2.0, measured: tuple[str, ...] = ("y",)) -> Experiment:
    return Experiment(name, "lift", "x", ("set", 0.0), measured, pd.Timestamp("2022-06-06"), pd.Timestamp("2022-07-25"), use=use, estimate=estimate, se=se)


# ---------------------------------------------------------------- experiments and JSON keys


def test_validate_json_keys_are_the_contract():
    scm = toy_scm()
    truth = float(predict_experiment(scm, lift("a", "holdout", None)).mean())
    rep = validate_experiments(
        scm, [lift("cal", "calibrate", truth + 1.0), lift("hold", "holdout", truth - 10.0), lift("raw", "holdout", None)], calibrated={"cal"}
    )
    rep.diagnostics = diagnose_residuals(scm)
    d = rep.to_dict()
    assert {"experiments", "summary"} <= set(d) and "loo" not in d and "holdout" not in d
    for e in d["experiments"]:
        assert {"name", "use", "measured", "measured_se", "predicted", "z", "consistent"} <= set(e)
        assert set(e["predicted"]) >= {"mean", "hdi_low", "hdi_high"}
    assert {"n", "n_consistent"} <= set(d["summary"]) and d["summary"]["n"] == 2
    cal, hold = d["experiments"]
    assert cal["z"] == pytest.approx(0.5) and cal["consistent"] and cal["calibrated"]
    assert hold["z"] == pytest.approx(-5.0) and not hold["consistent"]
    assert d["skipped"] and "raw" in d["skipped"][0]
    assert set(d["diagnostics"]) >= {"nodes", "hints", "warnings", "max_lag"}
    assert set(d["diagnostics"]["nodes"][0]) >= {"node", "autocorrelation", "ljung_box", "autocorrelated", "ppc_coverage", "missing_edge_hints"}
    assert "residual diagnostics" in rep.to_text()


# ---------------------------------------------------------------- residual diagnostics


def test_residual_statistics_match_their_formulas():
    x = np.array([1.0, -1.0] * 20)
    np.testing.assert_allclose(autocorrelations(x, 2), [-39 / 40, 38 / 40])
    q, p = ljung_box(x, 2)
    assert q == pytest.approx(40 * 42 * ((39 / 40) ** 2 / 39 + (38 / 40) ** 2 / 38)) and p < 1e-6
    _, p_white = ljung_box(np.random.default_rng(0).normal(size=200), 10)
    assert p_white > 0.05


def test_true_model_has_clean_residuals():
    diag = diagnose_residuals(toy_scm())
    assert not [h for n in diag.nodes for h in n.hints]
    assert not any(n.autocorrelated for n in diag.nodes)
    assert all(0.85 <= n.ppc_coverage <= 1.0 for n in diag.nodes)


def test_missing_edge_is_hinted_with_both_nodes_named():
    diag = diagnose_residuals(toy_scm(drop=("m1", "m2")))
    m2 = next(n for n in diag.nodes if n.node == "m2")
    strongest = max(m2.hints, key=lambda h: abs(h.r))
    assert strongest.other in ("m1", "x") and strongest.r < 0
    assert any(h.other == "m1" and h.kind == "value" and "m1 -> m2" in h.suggestion for h in m2.hints)
    assert any("m2" in w and "m1 -> m2" in w for w in diag.to_dict()["warnings"])
    assert "m1 -> m2" in diag.to_text()


def test_autocorrelated_residuals_are_flagged_for_that_node():
    diag = diagnose_residuals(toy_scm(ar=0.8))
    flagged = [n.node for n in diag.nodes if n.autocorrelated]
    assert flagged == ["y"]
    assert any(w.startswith("y: residuals are autocorrelated") for w in diag.to_dict()["warnings"])


def test_understated_noise_lowers_ppc_coverage():
    scm = toy_scm()
    small = dict(scm.draws)
    for n in scm.spec.nodes:
        small[param_name(n.name, "sigma")] = np.full(scm.n_draws, SIGMA / 4)
    diag = diagnose_residuals(PosteriorSCM(scm.spec, scm.data, small, ("x",)))
    assert all(n.ppc_coverage < 0.6 and not n.ppc_ok for n in diag.nodes)


# ---------------------------------------------------------------- time hold-out


def test_naive_baselines():
    f = naive_forecasts(np.arange(60.0), 3, "W")
    assert set(f) == {"train_mean", "seasonal_naive"}
    np.testing.assert_allclose(f["seasonal_naive"], [8.0, 9.0, 10.0])
    f = naive_forecasts(np.arange(20.0), 3, "W")
    assert set(f) == {"train_mean", "last_value"} and f["last_value"][0] == 19.0


def test_holdout_true_parameters_beat_naive_and_broken_ones_do_not():
    scm = toy_scm()
    n_train = scm.spec.n_periods - 12
    res = predict_holdout(train_spec(scm.spec, n_train), scm.draws, scm.data, n_train)
    d = res.to_dict()
    assert set(d) >= {"n_periods", "start", "end", "prediction", "nodes", "summary"} and d["n_periods"] == 12
    for row in d["nodes"]:
        assert set(row) >= {"node", "mae", "mape", "baselines", "best_baseline", "beats_naive", "coverage"}
        assert set(row["baselines"]) == {"train_mean", "seasonal_naive"}
        assert row["beats_naive"] and row["mae"] < 0.6
    broken = toy_scm(broken="m1")
    d = predict_holdout(train_spec(broken.spec, n_train), broken.draws, broken.data, n_train).to_dict()
    by_node = {r["node"]: r for r in d["nodes"]}
    assert not by_node["m1"]["beats_naive"] and by_node["y"]["beats_naive"]
    assert "m1" in predict_holdout(train_spec(broken.spec, n_train), broken.draws, broken.data, n_train).to_text()


def test_holdout_split_checks_the_length():
    data = toy_scm().data
    assert split_data(data, 10).n_periods == data.n_periods - 10
    with pytest.raises(DataError, match="holdout-periods"):
        split_data(data, data.n_periods)


# ---------------------------------------------------------------- leave-one-out logic (refit replaced)


def test_leave_one_out_predicts_each_calibrating_experiment(monkeypatch):
    scm = toy_scm()
    truth = float(predict_experiment(scm, lift("a", "holdout", None)).mean())
    exps = [lift("a", "calibrate", truth + 6.0), lift("b", "calibrate", truth), lift("h", "holdout", truth)]
    seen = []

    def fake_refit(spec, data, config, others, target, spend_nodes):
        seen.append((target.name, sorted(o.name for o in others)))
        return np.full(50, truth)

    monkeypatch.setattr(loo_module, "refit_and_predict", fake_refit)
    ticks = []
    res = leave_one_out(scm.spec, scm.data, None, exps, progress=lambda i, n, name: ticks.append((i, n, name)), in_sample={"a": 0.1})
    assert seen == [("a", ["b", "h"]), ("b", ["a", "h"])]
    assert ticks == [(1, 2, "a"), (2, 2, "b")]
    d = res.to_dict()
    assert set(d) == {"experiments", "summary"} and d["summary"] == {"n": 2, "n_consistent": 1}
    a = d["experiments"][0]
    assert set(a) >= {"name", "measured", "measured_se", "predicted", "z", "consistent", "in_sample_z"}
    assert a["z"] == pytest.approx(3.0) and a["in_sample_z"] == 0.1
    with pytest.raises(ExperimentError):
        leave_one_out(scm.spec, scm.data, None, [lift("h", "holdout", 1.0)])


# ---------------------------------------------------------------- plots


def test_plots_return_figures(tmp_path):
    scm = toy_scm()
    truth = float(predict_experiment(scm, lift("a", "holdout", None)).mean())
    rep = validate_experiments(scm, [lift("cal", "calibrate", truth + 1.0), lift("hold", "holdout", truth - 8.0)], calibrated={"cal"})
    fig = plot_experiments(rep)
    assert isinstance(fig, Figure)
    fig.savefig(tmp_path / "experiments.png")
    n_train = scm.spec.n_periods - 12
    fig = plot_holdout(predict_holdout(train_spec(scm.spec, n_train), scm.draws, scm.data, n_train))
    assert isinstance(fig, Figure) and len([a for a in fig.axes if a.has_data()]) == 4
    fig.savefig(tmp_path / "holdout.png")
    assert isinstance(plot_experiments(ValidationReport([], [])), Figure)


# ---------------------------------------------------------------- CLI on a run written from fixed draws


def test_validate_cli_json_on_a_fixed_draw_run(tmp_path, capsys):
    import json

    import arviz as az

    from causalmmm.cli import main
    from causalmmm.experiments.schema import save_experiments
    from causalmmm.model.fit import FitResult, SamplerConfig
    from causalmmm.model.run import write_run

    scm = toy_scm(n_draws=50)
    idata = az.from_dict(posterior={k: v[None, :] for k, v in scm.draws.items()})
    fit = FitResult([scm.spec.node_names], [idata], [], SamplerConfig(), 0.0)
    write_run(tmp_path / "run", toy_graph(), scm.spec, scm.data, fit, extra={"experiments": [{"name": "cal", "calibrated": True}]})
    truth = float(predict_experiment(scm, lift("a", "holdout", None)).mean())
    save_experiments([lift("cal", "calibrate", truth), lift("hold", "holdout", truth + 20.0)], tmp_path / "exp.yaml")
    code = main(["validate", str(tmp_path / "run"), "--experiments", str(tmp_path / "exp.yaml"), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    d = json.loads(out)
    assert set(d) >= {"experiments", "summary", "diagnostics"} and "loo" not in d and "holdout" not in d
    assert [(e["name"], e["use"], e["consistent"]) for e in d["experiments"]] == [("cal", "calibrate", True), ("hold", "holdout", False)]
    assert d["summary"]["n"] == 2 and d["summary"]["n_consistent"] == 1
    assert [n["node"] for n in d["diagnostics"]["nodes"]] == list(scm.spec.node_names)


def test_non_finite_predictions_are_reported_not_propagated(monkeypatch):
    scm = toy_scm()
    exps = [lift("a", "calibrate", -3.0), lift("b", "calibrate", -3.0)]
    monkeypatch.setattr(
        loo_module,
        "refit_and_predict",
        lambda spec, data, config, others, target, spend_nodes: np.full(20, np.nan) if target.name == "a" else np.r_[np.full(19, -3.0), np.inf],
    )
    d = leave_one_out(scm.spec, scm.data, None, exps).to_dict()
    a, b = d["experiments"]
    assert a["z"] is None and a["predicted"] is None and not a["consistent"] and "finite" in a["note"]
    assert b["consistent"] and "1 non-finite" in b["note"]
    import json

    json.dumps(d, allow_nan=False)
