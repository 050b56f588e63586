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
from causalmmm.transforms.adstock import data_value
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
    """The transformed parent series ``f_e(x)``: adstock → saturation → lag, or a plain lag.

    ``params`` and ``x`` may carry an axis of edges (``(..., K)`` and ``(..., K, T)``) when the edges
    share their families, ``l_max`` and lag (a :class:`MediaGroup`): the transforms broadcast over it.
    """
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


GROUP_PREFIX = "*media"


@dataclass(frozen=True)
class MediaGroup:
    """A node's media edges that share adstock and saturation families, ``l_max``, lag and modulator.

    Their terms are computed as one batched term over an axis of edges, and the model samples each
    parameter as one vector (``node|*mediaN|key``, :meth:`param`) instead of one scalar per edge: the
    compiled graph then grows with the number of families, not of channels (docs/benchmarks.md).
    """

    node: str
    index: int
    edges: tuple[EdgeSpec, ...]

    @property
    def name(self) -> str:
        return f"{GROUP_PREFIX}{self.index}"

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(e.source for e in self.edges)

    @property
    def first(self) -> EdgeSpec:
        return self.edges[0]

    @property
    def signs(self) -> np.ndarray:
        """+1 or -1 per edge: the sign applied to each magnitude (``free`` coefficients carry their own)."""
        return np.array([-1.0 if e.sign == "negative" else 1.0 for e in self.edges])

    def param(self, key: str) -> str:
        """The model's name of the vector of ``key`` over the group's edges."""
        return param_name(self.node, key, self.name)


def media_groups(node: NodeSpec) -> tuple[MediaGroup, ...]:
    """The node's media edges grouped by (adstock, saturation, l_max, lag, modulator), in edge order.

    A group of one edge is that edge: it keeps its scalar variables and its own term. Length-1 vectors
    buy nothing, and their broadcastable shapes made PyTensor 2.38's elemwise fusion fail on calibrated
    graphs (a KeyError inside ``FusionOptimizer``, pytensor#2145, fixed only in PyTensor 3), leaving
    hundreds of unfused operations for numba to compile one by one.
    """
    keyed: dict[tuple, list[EdgeSpec]] = {}
    for e in node.edges:
        if e.is_media and e.n_lags == 1:
            keyed.setdefault((e.adstock, e.saturation, e.l_max, e.lag, e.modulator), []).append(e)
    shared = [es for es in keyed.values() if len(es) > 1]
    return tuple(MediaGroup(node.name, i, tuple(es)) for i, es in enumerate(shared))


def stack_params(values: list[Any]) -> Any:
    """Per-edge parameters (each ``(...)``) as one ``(..., K)`` array, or tensor if any is symbolic."""
    if all(isinstance(v, (np.ndarray, np.generic, float, int)) for v in values):
        return np.stack(np.broadcast_arrays(*[np.asarray(v, dtype=float) for v in values]), axis=-1)
    import pytensor.tensor as pt

    return pt.stack(pt.broadcast_arrays(*[pt.as_tensor_variable(v) for v in values]), axis=-1)


def stack_series(values: list[Any], xp: Any) -> Any:
    """Parent series (each ``(..., T)``) as one ``(..., K, T)`` array; data stay data (numpy) so that
    carry-over over observed series is precomputed (:func:`causalmmm.transforms.adstock.adstock`)."""
    if xp is not np:
        data = [data_value(v) for v in values]
        if all(d is not None for d in data):
            return np.stack(np.broadcast_arrays(*[np.asarray(d, dtype=float) for d in data]), axis=-2)
        return xp.stack(xp.broadcast_arrays(*[xp.as_tensor_variable(v) for v in values]), axis=-2)
    return np.stack(np.broadcast_arrays(*[np.asarray(v, dtype=float) for v in values]), axis=-2)


def group_term(g: MediaGroup, params: Mapping[str, Any], parents: Mapping[str, Any], xp: Any) -> Any:
    """``Σ_k ± beta_k · f(x_k) [· m]`` over the group's edges; ``params`` hold ``(..., K)`` vectors.

    In a PyTensor graph, edges whose parent is data (the likelihood) share one batched term; an edge
    whose parent is symbolic (a counterfactual inside a calibration contrast) gets its own term, as
    numba's LLVM pass took over 10 minutes on batched symbolic series (measured on the search world).
    """
    batched = list(range(len(g.edges)))
    symbolic: list[int] = []
    if xp is not np:
        symbolic = [i for i, s in enumerate(g.sources) if data_value(parents[s]) is None]
        batched = [i for i in batched if i not in symbolic]
    term: Any = 0.0
    if batched:
        sub = params if not symbolic else {k: v[..., np.array(batched)] for k, v in params.items()}
        x = stack_series([parents[g.sources[i]] for i in batched], xp)
        z = edge_input(g.first, sub, x, xp)  # (..., K, T)
        term = xp.sum(xp.expand_dims(sub["beta"] * g.signs[batched], -1) * z, axis=-2)
    for i in symbolic:
        term = term + edge_term(g.edges[i], {k: v[..., i] for k, v in params.items()}, parents[g.sources[i]], xp, 1.0)
    return term * parents[g.first.modulator] if g.first.modulator is not None else term


def node_mean(node: NodeSpec, params: Mapping[str, Any], parents: Mapping[str, Any], features: TimeFeatures, xp: Any) -> Any:
    """Expected value of ``node`` (scaled units).

    ``params``: ``{"intercept", "trend"?, "season"?, "edges": {source: {"beta", ...}},
    "media": {group name: {key: (..., K)}}}`` (see :func:`params_from_flat`).
    ``parents``: scaled parent series, shape ``(..., T)``.
    """
    mu = _col(params["intercept"], xp)
    grouped: set[str] = set()
    for g in media_groups(node):
        mu = mu + group_term(g, params["media"][g.name], parents, xp)
        grouped.update(g.sources)
    for e in node.edges:
        if e.source not in grouped:
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
    """Nest flat ``node|...`` variables (PyMC RVs or posterior arrays) for ``node_mean``.

    Per-edge entries come from ``node|source|key``; each media group's vectors from ``node|*mediaN|key``
    when present (the model's variables), else stacked from the per-edge entries (posterior draws).
    """
    out: dict[str, Any] = {"edges": {}, "media": {}}
    for key in ("intercept", "sigma", "nu", "trend", "changepoint", "season", "rho"):
        name = param_name(node.name, key)
        if name in flat:
            out[key] = flat[name]
    for g in media_groups(node):
        group = out["media"][g.name] = {}
        for k in g.first.param_names:
            if g.param(k) in flat:
                group[k] = flat[g.param(k)]
                for i, s in enumerate(g.sources):
                    out["edges"].setdefault(s, {})[k] = group[k][..., i]
            else:
                group[k] = stack_params([flat[param_name(node.name, k, s)] for s in g.sources])
    for e in node.edges:
        have = out["edges"].setdefault(e.source, {})
        have.update({k: flat[param_name(node.name, k, e.source)] for k in e.param_names if k not in have})
    return out
