"""Test a causal graph against data: its implied conditional independences.

A DAG implies that two non-adjacent nodes are independent given any set that
d-separates them. For every non-adjacent pair of *observed* nodes we look for a
minimal separating set made only of observed nodes (networkx
``find_minimal_d_separator`` on the full graph, latent nodes included, with the
search restricted to observed nodes). When every parent is observed this is as
good as local Markov (node ⟂ non-descendants | parents) and usually smaller; with
latent nodes it is the only valid choice. Pairs that no observed set separates
imply nothing testable and are listed as such.

Each implication ``X ⟂ Y | Z`` is tested by regressing X and Y on features of Z
and testing the correlation of the residuals (Fisher z), with

* time-series features: a conditioning node with a lagged out-edge enters with
  that lag too; a spend node enters through a small adstock basis (geometric
  carry-over at several decay rates, up to its edges' ``l_max``); optionally a
  linear trend and yearly Fourier terms (``time_controls``);
* ``method="linear"``: the features as they are; ``"spline"``: plus squares and
  cubes of every feature (saturation curves); ``"kci"``: causal-learn's kernel CI
  test on the same features (slow; small data only); ``"auto"``: ``"spline"`` when
  the data have at least 8 rows per feature, otherwise ``"linear"``;
* autocorrelation: the residuals of a time series are autocorrelated, which makes
  a plain Fisher z test far too eager. The sample size is replaced by an
  effective sample size from the residuals' autocorrelations (Pyper & Peterman 1998);
* multiple testing: Holm's step-down correction over all tested implications
  (controls the chance of *any* false alarm at ``alpha``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import networkx as nx
import numpy as np

from causalmmm.errors import DataError, GraphError
from causalmmm.graph.causal_graph import CausalGraph
from causalmmm.transforms import adstock, shift
from causalmmm.transforms.time import autocorrelations, trend_and_fourier

TEST_METHODS: tuple[str, ...] = ("auto", "linear", "spline", "kci")
CORRECTIONS: tuple[str, ...] = ("holm", "bh")
ADSTOCK_BASIS: tuple[float, ...] = (0.3, 0.6, 0.85)


# --------------------------------------------------------------------------- implications
@dataclass
class Implication:
    """One implied independence ``x ⟂ y | given`` and its test result."""

    x: str
    y: str
    given: tuple[str, ...]
    p_value: float | None = None
    p_adjusted: float | None = None
    partial_corr: float | None = None
    n_eff: float | None = None
    n_features: int | None = None
    verdict: str = "untested"  # consistent | violated | skipped
    reason: str = ""

    def given_text(self) -> str:
        return "{" + ", ".join(self.given) + "}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "x": self.x,
            "y": self.y,
            "given": list(self.given),
            "p_value": self.p_value,
            "p_adjusted": self.p_adjusted,
            "partial_corr": self.partial_corr,
            "n_eff": self.n_eff,
            "n_features": self.n_features,
            "verdict": self.verdict,
            "reason": self.reason,
        }


def implied_independences(graph: CausalGraph, max_conditioning: int | None = None) -> tuple[list[Implication], list[tuple[str, str]]]:
    """Implications among observed nodes, and the non-adjacent pairs no observed set separates."""
    g = graph.to_networkx()
    observed = graph.observed_nodes
    order = {n: i for i, n in enumerate(graph.topological_order())}
    obs_sorted = sorted(observed, key=lambda n: order[n])
    out: list[Implication] = []
    untestable: list[tuple[str, str]] = []
    for i, a in enumerate(obs_sorted):
        for b in obs_sorted[i + 1 :]:
            if g.has_edge(a, b) or g.has_edge(b, a):
                continue
            # Preferred: the parents of both (valid by local Markov when they d-separate; each
            # residual is then close to the node's own noise, which gives the most power).
            sep = (set(g.predecessors(a)) | set(g.predecessors(b))) & set(observed)
            if not nx.is_d_separator(g, {a}, {b}, sep):
                sep = nx.find_minimal_d_separator(g, {a}, {b}, restricted=set(observed))
            if sep is None:
                untestable.append((a, b))
                continue
            given = tuple(sorted(sep, key=lambda n: order[n]))
            imp = Implication(a, b, given)
            if max_conditioning is not None and len(given) > max_conditioning:
                imp.verdict, imp.reason = "skipped", f"conditioning set larger than max_conditioning={max_conditioning}"
            out.append(imp)
    return out, untestable


# --------------------------------------------------------------------------- features
def _node_features(graph: CausalGraph, node: str, x: np.ndarray) -> list[np.ndarray]:
    """Columns standing for a conditioning node: itself, its lagged copies, its adstock basis."""
    cols = [x]
    outs = [graph.edge(node, c) for c in graph.children(node)]
    for lag in sorted({e.lag for e in outs if e.lag > 0}):
        cols.append(shift(x, lag, np, fill="edge"))
    media = [e for e in outs if e.adstock != "none"]
    if media:
        l_max = max(e.l_max for e in media)
        basis = list(adstock(x, "geometric", {"alpha": np.asarray(ADSTOCK_BASIS)}, l_max, np))  # one row per decay rate
        if l_max > 1:
            cols += basis
        for lag in sorted({e.lag for e in media if e.lag > 0}):
            cols += [shift(b, lag, np, fill="edge") for b in basis]
    return cols


def _standardise(m: np.ndarray) -> np.ndarray:
    sd = m.std(axis=0)
    keep = sd > 1e-12
    m = m[:, keep]
    return (m - m.mean(axis=0)) / m.std(axis=0)


def _design(cols: Sequence[np.ndarray], nonlinear: bool, n: int) -> np.ndarray:
    if not cols:
        return np.ones((n, 1))
    m = _standardise(np.column_stack(cols))
    if nonlinear:
        m = np.column_stack([m, m**2, m**3])
        m = _standardise(m)
    return np.column_stack([np.ones(len(m)), m])


def _residual(y: np.ndarray, design: np.ndarray) -> np.ndarray:
    beta, *_ = np.linalg.lstsq(design, y, rcond=None)
    return y - design @ beta


def effective_sample_size(rx: np.ndarray, ry: np.ndarray) -> float:
    """Pyper & Peterman (1998): ``1/n_eff = 1/n + (2/n) Σ_j (n-j)/n ρx(j) ρy(j)``, j ≤ n/5."""
    n = len(rx)
    k = max(1, n // 5)
    ax, ay = autocorrelations(rx, k), autocorrelations(ry, k)
    j = np.arange(1, k + 1)
    inv = 1.0 / n + (2.0 / n) * float(np.sum((n - j) / n * ax * ay))
    return float(np.clip(1.0 / max(inv, 1e-12), 3.0, n))


def _fisher_p(r: float, n_eff: float, q: int) -> float:
    from scipy.stats import norm

    dof = max(n_eff - q - 3.0, 1.0)
    r = float(np.clip(r, -0.999999, 0.999999))
    z = np.arctanh(r) * np.sqrt(dof)
    return float(2 * norm.sf(abs(z)))


def benjamini_hochberg(pvalues: Sequence[float]) -> list[float]:
    """Benjamini–Hochberg step-up adjusted p-values (same order as the input)."""
    p = np.asarray(pvalues, dtype=float)
    m = len(p)
    if m == 0:
        return []
    order = np.argsort(p)
    ranked = p[order] * m / np.arange(1, m + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    adj = np.empty(m)
    adj[order] = np.minimum(ranked, 1.0)
    return adj.tolist()


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values (same order as the input)."""
    p = np.asarray(pvalues, dtype=float)
    m = len(p)
    order = np.argsort(p)
    adj = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adj[i] = running
    return adj.tolist()


# --------------------------------------------------------------------------- report
@dataclass
class GraphTestReport:
    """Every implied independence with its p-value and verdict."""

    implications: list[Implication]
    untestable: list[tuple[str, str]]
    alpha: float
    method: str
    correction: str
    n_periods: int
    time_controls: bool
    warnings: list[str] = field(default_factory=list)

    @property
    def tested(self) -> list[Implication]:
        return [i for i in self.implications if i.verdict in ("consistent", "violated")]

    @property
    def failures(self) -> list[Implication]:
        return [i for i in self.implications if i.verdict == "violated"]

    @property
    def correction_name(self) -> str:
        return {"holm": "Holm", "bh": "Benjamini-Hochberg"}.get(self.correction, self.correction)

    @property
    def passed(self) -> bool:
        return not self.failures

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "alpha": self.alpha,
            "method": self.method,
            "correction": self.correction,
            "autocorrelation": "effective sample size (Pyper & Peterman 1998)",
            "time_controls": self.time_controls,
            "n_periods": self.n_periods,
            "n_tested": len(self.tested),
            "n_failures": len(self.failures),
            "implications": [i.to_dict() for i in self.implications],
            "untestable": [{"x": a, "y": b} for a, b in self.untestable],
            "warnings": list(self.warnings),
        }

    def to_text(self) -> str:
        lines = []
        if not self.tested:
            lines.append("The graph implies no testable independence among the observed nodes: the data cannot contradict it.")
        elif self.passed:
            lines.append(
                f"PASSED: all {len(self.tested)} implied independences are consistent with the data "
                f"({self.method} test, {self.correction_name}-corrected at alpha={self.alpha:g})."
            )
        else:
            lines.append(
                f"FAILED: {len(self.failures)} of {len(self.tested)} implied independences are contradicted by the data "
                f"({self.method} test, {self.correction_name}-corrected at alpha={self.alpha:g})."
            )
        for i in sorted(self.failures, key=lambda i: i.p_value or 0.0):
            given = f" given {i.given_text()}" if i.given else ""
            lines.append(
                f"  ✗ {i.x} and {i.y} should be independent{given}; the data says they are not "
                f"(p {_fmt_p(i.p_value)}, {self.correction_name} adjusted p {_fmt_p(i.p_adjusted)}): is an edge missing between them, "
                f"or a common cause?"
            )
        for i in self.implications:
            if i.verdict == "consistent":
                given = f" | {i.given_text()}" if i.given else ""
                lines.append(f"  ✓ {i.x} ⟂ {i.y}{given}   p {_fmt_p(i.p_value)}")
        for i in self.implications:
            if i.verdict == "skipped":
                lines.append(f"  - {i.x} ⟂ {i.y} | {i.given_text()} not tested: {i.reason}")
        if self.untestable:
            lines.append("Not testable (only latent nodes separate them): " + ", ".join(f"{a}–{b}" for a, b in self.untestable))
        for w in self.warnings:
            lines.append(f"warning: {w}")
        return "\n".join(lines)


def _fmt_p(p: float | None) -> str:
    if p is None:
        return "n/a"
    return f"= {p:.3g}" if p >= 0.001 else "< 0.001"


# --------------------------------------------------------------------------- main
def check_implied_independences(
    graph: CausalGraph,
    data: Any,
    *,
    alpha: float = 0.05,
    method: str = "auto",
    max_conditioning: int | None = None,
    time_controls: bool = False,
    correction: str = "holm",
) -> GraphTestReport:
    """Test every conditional independence the graph implies among its observed nodes.

    ``data``: a :class:`causalmmm.data.Dataset` or a DataFrame with a ``date`` column.
    Returns a :class:`GraphTestReport`; ``report.passed`` is False when any implication
    is rejected after Holm's correction at ``alpha``.
    """
    from causalmmm.graph.discover import as_frame, periods_per_year

    if not isinstance(graph, CausalGraph):
        raise GraphError(f"expected a CausalGraph, got {type(graph).__name__}", hint="load it with causalmmm.graph.load_graph(path)")
    if method not in TEST_METHODS:
        raise GraphError(f"unknown test method {method!r}", hint=f"allowed: {', '.join(TEST_METHODS)}")
    if not 0.0 < float(alpha) < 1.0:
        raise GraphError(f"alpha must be between 0 and 1, got {alpha!r}", hint="a typical value is 0.05")
    graph.validate()
    frame = as_frame(data)
    graph.check_columns(frame.columns)
    n = len(frame)
    if n < 20:
        raise DataError(f"only {n} periods", hint="testing independences needs at least 20 periods")
    implications, untestable = implied_independences(graph, max_conditioning)
    ppy = periods_per_year(frame)
    base = list(trend_and_fourier(n, ppy).T) if time_controls else []
    warnings: list[str] = []
    used_method = method
    for imp in implications:
        if imp.verdict == "skipped":
            continue
        cols = list(base)
        for z in imp.given:
            cols += _node_features(graph, z, frame[z].to_numpy(dtype=float))
        m = method
        if m == "auto":
            m = "spline" if n - (3 * len(cols) + 1) >= 60 else "linear"
        design = _design(cols, nonlinear=(m == "spline"), n=n)
        q = design.shape[1] - 1
        if n - q < 10:
            imp.verdict, imp.reason = "skipped", f"{q} conditioning features leave too few degrees of freedom for {n} periods"
            continue
        x = frame[imp.x].to_numpy(dtype=float)
        y = frame[imp.y].to_numpy(dtype=float)
        rx, ry = _residual(x, design), _residual(y, design)
        if rx.std() < 1e-12 * (abs(x).max() + 1) or ry.std() < 1e-12 * (abs(y).max() + 1):
            imp.verdict, imp.reason = "skipped", "a residual is constant (a deterministic relation)"
            continue
        r = float(np.corrcoef(rx, ry)[0, 1])
        neff = effective_sample_size(rx, ry)
        if m == "kci":
            p = _kci_p(x, y, design[:, 1:])
        else:
            p = _fisher_p(r, neff, q)
        imp.p_value, imp.partial_corr, imp.n_eff, imp.n_features = p, r, round(neff, 1), q
        imp.reason = m
    tested = [i for i in implications if i.p_value is not None]
    if correction not in CORRECTIONS:
        raise GraphError(f"unknown correction {correction!r}", hint=f"allowed: {', '.join(CORRECTIONS)}")
    adjust = holm if correction == "holm" else benjamini_hochberg
    for i, padj in zip(tested, adjust([i.p_value for i in tested if i.p_value is not None])):
        i.p_adjusted = padj
        i.verdict = "violated" if padj < alpha else "consistent"
    if method == "auto":
        kinds = sorted({i.reason for i in tested})
        used_method = "auto (" + ", ".join(kinds) + ")" if kinds else "auto"
    if graph.latent_nodes:
        warnings.append(f"latent node(s) {', '.join(graph.latent_nodes)}: only independences separable by observed nodes were tested")
    return GraphTestReport(implications, untestable, float(alpha), used_method, correction, n, time_controls, warnings)


def _kci_p(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> float:
    """causal-learn's kernel conditional independence test (no autocorrelation correction)."""
    import contextlib
    import io
    import warnings as _w

    from causallearn.utils.cit import CIT

    def std(a: np.ndarray) -> np.ndarray:
        return (a - a.mean(axis=0)) / np.where(a.std(axis=0) > 0, a.std(axis=0), 1.0)

    data = np.column_stack([std(x), std(y)] + ([std(z)] if z.size else []))
    with _w.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        _w.simplefilter("ignore")
        test = CIT(data, "kci")
        return float(test(0, 1, list(range(2, data.shape[1]))))
