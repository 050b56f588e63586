"""Ground-truth worlds for tests, benchmarks and the demo.

>>> from causalmmm.simulate import simulate_world
>>> world = simulate_world("search", seed=0)
>>> world.data, world.graph, world.params             # what the analyst sees; the true parameters
>>> world.do({"ppc_spend": "off"}, "2023-01-02", "2023-03-27")   # every node, same noise
>>> world.true_effects(), world.truth(), world.write("out/")
"""

from causalmmm.simulate.geo import GeoPanel
from causalmmm.simulate.io import write, write_world
from causalmmm.simulate.presets import PRESETS, simulate_world
from causalmmm.simulate.world import Mechanism, Params, Term, World

__all__ = ["PRESETS", "GeoPanel", "Mechanism", "Params", "Term", "World", "simulate_world", "write", "write_world"]
