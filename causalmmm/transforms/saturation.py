"""Diminishing returns (saturation), backend-agnostic (numpy or pytensor); families in the registry."""

from __future__ import annotations

from typing import Any, Mapping

from causalmmm.transforms.registry import NONE, SATURATION_PARAMS, family

__all__ = ["SATURATION_PARAMS", "saturate"]


def saturate(x: Any, kind: str, params: Mapping[str, Any], xp: Any) -> Any:
    """Map non-negative input to a saturating response with the registered family ``kind``
    (formulas in :mod:`causalmmm.transforms.registry`); ``none`` is the identity."""
    if kind == NONE:
        return x
    return family("saturation", kind).fn(x, params, xp)
