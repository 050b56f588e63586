"""The registry of transform families: one entry per adstock or saturation family.

Each entry holds the family's name, its parameters in order, each parameter's
default prior (in the model's scaled units, as ``(distribution, parameters)``
so that this module stays light to import), the formula shown in docs and dry
runs, and its function, written once for numpy and PyTensor (``xp``). Graph
validation (:data:`ADSTOCKS`, :data:`SATURATIONS`), the spec's priors and text,
the model and the query engine all read from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

from causalmmm.errors import SpecError

PriorSpec = tuple[str, Mapping[str, float]]


def _param(p: Any, xp: Any) -> Any:
    """A parameter of shape (...) with a trailing axis, so it broadcasts over time or lags."""
    p = xp.as_tensor_variable(p) if hasattr(xp, "as_tensor_variable") else xp.asarray(p)
    return xp.expand_dims(p, -1)


@dataclass(frozen=True)
class TransformFamily:
    """One family: ``fn(x_or_lags, params, xp)``; adstock families return unnormalised lag weights."""

    kind: str  # adstock | saturation
    name: str
    params: tuple[str, ...]
    priors: Mapping[str, PriorSpec]
    formula: str
    fn: Callable[[Any, Mapping[str, Any], Any], Any]


# ----------------------------------------------------------------- adstock (weights over lags l = 0..L-1)
def _geometric(lags: Any, p: Mapping[str, Any], xp: Any) -> Any:
    return _param(p["alpha"], xp) ** lags


def _delayed(lags: Any, p: Mapping[str, Any], xp: Any) -> Any:
    return _param(p["alpha"], xp) ** ((lags - _param(p["theta"], xp)) ** 2)


def _weibull(lags: Any, p: Mapping[str, Any], xp: Any) -> Any:
    k, lam = _param(p["shape"], xp), _param(p["scale"], xp)
    z = (lags + 1.0) / lam
    return (k / lam) * z ** (k - 1.0) * xp.exp(-(z**k))


# ---------------------------------------------------------------------------------------- saturation
def _hill(x: Any, p: Mapping[str, Any], xp: Any) -> Any:
    k, s = _param(p["k"], xp), _param(p["s"], xp)
    # x**s has an infinite/NaN gradient in s at x = 0 (spend switched off), which made NUTS
    # diverge on every experiment contrast. Evaluate on a safe input, then zero it out.
    positive = x > 0.0
    safe = xp.where(positive, x, 1.0)
    return xp.where(positive, 1.0 / (1.0 + (k / safe) ** s), 0.0)


def _logistic(x: Any, p: Mapping[str, Any], xp: Any) -> Any:
    e = xp.exp(-_param(p["lam"], xp) * x)
    return (1.0 - e) / (1.0 + e)


def _michaelis_menten(x: Any, p: Mapping[str, Any], xp: Any) -> Any:
    return x / (_param(p["lam"], xp) + x)


ADSTOCK_FAMILIES: dict[str, TransformFamily] = {
    f.name: f
    for f in (
        TransformFamily("adstock", "geometric", ("alpha",), {"alpha": ("Beta", {"alpha": 1.5, "beta": 2.5})}, "w_l ∝ alpha^l", _geometric),
        TransformFamily(
            "adstock",
            "delayed",
            ("alpha", "theta"),
            {"alpha": ("Beta", {"alpha": 1.5, "beta": 2.5}), "theta": ("HalfNormal", {"sigma": 2.0})},
            "w_l ∝ alpha^((l - theta)^2), peak at lag theta",
            _delayed,
        ),
        TransformFamily(
            "adstock",
            "weibull",
            ("shape", "scale"),
            {"shape": ("Gamma", {"alpha": 2.0, "beta": 1.0}), "scale": ("Gamma", {"alpha": 2.0, "beta": 0.5})},
            "w_l ∝ Weibull pdf at l + 1 (shape, scale in periods)",
            _weibull,
        ),
    )
}

#: Saturation input is adstocked spend divided by its mean: about 1 when the channel is active.
SATURATION_FAMILIES: dict[str, TransformFamily] = {
    f.name: f
    for f in (
        TransformFamily(
            "saturation",
            "hill",
            ("k", "s"),
            {"k": ("Gamma", {"alpha": 3.0, "beta": 3.0}), "s": ("Gamma", {"alpha": 9.0, "beta": 6.0})},
            "x^s / (x^s + k^s), half-saturation at k",
            _hill,
        ),
        TransformFamily("saturation", "logistic", ("lam",), {"lam": ("Gamma", {"alpha": 3.0, "beta": 1.5})}, "(1 - e^(-lam x)) / (1 + e^(-lam x))", _logistic),
        # lam is the half-saturation point here (not a rate as in logistic): its own prior, mean 1 = mean spend
        TransformFamily(
            "saturation",
            "michaelis_menten",
            ("lam",),
            {"lam": ("Gamma", {"alpha": 2.0, "beta": 2.0})},
            "x / (lam + x), half-saturation at lam (the edge coefficient plays the maximum)",
            _michaelis_menten,
        ),
    )
}

NONE = "none"
ADSTOCKS: tuple[str, ...] = tuple(ADSTOCK_FAMILIES) + (NONE,)
SATURATIONS: tuple[str, ...] = tuple(SATURATION_FAMILIES) + (NONE,)
ADSTOCK_PARAMS: dict[str, tuple[str, ...]] = {**{n: f.params for n, f in ADSTOCK_FAMILIES.items()}, NONE: ()}
SATURATION_PARAMS: dict[str, tuple[str, ...]] = {**{n: f.params for n, f in SATURATION_FAMILIES.items()}, NONE: ()}


def family(kind: str, name: str) -> TransformFamily:
    """The registered family, or a :class:`SpecError` naming the allowed ones."""
    table = ADSTOCK_FAMILIES if kind == "adstock" else SATURATION_FAMILIES
    if name not in table:
        raise SpecError(f"unknown {kind} {name!r}", hint=f"allowed: {', '.join(tuple(table) + (NONE,))}")
    return table[name]


def default_priors(adstock: str, saturation: str) -> dict[str, PriorSpec]:
    """Each parameter's default prior for an edge with these families."""
    out: dict[str, PriorSpec] = {}
    for kind, name in (("adstock", adstock), ("saturation", saturation)):
        if name != NONE:
            out.update(family(kind, name).priors)
    return out
