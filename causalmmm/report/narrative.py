"""The plain-language summary at the top of the report, written from the numbers (no LLM).

Every number in the text is formatted by :mod:`causalmmm.fmt` from the same
``effects`` / ``validation`` / ``identification`` dicts the CLI prints with
``--json``; tests re-derive them from ``causalmmm effects --json`` and compare.

The summary opens with "What to distrust" (:mod:`causalmmm.report.distrust`).
An experiment that conflicts with the model (inconsistent validation check or
an ``experiment_conflict`` warning) is never said to pin down, confirm or
support a channel: every sentence that leans on an experiment asks
:func:`trusted_calibrating` first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from causalmmm.fmt import num, pct, signed, signed_pct
from causalmmm.report.collect import ReportData
from causalmmm.report.distrust import DOUBT_SEVERITIES, NOTHING_TO_DISTRUST, ONLY_NOTES, conflicting_experiments, distrust_sentence, inconsistent

#: A budget move that changes the expected outcome by less than this share is reported as no change.
NEGLIGIBLE_CHANGE = 5e-4
#: Topic of the summary's first block (html renders these points under their own heading).
DISTRUST = "What to distrust"
NOTES = "Notes"

#: Break-even ROAS: one unit of outcome per unit of spend (the outcome is assumed to be in the spend's currency).
BREAK_EVEN = 1.0


@dataclass(frozen=True)
class Point:
    """One bullet of the narrative: a short topic and a sentence or two."""

    topic: str
    text: str


def fmt_ratio(s: Mapping[str, float]) -> str:
    """``2.31 (94% HDI 1.9 to 2.7)`` (three significant digits at any scale)."""
    return f"{num(s['mean'])} (94% HDI {num(s['hdi_low'])} to {num(s['hdi_high'])})"


def fmt_share(s: Mapping[str, float]) -> str:
    """``41% (94% HDI 30% to 52%)``."""
    return f"{pct(s['mean'])} (94% HDI {pct(s['hdi_low'])} to {pct(s['hdi_high'])})"


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


def conflicts(d: ReportData) -> dict[str, str]:
    """Experiments that conflict with the model (name → why), from the validation and the warnings."""
    return conflicting_experiments(d.validation, d.warnings)


def trusted_calibrating(d: ReportData) -> tuple[dict[str, list[dict[str, Any]]], dict[str, list[dict[str, Any]]]]:
    """Calibrating experiments per treatment, split into (not conflicting, conflicting with the model)."""
    bad = conflicts(d)
    good: dict[str, list[dict[str, Any]]] = {}
    doubtful: dict[str, list[dict[str, Any]]] = {}
    for c, exps in _calibrating(d).items():
        for e in exps:
            (doubtful if e["name"] in bad else good).setdefault(c, []).append(e)
    return good, doubtful


def _names(exps: list[dict[str, Any]]) -> str:
    return ", ".join(e["name"] for e in exps)


def _conflict_clause(d: ReportData, exps: list[dict[str, Any]]) -> str:
    """``the calibrating experiment social_lift (z = +3.5) conflicts with the model`` (one channel's doubtful experiments)."""
    why = conflicts(d)
    parts = ", ".join(f"{e['name']} ({why.get(e['name'], 'flagged')})" for e in exps)
    plural = len(exps) > 1
    return f"the calibrating experiment{'s' if plural else ''} {parts} conflict{'' if plural else 's'} with the model"


def distrust_points(d: ReportData) -> list[Point]:
    """The summary's first block: every high or medium warning, most severe first, each with its fix (or one
    sentence saying there are none), then the low-severity ones as notes."""
    doubts = [w for w in d.warnings if w.severity in DOUBT_SEVERITIES]
    notes = [Point(NOTES, distrust_sentence(w)) for w in d.warnings if w.severity not in DOUBT_SEVERITIES]
    if doubts:
        return [Point(DISTRUST, distrust_sentence(w)) for w in doubts] + notes
    return [Point(DISTRUST, ONLY_NOTES if notes else NOTHING_TO_DISTRUST)] + notes


def _channel_ident(d: ReportData, channel: str) -> dict[str, Any] | None:
    return next((c for c in d.identification["channels"] if c["treatment"] == channel), None)


def overview(d: ReportData) -> Point:
    outcome_fit = next((f for f in d.node_fits if f.node == d.outcome), None)
    total = sum(d.total(c)["contribution"]["mean"] for c in d.channels)
    share = ""
    if outcome_fit is not None and outcome_fit.observed.sum() > 0:
        share = f", {pct(total / outcome_fit.observed.sum())} of all {d.outcome}"
    return Point(
        "Overview",
        f"{d.n_periods} periods from {d.start} to {d.end}. Together the {len(d.channels)} spend channels "
        f"caused about {num(total)} {d.outcome}{share} (posterior mean; each channel's effect includes "
        "everything it does through other nodes).",
    )


def channel_points(d: ReportData) -> list[Point]:
    _, doubtful = trusted_calibrating(d)
    pts = []
    for c in d.channels:
        roas = d.total(c)["roas"]
        mroas = d.effects["channels"][c]["mroas"]
        text = f"{c} {payback_verdict(roas)}: each unit spent returned {fmt_ratio(roas)} {d.outcome}."
        if mroas["mean"] < 0.7 * roas["mean"]:
            text += f" It is saturating: the next unit returns only {fmt_ratio(mroas)}."
        else:
            text += f" The next unit returns {fmt_ratio(mroas)}."
        if c in doubtful:
            text += f" Distrust this number: {_conflict_clause(d, doubtful[c])}."
        pts.append(Point("Payback", text))
    return pts


def cannibalisation_points(d: ReportData) -> list[Point]:
    pts = []
    for c in d.channels:
        can = d.effects["channels"][c].get("cannibalisation")
        if not can:
            continue
        pts.append(
            Point(
                "Cannibalisation",
                f"{fmt_share(can['share'])} of the {can['clicks_node']} that {c} causes would have come as "
                f"{can['cannibalised']} anyway. {c}'s ROAS above is net of these lost {can['cannibalised']}.",
            )
        )
    return pts


def evidence_points(d: ReportData) -> list[Point]:
    cal, doubtful = trusted_calibrating(d)
    on_exp, on_graph, unchecked, contested = [], [], [], []
    for c in d.channels:
        ident = _channel_ident(d, c) or {}
        if c in doubtful:
            contested.append(f"{c}, because {_conflict_clause(d, doubtful[c])}")
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
    if contested:
        parts.append(f"Contested: {'; '.join(contested)}.")
    return [Point("Evidence", " ".join(parts))] if parts else []


def identification_points(d: ReportData) -> list[Point]:
    cal, doubtful = trusted_calibrating(d)
    pts = []
    for ident in d.identification["channels"]:
        if ident["identifiable"]:
            continue
        c = ident["treatment"]
        confs = ", ".join(ident.get("latent_confounders") or []) or "an unmeasured common cause"
        if c in cal:
            tail = f"here the experiment{'s' if len(cal[c]) > 1 else ''} {_names(cal[c])} pin{'' if len(cal[c]) > 1 else 's'} it down."
            if c in doubtful:
                tail += f" But {_conflict_clause(d, doubtful[c])} (see What to distrust)."
        elif c in doubtful:
            tail = f"{_conflict_clause(d, doubtful[c])}, so its number is unsettled: do not act on it until the conflict is explained."
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
    bad_names = conflicts(d)
    holdouts = [e for e in exps if not e.get("calibrated")]
    cal_bad = [e for e in exps if e.get("calibrated") and e["name"] in bad_names]

    def disagreement(e: Mapping[str, Any]) -> str:
        return (
            f" {e['name']} does not agree: measured {num(e['measured'])} ± {num(e['measured_se'])}, predicted {num(e['predicted']['mean'])} (z = {e['z']:+.2f})"
        )

    if not holdouts:
        n_ok = len(exps) - len(cal_bad)
        text = (
            f"All {len(exps)} experiments were used to calibrate the model; {n_ok} of them agree with the fit, which is expected "
            "and proves little. Keep the next experiment as a holdout."
        )
    else:
        bad = [e for e in holdouts if e["name"] in bad_names]
        text = f"{len(holdouts) - len(bad)} of {len(holdouts)} experiments the model did not see agree with its prediction (|z| < 2)."
        for e in bad:
            text += disagreement(e) + f"; the graph or a prior around {e['name']}'s treatment may be wrong."
    for e in cal_bad:
        if inconsistent(e):
            text += disagreement(e) + ", although it calibrates the model: the fit and the experiment fight, so the channel it measures is unsettled."
        else:
            text += (
                f" {e['name']} is matched in-sample (z = {e['z']:+.2f}) only because it calibrates the model; the rest of the model "
                "disagrees with it (see What to distrust)."
            )
    return [Point("Validation", text)]


def residual_point(d: ReportData) -> Point | None:
    """Missing-edge hints from the residual diagnostics, if any."""
    hints = d.residuals.get("hints", [])
    if not hints:
        return None
    shown = "; ".join(h["suggestion"] for h in hints[:3])
    more = f" (and {len(hints) - 3} more in the residual diagnostics)" if len(hints) > 3 else ""
    return Point("Graph check", f"The residuals suggest the graph may miss something: {shown}{more}.")


def planned_experiment(plan: Mapping[str, Any], outcome: str) -> Point | None:
    """The planner's top pick in words, with its numbers (expected ROAS sd before → after, cost, EVSI)."""
    if not plan or not plan.get("candidates"):
        return None
    top = plan["candidates"][0]
    cur, exp = top["current_sd"], top["expected_sd"]
    ch = max(cur, key=lambda c: (1 - exp[c] / cur[c]) if cur[c] > 0 else 0.0)
    cost = top["cost"]
    # EVSI is exactly 0 when no possible result would change the recommended budget: say that, not "0 sales".
    value = (
        f"the value of its information for the budget is {num(top['evsi'])} {outcome}"
        if top["evsi"] > 0
        else "no result it could give would change the recommended budget, so its value is the sharper ROAS, not a better allocation"
    )
    return Point(
        "Next experiment",
        f"Run {top['name']}: a {top['design'].replace('_', '-')} of {top['treatment']} ({top['intervention']}) from {top['start']} to {top['end']}, "
        f"measured on {' + '.join(top['measured'])}. The planner expects it to bring the sd of {ch}'s ROAS from {num(cur[ch])} to {num(exp[ch])}, "
        f"at a spend change of {signed(cost['spend_change'])} and an expected {outcome} change of {signed(cost['outcome_change'])} "
        f"(net cost {signed(cost['net'])}); {value} "
        f"(best of {plan['n_scored']} candidates; `causalmmm plan` ranks them).",
    )


def next_experiment(d: ReportData) -> Point:
    """Recommend the experiment that would remove the most doubt: the planner's top pick when the planner ran.

    Otherwise a rule of thumb: a channel that is not identified and not calibrated; else the
    uncalibrated channel with the widest ROAS HDI relative to its mean.
    """
    planned = planned_experiment(d.plan or {}, d.outcome)
    if planned is not None:
        return planned
    cal, doubtful = trusted_calibrating(d)
    candidates = [c for c in d.channels if c not in cal] or list(d.channels)
    unidentified = [c for c in candidates if not (_channel_ident(d, c) or {}).get("identifiable", True)]

    def rel_width(c: str) -> float:
        r = d.total(c)["roas"]
        return (r["hdi_high"] - r["hdi_low"]) / max(abs(r["mean"]), 1e-9)

    contested = [c for c in candidates if c in doubtful]
    pick = unidentified[0] if unidentified else (contested[0] if contested else max(candidates, key=rel_width))
    if pick in doubtful:
        why = f"{_conflict_clause(d, doubtful[pick])}; an independent test would settle which is right"
    elif unidentified:
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
    moves = [f"{c} {num(same['current_allocation'][c])} → {num(v)}" for c, v in same["allocation"].items()]
    base = same["current_outcome"]["mean"]
    head = f"With the same budget of {num(same['budget'])} per period over the last {same['periods']} periods, moving spend ({'; '.join(moves)})"
    if base and abs(gain / base) < NEGLIGIBLE_CHANGE:
        return Point("Budget", f"{head} would leave expected {d.outcome} as it is (within {pct(NEGLIGIBLE_CHANGE)}): the current split is close to the best.")
    rel = f" ({signed_pct(gain / base)})" if base else ""
    return Point("Budget", f"{head} would change expected {d.outcome} by about {signed(gain)}{rel}.")


def narrative(d: ReportData) -> list[Point]:
    """The report's summary, in reading order."""
    pts = distrust_points(d)
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
