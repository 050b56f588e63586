"""Propagation of interventions through the structural equations, defined once.

:func:`counterfactual_values` serves the query engine (numpy, parameters of
shape (draws,)), the calibration likelihood (PyTensor, scalar random variables)
and validation (experiment contrasts). It lives below model building and
fitting, so every layer that needs it imports downwards.

Adjustment terms (:attr:`causalmmm.spec.NodeSpec.adjustment`) always see their
observed values: they are in an equation only to block a backdoor path, so an
intervention must not move them (the backdoor and front-door formulas average
them over their observed distribution).
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from causalmmm.intervention import Intervention
from causalmmm.model.equations import node_mean
from causalmmm.spec import ModelSpec

__all__ = ["Intervention", "counterfactual_values"]


def counterfactual_values(
    spec: ModelSpec,
    params: Mapping[str, Mapping[str, Any]],
    fact: Mapping[str, Any],
    interventions: Sequence[Intervention],
    mask: np.ndarray,
    features: Any,
    xp: Any,
    *,
    active_edges: Iterable[tuple[str, str]] | None = None,
    mu_fact: Mapping[str, Any] | None = None,
    only: Iterable[str] | None = None,
) -> dict[str, Any]:
    """Counterfactual series of the nodes the intervention changes (scaled units).

    Additive noise makes abduction–action–prediction a difference of means:
    ``y' = y_obs + mu(parents') - mu(parents_obs)``. This one function serves
    the query engine (``xp=numpy``, parameters of shape (draws,)) and the
    calibration likelihood (``xp=pytensor.tensor``, scalar random variables).
    ``only`` limits the recomputation to some nodes (calibration needs just
    the paths to the measured nodes). Returns only the changed nodes.
    """
    active = None if active_edges is None else set(active_edges)
    keep = None if only is None else set(only)
    by_node = {iv.node: iv for iv in interventions}
    changed: dict[str, Any] = {}
    for node in spec.exogenous:
        if node in by_node:
            changed[node] = by_node[node].apply(fact[node], mask, spec.scales[node], xp)
    for n in spec.nodes:
        if keep is not None and n.name not in keep and n.name not in by_node:
            continue
        # adjustment terms are held at their observed values (backdoor/front-door formula): never moved
        moved = [p for p in n.causes if p in changed and (active is None or (p, n.name) in active)]
        if not moved and n.name not in by_node:
            continue
        y = fact[n.name]
        if moved:
            parents = {p: changed[p] if p in moved else fact[p] for p in n.parents}
            base = mu_fact[n.name] if mu_fact is not None else node_mean(n, params[n.name], {p: fact[p] for p in n.parents}, features, xp)
            y = y + node_mean(n, params[n.name], parents, features, xp) - base
        if n.name in by_node:
            y = by_node[n.name].apply(y, mask, spec.scales[n.name], xp)
        changed[n.name] = y
    return changed
