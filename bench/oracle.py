"""An oracle reference estimator: how accurate can total ROAS be from these data at all?

The oracle knows everything about a simulated world except its linear coefficients: the
graph, every adstock/saturation shape and lag, and every node's value, latent ones included.
It estimates each mechanism's intercept and term coefficients by ordinary least squares on the
factual data, then computes the channels' total ROAS exactly as the world computes its truth.

Its errors measure the information in one seed's data: an estimator that also has to learn the
shapes (causalmmm) can match it, with experiments it can beat it a little, but no estimator
can be expected to be much more accurate per seed. Its sampling sd comes from the usual OLS
covariance, propagated to ROAS by the delta method (finite differences).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Collection

import numpy as np

from causalmmm.errors import CausalMMMError
from causalmmm.simulate.world import Mechanism, World


def _design(world: World, m: Mechanism) -> tuple[np.ndarray, list[str]]:
    """Columns whose OLS coefficients are (intercept, term betas..., season amplitude)."""
    fact = world.factual
    t = np.arange(world.n_periods)
    cols = [np.ones(world.n_periods)]
    names = ["intercept"]
    for i, term in enumerate(m.terms):
        cols.append(replace(term, beta=1.0).value(fact[term.source].to_numpy()))
        names.append(f"term{i}")
    if m.season_amplitude:
        cols.append(np.sin(2 * np.pi * t / 52.18))
        names.append("season")
    if m.trend:
        cols.append(t.astype(float))
        names.append("trend")
    for k in range(1, len(m.fourier) + 1):  # each harmonic's (sin, cos) amplitudes are estimated
        w = 2 * np.pi * k * t / m.season_period
        cols += [np.sin(w), np.cos(w)]
        names += [f"sin{k}", f"cos{k}"]
    return np.column_stack(cols), names


def _true_coefficients(m: Mechanism) -> list[float]:
    """The mechanism's coefficients in the order of :func:`_design`'s columns."""
    return [
        m.intercept,
        *(t.beta for t in m.terms),
        *([m.season_amplitude] if m.season_amplitude else []),
        *([m.trend] if m.trend else []),
        *(a for pair in m.fourier for a in pair),
    ]


def _with_coefficients(world: World, coefs: dict[str, np.ndarray]) -> World:
    """A copy of ``world`` whose mechanisms carry ``coefs`` and whose noise is the OLS residual."""
    mechs, noise = [], {}
    for node, m in world.mechanisms.items():
        b = coefs[node]
        terms = tuple(replace(term, beta=float(b[1 + i])) for i, term in enumerate(m.terms))
        i = 1 + len(m.terms)
        season = float(b[i]) if m.season_amplitude else 0.0
        i += bool(m.season_amplitude)
        trend = float(b[i]) if m.trend else 0.0
        i += bool(m.trend)
        fourier = tuple((float(b[i + 2 * k]), float(b[i + 2 * k + 1])) for k in range(len(m.fourier)))
        new = replace(m, intercept=float(b[0]), terms=terms, season_amplitude=season, trend=trend, fourier=fourier)
        x, _ = _design(world, m)
        noise[node] = world.factual[node].to_numpy() - x @ b
        mechs.append(new)
    return World(world.name + "-oracle", world.dates, world.exogenous, mechs, noise, world.graph, world.seed, world.preset)


def oracle_roas(world: World, known: Collection[str] = ()) -> dict[str, dict[str, float]]:
    """Per spend channel: the oracle's total ROAS and its delta-method sd.

    ``known``: nodes whose mechanisms are taken as true instead of estimated, as if
    perfect experiments had measured them (e.g. every click node: only the outcome's
    equation is then estimated from the data).
    """
    if any(m.multiplier for m in world.mechanisms.values()):
        raise CausalMMMError("oracle: multiplicative mechanisms are not linear in their coefficients; use an additive preset")
    coefs: dict[str, np.ndarray] = {}
    covs: dict[str, np.ndarray] = {}
    for node, m in world.mechanisms.items():
        x, _ = _design(world, m)
        y = world.factual[node].to_numpy()
        if node in known:
            true = _true_coefficients(m)
            coefs[node], covs[node] = np.asarray(true, dtype=float), np.zeros((x.shape[1], x.shape[1]))
            continue
        b, *_ = np.linalg.lstsq(x, y, rcond=None)
        resid = y - x @ b
        s2 = float(resid @ resid) / max(len(y) - x.shape[1], 1)
        coefs[node], covs[node] = b, s2 * np.linalg.pinv(x.T @ x)

    def roas(c: dict[str, np.ndarray]) -> dict[str, float]:
        eff = _with_coefficients(world, c).true_effects()
        return {ch: e["roas"] for ch, e in eff.items()}

    base = roas(coefs)
    var = {ch: 0.0 for ch in base}
    for node, b in coefs.items():  # delta method, one node's coefficients at a time (nodes' OLS fits are independent)
        if node in known:
            continue
        grads = np.zeros((len(b), len(base)))
        for j in range(len(b)):
            h = 1e-4 * max(abs(b[j]), 1.0)
            bumped = dict(coefs)
            bumped[node] = b.copy()
            bumped[node][j] += h
            r = roas(bumped)
            grads[j] = [(r[ch] - base[ch]) / h for ch in base]
        for k, ch in enumerate(base):
            var[ch] += float(grads[:, k] @ covs[node] @ grads[:, k])
    return {ch: {"roas": base[ch], "sd": float(np.sqrt(var[ch]))} for ch in base}
