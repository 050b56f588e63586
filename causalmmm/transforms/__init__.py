"""Adstock, saturation and lag: small pure functions, one definition.

Every function takes ``xp``, either :mod:`numpy` or :mod:`pytensor.tensor`, so
the very same code builds the PyMC likelihood, the simulator and the vectorised
query engine. Time is the last axis; parameters broadcast over leading axes.
"""

from causalmmm.transforms.adstock import adstock, adstock_weights, shift
from causalmmm.transforms.registry import (
    ADSTOCK_FAMILIES,
    ADSTOCK_PARAMS,
    ADSTOCKS,
    SATURATION_FAMILIES,
    SATURATION_PARAMS,
    SATURATIONS,
    TransformFamily,
    default_priors,
    family,
)
from causalmmm.transforms.saturation import saturate

__all__ = [
    "ADSTOCKS",
    "ADSTOCK_FAMILIES",
    "ADSTOCK_PARAMS",
    "SATURATIONS",
    "SATURATION_FAMILIES",
    "SATURATION_PARAMS",
    "TransformFamily",
    "adstock",
    "adstock_weights",
    "default_priors",
    "family",
    "saturate",
    "shift",
]
