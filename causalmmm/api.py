"""File-level entry points: what each CLI command does, callable from Python.

The CLI only parses arguments and prints; all behaviour lives here or deeper.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from causalmmm.data import Dataset, load_data
from causalmmm.errors import CausalMMMError, DataError, GraphError, RunError
from causalmmm.fileio import atomic_directory, atomic_write_text, interrupt_guard
from causalmmm.graph.causal_graph import CausalGraph
from causalmmm.graph.io import load_graph

if TYPE_CHECKING:
    from tqdm import tqdm as Tqdm


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
        "ok": True,
        "graph": str(graph_file),
        "outcome": graph.outcome,
        "n_nodes": len(graph.nodes),
        "n_edges": len(graph.edges),
        "spend": graph.spend_nodes,
        "latent": graph.latent_nodes,
        "warnings": warnings,
    }


def draw(graph_file: str | Path, output: str | Path, run_dir: str | Path | None = None) -> Path:
    """Draw a graph file to SVG/PNG/PDF/DOT, optionally with a run's fitted effects."""
    from causalmmm.graph.draw import draw_graph

    graph = load_graph(graph_file)
    effects = None
    if run_dir is not None:
        from causalmmm.model.run import load_run
        from causalmmm.query.effects import edge_effects

        effects = edge_effects(load_run(run_dir))
    return draw_graph(graph, output, effects=effects)


def discover_graph(
    data_file: str | Path,
    prior_file: str | Path | None,
    output: str | Path,
    *,
    outcome: str | None = None,
    method: str = "exact",
    n_bootstrap: int = 50,
    alpha: float = 0.05,
    seed: int = 0,
    date_column: str = "date",
    force: bool = False,
    show_progress: bool = False,
) -> tuple[Any, Any]:
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


def fit_run(
    graph_file: str | Path,
    data_file: str | Path,
    run_dir: str | Path,
    *,
    experiments: str | Path | None = None,
    draws: int = 500,
    tune: int = 500,
    chains: int = 2,
    seed: int = 0,
    sampler: str = "auto",
    fast: bool = False,
    date_column: str = "date",
    force: bool = False,
    show_progress: bool = False,
    latent: str = "auto",
) -> Any:
    """Fit graph + data and write RUN_DIR atomically; return the saved :class:`~causalmmm.fitted.FittedModel`."""
    from causalmmm.fitted import as_experiments, fit

    if Path(run_dir).exists() and not force:
        raise RunError("output already exists", where=str(run_dir), hint="pass --force to overwrite or choose another path")
    # samplers swallow Ctrl-C and return partial draws; the guard makes the run refuse to be written
    with interrupt_guard():
        graph, data = load_graph_and_data(graph_file, data_file, date_column)
        progress = (lambda msg: print(msg, file=sys.stderr)) if show_progress else None
        exps = as_experiments(experiments, graph, data, seed=seed, progress=progress)
        model = fit(graph, data, exps, draws=draws, tune=tune, chains=chains, seed=seed, sampler=sampler, fast=fast, latent=latent, progress=progress)
        return model.save(run_dir, force=force)


def load_checked_experiments(path: str | Path, graph: CausalGraph, data: Dataset) -> list[Any]:
    """Load an experiments file and check it against the graph and the data."""
    from causalmmm.experiments.schema import check_against, load_experiments

    exps = load_experiments(path)
    check_against(exps, graph, data)
    return exps


def analyze_experiments_file(
    path: str | Path, output: str | Path | None = None, *, seed: int = 0, force: bool = False, show_progress: bool = False
) -> list[Any]:
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


def run_validate(run_dir: str | Path, experiments: str | Path, *, cluster: str | None = None, **options: Any) -> Any:
    """:meth:`FittedModel.validate` on a saved run (the ``causalmmm validate`` command). ``cluster``: where
    the ``--loo`` refits run (``local``, ``none`` or ``tcp://HOST:PORT``; see :mod:`causalmmm.distributed`)."""
    from causalmmm.distributed import resolve_cluster, using_cluster
    from causalmmm.fitted import load

    if cluster is not None:
        resolve_cluster(cluster)  # a misspelt --cluster fails before the run is loaded
    with using_cluster(cluster):
        return load(run_dir).validate(experiments, **options)


def run_effects(run_dir: str | Path) -> Any:
    """Effects report of a run (total, path-specific, ROAS, mROAS, cannibalisation), with the run's warnings
    and each channel's sensitivity to hidden confounding."""
    from causalmmm.fitted import load

    return load(run_dir).effects()


def run_query(
    run_dir: str | Path, do_exprs: Any, *, start: str | None = None, end: str | None = None, outcome: str | None = None, mode: str = "counterfactual"
) -> Any:
    """A do()/counterfactual query on a run, from CLI-style expressions."""
    from causalmmm.fitted import load
    from causalmmm.query.do import parse_do

    return load(run_dir).query([parse_do(e) for e in do_exprs], start=start, end=end, outcome=outcome, mode=mode)


def run_optimize(run_dir: str | Path, budget: float, *, periods: int | None = None, bounds: Any = ()) -> Any:
    """Budget optimisation on a run, with CLI-style ``node=lo:hi`` bounds."""
    from causalmmm.fitted import load
    from causalmmm.query.optimize import parse_bounds_args

    return load(run_dir).optimize(budget, periods=periods, bounds=parse_bounds_args(bounds))


def run_plan(run_dir: str | Path, candidates: str | Path | None = None, **options: Any) -> Any:
    """:meth:`FittedModel.plan` on a saved run (the ``causalmmm plan`` command)."""
    from causalmmm.fitted import load

    return load(run_dir).plan(candidates, **options)


def run_report(run_dir: str | Path, output: str | Path, *, experiments: str | Path | None = None, force: bool = False, show_progress: bool = False) -> Path:
    """:meth:`FittedModel.report` on a saved run (the ``causalmmm report`` command); the output is checked first."""
    from causalmmm.fitted import check_report_path, load

    check_report_path(output, force=force)
    return load(run_dir).report(output, experiments=experiments, force=force, show_progress=show_progress)


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
        self.enabled, self.total, self.desc = enabled and total > 0, total, desc
        self.bar: Tqdm | None = None

    def __enter__(self) -> Callable[[int, int], None] | None:
        if not self.enabled:
            return None
        from tqdm import tqdm

        bar = self.bar = tqdm(total=self.total, desc=self.desc, file=sys.stderr, leave=False)

        def tick(i: int, n: int) -> None:
            bar.n = i
            bar.refresh()

        return tick

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()
