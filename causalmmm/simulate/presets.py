"""Preset worlds and the experiments run inside them.

* ``search``: the search-cannibalisation world of ``graphs/marketing.dot``
  (weekly, nonlinear). Demand drives PPC budgets and organic search; PPC
  clicks cannibalise SEO clicks; social has a lag-1 halo on direct clicks;
  brand builds slowly (12-week adstock); sales are made from clicks.
* ``search_latent``: the same world, declared with demand latent (no column).
* ``linear``: the same graph with linear mechanisms and no lags, so every
  total effect is a sum of products of path coefficients.
* ``geo``: the search world with a 20-geo panel behind it: brand go-dark and
  go-live geo tests.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pandas as pd

from causalmmm.errors import DataError
from causalmmm.graph.causal_graph import CausalGraph
from causalmmm.simulate.world import Mechanism, Term, World

N_WEEKS = 156
START = "2022-01-03"
N_GEOS = 20


def _graph(latent_demand: bool, linear: bool) -> CausalGraph:
    g = CausalGraph("marketing")
    g.add_node("demand", "confounder", observed=not latent_demand)
    g.add_node("promo", "control")
    for s in ("ppc_spend", "social_spend", "brand_spend"):
        g.add_node(s, "spend")
    for m in ("ppc_clicks", "seo_clicks", "social_clicks", "direct_clicks"):
        g.add_node(m, "mediator")
    g.add_node("sales", "outcome")
    media = {"adstock": "none", "saturation": "none"} if linear else {"adstock": "geometric", "saturation": "hill"}
    for u, v in (("demand", "ppc_spend"), ("demand", "ppc_clicks"), ("demand", "seo_clicks"), ("demand", "direct_clicks")):
        g.add_edge(u, v)
    g.add_edge("ppc_spend", "ppc_clicks", **media, **({} if linear else {"l_max": 4}))
    g.add_edge("social_spend", "social_clicks", **media, **({} if linear else {"l_max": 4}))
    g.add_edge("brand_spend", "direct_clicks", **media, **({} if linear else {"l_max": 12}))
    g.add_edge("brand_spend", "seo_clicks", **media, **({} if linear else {"l_max": 12}))
    g.add_edge("ppc_clicks", "seo_clicks", sign="negative")
    g.add_edge("social_clicks", "direct_clicks", **({} if linear else {"lag": 1}), sign="positive")
    for m in ("ppc_clicks", "seo_clicks", "social_clicks", "direct_clicks", "promo"):
        g.add_edge(m, "sales", sign="positive")
    return g.validate()


def _exogenous(rng: np.random.Generator, T: int) -> dict[str, np.ndarray]:
    t = np.arange(T)
    ar = np.zeros(T)
    for i in range(1, T):
        ar[i] = 0.8 * ar[i - 1] + rng.normal(0, 0.04)
    demand = 100.0 * (1 + 0.25 * np.sin(2 * np.pi * t / 52.18) + 0.1 * np.sin(2 * np.pi * t / 26.09 + 1.0) + ar + 0.001 * t)
    promo = (rng.random(T) < 0.15).astype(float)
    social_on = rng.random(T) < 0.7
    social = np.where(social_on, 20_000 * rng.uniform(0.7, 1.3, T), 2_000 * rng.uniform(0.5, 1.5, T))
    brand = np.zeros(T)
    week = 0
    while week < T:  # bursts of 4-10 weeks on, 3-8 weeks off
        on = int(rng.integers(4, 11))
        brand[week:week + on] = 40_000 * rng.uniform(0.6, 1.2)
        week += on + int(rng.integers(3, 9))
    brand = brand * rng.uniform(0.9, 1.1, T)
    return {"demand": demand, "promo": promo, "social_spend": social, "brand_spend": brand}


def _search_mechanisms(exo: dict[str, np.ndarray], rng: np.random.Generator, T: int, linear: bool) -> tuple[list[Mechanism], dict[str, np.ndarray]]:
    ppc_ref = 30_000.0
    refs = {"ppc_spend": ppc_ref, "social_spend": float(exo["social_spend"].mean()), "brand_spend": float(exo["brand_spend"].mean())}

    def media(src: str, beta: float, alpha: float, l_max: int, k: float, s: float) -> Term:
        if linear:  # linear in spend: beta per reference unit of spend
            return Term(src, beta * 0.5 / refs[src])
        return Term(src, beta, "geometric", {"alpha": alpha}, l_max, "hill", {"k": k, "s": s}, 0, refs[src])

    mechs = [
        Mechanism("ppc_spend", 0.0, 3_000.0, (Term("demand", 300.0),)),  # budgets follow the demand forecast, ±10% jitter
        Mechanism("ppc_clicks", 0.0, 600.0, (Term("demand", 20.0), media("ppc_spend", 25_000.0, 0.3, 4, 0.8, 1.5))),
        Mechanism("seo_clicks", 0.0, 700.0, (Term("demand", 150.0), media("brand_spend", 6_000.0, 0.7, 12, 1.0, 1.2), Term("ppc_clicks", -0.35))),
        Mechanism("social_clicks", 500.0, 300.0, (media("social_spend", 8_000.0, 0.4, 4, 0.7, 1.3),)),
        Mechanism("direct_clicks", 0.0, 300.0, (Term("demand", 30.0), media("brand_spend", 5_000.0, 0.7, 12, 1.0, 1.2),
                                                Term("social_clicks", 0.3, lag=0 if linear else 1))),
        Mechanism("sales", 6_000.0, 2_500.0, (Term("ppc_clicks", 3.6), Term("seo_clicks", 3.0), Term("social_clicks", 2.4),
                                              Term("direct_clicks", 4.5), Term("promo", 9_000.0))),
    ]
    noise = {m.node: rng.normal(0.0, m.noise_sd, T) for m in mechs}
    return mechs, noise


def _base_world(preset: str, seed: int, *, latent_demand: bool = False, linear: bool = False) -> World:
    rng = np.random.default_rng(seed)
    T = N_WEEKS
    exo = _exogenous(rng, T)
    mechs, noise = _search_mechanisms(exo, rng, T, linear)
    dates = pd.date_range(START, periods=T, freq="W-MON")
    return World(preset, dates, exo, mechs, noise, _graph(latent_demand, linear), seed, preset)


# ------------------------------------------------------------------ experiments


def _window(world: World, start_week: int, n_weeks: int) -> tuple[str, str]:
    return str(world.dates[start_week].date()), str(world.dates[start_week + n_weeks - 1].date())


def add_lift_test(world: World, name: str, treatment: str, start_week: int, n_weeks: int, rng: np.random.Generator, *,
                  rel_se: float = 0.12, use: str = "calibrate", design: str = "lift", measured: str = "sales") -> None:
    """A randomised test whose analysed result is the true estimand plus noise of a stated se."""
    start, end = _window(world, start_week, n_weeks)
    truth = world.estimand(treatment, "off", [measured], start, end)
    se = max(abs(truth) * rel_se, 1.0)
    estimate = truth + rng.normal(0, se)
    world.experiments.append({"name": name, "design": design, "treatment": treatment, "intervention": "off", "measured": measured,
                              "start": start, "end": end, "estimate": round(float(estimate), 3), "se": round(float(se), 3),
                              "unit": "per_period", "use": use})
    world.experiment_truth[name] = {"true": truth, "estimate": float(estimate), "se": float(se)}


def add_switchback(world: World, name: str, start_week: int, n_weeks: int, rng: np.random.Generator, *,
                   use: str = "calibrate", block_days: tuple[int, int] = (2, 4), washout_share: float = 0.5) -> None:
    """PPC switched on/off in blocks of days, measured on PPC + SEO clicks.

    Daily data are generated from the weekly world: an *on* day carries 1/7 of
    the factual weekly clicks, an *off* day 1/7 of the clicks under
    do(ppc_spend = 0) for that week, plus daily noise. The first day after a
    switch carries over ``washout_share`` of the previous state. The weekly
    estimand (per model period) is the mean weekly change under
    do(ppc_spend = 0) over the window; a washout-aware analysis of the daily
    data, times 7, estimates it.
    """
    start, end = _window(world, start_week, n_weeks)
    mask = world.mask(start, end)
    off = world.do({"ppc_spend": "off"}, start, end)
    measured = ["ppc_clicks", "seo_clicks"]
    truth = world.estimand("ppc_spend", "off", measured, start, end)
    days = pd.date_range(start, periods=7 * n_weeks, freq="D")
    state = np.ones(len(days), dtype=int)
    i, on = 0, 1
    while i < len(days):
        n = int(rng.integers(block_days[0], block_days[1] + 1))
        state[i:i + n] = on
        on = 1 - on
        i += n
    rows = []
    fact_w = world.factual.loc[mask, measured].to_numpy() / 7.0
    off_w = off.loc[mask, measured].to_numpy() / 7.0
    prev = 1
    for d, s in enumerate(state):
        w = d // 7
        level = fact_w[w] if s else off_w[w]
        if s != prev:  # carry-over: the first day after a switch is a mix of both states
            other = off_w[w] if s else fact_w[w]
            level = (1 - washout_share) * level + washout_share * other
        noise = rng.normal(0, 0.04, 2) * fact_w[w]
        rows.append({"timestamp": str(days[d].date()), "ppc_on": int(s), "ppc_clicks": round(float(level[0] + noise[0]), 3),
                     "seo_clicks": round(float(level[1] + noise[1]), 3)})
        prev = s
    file = f"{name}.csv"
    world.raw_files[file] = pd.DataFrame(rows)
    world.experiments.append({"name": name, "design": "switchback", "treatment": "ppc_spend", "intervention": "off", "measured": measured,
                              "start": start, "end": end, "data": file, "raw_periods_per_period": 7, "unit": "per_period", "use": use})
    world.experiment_truth[name] = {"true": truth}


def add_geo_test(world: World, name: str, treatment: str, intervention: Any, start_week: int, n_weeks: int,
                 rng: np.random.Generator, *, n_geos: int = N_GEOS, n_treated: int = 3, use: str = "calibrate") -> None:
    """A geo-lift test on a panel of geos that are scaled copies of the national world.

    Geo g has share s_g of every national series (and its own noise). Treated
    geos follow the world under the intervention inside the window. Because
    every geo is a scaled copy, the national effect equals
    (effect in the treated geos) / Σ_{treated} s_g — the scaling rule the
    analysis applies (``geo_shares`` lists s_g per treated geo).
    """
    start, end = _window(world, start_week, n_weeks)
    shares = rng.dirichlet(np.full(n_geos, 8.0))
    geos = [f"geo_{i + 1:02d}" for i in range(n_geos)]
    treated_idx = np.sort(rng.choice(n_geos, n_treated, replace=False))
    treated = [geos[i] for i in treated_idx]
    new = world.do({treatment: intervention}, start, end)
    truth = world.estimand(treatment, intervention, ["sales"], start, end)
    rows = []
    for gi, geo in enumerate(geos):
        base = (new if geo in treated else world.factual)
        eps = np.zeros(world.n_periods)
        for t in range(1, world.n_periods):
            eps[t] = 0.5 * eps[t - 1] + rng.normal(0, 0.015)
        sales = shares[gi] * base["sales"].to_numpy() * (1 + eps)
        spend = shares[gi] * base[treatment].to_numpy()
        for t, d in enumerate(world.dates):
            rows.append({"date": str(d.date()), "geo": geo, "sales": round(float(sales[t]), 3), treatment: round(float(spend[t]), 3)})
    file = f"{name}.csv"
    world.raw_files[file] = pd.DataFrame(rows)
    iv = "off" if intervention == "off" else {intervention[0]: intervention[1]}
    world.experiments.append({"name": name, "design": "geo_lift", "treatment": treatment, "intervention": iv, "measured": "sales",
                              "start": start, "end": end, "data": file, "treated": treated,
                              "geo_shares": {geos[i]: round(float(shares[i]), 6) for i in treated_idx}, "unit": "per_period", "use": use})
    world.experiment_truth[name] = {"true": truth, "treated_share": float(shares[treated_idx].sum())}


def _with_standard_experiments(world: World, seed: int, *, geo_live: bool = False) -> World:
    rng = np.random.default_rng(seed + 10_000)
    add_switchback(world, "ppc_switchback", 60, 8, rng)
    brand = world.exogenous["brand_spend"]
    on_weeks = np.flatnonzero(brand > 0)
    start = int(on_weeks[np.searchsorted(on_weeks, 90)]) if np.any(on_weeks >= 90) else 90
    add_geo_test(world, "brand_geo_dark", "brand_spend", "off", start, 6, rng)
    add_lift_test(world, "social_lift", "social_spend", 100, 8, rng)
    add_lift_test(world, "ppc_go_dark", "ppc_spend", 120, 6, rng, use="holdout")
    if geo_live:
        off_weeks = np.flatnonzero(brand == 0)
        s = int(off_weeks[np.searchsorted(off_weeks, 30)]) if np.any(off_weeks >= 30) else 30
        add_geo_test(world, "brand_geo_live", "brand_spend", ("set", 40_000.0), s, 3, rng, use="holdout")
    return world


PRESETS: dict[str, Callable[[int], World]] = {
    "search": lambda seed: _with_standard_experiments(_base_world("search", seed), seed),
    "search_latent": lambda seed: _with_standard_experiments(_base_world("search_latent", seed, latent_demand=True), seed),
    "linear": lambda seed: _with_standard_experiments(_base_world("linear", seed, linear=True), seed),
    "geo": lambda seed: _with_standard_experiments(_base_world("geo", seed), seed, geo_live=True),
}


def simulate_world(preset: str, seed: int = 0) -> World:
    """Build a preset world from a seed (bit-for-bit reproducible)."""
    if preset not in PRESETS:
        raise DataError(f"unknown preset {preset!r}", hint=f"choose one of: {', '.join(PRESETS)}")
    return PRESETS[preset](seed)
