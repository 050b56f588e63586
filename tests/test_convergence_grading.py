"""The ``convergence`` warning is graded on what the user reads (a channel's total ROAS), on fixed draws (no NUTS)."""

from __future__ import annotations

import arviz as az
import numpy as np
import pandas as pd
import pytest

from causalmmm.data import load_data
from causalmmm.fitted import channels_through, graded_convergence_warnings
from causalmmm.graph import CausalGraph
from causalmmm.model.checks import MIN_ESS_TOTAL, QuantityDiagnostics, WorstParameter, convergence_warnings, suggested_draws, worst_parameter
from causalmmm.model.fit import FitResult, NodeDiagnostics, SamplerConfig
from causalmmm.query.do import PosteriorSCM
from causalmmm.report.distrust import distrust
from causalmmm.spec import build_spec

CHAINS, DRAWS = 2, 500


def iid(rng: np.random.Generator, mean: float = 0.0, sd: float = 1.0) -> np.ndarray:
    return mean + sd * rng.normal(size=(CHAINS, DRAWS))


def sticky(rng: np.random.Generator, mean: float = 0.0, sd: float = 1.0, period: int = 250) -> np.ndarray:
    """Chains that wander slowly but agree: a sine of ``period`` draws, opposite phase per chain, plus a little
    noise. Bulk ESS ~14 (far below MIN_ESS_TOTAL) while R-hat stays ~1.00, whatever the noise seed."""
    t = np.arange(DRAWS)
    wave = np.stack([np.sin(2 * np.pi * t / period + np.pi * c) for c in range(CHAINS)])
    return mean + sd * (wave + 0.1 * rng.normal(size=(CHAINS, DRAWS)))


def diag(node: str = "y", r_hat: float = 1.0, ess: float = 1000.0, div: int = 0, msgs: tuple[str, ...] = ()) -> NodeDiagnostics:
    return NodeDiagnostics(node, 0, r_hat, ess, ess, div, list(msgs))


def test_roas_diagnostics_grade_the_reported_quantity():
    rng = np.random.default_rng(0)
    assert QuantityDiagnostics.of("ppc_spend", iid(rng)).severity is None
    slow = QuantityDiagnostics.of("ppc_spend", sticky(rng))
    assert slow.severity == "medium" and slow.ess_bulk < MIN_ESS_TOTAL
    apart = iid(rng) + np.array([[0.0], [1.0]])  # the two chains sit a posterior sd apart
    assert QuantityDiagnostics.of("ppc_spend", apart).severity == "high"
    assert QuantityDiagnostics.of("ppc_spend", np.ones((1, 10))).severity is None  # one chain: nothing to grade


HEALTHY = {"ppc_spend": QuantityDiagnostics("ppc_spend", 1.002, 850.0, 700.0)}
SLOW = {"ppc_spend": QuantityDiagnostics("ppc_spend", 1.01, 80.0, 120.0)}
THROUGH = {"ppc_clicks": ["ppc_spend"], "sales": ["ppc_spend"]}
FAULT = {"ppc_clicks": WorstParameter("ppc_clicks|demand|beta", 97.0, "ppc_clicks|ppc_spend|beta", -0.91)}
LOW_ESS = diag("ppc_clicks", 1.01, 97.0, msgs=("ppc_clicks: bulk ESS 97 < 200",))


def test_a_slow_nuisance_parameter_with_healthy_roas_is_a_note_naming_the_parameter():
    (w,) = convergence_warnings([LOW_ESS], HEALTHY, THROUGH, FAULT, DRAWS)
    assert (w.code, w.where, w.severity) == ("convergence", "ppc_clicks", "low")
    assert "ppc_clicks|demand|beta has bulk ESS 97" in w.message and "ppc_spend R-hat 1.002, bulk ESS 850" in w.message
    assert "not in doubt" in w.message and "--draws 1000" in w.fix
    assert convergence_warnings([LOW_ESS])[0].severity == "medium"  # without the ROAS draws (old runs): the conservative grade


def test_low_roas_ess_is_medium_with_the_parameter_at_fault_and_a_fix():
    (w,) = convergence_warnings([LOW_ESS], SLOW, THROUGH, FAULT, DRAWS)
    assert (w.where, w.severity) == ("ppc_clicks", "medium")
    assert "ppc_spend R-hat 1.010, bulk ESS 80" in w.message and "correlated with ppc_clicks|ppc_spend|beta (r = -0.91)" in w.message
    assert "--draws 1000" in w.fix and "ppc_clicks|demand|beta" in w.fix and "reparameterise" in w.fix
    # a node no channel's ROAS passes through stays a note even when the ROAS mixes badly elsewhere
    (budget, orphan) = convergence_warnings([diag("ppc_spend", 1.0, 60.0, msgs=("bulk ESS",))], SLOW, THROUGH, {}, DRAWS)
    assert budget.severity == "low" and "no channel's total ROAS depends on ppc_spend" in budget.message
    assert (orphan.where, orphan.severity) == ("ppc_spend", "medium") and "mixes badly" in orphan.message


@pytest.mark.parametrize(("r_hat", "div", "severity"), [(1.3, 0, "high"), (1.0, 12, "high"), (1.0, 3, "medium"), (1.02, 0, "low")])
def test_rhat_and_divergences_keep_their_grades_with_healthy_roas(r_hat, div, severity):
    (w,) = convergence_warnings([diag("ppc_clicks", r_hat, 500.0, div, ("flag",))], HEALTHY, THROUGH, FAULT, DRAWS)
    assert w.severity == severity


def test_chains_that_disagree_on_roas_are_high_and_clean_nodes_stay_quiet():
    apart = {"ppc_spend": QuantityDiagnostics("ppc_spend", 1.2, 20.0, 20.0)}
    (w,) = convergence_warnings([diag("ppc_clicks", 1.03, 300.0, msgs=("R-hat",))], apart, THROUGH, FAULT, DRAWS)
    assert w.severity == "high" and "provisional" in w.message
    assert convergence_warnings([diag("ppc_clicks")], HEALTHY, THROUGH, FAULT, DRAWS) == []


def test_suggested_draws_scale_with_the_ess_shortfall():
    assert suggested_draws(500, 97.0) == 1000  # at least double
    assert suggested_draws(500, 30.0) == 2500  # 500 * 150 / 30
    assert suggested_draws(None, 30.0) is None and suggested_draws(500, float("nan")) is None


def test_worst_parameter_names_the_slow_one_and_its_correlated_sibling():
    rng = np.random.default_rng(1)
    slow = sticky(rng)
    post = az.from_dict(
        posterior={"y|c|beta": slow, "y|x|beta": -slow + 0.1 * iid(rng), "y|sigma": np.abs(iid(rng)) + 1, "x|sigma": sticky(rng, 2.0, 0.1, period=125)}
    )["posterior"]
    w = worst_parameter(post, "y")
    assert w is not None and w.name in ("y|c|beta", "y|x|beta") and w.ess_bulk < MIN_ESS_TOTAL
    assert w.partner in ("y|c|beta", "y|x|beta") and w.partner != w.name and w.correlation < -0.9
    assert worst_parameter(az.from_dict(posterior={"y|sigma": iid(rng)[:1]})["posterior"], "y") is None  # one chain


def tiny_world() -> tuple[object, object]:
    """c -> x -> y, c -> y: x's own equation is on no channel's path; y's is on x's."""
    g = (
        CausalGraph("t")
        .add_node("c", "confounder")
        .add_node("x", "spend")
        .add_node("y", "outcome")
        .add_edge("c", "x")
        .add_edge("x", "y", adstock="none", saturation="none")
        .add_edge("c", "y")
    )
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"date": pd.date_range("2023-01-02", periods=60, freq="W-MON"), "c": 10 + rng.normal(0, 1, 60)})
    df["x"] = 50 + 3 * df.c + rng.normal(0, 5, 60)
    df["y"] = 100 + 2 * df.x + 5 * df.c + rng.normal(0, 3, 60)
    data = load_data(df).validate_against(g)
    return build_spec(g, data), data


def fit_result(spec: object, params: dict[str, np.ndarray]) -> FitResult:
    """A FitResult over fixed (chain, draw) arrays, with arviz's per-node diagnostics."""
    idata = az.from_dict(posterior=params)
    post = idata["posterior"]
    diags = []
    for node in ("x", "y"):
        names = [v for v in post.data_vars if str(v).startswith(f"{node}|")]
        rhat = max(float(az.rhat(post[names])[v]) for v in names)
        ess = min(float(az.ess(post[names], method="bulk")[v]) for v in names)
        msgs = [f"{node}: bulk ESS {ess:.0f}"] if ess < 100 * CHAINS else []
        diags.append(NodeDiagnostics(node, 0, rhat, ess, ess, 0, msgs))
    return FitResult([("x", "y")], [idata], diags, SamplerConfig(draws=DRAWS, chains=CHAINS), 0.0)


def tiny_params(rng: np.random.Generator, beta: np.ndarray, intercept: np.ndarray) -> dict[str, np.ndarray]:
    return {
        "x|intercept": iid(rng, 0.3, 0.01),
        "x|sigma": np.abs(iid(rng, 0.05, 0.005)),
        "x|c|beta": iid(rng, 0.4, 0.01),
        "y|intercept": intercept,
        "y|sigma": np.abs(iid(rng, 0.05, 0.005)),
        "y|x|beta": beta,
        "y|c|beta": iid(rng, 0.15, 0.01),
    }


def test_end_to_end_the_roas_through_the_query_engine_decides_the_grade():
    spec, data = tiny_world()
    rng = np.random.default_rng(2)
    # a slow intercept: linear ROAS does not depend on it, so the ROAS is well mixed -> a note naming y|intercept
    nuisance = fit_result(spec, tiny_params(rng, iid(rng, 0.5, 0.02), sticky(rng, 0.2, 0.02)))
    scm = PosteriorSCM(spec, data, nuisance.posterior_draws(), ("x",))
    assert channels_through(scm) == {"y": ["x"]}
    (w,) = graded_convergence_warnings(scm, nuisance)
    assert (w.where, w.severity) == ("y", "low") and "y|intercept" in w.message and "x R-hat" in w.message
    # a slow ROAS coefficient: the ROAS draws inherit its ESS -> medium
    slow = fit_result(spec, tiny_params(rng, sticky(rng, 0.5, 0.02), iid(rng, 0.2, 0.02)))
    (m,) = graded_convergence_warnings(PosteriorSCM(spec, data, slow.posterior_draws(), ("x",)), slow)
    assert (m.where, m.severity) == ("y", "medium") and "y|x|beta" in m.message
    # distrust() on the saved summary keeps the run's grade (it does not regrade a covered node)
    summary = {"warnings": [w.to_dict()], "diagnostics": [d.to_dict() for d in nuisance.diagnostics]}
    assert [x.severity for x in distrust(summary) if x.where == "y"] == ["low"]
