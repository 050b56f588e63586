"""Shared helpers for the benchmark scripts: machine description, markdown tables, fragments, seeds on dask."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
from pathlib import Path
from typing import Any, Callable, Sequence, TypeVar

T = TypeVar("T")

FRAGMENTS = Path(__file__).resolve().parent / "results"


def machine() -> str:
    try:
        import psutil

        mem = f"{psutil.virtual_memory().total / 2**30:.0f} GiB"
    except ImportError:
        mem = "? GiB"
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, {mem}, Python {platform.python_version()}"


def now_utc() -> str:
    return f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC"


def header(title: str, command: str, date: str | None = None) -> str:
    """A fragment's title, command, date (now, or when the rows it is rebuilt from were measured) and machine."""
    return f"## {title}\n\nCommand: `{command}`  \nDate: {date or now_utc()}  \nMachine: {machine()}\n\n"


def table(columns: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    def fmt(v: object) -> str:
        if isinstance(v, float):
            return f"{v:.3g}" if abs(v) < 1000 else f"{v:,.0f}"
        return str(v)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(fmt(v) for v in r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def write_fragment(name: str, text: str) -> Path:
    """Save a markdown fragment under bench/results/ (assembled into docs/benchmarks.md by run_all)."""
    from causalmmm.fileio import atomic_write_text

    path = FRAGMENTS / f"{name}.md"
    atomic_write_text(path, text)
    print(text)
    return path


#: Said under every peak-memory figure measured as the fitting process's own RSS.
PYMC_CHILD_MEMORY_NOTE = (
    "PyMC's NUTS samples each chain in a child process whose memory this does not include (nutpie samples in the "
    "fitting process), so peak memory of the PyMC NUTS rows understates the fit's footprint."
)


def compile_cache_env(cache: Path) -> dict[str, str]:
    """This process's environment with PyTensor's compile directory and numba's cache both under ``cache``."""
    return {**os.environ, "PYTENSOR_FLAGS": f"base_compiledir={cache}", "NUMBA_CACHE_DIR": str(cache / "numba")}


def command_line() -> str:
    """This process's command, with the script path relative to the checkout (wherever it lives)."""
    script = Path(sys.argv[0]).resolve()
    root = FRAGMENTS.parents[1]
    shown = script.relative_to(root).as_posix() if script.is_relative_to(root) else script.name
    return "python " + " ".join([shown] + sys.argv[1:])


def error_cells(sel: Sequence[dict]) -> list[object]:
    """Summary cells of a group of channel-seed rows (keys err, covered, width, seconds): n, median and max
    |error|, HDI coverage, median HDI width, median fit seconds."""
    import numpy as np

    return [
        len(sel),
        f"{100 * np.median([abs(r['err']) for r in sel]):.1f}%",
        f"{100 * max(abs(r['err']) for r in sel):.1f}%",
        f"{sum(r['covered'] for r in sel)}/{len(sel)}",
        float(np.median([r["width"] for r in sel])),
        float(np.median([r["seconds"] for r in sel])),
    ]


def add_cluster_args(ap: argparse.ArgumentParser) -> None:
    """``--cluster`` and ``--workers`` for a script that runs its seeds through :func:`run_seeds`."""
    ap.add_argument(
        "--cluster",
        default=None,
        help="where seeds run: local (embedded dask cluster, the default), none (serially), or tcp://HOST:PORT; env CAUSALMMM_DASK_CLUSTER",
    )
    ap.add_argument("--workers", type=int, default=None, help="worker processes of the local cluster (default: cores / chains)")


def run_seeds(fn: Callable[[T], Any], tasks: Sequence[T], *, labels: Sequence[str], cluster: str | None = None, workers: int | None = None) -> list[Any]:
    """Independent benchmark seeds through :func:`causalmmm.distributed.run_tasks`: results in task order,
    one progress line per finished seed on stderr, and nothing returned (so no fragment written) unless
    every seed succeeded. ``fn`` takes one task (pack several arguments in a tuple) and must be a
    module-level function."""
    from causalmmm.distributed import run_tasks

    return run_tasks(fn, tasks, cluster=cluster, workers=workers, labels=labels, what="seed")
