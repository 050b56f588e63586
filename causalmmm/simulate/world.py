"""Ground-truth worlds: a DAG with a known mechanism per node and stored noise.

Truth is computed by re-simulating under do() with the *same* noise draws, so
every effect, path effect and experiment estimand is exact for the world.
The transforms are :mod:`causalmmm.transforms` with ``xp=numpy``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Iterable, Mapping, Sequence

import networkx as nx
import numpy as np
import pandas as pd

from causalmmm.graph.causal_graph import CausalGraph
from causalmmm.intervention import Intervention
from causalmmm.transforms import adstock, saturate, shift


@dataclass(frozen=True)
class Term:
    """``beta · g(parent)`` where g = saturate(adstock(x / ref)) for media, lag(x) otherwise."""

    source: str
    beta: float
    adstock: str = "none"
    adstock_params: Mapping[str, float] = field(default_factory=dict)
    l_max: int = 1
    saturation: str = "none"
    saturation_params: Mapping[str, float] = field(default_factory=dict)
    lag: int = 0
    ref: float = 1.0  # media input is divided by this reference level (the mean factual spend)
    modulator: str | None = None  # another parent whose level scales the term: × modulator / modulator_ref
    modulator_ref: float = 1.0

    @property
    def is_media(self) -> bool:
        return self.adstock != "none" or self.saturation != "none"

    def value(self, x: np.ndarray, modulator: np.ndarray | None = None) -> np.ndarray:
        if self.is_media:
            z = adstock(x / self.ref, self.adstock, self.adstock_params, self.l_max, np)
            z = saturate(z, self.saturation, self.saturation_params, np)
            out = self.beta * shift(np.asarray(z).reshape(x.shape), self.lag, np, fill="zero")
        else:
            out = self.beta * shift(x, self.lag, np, fill="edge")
        if self.modulator is not None:
            if modulator is None:
                raise ValueError(f"term {self.source!r} needs the series of its modulator {self.modulator!r}")
            out = out * modulator / self.modulator_ref
        return out

    def describe(self) -> dict[str, Any]:
        """The term's fields as plain values (modulator fields only when the term has one)."""
        d = {k: (dict(v) if isinstance(v, Mapping) else v) for k, v in asdict(self).items()}
        if self.modulator is None:
            d.pop("modulator"), d.pop("modulator_ref")
        return d


@dataclass(frozen=True)
class Mechanism:
    """``y = intercept + Σ terms + season + trend·t + Σ_k fourier_k(t) + noise``; optionally times ``(parent/ref)**elasticity``.

    ``trend`` is the slope per period (t = 0, 1, ...); ``fourier`` holds (sin, cos) amplitudes for
    harmonics k = 1, 2, ... of a cycle of ``season_period`` periods.
    """

    node: str
    intercept: float
    noise_sd: float
    terms: tuple[Term, ...] = ()
    season_amplitude: float = 0.0
    multiplier: tuple[str, float, float] | None = None  # (parent, elasticity, ref): multiplicative effect
    trend: float = 0.0
    fourier: tuple[tuple[float, float], ...] = ()
    season_period: float = 52.18

    @property
    def parents(self) -> tuple[str, ...]:
        extra = (self.multiplier[0],) if self.multiplier else ()
        sources = tuple(t.source for t in self.terms)
        mods = tuple(dict.fromkeys(t.modulator for t in self.terms if t.modulator is not None and t.modulator not in sources))
        return sources + mods + extra

    def baseline(self, n_periods: int) -> np.ndarray:
        """The deterministic time terms: season_amplitude sine, trend and Fourier harmonics."""
        t = np.arange(n_periods)
        y = np.zeros(n_periods)
        if self.season_amplitude:
            y = y + self.season_amplitude * np.sin(2 * np.pi * t / 52.18)
        if self.trend:
            y = y + self.trend * t
        for k, (a_sin, a_cos) in enumerate(self.fourier, start=1):
            w = 2 * np.pi * k * t / self.season_period
            y = y + a_sin * np.sin(w) + a_cos * np.cos(w)
        return y


class Params(dict):
    """The world's true parameters (node → intercept, noise sd, terms ...), a plain dict.

    Calling it returns itself, so ``world.params`` and the older ``world.params()`` both work.
    """

    def __call__(self) -> Params:
        return self


def normalise_intervention(value: Intervention | tuple[str, float] | str, node: str = "") -> Intervention:
    """``"off"``, ``("set", v)``, ``("scale", f)``, ``{"set": v}`` or an :class:`Intervention` → an Intervention."""
    return Intervention.parse(node, value)


def _apply(x: np.ndarray, iv: Intervention, mask: np.ndarray) -> np.ndarray:
    return np.asarray(iv.apply(x, mask), dtype=float)


class World:
    """A simulated world: exogenous series, mechanisms, stored noise, factual values."""

    def __init__(
        self,
        name: str,
        dates: pd.DatetimeIndex,
        exogenous: Mapping[str, np.ndarray],
        mechanisms: Sequence[Mechanism],
        noise: Mapping[str, np.ndarray],
        graph: CausalGraph,
        seed: int,
        preset: str,
        experiments: list[dict[str, Any]] | None = None,
        raw_files: dict[str, pd.DataFrame] | None = None,
    ) -> None:
        self.name, self.dates, self.seed, self.preset = name, dates, seed, preset
        self.exogenous = {k: np.asarray(v, dtype=float) for k, v in exogenous.items()}
        self.mechanisms = {m.node: m for m in mechanisms}
        self.noise = {k: np.asarray(v, dtype=float) for k, v in noise.items()}
        self.graph = graph
        g = nx.DiGraph()
        g.add_nodes_from(self.exogenous)
        for m in mechanisms:
            g.add_node(m.node)
            for p in m.parents:
                g.add_edge(p, m.node)
        self.dag = g
        self.order = [n for n in nx.topological_sort(g) if n in self.mechanisms]
        self.factual = self.do({})
        self.experiments: list[dict[str, Any]] = experiments or []
        self.raw_files: dict[str, pd.DataFrame] = raw_files or {}
        self.experiment_truth: dict[str, Any] = {}
        self.geo_panel: Any = None  # a GeoPanel on the `geo` preset
        self.misspec: dict[str, Any] = {}  # misspecification worlds: what differs from the defaults (truth.json "misspec")
        self.undeclared: list[str] = []  # graph declarations the installed graph API could not take

    # ---------------------------------------------------------------- core
    @property
    def n_periods(self) -> int:
        return len(self.dates)

    def mask(self, start: str | pd.Timestamp | None = None, end: str | pd.Timestamp | None = None) -> np.ndarray:
        s = pd.Timestamp(start) if start is not None else self.dates[0]
        e = pd.Timestamp(end) if end is not None else self.dates[-1]
        return np.asarray((self.dates >= s) & (self.dates <= e))

    def mechanism_value(self, m: Mechanism, parents: Mapping[str, np.ndarray]) -> np.ndarray:
        y = np.full(self.n_periods, m.intercept, dtype=float)
        for term in m.terms:
            y = y + term.value(parents[term.source], parents[term.modulator] if term.modulator is not None else None)
        if m.season_amplitude or m.trend or m.fourier:
            y = y + m.baseline(self.n_periods)
        if m.multiplier:
            p, elasticity, ref = m.multiplier
            y = y * (np.maximum(parents[p], 1e-9) / ref) ** elasticity
        return y + self.noise[m.node]

    def do(
        self,
        interventions: Mapping[str, Intervention | tuple[str, float] | str],
        start: str | None = None,
        end: str | None = None,
        paths: Iterable[Sequence[str]] | None = None,
        *,
        mask: np.ndarray | None = None,
    ) -> pd.DataFrame:
        """Every node (latent ones too) under the interventions in [start, end], with the same noise.

        Abduction is trivial here: the world owns its noise, so the counterfactual
        keeps every node's noise draw and recomputes the nodes in topological order.
        Adstock carry-over and lags continue after the window.

        ``interventions``: node → ("set", v) | ("scale", f) | "off" (= set 0), applied in
        [start, end] only (or on the periods where the boolean ``mask`` is true, e.g.
        the off-days of a switchback). ``paths``: node tuples (treatment, ..., outcome);
        only their edges transmit the change, every other edge sees the factual value
        of its source (path-specific effect).
        """
        if mask is None:
            mask = self.mask(start, end)
        mask = np.asarray(mask, dtype=bool)
        ivs = {k: normalise_intervention(v, k) for k, v in interventions.items()}
        active = None if paths is None else {(p[i], p[i + 1]) for p in paths for i in range(len(p) - 1)}
        fact = getattr(self, "factual", None)
        values: dict[str, np.ndarray] = {}
        for k, v in self.exogenous.items():
            values[k] = _apply(v, ivs[k], mask) if k in ivs else v.copy()
        for node in self.order:
            m = self.mechanisms[node]
            if active is not None and fact is not None:
                parents = {p: values[p] if (p, node) in active else fact[p].to_numpy() for p in m.parents}
            else:
                parents = {p: values[p] for p in m.parents}
            y = self.mechanism_value(m, parents)
            values[node] = _apply(y, ivs[node], mask) if node in ivs else y
        return pd.DataFrame(values, index=self.dates)

    # ---------------------------------------------------------------- truth
    def causal_paths(self, source: str, target: str) -> list[tuple[str, ...]]:
        return sorted((tuple(p) for p in nx.all_simple_paths(self.dag, source, target)), key=lambda p: (len(p), p))

    def true_effects(self, start: str | None = None, end: str | None = None, outcome: str = "sales") -> dict[str, Any]:
        """Per spend channel: total contribution, ROAS, mROAS, path effects, cannibalisation share."""
        mask = self.mask(start, end)
        fact = self.factual
        y0 = fact[outcome].to_numpy()[mask].sum()
        out: dict[str, Any] = {}
        for c in self.graph.spend_nodes:
            spend = fact[c].to_numpy()[mask].sum()
            off = self.do({c: "off"}, start, end)
            contrib = y0 - off[outcome].to_numpy()[mask].sum()
            up = self.do({c: ("scale", 1.01)}, start, end)
            mroas = (up[outcome].to_numpy()[mask].sum() - y0) / (0.01 * spend)
            paths = []
            for p in self.causal_paths(c, outcome):
                pe = y0 - self.do({c: "off"}, start, end, paths=[p])[outcome].to_numpy()[mask].sum()
                paths.append({"path": list(p), "contribution": float(pe), "roas": float(pe / spend)})
            entry: dict[str, Any] = {
                "spend": float(spend),
                "contribution": float(contrib),
                "roas": float(contrib / spend),
                "mroas": float(mroas),
                "paths": paths,
                "mediator_changes": {n: float(fact[n].to_numpy()[mask].sum() - off[n].to_numpy()[mask].sum()) for n in self.mechanisms if n != outcome},
            }
            if c == "ppc_spend" and {"ppc_clicks", "seo_clicks"} <= set(self.mechanisms):
                d_ppc = entry["mediator_changes"]["ppc_clicks"]
                d_seo = entry["mediator_changes"]["seo_clicks"]
                entry["cannibalisation_share"] = float(-d_seo / d_ppc) if d_ppc else 0.0
            out[c] = entry
        return out

    def estimand(self, treatment: str, intervention: Intervention | str, measured: Sequence[str], start: str, end: str, unit: str = "per_period") -> float:
        """True value of an experiment's estimand (intervened − factual, measured nodes summed)."""
        mask = self.mask(start, end)
        new = self.do({treatment: intervention}, start, end)
        delta = sum((new[m].to_numpy() - self.factual[m].to_numpy())[mask].sum() for m in measured)
        return float(delta / mask.sum()) if unit == "per_period" else float(delta)

    @property
    def params(self) -> Params:
        """True parameters per node: intercept, noise sd, seasonality, and per edge (term)
        beta, adstock kind/params/l_max, saturation kind/params, lag and reference level."""
        out = Params()
        for n, m in self.mechanisms.items():
            out[n] = {
                "intercept": m.intercept,
                "noise_sd": m.noise_sd,
                "season_amplitude": m.season_amplitude,
                "multiplier": list(m.multiplier) if m.multiplier else None,
                "terms": [t.describe() for t in m.terms],
            }
            if m.trend or m.fourier:  # only when used, so the older presets' truth.json is unchanged
                out[n].update(trend=m.trend, fourier=[list(f) for f in m.fourier], season_period=m.season_period)
        return out

    def counterfactual_series(self, outcome: str | None = None) -> dict[str, Any]:
        """The factual outcome and the outcome under do(channel = 0) for every period, per spend channel."""
        out = outcome or self.graph.outcome
        series: dict[str, Any] = {"date": [str(d.date()) for d in self.dates], "factual": self.factual[out].round(6).tolist()}
        for c in self.graph.spend_nodes:
            series[f"{c}_off"] = self.do({c: "off"})[out].round(6).tolist()
        return series

    def truth(self) -> dict[str, Any]:
        return {
            "preset": self.preset,
            "seed": self.seed,
            "outcome": self.graph.outcome,
            "start": str(self.dates[0].date()),
            "end": str(self.dates[-1].date()),
            "effects": self.true_effects(outcome=self.graph.outcome),
            "params": self.params,
            "experiments": self.experiment_truth,
            "latent": self.graph.latent_nodes,
            "counterfactual": self.counterfactual_series(),
            **({"geo": self.geo_panel.describe()} if getattr(self, "geo_panel", None) is not None else {}),
            **({"misspec": {**self.misspec, "undeclared": self.undeclared}} if self.misspec else {}),
        }

    def write(self, directory: str | Any) -> list[str]:
        """Write data.csv, graph.dot, experiments.yaml, truth.json and the raw experiment CSVs into ``directory``."""
        from causalmmm.simulate.io import write

        return write(self, directory)

    @property
    def data(self) -> pd.DataFrame:
        """What the analyst sees: a date column and the observed nodes of the declared graph."""
        cols = [n for n in self.graph.nodes if self.graph.is_observed(n)]
        df = self.factual[cols].copy()
        df.insert(0, "date", [d.strftime("%Y-%m-%d") for d in self.dates])
        return df.reset_index(drop=True)
