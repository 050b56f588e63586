"""Front-door worlds: a latent confounder of a channel's budget and the outcome, and a mediator
that carries the channel's whole effect.

* ``frontdoor_tv``: a latent competitor's activity drives TV budgets (the team answers it) and
  takes sales; TV works only through branded search (adstock + saturation); social is an
  unconfounded second channel. The backdoor tv_spend <- competitor -> sales is open, so a flat
  regression is biased; the front door tv_spend -> brand_search -> sales identifies TV's effect.
  The model's sales equation must adjust for tv_spend (an adjustment term, not a cause).
* ``frontdoor_demand``: latent demand drives PPC budgets and sales directly; PPC works only
  through PPC clicks, which demand does not touch (the textbook front-door structure).

The graph is what a team that knows the business writes: the latent node is declared
``observed=false`` and every spend edge keeps its adstock and saturation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from causalmmm.graph.causal_graph import CausalGraph
from causalmmm.simulate.world import Mechanism, Term, World

N_WEEKS = 156
START = "2022-01-03"


def _ar1(rng: np.random.Generator, T: int, rho: float, sd: float) -> np.ndarray:
    x = np.zeros(T)
    for t in range(1, T):
        x[t] = rho * x[t - 1] + rng.normal(0.0, sd)
    return x / max(float(np.std(x)), 1e-9)


def _media(src: str, beta: float, ref: float, alpha: float, l_max: int, k: float = 1.0, s: float = 1.5) -> Term:
    return Term(src, beta, "geometric", {"alpha": alpha}, l_max, "hill", {"k": k, "s": s}, 0, ref)


def _tv_graph() -> CausalGraph:
    g = CausalGraph("frontdoor_tv")
    g.add_node("competitor", "confounder", observed=False)
    g.add_node("tv_spend", "spend")
    g.add_node("social_spend", "spend")
    g.add_node("brand_search", "mediator")
    g.add_node("social_clicks", "mediator")
    g.add_node("sales", "outcome")
    g.add_edge("competitor", "tv_spend")
    g.add_edge("competitor", "sales")
    g.add_edge("tv_spend", "brand_search", adstock="geometric", saturation="hill", l_max=8)
    g.add_edge("social_spend", "social_clicks", adstock="geometric", saturation="hill", l_max=4)
    g.add_edge("brand_search", "sales", sign="positive")
    g.add_edge("social_clicks", "sales", sign="positive")
    return g.validate()


def _flights(rng: np.random.Generator, T: int) -> np.ndarray:
    """1 in bursts of 4-10 weeks on, 0 for 3-8 weeks off."""
    on = np.zeros(T)
    week = 0
    while week < T:
        n = int(rng.integers(4, 11))
        on[week : week + n] = 1.0
        week += n + int(rng.integers(3, 9))
    return on


def frontdoor_tv(seed: int) -> World:
    rng = np.random.default_rng(seed)
    T = N_WEEKS
    competitor = _ar1(rng, T, 0.85, 1.0)
    # TV runs in flights, and the team goes on air when the competitor does (and spends more when it is loud)
    flight = _flights(rng, T) * ((competitor + rng.normal(0.0, 0.8, T)) > -0.5)
    social = np.where(rng.random(T) < 0.7, 15_000 * rng.uniform(0.7, 1.3, T), 1_500 * rng.uniform(0.5, 1.5, T))
    tv_ref = 30_000.0
    mechs = [
        # in a flight, budgets answer the competitor (+30% per sd) with ±35% planning noise; off-flight, no TV
        Mechanism("tv_spend", 0.0, 0.0, (Term("flight", tv_ref), Term("competitor", 9_000.0, modulator="flight"))),
        # brand search also moves with news and word of mouth (independent of TV): the front door needs that variation
        Mechanism("brand_search", 2_000.0, 600.0, (_media("tv_spend", 3_000.0, tv_ref * float(flight.mean()), 0.5, 8),)),
        Mechanism("social_clicks", 400.0, 120.0, (_media("social_spend", 2_500.0, float(social.mean()), 0.3, 4),)),
        Mechanism("sales", 8_000.0, 1_500.0, (Term("brand_search", 12.0), Term("social_clicks", 8.0), Term("competitor", -7_000.0))),
    ]
    noise = {m.node: rng.normal(0.0, m.noise_sd, T) for m in mechs}
    noise["tv_spend"] = tv_ref * rng.uniform(-0.35, 0.35, T) * flight
    dates = pd.date_range(START, periods=T, freq="W-MON")
    return World("frontdoor_tv", dates, {"competitor": competitor, "flight": flight, "social_spend": social}, mechs, noise, _tv_graph(), seed, "frontdoor_tv")


def _demand_graph() -> CausalGraph:
    g = CausalGraph("frontdoor_demand")
    g.add_node("demand", "confounder", observed=False)
    g.add_node("ppc_spend", "spend")
    g.add_node("brand_spend", "spend")
    g.add_node("ppc_clicks", "mediator")
    g.add_node("direct_clicks", "mediator")
    g.add_node("sales", "outcome")
    g.add_edge("demand", "ppc_spend")
    g.add_edge("demand", "sales")
    g.add_edge("ppc_spend", "ppc_clicks", adstock="geometric", saturation="hill", l_max=4)
    g.add_edge("brand_spend", "direct_clicks", adstock="geometric", saturation="hill", l_max=12)
    g.add_edge("ppc_clicks", "sales", sign="positive")
    g.add_edge("direct_clicks", "sales", sign="positive")
    return g.validate()


def frontdoor_demand(seed: int) -> World:
    rng = np.random.default_rng(seed)
    T = N_WEEKS
    t = np.arange(T)
    demand = 1.0 + 0.25 * np.sin(2 * np.pi * t / 52.18) + 0.1 * _ar1(rng, T, 0.8, 1.0)
    brand = np.zeros(T)
    week = 0
    while week < T:
        on = int(rng.integers(4, 11))
        brand[week : week + on] = 40_000 * rng.uniform(0.6, 1.2)
        week += on + int(rng.integers(3, 9))
    ppc_ref = 30_000.0
    mechs = [
        Mechanism("ppc_spend", 0.0, 0.0, (Term("demand", ppc_ref),)),
        # clicks also move with auction prices and click-through (independent of demand here): the front door's variation
        Mechanism("ppc_clicks", 1_000.0, 1_500.0, (_media("ppc_spend", 20_000.0, ppc_ref, 0.3, 4, 0.8, 1.5),)),
        Mechanism("direct_clicks", 1_500.0, 300.0, (_media("brand_spend", 5_000.0, float(brand.mean()), 0.7, 12),)),
        Mechanism("sales", 0.0, 1_500.0, (Term("ppc_clicks", 3.0), Term("direct_clicks", 4.0), Term("demand", 40_000.0))),
    ]
    noise = {m.node: rng.normal(0.0, m.noise_sd, T) for m in mechs}
    noise["ppc_spend"] = ppc_ref * rng.uniform(-0.3, 0.3, T)  # budgets follow demand, ±30% jitter
    dates = pd.date_range(START, periods=T, freq="W-MON")
    return World("frontdoor_demand", dates, {"demand": demand, "brand_spend": brand}, mechs, noise, _demand_graph(), seed, "frontdoor_demand")


def with_holdout_lifts(world: World, seed: int) -> World:
    """Go-dark lift tests on sales for every spend channel, used as holdouts (never calibrating)."""
    from causalmmm.simulate.presets import add_lift_test

    rng = np.random.default_rng(seed + 20_000)
    for i, c in enumerate(world.graph.spend_nodes):
        add_lift_test(world, f"{c}_go_dark", c, 40 + 30 * i, 6, rng, use="holdout")
    return world


FRONTDOOR_PRESETS = {
    "frontdoor_tv": lambda seed: with_holdout_lifts(frontdoor_tv(seed), seed),
    "frontdoor_demand": lambda seed: with_holdout_lifts(frontdoor_demand(seed), seed),
}
