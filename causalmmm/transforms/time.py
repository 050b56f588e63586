"""Time-series helpers shared by the model, graph tests and diagnostics: Fourier terms, trend, autocorrelation.

Plain numpy, one definition each (the model's seasonality, discovery's detrending, the
independence tests' time controls and the residual diagnostics all call these).
"""

from __future__ import annotations

import numpy as np

__all__ = ["autocorrelations", "fourier", "trend_and_fourier"]


def fourier(n: int, period: float, order: int) -> np.ndarray:
    """(n, 2*order): ``sin, cos`` of ``2π k t / period`` for ``k = 1..order`` at ``t = 0..n-1``."""
    idx = np.arange(n, dtype=float)
    cols = []
    for k in range(1, order + 1):
        w = 2 * np.pi * k * idx / period
        cols += [np.sin(w), np.cos(w)]
    return np.column_stack(cols) if cols else np.empty((n, 0))


def trend_and_fourier(n: int, period: float, order: int = 2) -> np.ndarray:
    """(n, 1 + 2*order): a linear trend scaled to [0, 1], then :func:`fourier` terms."""
    trend = np.arange(n, dtype=float) / max(n - 1, 1)
    return np.column_stack([trend, fourier(n, period, order)])


def autocorrelations(x: np.ndarray, max_lag: int) -> np.ndarray:
    """Sample autocorrelations at lags 1..max_lag (biased estimator, as in Ljung–Box); zeros for a constant series."""
    x = np.asarray(x, dtype=float) - np.mean(x)
    denom = float(np.dot(x, x))
    if denom == 0.0:
        return np.zeros(max_lag)
    return np.array([float(np.dot(x[k:], x[:-k])) / denom for k in range(1, max_lag + 1)])
