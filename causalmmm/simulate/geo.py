"""Geo panels: a national world that is exactly the sum of scaled geo copies.

Geo ``g`` has share ``s_g`` (Σ s_g = 1) of every national spend and demand
series, and its mechanisms are the national ones scaled so the response is
homogeneous of degree one: intercepts, seasonality and media coefficients are
multiplied by ``s_g``, media reference levels (so saturation half-points) by
``s_g``, linear coefficients between nodes are unchanged, and the noise sd by
``sqrt(s_g)``. Then, for every intervention applied to the geos in a set T
(``off``, ``scale`` by f, or ``set`` to ``s_g · v``):

    effect in the treated geos = Σ_{g∈T} s_g · (national effect of the same intervention nationally)

so **national effect = (effect in the treated geos) / Σ_{g∈T} s_g**, exactly.
The national series (Σ over geos) follow the national mechanisms with noise
Σ_g noise_g, so the national world is what an analyst models.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from causalmmm.simulate.world import Intervention, Mechanism, World, normalise_intervention


def scale_mechanism(m: Mechanism, share: float) -> Mechanism:
    """The mechanism of a geo with ``share`` of the nation (homogeneous of degree one)."""
    terms = tuple(replace(t, beta=t.beta * share, ref=t.ref * share) if t.is_media else t for t in m.terms)
    mult = (m.multiplier[0], m.multiplier[1], m.multiplier[2] * share) if m.multiplier else None
    return replace(
        m, intercept=m.intercept * share, noise_sd=m.noise_sd * float(np.sqrt(share)), season_amplitude=m.season_amplitude * share, terms=terms, multiplier=mult
    )


def geo_intervention(value: Intervention | tuple[str, float] | str, share: float) -> Intervention:
    """The geo analogue of a national intervention: ``set v`` becomes ``set s_g · v``."""
    return normalise_intervention(value).at_share(share)


class GeoPanel:
    """The geo worlds behind a national world, with their shares."""

    def __init__(self, names: Sequence[str], shares: np.ndarray, worlds: Sequence[World]) -> None:
        self.names = list(names)
        self.shares = np.asarray(shares, dtype=float)
        self.worlds = {n: w for n, w in zip(self.names, worlds)}

    def share(self, geos: Sequence[str]) -> float:
        return float(sum(self.shares[self.names.index(g)] for g in geos))

    def do(
        self, interventions: Mapping[str, Intervention | str], treated: Sequence[str], start: str | None = None, end: str | None = None
    ) -> dict[str, pd.DataFrame]:
        """Every geo's nodes, with the interventions (in geo terms) applied in the treated geos only."""
        out = {}
        for g, w in self.worlds.items():
            if g in treated:
                s = self.shares[self.names.index(g)]
                out[g] = w.do({k: geo_intervention(v, s) for k, v in interventions.items()}, start, end)
            else:
                out[g] = w.factual
        return out

    def treated_effect(
        self, interventions: Mapping[str, Intervention | str], treated: Sequence[str], measured: Sequence[str], start: str, end: str, unit: str = "per_period"
    ) -> float:
        """Σ over treated geos of (intervened − factual) of the measured nodes in the window."""
        new = self.do(interventions, treated, start, end)
        delta = 0.0
        for g in treated:
            w = self.worlds[g]
            mask = w.mask(start, end)
            delta += sum(float((new[g][m].to_numpy() - w.factual[m].to_numpy())[mask].sum()) for m in measured)
            n = int(mask.sum())
        return delta / n if unit == "per_period" else delta

    def national_sum(self) -> pd.DataFrame:
        """Σ over geos of the factual series (equals the national world's factual values)."""
        frames = list(self.worlds.values())
        total = frames[0].factual.copy()
        for w in frames[1:]:
            total = total + w.factual
        return total

    def describe(self) -> dict[str, Any]:
        return {
            "geos": self.names,
            "shares": [round(float(s), 8) for s in self.shares],
            "scaling_rule": "national effect = (effect in the treated geos) / sum of the treated geos' shares",
        }
