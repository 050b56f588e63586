"""Small shared file helpers: safe YAML loading and atomic writes."""

from __future__ import annotations

import os
import re
import shutil
import signal
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import yaml

from causalmmm.errors import CausalMMMError


def read_text(path: str | Path, error: type[CausalMMMError], what: str) -> str:
    """Read a text file, turning OS errors into one-line ``error``s."""
    p = Path(path)
    if not p.exists():
        raise error(f"{what} file not found", where=str(p), hint="check the path")
    if p.is_dir():
        raise error(f"expected a {what} file but found a directory", where=str(p), hint=f"pass the path of the {what} file")
    try:
        return p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"not UTF-8 text (byte {exc.start})", where=str(p), hint="save the file as UTF-8") from None
    except OSError as exc:
        raise error(f"cannot read {what} file ({exc.strerror})", where=str(p), hint="check that the file is readable") from None


class _StrictSafeLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses duplicate mapping keys (plain YAML keeps the last one silently)."""


def _construct_mapping_no_duplicates(loader: _StrictSafeLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: *anchor` may be overridden by explicit keys
            continue
        key = loader.construct_object(key_node, deep=True)
        try:
            duplicate = key in seen
        except TypeError:  # an unhashable key: let the safe constructor report it
            break
        if duplicate:
            raise yaml.constructor.ConstructorError(None, None, f"found duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_StrictSafeLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping_no_duplicates)


def load_yaml_text(text: str, source: str, error: type[CausalMMMError]) -> Any:
    """Parse YAML safely (only plain data, no tags that build objects) and refuse duplicate keys.

    Errors carry the line and column of the problem.
    """
    try:
        return yaml.load(text, Loader=_StrictSafeLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark is not None else source
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        hint = "fix the YAML syntax"
        if "constructor for the tag" in str(problem):
            hint = "tags such as !!python are not allowed; use plain YAML values"
        elif "duplicate key" in str(problem):
            hint = "each key may appear only once in a mapping; merge or rename the entries"
        raise error(f"invalid YAML ({problem})", where=where, hint=hint) from None


# ------------------------------------------------------------------ interrupts
#
# Some samplers (nutpie, PyMC) catch KeyboardInterrupt and return the draws made so far.
# A fit interrupted that way must still write nothing, so the CLI records the signal here
# (``interrupt_guard``) and every atomic commit checks it (``raise_if_interrupted``) before
# the final rename.

_INTERRUPTED: list[int] = []
_GUARD_ACTIVE: list[bool] = []


class Interrupted(KeyboardInterrupt):
    """A SIGINT/SIGTERM arrived; ``signum`` says which (the CLI exits with 128 + signum)."""

    def __init__(self, signum: int = signal.SIGINT) -> None:
        super().__init__(signum)
        self.signum = int(signum)


def raise_if_interrupted() -> None:
    """Raise :class:`Interrupted` if a signal was recorded, even if a library swallowed it."""
    if _INTERRUPTED:
        raise Interrupted(_INTERRUPTED[0])


@contextmanager
def interrupt_guard() -> Iterator[None]:
    """Turn SIGINT and SIGTERM into :class:`Interrupted` and remember that they came.

    Only in the main thread; the previous handlers are restored on exit. Re-entrant: an
    inner guard (``api.fit_run`` inside ``cli.main``) leaves the outer one in charge.
    """
    if _GUARD_ACTIVE or threading.current_thread() is not threading.main_thread():
        yield
        return
    _INTERRUPTED.clear()

    def handler(signum: int, frame: Any) -> None:
        _INTERRUPTED.append(signum)
        raise Interrupted(signum)

    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, handler)
    _GUARD_ACTIVE.append(True)
    try:
        yield
    finally:
        _GUARD_ACTIVE.clear()
        for sig, old in previous.items():
            signal.signal(sig, old if old is not None else signal.SIG_DFL)
        _INTERRUPTED.clear()


# ------------------------------------------------------------- atomic writes
#
# Temporary files and staging directories are hidden siblings of the target whose
# names carry the writing process id: ``.NAME.staging-PID-XXXX`` (directories),
# ``.NAME.old-PID-XXXX`` (the replaced directory, while swapping) and
# ``.NAME.tmp-PID-XXXX`` (files). A process killed with SIGKILL cannot clean up; the next
# write to the same target removes the leftovers of processes that no longer run.

_LEFTOVER_RE = re.compile(r"^\.(?P<name>.+)\.(?:staging|old|tmp)-(?P<pid>\d+)-[^/]+$")


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def stale_leftovers(target: str | Path) -> list[Path]:
    """Hidden staging/temporary siblings of ``target`` left by processes that no longer run."""
    dst = Path(target)
    if not dst.parent.is_dir():
        return []
    out = []
    for p in dst.parent.iterdir():
        m = _LEFTOVER_RE.match(p.name)
        if m and m.group("name") == dst.name and not _pid_alive(int(m.group("pid"))):
            out.append(p)
    return sorted(out)


def clean_stale_leftovers(target: str | Path) -> list[Path]:
    """Remove what :func:`stale_leftovers` finds; return the removed paths."""
    removed = []
    for p in stale_leftovers(target):
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
        removed.append(p)
    return removed


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file and an atomic rename."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write bytes atomically: readers see the old file or the new one, never half."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_leftovers(p)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.tmp-{os.getpid()}-", dir=p.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o666 & ~_umask())
        raise_if_interrupted()
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def atomic_directory(target: str | Path, *, force: bool, error: type[CausalMMMError]) -> Iterator[Path]:
    """Yield a staging directory that replaces ``target`` only if the block succeeds.

    Refuses to replace an existing ``target`` unless ``force``. On any exception
    (including KeyboardInterrupt, and a signal some library swallowed) the staging
    directory is removed, so no half-written result is ever left at ``target``.
    Leftovers of killed processes beside ``target`` are removed first.
    """
    dst = Path(target)
    if dst.exists() and not force:
        raise error("output already exists", where=str(dst), hint="pass --force to overwrite or choose another path")
    dst.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_leftovers(dst)
    stage = Path(tempfile.mkdtemp(prefix=f".{dst.name}.staging-{os.getpid()}-", dir=dst.parent))
    try:
        yield stage
        os.chmod(stage, 0o777 & ~_umask())
        raise_if_interrupted()
        if dst.exists():
            trash = Path(tempfile.mkdtemp(prefix=f".{dst.name}.old-{os.getpid()}-", dir=dst.parent))
            os.replace(dst, trash / "old")
            os.replace(stage, dst)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.replace(stage, dst)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
