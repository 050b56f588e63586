"""Misspecification suite: worlds our default graph and mechanisms do NOT match exactly.

Each family is the weekly search world (156 weeks, demand → PPC budgets and organic search,
clicks → sales) with one thing changed the way real data change it. The world's ``graph`` is
the graph a user who knows the business would write (``FAMILY_GRAPHS``, one place per family),
truth is exact by do() (:meth:`World.true_effects`), and every spend channel has a calibrating
go-dark lift test measured on sales run inside the world (rel. se 12 %). See docs/simulator.md.

=========================  ==================================================================
family                     what differs from the defaults
=========================  ==================================================================
misspec_multiplicative     PPC clicks = demand share × saturation(adstock(PPC)): edge modulated by demand
misspec_long_carryover     brand geometric alpha 0.75-0.85 over 20 weeks (real weight at lags 12-16)
misspec_negative_edge      cannibalisation as a *spend* edge ppc_spend -> seo_clicks with a negative effect
misspec_iid_linear         the seed-000 article's world: i.i.d. rows, linear spend, no adstock, ppc -> seo -0.3
misspec_weibull            brand carry-over peaks after 3-4 weeks (Weibull), not at lag 0
misspec_seasonal           linear trend + yearly Fourier seasonality + 0/1 events on sales
misspec_scaled01           every column divided by its max (pymc-marketing's examples)
misspec_flighted           every channel flighted: bursts and dark periods, PPC included
=========================  ==================================================================
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd

from causalmmm.graph.causal_graph import CausalGraph
from causalmmm.simulate.world import Mechanism, Term, World

N_WEEKS = 156
START = "2022-01-03"
PPC_REF = 30_000.0
LIFT_REL_SE = 0.12
#: Attributes of the newer graph syntax (dropped, and listed in ``World.undeclared``, when the graph API lacks them).
NEW_NODE_ATTRS = ("trend", "changepoints", "seasonality", "season_period")
NEW_EDGE_ATTRS = ("modulator",)

NodeDecl = tuple[str, str, dict[str, Any]]
EdgeDecl = tuple[str, str, dict[str, Any]]


# ------------------------------------------------------------------ graphs (what the user writes)


def _search_decl(*, l_max: Mapping[str, int] | None = None, linear: bool = False) -> tuple[list[NodeDecl], list[EdgeDecl]]:
    """The search graph of graphs/marketing.dot as declarations (edited per family)."""
    lm = {"ppc_spend": 4, "social_spend": 4, "brand_spend": 12, **(l_max or {})}
    media = {"adstock": "none", "saturation": "none"} if linear else {}
    nodes: list[NodeDecl] = [("demand", "confounder", {}), ("promo", "control", {})]
    nodes += [(s, "spend", {}) for s in ("ppc_spend", "social_spend", "brand_spend")]
    nodes += [(m, "mediator", {}) for m in ("ppc_clicks", "seo_clicks", "social_clicks", "direct_clicks")]
    nodes += [("sales", "outcome", {})]

    def spend_edge(src: str, dst: str) -> EdgeDecl:
        return (src, dst, dict(media) if linear else {"l_max": lm[src]})

    edges: list[EdgeDecl] = [
        ("demand", "ppc_spend", {}),
        ("demand", "ppc_clicks", {}),
        ("demand", "seo_clicks", {}),
        ("demand", "direct_clicks", {}),
        spend_edge("ppc_spend", "ppc_clicks"),
        spend_edge("social_spend", "social_clicks"),
        spend_edge("brand_spend", "direct_clicks"),
        spend_edge("brand_spend", "seo_clicks"),
        ("ppc_clicks", "seo_clicks", {"sign": "negative"}),
        ("social_clicks", "direct_clicks", {"sign": "positive"} if linear else {"lag": 1, "sign": "positive"}),
    ]
    edges += [(m, "sales", {"sign": "positive"}) for m in ("ppc_clicks", "seo_clicks", "social_clicks", "direct_clicks", "promo")]
    return nodes, edges


def _edit(edges: list[EdgeDecl], src: str, dst: str, **attrs: Any) -> list[EdgeDecl]:
    return [(u, v, {**a, **attrs}) if (u, v) == (src, dst) else (u, v, a) for u, v, a in edges]


def _graph_multiplicative():
    nodes, edges = _search_decl()
    return nodes, _edit(edges, "ppc_spend", "ppc_clicks", modulator="demand")


def _graph_long_carryover():
    return _search_decl(l_max={"brand_spend": 16})


def _graph_negative_edge():
    nodes, edges = _search_decl()
    edges = [e for e in edges if (e[0], e[1]) != ("ppc_clicks", "seo_clicks")]
    i = next(i for i, e in enumerate(edges) if (e[0], e[1]) == ("brand_spend", "seo_clicks"))
    return nodes, edges[: i + 1] + [("ppc_spend", "seo_clicks", {"l_max": 4, "sign": "negative"})] + edges[i + 1 :]


def _graph_iid_linear():
    lin = {"adstock": "none", "saturation": "none"}
    nodes: list[NodeDecl] = [("demand", "confounder", {})]
    nodes += [(s, "spend", {}) for s in ("ppc_spend", "social_spend", "brand_spend")]
    nodes += [(m, "mediator", {}) for m in ("ppc_clicks", "seo_clicks", "social_clicks", "direct_clicks")]
    nodes += [("sales", "outcome", {})]
    edges: list[EdgeDecl] = [("demand", "ppc_spend", {})]
    edges += [("demand", m, {}) for m in ("ppc_clicks", "seo_clicks", "social_clicks", "direct_clicks")]
    edges += [
        ("ppc_spend", "ppc_clicks", lin),
        ("social_spend", "social_clicks", lin),
        ("social_spend", "ppc_clicks", lin),
        ("social_spend", "seo_clicks", lin),
        ("social_spend", "direct_clicks", lin),
        ("brand_spend", "ppc_clicks", lin),
        ("brand_spend", "seo_clicks", lin),
        ("brand_spend", "direct_clicks", lin),
        ("ppc_clicks", "seo_clicks", {"sign": "negative"}),
    ]
    edges += [(m, "sales", {"sign": "positive"}) for m in ("ppc_clicks", "seo_clicks", "social_clicks", "direct_clicks")]
    return nodes, edges


def _graph_weibull():
    nodes, edges = _search_decl(l_max={"brand_spend": 13})
    for dst in ("direct_clicks", "seo_clicks"):
        edges = _edit(edges, "brand_spend", dst, adstock="weibull")
    return nodes, edges


def _graph_seasonal():
    nodes, edges = _search_decl()
    nodes = [(n, r, {"trend": "linear", "seasonality": 2} if n == "sales" else a) for n, r, a in nodes]
    nodes.insert(2, ("event", "control", {}))
    return nodes, edges + [("event", "sales", {})]


FAMILY_GRAPHS: dict[str, Callable[[], tuple[list[NodeDecl], list[EdgeDecl]]]] = {
    "misspec_multiplicative": _graph_multiplicative,
    "misspec_long_carryover": _graph_long_carryover,
    "misspec_negative_edge": _graph_negative_edge,
    "misspec_iid_linear": _graph_iid_linear,
    "misspec_weibull": _graph_weibull,
    "misspec_seasonal": _graph_seasonal,
    "misspec_scaled01": _search_decl,
    "misspec_flighted": _search_decl,
}


def family_graph(family: str) -> tuple[CausalGraph, list[str]]:
    """The family's declared graph, and the declarations the installed graph API could not take.

    Until the newer syntax (``trend``, ``seasonality``, ``modulator`` ...) is accepted by
    ``CausalGraph.add_node`` / ``add_edge``, those attributes are dropped and listed, so the
    world (and its exact truth) still builds; a fit of such a graph does not match the world.
    """
    nodes, edges = FAMILY_GRAPHS[family]()
    g = CausalGraph(family)
    missing: list[str] = []
    for name, role, attrs in nodes:
        try:
            g.add_node(name, role, **attrs)
        except TypeError:
            g.add_node(name, role, **{k: v for k, v in attrs.items() if k not in NEW_NODE_ATTRS})
            missing += [f"{name} [{k}={v}]" for k, v in attrs.items() if k in NEW_NODE_ATTRS]
    for u, v, attrs in edges:
        try:
            g.add_edge(u, v, **attrs)
        except TypeError:
            g.add_edge(u, v, **{k: a for k, a in attrs.items() if k not in NEW_EDGE_ATTRS})
            missing += [f"{u} -> {v} [{k}={a}]" for k, a in attrs.items() if k in NEW_EDGE_ATTRS]
    return g.validate(), missing


# ------------------------------------------------------------------ root series


def _dates(T: int = N_WEEKS) -> pd.DatetimeIndex:
    return pd.date_range(START, periods=T, freq="W-MON")


def _demand(rng: np.random.Generator, T: int, amplitude: float = 0.25) -> np.ndarray:
    """Weekly demand: a yearly cycle, a half-year harmonic, an AR(1) wobble and a slow drift (about 100)."""
    t = np.arange(T)
    ar = np.zeros(T)
    for i in range(1, T):
        ar[i] = 0.8 * ar[i - 1] + rng.normal(0, 0.04)
    return 100.0 * (1 + amplitude * np.sin(2 * np.pi * t / 52.18) + 0.1 * np.sin(2 * np.pi * t / 26.09 + 1.0) + ar + 0.001 * t)


def _flights(rng: np.random.Generator, T: int, on: tuple[int, int], off: tuple[int, int], start_on: bool = True) -> np.ndarray:
    """A 0/1 series of on-flights of ``on`` weeks and dark periods of ``off`` weeks (ranges inclusive)."""
    state = np.zeros(T)
    week, is_on = 0, start_on
    while week < T:
        n = int(rng.integers(on[0], on[1] + 1) if is_on else rng.integers(off[0], off[1] + 1))
        state[week : week + n] = float(is_on)
        week += n
        is_on = not is_on
    return state


def _per_flight(state: np.ndarray, rng: np.random.Generator, lo: float, hi: float) -> np.ndarray:
    """A level drawn uniformly in [lo, hi] for each on-flight of a 0/1 series (0 when dark)."""
    starts = np.flatnonzero(np.diff(np.concatenate([[0.0], state])) > 0)
    level = np.zeros(len(state))
    for s in starts:
        end = s + int(np.argmin(np.concatenate([state[s:], [0.0]]) > 0))
        level[s:end] = rng.uniform(lo, hi)
    return level


def _roots(rng: np.random.Generator, T: int, demand_amplitude: float = 0.25) -> dict[str, np.ndarray]:
    """Demand, promo, social (mostly on) and brand (bursts of 4-10 weeks, dark 3-8) as in the search world."""
    demand = _demand(rng, T, demand_amplitude)
    promo = (rng.random(T) < 0.15).astype(float)
    social_on = rng.random(T) < 0.7
    social = np.where(social_on, 20_000 * rng.uniform(0.7, 1.3, T), 2_000 * rng.uniform(0.5, 1.5, T))
    brand = 40_000 * _per_flight(_flights(rng, T, (4, 10), (3, 8)), rng, 0.6, 1.2) * rng.uniform(0.9, 1.1, T)
    return {"demand": demand, "promo": promo, "social_spend": social, "brand_spend": brand}


# ------------------------------------------------------------------ mechanisms


def _media(src: str, beta: float, ref: float, alpha: float, l_max: int, k: float, s: float, **kw: Any) -> Term:
    return Term(src, beta, "geometric", {"alpha": alpha}, l_max, "hill", {"k": k, "s": s}, 0, ref, **kw)


def _search_mechanisms(
    exo: Mapping[str, np.ndarray],
    *,
    brand_adstock: tuple[str, dict[str, float], int] = ("geometric", {"alpha": 0.7}, 12),
    ppc_modulator: str | None = None,
    negative_spend_edge: bool = False,
    sales_extra: tuple[Term, ...] = (),
    sales_baseline: Mapping[str, Any] | None = None,
) -> list[Mechanism]:
    """The search world's mechanisms (as presets ``search``), with the family's change."""
    refs = {"social_spend": float(exo["social_spend"].mean()), "brand_spend": float(exo["brand_spend"].mean())}
    kind, bparams, b_lmax = brand_adstock

    def brand(beta: float) -> Term:
        return Term("brand_spend", beta, kind, bparams, b_lmax, "hill", {"k": 1.0, "s": 1.2}, 0, refs["brand_spend"])

    mod = {"modulator": ppc_modulator, "modulator_ref": float(np.mean(exo[ppc_modulator]))} if ppc_modulator else {}
    seo_terms: tuple[Term, ...] = (Term("demand", 150.0), brand(6_000.0))
    if negative_spend_edge:  # PPC ads take organic clicks directly: a spend edge with a negative coefficient
        seo_terms += (_media("ppc_spend", -8_000.0, PPC_REF, 0.3, 4, 0.8, 1.5),)
    else:
        seo_terms += (Term("ppc_clicks", -0.35),)
    return [
        Mechanism("ppc_spend", 0.0, 3_000.0, (Term("demand", 300.0),)),
        Mechanism("ppc_clicks", 0.0, 600.0, (Term("demand", 20.0), _media("ppc_spend", 25_000.0, PPC_REF, 0.3, 4, 0.8, 1.5, **mod))),
        Mechanism("seo_clicks", 0.0, 700.0, seo_terms),
        Mechanism("social_clicks", 500.0, 300.0, (_media("social_spend", 8_000.0, refs["social_spend"], 0.4, 4, 0.7, 1.3),)),
        Mechanism("direct_clicks", 0.0, 300.0, (Term("demand", 30.0), brand(5_000.0), Term("social_clicks", 0.3, lag=1))),
        Mechanism(
            "sales",
            6_000.0,
            2_500.0,
            (Term("ppc_clicks", 3.6), Term("seo_clicks", 3.0), Term("social_clicks", 2.4), Term("direct_clicks", 4.5), Term("promo", 9_000.0)) + sales_extra,
            **(sales_baseline or {}),
        ),
    ]


def _noise(mechs: list[Mechanism], rng: np.random.Generator, T: int) -> dict[str, np.ndarray]:
    return {m.node: rng.normal(0.0, m.noise_sd, T) for m in mechs}


def _world(family: str, seed: int, exo: dict[str, np.ndarray], mechs: list[Mechanism], rng: np.random.Generator, notes: Mapping[str, Any]) -> World:
    graph, missing = family_graph(family)
    T = len(exo["demand"])
    world = World(family, _dates(T), exo, mechs, _noise(mechs, rng, T), graph, seed, family)
    world.undeclared = missing
    world.misspec = {"family": family, **notes}
    return world


# ------------------------------------------------------------------ experiments


def on_window(spend: np.ndarray, n_weeks: int, after: int) -> int:
    """First start >= ``after`` whose ``n_weeks`` all have spend on; else the start with the most spend-on weeks."""
    on = spend > 0
    starts = range(after, len(spend) - n_weeks + 1)
    for s in starts:
        if on[s : s + n_weeks].all():
            return s
    return max(starts, key=lambda s: (on[s : s + n_weeks].sum(), -s))


#: (channel, earliest start week, weeks) of each calibrating lift test.
LIFT_PLAN = (("ppc_spend", 40, 6), ("social_spend", 80, 6), ("brand_spend", 110, 6))


def _with_lifts(world: World, seed: int, plan: tuple[tuple[str, int, int], ...] = LIFT_PLAN) -> World:
    """One calibrating go-dark lift test per spend channel, measured on sales (rel. se 12 %)."""
    from causalmmm.simulate.presets import add_lift_test  # presets imports this module

    rng = np.random.default_rng(seed + 20_000)
    for channel, after, weeks in plan:
        start = on_window(world.factual[channel].to_numpy(), weeks, after)
        add_lift_test(world, f"{channel.removesuffix('_spend')}_lift", channel, start, weeks, rng, rel_se=LIFT_REL_SE)
    return world


# ------------------------------------------------------------------ families


def misspec_multiplicative(seed: int) -> World:
    rng = np.random.default_rng(seed)
    exo = _roots(rng, N_WEEKS, demand_amplitude=0.35)
    mechs = _search_mechanisms(exo, ppc_modulator="demand")
    return _with_lifts(
        _world(
            "misspec_multiplicative",
            seed,
            exo,
            mechs,
            rng,
            {
                "differs": "PPC clicks = 25000 · hill(adstock(ppc)) · demand / mean(demand): the PPC effect scales with demand (±35 % yearly)",
                "declares": "ppc_spend -> ppc_clicks [modulator=demand]",
            },
        ),
        seed,
    )


def misspec_long_carryover(seed: int) -> World:
    rng = np.random.default_rng(seed)
    exo = _roots(rng, N_WEEKS)
    alpha = float(np.round(rng.uniform(0.75, 0.85), 3))
    mechs = _search_mechanisms(exo, brand_adstock=("geometric", {"alpha": alpha}, 20))
    return _with_lifts(
        _world(
            "misspec_long_carryover",
            seed,
            exo,
            mechs,
            rng,
            {
                "differs": f"brand geometric alpha {alpha} over 20 weeks: {alpha**8:.0%} of the weight beyond lag 8, {alpha**16:.0%} beyond 16",
                "declares": "brand_spend edges [l_max=16]",
            },
        ),
        seed,
    )


def misspec_negative_edge(seed: int) -> World:
    rng = np.random.default_rng(seed)
    exo = _roots(rng, N_WEEKS)
    mechs = _search_mechanisms(exo, negative_spend_edge=True)
    return _with_lifts(
        _world(
            "misspec_negative_edge",
            seed,
            exo,
            mechs,
            rng,
            {
                "differs": "seo_clicks -= 8000 · hill(adstock(ppc)): a spend edge with a negative effect (no ppc_clicks -> seo_clicks edge)",
                "declares": "ppc_spend -> seo_clicks [sign=negative, l_max=4]",
            },
        ),
        seed,
    )


def misspec_iid_linear(seed: int) -> World:
    """The seed-000 article's world: every row i.i.d., every mechanism linear, no carry-over."""
    rng = np.random.default_rng(seed)
    T = N_WEEKS
    exo = {"demand": rng.normal(100.0, 15.0, T), "social_spend": rng.uniform(5_000.0, 25_000.0, T), "brand_spend": rng.uniform(5_000.0, 35_000.0, T)}
    mechs = [
        Mechanism("ppc_spend", 0.0, 3_000.0, (Term("demand", 300.0),)),
        Mechanism("ppc_clicks", 0.0, 600.0, (Term("demand", 20.0), Term("ppc_spend", 0.5), Term("social_spend", 0.04), Term("brand_spend", 0.03))),
        Mechanism("seo_clicks", 0.0, 700.0, (Term("demand", 150.0), Term("social_spend", 0.03), Term("brand_spend", 0.15), Term("ppc_clicks", -0.3))),
        Mechanism("social_clicks", 0.0, 300.0, (Term("demand", 10.0), Term("social_spend", 0.4))),
        Mechanism("direct_clicks", 0.0, 300.0, (Term("demand", 30.0), Term("social_spend", 0.05), Term("brand_spend", 0.12))),
        Mechanism("sales", 6_000.0, 2_500.0, (Term("ppc_clicks", 3.6), Term("seo_clicks", 3.0), Term("social_clicks", 2.4), Term("direct_clicks", 4.5))),
    ]
    return _with_lifts(
        _world(
            "misspec_iid_linear",
            seed,
            exo,
            mechs,
            rng,
            {
                "differs": "i.i.d. rows (no time structure), linear spend effects, no adstock/saturation; social and brand halo on PPC/SEO/direct clicks",
                "declares": "spend edges [adstock=none, saturation=none]; ppc_clicks -> seo_clicks [sign=negative]",
            },
        ),
        seed,
    )


WEIBULL = {"shape": 2.5, "scale": 5.0}  # pdf at lag+1 peaks at lag 3


def misspec_weibull(seed: int) -> World:
    rng = np.random.default_rng(seed)
    exo = _roots(rng, N_WEEKS)
    mechs = _search_mechanisms(exo, brand_adstock=("weibull", dict(WEIBULL), 13))
    return _with_lifts(
        _world(
            "misspec_weibull",
            seed,
            exo,
            mechs,
            rng,
            {
                "differs": "brand adstock Weibull (shape 2.5, scale 5, 13 weeks): the carry-over peaks 3 weeks after the spend",
                "declares": "brand_spend edges [adstock=weibull, l_max=13]",
            },
        ),
        seed,
    )


#: Sales baseline of misspec_seasonal: slope per week and (sin, cos) amplitudes of the yearly harmonics 1 and 2.
SEASONAL_SALES = {"trend": 60.0, "fourier": ((12_000.0, 5_000.0), (3_000.0, -2_500.0))}
EVENT_EFFECT = 20_000.0


def _events(rng: np.random.Generator, dates: pd.DatetimeIndex) -> np.ndarray:
    """0/1 event weeks: the Black-Friday week (week 47) and the week before Christmas (51) each year, plus 2 random weeks a year."""
    week = dates.isocalendar().week.to_numpy()
    event = np.isin(week, (47, 51)).astype(float)
    for year in np.unique(dates.year):
        idx = np.flatnonzero((dates.year == year) & (event == 0))
        event[rng.choice(idx, size=min(2, len(idx)), replace=False)] = 1.0
    return event


def misspec_seasonal(seed: int) -> World:
    rng = np.random.default_rng(seed)
    exo = _roots(rng, N_WEEKS)
    exo["event"] = _events(rng, _dates())
    mechs = _search_mechanisms(exo, sales_extra=(Term("event", EVENT_EFFECT),), sales_baseline=SEASONAL_SALES)
    return _with_lifts(
        _world(
            "misspec_seasonal",
            seed,
            exo,
            mechs,
            rng,
            {
                "differs": "sales += 60·t + yearly Fourier order 2 (amplitude about 13k) + 20k on 0/1 event weeks",
                "declares": "sales [trend=linear, seasonality=2]; event [role=control]; event -> sales",
            },
        ),
        seed,
    )


def rescale_mechanism(m: Mechanism, scales: Mapping[str, float]) -> Mechanism:
    """The mechanism on series divided by ``scales`` (node → divisor): the same world in new units."""
    c = scales[m.node]
    terms = []
    for t in m.terms:
        kw: dict[str, Any] = {"modulator_ref": t.modulator_ref / scales[t.modulator]} if t.modulator else {}
        if t.is_media:
            terms.append(replace(t, beta=t.beta / c, ref=t.ref / scales[t.source], **kw))
        else:
            terms.append(replace(t, beta=t.beta * scales[t.source] / c, **kw))
    mult = (m.multiplier[0], m.multiplier[1], m.multiplier[2] / scales[m.multiplier[0]]) if m.multiplier else None
    return replace(
        m,
        intercept=m.intercept / c,
        noise_sd=m.noise_sd / c,
        terms=tuple(terms),
        multiplier=mult,
        season_amplitude=m.season_amplitude / c,
        trend=m.trend / c,
        fourier=tuple((a / c, b / c) for a, b in m.fourier),
    )


def rescale_world(world: World, scales: Mapping[str, float], name: str) -> World:
    """``world`` with every series divided by ``scales``; sales-measured lift tests are carried over in the new units."""
    exo = {k: v / scales[k] for k, v in world.exogenous.items()}
    mechs = [rescale_mechanism(m, scales) for m in world.mechanisms.values()]
    noise = {k: v / scales[k] for k, v in world.noise.items()}
    new = World(name, world.dates, exo, mechs, noise, world.graph, world.seed, name)
    for e in world.experiments:
        if e["design"] != "lift" or e["measured"] != "sales":
            raise ValueError(f"rescale_world carries only lift tests on sales, not {e['name']!r}")
        c = scales["sales"]
        new.experiments.append({**e, "estimate": round(e["estimate"] / c, 9), "se": round(e["se"] / c, 9)})
        truth = new.estimand(e["treatment"], e["intervention"], ["sales"], e["start"], e["end"])
        new.experiment_truth[e["name"]] = {"true": truth, "estimate": e["estimate"] / c, "se": e["se"] / c}
    return new


def scaled01_base(seed: int) -> World:
    """The unscaled world behind ``misspec_scaled01`` (the search mechanisms, lift tests run in it)."""
    rng = np.random.default_rng(seed)
    exo = _roots(rng, N_WEEKS)
    return _with_lifts(_world("misspec_scaled01", seed, exo, _search_mechanisms(exo), rng, {}), seed)


def misspec_scaled01(seed: int) -> World:
    """The search world with every column divided by its maximum; lift results carried over in the new units."""
    base = scaled01_base(seed)
    scales = {k: float(np.max(np.abs(base.factual[k].to_numpy()))) or 1.0 for k in base.factual.columns}
    world = rescale_world(base, scales, "misspec_scaled01")
    world.undeclared = base.undeclared
    world.misspec = {
        "family": "misspec_scaled01",
        "differs": "every column divided by its maximum (data in [0, 1]); ROAS in scaled units = ROAS × max(spend)/max(sales)",
        "declares": "nothing new (the search graph)",
        "scales": scales,
    }
    return world


def misspec_flighted(seed: int) -> World:
    """Every channel flighted: PPC on 3-8 weeks / dark 2-5, social on 4-10 / dark 2-6, brand bursts with long dark spells."""
    rng = np.random.default_rng(seed)
    T = N_WEEKS
    demand = _demand(rng, T)
    promo = (rng.random(T) < 0.15).astype(float)
    ppc = _flights(rng, T, (3, 8), (2, 5)) * np.maximum(300.0 * demand * (1 + rng.normal(0, 0.1, T)), 0.0)
    social = _flights(rng, T, (4, 10), (2, 6)) * 20_000 * rng.uniform(0.7, 1.3, T)
    brand = 50_000 * _per_flight(_flights(rng, T, (3, 8), (4, 12)), rng, 0.6, 1.2) * rng.uniform(0.9, 1.1, T)
    exo = {"demand": demand, "promo": promo, "ppc_spend": ppc, "social_spend": social, "brand_spend": brand}
    mechs = [m for m in _search_mechanisms(exo) if m.node != "ppc_spend"]  # PPC budgets: on-flights follow demand
    return _with_lifts(
        _world(
            "misspec_flighted",
            seed,
            exo,
            mechs,
            rng,
            {
                "differs": "every channel flighted with dark periods (PPC = on-flight × 300·demand × (1 ± 10 %)); spend often exactly 0",
                "declares": "nothing new (the search graph)",
            },
        ),
        seed,
        plan=(("ppc_spend", 40, 4), ("social_spend", 80, 4), ("brand_spend", 110, 4)),
    )


FAMILIES: dict[str, Callable[[int], World]] = {
    "misspec_multiplicative": misspec_multiplicative,
    "misspec_long_carryover": misspec_long_carryover,
    "misspec_negative_edge": misspec_negative_edge,
    "misspec_iid_linear": misspec_iid_linear,
    "misspec_weibull": misspec_weibull,
    "misspec_seasonal": misspec_seasonal,
    "misspec_scaled01": misspec_scaled01,
    "misspec_flighted": misspec_flighted,
}
#: What presets.PRESETS registers.
MISSPEC_PRESETS = FAMILIES


def graph_dot(family: str) -> str:
    """The family's graph as the DOT a user writes (for docs)."""
    from causalmmm.graph.io import graph_to_dot

    return graph_to_dot(family_graph(family)[0])


__all__ = ["FAMILIES", "FAMILY_GRAPHS", "MISSPEC_PRESETS", "family_graph", "graph_dot", "on_window", "scaled01_base", "rescale_mechanism", "rescale_world"]
