"""Preposterior analysis over posterior draws: what the posterior would be after a measurement.

For "true" draws ``j`` (a seeded subset of the posterior) the measurement would read
``y_j = I(θ_j) + ε_j``, ``ε_j ~ Normal(0, se²)``. Its likelihood reweights every posterior draw ``k``:
``w_jk ∝ Normal(y_j | I(θ_k), se²)`` (self-normalised importance weights; the posterior is the proposal).
Any quantity of the posterior after the experiment is then a weighted average over the same draws:
no refit, and one outcome vector per budget allocation serves every reweighting.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

#: Below this mean effective sample size the importance weights are too degenerate to trust (the
#: measurement is far more precise than the posterior); the linear-Gaussian closed form is used instead.
MIN_ESS = 20.0


def importance_weights(implied: np.ndarray, y: np.ndarray, se: float) -> np.ndarray:
    """``W[j, k] ∝ exp(−(y_j − I_k)² / 2se²)``, rows summing to 1. ``se = 0`` is treated as a tiny se."""
    implied = np.asarray(implied, dtype=float)
    scale = max(float(se), 1e-12 * max(float(np.std(implied)), 1e-300))
    logw = -0.5 * ((np.asarray(y, dtype=float)[:, None] - implied[None, :]) / scale) ** 2
    return np.exp(logw - logsumexp(logw, axis=1, keepdims=True))


def weighted_sd(weights: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per row of ``weights`` (J, K), the weighted sd of each column of ``values`` (K, C): (J, C)."""
    mean = weights @ values
    second = weights @ values**2
    return np.sqrt(np.maximum(second - mean**2, 0.0))


def closed_form_sd(values: np.ndarray, implied: np.ndarray, se: float) -> np.ndarray:
    """Linear-Gaussian posterior sd after the measurement: ``sqrt(var(R) − cov(R, I)² / (var(I) + se²))`` per column."""
    values = np.asarray(values, dtype=float)
    i = np.asarray(implied, dtype=float)
    vi = float(i.var())
    cov = ((values - values.mean(axis=0)) * (i - i.mean())[:, None]).mean(axis=0)
    return np.sqrt(np.maximum(values.var(axis=0) - cov**2 / (vi + se**2), 0.0))


@dataclass(frozen=True)
class Preposterior:
    """The simulated measurements of one candidate and the weights they put on the draws."""

    weights: np.ndarray  # (J, K)
    ess: float  # mean effective sample size over j

    @classmethod
    def simulate(cls, implied: np.ndarray, se: float, n_true: int, rng: np.random.Generator) -> Preposterior:
        k = len(implied)
        truth = rng.choice(k, size=min(n_true, k), replace=n_true > k)
        y = np.asarray(implied, dtype=float)[truth] + se * rng.standard_normal(len(truth))
        w = importance_weights(implied, y, se)
        return cls(w, float(np.mean(1.0 / np.sum(w**2, axis=1))))

    def expected_sd(self, values: np.ndarray) -> np.ndarray:
        """E_y[posterior sd after y] of each column of ``values`` (K, C)."""
        return weighted_sd(self.weights, values).mean(axis=0)

    def evsi(self, utility: np.ndarray) -> float:
        """``E_y[max_a E_w U(a)] − max_a E U(a)`` for ``utility`` (A allocations, K draws).

        ``E U(a)`` is taken as ``E_y[E_w U(a)]`` (equal in expectation, by the law of total expectation), so the
        importance-sampling error of the two terms cancels and the estimate is ≥ 0 (Jensen), as EVSI is."""
        after = self.weights @ np.asarray(utility, dtype=float).T  # (J, A)
        value = float(after.max(axis=1).mean() - after.mean(axis=0).max())
        return value if value > 1e-9 * float(np.abs(utility).max(initial=0.0)) else 0.0  # rounding noise when the allocations agree
