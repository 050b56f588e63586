"""The structural equations, defined once.

``node_mean`` computes a node's expected value (in scaled units) from its
parents' scaled series and its parameters. With ``xp=pytensor.tensor`` and
scalar random variables it is the PyMC likelihood mean; with ``xp=numpy`` and
parameter arrays of shape ``(draws,)`` it is the vectorised query engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from causalmmm.spec import EdgeSpec, NodeSpec
from causalmmm.transforms import adstock, saturate, shift
from causalmmm.transforms.time import fourier as fourier_terms

SEP = "|"


EXPERIMENT = "experiment"


@dataclass(frozen=True)
class ParamName:
    """A variable's name in the PyMC model and InferenceData, as data: ``owner|key`` or ``owner|source|key``.

    ``owner`` is a node (or ``experiment`` for calibration terms, whose ``source`` is the experiment's
    name); ``source`` is the parent of an edge parameter. :meth:`parse` is the only place a name is split.
    """

    owner: str
    key: str
    source: str | None = None

    def __str__(self) -> str:
        return f"{self.owner}{SEP}{self.source}{SEP}{self.key}" if self.source is not None else f"{self.owner}{SEP}{self.key}"

    @classmethod
    def parse(cls, name: str) -> ParamName:
        parts = str(name).split(SEP)
        if len(parts) == 3:
            return cls(parts[0], parts[2], parts[1])
        if len(parts) == 2:
            return cls(parts[0], parts[1])
        return cls(parts[0], "")

    @property
    def experiment(self) -> str | None:
        """The experiment a calibration variable belongs to (``experiment|NAME`` or ``experiment|NAME|implied``)."""
        if self.owner != EXPERIMENT:
            return None
        return self.source if self.source is not None else self.key


def param_name(node: str, key: str, source: str | None = None) -> str:
    """Variable name in the PyMC model and InferenceData: ``node|key`` or ``node|source|key``."""
    return str(ParamName(node, key, source))


def experiment_term(name: str) -> str:
    """The observed calibration term of experiment ``name``."""
    return str(ParamName(EXPERIMENT, name))


def experiment_implied(name: str) -> str:
    """The model-implied contrast of experiment ``name`` (a Deterministic, one value per draw)."""
    return str(ParamName(EXPERIMENT, "implied", name))


@dataclass(frozen=True)
class TimeFeatures:
    """Deterministic baseline regressors shared by every node: scaled time and Fourier terms."""

    t: np.ndarray  # (T,) in [0, 1]
    periods_per_year: float

    @classmethod
    def for_periods(cls, n_periods: int, periods_per_year: float) -> TimeFeatures:
        return cls(np.arange(n_periods, dtype=float) / max(n_periods - 1, 1), periods_per_year)

    def fourier(self, order: int, period: float | None = None) -> np.ndarray:
        """(T, 2*order) matrix of sin/cos terms of a cycle of ``period`` periods (default: one year)."""
        return fourier_terms(len(self.t), period or self.periods_per_year, order)

    def changepoint_basis(self, n_knots: int) -> np.ndarray:
        """(T, n_knots) hinge functions ``(t - s_j)+`` at knots evenly inside the data period (t in [0, 1])."""
        knots = np.arange(1, n_knots + 1, dtype=float) / (n_knots + 1)
        return np.maximum(self.t[:, None] - knots[None, :], 0.0)


def _col(p: Any, xp: Any) -> Any:
    """Parameter of shape (...) → (..., 1), broadcasting over time."""
    p = xp.as_tensor_variable(p) if hasattr(xp, "as_tensor_variable") else xp.asarray(p)
    return xp.expand_dims(p, -1)


def edge_input(e: EdgeSpec, params: Mapping[str, Any], x: Any, xp: Any) -> Any:
    """The transformed parent series ``f_e(x)``: adstock → saturation → lag, or a plain lag."""
    if e.is_media:
        z = adstock(x, e.adstock, params, e.l_max, xp)
        z = saturate(z, e.saturation, params, xp)
        return shift(z, e.lag, xp, fill="zero")
    return shift(x, e.lag, xp, fill="edge")


def edge_term(e: EdgeSpec, params: Mapping[str, Any], x: Any, xp: Any, modulator: Any = None) -> Any:
    """``± beta · f_e(x) [· m]``; ``beta`` is a magnitude when the sign is constrained.

    ``modulator``: the scaled series of the edge's modulating parent (mean |m| = 1), which
    makes the term proportional to it (e.g. PPC clicks as a share of search demand).
    """
    if e.n_lags > 1:  # a distributed-lag adjustment term: Σ_l b_l · x[t - lag - l]
        beta = params["beta"]
        return sum(_col(beta[..., k], xp) * shift(x, e.lag + k, xp, fill="edge") for k in range(e.n_lags))
    term = _col(params["beta"], xp) * edge_input(e, params, x, xp)
    if e.modulator is not None:
        term = term * modulator
    return -term if e.sign == "negative" else term


def node_mean(node: NodeSpec, params: Mapping[str, Any], parents: Mapping[str, Any], features: TimeFeatures, xp: Any) -> Any:
    """Expected value of ``node`` (scaled units).

    ``params``: ``{"intercept", "trend"?, "season"?, "edges": {source: {"beta", ...}}}``.
    ``parents``: scaled parent series, shape ``(..., T)``.
    """
    mu = _col(params["intercept"], xp)
    for e in node.edges:
        mod = parents[e.modulator] if e.modulator is not None else None
        mu = mu + edge_term(e, params["edges"][e.source], parents[e.source], xp, mod)
    if node.trend != "none":
        mu = mu + _col(params["trend"], xp) * features.t
    if node.trend == "piecewise":
        mu = mu + xp.dot(params["changepoint"], features.changepoint_basis(node.changepoints).T)
    if node.seasonality:
        mu = mu + xp.dot(params["season"], features.fourier(node.seasonality, node.season_period).T)
    return mu


def params_from_flat(node: NodeSpec, flat: Mapping[str, Any]) -> dict[str, Any]:
    """Nest flat ``node|...`` variables (PyMC RVs or posterior arrays) for ``node_mean``."""
    out: dict[str, Any] = {"edges": {}}
    for key in ("intercept", "sigma", "nu", "trend", "changepoint", "season", "rho"):
        name = param_name(node.name, key)
        if name in flat:
            out[key] = flat[name]
    for e in node.edges:
        out["edges"][e.source] = {k: flat[param_name(node.name, k, e.source)] for k in e.param_names}
    return out
