"""causalmmm: causal marketing-mix modelling calibrated by experiments.

    import causalmmm as cm
    model = cm.fit("graphs/marketing.dot", "world/data.csv", experiments="world/experiments.yaml")
    print(model.effects().to_text())

``fit``, ``load`` and ``FittedModel`` import PyMC on first use, so that graph and data commands stay fast.
"""

import os
from typing import Any

#: LLVM optimisation level of numba, which compiles every NUTS fit (nutpie). Level 0 compiles the calibrated
#: search-world model in about 0.7 of the time of numba's default 3, with the same draws (bench/bench_compile.py).
#: numba reads it once, when it is first imported, so it is set here, before anything imports numba; a value
#: the user set wins, and it has no effect if numba was imported first.
os.environ.setdefault("NUMBA_OPT", "0")

from causalmmm.data import Dataset, load_data  # noqa: E402
from causalmmm.errors import CausalMMMError  # noqa: E402
from causalmmm.experiments.schema import load_experiments  # noqa: E402
from causalmmm.graph import CausalGraph, load_graph, save_graph  # noqa: E402
from causalmmm.model_warnings import ModelWarning  # noqa: E402

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
