"""Total, direct and path-specific (indirect) effects, ROAS, mROAS, response curves.

Definitions (docs/concepts.md has the math):

* **total contribution** of channel c = Σ_t Y_t(factual) − Σ_t Y_t(do(c_t = 0 ∀t)),
  counterfactual (observed residuals kept); **ROAS** = contribution / Σ_t c_t.
* **mROAS** = [Σ Y(do(c *= 1.01)) − Σ Y] / (0.01 Σ c).
* **path-specific effect** of a directed path c → m1 → … → Y: the same contrast
  when only the path's edges transmit the intervention (every other edge sees
  its source's factual value). ``kind`` is "direct" for the edge c → Y and
  "indirect" otherwise, ``via`` names the mediators along the path. In a linear
  model the path effects add up to the total; with saturation they need not,
  and the remainder is reported as ``interaction``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import networkx as nx
import numpy as np

from causalmmm.errors import QueryError
from causalmmm.fmt import num, pct, signed
from causalmmm.model_warnings import ModelWarning, ranked, to_dicts
from causalmmm.query.do import Intervention, PosteriorSCM, Summary


def causal_paths(scm: PosteriorSCM, treatment: str, outcome: str) -> list[tuple[str, ...]]:
    """Directed paths treatment → outcome through modelled nodes, in a stable order."""
    g = scm.spec.causal_digraph()
    if treatment not in g or outcome not in g:
        return []
    return sorted((tuple(p) for p in nx.all_simple_paths(g, treatment, outcome)), key=lambda p: (len(p), p))


def _window_sum(scm: PosteriorSCM, values: dict[str, np.ndarray], node: str, mask: np.ndarray) -> np.ndarray:
    return values[node][:, mask].sum(axis=1) * scm.spec.scales[node]


@dataclass
class Effect:
    """One row of `effects --json`."""

    treatment: str
    kind: str  # total | direct | indirect | interaction
    via: str | None
    path: tuple[str, ...] | None
    contribution: Summary
    roas: Summary

    def to_dict(self) -> dict[str, Any]:
        return {
            "treatment": self.treatment,
            "kind": self.kind,
            "via": self.via,
            "path": list(self.path) if self.path else None,
            "roas": self.roas.to_dict(),
            "contribution": self.contribution.to_dict(),
        }


@dataclass
class ChannelEffects:
    """Everything about one spend channel."""

    treatment: str
    spend: float
    total: Effect
    paths: list[Effect]
    mroas: Summary
    contribution_over_time: np.ndarray  # (S, T) outcome units
    mediator_changes: dict[str, Summary] = field(default_factory=dict)  # Δ node total under do(c=0), sign: factual − do
    cannibalisation: dict[str, Any] | None = None


@dataclass
class EffectsReport:
    outcome: str
    channels: list[ChannelEffects]
    dates: list[str]  # the window the effects are summed over
    all_dates: list[str] = field(default_factory=list)  # every data period (contributions over time)
    warnings: list[ModelWarning] = field(default_factory=list)  # what to distrust (the run's warnings)
    sensitivity: dict[str, Any] | None = None  # per channel: robustness to hidden confounding

    def to_dict(self) -> dict[str, Any]:
        effects = []
        for ch in self.channels:
            effects.append(ch.total.to_dict())
            effects.extend(e.to_dict() for e in ch.paths)
        extra = {
            ch.treatment: {
                "spend": ch.spend,
                "mroas": ch.mroas.to_dict(),
                "cannibalisation": ch.cannibalisation,
                "mediator_changes": {k: v.to_dict() for k, v in ch.mediator_changes.items()},
                "contribution_over_time": self.over_time(ch),
            }
            for ch in self.channels
        }
        if self.sensitivity is not None:
            for channel, sens in self.sensitivity.items():
                extra.setdefault(channel, {})["sensitivity"] = sens
        return {"outcome": self.outcome, "effects": effects, "channels": extra, "warnings": to_dicts(self.warnings)}

    def _repr_html_(self) -> str:
        from causalmmm.tables import effects_table

        return effects_table(self.to_dict()).to_html()

    def over_time(self, ch: ChannelEffects) -> dict[str, list]:
        """Per-period contribution (factual − do(channel = 0)): posterior mean and 94% HDI per date."""
        per = [Summary.of(ch.contribution_over_time[:, t]) for t in range(ch.contribution_over_time.shape[1])]
        return {"dates": list(self.all_dates), "mean": [p.mean for p in per], "hdi_low": [p.hdi_low for p in per], "hdi_high": [p.hdi_high for p in per]}

    def to_text(self) -> str:
        lines = []
        if self.warnings:
            lines.append(f"{len(self.warnings)} warning(s): distrust these before the numbers below")
            lines += [f"  {w.severity:<6} {w.to_text()}" for w in ranked(self.warnings)]
            lines.append("")
        lines.append(f"effects on {self.outcome} over the data period (94% HDI)")
        for ch in self.channels:
            t, m = ch.total.roas, ch.mroas
            lines.append(
                f"{ch.treatment}: ROAS {num(t.mean)} [{num(t.hdi_low)}, {num(t.hdi_high)}], mROAS {num(m.mean)} "
                f"[{num(m.hdi_low)}, {num(m.hdi_high)}], contribution {num(ch.total.contribution.mean)}"
            )
            for e in ch.paths:
                lines.append(
                    f"    {e.kind:<11} {' -> '.join(e.path) if e.path else '(rest)':<55} ROAS {signed(e.roas.mean)} "
                    f"[{signed(e.roas.hdi_low)}, {signed(e.roas.hdi_high)}]"
                )
            if ch.cannibalisation:
                c = ch.cannibalisation
                lines.append(
                    f"    {c['cannibalised']} loses {pct(c['share']['mean'])} [{pct(c['share']['hdi_low'])}, {pct(c['share']['hdi_high'])}] "
                    f"of the {c['clicks_node']} that {ch.treatment} causes (clicks it would have had anyway)"
                )
            sens = (self.sensitivity or {}).get(ch.treatment)
            if sens and sens.get("interpretation"):
                lines.append(f"    robustness: {sens['interpretation']}")
        return "\n".join(lines)


def roas_draws(scm: PosteriorSCM, channel: str, start: str | None = None, end: str | None = None) -> np.ndarray:
    """Total ROAS per draw over [start, end]: Σ(factual − do(channel = 0)) / Σ spend (the total contrast of :func:`channel_effects`)."""
    out = scm.spec.outcome
    mask = scm.window(start, end)
    spend = float(scm.data.column(channel)[mask].sum())
    if spend <= 0:
        raise QueryError(f"channel {channel!r} has no spend in {start or 'start'}..{end or 'end'}", hint="choose a window where it spends")
    cf = scm.simulate([Intervention(channel, "set", 0.0)], mask)[out]
    fact = np.broadcast_to(scm.series[out], cf.shape)
    return (fact[:, mask] - cf[:, mask]).sum(axis=1) * scm.spec.scales[out] / spend


def channel_effects(scm: PosteriorSCM, channel: str, *, outcome: str | None = None, start: str | None = None, end: str | None = None) -> ChannelEffects:
    """Total, path-specific, mROAS and cannibalisation for one channel."""
    out = outcome or scm.spec.outcome
    scm.check_nodes([Intervention(channel, "set", 0.0)], out)
    mask = scm.window(start, end)
    spend = float(scm.data.column(channel)[mask].sum())
    if spend <= 0:
        raise QueryError(f"channel {channel!r} has no spend in the window", hint="choose a window where it spends")
    off = [Intervention(channel, "set", 0.0)]
    fact = {k: np.broadcast_to(v, (scm.n_draws, scm.spec.n_periods)) for k, v in scm.series.items()}
    cf = scm.simulate(off, mask)
    y_fact = _window_sum(scm, fact, out, mask)
    contrib = y_fact - _window_sum(scm, cf, out, mask)
    over_time = (fact[out] - cf[out]) * scm.spec.scales[out]
    total = Effect(channel, "total", None, None, Summary.of(contrib), Summary.of(contrib / spend))
    paths = []
    path_sum = np.zeros_like(contrib)
    for path in causal_paths(scm, channel, out):
        edges = list(zip(path[:-1], path[1:]))
        y = _window_sum(scm, scm.simulate(off, mask, active_edges=edges), out, mask)
        c = y_fact - y
        path_sum = path_sum + c
        kind = "direct" if len(path) == 2 else "indirect"
        via = " -> ".join(path[1:-1]) or None
        paths.append(Effect(channel, kind, via, path, Summary.of(c), Summary.of(c / spend)))
    rest = contrib - path_sum
    if len(paths) > 1 and np.max(np.abs(rest)) > 1e-6 * max(1.0, float(np.max(np.abs(contrib)))):
        paths.append(Effect(channel, "interaction", None, None, Summary.of(rest), Summary.of(rest / spend)))
    up = scm.simulate([Intervention(channel, "scale", 1.01)], mask)
    mroas = Summary.of((_window_sum(scm, up, out, mask) - y_fact) / (0.01 * spend))
    changes = {
        n: Summary.of(_window_sum(scm, fact, n, mask) - _window_sum(scm, cf, n, mask)) for n in scm.spec.node_names if n != out and np.any(cf[n] != fact[n])
    }
    ch = ChannelEffects(channel, spend, total, paths, mroas, over_time, changes)
    ch.cannibalisation = _cannibalisation(scm, channel, fact, cf, mask)
    return ch


def _cannibalisation(scm: PosteriorSCM, channel: str, fact: dict, cf: dict, mask: np.ndarray) -> dict[str, Any] | None:
    """Share of the channel's own clicks that a negatively-linked mediator would have caught anyway.

    For each edge m1 -(negative)-> m2 where m1 is a child of the channel:
    share = −Δm2 / Δm1 under do(channel = 0), in the mediators' own units.
    """
    for n in scm.spec.nodes:
        for e in n.edges:
            if e.sign != "negative":
                continue
            m1, m2 = e.source, n.name
            child = scm.spec.node(m1) if m1 in scm.spec.node_names else None
            if child is None or channel not in child.causes:
                continue
            d1 = _window_sum(scm, fact, m1, mask) - _window_sum(scm, cf, m1, mask)
            d2 = _window_sum(scm, fact, m2, mask) - _window_sum(scm, cf, m2, mask)
            with np.errstate(divide="ignore", invalid="ignore"):
                share = np.where(d1 != 0, -d2 / d1, 0.0)
            return {
                "clicks_node": m1,
                "cannibalised": m2,
                "share": Summary.of(share).to_dict(),
                "clicks_caused": Summary.of(d1).to_dict(),
                "clicks_lost": Summary.of(-d2).to_dict(),
            }
    return None


def effects(
    scm: PosteriorSCM, channels: Sequence[str] | None = None, *, outcome: str | None = None, start: str | None = None, end: str | None = None
) -> EffectsReport:
    """Effects of every spend channel (default: spend nodes that are observed columns)."""
    chans = list(channels) if channels is not None else _spend_channels(scm)
    mask = scm.window(start, end)
    rows = [channel_effects(scm, c, outcome=outcome, start=start, end=end) for c in chans]
    return EffectsReport(outcome or scm.spec.outcome, rows, [str(d.date()) for d in scm.data.dates[mask]], [str(d.date()) for d in scm.data.dates])


def _spend_channels(scm: PosteriorSCM) -> list[str]:
    if scm.spend_nodes:
        return list(scm.spend_nodes)
    media_sources = []
    for n in scm.spec.nodes:
        for e in n.edges:
            if e.is_media and e.source not in media_sources:
                media_sources.append(e.source)
    return media_sources


def response_curve(
    scm: PosteriorSCM, channel: str, factors: Sequence[float] = (0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0), *, outcome: str | None = None
) -> dict[str, Any]:
    """Total outcome change vs total spend when the channel is scaled by each factor (whole DAG)."""
    out = outcome or scm.spec.outcome
    mask = np.ones(scm.spec.n_periods, dtype=bool)
    spend = float(scm.data.column(channel).sum())
    base = scm.series[out].sum() * scm.spec.scales[out]
    rows = []
    for f in factors:
        y = scm.simulate([Intervention(channel, "scale", float(f))], mask)[out].sum(axis=1) * scm.spec.scales[out]
        rows.append({"factor": float(f), "spend": spend * f, "effect": Summary.of(y - base).to_dict()})
    return {"channel": channel, "outcome": out, "points": rows}


def edge_contributions(effects_dict: dict[str, Any]) -> dict[tuple[str, str], float]:
    """Posterior-mean contribution carried by each spend channel's first edge, from ``EffectsReport.to_dict()``."""
    out: dict[tuple[str, str], float] = {}
    for e in effects_dict["effects"]:
        if e["kind"] in ("direct", "indirect") and e.get("path"):
            u, v = e["path"][0], e["path"][1]
            out[(u, v)] = out.get((u, v), 0.0) + e["contribution"]["mean"]
    return out


def edge_effects(run: Any) -> dict[tuple[str, str], float]:
    """Posterior-mean total contribution per spend edge, for `graph draw --run`."""
    return edge_contributions(effects(PosteriorSCM.from_run(run, max_draws=200)).to_dict())
