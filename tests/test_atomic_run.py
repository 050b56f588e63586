"""Atomic run directories: an interrupted fit leaves no half-written run.

- SIGINT (Ctrl-C) and SIGTERM: the fit stops, prints one line ``error: interrupted; nothing
  was written`` and exits 130 (143 for SIGTERM); RUN does not exist and nothing is left
  beside it, even though nutpie and PyMC catch KeyboardInterrupt and return partial draws.
- SIGKILL: nothing can run, so a hidden staging directory may remain if the kill lands
  while the run is being written; RUN itself never exists half-written, and the next
  write to the same target removes the leftovers of dead processes.
"""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from seeds import seeded
from test_determinism import fixed_draw_fit, write_tiny_world

from causalmmm.errors import RunError
from causalmmm.fileio import Interrupted, atomic_directory, atomic_write_text, clean_stale_leftovers, interrupt_guard, stale_leftovers


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid  # reaped: no process has this id now (reuse within the test is vanishingly unlikely)


# ------------------------------------------------------------------ in-process


def test_an_interrupt_swallowed_by_a_library_still_aborts_the_commit(tmp_path):
    """nutpie/PyMC return partial draws on KeyboardInterrupt; the commit must still refuse."""
    target = tmp_path / "run"
    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(Interrupted):
        with interrupt_guard():
            with atomic_directory(target, force=False, error=RunError) as stage:
                try:  # what a sampler does: catch the interrupt and carry on
                    os.kill(os.getpid(), signal.SIGINT)
                    time.sleep(1)
                except KeyboardInterrupt:
                    pass
                (stage / "summary.json").write_text("{}")
    assert not target.exists() and list(tmp_path.iterdir()) == []
    # the same for single files
    with pytest.raises(Interrupted):
        with interrupt_guard():
            try:
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(1)
            except KeyboardInterrupt:
                pass
            atomic_write_text(tmp_path / "report.html", "<html>")
    assert list(tmp_path.iterdir()) == []
    # the guard restores the previous handler and forgets the signal
    assert signal.getsignal(signal.SIGINT) is before
    with atomic_directory(target, force=False, error=RunError) as stage:
        (stage / "ok").write_text("1")
    assert (target / "ok").exists()


def test_python_api_fit_run_is_guarded_too(tmp_path, monkeypatch):
    """Ctrl-C during sampling through the Python API (e.g. Jupyter): no run is written either."""
    import causalmmm.model.fit as fit_module
    from causalmmm.api import fit_run

    def swallowing_sampler(spec, data, config=None, **kwargs):
        try:  # what nutpie does on KeyboardInterrupt: stop and return the draws so far
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(1)
        except KeyboardInterrupt:
            pass
        return fixed_draw_fit(spec)

    monkeypatch.setattr(fit_module, "fit_model", swallowing_sampler)
    gfile, dfile = write_tiny_world(tmp_path / "world")
    with pytest.raises(KeyboardInterrupt):
        fit_run(gfile, dfile, tmp_path / "out" / "run")
    out = tmp_path / "out"  # the fit stops before anything is staged: no run, no leftovers (the parent may not even exist)
    assert not (out / "run").exists() and (not out.exists() or list(out.iterdir()) == [])
    # without an interrupt the same call writes the run
    monkeypatch.setattr(fit_module, "fit_model", lambda spec, data, config=None, **kw: fixed_draw_fit(spec))
    fit_run(gfile, dfile, tmp_path / "out" / "run")
    assert (tmp_path / "out" / "run" / "summary.json").exists()


def test_stale_leftovers_of_dead_processes_are_removed_on_the_next_write(tmp_path):
    dead, alive = _dead_pid(), os.getppid()
    stale_dir = tmp_path / f".run.staging-{dead}-abc123"
    stale_old = tmp_path / f".run.old-{dead}-def456"
    stale_file = tmp_path / f".report.html.tmp-{dead}-xyz"
    live_dir = tmp_path / f".run.staging-{alive}-ghi789"  # another process still writing: keep
    other = tmp_path / f".other.staging-{dead}-jkl"  # a different target: not ours to touch
    for d in (stale_dir, stale_old, live_dir, other):
        d.mkdir()
        (d / "posterior.nc").write_text("half")
    stale_file.write_text("half")
    assert stale_leftovers(tmp_path / "run") == sorted([stale_dir, stale_old])
    with atomic_directory(tmp_path / "run", force=False, error=RunError) as stage:
        (stage / "summary.json").write_text("{}")
    assert not stale_dir.exists() and not stale_old.exists()
    assert live_dir.exists() and other.exists() and stale_file.exists()
    atomic_write_text(tmp_path / "report.html", "<html>")
    assert not stale_file.exists()
    assert clean_stale_leftovers(tmp_path / "other") == [other]


# ------------------------------------------------------------------ subprocesses


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("CAUSALMMM_DEBUG", None)
    return env


def test_sigkill_while_staging_leaves_only_a_hidden_dir_that_the_next_run_cleans(tmp_path):
    """Kill -9 in the middle of writing: no RUN, one hidden staging dir; the next write removes it."""
    script = textwrap.dedent(f"""
        import sys, time
        from causalmmm.errors import RunError
        from causalmmm.fileio import atomic_directory
        with atomic_directory({str(tmp_path / "world")!r}, force=False, error=RunError) as stage:
            (stage / "data.csv").write_text("half")
            print("staged", flush=True)
            time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=_env())
    try:
        assert proc.stdout.readline().strip() == "staged"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not (tmp_path / "world").exists()
    left = sorted(p.name for p in tmp_path.iterdir())
    assert len(left) == 1 and left[0].startswith(".world.staging-")
    assert stale_leftovers(tmp_path / "world") == [tmp_path / left[0]]
    # the next command writing the same target cleans it up
    from causalmmm.cli import main

    assert main(["--quiet", "simulate", "search", "-o", str(tmp_path / "world")]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["world"]


def _start_fit(tmp_path: Path) -> tuple[subprocess.Popen, int, Path]:
    """Start a long fit with stderr on a pseudo-terminal (so it prints progress); return (proc, pty master, RUN)."""
    gfile, dfile = write_tiny_world(tmp_path / "world", seed=seeded(0))
    out = tmp_path / "out"
    out.mkdir()
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "causalmmm.cli",
            "fit",
            str(gfile),
            str(dfile),
            "-o",
            str(out / "run"),
            "--draws",
            "100000",
            "--tune",
            "100000",
            "--chains",
            "2",  # PyMC's NUTS samples two chains in processes of their own (one chain would run in this one)
            "--seed",
            str(seeded(1)),
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=slave,
        env=_env(),
        cwd=tmp_path,
        start_new_session=True,  # its own process group, so the chain processes can be cleaned up with it
    )
    os.close(slave)
    return proc, master, out / "run"


def _kill_group(proc: subprocess.Popen) -> None:
    """Kill the fit and whatever it started: PyMC's chain processes outlive a SIGKILLed parent (and hold its stdout)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    if proc.poll() is None:
        proc.wait()


def _read_until(master: int, needle: str, proc: subprocess.Popen, timeout: float) -> str:
    buf, end = "", time.time() + timeout
    while needle not in buf and time.time() < end and proc.poll() is None:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                buf += os.read(master, 4096).decode("utf-8", "replace")
            except OSError:
                break
    return buf


def _drain(master: int) -> str:
    buf = ""
    while True:
        try:
            ready, _, _ = select.select([master], [], [], 0.5)
            if not ready:
                break
            chunk = os.read(master, 4096)
        except OSError:  # EIO once the child has closed the terminal
            break
        if not chunk:
            break
        buf += chunk.decode("utf-8", "replace")
    os.close(master)
    return buf


def _python_descendants(pid: int) -> int:
    """How many Python processes descend from ``pid`` (PyMC's NUTS runs each chain in one; compiling runs gcc)."""
    parent: dict[str, str] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            name, rest = stat.split("(", 1)[1].rsplit(")", 1)
            if name.startswith("python"):
                parent[entry] = rest.split()[1]  # field 4: ppid
    found, frontier = 0, {str(pid)}
    while frontier:
        frontier = {p for p, pp in parent.items() if pp in frontier}
        found += len(frontier)
    return found


def _wait_for_sampling(proc: subprocess.Popen, timeout: float) -> bool:
    """Sampling has begun (after compiling) when PyMC's NUTS, the default sampler, starts its two chain processes."""
    end = time.time() + timeout
    while time.time() < end and proc.poll() is None:
        if _python_descendants(proc.pid) >= 2:
            return True
        time.sleep(0.2)
    return False


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs /proc to see when sampling starts")
@pytest.mark.parametrize(
    "sig, phase, code",
    [
        (signal.SIGINT, "sampling", 130),
        (signal.SIGINT, "compiling", 130),
        (signal.SIGTERM, "sampling", 143),
        (signal.SIGKILL, "sampling", -signal.SIGKILL),
    ],
    ids=["SIGINT-sampling", "SIGINT-compiling", "SIGTERM-sampling", "SIGKILL-sampling"],
)
def test_interrupted_fit_leaves_no_run(tmp_path, sig, phase, code):
    """Kill `causalmmm fit` while it compiles or samples (samplers catch Ctrl-C there and return partial draws or fail)."""
    proc, master, run = _start_fit(tmp_path)
    try:
        seen = _read_until(master, "fitting", proc, timeout=180)
        assert "fitting" in seen, f"the fit never reached the sampler: {seen!r}"
        if phase == "sampling":
            assert _wait_for_sampling(proc, timeout=180), "sampling never started"
            time.sleep(0.5)
        else:
            time.sleep(1.0)  # building and compiling the model takes several seconds
        assert proc.poll() is None, "the fit finished before it could be interrupted"
        proc.send_signal(sig)
        rc = proc.wait(timeout=120)
    finally:
        _kill_group(proc)
    err = seen + _drain(master)
    assert rc == code, err
    assert not run.exists(), "an interrupted fit left a run directory"
    if sig == signal.SIGKILL:
        # nothing could run: any hidden leftover must be one the next write removes
        assert all(p.name.startswith(".") for p in run.parent.iterdir())
        assert sorted(run.parent.iterdir()) == stale_leftovers(run)
    else:
        assert list(run.parent.iterdir()) == [], "an interrupted fit left files beside RUN"
        lines = [ln.strip() for ln in err.replace("\r", "\n").splitlines() if ln.strip()]
        assert "Traceback" not in err
        assert lines[-1] == "error: interrupted; nothing was written", lines
        assert sum(ln.startswith("error:") for ln in lines) == 1
    assert proc.stdout.read() == b""


def test_an_interrupt_pymc_turns_into_an_error_is_still_an_interrupt(tmp_path, monkeypatch):
    """PyMC's sampler, interrupted, raises "Not enough samples to build a trace": the fit must say interrupted."""
    import causalmmm.fileio as fileio
    import causalmmm.model.fit as fit_module
    from causalmmm.fileio import Interrupted
    from causalmmm.fitted import _as_data, _as_graph
    from causalmmm.spec import build_spec

    def interrupted_sampler(model, cfg, seed, sampler):
        fileio._INTERRUPTED.append(signal.SIGINT)  # what the guard's handler records
        raise ValueError("Not enough samples to build a trace.")

    monkeypatch.setattr(fit_module, "_sample_nuts", interrupted_sampler)
    gfile, dfile = write_tiny_world(tmp_path / "world")
    graph = _as_graph(gfile)
    data = _as_data(dfile, graph, "date")
    try:
        with pytest.raises(Interrupted):
            fit_module.fit_model(build_spec(graph, data), data, fit_module.SamplerConfig(sampler="pymc"))
    finally:
        fileio._INTERRUPTED.clear()
    # without an interrupt the same failure is one FitError whose hint names the other sampler
    monkeypatch.setattr(fit_module, "_sample_nuts", lambda *a: (_ for _ in ()).throw(ValueError("bad")))
    with pytest.raises(fit_module.FitError) as err:
        fit_module.fit_model(build_spec(graph, data), data, fit_module.SamplerConfig(sampler="pymc"))
    assert "sampling failed" in str(err.value) and "--sampler nutpie" in str(err.value.hint)
