"""Calibration: each experiment's estimand as a model-implied contrast.

The contrast is computed by the same counterfactual propagation the query
engine uses (:func:`causalmmm.model.propagate.counterfactual_values`), symbolically
in PyTensor inside the PyMC model: the same intervention, over the same
window, summed over the same measured node(s), with adstock carry-over inside
the window. A Normal (or Student-t) likelihood ties it to the measured
estimate and its standard error.
"""

from __future__ import annotations

from typing import Any, Mapping, Protocol, Sequence

import networkx as nx
import numpy as np

from causalmmm.errors import ExperimentError
from causalmmm.model.equations import experiment_implied, experiment_term, params_from_flat
from causalmmm.model.propagate import Intervention, counterfactual_values
from causalmmm.spec import ModelSpec


class Experiment(Protocol):
    """What calibration reads of an experiment (:class:`causalmmm.experiments.schema.Experiment` has it):
    the estimand and its measurement. The model layer never imports the experiments package."""

    # Read-only members, so a frozen dataclass satisfies the protocol.
    @property
    def name(self) -> str: ...

    @property
    def use(self) -> str: ...

    @property
    def treatment(self) -> str: ...

    @property
    def intervention(self) -> Intervention: ...

    @property
    def measured(self) -> tuple[str, ...]: ...

    @property
    def start(self) -> Any: ...

    @property
    def end(self) -> Any: ...

    @property
    def unit(self) -> str: ...

    @property
    def estimate(self) -> float | None: ...

    @property
    def se(self) -> float | None: ...

    @property
    def likelihood(self) -> str: ...

    @property
    def where(self) -> str: ...

    @property
    def has_result(self) -> bool: ...


def intervention_of(e: Experiment) -> Intervention:
    """The experiment's intervention on its treatment (one :class:`Intervention` type everywhere)."""
    return Intervention.parse(e.treatment, e.intervention)


def involved_nodes(spec: ModelSpec, e: Experiment) -> tuple[str, ...]:
    """Modelled nodes whose mechanisms the contrast depends on: on directed paths treatment → measured."""
    g = spec.causal_digraph()
    if e.treatment not in g:
        raise ExperimentError(f"treatment {e.treatment!r} is not an observed node", where=e.where)
    down = nx.descendants(g, e.treatment)  # the treatment's own mechanism is overridden, not involved
    nodes = set()
    for m in e.measured:
        if m not in g:
            raise ExperimentError(f"measured node {m!r} is not an observed node", where=e.where)
        if m in down:
            nodes |= (nx.ancestors(g, m) | {m}) & down
    modelled = [n for n in spec.node_names if n in nodes]
    return tuple(modelled)


def check_calibratable(spec: ModelSpec, e: Experiment) -> None:
    """The model must be able to express the experiment's contrast."""
    if not any(m in involved_nodes(spec, e) for m in e.measured):
        raise ExperimentError(
            f"no measured node ({', '.join(e.measured)}) is downstream of {e.treatment!r} in the model",
            where=e.where,
            hint="the graph has no path from the treatment to what was measured; fix the graph or the experiment",
        )


def calibration_ties(spec: ModelSpec, experiments: Sequence[Experiment]) -> list[tuple[str, ...]]:
    """Groups of nodes each calibrating experiment ties into one fit block."""
    return [involved_nodes(spec, e) for e in experiments if e.use == "calibrate"]


def contrast(spec: ModelSpec, params: Mapping[str, Mapping[str, Any]], fact: Mapping[str, Any], e: Experiment, mask: np.ndarray, features: Any, xp: Any) -> Any:
    """Model-implied estimand of ``e``: Σ over window and measured nodes of (intervened − factual), in data units.

    ``per_period`` divides by the number of data periods in the window.
    """
    changed = counterfactual_values(spec, params, fact, [intervention_of(e)], mask, features, xp, only=involved_nodes(spec, e))
    w = mask.astype(float)
    total = 0.0
    for m in e.measured:
        if m in changed:
            total = total + xp.sum((changed[m] - fact[m]) * w, axis=-1) * spec.scales[m]
    if e.unit == "per_period":
        total = total / float(w.sum())
    return total


def add_calibration_terms(
    spec: ModelSpec,
    data: Any,
    experiments: Sequence[Experiment],
    flat: Mapping[str, Any],
    series: Mapping[str, np.ndarray],
    features: Any,
    nodes: Sequence[str],
) -> list[str]:
    """Add one likelihood term per calibrating experiment to the current PyMC model; return their names."""
    import pymc as pm
    import pytensor.tensor as pt

    names = []
    params = {name: params_from_flat(spec.node(name), flat) for name in nodes}
    fact = {k: pt.as_tensor_variable(v) for k, v in series.items()}
    for e in experiments:
        if e.use != "calibrate":
            continue
        if not e.has_result:
            raise ExperimentError("has raw data but no estimate", where=e.where, hint="run 'causalmmm experiments analyze' first")
        check_calibratable(spec, e)
        missing = set(involved_nodes(spec, e)) - set(nodes)
        if missing:
            raise ExperimentError(f"its contrast needs nodes outside this fit block ({', '.join(sorted(missing))})", where=e.where)
        mask = data.window_mask(e.start, e.end, what=f"experiment {e.name!r} window")
        value = contrast(spec, params, fact, e, mask, features, pt)
        name = experiment_term(e.name)
        pm.Deterministic(experiment_implied(e.name), value)
        if e.likelihood == "student_t":
            pm.StudentT(name, nu=4.0, mu=value, sigma=e.se, observed=e.estimate)
        else:
            pm.Normal(name, mu=value, sigma=e.se, observed=e.estimate)
        names.append(name)
    return names
