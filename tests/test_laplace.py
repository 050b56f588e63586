"""The fast fit's Laplace approximation against closed forms (no sampler)."""

from __future__ import annotations

import numpy as np
import pymc as pm

from causalmmm.model.laplace import laplace_posterior


def conjugate_model(y: np.ndarray, prior_sd: float, noise_sd: float, name: str = "mu") -> pm.Model:
    with pm.Model() as m:
        mu = pm.Normal(name, 0.0, prior_sd)
        pm.Normal(f"{name}_obs", mu, noise_sd, observed=y)
    return m


def test_a_gaussian_posterior_is_recovered_exactly():
    """Normal prior, Normal likelihood: the posterior is Gaussian, so Laplace is exact (up to Monte Carlo error)."""
    y = np.random.default_rng(0).normal(3.0, 2.0, 40)
    post_var = 1.0 / (1.0 / 10.0**2 + len(y) / 2.0**2)
    post_mean = post_var * y.sum() / 2.0**2
    draws = laplace_posterior(conjugate_model(y, 10.0, 2.0), 4000, seed=1)["posterior"]["mu"].to_numpy().ravel()
    assert abs(draws.mean() - post_mean) < 4 * np.sqrt(post_var / 4000)
    assert abs(draws.std() / np.sqrt(post_var) - 1.0) < 0.05


def test_draws_are_deterministic_and_constrained_parameters_come_back_constrained():
    y = np.random.default_rng(1).normal(0.0, 0.5, 60)
    with pm.Model() as m:
        sigma = pm.HalfNormal("sigma", 1.0)
        pm.Normal("obs", 0.0, sigma, observed=y)
    a = laplace_posterior(m, 300, seed=5)["posterior"]["sigma"].to_numpy()
    b = laplace_posterior(m, 300, seed=5)["posterior"]["sigma"].to_numpy()
    np.testing.assert_array_equal(a, b)
    assert (a > 0).all() and abs(np.median(a) - np.sqrt(np.mean(y**2))) < 0.05


def test_blocks_with_very_different_curvature_are_inverted_separately():
    """Two independent parameters whose curvatures differ by 1e12: per-block inversion keeps both right."""
    with pm.Model() as m:
        a = pm.Normal("a", 0.0, 1e-6)  # extremely tight
        b = pm.Normal("b", 0.0, 1.0)
        pm.Deterministic("a_plus_b", a + b)
    post = laplace_posterior(m, 2000, seed=0, block_of=lambda name: name)["posterior"]
    assert abs(float(post["a"].std()) / 1e-6 - 1.0) < 0.1 and abs(float(post["b"].std()) - 1.0) < 0.1
    assert np.all(np.isfinite(post["a_plus_b"].to_numpy()))
