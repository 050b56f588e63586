"""Residual diagnostics and posterior predictive checks per node, from the fit (no refitting).

Residuals are ``observed − structural mean given the observed parents`` at the posterior mean
of the mean, in the model's scaled units. Three checks per modelled node:

- *autocorrelation*: lag-1..k autocorrelations and the Ljung–Box statistic
  ``Q = T(T+2) Σ_k ρ_k² / (T−k)`` against χ²(k); structure left in time (a missing carry-over,
  seasonality or a slow confounder) makes the residuals autocorrelated;
- *missing-edge hints*: correlation of the residuals with the values of nodes that are neither
  parents nor descendants of the node, and with the residuals of nodes that are neither its
  parents nor its children; a strong correlation hints at a missing edge (or a shared unobserved
  cause). Bonferroni-corrected over every pair tested;
- *PPC coverage*: the share of observations inside the central 94% posterior predictive interval
  (mean + noise draws from the node's likelihood); far below 94% means the noise is understated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
from scipy import stats

from causalmmm.fmt import pct
from causalmmm.model.noise import innovations, noise_draws
from causalmmm.query.do import PosteriorSCM
from causalmmm.transforms.time import autocorrelations

ALPHA = 0.05
MIN_ABS_CORR = 0.25
PPC_PROB = 0.94
PPC_LOW = 0.85


def ljung_box(x: np.ndarray, max_lag: int) -> tuple[float, float]:
    """Ljung–Box ``(Q, p-value)`` for no autocorrelation up to ``max_lag``."""
    n = len(x)
    rho = autocorrelations(x, max_lag)
    q = float(n * (n + 2) * np.sum(rho**2 / (n - np.arange(1, max_lag + 1))))
    return q, float(stats.chi2.sf(q, max_lag))


def correlation_test(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Pearson ``(r, two-sided p-value)``; ``(0, 1)`` when either series is constant."""
    if np.std(a) == 0 or np.std(b) == 0:
        return 0.0, 1.0
    r, p = stats.pearsonr(a, b)
    return float(r), float(p)


@dataclass
class EdgeHint:
    """A residual correlation that hints at a missing edge."""

    node: str
    other: str
    kind: str  # "value": node's residuals vs other's values; "residual": residuals vs residuals
    r: float
    p_value: float

    @property
    def suggestion(self) -> str:
        if self.kind == "value":
            return (
                f"residuals of {self.node} correlate with {self.other} (r = {self.r:+.2f}, p = {self.p_value:.1g}): "
                f"consider an edge {self.other} -> {self.node}"
            )
        return (
            f"residuals of {self.node} and {self.other} correlate (r = {self.r:+.2f}, p = {self.p_value:.1g}): "
            f"consider an edge between {self.node} and {self.other}, or a shared unobserved cause"
        )

    def to_dict(self) -> dict[str, Any]:
        return {"node": self.node, "other": self.other, "kind": self.kind, "r": self.r, "p_value": self.p_value, "suggestion": self.suggestion}


@dataclass
class NodeResiduals:
    """Residual and predictive checks of one node's equation."""

    node: str
    autocorrelation: list[float]
    ljung_box_q: float
    ljung_box_p: float
    ppc_coverage: float
    residual_sd: float
    hints: list[EdgeHint] = field(default_factory=list)

    @property
    def autocorrelated(self) -> bool:
        return self.ljung_box_p < ALPHA

    @property
    def ppc_ok(self) -> bool:
        return self.ppc_coverage >= PPC_LOW

    def to_dict(self) -> dict[str, Any]:
        return {
            "node": self.node,
            "autocorrelation": self.autocorrelation,
            "ljung_box": {"lags": len(self.autocorrelation), "q": self.ljung_box_q, "p_value": self.ljung_box_p},
            "autocorrelated": self.autocorrelated,
            "ppc_coverage": self.ppc_coverage,
            "ppc_ok": self.ppc_ok,
            "residual_sd": self.residual_sd,
            "missing_edge_hints": [h.to_dict() for h in self.hints],
        }

    def messages(self) -> list[str]:
        out = []
        if self.autocorrelated:
            out.append(
                f"{self.node}: residuals are autocorrelated (lag-1 {self.autocorrelation[0]:+.2f}, Ljung-Box p = "
                f"{self.ljung_box_p:.1g}): a missing carry-over, seasonality or slow confounder"
            )
        if not self.ppc_ok:
            out.append(f"{self.node}: only {pct(self.ppc_coverage)} of observations inside the 94% predictive interval (noise understated or outliers)")
        out += [f"{self.node}: {h.suggestion}" for h in self.hints]
        return out


@dataclass
class Diagnostics:
    """Per-node diagnostics of a fitted model."""

    nodes: list[NodeResiduals]
    max_lag: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "max_lag": self.max_lag,
            "ppc_prob": PPC_PROB,
            "nodes": [n.to_dict() for n in self.nodes],
            "hints": [h.to_dict() for n in self.nodes for h in n.hints],
            "warnings": [m for n in self.nodes for m in n.messages()],
        }

    def to_text(self) -> str:
        lines = [
            f"residual diagnostics (lags 1..{self.max_lag}; PPC = share inside the 94% predictive interval)",
            "node              lag-1 ac   Ljung-Box p   PPC coverage",
        ]
        for n in self.nodes:
            lines.append(f"{n.node:<17} {n.autocorrelation[0]:+8.2f}   {n.ljung_box_p:11.2g}   {pct(n.ppc_coverage):>12}")
        warnings = [m for n in self.nodes for m in n.messages()]
        lines += [f"warning: {m}" for m in warnings] or ["no residual warnings"]
        return "\n".join(lines)


def posterior_predictive(scm: PosteriorSCM, node: str, mu: np.ndarray, seed: int = 0) -> np.ndarray:
    """Draws of ``node`` (scaled units, (S, T)) from its likelihood around the structural mean ``mu``."""
    return mu + noise_draws(scm.spec.node(node).likelihood, scm.node_params[node], mu.shape, np.random.default_rng(seed))


def interval_coverage(y: np.ndarray, draws: np.ndarray, prob: float = PPC_PROB) -> float:
    """Share of ``y`` inside the central ``prob`` interval of ``draws`` (S, T), period by period."""
    lo, hi = np.quantile(draws, [(1 - prob) / 2, (1 + prob) / 2], axis=0)
    return float(np.mean((y >= lo) & (y <= hi)))


def diagnose_residuals(scm: PosteriorSCM, max_lag: int | None = None, seed: int = 0) -> Diagnostics:
    """Autocorrelation, missing-edge hints and PPC coverage for every modelled node."""
    spec = scm.spec
    T = spec.n_periods
    k = max_lag or max(1, min(10, T // 5))
    dag = spec.causal_digraph()
    mus = scm.factual_means()
    resid: dict[str, np.ndarray] = {}
    nodes: list[NodeResiduals] = []
    for n in spec.nodes:
        y = np.asarray(scm.series[n.name], dtype=float)
        mu = np.asarray(mus[n.name], dtype=float)
        resid[n.name] = y - mu.mean(axis=0)
        rho = scm.node_params[n.name].get("rho")
        shocks = innovations(resid[n.name], None if rho is None else float(np.mean(rho)))  # an AR(1) node: what its noise model leaves
        acs = autocorrelations(shocks, k)
        q, p = ljung_box(shocks, k)
        cover = interval_coverage(y, posterior_predictive(scm, n.name, mu, seed))
        nodes.append(NodeResiduals(n.name, [float(a) for a in acs], q, p, cover, float(np.std(resid[n.name]))))
    # candidate pairs: value tests (other -> node would be a legal new edge) and residual-residual tests
    tests: list[tuple[str, str, str]] = []
    observed = [m for m in spec.scales if m in scm.series]
    for n in spec.nodes:
        below = nx.descendants(dag, n.name)
        tests += [(n.name, m, "value") for m in observed if m != n.name and m not in n.parents and m not in below]
    names = list(resid)
    inputs = {n.name: set(n.parents) for n in spec.nodes}  # causal parents and adjustment terms
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            if a not in inputs[b] and b not in inputs[a]:
                tests.append((a, b, "residual"))
    level = ALPHA / max(len(tests), 1)
    by_node = {d.node: d for d in nodes}
    for node, other, kind in tests:
        series = resid[other] if kind == "residual" else np.asarray(scm.series[other], dtype=float)
        r, p = correlation_test(resid[node], series)
        if p < level and abs(r) >= MIN_ABS_CORR:
            by_node[node].hints.append(EdgeHint(node, other, kind, r, p))
    return Diagnostics(nodes, k)
