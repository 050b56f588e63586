"""The design's noise model: the standard error a candidate's measurement would have.

Everything is in the measured nodes' data units, per period (the experiments' ``per_period`` unit).
The noise of a measured node is its posterior residual process (posterior-mean ``sigma`` times the
node's scale; with ``noise=ar1`` its posterior-mean ``rho``, ``sigma`` being the innovation sd), the
measured nodes' noises independent. The formulas are in docs/concepts.md, "Planning the next experiment".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from causalmmm.planning.candidates import Candidate

#: The pre-period a pre/post forecast (or a geo-lift's synthetic control) is fitted on, at most (periods).
MAX_PRE = 52


@dataclass(frozen=True)
class NodeNoise:
    """A measured sum's residual process: stationary variance and lag-1 autocorrelation."""

    variance: float  # stationary variance of one period (data units²)
    rho: float = 0.0

    def covariance(self, n: int) -> np.ndarray:
        lags = np.abs(np.subtract.outer(np.arange(n), np.arange(n)))
        return self.variance * self.rho**lags

    def contrast_variance(self, weights: np.ndarray) -> float:
        """Variance of ``Σ_t weights_t · e_t`` over consecutive periods."""
        w = np.asarray(weights, dtype=float)
        return float(w @ self.covariance(len(w)) @ w)

    def mean_variance(self, n: int) -> float:
        """Variance of the mean of ``n`` consecutive periods: ``V_n = σ²/n² Σ_ij ρ^|i-j|``."""
        return self.contrast_variance(np.full(n, 1.0 / n))


def measured_noise(scm: Any, nodes: tuple[str, ...]) -> NodeNoise:
    """The residual process of the sum of ``nodes`` from the posterior (means of sigma and rho)."""
    var, cov_rho = 0.0, 0.0
    for m in nodes:
        p = scm.node_params.get(m, {})
        if "sigma" not in p:  # an exogenous node has no residual in the model: measured without model noise
            continue
        sigma = float(np.mean(np.asarray(p["sigma"], dtype=float))) * float(scm.spec.scales[m])
        rho = float(np.mean(np.asarray(p["rho"], dtype=float))) if "rho" in p else 0.0
        v = sigma**2 / (1.0 - rho**2)
        var += v
        cov_rho += rho * v
    return NodeNoise(var, cov_rho / var if var > 0 else 0.0)


def switchback_weights(n: int, block: int) -> np.ndarray:
    """Contrast of a switchback over ``n`` periods: blocks of ``block`` periods, on first, alternating; the
    first period of each block is washout (weight 0); +1/n_on on kept on-periods, −1/n_off on kept off-periods.
    The estimate is off − on, so the sign is irrelevant to its variance."""
    block = max(1, min(block, n // 2)) if n >= 2 else 1
    state = (np.arange(n) // block) % 2  # 0 on, 1 off
    kept = (np.arange(n) % block) != 0 if block > 1 else np.ones(n, dtype=bool)
    w = np.zeros(n)
    for s, sign in ((0, -1.0), (1, 1.0)):
        sel = kept & (state == s)
        if sel.any():
            w[sel] = sign / sel.sum()
    return w


def forecast_variance(noise: NodeNoise, n_pre: int, n: int) -> float:
    """Variance of a linear-trend forecast of the window mean from ``n_pre`` pre-periods (AR(1)-inflated)."""
    if n_pre < 3:
        return float("inf")
    t = np.arange(n_pre, dtype=float)
    t0 = n_pre - 1 + (n + 1) / 2.0  # the window's mid-point
    sxx = float(((t - t.mean()) ** 2).sum())
    inflate = (1 + noise.rho) / (1 - noise.rho) if noise.rho > 0 else 1.0
    return float(noise.variance * inflate * (1.0 / n_pre + (t0 - t.mean()) ** 2 / sxx))


def measurement_se(scm: Any, cand: Candidate, n: int, n_pre: int) -> float:
    """The candidate's standard error (per period, measured nodes' units), by design:

    * lift: a randomised share ``g`` of the market held out; national effect = treated-share effect / g;
      noise of a share proportional to its size: ``se² = V_n / (g(1−g))``;
    * geo_lift: the same with the treated geos' share ``g``, plus the synthetic control's fit error
      (counterfactual fitted on ``n_pre`` periods): ``se² = V_n / (g(1−g)) · (1 + n / n_pre)``;
    * switchback: the whole market alternates blocks on/off, washout dropped, ``se² = wᵀΣw`` (positive
      autocorrelation cancels in the difference);
    * pre_post: the whole market goes dark, counterfactual = a linear-trend forecast from the pre-period:
      ``se² = V_n + forecast variance``.
    """
    noise = measured_noise(scm, cand.measured)
    if noise.variance <= 0:
        return 0.0
    v_n = noise.mean_variance(n)
    g = min(max(cand.share, 1e-6), 1 - 1e-6)
    if cand.design == "lift":
        var = v_n / (g * (1 - g))
    elif cand.design == "geo_lift":
        var = v_n / (g * (1 - g)) * (1 + n / max(n_pre, 1))
    elif cand.design == "switchback":
        var = noise.contrast_variance(switchback_weights(n, cand.block))
    else:  # pre_post
        var = v_n + forecast_variance(noise, n_pre, n)
    return float(np.sqrt(var))
