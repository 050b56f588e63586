"""Preset worlds and the experiments run inside them.

* ``search``: the search-cannibalisation world of ``graphs/marketing.dot``
  (weekly, nonlinear). Demand drives PPC budgets and organic search; PPC
  clicks cannibalise SEO clicks; social has a lag-1 halo on direct clicks;
  brand builds slowly (12-week adstock); sales are made from clicks.
* ``search_latent``: the same world, declared with demand latent (no column).
* ``linear``: the same graph with linear mechanisms and no lags, so every
  total effect is a sum of products of path coefficients.
* ``geo``: the search world as the exact sum of 20 scaled geo copies
  (:mod:`causalmmm.simulate.geo`); brand go-dark and go-live geo tests run on
  the real geo worlds, so national effect = treated-geo effect / Σ treated shares.
* ``daily``: the search world by day (104 weeks = 728 days), with a switchback
  of PPC on/off days simulated in the daily world itself (real carry-over).
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from causalmmm.errors import DataError
from causalmmm.graph.causal_graph import CausalGraph
from causalmmm.simulate.frontdoor import FRONTDOOR_PRESETS
from causalmmm.simulate.geo import GeoPanel, scale_mechanism
from causalmmm.simulate.misspec import MISSPEC_PRESETS
from causalmmm.simulate.world import Mechanism, Term, World

N_WEEKS = 156
N_DAYS = 728
START = "2022-01-03"
N_GEOS = 20
GEO_IDIOSYNCRATIC = 0.15  # share of each node's noise variance that is geo-specific in the `geo` preset
#: (alpha, l_max) of the geometric adstock on each spend edge, by period.
WEEKLY_ADSTOCK = {"ppc_spend": (0.3, 4), "social_spend": (0.4, 4), "brand_spend": (0.7, 12)}
DAILY_ADSTOCK = {"ppc_spend": (0.15, 3), "social_spend": (0.6, 7), "brand_spend": (0.95, 56)}


def _graph(latent_demand: bool, linear: bool, adstocks: dict[str, tuple[float, int]] = WEEKLY_ADSTOCK) -> CausalGraph:
    g = CausalGraph("marketing")
    g.add_node("demand", "confounder", observed=not latent_demand)
    g.add_node("promo", "control")
    for s in ("ppc_spend", "social_spend", "brand_spend"):
        g.add_node(s, "spend")
    for m in ("ppc_clicks", "seo_clicks", "social_clicks", "direct_clicks"):
        g.add_node(m, "mediator")
    g.add_node("sales", "outcome")
    media: dict[str, Any] = {"adstock": "none", "saturation": "none"} if linear else {"adstock": "geometric", "saturation": "hill"}
    for u, v in (("demand", "ppc_spend"), ("demand", "ppc_clicks"), ("demand", "seo_clicks"), ("demand", "direct_clicks")):
        g.add_edge(u, v)
    lm: dict[str, dict[str, Any]] = {c: ({} if linear else {"l_max": adstocks[c][1]}) for c in adstocks}
    g.add_edge("ppc_spend", "ppc_clicks", **media, **lm["ppc_spend"])
    g.add_edge("social_spend", "social_clicks", **media, **lm["social_spend"])
    g.add_edge("brand_spend", "direct_clicks", **media, **lm["brand_spend"])
    g.add_edge("brand_spend", "seo_clicks", **media, **lm["brand_spend"])
    g.add_edge("ppc_clicks", "seo_clicks", sign="negative")
    g.add_edge("social_clicks", "direct_clicks", lag=None if linear else 1, sign="positive")
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
        brand[week : week + on] = 40_000 * rng.uniform(0.6, 1.2)
        week += on + int(rng.integers(3, 9))
    brand = brand * rng.uniform(0.9, 1.1, T)
    return {"demand": demand, "promo": promo, "social_spend": social, "brand_spend": brand}


def _exogenous_daily(rng: np.random.Generator, T: int) -> dict[str, np.ndarray]:
    """Daily roots: demand with a yearly cycle, a weekday pattern and a slow AR(1); weekly promos;
    social flighted by week with daily jitter; brand in bursts of 4-10 weeks."""
    t = np.arange(T)
    ar = np.zeros(T)
    for i in range(1, T):
        ar[i] = 0.97 * ar[i - 1] + rng.normal(0, 0.012)
    weekday = 1 + 0.06 * np.cos(2 * np.pi * (t % 7) / 7)
    demand = 100.0 * (1 + 0.25 * np.sin(2 * np.pi * t / 365.25) + 0.1 * np.sin(2 * np.pi * t / 182.6 + 1.0) + ar + 0.001 * t / 7) * weekday
    n_weeks = -(-T // 7)
    promo = np.repeat((rng.random(n_weeks) < 0.15).astype(float), 7)[:T]
    social_on = np.repeat(rng.random(n_weeks) < 0.7, 7)[:T]
    social = np.where(social_on, 20_000 / 7 * rng.uniform(0.7, 1.3, T), 2_000 / 7 * rng.uniform(0.5, 1.5, T))
    brand = np.zeros(T)
    week = 0
    while week < n_weeks:
        on = int(rng.integers(4, 11))
        brand[7 * week : 7 * (week + on)] = 40_000 / 7 * rng.uniform(0.6, 1.2)
        week += on + int(rng.integers(3, 9))
    brand = brand * rng.uniform(0.9, 1.1, T)
    return {"demand": demand, "promo": promo, "social_spend": social, "brand_spend": brand}


def _search_mechanisms(
    exo: dict[str, np.ndarray],
    rng: np.random.Generator,
    T: int,
    linear: bool,
    *,
    per_week: float = 1.0,
    adstocks: dict[str, tuple[float, int]] = WEEKLY_ADSTOCK,
) -> tuple[list[Mechanism], dict[str, np.ndarray]]:
    """The search world's mechanisms. ``per_week`` = model periods per week (1 weekly, 7 daily):
    levels and coefficients on demand and spend are divided by it, noise sds by its square root,
    so a daily world aggregates to about the weekly one."""
    f, nf = 1.0 / per_week, 1.0 / float(np.sqrt(per_week))
    ppc_ref = 30_000.0 * f
    refs = {"ppc_spend": ppc_ref, "social_spend": float(exo["social_spend"].mean()), "brand_spend": float(exo["brand_spend"].mean())}

    def media(src: str, beta: float, k: float, s: float) -> Term:
        alpha, l_max = adstocks[src]
        if linear:  # linear in spend: beta per reference unit of spend
            return Term(src, beta * f * 0.5 / refs[src])
        return Term(src, beta * f, "geometric", {"alpha": alpha}, l_max, "hill", {"k": k, "s": s}, 0, refs[src])

    mechs = [
        Mechanism("ppc_spend", 0.0, 3_000.0 * f, (Term("demand", 300.0 * f),)),  # budgets follow the demand forecast, ±10% jitter
        Mechanism("ppc_clicks", 0.0, 600.0 * nf, (Term("demand", 20.0 * f), media("ppc_spend", 25_000.0, 0.8, 1.5))),
        Mechanism("seo_clicks", 0.0, 700.0 * nf, (Term("demand", 150.0 * f), media("brand_spend", 6_000.0, 1.0, 1.2), Term("ppc_clicks", -0.35))),
        Mechanism("social_clicks", 500.0 * f, 300.0 * nf, (media("social_spend", 8_000.0, 0.7, 1.3),)),
        Mechanism(
            "direct_clicks",
            0.0,
            300.0 * nf,
            (Term("demand", 30.0 * f), media("brand_spend", 5_000.0, 1.0, 1.2), Term("social_clicks", 0.3, lag=0 if linear else 1)),
        ),
        Mechanism(
            "sales",
            6_000.0 * f,
            2_500.0 * nf,
            (Term("ppc_clicks", 3.6), Term("seo_clicks", 3.0), Term("social_clicks", 2.4), Term("direct_clicks", 4.5), Term("promo", 9_000.0 * f)),
        ),
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


def _daily_world(seed: int) -> World:
    rng = np.random.default_rng(seed)
    exo = _exogenous_daily(rng, N_DAYS)
    mechs, noise = _search_mechanisms(exo, rng, N_DAYS, False, per_week=7.0, adstocks=DAILY_ADSTOCK)
    dates = pd.date_range(START, periods=N_DAYS, freq="D")
    return World("daily", dates, exo, mechs, noise, _graph(False, False, DAILY_ADSTOCK), seed, "daily")


def _geo_world(seed: int, n_geos: int = N_GEOS) -> World:
    """The search world as the exact sum of ``n_geos`` scaled copies (see causalmmm.simulate.geo).

    Spend and demand are decided nationally and allocated by share (PPC budgets
    follow national demand with national jitter), so every geo input is s_g times
    the national one; mediator and sales noise is a national shock shared by share plus a
    geo-specific shock (sd ∝ √s_g), and the national noise is the sum over geos.
    """
    rng = np.random.default_rng(seed)
    T = N_WEEKS
    exo = _exogenous(rng, T)
    mechs, national_noise = _search_mechanisms(exo, rng, T, False)
    shares = rng.dirichlet(np.full(n_geos, 8.0))
    names = [f"geo_{i + 1:02d}" for i in range(n_geos)]
    budget_nodes = {"ppc_spend"}  # spend set nationally: the geo's noise is its share of the national jitter
    # mediator/sales noise: a national shock shared by share (85 % of the variance) plus an idiosyncratic
    # geo shock (sd ∝ √s_g); the national noise is the sum, with about the national sd
    common = {m.node: rng.normal(0.0, m.noise_sd * np.sqrt(1 - GEO_IDIOSYNCRATIC), T) for m in mechs}
    geo_noise = [
        {
            m.node: (
                s * national_noise[m.node] if m.node in budget_nodes else s * common[m.node] + rng.normal(0.0, m.noise_sd * np.sqrt(GEO_IDIOSYNCRATIC * s), T)
            )
            for m in mechs
        }
        for s in shares
    ]
    noise = {m.node: (national_noise[m.node] if m.node in budget_nodes else np.sum([gn[m.node] for gn in geo_noise], axis=0)) for m in mechs}
    dates = pd.date_range(START, periods=T, freq="W-MON")
    graph = _graph(False, False)
    geo_worlds = [
        World(f"geo/{g}", dates, {k: s * v for k, v in exo.items()}, [scale_mechanism(m, s) for m in mechs], gn, graph, seed, "geo")
        for g, s, gn in zip(names, shares, geo_noise)
    ]
    world = World("geo", dates, exo, mechs, noise, graph, seed, "geo")
    world.geo_panel = GeoPanel(names, shares, geo_worlds)
    return world


# ------------------------------------------------------------------ experiments


def _window(world: World, start_week: int, n_weeks: int) -> tuple[str, str]:
    return str(world.dates[start_week].date()), str(world.dates[start_week + n_weeks - 1].date())


def add_lift_test(
    world: World,
    name: str,
    treatment: str,
    start_week: int,
    n_weeks: int,
    rng: np.random.Generator,
    *,
    rel_se: float = 0.12,
    use: str = "calibrate",
    design: str = "lift",
    measured: str = "sales",
) -> None:
    """A randomised test whose analysed result is the true estimand plus noise of a stated se."""
    start, end = _window(world, start_week, n_weeks)
    truth = world.estimand(treatment, "off", [measured], start, end)
    se = max(abs(truth) * rel_se, 1e-9)  # no floor in data units (0-1 scaled worlds have tiny effects)
    estimate = truth + rng.normal(0, se)
    world.experiments.append(
        {
            "name": name,
            "design": design,
            "treatment": treatment,
            "intervention": "off",
            "measured": measured,
            "start": start,
            "end": end,
            "estimate": round(float(estimate), 3),
            "se": round(float(se), 3),
            "unit": "per_period",
            "use": use,
        }
    )
    world.experiment_truth[name] = {"true": truth, "estimate": float(estimate), "se": float(se)}


def add_switchback(
    world: World,
    name: str,
    start_week: int,
    n_weeks: int,
    rng: np.random.Generator,
    *,
    use: str = "calibrate",
    block_days: tuple[int, int] = (2, 4),
    washout_share: float = 0.5,
) -> None:
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
        state[i : i + n] = on
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
        rows.append(
            {
                "timestamp": str(days[d].date()),
                "ppc_on": int(s),
                "ppc_clicks": round(float(level[0] + noise[0]), 3),
                "seo_clicks": round(float(level[1] + noise[1]), 3),
            }
        )
        prev = s
    file = f"{name}.csv"
    raw = pd.DataFrame(rows)
    world.raw_files[file] = raw
    world.experiments.append(
        {
            "name": name,
            "design": "switchback",
            "treatment": "ppc_spend",
            "intervention": "off",
            "measured": measured,
            "start": start,
            "end": end,
            "data": file,
            "raw_periods_per_period": 7,
            "unit": "per_period",
            "use": use,
        }
    )
    world.experiment_truth[name] = {
        "true": truth,
        "raw_estimate": switchback_raw_estimate(raw, measured, 7),
        "note": "raw days: on = factual week / 7, off = week under do(ppc_spend = 0 over the window) / 7",
    }


def add_pre_post_test(
    world: World, name: str, treatment: str, start_week: int, n_weeks: int, *, controls: Sequence[str] = ("demand",), history: int = 104, use: str = "holdout"
) -> None:
    """A national go-dark test with no control group, for an interrupted-time-series analysis.

    The raw file is the national measured series (sales) for ``history``
    periods before the window, factual there and under do(treatment = 0)
    inside the window, with the same noise (so the true estimand is exact),
    plus the ``controls`` columns that are observed in the world.
    """
    start, end = _window(world, start_week, n_weeks)
    mask = world.mask(start, end)
    off = world.do({treatment: "off"}, start, end)
    truth = world.estimand(treatment, "off", ["sales"], start, end)
    first = max(0, start_week - history)
    rows = slice(first, start_week + n_weeks)
    series = world.factual["sales"].to_numpy().copy()
    series[mask] = off.loc[mask, "sales"].to_numpy()
    ctl = [c for c in controls if world.graph.is_observed(c)]
    raw = pd.DataFrame({"date": [str(d.date()) for d in world.dates[rows]], "sales": np.round(series[rows], 3)})
    for c in ctl:
        raw[c] = np.round(world.factual[c].to_numpy()[rows], 4)
    file = f"{name}.csv"
    world.raw_files[file] = raw
    world.experiments.append(
        {
            "name": name,
            "design": "pre_post",
            "treatment": treatment,
            "intervention": "off",
            "measured": "sales",
            "start": start,
            "end": end,
            "data": file,
            "controls": ctl,
            "unit": "per_period",
            "use": use,
        }
    )
    world.experiment_truth[name] = {"true": truth, "note": "national series: factual before the window, under do(treatment = 0) inside it, same noise"}


def switchback_raw_estimate(raw: pd.DataFrame, measured: list[str], per: int, washout: int = 1) -> float:
    """A simple raw-data estimate: within-week mean(off) − mean(on), dropping ``washout`` periods after each
    switch, averaged over weeks, times raw periods per model period (a sanity reference, not the analysis)."""
    state = raw["ppc_on"].to_numpy(dtype=int)
    y = raw[measured].sum(axis=1).to_numpy(dtype=float)
    keep = np.ones(len(state), dtype=bool)
    for lag in range(1, washout + 1):
        keep[lag:] &= state[lag:] == state[:-lag]
    week = (pd.to_datetime(raw["timestamp"]) - pd.to_datetime(raw["timestamp"]).iloc[0]).dt.days.to_numpy() // 7
    diffs = [
        y[keep & (week == w) & (state == 0)].mean() - y[keep & (week == w) & (state == 1)].mean()
        for w in np.unique(week)
        if (keep & (week == w) & (state == 0)).any() and (keep & (week == w) & (state == 1)).any()
    ]
    return float(np.mean(diffs) * per) if diffs else float("nan")


def add_daily_switchback(
    world: World, name: str, start_day: int, n_days: int, rng: np.random.Generator, *, use: str = "calibrate", block_days: tuple[int, int] = (2, 4)
) -> None:
    """PPC switched on/off in blocks of whole days inside the *daily* world.

    The raw data are the daily world under do(ppc_spend = 0 on the off-days) with
    the same noise: adstock carries PPC clicks from on-days into the next days
    (real carry-over). The estimand is in the daily model's terms: mean change per
    day of PPC + SEO clicks under do(ppc_spend = 0 over the whole window)
    (``raw_periods_per_period: 1``).
    """
    start, end = _window(world, start_day, n_days)
    measured = ["ppc_clicks", "seo_clicks"]
    state = np.ones(n_days, dtype=int)
    i, on = 0, 0
    while i < n_days:
        n = int(rng.integers(block_days[0], block_days[1] + 1))
        state[i : i + n] = on
        on = 1 - on
        i += n
    off_mask = np.zeros(world.n_periods, dtype=bool)
    off_mask[start_day : start_day + n_days] = state == 0
    realised = world.do({"ppc_spend": "off"}, mask=off_mask).iloc[start_day : start_day + n_days]
    raw = pd.DataFrame(
        {
            "timestamp": [str(d.date()) for d in realised.index],
            "ppc_on": state,
            "ppc_clicks": realised["ppc_clicks"].round(3).to_numpy(),
            "seo_clicks": realised["seo_clicks"].round(3).to_numpy(),
        }
    )
    truth = world.estimand("ppc_spend", "off", measured, start, end)
    file = f"{name}.csv"
    world.raw_files[file] = raw
    world.experiments.append(
        {
            "name": name,
            "design": "switchback",
            "treatment": "ppc_spend",
            "intervention": "off",
            "measured": measured,
            "start": start,
            "end": end,
            "data": file,
            "raw_periods_per_period": 1,
            "unit": "per_period",
            "use": use,
        }
    )
    world.experiment_truth[name] = {
        "true": truth,
        "raw_estimate": switchback_raw_estimate(raw, measured, 1),
        "note": "raw days: the daily world under do(ppc_spend = 0 on off-days); carry-over is real",
    }


def add_geo_test(
    world: World,
    name: str,
    treatment: str,
    intervention: Any,
    start_week: int,
    n_weeks: int,
    rng: np.random.Generator,
    *,
    n_geos: int = N_GEOS,
    n_treated: int = 3,
    use: str = "calibrate",
) -> None:
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
        base = new if geo in treated else world.factual
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
    world.experiments.append(
        {
            "name": name,
            "design": "geo_lift",
            "treatment": treatment,
            "intervention": iv,
            "measured": "sales",
            "start": start,
            "end": end,
            "data": file,
            "treated": treated,
            "geo_shares": {geos[i]: round(float(shares[i]), 6) for i in treated_idx},
            "unit": "per_period",
            "use": use,
        }
    )
    window = world.mask(start, end)
    treated_share = float(shares[treated_idx].sum())
    panel = world.raw_files[file]
    in_treated = panel["geo"].isin(treated).to_numpy() & np.tile(window, n_geos)
    panel_effect = (panel.loc[in_treated, "sales"].sum() - treated_share * world.factual["sales"].to_numpy()[window].sum()) / window.sum()
    world.experiment_truth[name] = {
        "true": truth,
        "treated_share": treated_share,
        "panel_estimate": float(panel_effect / treated_share),
        "note": "panel: geo g = s_g x national series x (1 + AR(1) noise); national effect = treated-geo effect / treated share",
    }


def add_panel_geo_test(
    world: World,
    name: str,
    treatment: str,
    intervention: Any,
    start_week: int,
    n_weeks: int,
    rng: np.random.Generator,
    *,
    n_treated: int = 4,
    use: str = "calibrate",
) -> None:
    """A geo-lift test on the real geo worlds of the ``geo`` preset.

    The treated geos are re-simulated under the intervention (``set v`` becomes
    ``set s_g · v`` in geo g) with their own noise; the others stay factual. The
    raw panel is long form ``date, geo, sales, <treatment>``. Truth: the national
    estimand (per period), which equals the treated geos' effect / Σ_treated s_g.
    """
    panel_geo: GeoPanel = world.geo_panel
    start, end = _window(world, start_week, n_weeks)
    treated_idx = np.sort(rng.choice(len(panel_geo.names), n_treated, replace=False))
    treated = [panel_geo.names[i] for i in treated_idx]
    new = panel_geo.do({treatment: intervention}, treated, start, end)
    frames = [
        pd.DataFrame(
            {
                "date": [str(d.date()) for d in world.dates],
                "geo": g,
                "sales": new[g]["sales"].round(3).to_numpy(),
                treatment: new[g][treatment].round(3).to_numpy(),
            }
        )
        for g in panel_geo.names
    ]
    file = f"{name}.csv"
    world.raw_files[file] = pd.concat(frames, ignore_index=True)
    truth = world.estimand(treatment, intervention, ["sales"], start, end)
    treated_effect = panel_geo.treated_effect({treatment: intervention}, treated, ["sales"], start, end)
    share = panel_geo.share(treated)
    iv = "off" if intervention == "off" else {intervention[0]: intervention[1]}
    world.experiments.append(
        {
            "name": name,
            "design": "geo_lift",
            "treatment": treatment,
            "intervention": iv,
            "measured": "sales",
            "start": start,
            "end": end,
            "data": file,
            "treated": treated,
            "geo_shares": {g: round(float(panel_geo.shares[i]), 8) for g, i in zip(treated, treated_idx)},
            "unit": "per_period",
            "use": use,
        }
    )
    world.experiment_truth[name] = {
        "true": truth,
        "treated_share": share,
        "treated_effect": treated_effect,
        "scaled_treated_effect": treated_effect / share,
        "note": "national effect = treated-geo effect / treated share (exact: geos are homogeneous scaled copies)",
    }


def _with_standard_experiments(world: World, seed: int) -> World:
    """The four experiments of experiments.yaml (search, search_latent, linear)."""
    rng = np.random.default_rng(seed + 10_000)
    add_switchback(world, "ppc_switchback", 60, 8, rng)
    add_geo_test(world, "brand_geo_dark", "brand_spend", "off", _brand_start(world, 90, on=True), 6, rng)
    add_lift_test(world, "social_lift", "social_spend", 100, 8, rng)
    add_lift_test(world, "ppc_go_dark", "ppc_spend", 120, 6, rng, use="holdout")
    return world


def _brand_start(world: World, after: int, *, on: bool) -> int:
    """First period at or after ``after`` with brand spend on (a go-dark test needs spend to switch off) or off (go-live)."""
    brand = world.exogenous["brand_spend"]
    periods = np.flatnonzero(brand > 0 if on else brand == 0)
    return int(periods[np.searchsorted(periods, after)]) if np.any(periods >= after) else after


def _geo_experiments(world: World, seed: int) -> World:
    """The ``geo`` preset: switchback and lift tests on the national world, geo tests on the geo worlds."""
    rng = np.random.default_rng(seed + 10_000)
    add_switchback(world, "ppc_switchback", 60, 8, rng)
    add_panel_geo_test(world, "brand_geo_dark", "brand_spend", "off", _brand_start(world, 90, on=True), 8, rng)
    add_lift_test(world, "social_lift", "social_spend", 100, 8, rng)
    add_lift_test(world, "ppc_go_dark", "ppc_spend", 120, 6, rng, use="holdout")
    add_panel_geo_test(world, "brand_geo_live", "brand_spend", ("set", 40_000.0), _brand_start(world, 30, on=False), 3, rng, use="holdout")
    return world


def _daily_experiments(world: World, seed: int) -> World:
    """The ``daily`` preset: a switchback of whole days (8 weeks), a brand geo test, social and PPC lift tests."""
    rng = np.random.default_rng(seed + 10_000)
    add_daily_switchback(world, "ppc_switchback", 7 * 40, 7 * 8, rng)
    add_geo_test(world, "brand_geo_dark", "brand_spend", "off", _brand_start(world, 7 * 60, on=True), 7 * 6, rng)
    add_lift_test(world, "social_lift", "social_spend", 7 * 70, 7 * 8, rng)
    add_lift_test(world, "ppc_go_dark", "ppc_spend", 7 * 85, 7 * 6, rng, use="holdout")
    return world


PRESETS: dict[str, Callable[[int], World]] = {
    "search": lambda seed: _with_standard_experiments(_base_world("search", seed), seed),
    "search_latent": lambda seed: _with_standard_experiments(_base_world("search_latent", seed, latent_demand=True), seed),
    "linear": lambda seed: _with_standard_experiments(_base_world("linear", seed, linear=True), seed),
    "geo": lambda seed: _geo_experiments(_geo_world(seed), seed),
    "daily": lambda seed: _daily_experiments(_daily_world(seed), seed),
    **MISSPEC_PRESETS,  # the misspecification suite (causalmmm.simulate.misspec)
    **FRONTDOOR_PRESETS,  # front-door worlds (causalmmm.simulate.frontdoor)
}


def simulate_world(preset: str, seed: int = 0) -> World:
    """Build a preset world from a seed (bit-for-bit reproducible)."""
    if preset not in PRESETS:
        raise DataError(f"unknown preset {preset!r}", hint=f"choose one of: {', '.join(PRESETS)}")
    return PRESETS[preset](seed)
