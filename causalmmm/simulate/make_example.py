"""Regenerate the bundled example deterministically: ``python -m causalmmm.simulate.make_example``.

Writes the ``search`` world at seed 1 into ``causalmmm/example/`` and, from a
source checkout, copies ``experiments.yaml`` and the raw experiment CSVs into the
repository's ``experiments/`` folder (paths in the file are relative to it).
"""

from __future__ import annotations

import shutil
import sys
from importlib import resources
from pathlib import Path

from causalmmm.simulate.io import write
from causalmmm.simulate.presets import simulate_world

EXAMPLE_PRESET, EXAMPLE_SEED = "search", 1


def make_example(package_dir: str | Path | None = None, repo_experiments: str | Path | None = None) -> list[str]:
    """Rewrite the bundled example (and ``experiments/`` in a checkout); return the example's file names."""
    world = simulate_world(EXAMPLE_PRESET, EXAMPLE_SEED)
    target = Path(package_dir) if package_dir else Path(str(resources.files("causalmmm") / "example"))
    if target.exists():
        for p in target.iterdir():
            if p.is_file() and p.suffix in (".csv", ".json", ".yaml", ".dot"):
                p.unlink()
    files = write(world, target)
    if repo_experiments is None:
        candidate = Path(__file__).resolve().parents[2] / "experiments"
        repo_experiments = candidate if candidate.parent.joinpath("pyproject.toml").exists() else None
    if repo_experiments is not None:
        dst = Path(repo_experiments)
        dst.mkdir(parents=True, exist_ok=True)
        for name in ["experiments.yaml", *world.raw_files]:
            shutil.copyfile(target / name, dst / name)
    return files


if __name__ == "__main__":
    names = make_example()
    print(f"wrote {len(names)} files: {', '.join(names)}", file=sys.stderr)
