"""Small shared file helpers: safe YAML loading and atomic writes."""

from __future__ import annotations

import os
import shutil
import tempfile
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
        raise error(f"expected a {what} file but found a directory", where=str(p))
    try:
        return p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"not UTF-8 text (byte {exc.start})", where=str(p), hint="save the file as UTF-8") from None
    except OSError as exc:
        raise error(f"cannot read {what} file ({exc.strerror})", where=str(p)) from None


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


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file and an atomic rename."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write bytes atomically: readers see the old file or the new one, never half."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def atomic_directory(target: str | Path, *, force: bool, error: type[CausalMMMError]) -> Iterator[Path]:
    """Yield a staging directory that replaces ``target`` only if the block succeeds.

    Refuses to replace an existing ``target`` unless ``force``. On any exception
    (including KeyboardInterrupt) the staging directory is removed, so no
    half-written result is ever left at ``target``.
    """
    dst = Path(target)
    if dst.exists() and not force:
        raise error("output already exists", where=str(dst), hint="pass --force to overwrite or choose another path")
    dst.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{dst.name}.staging.", dir=dst.parent))
    try:
        yield stage
        if dst.exists():
            trash = Path(tempfile.mkdtemp(prefix=f".{dst.name}.old.", dir=dst.parent))
            os.replace(dst, trash / "old")
            os.replace(stage, dst)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.replace(stage, dst)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
