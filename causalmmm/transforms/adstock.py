"""Carry-over (adstock) and lags, backend-agnostic (numpy or pytensor)."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from causalmmm.transforms.registry import ADSTOCK_PARAMS, NONE, family

__all__ = ["ADSTOCK_PARAMS", "adstock", "adstock_weights", "data_value", "lag_matrix", "shift"]


def adstock_weights(kind: str, params: Mapping[str, Any], l_max: int, xp: Any) -> Any:
    """Normalised carry-over weights ``w[..., l]`` for lags ``l = 0..l_max-1`` of a registered family
    (formulas in :mod:`causalmmm.transforms.registry`)."""
    lags = xp.arange(l_max).astype("float64")
    w = family("adstock", kind).fn(lags, params, xp)
    return w / xp.sum(w, axis=-1, keepdims=True)


def shift(x: Any, lag: int, xp: Any, fill: str = "zero") -> Any:
    """``y[..., t] = x[..., t - lag]``; the first ``lag`` values are 0 or the first value."""
    if lag == 0:
        return x
    head = x[..., :1] * 0.0 if fill == "zero" else x[..., :1]
    pad = xp.concatenate([head] * lag, axis=-1)
    return xp.concatenate([pad, x[..., :-lag]], axis=-1)


def lag_matrix(x: np.ndarray, l_max: int) -> np.ndarray:
    """``M[..., t, l] = x[..., t - l]`` (0 before the start), so that adstock is ``M @ w``."""
    T = x.shape[-1]
    padded = np.concatenate([np.zeros(x.shape[:-1] + (l_max - 1,)), x], axis=-1)
    return np.stack([padded[..., l_max - 1 - lag : l_max - 1 - lag + T] for lag in range(l_max)], axis=-1)


def data_value(x: Any) -> np.ndarray | None:
    """The value of ``x`` if it is data (a numpy array or a pytensor constant), else None."""
    if isinstance(x, np.ndarray):
        return x
    from pytensor.tensor.variable import TensorConstant

    return np.asarray(x.data) if isinstance(x, TensorConstant) else None


def adstock(x: Any, kind: str, params: Mapping[str, Any], l_max: int, xp: Any) -> Any:
    """Apply carry-over along the last axis: ``y_t = sum_l w_l x_{t-l}`` (zeros before the start).

    In a pytensor graph over observed (constant) series the lagged copies are
    precomputed, so the graph holds one product ``M @ w`` instead of ``l_max``
    shifted slices; that keeps compile time flat in ``l_max``. ``x`` may be a batch of series
    ``(K, T)`` with parameters ``(..., K)`` (one media group).
    """
    if kind == NONE:
        return x
    w = adstock_weights(kind, params, l_max, xp)
    if xp is not np and l_max > 1 and (data := data_value(x)) is not None:
        lagged = lag_matrix(np.asarray(data, dtype=float), l_max)  # (..., T, L)
        if data.ndim == 1:
            return xp.tensordot(w, lagged, axes=[[w.ndim - 1], [1]])
        return xp.sum(xp.expand_dims(w, -2) * lagged, axis=-1)  # a batch of series (K, T) with weights (..., K, L)
    T = x.shape[-1]
    padded = xp.concatenate([x[..., :1] * 0.0] * (l_max - 1) + [x], axis=-1) if l_max > 1 else x
    out = w[..., 0:1] * x
    for lag in range(1, l_max):
        out = out + w[..., lag : lag + 1] * padded[..., l_max - 1 - lag : l_max - 1 - lag + T]
    return out
