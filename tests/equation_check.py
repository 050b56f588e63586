"""Shared check: a node's mean in numpy (query engine) equals the PyTensor likelihood mean."""

from __future__ import annotations

import arviz as az
import numpy as np
import pytensor
import pytensor.tensor as pt

from causalmmm.model.build import build_model, scaled_series, time_features
from causalmmm.model.equations import node_mean, params_from_flat
from causalmmm.model.fit import expand_media_groups


def assert_numpy_equals_pytensor(spec, data, seed: int = 1) -> None:
    """For every node: evaluate both backends at one random point of the node's parameters."""
    series = scaled_series(spec, data)
    feats = time_features(spec)
    rng = np.random.default_rng(seed)
    for node in spec.nodes:
        model = build_model(spec, data, [node.name])
        point = {v.name: rng.uniform(0.2, 0.9, size=v.type.shape if v.type.shape else ()) for v in model.free_RVs}
        flat = dict(model.named_vars)  # free RVs and the deterministic beta/intercept
        mu_pt = node_mean(node, params_from_flat(node, flat), {p: pt.as_tensor(series[p]) for p in node.parents}, feats, pt)
        f = pytensor.function(list(model.free_RVs), mu_pt, on_unused_input="ignore")
        ref = f(*[point[v.name] for v in model.free_RVs])
        # numpy with 3 identical draws (deterministic beta/intercept evaluated at the same point)
        names = [n for n in model.named_vars if n.startswith(node.name + "|") and not n.endswith("obs")]
        values = pytensor.function(list(model.free_RVs), [model[n] for n in names], on_unused_input="ignore")(*[point[v.name] for v in model.free_RVs])
        # the query engine sees per-edge names: media-group vectors are split as after a fit
        post = az.from_dict(posterior={k: np.repeat(np.asarray(v)[None, None, ...], 3, axis=1) for k, v in zip(names, values)})
        post = expand_media_groups(post, spec)["posterior"]
        assert not [v for v in post.data_vars if "*media" in str(v)]
        draws = {str(k): post[k].to_numpy()[0] for k in post.data_vars}
        mu_np = node_mean(node, params_from_flat(node, draws), {p: np.tile(series[p], (3, 1)) for p in node.parents}, feats, np)
        np.testing.assert_allclose(mu_np, np.tile(ref, (3, 1)), rtol=1e-10, atol=1e-12)
