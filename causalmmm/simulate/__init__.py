"""Ground-truth worlds for tests, benchmarks and the demo."""

from causalmmm.simulate.io import write, write_world
from causalmmm.simulate.presets import PRESETS, simulate_world
from causalmmm.simulate.world import Mechanism, Term, World

__all__ = ["PRESETS", "Mechanism", "Term", "World", "simulate_world", "write", "write_world"]
