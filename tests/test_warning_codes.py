"""Every warning code is documented, and each has a case where it fires and one where it stays quiet.

Codes with richer cases elsewhere: adstock_tail, sign_binding, nonfinite_draws, residual_autocorrelation,
confounded_mechanism (tests/test_mechanisms.py), latent_factor (here), experiment_conflict
(tests/test_conflict.py), weak_to_confounding (tests/test_sensitivity.py), refutation_failed (tests/test_refute.py).
"""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from causalmmm.model.checks import confounding_warnings, convergence_severity, convergence_warnings, extrapolation_warnings, unseen_share
from causalmmm.model.fit import NodeDiagnostics, SamplerConfig, sampler_warnings
from causalmmm.report.distrust import distrust
from causalmmm.spec import EdgeSpec, ModelSpec, NodeSpec

ROOT = Path(__file__).resolve().parents[1]
#: Codes made on the fly from strings that carry no code of their own (validation messages of old runs).
GENERIC = {"validation"}


def emitted_codes() -> set[str]:
    """Every code literal passed to ModelWarning(...) in the package source."""
    pattern = re.compile(r'ModelWarning\(\s*(?:code=)?"([a-z_]+)"')
    return {m for p in (ROOT / "causalmmm").rglob("*.py") for m in pattern.findall(p.read_text())}


def test_every_code_the_package_emits_is_documented_in_concepts():
    codes = emitted_codes() - GENERIC
    assert {"adstock_tail", "sign_binding", "convergence", "experiment_conflict", "fast_approximation"} <= codes
    table = (ROOT / "docs" / "concepts.md").read_text()
    missing = sorted(c for c in codes if f"| `{c}` |" not in table)
    assert not missing, f"undocumented warning codes (add a row to the warnings table in docs/concepts.md): {missing}"


def diag(r_hat: float | None = 1.0, ess: float | None = 1000.0, div: int = 0, msgs: tuple[str, ...] = ()) -> NodeDiagnostics:
    return NodeDiagnostics("sales", 0, r_hat, ess, ess, div, list(msgs))


@pytest.mark.parametrize(
    ("r_hat", "ess", "div", "severity"),
    [
        (1.0, 1000.0, 0, None),
        (1.02, 1000.0, 0, "low"),  # short chains: the estimate is not in doubt
        (1.0, 80.0, 0, "medium"),
        (1.0, 1000.0, 2, "medium"),
        (1.0, 1000.0, 12, "high"),
        (1.3, 1000.0, 0, "high"),
    ],
)
def test_convergence_severity_grades(r_hat, ess, div, severity):
    assert convergence_severity(r_hat, ess, div) == severity


def test_convergence_fires_on_bad_diagnostics_and_stays_quiet_on_clean_ones():
    assert convergence_warnings([diag()]) == []
    assert convergence_warnings([diag(r_hat=None, ess=None)]) == []  # a fast fit has no diagnostics
    (w,) = convergence_warnings([diag(r_hat=1.3, div=4, msgs=("sales: R-hat 1.300 > 1.01",))])
    assert (w.code, w.where, w.severity) == ("convergence", "sales", "high")
    assert "max R-hat 1.300" in w.message and "4 divergent transitions" in w.message and "provisional" in w.message
    (low,) = convergence_warnings([{"node": "sales", "r_hat_max": 1.02, "ess_bulk_min": 300.0, "divergences": 0, "warnings": ["sales: R-hat"]}])
    assert low.severity == "low" and "not in doubt" in low.message


def test_fast_approximation_only_on_fast_fits():
    (w,) = sampler_warnings(SamplerConfig(fast=True))
    assert w.code == "fast_approximation" and w.severity == "low"
    assert sampler_warnings(SamplerConfig()) == []


def check(z: float) -> dict:
    p = {"mean": -100.0 - 10 * z, "hdi_low": -120.0 - 10 * z, "hdi_high": -80.0 - 10 * z}
    return {"name": "ppc_go_dark", "measured": -100.0, "measured_se": 10.0, "predicted": p, "z": z, "calibrated": False}


def test_experiment_inconsistent_fires_on_a_validation_misfit_and_stays_quiet_otherwise():
    summary = {"warnings": [], "diagnostics": []}
    (w,) = distrust(summary, {"experiments": [check(3.1)]})
    assert (w.code, w.where, w.severity) == ("experiment_inconsistent", "ppc_go_dark", "high") and "z = +3.1" in w.message
    assert distrust(summary, {"experiments": [check(0.4)]}) == []


def test_latent_factor_fires_only_for_factor_latents(example_graph, random_frame):
    from causalmmm.data import load_data
    from causalmmm.spec import build_spec

    plain = build_spec(example_graph, load_data(random_frame).validate_against(example_graph))
    assert not [w for w in confounding_warnings(plain) if w.code == "latent_factor"]
    g = example_graph.copy().add_node("demand", "confounder", observed=False)
    data = load_data(random_frame.drop(columns=["demand"])).validate_against(g)
    found = [w for w in confounding_warnings(build_spec(g, data, latent="factor")) if w.code == "latent_factor"]
    assert found and all(w.severity == "low" for w in found)
    assert {w.where for w in found} <= set(build_spec(g, data, latent="factor").latent_children("demand"))


EDGE = EdgeSpec("ppc_spend", "ppc_clicks", "geometric", "hill", 4, 0, "positive")


def clicks_spec() -> ModelSpec:
    return ModelSpec("ppc_clicks", (NodeSpec("ppc_clicks", (EDGE,)),), ("ppc_spend",), {"ppc_spend": 1.0, "ppc_clicks": 1.0}, "W", 104)


def hill_draws(k: float = 1.0, s: float = 1.5) -> dict[str, np.ndarray]:
    return {"ppc_clicks|ppc_spend|alpha": np.full(4, 0.3), "ppc_clicks|ppc_spend|k": np.full(4, k), "ppc_clicks|ppc_spend|s": np.full(4, s)}


def test_spend_extrapolation_fires_when_spend_never_goes_low():
    x = np.random.default_rng(0).uniform(0.6, 1.4, 104)
    (w,) = extrapolation_warnings(clicks_spec(), hill_draws(), {"ppc_spend": x})
    assert (w.code, w.where, w.severity) == ("spend_extrapolation", "ppc_spend -> ppc_clicks", "high") and "hill prior" in w.message


def test_spend_extrapolation_is_quiet_when_the_channel_goes_dark_and_low_when_an_experiment_anchors_it():
    dark = np.tile([1.6, 1.6, 1.6, 0.0, 0.0, 0.0, 0.0, 0.0], 13)
    assert extrapolation_warnings(clicks_spec(), hill_draws(), {"ppc_spend": dark}) == []
    lift = SimpleNamespace(name="ppc_go_dark", use="calibrate", treatment="ppc_spend")
    x = np.random.default_rng(0).uniform(0.6, 1.4, 104)
    (w,) = extrapolation_warnings(clicks_spec(), hill_draws(), {"ppc_spend": x}, [lift])
    assert w.severity == "low" and "ppc_go_dark anchors it" in w.message


def test_unseen_share_is_the_curve_at_the_lowest_input_over_its_mean():
    e = EdgeSpec("a", "b", "none", "hill", 1, 0, "positive")
    x = np.array([0.5, 1.0, 1.5])
    f = x**2 / (x**2 + 1.0)
    np.testing.assert_allclose(unseen_share(e, {"k": np.array([1.0]), "s": np.array([2.0])}, x), f.min() / f.mean())
