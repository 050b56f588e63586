"""causalmmm: causal marketing-mix modelling calibrated by experiments."""

from causalmmm.data import Dataset, load_data
from causalmmm.errors import CausalMMMError
from causalmmm.graph import CausalGraph, load_graph, save_graph

__version__ = "0.1.0"

__all__ = ["CausalGraph", "CausalMMMError", "Dataset", "load_data", "load_graph", "save_graph", "__version__"]
