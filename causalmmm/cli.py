"""The `causalmmm` command line: a thin shell over the Python API (CONTRACT.md §4).

Conventions: ``--json`` prints exactly one JSON object on stdout; progress and
human text go to stderr; every error is one line on stderr and a non-zero exit
code, never a traceback (set ``CAUSALMMM_DEBUG=1`` to see one).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, Callable

import click

from causalmmm.errors import CausalMMMError

# ------------------------------------------------------------------ helpers


class _State:
    quiet: bool = False


def say(text: str) -> None:
    """Human-readable output: always to stderr (stdout is reserved for --json)."""
    click.echo(text, err=True)


def emit(payload: dict[str, Any], as_json: bool, text: str | Callable[[], str]) -> None:
    """Print ``payload`` as one JSON object on stdout, or ``text`` for humans on stderr."""
    if as_json:
        click.echo(json.dumps(payload, default=_json_default, allow_nan=False))
    else:
        say(text() if callable(text) else text)


def _json_default(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def progress_enabled() -> bool:
    """Progress bars only on an interactive stderr and without --quiet."""
    return not _State.quiet and sys.stderr.isatty()


json_option = click.option("--json", "as_json", is_flag=True, help="Print exactly one JSON object on stdout.")
cluster_option = click.option(
    "--cluster",
    default=None,
    metavar="local|none|tcp://HOST:PORT",
    help="Where independent refits run: local (an embedded dask cluster), none (serially here) or an existing "
    "dask scheduler. Default: $CAUSALMMM_DASK_CLUSTER, else local with --jobs workers.",
)


# -------------------------------------------------------------------- root


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--quiet", "-q", is_flag=True, help="Silence progress output.")
@click.version_option(package_name="causalmmm")
def cli(quiet: bool) -> None:
    """causalmmm: causal marketing-mix models calibrated by experiments."""
    _State.quiet = quiet


# ------------------------------------------------------------------- graph


@cli.group()
def graph() -> None:
    """Declare, check, draw, identify, discover and test the causal graph."""


@graph.command("check")
@click.argument("graph_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--data", "data_file", type=click.Path(dir_okay=False, path_type=Path), help="CSV whose columns must match the observed nodes.")
@click.option("--date-column", default="date", show_default=True)
@json_option
def graph_check(graph_file: Path, data_file: Path | None, date_column: str, as_json: bool) -> None:
    """Validate GRAPH_FILE (and, with --data, the data columns)."""
    from causalmmm.api import check_graph

    result = check_graph(graph_file, data_file, date_column=date_column)
    for w in result["warnings"]:
        say(f"warning: {w}")
    emit(result, as_json, lambda: f"ok: {graph_file}: {result['n_nodes']} nodes, {result['n_edges']} edges, outcome {result['outcome']!r}")


@graph.command("draw")
@click.argument("graph_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path), help="FILE.svg, .png, .pdf or .dot")
@click.option("--run", "run_dir", type=click.Path(file_okay=False, path_type=Path), help="Overlay the fitted effects of a run.")
def graph_draw(graph_file: Path, output: Path, run_dir: Path | None) -> None:
    """Draw GRAPH_FILE: roles, signs, lags and latent nodes."""
    from causalmmm.api import draw

    path = draw(graph_file, output, run_dir=run_dir)
    say(f"wrote {path}")


@graph.command("identify")
@click.argument("graph_file", type=click.Path(dir_okay=False, path_type=Path))
@json_option
def graph_identify(graph_file: Path, as_json: bool) -> None:
    """Identification per spend channel: adjustment sets, mediators, experiments."""
    from causalmmm.graph.identify import identify
    from causalmmm.graph.io import load_graph

    report = identify(load_graph(graph_file))
    emit(report.to_dict(), as_json, report.to_text)


@graph.command("discover")
@click.argument("data_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--graph", "prior_file", type=click.Path(dir_okay=False, path_type=Path), help="Declared graph: roles as background knowledge, and a diff.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path), help="OUT.dot: the discovered draft.")
@click.option("--outcome", default=None, help="Outcome column (without --graph).")
@click.option("--method", default="exact", show_default=True, type=click.Choice(["exact", "pc", "fci", "ges", "boss"]))
@click.option("--bootstrap", "n_bootstrap", default=50, show_default=True, type=click.IntRange(0, 10_000))
@click.option("--alpha", default=0.05, show_default=True, type=click.FloatRange(0, 1, min_open=True, max_open=True))
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--date-column", default="date", show_default=True)
@click.option("--force", is_flag=True, help="Overwrite OUT.dot.")
@click.option(
    "--compare",
    "compare_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="With --graph: draw declared and discovered side by side (.png/.pdf/.svg).",
)
@json_option
def graph_discover(
    data_file: Path,
    prior_file: Path | None,
    output: Path,
    outcome: str | None,
    method: str,
    n_bootstrap: int,
    alpha: float,
    seed: int,
    date_column: str,
    force: bool,
    compare_file: Path | None,
    as_json: bool,
) -> None:
    """Discover a draft graph from data with causal-learn and role tiers."""
    from causalmmm.api import discover_graph

    if compare_file is not None and prior_file is None:
        raise click.UsageError("--compare needs --graph PRIOR")
    result, diff = discover_graph(
        data_file,
        prior_file,
        output,
        outcome=outcome,
        method=method,
        n_bootstrap=n_bootstrap,
        alpha=alpha,
        seed=seed,
        date_column=date_column,
        force=force,
        show_progress=progress_enabled(),
    )
    if compare_file is not None:
        assert prior_file is not None  # --compare without --graph was rejected above
        from causalmmm.graph.discover import draw_side_by_side
        from causalmmm.graph.io import load_graph

        say(f"wrote {draw_side_by_side(load_graph(prior_file), result, compare_file)}")
    payload = result.to_dict()
    if diff is not None:
        payload["diff"] = diff
    emit(payload, as_json, lambda: result.to_text() + f"\nwrote {output}")


@graph.command("test")
@click.argument("graph_file", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("data_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--alpha", default=0.05, show_default=True, type=click.FloatRange(0, 1, min_open=True, max_open=True))
@click.option("--date-column", default="date", show_default=True)
@json_option
def graph_test(graph_file: Path, data_file: Path, alpha: float, date_column: str, as_json: bool) -> None:
    """Test the graph's implied independences against DATA_FILE."""
    from causalmmm.api import test_graph

    report = test_graph(graph_file, data_file, alpha=alpha, date_column=date_column)
    emit(report.to_dict(), as_json, report.to_text)


@graph.command("workshop")
@click.argument("graph_file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--data", "data_file", type=click.Path(dir_okay=False, path_type=Path), help="CSV to test the graph's implied independences against.")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535), help="Port on 127.0.0.1 (0: any free port).")
@click.option("--no-browser", is_flag=True, help="Do not open a browser; print the address only.")
@click.option("--date-column", default="date", show_default=True)
def graph_workshop(graph_file: Path | None, data_file: Path | None, port: int, no_browser: bool, date_column: str) -> None:
    """Draw the graph with the team in a local web page: edit, identification live, save (Ctrl-C stops it)."""
    from causalmmm.workshop import serve

    serve(graph_file, data_file, port=port, open_browser=not no_browser, date_column=date_column, say=say)


# --------------------------------------------------------------------- fit


@cli.command("fit")
@click.argument("graph_file", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("data_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", "run_dir", type=click.Path(file_okay=False, path_type=Path), help="RUN_DIR to write (atomically).")
@click.option("--experiments", "experiments_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--draws", default=500, show_default=True, type=click.IntRange(10, 100_000))
@click.option("--tune", default=500, show_default=True, type=click.IntRange(10, 100_000))
@click.option("--chains", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option("--seed", default=0, show_default=True, type=int)
@click.option(
    "--sampler",
    default="auto",
    show_default=True,
    type=click.Choice(["auto", "nutpie", "pymc", "numpyro"]),
    help="NUTS implementation; auto: PyMC's (C backend, compiled modules cached on disk; numba recompiles nutpie's models in every run).",
)
@click.option("--fast", is_flag=True, help="Approximate posterior in seconds (for iteration).")
@click.option("--dry-run", is_flag=True, help="Print each node's equation and exit.")
@click.option(
    "--latent",
    default="auto",
    show_default=True,
    type=click.Choice(["auto", "factor", "baseline"]),
    help="Latent confounders: a shared AR(1) factor (auto: when it has >= 3 observed children) or a flexible baseline per child.",
)
@click.option("--date-column", default="date", show_default=True)
@click.option("--force", is_flag=True, help="Overwrite RUN_DIR.")
@json_option
def fit_cmd(
    graph_file: Path,
    data_file: Path,
    run_dir: Path | None,
    experiments_file: Path | None,
    draws: int,
    tune: int,
    chains: int,
    seed: int,
    sampler: str,
    fast: bool,
    dry_run: bool,
    latent: str,
    date_column: str,
    force: bool,
    as_json: bool,
) -> None:
    """Fit one Bayesian submodel per node of GRAPH_FILE on DATA_FILE."""
    from causalmmm.api import fit_run, spec_from_files

    if dry_run:
        spec = spec_from_files(graph_file, data_file, date_column=date_column, latent=latent)
        emit(spec.to_dict(), as_json, spec.to_text)
        return
    if run_dir is None:
        raise click.UsageError("missing option -o/--output RUN_DIR")
    run = fit_run(
        graph_file,
        data_file,
        run_dir,
        experiments=experiments_file,
        draws=draws,
        tune=tune,
        chains=chains,
        seed=seed,
        sampler=sampler,
        fast=fast,
        date_column=date_column,
        force=force,
        show_progress=progress_enabled(),
        latent=latent,
    )
    emit(run.summary, as_json, run.summary_text)


# ----------------------------------------------------------------- queries


@cli.command("effects")
@click.argument("run_dir", type=click.Path(path_type=Path))
@json_option
def effects_cmd(run_dir: Path, as_json: bool) -> None:
    """Total, direct and indirect effects and ROAS per spend channel."""
    from causalmmm.api import run_effects

    report = run_effects(run_dir)
    emit(report.to_dict(), as_json, report.to_text)


@cli.command("query")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("--do", "do_exprs", multiple=True, required=True, help="node=VALUE or node*=FACTOR (repeatable).")
@click.option("--start", default=None)
@click.option("--end", default=None)
@click.option("--outcome", default=None)
@click.option("--mode", default="counterfactual", show_default=True, type=click.Choice(["counterfactual", "interventional"]))
@json_option
def query_cmd(run_dir: Path, do_exprs: tuple[str, ...], start: str | None, end: str | None, outcome: str | None, mode: str, as_json: bool) -> None:
    """do()/counterfactual query on a fitted run."""
    from causalmmm.api import run_query

    result = run_query(run_dir, do_exprs, start=start, end=end, outcome=outcome, mode=mode)
    emit(result.to_dict(), as_json, result.to_text)


@cli.command("optimize")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("--budget", required=True, type=float)
@click.option("--periods", default=None, type=int)
@click.option("--bounds", multiple=True, help="node=lo:hi (repeatable).")
@json_option
def optimize_cmd(run_dir: Path, budget: float, periods: int | None, bounds: tuple[str, ...], as_json: bool) -> None:
    """Best split of a per-period budget over spend channels."""
    from causalmmm.api import run_optimize

    result = run_optimize(run_dir, budget, periods=periods, bounds=bounds)
    emit(result.to_dict(), as_json, result.to_text)


@cli.command("plan")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("--candidates", "candidates_file", type=click.Path(dir_okay=False, path_type=Path), help="YAML list of candidate experiments (no results).")
@click.option("--top", default=10, show_default=True, type=click.IntRange(min=1), help="How many ranked candidates to show.")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--jitter", "jitter_channel", default=None, help="Also write a seeded ±10% spend-jitter schedule for this channel.")
@click.option("--weeks", default=12, show_default=True, type=click.IntRange(min=2), help="Periods of the jitter schedule.")
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path), help="CSV to write the jitter schedule to (with --jitter).")
@json_option
def plan_cmd(
    run_dir: Path, candidates_file: Path | None, top: int, seed: int, jitter_channel: str | None, weeks: int, out_file: Path | None, as_json: bool
) -> None:
    """Rank candidate experiments by what they would teach the fitted model."""
    from causalmmm.api import run_plan
    from causalmmm.planning import write_jitter

    if (jitter_channel is None) != (out_file is None):
        raise click.UsageError("--jitter CHANNEL and --out CSV go together")
    report = run_plan(run_dir, candidates_file, top=top, seed=seed, jitter=jitter_channel, weeks=weeks)
    payload = report.to_dict()
    if out_file is not None:
        write_jitter(report.schedule, out_file)
        payload["jitter"]["schedule"] = str(out_file)
    emit(payload, as_json, lambda: report.to_text() + (f"\nwrote {out_file}" if out_file else ""))


# ------------------------------------------------------------- experiments


@cli.group()
def experiments() -> None:
    """Experiment files: analyse raw-data experiments."""


@experiments.command("analyze")
@click.argument("experiments_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the experiments with their analysed estimate and se (CONTRACT format)."
)
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--force", is_flag=True, help="Overwrite OUTPUT.")
@json_option
def experiments_analyze(experiments_file: Path, output: Path | None, seed: int, force: bool, as_json: bool) -> None:
    """Analyse geo-lift (CausalPy) and switchback experiments that have raw data."""
    from causalmmm.api import analyze_experiments_file

    results = analyze_experiments_file(experiments_file, output, seed=seed, force=force, show_progress=progress_enabled())
    payload = {"experiments": [r.to_dict() for r in results], "output": str(output) if output else None}

    def text() -> str:
        lines = [r.to_text() for r in results]
        if output:
            lines.append(f"wrote {output}")
        return "\n".join(lines) or "no experiment with raw data"

    emit(payload, as_json, text)


@cli.command("validate")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("--experiments", "experiments_file", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--loo", is_flag=True, help="Leave-one-experiment-out: refit without each calibrating experiment and predict it.")
@click.option("--jobs", default=1, show_default=True, type=click.IntRange(min=1), help="Worker processes for the --loo refits (an embedded dask cluster).")
@cluster_option
@click.option("--holdout-periods", type=click.IntRange(min=1), default=None, help="Refit without the last N periods and predict them per node.")
@click.option("--refute", is_flag=True, help="Refutations: placebo treatment, random common cause, data-subset stability (fast refits).")
@json_option
def validate_cmd(
    run_dir: Path, experiments_file: Path, loo: bool, jobs: int, cluster: str | None, holdout_periods: int | None, refute: bool, as_json: bool
) -> None:
    """Predicted vs measured effect for each experiment, conflicts, residual diagnostics, optional LOO, time hold-out and refutations."""
    from causalmmm.api import run_validate

    report = run_validate(
        run_dir, experiments_file, loo=loo, jobs=jobs, cluster=cluster, holdout_periods=holdout_periods, refute=refute, show_progress=progress_enabled()
    )
    emit(report.to_dict(), as_json, report.to_text)


@cli.command("report")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path), help="report.html to write (atomically).")
@click.option("--experiments", "experiments_file", type=click.Path(dir_okay=False, path_type=Path), help="Add predicted vs measured for these experiments.")
@click.option("--force", is_flag=True, help="Overwrite OUTPUT.")
@json_option
def report_cmd(run_dir: Path, output: Path, experiments_file: Path | None, force: bool, as_json: bool) -> None:
    """Self-contained HTML report of a run, with a plain-language summary."""
    from causalmmm.api import run_report

    path = run_report(run_dir, output, experiments=experiments_file, force=force, show_progress=progress_enabled())
    emit({"report": str(path)}, as_json, f"wrote {path}")


# ---------------------------------------------------------------- simulate


@cli.command("simulate")
@click.argument("preset")
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--force", is_flag=True, help="Overwrite DIR.")
@json_option
def simulate_cmd(preset: str, output: Path, seed: int, force: bool, as_json: bool) -> None:
    """Write a ground-truth world: data.csv, graph.dot, experiments.yaml, truth.json."""
    from causalmmm.api import simulate

    files = simulate(preset, output, seed=seed, force=force)
    emit(
        {"preset": preset, "seed": seed, "directory": str(output), "files": files},
        as_json,
        lambda: f"wrote world {preset!r} (seed {seed}) to {output}: {', '.join(files)}",
    )


@cli.command("demo")
@click.option("-o", "--output", default="demo-output", show_default=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--fast/--full", default=False, help="--fast uses the approximate fit.")
@json_option
def demo_cmd(output: Path, fast: bool, as_json: bool) -> None:
    """Run the whole pipeline on the bundled example data."""
    from causalmmm.demo import run_demo

    summary = run_demo(output, fast=fast, say=say, show_progress=progress_enabled())
    emit(summary, as_json, lambda: f"demo finished: see {output}")


# ------------------------------------------------------------ entry point


def main(argv: list[str] | None = None) -> int:
    """Console entry point: one-line errors, exit codes, no tracebacks.

    Exit codes: 0 success; 2 a user error (bad input, usage) or 3 a feature not built yet;
    1 an internal error; 130 interrupted by SIGINT (Ctrl-C), 143 by SIGTERM. An
    interrupted command writes nothing, even when a sampler swallowed the interrupt
    (see ``fileio.interrupt_guard``).
    """
    import signal

    from causalmmm.fileio import interrupt_guard

    args = list(sys.argv[1:] if argv is None else argv)
    try:
        with interrupt_guard():
            # make_context/invoke instead of cli.main: click's main prints a blank line on
            # Ctrl-C before its Abort, which would make the error two lines.
            with cli.make_context("causalmmm", args) as ctx:
                cli.invoke(ctx)
    except CausalMMMError as exc:
        click.echo(f"error: {exc}", err=True)
        return exc.exit_code
    except (KeyboardInterrupt, click.exceptions.Abort) as exc:
        signum = getattr(exc, "signum", None) or getattr(exc.__cause__, "signum", None) or signal.SIGINT
        click.echo("error: interrupted; nothing was written", err=True)
        return 128 + int(signum)
    except click.exceptions.Exit as exc:  # --help, --version
        return exc.exit_code
    except click.exceptions.NoArgsIsHelpError as exc:  # `causalmmm` or `causalmmm graph` alone: the help, not an error line
        click.echo(exc.format_message(), err=True)
        return exc.exit_code
    except click.ClickException as exc:
        hint = " (see --help)" if isinstance(exc, click.UsageError) else ""
        click.echo(f"error: {' '.join(exc.format_message().split())}{hint}", err=True)
        return exc.exit_code
    except BrokenPipeError:  # e.g. `causalmmm effects RUN --json | head`: the reader went away
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the flush at exit
        except OSError:
            pass
        return 1
    except Exception as exc:  # pragma: no cover - last-resort guard
        if os.environ.get("CAUSALMMM_DEBUG"):
            raise
        click.echo(
            f"error: internal error ({type(exc).__name__}: {' '.join(str(exc).split())}); rerun with CAUSALMMM_DEBUG=1 for a traceback and report it", err=True
        )
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
