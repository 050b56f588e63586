"""The fast fit's cheaply compiled log density agrees with PyMC's fully rewritten one."""

from __future__ import annotations

import numpy as np
import pymc as pm
from pymc.blocking import DictToArrayBijection

from causalmmm.model.laplace import neg_logp_and_grad


def test_value_and_gradient_match_pymc_at_random_points():
    y = np.random.default_rng(0).normal(1.0, 0.5, 30)
    with pm.Model() as m:
        mu = pm.Normal("mu", 0.0, 2.0)
        sigma = pm.HalfNormal("sigma", 1.0)
        w = pm.Beta("w", 2.0, 2.0, shape=3)
        pm.Normal("obs", mu + w.sum(), sigma, observed=y)
    point = m.initial_point(0)
    loss = neg_logp_and_grad(m, point)
    logp, dlogp = m.compile_logp(), m.compile_dlogp()
    rng = np.random.default_rng(1)
    info = DictToArrayBijection.map({v.name: point[v.name] for v in m.continuous_value_vars})
    for _ in range(5):
        x = info.data + rng.normal(0.0, 0.5, info.data.size)
        at = DictToArrayBijection.rmap(info._replace(data=x))
        f, g = loss(x)
        np.testing.assert_allclose(-f, logp(at), rtol=1e-10)
        np.testing.assert_allclose(-g, dlogp(at), rtol=1e-8, atol=1e-10)


def test_outside_the_support_the_loss_is_infinite_with_a_zero_gradient():
    with pm.Model() as m:
        s = pm.Normal("s", 0.0, 1.0)
        pm.Normal("obs", 0.0, pm.math.exp(s) - 1.0, observed=[0.1])  # sigma <= 0 when s <= 0
    loss = neg_logp_and_grad(m, m.initial_point(0))
    f, g = loss(np.array([-1.0]))
    assert f == np.inf and np.all(g == 0.0)
    assert np.isfinite(loss(np.array([1.0]))[0])
