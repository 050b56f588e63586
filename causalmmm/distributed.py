"""One executor for independent work (refits, seeds, markets): dask.distributed, or serial.

:func:`run_tasks` maps a function over items and returns the results in item order, all or
nothing: a task that fails stops the run with its error and nothing is returned, so a caller that
writes after it never writes half a run. Where the tasks run (:func:`resolve_cluster`):

- ``"local"`` (the default): an embedded cluster on this machine, no set-up. One worker process
  per task up to the cores (or ``workers``), one thread each. Each worker is a fresh interpreter
  started with its own PyTensor compile directory and one BLAS/OpenMP/numba thread: PyTensor
  compilation is not thread-safe, and a spawned process would re-import the caller's script
  (and PyTensor with it) before any setting could reach it.
- ``"tcp://HOST:PORT"`` (or the ``CAUSALMMM_DASK_CLUSTER`` environment variable): an existing
  scheduler. A worker plugin gives each of its workers a compile directory of its own if PyTensor
  is not imported there yet (``dask worker`` processes do not import it by themselves).
- ``"none"``: serially in this process. Also the fallback when dask is not installed.

A worker that dies mid-task (killed, out of memory) is restarted by its nanny and the task is
rescheduled; a task that raises anything but a :class:`~causalmmm.errors.CausalMMMError` is
retried ``retries`` times (user errors are deterministic and fail at once).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
import time
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence, TypeVar

from causalmmm.errors import CausalMMMError
from causalmmm.fmt import num

T = TypeVar("T")
R = TypeVar("R")

#: progress(done, total, label) after each finished task
Progress = Callable[[int, int, str], None]

ENV_VAR = "CAUSALMMM_DASK_CLUSTER"
LOCAL = "local"
SERIAL = "none"
#: environment every worker starts with: one thread for BLAS, OpenMP and numba
ONE_THREAD = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}
_ADDRESS = re.compile(r"^(tcp|tls|inproc|ucx|ws|wss)://[^\s/]+(:\d+)?/?$")
_said: set[str] = set()
#: the cluster set by :func:`using_cluster` (between an explicit argument and the environment variable)
_scoped: ContextVar[str | None] = ContextVar("causalmmm_cluster", default=None)


class ClusterError(CausalMMMError):
    """The dask cluster is misnamed, unreachable, or lost a task."""


def dask_available() -> bool:
    try:
        import distributed  # noqa: F401
    except ImportError:
        return False
    return True


@contextmanager
def using_cluster(cluster: str | None) -> Iterator[None]:
    """Make ``cluster`` the default of every :func:`run_tasks` inside the block (``None`` changes nothing)."""
    token = _scoped.set(cluster) if cluster is not None else None
    try:
        yield
    finally:
        if token is not None:
            _scoped.reset(token)


def cluster_requested(cluster: str | None = None) -> bool:
    """Whether a cluster was named: by argument, a :func:`using_cluster` block or the environment variable."""
    return bool((cluster if cluster is not None else _scoped.get() or os.environ.get(ENV_VAR, "")).strip())


def resolve_cluster(cluster: str | None = None) -> str:
    """``"none"``, ``"local"`` or a scheduler address: ``cluster``, else the :func:`using_cluster` block's,
    else ``$CAUSALMMM_DASK_CLUSTER``, else local."""
    if cluster is None:
        cluster = _scoped.get()
    value = (cluster if cluster is not None else os.environ.get(ENV_VAR, "")).strip() or LOCAL
    if value.lower() in (LOCAL, SERIAL):
        return value.lower()
    if _ADDRESS.match(value):
        return value
    if re.match(r"^[\w.-]+:\d+$", value):
        return "tcp://" + value
    where = "--cluster" if cluster is not None else ENV_VAR
    raise ClusterError(f"cannot read cluster {value!r}", where=where, hint="use local, none, or a scheduler address such as tcp://10.0.0.5:8786")


def _say_once(key: str, message: str) -> None:
    if key not in _said:
        _said.add(key)
        print(f"causalmmm: {message}", file=sys.stderr, flush=True)


def stderr_progress(what: str = "task") -> Progress:
    """One line per finished task on stderr: ``what 2/5 done: label (3.1 s)``."""
    start = time.perf_counter()

    def report(done: int, total: int, label: str) -> None:
        print(f"{what} {done}/{total} done: {label} ({num(time.perf_counter() - start)} s elapsed)", file=sys.stderr, flush=True)

    return report


def _as_progress(progress: bool | Progress | None, what: str) -> Progress | None:
    if progress is True:
        return stderr_progress(what)
    return progress or None


# ----------------------------------------------------------------------------- worker set-up


def base_compiledir() -> Path:
    """PyTensor's base compile directory as this process would use it (``PYTENSOR_FLAGS`` or ``~/.pytensor``)."""
    flags = dict(f.split("=", 1) for f in os.environ.get("PYTENSOR_FLAGS", "").split(",") if "=" in f)
    return Path(flags.get("base_compiledir", "~/.pytensor")).expanduser()


def worker_flags(compiledir: Path) -> str:
    """``PYTENSOR_FLAGS`` for a worker: this process's flags with ``base_compiledir`` replaced, and a
    patient compile lock (several workers compile at once on a busy machine)."""
    kept = [f for f in os.environ.get("PYTENSOR_FLAGS", "").split(",") if f and not f.startswith("base_compiledir=")]
    if not any(f.startswith("compile__timeout=") for f in kept):
        kept.append("compile__timeout=3600")
    return ",".join([*kept, f"base_compiledir={compiledir}"])


def worker_env(slot: str) -> dict[str, str]:
    """The environment a worker starts with: one thread, its own compile directory, this process's import path."""
    compiledir = base_compiledir() / "dask-workers" / _safe(slot)
    path = os.pathsep.join(p for p in sys.path if p and Path(p).is_dir())
    return {**ONE_THREAD, "PYTENSOR_FLAGS": worker_flags(compiledir), "PYTHONPATH": path}


def _safe(name: str) -> str:
    return re.sub(r"[^\w.-]+", "_", name).strip("_") or "worker"


def worker_compiledir(_: object = None) -> str:
    """The compile directory PyTensor uses in the calling process (a task: map it over workers)."""
    import pytensor

    return str(pytensor.config.compiledir)


def _worker_plugin() -> Any:
    from distributed.diagnostics.plugin import WorkerPlugin

    class OneThreadOwnCompiledir(WorkerPlugin):
        """On a worker of an existing cluster: one thread, and its own compile directory unless
        PyTensor is already imported there (then its directory is whatever it was started with)."""

        name = "causalmmm-worker-setup"

        def setup(self, worker: Any) -> None:
            os.environ.update(ONE_THREAD)
            flags = os.environ.get("PYTENSOR_FLAGS", "")
            if "pytensor" not in sys.modules and "base_compiledir=" not in flags:
                os.environ["PYTENSOR_FLAGS"] = worker_flags(base_compiledir() / "dask-workers" / _safe(str(worker.name)))
            try:
                from threadpoolctl import threadpool_limits

                threadpool_limits(1)
            except ImportError:
                pass

    return OneThreadOwnCompiledir()


# ----------------------------------------------------------------------------- clusters


def _die_with_parent_hook() -> Callable[[], None] | None:
    """Linux: a pre-exec hook that makes the child get SIGTERM when the process that started it dies,
    so a killed run leaves no worker behind. libc is loaded here, before the fork."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes
    import signal

    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None
    return lambda: libc.prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


def _isolated_worker_class() -> type:
    from distributed.deploy.subprocess import SubprocessWorker

    class IsolatedWorker(SubprocessWorker):
        """A nanny and its worker in a fresh interpreter started with ``env`` (nothing imported before it)."""

        def __init__(self, scheduler: str, *, env: dict[str, str], **kwargs: Any) -> None:
            super().__init__(scheduler, **kwargs)
            self.env = env

        async def _start(self) -> None:
            spec = json.dumps({"cls": self.worker_class, "opts": self.worker_kwargs})
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "dask", "spec", self.scheduler, "--spec", spec, env={**os.environ, **self.env}, preexec_fn=_die_with_parent_hook()
            )

    return IsolatedWorker


def embedded_cluster(n_workers: int) -> Any:
    """A scheduler in this process and ``n_workers`` one-thread worker processes, each with its own compile directory."""
    import logging

    from distributed import Scheduler, SpecCluster

    worker_cls = _isolated_worker_class()
    workers = {
        i: {
            "cls": worker_cls,
            "options": {
                "env": worker_env(f"worker-{i}"),
                "worker_class": "distributed.Nanny",
                # memory_limit 0: a large fit may use the machine's memory; no nanny kills it for that
                "worker_kwargs": {"host": "127.0.0.1", "nthreads": 1, "name": f"worker-{i}", "memory_limit": 0, "silence_logs": logging.CRITICAL},
            },
        }
        for i in range(n_workers)
    }
    scheduler = {"cls": Scheduler, "options": {"host": "127.0.0.1", "port": 0, "dashboard": False, "dashboard_address": None}}
    return SpecCluster(workers=workers, scheduler=scheduler, name="causalmmm", silence_logs=logging.ERROR)


@contextmanager
def client_for(cluster: str, n_tasks: int, workers: int | None = None) -> Iterator[Any]:
    """A dask Client on ``cluster`` (``"local"`` or an address); the embedded cluster closes with it."""
    from distributed import Client

    if cluster == LOCAL:
        n = max(1, min(workers or os.cpu_count() or 1, n_tasks))
        with embedded_cluster(n) as local, Client(local) as client:
            client.wait_for_workers(n, timeout=300)
            yield client
        return
    try:
        client = Client(cluster, timeout="15s")
    except (OSError, TimeoutError) as exc:
        raise ClusterError(
            f"cannot reach the dask scheduler at {cluster} ({type(exc).__name__})",
            where="--cluster",
            hint=f"start one with `dask scheduler` and `dask worker {cluster}`, or use --cluster local (unset {ENV_VAR})",
        ) from None
    with client:
        client.register_plugin(_worker_plugin())
        yield client


# ----------------------------------------------------------------------------- running


@dataclass
class _Raised:
    """A user error caught on a worker: returned, not raised, so dask does not retry it."""

    error: CausalMMMError


def _call(fn: Callable[[Any], Any], item: Any) -> Any:
    try:
        return fn(item)
    except CausalMMMError as err:
        return _Raised(err)


def run_tasks(
    fn: Callable[[T], R],
    items: Sequence[T],
    *,
    cluster: str | None = None,
    progress: bool | Progress | None = True,
    labels: Sequence[str] | None = None,
    workers: int | None = None,
    retries: int = 1,
    what: str = "task",
) -> list[R]:
    """``[fn(item) for item in items]``, run on ``cluster`` (see :func:`resolve_cluster`), in item order.

    ``fn`` must be importable on the workers (a module-level function). ``workers`` caps the
    embedded cluster's processes (default: the cores); one task runs in this process without a
    cluster. ``progress``: True prints one line per finished task on stderr, a callable gets
    ``(done, total, label)``. Raises the first task's error; no partial result is returned.
    """
    names = [str(x) for x in (labels if labels is not None else range(len(items)))]
    if len(names) != len(items):
        raise ValueError("labels must match items one to one")
    report = _as_progress(progress, what)
    where = resolve_cluster(cluster)
    if where != SERIAL and not dask_available():
        _say_once("no-dask", f"dask.distributed is not installed: running {what}s serially (pip install 'causalmmm[distributed]')")
        where = SERIAL
    elif where == SERIAL:
        _say_once("serial", f"running {what}s serially in this process (cluster none)")
    if where == LOCAL and (len(items) <= 1 or workers == 1):
        where = SERIAL  # one worker process would only add start-up time
    if where == SERIAL:
        return _run_serial(fn, items, names, report)
    with client_for(where, len(items), workers) as client:
        return _run_on(client, fn, items, names, report, retries)


def _run_serial(fn: Callable[[T], R], items: Sequence[T], names: Sequence[str], report: Progress | None) -> list[R]:
    out = []
    for i, (item, name) in enumerate(zip(items, names)):
        out.append(fn(item))
        if report:
            report(i + 1, len(items), name)
    return out


def _run_on(client: Any, fn: Callable[[T], R], items: Sequence[T], names: Sequence[str], report: Progress | None, retries: int) -> list[R]:
    from distributed import as_completed
    from distributed.scheduler import KilledWorker

    futures = [
        client.submit(_call, fn, item, key=f"{_safe(name)}-{i}-{os.urandom(4).hex()}", retries=retries, pure=False)
        for i, (item, name) in enumerate(zip(items, names))
    ]
    index = {f.key: i for i, f in enumerate(futures)}
    results: dict[int, Any] = {}
    try:
        for done, fut in enumerate(as_completed(futures), start=1):
            i = index[fut.key]
            try:
                value = fut.result()
            except KilledWorker:
                raise ClusterError(
                    f"task {names[i]} killed its worker on every try",
                    where="dask",
                    hint="it crashed or ran out of memory; run it alone with --cluster none to see its error",
                ) from None
            if isinstance(value, _Raised):
                raise value.error
            results[i] = value
            if report:
                report(done, len(items), names[i])
    finally:
        client.cancel([f for f in futures if not f.done()])
    return [results[i] for i in range(len(items))]
