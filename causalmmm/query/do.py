"""do() and counterfactual queries, vectorised over posterior draws.

Pearl's three steps, per posterior draw ``s``:

1. **Abduction** – each modelled node's residual ``e[s, t] = y_obs[t] - mu[s, t]``
   under the factual parents. The residual also carries the influence of latent
   parents, so counterfactuals keep it.
2. **Action** – replace the intervened nodes' values inside the window
   (``node=VALUE`` sets, ``node*=FACTOR`` scales).
3. **Prediction** – recompute the descendants in topological order with the
   same structural equations (:func:`causalmmm.model.equations.node_mean`),
   adding back ``e`` (counterfactual) or fresh noise (interventional). Adstock
   and lags carry the change past the window.

``active_edges`` restricts which edges transmit the change (every other edge
sees its source's factual value): that is the path-specific effect.

Adjustment terms (:attr:`causalmmm.spec.NodeSpec.adjustment`) always see their
observed values: they are in an equation only to block a backdoor path, so an
intervention must not move them (the backdoor and front-door formulas average
them over their observed distribution).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from causalmmm.data import Dataset
from causalmmm.errors import QueryError
from causalmmm.fmt import num, signed
from causalmmm.model.build import scaled_series, time_features
from causalmmm.model.equations import node_mean, param_name, params_from_flat
from causalmmm.model.noise import noise_draws
from causalmmm.model.propagate import Intervention, counterfactual_values
from causalmmm.spec import ModelSpec

__all__ = ["Intervention", "PosteriorSCM", "QueryResult", "Summary", "counterfactual_values", "parse_do", "query"]

MODES = ("counterfactual", "interventional")
_DO_RE = re.compile(r"^\s*([A-Za-z_][\w.\-]*)\s*(\*?=)\s*([-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?)\s*$")


def parse_do(expr: str) -> Intervention:
    """Parse ``node=VALUE`` or ``node*=FACTOR``."""
    m = _DO_RE.match(expr)
    if not m:
        raise QueryError(f"malformed --do {expr!r}", hint="write node=VALUE (set) or node*=FACTOR (scale), e.g. ppc_spend=0 or brand_spend*=1.2")
    kind = "scale" if m.group(2) == "*=" else "set"
    value = float(m.group(3))
    if not np.isfinite(value):
        raise QueryError(f"--do {expr!r}: the value is too large to be a number", hint="use a finite value, e.g. ppc_spend=5000")
    if kind == "scale" and value < 0:
        raise QueryError(f"negative scale factor in --do {expr!r}", hint="use a factor >= 0")
    return Intervention(m.group(1), kind, value)


@dataclass
class PosteriorSCM:
    """The fitted structural causal model: spec, data and posterior draws (flat names)."""

    spec: ModelSpec
    data: Dataset
    draws: Mapping[str, np.ndarray]
    spend_nodes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self.series = scaled_series(self.spec, self.data)
        for latent in self.spec.latents:  # a latent factor's posterior draws act as its (abducted) values, (S, T)
            self.series[latent] = np.asarray(self.draws[param_name(latent, "z")])
        self.features = time_features(self.spec)
        self.n_draws = len(next(iter(self.draws.values())))
        self._params = {n.name: params_from_flat(n, self.draws) for n in self.spec.nodes}
        self._mu_fact: dict[str, np.ndarray] | None = None

    @classmethod
    def from_run(cls, run: object, max_draws: int | None = None, seed: int = 0) -> PosteriorSCM:
        draws = run.posterior_draws()  # type: ignore[attr-defined]
        if max_draws is not None:
            n = len(next(iter(draws.values())))
            if n > max_draws:
                idx = np.sort(np.random.default_rng(seed).choice(n, max_draws, replace=False))
                draws = {k: v[idx] for k, v in draws.items()}
        return cls(run.spec, run.data, draws, tuple(run.graph.spend_nodes))  # type: ignore[attr-defined]

    def subset(self, idx: np.ndarray) -> PosteriorSCM:
        return PosteriorSCM(self.spec, self.data, {k: v[idx] for k, v in self.draws.items()}, self.spend_nodes)

    @property
    def node_params(self) -> Mapping[str, Mapping[str, Any]]:
        """Nested parameter draws per modelled node, as ``node_mean`` takes them."""
        return self._params

    # ---------------------------------------------------------------- pieces
    def mean(self, node: str, parents: Mapping[str, np.ndarray]) -> np.ndarray:
        """Structural mean of ``node`` (scaled) for the given parent series, (S, T)."""
        spec = self.spec.node(node)
        mu = node_mean(spec, self._params[node], parents, self.features, np)
        return np.broadcast_to(mu, (self.n_draws, self.spec.n_periods))

    def factual_means(self) -> dict[str, np.ndarray]:
        """Structural means under the observed parents, (S, T) per node (cached abduction)."""
        if self._mu_fact is None:
            self._mu_fact = {n.name: self.mean(n.name, {p: self.series[p] for p in n.parents}) for n in self.spec.nodes}
        return self._mu_fact

    def window(self, start: str | None, end: str | None) -> np.ndarray:
        try:
            return self.data.window_mask(start, end, what="query window")
        except Exception as exc:
            raise QueryError(str(exc)) from None

    def check_nodes(self, interventions: Sequence[Intervention], outcome: str | None = None) -> None:
        known = set(self.spec.scales)
        for iv in interventions:
            if iv.node not in known:
                raise QueryError(f"unknown or unobserved node {iv.node!r} in --do", hint=f"observed nodes: {', '.join(sorted(known))}")
        if outcome is not None and outcome not in known:
            raise QueryError(f"unknown outcome node {outcome!r}", hint=f"observed nodes: {', '.join(sorted(known))}")

    # ---------------------------------------------------------------- the query
    def simulate(
        self,
        interventions: Sequence[Intervention],
        mask: np.ndarray | None = None,
        *,
        mode: str = "counterfactual",
        active_edges: Iterable[tuple[str, str]] | None = None,
        seed: int = 0,
    ) -> dict[str, np.ndarray]:
        """All observed nodes (scaled units, (S, T)) under the intervention.

        Only descendants of intervened nodes are recomputed in counterfactual
        mode; everything else keeps its observed value exactly.
        """
        if mode not in MODES:
            raise QueryError(f"unknown mode {mode!r}", hint=f"choose {' or '.join(MODES)}")
        self.check_nodes(interventions)
        mask = np.ones(self.spec.n_periods, dtype=bool) if mask is None else mask
        S, T = self.n_draws, self.spec.n_periods
        fact = {k: np.broadcast_to(v, (S, T)) for k, v in self.series.items()}
        if mode == "counterfactual":
            changed = counterfactual_values(
                self.spec, self._params, fact, interventions, mask, self.features, np, active_edges=active_edges, mu_fact=self.factual_means()
            )
            return {**fact, **{k: np.broadcast_to(v, (S, T)) for k, v in changed.items()}}
        # interventional: every modelled node re-simulated with fresh noise (common random numbers per seed)
        rng = np.random.default_rng(seed)
        by_node = {iv.node: iv for iv in interventions}
        values = dict(fact)
        for node in self.spec.exogenous:
            if node in by_node:
                values[node] = by_node[node].apply(fact[node], mask, self.spec.scales[node])
        for n in self.spec.nodes:
            causes = set(n.causes)
            mu = self.mean(n.name, {p: values[p] if p in causes else fact[p] for p in n.parents})
            y = mu + noise_draws(n.likelihood, self._params[n.name], (S, T), rng)
            if n.name in by_node:
                y = by_node[n.name].apply(y, mask, self.spec.scales[n.name])
            values[n.name] = y
        return values

    def unscale(self, node: str, x: np.ndarray) -> np.ndarray:
        return x * self.spec.scales[node]


@dataclass(frozen=True)
class Summary:
    """Posterior mean and 94% HDI of a scalar quantity."""

    mean: float
    hdi_low: float
    hdi_high: float

    @classmethod
    def of(cls, samples: np.ndarray, prob: float = 0.94) -> Summary:
        x = np.sort(np.asarray(samples, dtype=float).ravel())
        n = len(x)
        k = max(1, int(np.floor(prob * n)))
        if n == 1 or k >= n:
            return cls(float(x.mean()), float(x[0]), float(x[-1]))
        widths = x[k:] - x[: n - k]
        i = int(np.argmin(widths))
        return cls(float(x.mean()), float(x[i]), float(x[i + k]))

    def to_dict(self) -> dict[str, float]:
        return {"mean": self.mean, "hdi_low": self.hdi_low, "hdi_high": self.hdi_high}


@dataclass
class QueryResult:
    """CONTRACT `query --json`: window sums of the outcome, factual vs intervened."""

    outcome: str
    mode: str
    start: str
    end: str
    interventions: tuple[Intervention, ...]
    baseline: Summary
    intervened: Summary
    delta: Summary

    def to_dict(self) -> dict:
        return {
            "outcome": self.outcome,
            "mode": self.mode,
            "start": self.start,
            "end": self.end,
            "do": [iv.to_text() for iv in self.interventions],
            "delta": self.delta.to_dict(),
            "baseline": self.baseline.to_dict(),
            "intervened": self.intervened.to_dict(),
        }

    def _repr_html_(self) -> str:
        from causalmmm.tables import query_table

        return query_table(self.to_dict()).to_html()

    def to_text(self) -> str:
        d = self.delta
        what = ", ".join(iv.to_text() for iv in self.interventions)
        return (
            f"do({what}) over {self.start}..{self.end} ({self.mode}):\n"
            f"  {self.outcome} total factual    {num(self.baseline.mean)}\n"
            f"  {self.outcome} total intervened {num(self.intervened.mean)}\n"
            f"  change {signed(d.mean)}  (94% HDI {signed(d.hdi_low)} .. {signed(d.hdi_high)})"
        )


def query(
    scm: PosteriorSCM,
    interventions: Sequence[Intervention],
    *,
    start: str | None = None,
    end: str | None = None,
    outcome: str | None = None,
    mode: str = "counterfactual",
    seed: int = 0,
) -> QueryResult:
    """Σ over [start, end] of the outcome, intervened minus factual, per draw → mean and HDI.

    The interventions act inside the window; the sum is over the window too
    (carry-out after the window is not counted, per CONTRACT.md).
    """
    if not interventions:
        raise QueryError("no intervention given", hint="pass at least one --do node=VALUE")
    out = outcome or scm.spec.outcome
    scm.check_nodes(interventions, out)
    mask = scm.window(start, end)
    if mode == "counterfactual":
        base = np.broadcast_to(scm.series[out], (scm.n_draws, scm.spec.n_periods))
    else:
        base = scm.simulate([], mask, mode=mode, seed=seed)[out]
    new = scm.simulate(interventions, mask, mode=mode, seed=seed)[out]
    s = scm.spec.scales[out]
    b, i = base[:, mask].sum(axis=1) * s, new[:, mask].sum(axis=1) * s
    dates = scm.data.dates[mask]
    return QueryResult(out, mode, str(dates[0].date()), str(dates[-1].date()), tuple(interventions), Summary.of(b), Summary.of(i), Summary.of(i - b))
