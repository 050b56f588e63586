"""File-level entry points: what each CLI command does, callable from Python.

The CLI only parses arguments and prints; all behaviour lives here or deeper.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable

from causalmmm.data import Dataset, load_data
from causalmmm.errors import CausalMMMError, DataError, GraphError, RunError
from causalmmm.fileio import atomic_directory, atomic_write_text, interrupt_guard
from causalmmm.graph.causal_graph import CausalGraph
from causalmmm.graph.io import load_graph


def load_graph_and_data(graph_file: str | Path, data_file: str | Path, date_column: str = "date") -> tuple[CausalGraph, Dataset]:
    """Load both files and check them against each other."""
    graph = load_graph(graph_file)
    data = load_data(data_file, date_column=date_column).validate_against(graph)
    return graph, data


def check_graph(graph_file: str | Path, data_file: str | Path | None = None, date_column: str = "date") -> dict[str, Any]:
    """Validate a graph file (and its data); return a summary with warnings."""
    graph = load_graph(graph_file)
    warnings: list[str] = []
    if data_file is not None:
        warnings = list(load_data(data_file, date_column=date_column).validate_against(graph).warnings)
    return {
        "ok": True, "graph": str(graph_file), "outcome": graph.outcome, "n_nodes": len(graph.nodes), "n_edges": len(graph.edges),
        "spend": graph.spend_nodes, "latent": graph.latent_nodes, "warnings": warnings,
    }


def draw(graph_file: str | Path, output: str | Path, run_dir: str | Path | None = None) -> Path:
    """Draw a graph file to SVG/PNG/PDF/DOT, optionally with a run's fitted effects."""
    from causalmmm.graph.draw import draw_graph

    graph = load_graph(graph_file)
    effects = None
    if run_dir is not None:
        from causalmmm.query.effects import edge_effects
        from causalmmm.model.run import load_run

        effects = edge_effects(load_run(run_dir))
    return draw_graph(graph, output, effects=effects)


def discover_graph(data_file: str | Path, prior_file: str | Path | None, output: str | Path, *, outcome: str | None = None,
                   method: str = "exact", n_bootstrap: int = 50, alpha: float = 0.05, seed: int = 0, date_column: str = "date",
                   force: bool = False, show_progress: bool = False) -> tuple[Any, Any]:
    """Run discovery and write the draft DOT atomically; return (result, diff or None)."""
    from causalmmm.graph.discover import discover

    out = Path(output)
    if out.exists() and not force:
        raise GraphError("output already exists", where=str(out), hint="pass --force to overwrite or choose another path")
    prior = load_graph(prior_file) if prior_file is not None else None
    data = load_data(data_file, date_column=date_column)
    with _progress_bar(show_progress, n_bootstrap, "bootstrap") as tick:
        result = discover(data, prior, outcome=outcome, method=method, alpha=alpha, n_bootstrap=n_bootstrap, seed=seed, progress=tick)
    atomic_write_text(out, result.to_dot())
    diff = result.diff(prior) if prior is not None else None
    return result, diff


def test_graph(graph_file: str | Path, data_file: str | Path, *, alpha: float = 0.05, date_column: str = "date") -> Any:
    """Test the graph's implied conditional independences on the data."""
    from causalmmm.graph.independence import check_implied_independences

    graph, data = load_graph_and_data(graph_file, data_file, date_column)
    return check_implied_independences(graph, data, alpha=alpha)


def spec_from_files(graph_file: str | Path, data_file: str | Path, date_column: str = "date", latent: str = "auto") -> Any:
    from causalmmm.spec import build_spec

    graph, data = load_graph_and_data(graph_file, data_file, date_column)
    return build_spec(graph, data, latent=latent)


def fit_run(graph_file: str | Path, data_file: str | Path, run_dir: str | Path, *, experiments: str | Path | None = None,
            draws: int = 500, tune: int = 500, chains: int = 2, seed: int = 0, sampler: str = "nutpie", fast: bool = False,
            date_column: str = "date", force: bool = False, show_progress: bool = False, latent: str = "auto") -> Any:
    """Fit graph + data and write RUN_DIR atomically; return the loaded :class:`Run`."""
    from causalmmm.model.fit import SamplerConfig, fit_model
    from causalmmm.model.run import write_run
    from causalmmm.spec import build_spec

    if Path(run_dir).exists() and not force:
        raise RunError("output already exists", where=str(run_dir), hint="pass --force to overwrite or choose another path")
    # samplers swallow Ctrl-C and return partial draws; the guard makes the run refuse to be written
    with interrupt_guard():
        graph, data = load_graph_and_data(graph_file, data_file, date_column)
        exps = load_checked_experiments(experiments, graph, data) if experiments is not None else []
        spec = build_spec(graph, data, latent=latent)
        config = SamplerConfig(sampler=sampler, draws=draws, tune=tune, chains=chains, seed=seed, fast=fast)
        progress = (lambda msg: print(msg, file=sys.stderr)) if show_progress else None
        fit = fit_model(spec, data, config, experiments=exps, progress=progress)
        extra = {"experiments": [{"name": e.name, "use": e.use, "design": e.design, "treatment": e.treatment,
                                  "measured": list(e.measured), "calibrated": e.use == "calibrate"} for e in exps]}
        return write_run(run_dir, graph, spec, data, fit, force=force, extra=extra)


def load_checked_experiments(path: str | Path, graph: CausalGraph, data: Dataset) -> list[Any]:
    """Load an experiments file and check it against the graph and the data."""
    from causalmmm.experiments.schema import check_against, load_experiments

    exps = load_experiments(path)
    check_against(exps, graph, data)
    return exps


def analyze_experiments_file(path: str | Path, output: str | Path | None = None, *, seed: int = 0, force: bool = False,
                             show_progress: bool = False) -> list[Any]:
    """Analyse the raw-data experiments of a file; optionally write the analysed file atomically."""
    import os

    from causalmmm.experiments.analyze import analyze_experiments, merge_results
    from causalmmm.experiments.schema import load_experiments, save_experiments

    src = Path(path)
    if output is not None and Path(output).exists() and not force:
        raise CausalMMMError("output already exists", where=str(output), hint="pass --force to overwrite or choose another path")
    exps = load_experiments(src)
    with _progress_bar(show_progress, sum(e.data is not None for e in exps), "experiments") as tick:
        results = analyze_experiments(exps, src.parent, seed=seed, progress=(lambda i, n, name: tick(i, n)) if tick else None)
    if output is not None:
        from dataclasses import replace

        out = Path(output)
        merged = merge_results(exps, results)
        rel = [replace(e, data=os.path.relpath((src.parent / e.data).resolve(), out.resolve().parent)) if e.data else e for e in merged]
        save_experiments(rel, out)
    return results


def run_validate(run_dir: str | Path, experiments: str | Path, *, loo: bool = False, jobs: int = 1, holdout_periods: int | None = None,
                 diagnostics: bool = True, show_progress: bool = False) -> Any:
    """Predicted vs measured for each experiment with a result; residual diagnostics; optionally
    leave-one-experiment-out (``loo``, refits in ``jobs`` processes) and a time hold-out of the last
    ``holdout_periods`` periods. Refits reuse the run's spec, data and sampler settings."""
    from causalmmm.model.fit import SamplerConfig
    from causalmmm.model.run import load_run
    from causalmmm.query.do import PosteriorSCM
    from causalmmm.validation import diagnose_residuals, leave_one_out, time_holdout, validate_experiments

    run = load_run(run_dir)
    exps = load_checked_experiments(experiments, run.graph, run.data)
    calibrated = {e["name"] for e in run.summary.get("experiments", []) if e.get("calibrated")}
    scm = PosteriorSCM.from_run(run)
    report = validate_experiments(scm, exps, calibrated=calibrated)
    if diagnostics:
        report.diagnostics = diagnose_residuals(scm)
    if loo or holdout_periods:
        from dataclasses import replace

        # refits use the experiments as the run used them: calibrating iff the run was calibrated by them
        as_run = [replace(e, use="calibrate" if e.name in calibrated else "holdout") for e in exps]
        config = SamplerConfig(**run.summary["settings"])
        say = (lambda msg: print(msg, file=sys.stderr)) if show_progress else None
        if loo:
            n_loo = sum(e.use == "calibrate" and e.has_result for e in as_run)
            with _progress_bar(show_progress, n_loo, "leave-one-out refits") as tick:
                report.loo = leave_one_out(run.spec, run.data, config, as_run, spend_nodes=tuple(run.graph.spend_nodes), jobs=jobs,
                                           progress=(lambda i, n, name: tick(i, n)) if tick else None,
                                           in_sample={c.name: c.z for c in report.checks})
        if holdout_periods:
            report.holdout = time_holdout(run.spec, run.data, config, holdout_periods, as_run, progress=say)
    return report


def _scm(run_dir: str | Path, max_draws: int | None = None) -> Any:
    from causalmmm.model.run import load_run
    from causalmmm.query.do import PosteriorSCM

    return PosteriorSCM.from_run(load_run(run_dir), max_draws=max_draws)


def run_effects(run_dir: str | Path) -> Any:
    """Effects report of a run (total, path-specific, ROAS, mROAS, cannibalisation), with the run's warnings."""
    from causalmmm.model.run import load_run
    from causalmmm.query.do import PosteriorSCM
    from causalmmm.query.effects import effects

    run = load_run(run_dir)
    report = effects(PosteriorSCM.from_run(run))
    report.warnings = run.warnings
    return report


def run_query(run_dir: str | Path, do_exprs: Any, *, start: str | None = None, end: str | None = None,
              outcome: str | None = None, mode: str = "counterfactual") -> Any:
    """A do()/counterfactual query on a run, from CLI-style expressions."""
    from causalmmm.query.do import parse_do, query

    interventions = [parse_do(e) for e in do_exprs]
    return query(_scm(run_dir), interventions, start=start, end=end, outcome=outcome, mode=mode)


def run_optimize(run_dir: str | Path, budget: float, *, periods: int | None = None, bounds: Any = ()) -> Any:
    """Budget optimisation on a run, with CLI-style ``node=lo:hi`` bounds."""
    from causalmmm.query.optimize import optimize_budget, parse_bounds_args

    return optimize_budget(_scm(run_dir), budget, periods=periods, bounds=parse_bounds_args(bounds))


def run_report(run_dir: str | Path, output: str | Path, *, experiments: str | Path | None = None, force: bool = False,
               show_progress: bool = False) -> Path:
    """Write the self-contained HTML report of a run atomically; return its path."""
    from causalmmm.model.run import load_run
    from causalmmm.report import render_report

    out = Path(output)
    if out.suffix.lower() not in (".html", ".htm"):
        raise RunError("the report is an HTML file", where=str(out), hint="name the output like report.html")
    if out.exists() and not force:
        raise RunError("output already exists", where=str(out), hint="pass --force to overwrite or choose another path")
    run = load_run(run_dir)
    exps = load_checked_experiments(experiments, run.graph, run.data) if experiments is not None else None
    progress = (lambda msg: print(msg, file=sys.stderr)) if show_progress else None
    atomic_write_text(out, render_report(run, exps, progress=progress))
    return out


def simulate(preset: str, output: str | Path, *, seed: int = 0, force: bool = False) -> list[str]:
    """Write a ground-truth world directory atomically; return the file names."""
    from causalmmm.simulate import write_world

    with atomic_directory(output, force=force, error=DataError) as stage:
        write_world(preset, stage, seed=seed)
        files = sorted(p.name for p in stage.iterdir())
    return files


class _progress_bar:
    """A tqdm bar on stderr when enabled; yields a ``tick(i, n)`` callable (or None)."""

    def __init__(self, enabled: bool, total: int, desc: str) -> None:
        self.enabled, self.total, self.desc, self.bar = enabled and total > 0, total, desc, None

    def __enter__(self) -> Callable[[int, int], None] | None:
        if not self.enabled:
            return None
        from tqdm import tqdm

        self.bar = tqdm(total=self.total, desc=self.desc, file=sys.stderr, leave=False)

        def tick(i: int, n: int) -> None:
            self.bar.n = i
            self.bar.refresh()

        return tick

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()
