"""How strong would a hidden confounder have to be to explain a channel's effect away?

Cinelli & Hazlett (2020) robustness value on each spend channel's first-stage
mechanisms (the node equations where the spend is a parent). For an edge
``spend -> node`` with coefficient ``b``:

* ``t = mean(b) / sd(b)`` over the posterior draws (for a saturating edge the
  sampled ``beta_ref``, the effect at the reference input, when present),
* ``dof = T - k`` with ``k`` the number of linear terms in the node equation
  (intercept, one per parent edge, trend, changepoints, 2 per Fourier order),
* ``f = t / sqrt(dof)`` (the partial Cohen's f of the spend in that equation),
* ``RV_q = (sqrt(f_q^4 + 4 f_q^2) - f_q^2) / 2`` with ``f_q = q |f|``.

A confounder that explains a share ``RV_q`` of the residual variance of both
the spend and the node (after the equation's other terms) moves the
coefficient by ``q`` of its value: ``q = 1`` to zero (break-even of that
link), ``q = 0.5`` halves it. A channel's effect passes through every one of
its first-stage edges; the smallest RV is reported as the *weakest link*.
docs/concepts-robustness.md has the math and the limits.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from causalmmm.errors import QueryError
from causalmmm.fmt import num, pct
from causalmmm.model.equations import param_name
from causalmmm.model_warnings import ModelWarning
from causalmmm.query.do import PosteriorSCM
from causalmmm.spec import EdgeSpec, NodeSpec

#: RV_break_even below this raises ``weak_to_confounding``: a confounder explaining 5% of the residual
#: variance of both spend and the mechanism is weaker than typical demand/seasonality drivers of budgets.
WEAK_RV = 0.05
QUANTILES = {"break_even": 1.0, "halve": 0.5}


def robustness_value(t: float, dof: int, q: float = 1.0) -> float:
    """Cinelli & Hazlett's robustness value for a t-statistic with ``dof`` residual degrees of freedom.

    Written as ``2 / (1 + sqrt(1 + 4 / f_q^2))``, algebraically equal to
    ``(sqrt(f_q^4 + 4 f_q^2) - f_q^2) / 2`` and stable for large ``f_q`` (it tends to 1).
    """
    if q <= 0:
        raise ValueError("q must be > 0")
    if dof < 1 or math.isnan(t):
        return 0.0
    if math.isinf(t):
        return 1.0
    fq = q * abs(t) / math.sqrt(dof)
    if fq == 0.0:
        return 0.0
    return 2.0 / (1.0 + math.sqrt(1.0 + 4.0 / fq**2))


def partial_r2(t: float, dof: int) -> float:
    """Partial R² of the spend in its equation: ``t² / (t² + dof)``."""
    if dof < 1 or math.isinf(t):
        return 1.0
    return t * t / (t * t + dof)


def n_terms(node: NodeSpec) -> int:
    """Linear terms of a node equation: intercept, one per parent edge, trend, changepoints, 2 per Fourier order."""
    trend = node.trend
    if isinstance(trend, bool):  # specs from before trend families
        trend = "linear" if trend else "none"
    k = 1 + len(node.edges) + int(trend != "none")
    if trend == "piecewise":
        k += int(getattr(node, "changepoints", 0))
    return k + 2 * int(node.seasonality)


def coefficient_draws(scm: PosteriorSCM, node: NodeSpec, edge: EdgeSpec) -> tuple[np.ndarray, str]:
    """Draws of the edge's coefficient and which one: ``beta_ref`` for a saturating edge when sampled, else ``beta``."""
    if edge.saturation != "none":
        ref = param_name(node.name, "beta_ref", edge.source)
        if ref in scm.draws:
            return np.asarray(scm.draws[ref], dtype=float).ravel(), "beta_ref"
    return np.asarray(scm.draws[param_name(node.name, "beta", edge.source)], dtype=float).ravel(), "beta"


def link_sensitivity(scm: PosteriorSCM, node: NodeSpec, source: str) -> dict[str, Any]:
    """Robustness of one edge ``source -> node``."""
    edge = node.edge(source)
    b, which = coefficient_draws(scm, node, edge)
    b = b[np.isfinite(b)]
    mean = float(b.mean()) if b.size else float("nan")
    sd = float(b.std(ddof=1)) if b.size > 1 else 0.0
    t = mean / sd if sd > 0 else (math.copysign(math.inf, mean) if mean else 0.0)
    dof = scm.spec.n_periods - n_terms(node)
    return {
        "edge": f"{source} -> {node.name}",
        "coefficient": which,
        "t": float(t),
        "dof": int(dof),
        "partial_r2": partial_r2(t, dof),
        "robustness_value": {name: robustness_value(t, dof, q) for name, q in QUANTILES.items()},
    }


def _interpretation(channel: str, link: Mapping[str, Any]) -> str:
    src, node = link["edge"].split(" -> ")
    rv = link["robustness_value"]
    return (
        f"a hidden confounder explaining {pct(rv['break_even'])} of the residual variance of both {src} and {node} "
        f"(beyond the other terms of {node}'s equation) would bring {channel}'s effect through {link['edge']} to zero "
        f"(break-even); one explaining {pct(rv['halve'])} of both would halve it"
    )


def channel_sensitivity(scm: PosteriorSCM, channel: str) -> dict[str, Any]:
    """Robustness values of ``channel``'s first-stage edges; the weakest link is the channel's summary."""
    firsts = [n for n in scm.spec.nodes if channel in n.causes]
    if not firsts:
        raise QueryError(
            f"channel {channel!r} is not a parent of any modelled node",
            hint=f"spend nodes with an edge: {', '.join(sorted({e.source for n in scm.spec.nodes for e in n.edges if e.is_media}))}",
        )
    links = [link_sensitivity(scm, n, channel) for n in firsts]
    weakest = min(links, key=lambda lk: (lk["robustness_value"]["break_even"], lk["edge"]))
    return {
        "robustness_value": dict(weakest["robustness_value"]),
        "weakest_link": weakest["edge"],
        "t": weakest["t"],
        "dof": weakest["dof"],
        "partial_r2": weakest["partial_r2"],
        "coefficient": weakest["coefficient"],
        "interpretation": _interpretation(channel, weakest),
        "links": links,
    }


def sensitivity(scm: PosteriorSCM, channels: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """:func:`channel_sensitivity` for every spend channel (default: the run's spend nodes)."""
    from causalmmm.query.effects import _spend_channels

    chans = list(channels) if channels is not None else _spend_channels(scm)
    return {c: channel_sensitivity(scm, c) for c in chans if any(c in n.causes for n in scm.spec.nodes)}


def sensitivity_warnings(result: Mapping[str, Mapping[str, Any]], threshold: float = WEAK_RV) -> list[ModelWarning]:
    """``weak_to_confounding`` (medium) for each channel whose break-even robustness value is below ``threshold``."""
    out = []
    for channel, r in result.items():
        rv = float(r["robustness_value"]["break_even"])
        if rv < threshold:
            out.append(
                ModelWarning(
                    "weak_to_confounding",
                    r["weakest_link"],
                    f"{channel}'s effect is fragile: a hidden confounder explaining only {pct(rv)} of the residual variance of both "
                    f"ends of {r['weakest_link']} would explain it away (t = {num(r['t'])}, {r['dof']} dof)",
                    "run an experiment on this channel (lift, geo or switchback test) and calibrate the model with it, "
                    "or add the observed drivers of its budget (demand, seasonality) as parents",
                    "medium",
                )
            )
    return out
