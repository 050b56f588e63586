"""Adstock, saturation and lag: small pure functions, one definition.

Every function takes ``xp``, either :mod:`numpy` or :mod:`pytensor.tensor`, so
the very same code builds the PyMC likelihood, the simulator and the vectorised
query engine. Time is the last axis; parameters broadcast over leading axes.
"""

from causalmmm.transforms.adstock import ADSTOCK_PARAMS, adstock, adstock_weights, shift
from causalmmm.transforms.saturation import SATURATION_PARAMS, saturate

__all__ = ["ADSTOCK_PARAMS", "SATURATION_PARAMS", "adstock", "adstock_weights", "saturate", "shift"]
