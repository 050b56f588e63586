"""Gather every number the report shows, once, from a run (and optionally experiments).

:class:`ReportData` holds plain dicts (the same ``to_dict()`` payloads the CLI
prints with ``--json``) plus a few arrays for the figures. The narrative, the
tables and the figures all read from it, so the words and the tables cannot
disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from causalmmm.query.do import PosteriorSCM


@dataclass
class NodeFit:
    """Observed vs posterior-predictive series of one modelled node (data units)."""

    node: str
    dates: np.ndarray
    observed: np.ndarray
    fitted: np.ndarray
    low: np.ndarray
    high: np.ndarray

    @property
    def coverage(self) -> float:
        """Share of observations inside the 94% predictive band."""
        return float(np.mean((self.observed >= self.low) & (self.observed <= self.high)))

    @property
    def r2(self) -> float:
        resid = self.observed - self.fitted
        tot = float(np.sum((self.observed - self.observed.mean()) ** 2))
        return float(1 - np.sum(resid**2) / tot) if tot > 0 else float("nan")


@dataclass
class ReportData:
    """Everything the report renders."""

    run_path: str
    outcome: str
    start: str
    end: str
    n_periods: int
    freq: str
    graph: Any
    summary: dict[str, Any]
    identification: dict[str, Any]
    effects: dict[str, Any]
    edge_effects: dict[tuple[str, str], float]
    curves: list[dict[str, Any]]
    scenarios: list[dict[str, Any]]
    node_fits: list[NodeFit]
    spend: dict[str, float]
    residuals: dict[str, Any] = field(default_factory=dict)
    validation: dict[str, Any] | None = None
    validation_report: Any = None
    experiments: list[dict[str, Any]] = field(default_factory=list)
    plan: dict[str, Any] | None = None  # the planner's PlanReport.to_dict() (None when it could not run)

    @property
    def warnings(self) -> list[Any]:
        """What to distrust: every ModelWarning of the run and its validation, most severe first."""
        from causalmmm.report.distrust import distrust

        return distrust(self.summary, self.validation)

    @property
    def channels(self) -> list[str]:
        return list(self.effects["channels"])

    def total(self, channel: str) -> dict[str, Any]:
        """The ``kind == "total"`` row of a channel's effects."""
        return next(e for e in self.effects["effects"] if e["treatment"] == channel and e["kind"] == "total")


def node_fits(scm: PosteriorSCM, seed: int = 0) -> list[NodeFit]:
    """Posterior-predictive mean and 94% band per modelled node (each node's own likelihood)."""
    from causalmmm.validation.residuals import posterior_predictive

    mus = scm.factual_means()
    out = []
    for n in scm.spec.nodes:
        scale = scm.spec.scales[n.name]
        pred = posterior_predictive(scm, n.name, np.asarray(mus[n.name], dtype=float), seed) * scale
        low, high = np.quantile(pred, [0.03, 0.97], axis=0)
        out.append(
            NodeFit(n.name, np.asarray(scm.data.dates), np.asarray(scm.series[n.name], dtype=float) * scale, mus[n.name].mean(axis=0) * scale, low, high)
        )
    return out


def collect(
    run: Any,
    experiments: Sequence[Any] | None = None,
    *,
    max_draws: int | None = None,
    scenario_multipliers: Sequence[float] = (0.8, 1.0, 1.2),
    progress: Callable[[str], None] | None = None,
) -> ReportData:
    """Compute effects, curves, scenarios, fits and (with experiments) validation for a run."""
    from causalmmm.graph.identify import identify
    from causalmmm.query.effects import edge_contributions, effects, response_curve
    from causalmmm.query.optimize import budget_scenarios
    from causalmmm.validation import diagnose_residuals, validate_experiments

    say = progress or (lambda msg: None)
    scm = PosteriorSCM.from_run(run, max_draws=max_draws)
    say("report: effects")
    eff = effects(scm).to_dict()
    say("report: response curves")
    curves = [response_curve(scm, c) for c in eff["channels"]]
    say("report: budget scenarios")
    periods = min(52, scm.spec.n_periods)
    scenarios = [a.to_dict() for a in budget_scenarios(scm, scenario_multipliers, periods=periods)]
    validation, vreport = None, None
    if experiments:
        say("report: validation against experiments")
        calibrated = run.calibrated_experiments
        vreport = validate_experiments(scm, experiments, calibrated=calibrated)
        validation = vreport.to_dict()
    say("report: experiment planner")
    plan = plan_payload(scm, scenarios)
    dates = scm.data.dates
    return ReportData(
        run_path=str(run.path),
        outcome=scm.spec.outcome,
        start=str(dates[0].date()),
        end=str(dates[-1].date()),
        n_periods=scm.spec.n_periods,
        freq=scm.data.freq,
        graph=run.graph,
        summary=run.summary,
        identification=identify(run.graph).to_dict(),
        effects=eff,
        edge_effects=edge_contributions(eff),
        curves=curves,
        scenarios=scenarios,
        node_fits=node_fits(scm),
        spend={c: float(scm.data.column(c).sum()) for c in eff["channels"]},
        residuals=diagnose_residuals(scm).to_dict(),
        validation=validation,
        validation_report=vreport,
        experiments=list(run.summary.get("experiments", [])),
        plan=plan,
    )


def plan_payload(scm: PosteriorSCM, scenarios: Sequence[dict[str, Any]], top: int = 5) -> dict[str, Any] | None:
    """The planner's ranking (``causalmmm plan --json``), reusing the same-budget scenario's optimised split;
    None when the planner cannot run on this model (the narrative then falls back on its rule of thumb)."""
    from causalmmm.errors import CausalMMMError
    from causalmmm.planning import plan

    periods = min(52, scm.spec.n_periods)
    optimal = None
    chans = list(scm.spend_nodes)
    current = sum(float(scm.data.column(c)[-periods:].mean()) for c in chans) if chans else 0.0
    for s in scenarios:
        if current > 0 and abs(s["budget"] - current) <= 1e-9 * current and set(s["allocation"]) == set(chans):
            optimal = dict(s["allocation"])
    try:
        return plan(scm, top=top, periods=periods, optimal=optimal).to_dict()
    except CausalMMMError:
        return None
