"""Draws and innovations of a node's disturbance: iid, or AR(1) when the node's spec says ``noise=ar1``
(the posterior then holds ``node|rho``). numpy only; used by interventional queries, posterior predictive
checks, holdout prediction and residual diagnostics."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np


def noise_draws(likelihood: str, params: Mapping[str, Any], shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Draws of a node's noise (scaled units, ``shape`` = (S, T)) from its likelihood, one sigma (and nu) per
    draw; with ``rho`` in ``params`` an AR(1) process started from its stationary law."""
    sigma = np.asarray(params["sigma"], dtype=float).reshape(-1, 1)
    if likelihood == "student_t" and "nu" in params:
        base = rng.standard_t(np.broadcast_to(np.asarray(params["nu"], dtype=float).reshape(-1, 1), shape))
    else:
        base = rng.standard_normal(shape)
    u = sigma * base
    if "rho" not in params:
        return u
    rho = np.broadcast_to(np.asarray(params["rho"], dtype=float).reshape(-1), (shape[0],))
    e = np.empty(shape)
    e[:, 0] = u[:, 0] / np.sqrt(1.0 - rho**2)
    for t in range(1, shape[1]):
        e[:, t] = rho * e[:, t - 1] + u[:, t]
    return e


def innovations(resid: np.ndarray, rho: float | None) -> np.ndarray:
    """The part of a residual series its noise model does not predict (``e[t] - rho·e[t-1]``; iid: itself)."""
    return resid if rho is None else np.concatenate([resid[:1] * np.sqrt(1.0 - rho**2), resid[1:] - rho * resid[:-1]])
