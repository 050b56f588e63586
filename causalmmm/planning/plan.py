"""The experiment planner: rank candidate experiments by what they would teach the fitted model.

For every candidate (see :mod:`causalmmm.planning.candidates`) the planner computes, over the posterior
draws: the model-implied estimand per draw (the calibration contrast, through
:func:`causalmmm.validation.experiments.predict_experiment`), the design's standard error
(:mod:`causalmmm.planning.noise`), the expected posterior sd of every channel's total ROAS after the
experiment and the expected value of its information for the budget decision (:mod:`.preposterior`),
and its cost. The ranking rule is :data:`SCORE_RULE`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Sequence

import numpy as np

from causalmmm.errors import QueryError
from causalmmm.fmt import num, pct, signed
from causalmmm.planning.candidates import Candidate, default_candidates
from causalmmm.planning.noise import MAX_PRE, measurement_se
from causalmmm.planning.preposterior import MIN_ESS, Preposterior, closed_form_sd
from causalmmm.query.do import PosteriorSCM, Summary
from causalmmm.query.effects import roas_draws
from causalmmm.query.optimize import BudgetProblem, optimize_budget
from causalmmm.validation.experiments import predict_experiment

SCORE_RULE = (
    "score = EVSI − max(net cost, 0) in outcome units (net cost = spend change − expected outcome change; a test that pays "
    "for itself costs 0); scores within 0.1% of the planning window's expected outcome are tied and the tie goes to the "
    "largest sd reduction (Σ over channels of 1 − expected sd / current sd)"
)
#: Scores closer than this share of the planning window's expected outcome count as tied.
TIE_SHARE = 1e-3
#: Budget moves tried besides the current and the optimised split: this share of a channel's spend moved out or in.
PERTURBATION = 0.2


@dataclass
class Evaluation:
    """One candidate's numbers."""

    name: str
    design: str
    treatment: str
    intervention: str
    measured: tuple[str, ...]
    start: str
    end: str
    periods: int
    share: float
    se: float
    implied: Summary
    implied_sd: float
    expected_sd: dict[str, float]
    current_sd: dict[str, float]
    closed_form_sd: dict[str, float]
    ess: float
    method: str
    cost: dict[str, float]
    evsi: float
    score: float = 0.0
    rank: int = 0

    @property
    def sd_reduction(self) -> float:
        """Σ over channels of 1 − expected sd / current sd (0 = teaches nothing)."""
        return float(sum(1 - self.expected_sd[c] / s for c, s in self.current_sd.items() if s > 0))

    def to_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "name": self.name,
            "design": self.design,
            "treatment": self.treatment,
            "intervention": self.intervention,
            "measured": list(self.measured),
            "start": self.start,
            "end": self.end,
            "periods": self.periods,
            "share": self.share,
            "se": self.se,
            "implied": {**self.implied.to_dict(), "sd": self.implied_sd},
            "expected_sd": self.expected_sd,
            "current_sd": self.current_sd,
            "closed_form_sd": self.closed_form_sd,
            "sd_reduction": self.sd_reduction,
            "ess": self.ess,
            "method": self.method,
            "cost": self.cost,
            "evsi": self.evsi,
            "score": self.score,
        }


@dataclass
class PlanReport:
    """Ranked candidates (best first), the current ROAS sds and how the ranking was made."""

    candidates: list[Evaluation]
    current_sd: dict[str, float]
    current_roas: dict[str, float]
    outcome: str
    horizon: int
    allocations: list[dict[str, float]]
    n_draws: int
    n_scored: int
    jitter: dict[str, Any] | None = None
    schedule: Any = None  # the jitter schedule (a DataFrame), not part of to_dict()
    score_rule: str = SCORE_RULE
    warnings: list[str] = field(default_factory=list)

    @property
    def top(self) -> Evaluation | None:
        return self.candidates[0] if self.candidates else None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "candidates": [c.to_dict() for c in self.candidates],
            "current_sd": self.current_sd,
            "current_roas": self.current_roas,
            "outcome": self.outcome,
            "horizon": self.horizon,
            "allocations": self.allocations,
            "n_draws": self.n_draws,
            "n_scored": self.n_scored,
            "score_rule": self.score_rule,
            "notes": list(self.warnings),
        }
        if self.jitter is not None:
            out["jitter"] = self.jitter
        return out

    def table(self) -> Any:
        return plan_table(self.to_dict())

    def _repr_html_(self) -> str:
        return self.table().to_html()

    def to_text(self) -> str:
        lines = [f"{self.n_scored} candidate experiments scored on {self.n_draws} posterior draws; best first ({self.score_rule})."]
        lines.append("current ROAS sd: " + ", ".join(f"{c} {num(s)}" for c, s in self.current_sd.items()))
        for c in self.candidates:
            moved = max(c.current_sd, key=lambda ch: (1 - c.expected_sd[ch] / c.current_sd[ch]) if c.current_sd[ch] > 0 else 0.0)
            lines.append(
                f"{c.rank:>2}. {c.name}: {c.design}, {c.treatment} {c.intervention}, {c.start}..{c.end} ({c.periods} periods), "
                f"measured on {' + '.join(c.measured)} (se {num(c.se)})"
            )
            lines.append(
                f"    {moved} ROAS sd {num(c.current_sd[moved])} → {num(c.expected_sd[moved])}; spend change {signed(c.cost['spend_change'])}, "
                f"{self.outcome} change {signed(c.cost['outcome_change'])}, net cost {signed(c.cost['net'])}; EVSI {num(c.evsi)}; score {signed(c.score)}"
            )
        if self.jitter is not None:
            j = self.jitter
            lines.append(
                f"spend jitter on {j['channel']} (±{pct(j['jitter'])} for {j['weeks']} periods, seed {j['seed']}): {j['channel']} ROAS sd "
                f"{num(j['current_sd'][j['channel']])} → {num(j['expected_sd'][j['channel']])} ({j['method']})"
            )
        lines += [f"note: {w}" for w in self.warnings]
        return "\n".join(lines)


def plan_table(payload: dict[str, Any]) -> Any:
    """The ranked candidates of a ``PlanReport.to_dict()`` as a :class:`causalmmm.tables.Table` (Jupyter and the report)."""
    from causalmmm.tables import Table, fmt_num

    t = Table(
        ["rank", "candidate", "design", "window", "measured", "se", "ROAS sd now → after", "net cost", "EVSI", "score"],
        caption=f"Candidate experiments ranked ({payload['n_scored']} scored; {payload['score_rule']})",
    )
    for c in payload["candidates"]:
        sds = "; ".join(f"{ch}: {num(s)} → {num(c['expected_sd'][ch])}" for ch, s in c["current_sd"].items())
        window = f"{c['start']}..{c['end']}"
        t.rows.append(
            [
                c["rank"],
                c["name"],
                c["design"],
                window,
                " + ".join(c["measured"]),
                fmt_num(c["se"]),
                sds,
                fmt_num(c["cost"]["net"]),
                fmt_num(c["evsi"]),
                fmt_num(c["score"]),
            ]
        )
    return t


# ------------------------------------------------------------------ the pieces


def channels_roas_draws(scm: PosteriorSCM, channels: Sequence[str]) -> np.ndarray:
    """Total ROAS per draw and channel over the data period, (K, C)."""
    return np.column_stack([roas_draws(scm, c) for c in channels])


def allocations(scm: PosteriorSCM, channels: Sequence[str], periods: int, optimal: dict[str, float] | None = None) -> tuple[list[np.ndarray], BudgetProblem]:
    """The current split, the optimiser's split, their midpoint and ±PERTURBATION moves of each channel's spend."""
    prob = BudgetProblem(scm, channels, periods)
    cur = prob.current
    budget = float(cur.sum())
    if optimal is None:
        optimal = optimize_budget(scm, budget, periods=periods, channels=channels).allocation
    best = np.array([optimal[c] for c in channels])
    out = [cur, best, 0.5 * (cur + best)]
    for i in range(len(channels)):
        for sign in (-1.0, 1.0):
            moved = PERTURBATION * cur[i]
            others = cur.sum() - cur[i]
            if moved <= 0 or others <= 0:
                continue
            a = cur - sign * moved * cur / others
            a[i] = cur[i] + sign * moved
            if np.all(a >= 0):
                out.append(a)
    return out, prob


def candidate_cost(scm: PosteriorSCM, cand: Candidate, mask: np.ndarray) -> dict[str, float]:
    """Spend change in the window and expected outcome change (window sum, posterior mean), both scaled by the
    design's reach; ``net = spend change − outcome change`` (the outcome valued at one unit of spend)."""
    e = cand.experiment
    x = np.asarray(scm.data.column(e.treatment), dtype=float)
    new = np.asarray(e.intervention.apply(x, mask), dtype=float)
    spend = float((new - x)[mask].sum()) * cand.reach
    outcome = replace(e, measured=(scm.spec.outcome,), unit="total")
    change = float(np.mean(predict_experiment(scm, outcome))) * cand.reach
    return {"spend_change": spend, "outcome_change": change, "net": spend - change}


def _n_pre(scm: PosteriorSCM, mask: np.ndarray) -> int:
    return int(min(MAX_PRE, int(np.argmax(mask))))


def evaluate(
    name: str,
    fields: dict[str, Any],
    implied: np.ndarray,
    se: float,
    roas: np.ndarray,
    utility: np.ndarray,
    channels: Sequence[str],
    cost: dict[str, float],
    rng: np.random.Generator,
    n_true: int,
) -> Evaluation:
    """The preposterior numbers of one measurement ``implied ± se``."""
    pre = Preposterior.simulate(implied, se, n_true, rng)
    closed = closed_form_sd(roas, implied, se)
    degenerate = pre.ess < MIN_ESS
    expected = closed if degenerate else pre.expected_sd(roas)
    current = roas.std(axis=0)
    return Evaluation(
        name=name,
        **fields,
        se=float(se),
        implied=Summary.of(implied),
        implied_sd=float(np.std(implied)),
        expected_sd={c: float(v) for c, v in zip(channels, expected)},
        current_sd={c: float(v) for c, v in zip(channels, current)},
        closed_form_sd={c: float(v) for c, v in zip(channels, closed)},
        ess=pre.ess,
        method="linear-gaussian" if degenerate else "importance",
        cost=cost,
        evsi=pre.evsi(utility),
    )


def rank(evals: list[Evaluation], tie: float) -> list[Evaluation]:
    """Best first by :data:`SCORE_RULE`."""
    for e in evals:
        e.score = e.evsi - max(e.cost["net"], 0.0)
    tie = max(tie, 1e-300)
    ordered = sorted(evals, key=lambda e: (-np.floor(e.score / tie), -e.sd_reduction, e.name))
    for i, e in enumerate(ordered, 1):
        e.rank = i
    return ordered


@dataclass
class Context:
    """What every candidate's evaluation reuses: channels, ROAS draws, utilities, planning horizon."""

    scm: PosteriorSCM
    channels: list[str]
    roas: np.ndarray
    utility: np.ndarray
    allocs: list[np.ndarray]
    horizon: int
    tie: float


def context(scm: PosteriorSCM, channels: Sequence[str] | None = None, *, periods: int | None = None, optimal: dict[str, float] | None = None) -> Context:
    chans = [c for c in (channels or scm.spend_nodes) if float(scm.data.column(c).sum()) > 0]
    if not chans:
        raise QueryError("no spend channel with spend to plan an experiment on", hint="the graph needs spend nodes with positive spend")
    horizon = periods or min(52, scm.spec.n_periods)
    allocs, prob = allocations(scm, chans, horizon, optimal)
    utility = np.vstack([prob.outcome_draws(a) for a in allocs])
    return Context(scm, chans, channels_roas_draws(scm, chans), utility, allocs, horizon, TIE_SHARE * abs(float(utility[0].mean())))


def evaluate_candidate(ctx: Context, cand: Candidate, rng: np.random.Generator, n_true: int) -> Evaluation:
    scm, e = ctx.scm, cand.experiment
    mask = scm.window(str(e.start.date()), str(e.end.date()))
    n = int(mask.sum())
    implied = predict_experiment(scm, e)
    se = measurement_se(scm, cand, n, _n_pre(scm, mask))
    fields = {
        "design": e.design,
        "treatment": e.treatment,
        "intervention": cand.intervention_text,
        "measured": e.measured,
        "start": str(e.start.date()),
        "end": str(e.end.date()),
        "periods": n,
        "share": cand.share,
    }
    return evaluate(e.name, fields, implied, se, ctx.roas, ctx.utility, ctx.channels, candidate_cost(scm, cand, mask), rng, n_true)


def finite_subset(scm: PosteriorSCM, max_draws: int, seed: int) -> PosteriorSCM:
    """At most ``max_draws`` draws (seeded), without draws holding non-finite parameters."""
    ok = np.ones(scm.n_draws, dtype=bool)
    for v in scm.draws.values():
        a = np.asarray(v, dtype=float)
        ok &= np.isfinite(a.reshape(len(a), -1)).all(axis=1)
    idx = np.flatnonzero(ok)
    if len(idx) > max_draws:
        idx = np.sort(np.random.default_rng(seed).choice(idx, max_draws, replace=False))
    if len(idx) < 2:
        raise QueryError("fewer than two posterior draws with finite parameters", hint="refit the model (see the nonfinite_draws warning)")
    return scm if len(idx) == scm.n_draws else scm.subset(idx)


def plan(
    scm: PosteriorSCM,
    candidates: Sequence[Candidate] | None = None,
    *,
    top: int | None = 10,
    seed: int = 0,
    n_true: int = 200,
    max_draws: int = 500,
    periods: int | None = None,
    optimal: dict[str, float] | None = None,
    jitter: Any = None,
) -> PlanReport:
    """Score and rank ``candidates`` (default: :func:`default_candidates`); keep the ``top`` best. ``jitter``: a
    schedule from :func:`causalmmm.planning.jitter.jitter_frame`, whose value is reported beside the ranking."""
    scm = finite_subset(scm, max_draws, seed)
    ctx = context(scm, periods=periods, optimal=optimal)
    cands = list(candidates) if candidates is not None else default_candidates(scm.spec, scm.data, ctx.channels)
    rng = np.random.default_rng(seed)
    evals = [evaluate_candidate(ctx, c, rng, n_true) for c in cands]
    ranked = rank(evals, ctx.tie)
    notes = []
    degenerate = [e.name for e in ranked if e.method != "importance"]
    if degenerate:
        notes.append(
            f"{len(degenerate)} candidate(s) would measure far more precisely than the posterior knows (effective sample size < {MIN_ESS:g}): "
            "their expected sd is the linear-Gaussian closed form"
        )
    jitter_info = None
    if jitter is not None:
        from causalmmm.planning.jitter import jitter_value

        mult = jitter["multiplier"].to_numpy()
        jitter_info = {
            "channel": str(jitter["channel"].iloc[0]),
            "weeks": len(jitter),
            "jitter": float(np.max(np.abs(mult - 1))),
            "seed": seed,
            **jitter_value(ctx, jitter, rng=np.random.default_rng(seed), n_true=n_true),
        }
    return PlanReport(
        candidates=ranked[:top] if top else ranked,
        current_sd={c: float(v) for c, v in zip(ctx.channels, ctx.roas.std(axis=0))},
        current_roas={c: float(v) for c, v in zip(ctx.channels, ctx.roas.mean(axis=0))},
        outcome=scm.spec.outcome,
        horizon=ctx.horizon,
        allocations=[{c: float(v) for c, v in zip(ctx.channels, a)} for a in ctx.allocs],
        n_draws=scm.n_draws,
        n_scored=len(evals),
        jitter=jitter_info,
        schedule=jitter,
        warnings=notes,
    )
