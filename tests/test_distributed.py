"""causalmmm.distributed: the executor behind LOO refits and benchmark seeds.

Most tests run on one real 2-worker embedded cluster (started once for the module, about 10-20 s on
a quiet 2-core machine); the tasks are tiny (numpy least squares, one small PyTensor function).
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import numpy as np
import pytest

from causalmmm import distributed as dist
from causalmmm.distributed import ClusterError, resolve_cluster, run_tasks, using_cluster
from causalmmm.errors import CausalMMMError, DataError

pytestmark = pytest.mark.timeout(300)


# ----------------------------------------------------------------------------- tasks (module level: workers import them)


def least_squares(seed: int) -> np.ndarray:
    """A seeded regression: the same numbers wherever it runs."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(200, 3))
    y = x @ np.array([1.0, -2.0, 0.5]) + rng.normal(size=200)
    return np.linalg.lstsq(x, y, rcond=None)[0]


def tiny_model(value: float) -> tuple[float, str, int]:
    """Compile and run one small PyTensor function; return its output, the compile dir, and the dir's entry count."""
    import pytensor
    import pytensor.tensor as pt

    x = pt.dvector("x")
    f = pytensor.function([x], pt.exp(x).sum() * 2.0)
    out = float(f(np.array([value, 0.0])))
    compiledir = str(pytensor.config.compiledir)
    return out, compiledir, len(os.listdir(compiledir))


def kill_worker_once(marker: str) -> int:
    """The first try kills its own worker process (as an out-of-memory kill would); the retry returns its pid."""
    path = Path(marker)
    if not path.exists():
        path.write_text("killed once")
        os.kill(os.getpid(), signal.SIGKILL)
    return os.getpid()


def fail_and_count(args: tuple[str, str]) -> None:
    """Append one line per try to a file, then raise a user error or a plain one."""
    log, kind = args
    with open(log, "a") as fh:
        fh.write("try\n")
    if kind == "user":
        raise DataError("column x is missing", where="data.csv", hint="add it")
    raise ValueError("transient")


# ----------------------------------------------------------------------------- resolution and the serial path


def test_cluster_names_resolve_and_bad_ones_fail(monkeypatch):
    monkeypatch.delenv(dist.ENV_VAR, raising=False)
    assert resolve_cluster() == "local"
    assert resolve_cluster("none") == "none"
    assert resolve_cluster("tcp://10.0.0.5:8786") == "tcp://10.0.0.5:8786"
    assert resolve_cluster("sched.example:8786") == "tcp://sched.example:8786"
    monkeypatch.setenv(dist.ENV_VAR, "tcp://10.0.0.9:8786")
    assert resolve_cluster() == "tcp://10.0.0.9:8786"
    with using_cluster("none"):
        assert resolve_cluster() == "none"  # the block wins over the environment
        assert resolve_cluster("local") == "local"  # an explicit argument wins over the block
    assert resolve_cluster() == "tcp://10.0.0.9:8786"
    with pytest.raises(ClusterError, match="--cluster: cannot read cluster 'http://x'"):
        resolve_cluster("http://x")
    monkeypatch.setenv(dist.ENV_VAR, "nonsense")
    with pytest.raises(ClusterError, match=dist.ENV_VAR):
        resolve_cluster()


def test_serial_fallback_without_dask_says_so_once(monkeypatch, capsys):
    monkeypatch.setattr(dist, "dask_available", lambda: False)
    monkeypatch.setattr(dist, "_said", set())
    ticks: list[tuple[int, int, str]] = []
    out = run_tasks(least_squares, [1, 2], progress=lambda *t: ticks.append(t), labels=["a", "b"])
    np.testing.assert_array_equal(np.array(out), np.array([least_squares(1), least_squares(2)]))
    run_tasks(least_squares, [3], progress=None)
    err = capsys.readouterr().err
    assert err.count("dask.distributed is not installed") == 1
    assert ticks == [(1, 2, "a"), (2, 2, "b")]


def test_default_progress_is_one_line_per_task(capsys, monkeypatch):
    monkeypatch.setattr(dist, "_said", set())
    run_tasks(least_squares, [1, 2, 3], cluster="none", labels=["s1", "s2", "s3"], what="seed")
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("seed ")]
    assert [line.split(" elapsed")[0].rsplit(" (", 1)[0] for line in lines] == ["seed 1/3 done: s1", "seed 2/3 done: s2", "seed 3/3 done: s3"]


def test_worker_flags_replace_only_the_compile_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("PYTENSOR_FLAGS", f"floatX=float64,base_compiledir={tmp_path / 'old'}")
    assert dist.base_compiledir() == tmp_path / "old"
    flags = dist.worker_flags(tmp_path / "new").split(",")
    assert flags == ["floatX=float64", "compile__timeout=3600", f"base_compiledir={tmp_path / 'new'}"]
    env = dist.worker_env("worker-1")
    assert env["OMP_NUM_THREADS"] == env["NUMBA_NUM_THREADS"] == "1"
    assert env["PYTENSOR_FLAGS"].endswith(f"base_compiledir={tmp_path / 'old' / 'dask-workers' / 'worker-1'}")


def test_leave_one_out_dispatch_arguments(monkeypatch):
    """--jobs sizes the embedded cluster; a named cluster without --jobs takes every core; jobs=1 alone is serial."""
    from test_validation_checks import lift, toy_scm

    from causalmmm.validation import loo as loo_module

    scm = toy_scm()
    exps = [lift("a", "calibrate", 1.0), lift("b", "calibrate", 2.0)]
    calls: list[dict] = []

    def fake_run_tasks(fn, items, **kw):
        calls.append(kw)
        return [np.full(30, float(t[4].estimate)) for t in items]

    monkeypatch.setattr(loo_module, "run_tasks", fake_run_tasks)
    monkeypatch.delenv(dist.ENV_VAR, raising=False)
    res = loo_module.leave_one_out(scm.spec, scm.data, None, exps)
    loo_module.leave_one_out(scm.spec, scm.data, None, exps, jobs=3)
    loo_module.leave_one_out(scm.spec, scm.data, None, exps, cluster="local")
    with using_cluster("tcp://h:1"):
        loo_module.leave_one_out(scm.spec, scm.data, None, exps)
    assert [(c["workers"], c["cluster"]) for c in calls] == [(1, None), (3, None), (None, "local"), (None, None)]
    assert calls[0]["labels"] == ["a", "b"]
    assert [c.predicted.mean for c in res.checks] == [1.0, 2.0]  # draws matched to their experiment


# ----------------------------------------------------------------------------- a real 2-worker cluster


@pytest.fixture(scope="module")
def cluster_address():
    """An embedded 2-worker cluster, reached by address as an existing scheduler would be."""
    with dist.client_for("local", n_tasks=2, workers=2) as client:
        yield client.scheduler.address, client


def test_results_on_the_cluster_equal_the_serial_path(cluster_address):
    address, client = cluster_address
    seeds = list(range(6))
    remote = run_tasks(least_squares, seeds, cluster=address, progress=None)
    serial = run_tasks(least_squares, seeds, cluster="none", progress=None)
    assert len(remote) == len(serial) == 6
    for r, s in zip(remote, serial):
        np.testing.assert_array_equal(r, s)
    assert len(client.nthreads()) == 2 and set(client.nthreads().values()) == {1}  # two workers, one thread each


def test_each_worker_compiles_in_its_own_directory(cluster_address):
    _, client = cluster_address
    per_worker = client.run(tiny_model, 1.0)  # runs once on every worker
    assert len(per_worker) == 2
    outs, dirs, entries = zip(*per_worker.values())
    assert outs == pytest.approx([2 * (np.e + 1)] * 2)
    root = dist.base_compiledir() / "dask-workers"
    assert len(set(dirs)) == 2, dirs
    assert sorted(Path(d).parent.name for d in dirs) == ["worker-0", "worker-1"]
    assert all(Path(d).parent.parent == root for d in dirs)
    assert min(entries) > 0  # the compiled module landed there
    threads = client.run(lambda: os.environ.get("OMP_NUM_THREADS"))
    assert set(threads.values()) == {"1"}


def test_user_errors_fail_at_once_and_others_are_retried(cluster_address, tmp_path):
    address, _ = cluster_address
    user_log, plain_log = tmp_path / "user.log", tmp_path / "plain.log"
    with pytest.raises(DataError, match="data.csv: column x is missing"):
        run_tasks(fail_and_count, [(str(user_log), "user")], cluster=address, progress=None, retries=2)
    with pytest.raises(ValueError, match="transient"):
        run_tasks(fail_and_count, [(str(plain_log), "plain")], cluster=address, progress=None, retries=2)
    assert user_log.read_text().count("try") == 1
    assert plain_log.read_text().count("try") == 3
    assert issubclass(ClusterError, CausalMMMError)


def test_a_killed_workers_task_is_retried(cluster_address, tmp_path):
    """Runs last on the cluster: the nanny restarts the killed worker and the scheduler reruns its task."""
    address, client = cluster_address
    marker = tmp_path / "marker"
    ticks: list[tuple[int, int, str]] = []
    out = run_tasks(kill_worker_once, [str(marker)], cluster=address, progress=lambda *t: ticks.append(t), labels=["victim"])
    assert marker.exists() and isinstance(out[0], int)
    assert ticks == [(1, 1, "victim")]
    client.wait_for_workers(2, timeout=120)  # the killed worker came back
