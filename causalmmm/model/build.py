"""Spec → PyMC: one model per fit block (a set of nodes), no sampling here."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pymc as pm
import pytensor.tensor as pt
from pymc_extras.prior import Prior

from causalmmm.data import Dataset
from causalmmm.model.calibration import add_calibration_terms
from causalmmm.model.equations import MediaGroup, TimeFeatures, edge_input, media_groups, node_mean, param_name, params_from_flat
from causalmmm.spec import EdgeSpec, ModelSpec, NodeSpec, edge_default_priors, node_default_priors
from causalmmm.transforms import saturate, shift


def scaled_series(spec: ModelSpec, data: Dataset) -> dict[str, np.ndarray]:
    """Every observed series divided by its scale (the model's units)."""
    return {n: data.column(n) / spec.scales[n] for n in spec.scales}


def time_features(spec: ModelSpec) -> TimeFeatures:
    return TimeFeatures.for_periods(spec.n_periods, spec.periods_per_year)


def add_latent_factor(name: str, n_periods: int) -> pt.TensorVariable:
    """A standardised AR(1) series ``z`` for a latent node (exactly mean 0 and sd 1 in every draw).

    ``u`` is an AR(1) series with stationary variance 1, sampled *centred*
    (``u_t ~ Normal(rho u_{t-1}, sqrt(1 - rho^2))``): the factor's children pin
    it down period by period, and a non-centred parameterisation then couples
    every innovation to ``rho`` (a funnel). ``z = (u - mean(u)) / sd(u)`` fixes
    the factor's location and scale, which would otherwise trade off against
    every child's intercept and loading (chains drifting apart along those
    ridges). The sign is left free (see :func:`causalmmm.model.fit.align_factor_signs`).
    ``rho ~ Beta(8, 2)`` favours slowly moving causes such as demand. Stored as
    ``NAME|z`` (and ``NAME|rho``, ``NAME|u``) in the posterior.
    """
    rho = pm.Beta(param_name(name, "rho"), alpha=8.0, beta=2.0)
    u = pm.AR(
        param_name(name, "u"),
        rho=pt.stack([rho]),
        sigma=pt.sqrt(1.0 - rho**2),
        init_dist=pm.Normal.dist(0.0, 1.0),
        steps=n_periods - 1,
        ar_order=1,
        constant=False,
    )
    centred = u - pt.mean(u)
    return pm.Deterministic(param_name(name, "z"), centred / pt.sqrt(pt.mean(centred**2)))


def add_node_variables(
    node: NodeSpec, series: dict[str, np.ndarray] | None = None, latents: tuple[str, ...] = (), existing: dict[str, pt.TensorVariable] | None = None
) -> dict[str, pt.TensorVariable]:
    """Create the node's random variables in the current model; return them by flat name.

    Parameterisation (centred). Sampled are the node's *level* — its mean at
    reference inputs (linear parents at their mean, media inputs at 1, i.e. mean
    spend) — and, for saturating media edges, ``beta_ref``: the effect at the
    reference input. ``beta`` and ``intercept`` are deterministic transforms of
    them, so the structural equation is unchanged. This removes the
    intercept/coefficient and coefficient/half-saturation ridges that made NUTS
    diverge when spend never goes near zero. The ``intercept`` prior applies to
    the level and the ``beta`` prior of a saturating edge to ``beta_ref``.

    Media edges that share their transforms are created by group
    (:class:`~causalmmm.model.equations.MediaGroup`): one vector per parameter, so the compiled model
    grows with the number of transform families, not channels. Any other edge has scalar variables.
    """
    existing = {} if existing is None else existing
    flat: dict[str, pt.TensorVariable] = {}
    priors_node = node_default_priors(node)
    for key, prior in priors_node.items():
        if key == "intercept" and series is not None:
            continue
        name = param_name(node.name, key)
        size = {"season": 2 * node.seasonality, "changepoint": node.changepoints}.get(key)
        flat[name] = _vector_variable(prior, name, size) if size else prior.create_variable(name)
    at_reference = []
    grouped: set[str] = set()
    for g in media_groups(node):
        at_reference.append(_add_group_variables(g, series, flat, existing))
        grouped.update(g.sources)
    for e in node.edges:
        if e.source in grouped:
            continue
        priors = {**edge_default_priors(e), **e.priors}
        saturating = e.saturation != "none" and series is not None
        for key in e.param_names:
            if not (key == "beta" and saturating):
                flat[param_name(node.name, key, e.source)] = _edge_variable(node.name, e, key, priors[key], flat, existing)
        bname = param_name(node.name, "beta", e.source)
        if saturating:  # sampled: the effect at the reference input (mean spend); beta follows
            params = {k: flat[param_name(node.name, k, e.source)] for k in e.param_names if k != "beta"}
            s1 = saturate(pt.ones((1,)), e.saturation, params, pt)[0]
            beta_ref = priors["beta"].create_variable(param_name(node.name, "beta_ref", e.source))
            flat[bname] = pm.Deterministic(bname, beta_ref / s1)
            at_reference.append(-beta_ref if e.sign == "negative" else beta_ref)
        elif series is not None and e.source not in latents and e.n_lags > 1:  # Σ_l b_l · mean(x[t - lag - l])
            refs = np.array([np.mean(shift(series[e.source], e.lag + k, np, fill="edge")) for k in range(e.n_lags)])
            at_reference.append(pt.dot(flat[bname], refs))
        elif series is not None and e.source not in latents:  # a latent factor has mean ~0: no reference shift
            x_ref = edge_input(e, {}, series[e.source], np) if not e.is_media else 1.0  # media inputs at 1 (mean spend)
            mod = series[e.modulator] if e.modulator is not None else 1.0
            ref = float(np.mean(np.asarray(x_ref) * mod))
            at_reference.append((-1.0 if e.sign == "negative" else 1.0) * flat[bname] * ref)
    if series is not None:
        prior = node.priors.get("intercept")
        if prior is None:
            prior = Prior("Normal", mu=float(np.mean(series[node.name])), sigma=1.0)
        level = prior.create_variable(param_name(node.name, "level"))
        name = param_name(node.name, "intercept")
        terms: list[Any] = [r for r in at_reference if r is not None]
        flat[name] = pm.Deterministic(name, level - sum(terms) if terms else level * 1.0)
    return flat


def _vector_variable(prior: Prior, name: str, size: int) -> pt.TensorVariable:
    """A prior with a shape (Fourier coefficients, changepoints, distributed lags)."""
    dist = getattr(pm, prior.distribution)
    return dist(name, **prior.parameters, shape=(size,))


def _edge_variable(node: str, e: EdgeSpec, key: str, prior: Prior, flat: dict, existing: dict) -> pt.TensorVariable:
    """One edge's parameter ``key``: its own random variable, or the one it shares with another edge.

    Shared parameters (``EdgeSpec.shared_params``, one carry-over per channel) are one random variable,
    named after the owning edge (``shared_from``) and looked up in ``existing`` (the variables of the
    nodes already built); this edge stores a Deterministic copy under its own name.
    """
    name = param_name(node, key, e.source)
    if key in e.shared_params and e.shared_from is not None:
        owner = param_name(e.shared_from, key, e.source)
        if owner not in existing and owner not in flat:  # the owning node is built later (or not in this model)
            flat[owner] = prior.create_variable(owner)
        return pm.Deterministic(name, existing.get(owner, flat.get(owner)))
    if name in existing:  # an edge sharing this parameter was built first and created it
        return existing[name]
    return _vector_variable(prior, name, e.n_lags) if e.n_lags > 1 else prior.create_variable(name)


def _vector_prior(priors: Sequence[Prior], name: str) -> pt.TensorVariable | None:
    """One vector random variable with per-element parameters, when every prior is the same plain
    distribution with numeric parameters; None otherwise (hierarchical or transformed priors)."""
    first = priors[0]

    def plain(p: Prior) -> bool:
        return (
            p.distribution == first.distribution
            and set(p.parameters) == set(first.parameters)
            and all(isinstance(v, (int, float)) for v in p.parameters.values())
            and getattr(p, "transform", None) is None
            and not getattr(p, "dims", None)
        )

    if not all(plain(p) for p in priors):
        return None
    params = {k: np.array([float(p.parameters[k]) for p in priors]) for k in first.parameters}
    return getattr(pm, first.distribution)(name, **params, shape=(len(priors),))


def _add_group_variables(g: MediaGroup, series: dict[str, np.ndarray] | None, flat: dict, existing: dict) -> pt.TensorVariable | None:
    """Create a media group's parameters as vectors ``node|*mediaN|key`` (also indexed per edge in
    ``flat``, for shared carry-over and the other nodes); return the group's effect at reference inputs.

    A parameter that an edge shares with another edge, or whose priors differ in family, is built per
    edge and stacked. :func:`causalmmm.model.fit.expand_media_groups` names the draws per edge.
    """
    priors = [{**edge_default_priors(e), **e.priors} for e in g.edges]
    saturating = g.first.saturation != "none" and series is not None
    for key in g.first.param_names:
        if key == "beta" and saturating:
            continue
        names = [param_name(g.node, key, e.source) for e in g.edges]
        shared = any(key in e.shared_params for e in g.edges) or any(n in existing for n in names)
        vec = None if shared else _vector_prior([p[key] for p in priors], g.param(key))
        if vec is None:
            vec = pt.stack([_edge_variable(g.node, e, key, p[key], flat, existing) for e, p in zip(g.edges, priors)])
        flat[g.param(key)] = vec
        for i, n in enumerate(names):
            flat.setdefault(n, vec[i])
    if series is None:
        return None
    if saturating:
        params = {k: flat[g.param(k)] for k in g.first.param_names if k != "beta"}
        s1 = saturate(pt.ones((1,)), g.first.saturation, params, pt)[..., 0]
        beta_ref = _vector_prior([p["beta"] for p in priors], g.param("beta_ref"))
        if beta_ref is None:
            beta_ref = pt.stack([p["beta"].create_variable(param_name(g.node, "beta_ref", e.source)) for e, p in zip(g.edges, priors)])
        beta = pm.Deterministic(g.param("beta"), beta_ref / s1)
        flat[g.param("beta")] = beta
        for i, e in enumerate(g.edges):
            flat[param_name(g.node, "beta", e.source)] = beta[i]
        return pt.sum(beta_ref * g.signs)
    mod = float(np.mean(series[g.first.modulator])) if g.first.modulator is not None else 1.0  # media inputs at 1
    return pt.sum(flat[g.param("beta")] * g.signs) * mod


def add_node_likelihood(node: NodeSpec, flat: dict, series: dict[str, np.ndarray], features: TimeFeatures) -> pt.TensorVariable:
    """Add ``node``'s likelihood given observed (scaled) parents; return its mean."""
    params = params_from_flat(node, flat)
    parents = {p: pt.as_tensor_variable(series[p]) for p in node.parents}
    mu = node_mean(node, params, parents, features, pt)
    sigma = params["sigma"]
    name = param_name(node.name, "obs")
    y = series[node.name]
    loc, scale = mu, sigma
    if node.noise == "ar1":  # one observed vector (pointwise log-lik keeps T terms): e[0] stationary, then e[t] | e[t-1]
        rho = params["rho"]
        resid = y - mu
        loc = pt.concatenate([mu[:1], mu[1:] + rho * resid[:-1]])
        scale = pt.concatenate([pt.stack([sigma / pt.sqrt(1.0 - rho**2)]), pt.ones(len(y) - 1) * sigma])
    if node.likelihood == "student_t":
        pm.StudentT(name, nu=params["nu"], mu=loc, sigma=scale, observed=y)
    else:
        pm.Normal(name, mu=loc, sigma=scale, observed=y)
    return mu


def build_model(spec: ModelSpec, data: Dataset, nodes: Sequence[str] | None = None, experiments: Sequence = ()) -> pm.Model:
    """The PyMC model of the given nodes (default: all modelled nodes).

    ``experiments``: calibrating experiments whose involved nodes all lie in
    ``nodes``; each adds a likelihood term on its model-implied contrast.
    """
    names = list(nodes) if nodes is not None else list(spec.node_names)
    series: dict[str, Any] = scaled_series(spec, data)  # latent factors add pytensor variables
    features = time_features(spec)
    with pm.Model() as model:
        flat: dict = {}
        for latent in spec.latents:
            if any(c in names for c in spec.latent_children(latent)):
                series[latent] = add_latent_factor(latent, spec.n_periods)
        for name in names:
            node = spec.node(name)
            node_flat = add_node_variables(node, series, spec.latents, flat)
            add_node_likelihood(node, node_flat, series, features)
            flat.update(node_flat)
        if experiments:
            add_calibration_terms(spec, data, experiments, flat, series, features, names)
    return model


def edge_names(model: pm.Model, spec: ModelSpec) -> dict[str, tuple[str, int | None]]:
    """The model's named variables under the names of the fitted posterior: ``name -> (model variable,
    index)``. A media group's vector ``node|*mediaN|key`` gives one ``node|source|key`` per edge (its
    index in the vector); every other variable maps to itself (index None). Shared copies keep theirs."""
    out: dict[str, tuple[str, int | None]] = {n: (n, None) for n in model.named_vars if "*media" not in n}
    for node in spec.nodes:
        for g in media_groups(node):
            for key in (*g.first.param_names, "beta_ref"):
                if g.param(key) in model.named_vars:
                    for i, e in enumerate(g.edges):
                        out.setdefault(param_name(node.name, key, e.source), (g.param(key), i))
    return out


def variables_by_edge(model: pm.Model, spec: ModelSpec) -> dict[str, pt.TensorVariable]:
    """The model's named variables by posterior name (see :func:`edge_names`), as tensors."""
    return {n: model[v] if i is None else model[v][i] for n, (v, i) in edge_names(model, spec).items()}
