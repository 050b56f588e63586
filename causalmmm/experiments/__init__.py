"""Experiments: files, forms (lift rows, multi-cell geo tests, results tables) and CausalPy results."""

from causalmmm.experiments.causalpy_result import from_causalpy
from causalmmm.experiments.forms import results_from_csv
from causalmmm.experiments.lift_rows import from_lift_rows
from causalmmm.experiments.schema import load_experiments, save_experiments

__all__ = ["from_causalpy", "from_lift_rows", "load_experiments", "results_from_csv", "save_experiments"]
