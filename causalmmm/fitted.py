"""The fitted model: one object from fit to report.

    import causalmmm as cm
    model = cm.fit(cm.load_graph("graphs/marketing.dot"), cm.load_data("world/data.csv"),
                   experiments=cm.load_experiments("world/experiments.yaml"))
    model.effects(); model.query(do={"ppc_spend": 0}, start="2023-07-03", end="2023-09-25")
    model.save("run/"); model = cm.load("run/")

A :class:`FittedModel` owns the graph, the spec, the data, the posterior (a
:class:`causalmmm.model.run.Run`), its warnings and a cached query engine. The CLI calls
these methods through :mod:`causalmmm.api`.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from causalmmm.data import Dataset, load_data
from causalmmm.errors import QueryError
from causalmmm.fileio import raise_if_interrupted
from causalmmm.graph.causal_graph import CausalGraph
from causalmmm.graph.io import load_graph
from causalmmm.model.run import Run, load_run, make_run, save_run
from causalmmm.model_warnings import ModelWarning
from causalmmm.query.do import Intervention, PosteriorSCM, QueryResult, query
from causalmmm.query.effects import EffectsReport, effects

#: How ``do={node: ...}`` values read: a number sets, {"set": v} sets, {"scale": f} scales, "off" sets 0.
DoSpec = Mapping[str, float | int | str | Mapping[str, float]]


def interventions_from_dict(do: DoSpec) -> list[Intervention]:
    """``{"ppc_spend": 0, "brand_spend": {"scale": 1.2}}`` → interventions (the CLI's ``--do`` parses to the same type)."""
    if not isinstance(do, Mapping) or not do:
        raise QueryError("do must be a non-empty mapping node -> value", hint='e.g. do={"ppc_spend": 0} or {"brand_spend": {"scale": 1.2}}')
    return [Intervention.parse(str(node), value, where=f"do[{node!r}]") for node, value in do.items()]


class FittedModel:
    """A fitted causal MMM: inputs, posterior, warnings and the query engine, with one method per question."""

    def __init__(self, run: Run) -> None:
        self.run = run

    # ----------------------------------------------------------------- what it holds
    @property
    def graph(self) -> CausalGraph:
        return self.run.graph

    @property
    def spec(self) -> Any:
        return self.run.spec

    @property
    def data(self) -> Dataset:
        return self.run.data

    @property
    def summary(self) -> dict[str, Any]:
        return self.run.summary

    @property
    def path(self) -> Path | None:
        return self.run.path

    @property
    def warnings(self) -> list[ModelWarning]:
        """What to distrust, most severe first."""
        return self.run.warnings

    @cached_property
    def scm(self) -> PosteriorSCM:
        """The query engine over every posterior draw (built once)."""
        return PosteriorSCM.from_run(self.run)

    def posterior_draws(self) -> dict[str, Any]:
        return self.run.posterior_draws()

    # ----------------------------------------------------------------- questions
    def effects(self, channels: Sequence[str] | None = None, *, start: str | None = None, end: str | None = None, sensitivity: bool = True) -> EffectsReport:
        """Total, path-specific and marginal effects per spend channel, with the run's warnings
        and (``sensitivity``) each channel's robustness to hidden confounding."""
        report = effects(self.scm, channels, start=start, end=end)
        report.warnings = list(self.warnings)
        if sensitivity:
            from causalmmm.query.sensitivity import sensitivity as robustness
            from causalmmm.query.sensitivity import sensitivity_warnings

            report.sensitivity = robustness(self.scm)
            report.warnings += sensitivity_warnings(report.sensitivity)
        return report

    def query(
        self, do: DoSpec | Sequence[Intervention], *, start: str | None = None, end: str | None = None, outcome: str | None = None, mode: str = "counterfactual"
    ) -> QueryResult:
        """Σ over [start, end] of the outcome under ``do`` minus factual (``do={"ppc_spend": 0}``)."""
        ivs = list(do) if not isinstance(do, Mapping) else interventions_from_dict(do)
        return query(self.scm, ivs, start=start, end=end, outcome=outcome, mode=mode)

    def optimize(self, budget: float, *, periods: int | None = None, bounds: Mapping[str, tuple[float, float]] | None = None) -> Any:
        """Best split of ``budget`` (spend per period) over the spend channels, through the whole graph."""
        from causalmmm.query.optimize import optimize_budget

        return optimize_budget(self.scm, budget, periods=periods, bounds=dict(bounds or {}))

    def plan(self, candidates: Any = None, *, top: int | None = 10, seed: int = 0, jitter: str | None = None, weeks: int = 12) -> Any:
        """Rank candidate experiments by what they would teach this model (a preposterior analysis over its
        draws): expected ROAS sd after each, its cost and the value of its information for the budget.
        ``candidates``: a candidates file, a list of experiments/candidates, or None for the default set from
        the graph. ``jitter``: also plan a seeded ±10% spend-jitter schedule of ``weeks`` periods on that channel
        (``report.schedule``). See docs/concepts.md, "Planning the next experiment"."""
        from causalmmm.planning import load_candidates, plan
        from causalmmm.planning.candidates import as_candidates
        from causalmmm.planning.jitter import jitter_frame

        cands: list[Any] | None
        if isinstance(candidates, (str, Path)):
            cands = load_candidates(candidates, self.graph, self.data)
        else:
            cands = None if candidates is None else as_candidates(candidates, self.graph, self.data)
        schedule = None
        if jitter is not None:
            if jitter not in self.graph.spend_nodes:
                raise QueryError(f"unknown channel {jitter!r} for --jitter", hint=f"spend channels: {', '.join(self.graph.spend_nodes)}")
            schedule = jitter_frame(self.data, jitter, weeks, seed=seed)
        return plan(self.scm, cands, top=top, seed=seed, jitter=schedule)

    def validate(
        self,
        experiments: Any,
        *,
        loo: bool = False,
        jobs: int = 1,
        holdout_periods: int | None = None,
        diagnostics: bool = True,
        refute: bool = False,
        show_progress: bool = False,
    ) -> Any:
        """Predicted vs measured for each experiment with a result, the experiment-conflict check, residual
        diagnostics; optionally leave-one-experiment-out refits (``loo``, in ``jobs`` processes), a time
        hold-out of the last ``holdout_periods`` periods and the refutations (``refute``). Refits reuse the
        model's spec, data and sampler settings. ``experiments``: a file or a list."""
        from dataclasses import replace

        from causalmmm.model.fit import SamplerConfig
        from causalmmm.validation import diagnose_residuals, leave_one_out, time_holdout, validate_experiments
        from causalmmm.validation.conflict import experiment_conflicts

        run = self.run
        exps = as_experiments(experiments, run.graph, run.data, seed=int(run.summary["settings"]["seed"]))
        calibrated = run.calibrated_experiments
        report = validate_experiments(self.scm, exps, calibrated=calibrated)
        # the experiments as the run used them: calibrating iff the run was calibrated by them
        as_run = [replace(e, use="calibrate" if e.name in calibrated else "holdout") for e in exps]
        conflicts = experiment_conflicts(self.posterior_draws(), as_run)
        seen = {(w.code, w.where) for w in conflicts.warnings()}
        report.conflicts = conflicts
        report.warnings = conflicts.warnings() + [w for w in self.warnings if (w.code, w.where) not in seen]
        if diagnostics:
            report.diagnostics = diagnose_residuals(self.scm)
        config = SamplerConfig(**run.summary["settings"])
        say = _say if show_progress else None
        if loo:
            report.loo = leave_one_out(
                run.spec,
                run.data,
                config,
                as_run,
                spend_nodes=tuple(run.graph.spend_nodes),
                jobs=jobs,
                progress=(lambda i, n, name: _say(f"leave-one-out refit {i}/{n}: {name}")) if show_progress else None,
                in_sample={c.name: c.z for c in report.checks},
            )
        if holdout_periods:
            report.holdout = time_holdout(run.spec, run.data, config, holdout_periods, as_run, progress=say)
        if refute:
            from causalmmm.validation.refute import refute as refutations

            report.refutations = refutations(run, experiments=[e for e in as_run if e.use == "calibrate"], seed=config.seed, progress=say)
            report.warnings = report.warnings + report.refutations.warnings()
        return report

    def report(self, path: str | Path, *, experiments: Any = None, force: bool = False, show_progress: bool = False) -> Path:
        """Write the self-contained HTML report atomically; return its path."""
        from causalmmm.fileio import atomic_write_text
        from causalmmm.report import render_report

        out = check_report_path(path, force=force)
        exps = as_experiments(experiments, self.graph, self.data) if experiments is not None else None
        atomic_write_text(out, render_report(self.run, exps, progress=_say if show_progress else None))
        return out

    def save(self, directory: str | Path, *, force: bool = False) -> FittedModel:
        """Write the run directory atomically; return the model backed by it."""
        self.run = save_run(self.run, directory, force=force)
        return self

    def summary_text(self) -> str:
        """What ``causalmmm fit`` prints: diagnostics per node, then the warnings."""
        return self.run.summary_text()

    def __repr__(self) -> str:
        where = f" at {self.path}" if self.path else ""
        return f"FittedModel(outcome={self.spec.outcome!r}, nodes={len(self.spec.nodes)}, warnings={len(self.warnings)}{where})"

    def _repr_html_(self) -> str:
        return self.run._repr_html_()


def check_report_path(path: str | Path, *, force: bool = False) -> Path:
    """The report's output path: an .html file that does not exist yet (unless ``force``)."""
    from causalmmm.errors import RunError

    out = Path(path)
    if out.suffix.lower() not in (".html", ".htm"):
        raise RunError("the report is an HTML file", where=str(out), hint="name the output like report.html")
    if out.exists() and not force:
        raise RunError("output already exists", where=str(out), hint="pass --force to overwrite or choose another path")
    return out


def _say(msg: str) -> None:
    import sys

    print(msg, file=sys.stderr)


def _as_graph(graph: CausalGraph | str | Path) -> CausalGraph:
    return graph if isinstance(graph, CausalGraph) else load_graph(graph)


def _as_data(data: Dataset | pd.DataFrame | str | Path, graph: CausalGraph, date_column: str) -> Dataset:
    ds = data if isinstance(data, Dataset) else load_data(data, date_column=date_column)
    return ds.validate_against(graph)


def as_experiments(experiments: Any, graph: CausalGraph, data: Dataset, *, seed: int = 0, progress: Any = None) -> list[Any]:
    """Experiments from a file or a list, checked against the graph and data. Raw-data experiments of a
    file (switchback, geo-lift, pre/post with ``data:``) that have no estimate yet are analysed first,
    as ``causalmmm experiments analyze`` would."""
    from causalmmm.experiments.analyze import analyze_experiments, merge_results
    from causalmmm.experiments.schema import check_against, load_experiments

    if experiments is None:
        return []
    if isinstance(experiments, (str, Path)):
        exps = load_experiments(experiments)
        check_against([e for e in exps if e.has_result or e.scope == "geo"], graph, data)  # refuse before a long analysis
        raw = [e.name for e in exps if e.data is not None and not e.has_result]
        if raw:
            if progress:
                progress(f"analysing {len(raw)} raw-data experiment(s) first: {', '.join(raw)}")
            pending = [e for e in exps if e.name in raw]
            results = analyze_experiments(pending, Path(experiments).parent, seed=seed, cache=True)
            for r in results:
                if r.cached and progress:
                    progress(f"{r.experiment.name}: reused the analysis of {r.cached} (same entry, data and seed; CAUSALMMM_CACHE_DIR=off redoes it)")
            exps = merge_results(exps, results)
    else:
        exps = list(experiments)
    check_against(exps, graph, data)
    return exps


def fit(
    graph: CausalGraph | str | Path,
    data: Dataset | pd.DataFrame | str | Path,
    experiments: Any = None,
    *,
    draws: int = 500,
    tune: int = 500,
    chains: int = 2,
    seed: int = 0,
    sampler: str = "auto",
    fast: bool = False,
    latent: str = "auto",
    date_column: str = "date",
    progress: Any = None,
) -> FittedModel:
    """Fit one Bayesian submodel per node of ``graph`` on ``data``, calibrated by ``experiments``.

    Inputs may be objects or file paths. After sampling, the posterior checks and the
    experiment-conflict check (PSIS leave-one-out) fill the model's ``warnings``.
    """
    from causalmmm.model.fit import SamplerConfig, fit_model
    from causalmmm.spec import build_spec
    from causalmmm.validation.conflict import experiment_conflicts

    g = _as_graph(graph)
    ds = _as_data(data, g, date_column)
    exps = as_experiments(experiments, g, ds, seed=seed, progress=progress)
    spec = build_spec(g, ds, latent=latent)
    config = SamplerConfig(sampler=sampler, draws=draws, tune=tune, chains=chains, seed=seed, fast=fast)
    result = fit_model(spec, ds, config, experiments=exps, progress=progress)
    raise_if_interrupted()  # samplers swallow Ctrl-C and return partial draws: stop before checking them
    conflicts = experiment_conflicts(result.posterior_draws(), exps)
    result.warnings = fit_warnings(spec, result, ds, exps, tuple(g.spend_nodes), conflicts)
    extra = {
        "experiments": [
            {"name": e.name, "use": e.use, "design": e.design, "treatment": e.treatment, "measured": list(e.measured), "calibrated": e.use == "calibrate"}
            for e in exps
        ],
        "experiment_conflicts": conflicts.to_dict(),
    }
    return FittedModel(make_run(g, spec, ds, result, extra=extra))


def fit_warnings(spec: Any, result: Any, data: Dataset, experiments: Sequence[Any], spend_nodes: tuple[str, ...], conflicts: Any = None) -> list[ModelWarning]:
    """Every warning a fit raises: the posterior checks of ``fit_model`` (``result.warnings``, with its
    ``convergence`` items regraded on the channels' total-ROAS ESS by :func:`graded_convergence_warnings`),
    experiment conflicts, residual misfit, confounded mechanisms and spend extrapolation. One list, used by
    :func:`fit` and by the benchmarks (so they report what a user sees)."""
    from causalmmm.model.build import scaled_series
    from causalmmm.model.checks import confounding_warnings, extrapolation_warnings
    from causalmmm.validation.conflict import experiment_conflicts

    draws = result.posterior_draws()
    conflicts = conflicts if conflicts is not None else experiment_conflicts(draws, experiments)
    scm = PosteriorSCM(spec, data, draws, spend_nodes)
    return (
        [w for w in result.warnings if w.code != "convergence"]
        + graded_convergence_warnings(scm, result)
        + conflicts.warnings()
        + misfit_warnings(scm)
        + confounding_warnings(spec, experiments)
        + extrapolation_warnings(spec, draws, scaled_series(spec, data), experiments)
    )


def channels_through(scm: PosteriorSCM) -> dict[str, list[str]]:
    """Node -> the spend channels whose total ROAS depends on its equation (the node lies on a path from the
    channel to the outcome; every other equation keeps its observed values under do(channel = 0))."""
    import networkx as nx

    dag = scm.spec.causal_digraph()
    out = scm.spec.outcome
    on_path: dict[str, list[str]] = {}
    for c in scm.spend_nodes:
        if c not in dag:
            continue
        for n in nx.descendants(dag, c):
            if n == out or out in nx.descendants(dag, n):
                on_path.setdefault(n, []).append(c)
    return on_path


def roas_diagnostics(scm: PosteriorSCM, chains: int) -> dict[str, Any] | None:
    """Channel -> R-hat and bulk/tail ESS of its total ROAS per draw (:func:`causalmmm.query.effects.roas_draws`,
    draws regrouped by chain), or None when the draws do not split into ``chains`` chains."""
    from causalmmm.errors import CausalMMMError
    from causalmmm.model.checks import QuantityDiagnostics
    from causalmmm.query.effects import roas_draws

    if chains < 2 or scm.n_draws % chains:
        return None
    out = {}
    for c in scm.spend_nodes:
        try:
            x = roas_draws(scm, c)
        except CausalMMMError:  # a channel without spend has no ROAS to grade
            continue
        out[c] = QuantityDiagnostics.of(c, np.asarray(x).reshape(chains, -1))
    return out


def graded_convergence_warnings(scm: PosteriorSCM, result: Any) -> list[Any]:
    """``convergence`` warnings graded on what the user reads: each flagged node's parameters (and the one at
    fault) and the R-hat/ESS of the total ROAS of the channels through it (:func:`causalmmm.model.checks.convergence_warnings`)."""
    from causalmmm.model.checks import MIN_ESS_TOTAL, RHAT_OK, convergence_warnings, worst_parameter

    cfg = result.config
    diags = list(result.diagnostics)
    if cfg is None or cfg.fast or not diags:
        return convergence_warnings(diags)
    per_chain_ok = MIN_ESS_TOTAL * cfg.chains
    flagged = {
        d.node for d in diags if d.warnings or d.divergences or (d.r_hat_max or 1.0) > RHAT_OK or (d.ess_bulk_min is not None and d.ess_bulk_min < per_chain_ok)
    }
    worst = {}
    for block, idata in zip(result.blocks, result.idata):
        for node in block:
            if node in flagged and (w := worst_parameter(idata["posterior"], node)) is not None:
                worst[node] = w
    roas = roas_diagnostics(scm, cfg.chains) if flagged else {}
    return convergence_warnings(diags, roas, channels_through(scm), worst, cfg.draws)


#: A fit-time misfit warning needs strong evidence (validate's diagnostics use p < 0.05 and show every hint):
#: residual autocorrelation with Ljung-Box p below this and |lag-1 autocorrelation| at least MISFIT_AC.
MISFIT_P = 0.001
MISFIT_AC = 0.3


def misfit_warnings(scm: PosteriorSCM) -> list[ModelWarning]:
    """``residual_autocorrelation``: a node's residuals keep a slow component the equation misses (a season,
    a trend, carry-over beyond ``l_max``, a missing parent); its effects are then less certain than the HDI says.
    Severity medium when some spend channel's effect passes through the node's equation (the node descends
    from a channel), low otherwise: a channel's own budget equation, say, is cut by every do() on it."""
    import networkx as nx

    from causalmmm.validation import diagnose_residuals

    dag = scm.spec.causal_digraph()
    channels = [c for c in scm.spend_nodes if c in dag]
    downstream = {c: nx.descendants(dag, c) for c in channels}
    out = []
    for n in diagnose_residuals(scm).nodes:
        ac1 = float(n.autocorrelation[0])
        if n.ljung_box_p < MISFIT_P and abs(ac1) >= MISFIT_AC:
            through = sorted(c for c in channels if n.node in downstream[c])
            consequence = (
                f"intervals on the effects of {', '.join(through)} through this node are too narrow"
                if through
                else "no spend channel's effect passes through this equation (channel effects are unaffected); queries that set its parents are"
            )
            out.append(
                ModelWarning(
                    "residual_autocorrelation",
                    n.node,
                    f"the residuals of {n.node}'s equation are autocorrelated (lag-1 {ac1:+.2f}, Ljung-Box p = {n.ljung_box_p:.1g}): "
                    f"a slow component is missing, so {consequence}",
                    f"declare trend/seasonality or noise=ar1 on {n.node}, a longer l_max on its spend edges, or the missing parent "
                    "(`causalmmm validate` lists candidate edges)",
                    "medium" if through else "low",
                )
            )
    return out


def load(directory: str | Path) -> FittedModel:
    """Load a model saved with :meth:`FittedModel.save` (or written by ``causalmmm fit``)."""
    return FittedModel(load_run(directory))
