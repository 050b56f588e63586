"""The plain-language summary at the top of the report, written from the numbers (no LLM).

Every number in the text is formatted by the helpers below from the same
``effects`` / ``validation`` / ``identification`` dicts the CLI prints with
``--json``; tests re-derive them from ``causalmmm effects --json`` and compare.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from causalmmm.report.collect import ReportData

#: Break-even ROAS: one unit of outcome per unit of spend (the outcome is assumed to be in the spend's currency).
BREAK_EVEN = 1.0


@dataclass(frozen=True)
class Point:
    """One bullet of the narrative: a short topic and a sentence or two."""

    topic: str
    text: str


def fmt_ratio(s: Mapping[str, float]) -> str:
    """``2.31 (94% HDI 1.90 to 2.70)``."""
    return f"{s['mean']:.2f} (94% HDI {s['hdi_low']:.2f} to {s['hdi_high']:.2f})"


def fmt_share(s: Mapping[str, float]) -> str:
    """``41% (94% HDI 30% to 52%)``."""
    return f"{s['mean']:.0%} (94% HDI {s['hdi_low']:.0%} to {s['hdi_high']:.0%})"


def payback_verdict(roas: Mapping[str, float]) -> str:
    """'pays back', 'does not pay back' or 'is uncertain' from the 94% HDI against break-even."""
    if roas["hdi_low"] > BREAK_EVEN:
        return "pays back"
    if roas["hdi_high"] < BREAK_EVEN:
        return "does not pay back"
    return "may or may not pay back"


def _calibrating(d: ReportData) -> dict[str, list[dict[str, Any]]]:
    """Calibrating experiments per treatment node."""
    out: dict[str, list[dict[str, Any]]] = {}
    for e in d.experiments:
        if e.get("calibrated"):
            out.setdefault(e["treatment"], []).append(e)
    return out


def _channel_ident(d: ReportData, channel: str) -> dict[str, Any] | None:
    return next((c for c in d.identification["channels"] if c["treatment"] == channel), None)


def overview(d: ReportData) -> Point:
    outcome_fit = next((f for f in d.node_fits if f.node == d.outcome), None)
    total = sum(d.total(c)["contribution"]["mean"] for c in d.channels)
    share = ""
    if outcome_fit is not None and outcome_fit.observed.sum() > 0:
        share = f", {total / outcome_fit.observed.sum():.0%} of all {d.outcome}"
    return Point("Overview", f"{d.n_periods} periods from {d.start} to {d.end}. Together the {len(d.channels)} spend channels "
                             f"caused about {total:,.0f} {d.outcome}{share} (posterior mean; each channel's effect includes "
                             "everything it does through other nodes).")


def channel_points(d: ReportData) -> list[Point]:
    pts = []
    for c in d.channels:
        roas = d.total(c)["roas"]
        mroas = d.effects["channels"][c]["mroas"]
        text = f"{c} {payback_verdict(roas)}: each unit spent returned {fmt_ratio(roas)} {d.outcome}."
        if mroas["mean"] < 0.7 * roas["mean"]:
            text += f" It is saturating: the next unit returns only {fmt_ratio(mroas)}."
        else:
            text += f" The next unit returns {fmt_ratio(mroas)}."
        pts.append(Point("Payback", text))
    return pts


def cannibalisation_points(d: ReportData) -> list[Point]:
    pts = []
    for c in d.channels:
        can = d.effects["channels"][c].get("cannibalisation")
        if not can:
            continue
        pts.append(Point("Cannibalisation", f"{fmt_share(can['share'])} of the {can['clicks_node']} that {c} causes would have come as "
                                            f"{can['cannibalised']} anyway. {c}'s ROAS above is net of these lost {can['cannibalised']}."))
    return pts


def evidence_points(d: ReportData) -> list[Point]:
    cal = _calibrating(d)
    on_exp, on_graph, unchecked = [], [], []
    for c in d.channels:
        ident = _channel_ident(d, c) or {}
        if c in cal:
            on_exp.append(f"{c} (" + "; ".join(f"{e['name']}, a {e['design']} measured on {' + '.join(e['measured'])}" for e in cal[c]) + ")")
        elif ident.get("identifiable"):
            adj = ident.get("adjustment_set")
            on_graph.append(f"{c} (no unmeasured common cause of {c} and {d.outcome} {'given ' + ', '.join(adj) if adj else 'at all'})")
        else:
            unchecked.append(c)
    parts = []
    if on_exp:
        parts.append(f"Resting on experiments: {', '.join(on_exp)}.")
    if on_graph:
        parts.append(f"Resting on the graph's assumptions only: {', '.join(on_graph)}; the declared edges must be right.")
    if unchecked:
        parts.append(f"Resting on untestable assumptions: {', '.join(unchecked)} (see below).")
    return [Point("Evidence", " ".join(parts))] if parts else []


def identification_points(d: ReportData) -> list[Point]:
    cal = _calibrating(d)
    pts = []
    for ident in d.identification["channels"]:
        if ident["identifiable"]:
            continue
        c = ident["treatment"]
        confs = ", ".join(ident.get("latent_confounders") or []) or "an unmeasured common cause"
        if c in cal:
            tail = f"here the experiment{'s' if len(cal[c]) > 1 else ''} {', '.join(e['name'] for e in cal[c])} pin{'' if len(cal[c]) > 1 else 's'} it down."
        else:
            tail = "no experiment calibrates it, so its number is a guess shaped by the priors: do not act on it alone."
        pts.append(Point("Not identified", f"{c}'s effect on {d.outcome} is not identified from observational data ({confs} drives both); {tail}"))
    if not pts:
        pts.append(Point("Identification", "Every channel's total effect is identified from the data under the declared graph."))
    return pts


def validation_points(d: ReportData) -> list[Point]:
    if not d.validation:
        return [Point("Validation", "No experiments were given to the report, so nothing checks the model against an experiment it did not see.")]
    exps = d.validation["experiments"]
    holdouts = [e for e in exps if not e.get("calibrated")]
    if not holdouts:
        return [Point("Validation", f"All {len(exps)} experiments were used to calibrate the model, so agreement with them proves little; "
                                    "keep the next experiment as a holdout.")]
    bad = [e for e in holdouts if not e["consistent"]]
    text = f"{len(holdouts) - len(bad)} of {len(holdouts)} experiments the model did not see agree with its prediction (|z| < 2)."
    for e in bad:
        text += (f" {e['name']} does not: measured {e['measured']:,.1f} ± {e['measured_se']:,.1f}, predicted {e['predicted']['mean']:,.1f} "
                 f"(z = {e['z']:+.2f}); the graph or a prior around {e['name']}'s treatment may be wrong.")
    return [Point("Validation", text)]


def residual_point(d: ReportData) -> Point | None:
    """Missing-edge hints from the residual diagnostics, if any."""
    hints = d.residuals.get("hints", [])
    if not hints:
        return None
    shown = "; ".join(h["suggestion"] for h in hints[:3])
    more = f" (and {len(hints) - 3} more in the residual diagnostics)" if len(hints) > 3 else ""
    return Point("Graph check", f"The residuals suggest the graph may miss something: {shown}{more}.")


def next_experiment(d: ReportData) -> Point:
    """Recommend the experiment that would remove the most doubt.

    Priority: a channel that is not identified and not calibrated; otherwise the
    uncalibrated channel with the widest ROAS HDI relative to its mean.
    """
    cal = _calibrating(d)
    candidates = [c for c in d.channels if c not in cal] or list(d.channels)
    unidentified = [c for c in candidates if not (_channel_ident(d, c) or {}).get("identifiable", True)]

    def rel_width(c: str) -> float:
        r = d.total(c)["roas"]
        return (r["hdi_high"] - r["hdi_low"]) / max(abs(r["mean"]), 1e-9)

    pick = unidentified[0] if unidentified else max(candidates, key=rel_width)
    if unidentified:
        why = "its effect is not identified from the data"
        if pick in cal:
            why += f" and rests on {', '.join(e['name'] for e in cal[pick])} alone; a second, independent test would check it"
    else:
        why = f"its ROAS is the least certain ({fmt_ratio(d.total(pick)['roas'])})"
    ident = _channel_ident(d, pick) or {}
    exps = ident.get("experiments_that_identify") or [f"a randomised test on {pick} measured on {d.outcome}"]
    return Point("Next experiment", f"Run {exps[0]}, because {why}.")


def budget_point(d: ReportData) -> Point | None:
    if not d.scenarios:
        return None
    cur_total = sum(d.scenarios[0]["current_allocation"].values())
    same = min(d.scenarios, key=lambda s: abs(s["budget"] - cur_total))
    gain = same["expected_outcome"]["mean"] - same["current_outcome"]["mean"]
    moves = [f"{c} {same['current_allocation'][c]:,.0f} → {v:,.0f}" for c, v in same["allocation"].items()]
    base = same["current_outcome"]["mean"]
    pct = f" ({gain / base:+.1%})" if base else ""
    return Point("Budget", f"With the same budget of {same['budget']:,.0f} per period over the last {same['periods']} periods, "
                           f"moving spend ({'; '.join(moves)}) would change expected {d.outcome} by about {gain:+,.0f}{pct}.")


def convergence_point(d: ReportData) -> Point | None:
    """Warn when the sampler did not converge (R-hat, divergences); note when effective draws are merely few."""
    diags = d.summary.get("diagnostics", [])
    bad = [x["node"] for x in diags if (x.get("r_hat_max") or 1.0) > 1.05 or x.get("divergences", 0) > 0]
    if bad:
        return Point("Warning", f"The sampler did not converge for {', '.join(bad)} (R-hat above 1.05 or divergences): every number "
                                "here is provisional. Refit with more --tune/--draws (see the diagnostics table).")
    few = [x["node"] for x in diags if x.get("warnings")]
    if few:
        return Point("Precision", f"The sampler converged but left few effective draws or a borderline R-hat for {', '.join(few)}: "
                                  "the intervals are rough. Refit with more --draws/--chains for a final report.")
    return None


def narrative(d: ReportData) -> list[Point]:
    """The report's summary, in reading order."""
    pts: list[Point] = [p for p in [convergence_point(d)] if p]
    pts.append(overview(d))
    pts += channel_points(d)
    pts += cannibalisation_points(d)
    pts += evidence_points(d)
    pts += identification_points(d)
    pts += validation_points(d)
    pts += [p for p in [residual_point(d)] if p]
    pts.append(next_experiment(d))
    pts += [p for p in [budget_point(d)] if p]
    return pts
