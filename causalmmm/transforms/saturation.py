"""Diminishing returns (saturation), backend-agnostic (numpy or pytensor)."""

from __future__ import annotations

from typing import Any, Mapping

#: Parameters each saturation family needs.
SATURATION_PARAMS: dict[str, tuple[str, ...]] = {
    "hill": ("k", "s"),
    "logistic": ("lam",),
    "michaelis_menten": ("lam",),
    "none": (),
}


def _p(params: Mapping[str, Any], name: str, xp: Any) -> Any:
    p = params[name]
    p = xp.as_tensor_variable(p) if hasattr(xp, "as_tensor_variable") else xp.asarray(p)
    return xp.expand_dims(p, -1)


def saturate(x: Any, kind: str, params: Mapping[str, Any], xp: Any) -> Any:
    """Map non-negative input to a saturating response.

    * hill:             ``x**s / (x**s + k**s)``      (half-saturation at ``k``)
    * logistic:         ``(1 - e^{-lam x}) / (1 + e^{-lam x})``
    * michaelis_menten: ``x / (lam + x)``             (the edge coefficient plays ``a``)
    """
    if kind == "none":
        return x
    if kind == "hill":
        k, s = _p(params, "k", xp), _p(params, "s", xp)
        # x**s has an infinite/NaN gradient in s at x = 0 (spend switched off), which made NUTS
        # diverge on every experiment contrast. Evaluate on a safe input, then zero it out.
        positive = x > 0.0
        safe = xp.where(positive, x, 1.0)
        ratio = (k / safe) ** s
        return xp.where(positive, 1.0 / (1.0 + ratio), 0.0)
    if kind == "logistic":
        e = xp.exp(-_p(params, "lam", xp) * x)
        return (1.0 - e) / (1.0 + e)
    if kind == "michaelis_menten":
        return x / (_p(params, "lam", xp) + x)
    raise ValueError(f"unknown saturation {kind!r}")
