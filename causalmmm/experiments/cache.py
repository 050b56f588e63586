"""A cache of analysed raw-data experiments.

A geo-lift or pre/post analysis is a CausalPy NUTS fit that takes tens of seconds, and a fit that is
handed the raw experiments file re-analyses them every time. The answer depends only on the
experiment's entry, the bytes of its data file, the seed and the analysis code, so it is stored under
a key of those: ``$CAUSALMMM_CACHE_DIR`` (default ``~/.cache/causalmmm/analyses``; ``off`` disables
it), one JSON file per analysis, written atomically. A changed data file, entry, seed, causalmmm or
CausalPy version is a new key, so a stale answer is never reused.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import replace
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from causalmmm.experiments.schema import Experiment, with_result

if TYPE_CHECKING:
    from causalmmm.experiments.analyze import AnalysisResult

CACHE_ENV = "CAUSALMMM_CACHE_DIR"
#: Bump when an analysis method changes its answer for the same input.
ANALYSIS_VERSION = 1


def cache_dir() -> Path | None:
    """Where analyses are cached, or None when caching is off."""
    raw = os.environ.get(CACHE_ENV, "").strip()
    if raw.lower() == "off":
        return None
    return Path(raw).expanduser() if raw else Path.home() / ".cache" / "causalmmm" / "analyses"


def _package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "none"


def analysis_key(e: Experiment, base: Path, seed: int) -> str | None:
    """The cache key of analysing ``e`` (None when its data file cannot be read: the analysis reports that)."""
    from causalmmm.experiments.analyze import data_path

    try:
        data_hash = hashlib.sha256(data_path(e, base).read_bytes()).hexdigest()
    except OSError:
        return None
    parts = [ANALYSIS_VERSION, repr(replace(e, estimate=None, se=None)), data_hash, seed, _package_version("causalmmm"), _package_version("causalpy")]
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:32]


def _plain(o: Any) -> Any:
    """numpy scalars as numbers, anything else json cannot write as text."""
    return o.item() if hasattr(o, "item") else str(o)


def load(e: Experiment, base: Path, seed: int) -> AnalysisResult | None:
    """The cached analysis of ``e``, or None."""
    from causalmmm.experiments.analyze import AnalysisResult

    root, key = cache_dir(), analysis_key(e, base, seed)
    if root is None or key is None:
        return None
    try:
        record: dict[str, Any] = json.loads((root / f"{key}.json").read_text())
        analysed = with_result(e, record["estimate"], record["se"])
        if record["scope"] != analysed.scope:
            analysed = replace(analysed, scope=record["scope"])
        return AnalysisResult(
            analysed,
            float(record["estimate"]),
            float(record["se"]),
            str(record["method"]),
            dict(record["diagnostics"]),
            float(record["scale_factor"]),
            str(record["scale_rule"]),
            cached=str(record["analysed_at"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None  # missing or unreadable: analyse again


def store(result: AnalysisResult, base: Path, seed: int) -> None:
    """Cache ``result`` (best effort: an unwritable cache directory only costs the next run a re-analysis)."""
    root, key = cache_dir(), analysis_key(result.experiment, base, seed)
    if root is None or key is None:
        return
    record = {**result.to_dict(), "analysed_at": datetime.now(UTC).isoformat(timespec="seconds")}
    try:
        root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=root, suffix=".tmp")
        with os.fdopen(fd, "w") as f:
            json.dump(record, f, default=_plain)
        os.replace(tmp, root / f"{key}.json")
    except OSError:
        return
