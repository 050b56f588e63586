"""causalmmm: causal marketing-mix modelling calibrated by experiments.

    import causalmmm as cm
    model = cm.fit("graphs/marketing.dot", "world/data.csv", experiments="world/experiments.yaml")
    print(model.effects().to_text())

``fit``, ``load`` and ``FittedModel`` import PyMC on first use, so that graph and data commands stay fast.
"""

from typing import Any

# numba (nutpie's compiler) runs at its default LLVM optimisation level 3. causalmmm set NUMBA_OPT=0 until
# 2026-12-04; measured then in fresh processes (docs/benchmarks.md, "Where a fit's time goes"), level 0 made
# nutpie compile the uncalibrated search world in 274 s and sample it in 64 s, level 3 in 63-67 s and 3 s.
from causalmmm.data import Dataset, load_data
from causalmmm.errors import CausalMMMError
from causalmmm.experiments.schema import load_experiments
from causalmmm.graph import CausalGraph, load_graph, save_graph
from causalmmm.model_warnings import ModelWarning

__version__ = "0.1.0"

_LAZY = {"fit", "load", "FittedModel"}

__all__ = [
    "CausalGraph",
    "CausalMMMError",
    "Dataset",
    "FittedModel",
    "ModelWarning",
    "fit",
    "load",
    "load_data",
    "load_experiments",
    "load_graph",
    "save_graph",
    "__version__",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from causalmmm import fitted

        return getattr(fitted, name)
    raise AttributeError(f"module 'causalmmm' has no attribute {name!r}")
