"""Write a world to a directory: data.csv, graph.dot, experiments.yaml, truth.json, raw experiment CSVs."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import yaml

from causalmmm.fileio import atomic_write_text
from causalmmm.graph.io import save_graph
from causalmmm.simulate.presets import simulate_world
from causalmmm.simulate.world import World


def _json_safe(value: Any) -> Any:
    """NaN/inf → null, numpy scalars → Python numbers, tuples → lists (strict JSON)."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write(world: World, directory: str | Path) -> list[str]:
    """Write the world's files into ``directory`` (created if missing); return the names of all files in it.

    ``data.csv`` (date + observed columns), ``graph.dot`` (the analyst's graph),
    ``experiments.yaml`` (CONTRACT §3; raw-data paths relative to the directory),
    the raw experiment CSVs, and ``truth.json`` (effects, parameters, experiment truths,
    counterfactual series).
    """
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    atomic_write_text(d / "data.csv", world.data.to_csv(index=False, float_format="%.6f"))
    save_graph(world.graph, d / "graph.dot")
    atomic_write_text(d / "experiments.yaml", yaml.safe_dump({"experiments": world.experiments}, sort_keys=False))
    for name, frame in world.raw_files.items():
        atomic_write_text(d / name, frame.to_csv(index=False))
    atomic_write_text(d / "truth.json", json.dumps(_json_safe(world.truth()), indent=2, sort_keys=True, allow_nan=False) + "\n")
    return sorted(p.name for p in d.iterdir())


def write_world(preset: str, directory: str | Path, seed: int = 0) -> list[str]:
    """Simulate a preset and write it (the CLI wraps this in an atomic directory)."""
    return write(simulate_world(preset, seed), directory)
