"""Write a world to a directory: data.csv, graph.dot, experiments.yaml, truth.json, raw experiment CSVs."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from causalmmm.graph.io import save_graph
from causalmmm.simulate.presets import simulate_world
from causalmmm.simulate.world import World


def write(world: World, directory: str | Path) -> list[str]:
    """Write the world's files into an existing directory; return their names."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    world.data.to_csv(d / "data.csv", index=False, float_format="%.6f")
    save_graph(world.graph, d / "graph.dot")
    (d / "experiments.yaml").write_text(yaml.safe_dump({"experiments": world.experiments}, sort_keys=False))
    for name, frame in world.raw_files.items():
        frame.to_csv(d / name, index=False)
    (d / "truth.json").write_text(json.dumps(world.truth(), indent=2, sort_keys=True))
    return sorted(p.name for p in d.iterdir())


def write_world(preset: str, directory: str | Path, seed: int = 0) -> list[str]:
    """Simulate a preset and write it (the CLI wraps this in an atomic directory)."""
    return write(simulate_world(preset, seed), directory)
