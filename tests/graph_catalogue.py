"""Textbook graphs for identification tests, built with CausalGraph's builder API.

Each :class:`Case` says, per treatment, what a correct identification must say.
Sources: Pearl (2009) *Causality* ch. 3; Hernan & Robins *What If* ch. 7;
Cinelli, Forney & Pearl (2022) "A crash course in good and bad controls";
and the marketing world of seed 000 (graphs/marketing.dot).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from causalmmm.graph import CausalGraph, load_graph

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Expect:
    """What identification of one treatment must report."""

    identifiable: bool
    criterion: str | None
    #: the exact expected set (minimum size, declaration-order ties), or None
    adjustment_set: tuple[str, ...] | None
    mediators: tuple[str, ...] = ()
    #: nodes that must never be in the returned set
    never: tuple[str, ...] = ()
    #: other sets that are also valid (checked with is_valid_adjustment_set)
    also_valid: tuple[tuple[str, ...], ...] = ()
    #: sets that look plausible but are invalid
    invalid: tuple[tuple[str, ...], ...] = ()
    #: latent nodes the reason must name (non-identifiable cases)
    latent_named: tuple[str, ...] = ()
    frontdoor: tuple[str, ...] | None = None
    #: substrings one of the experiments must contain
    experiments_include: tuple[str, ...] = ()
    #: substrings no experiment may contain
    experiments_exclude: tuple[str, ...] = ()


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[], CausalGraph]
    expect: dict[str, Expect] = field(default_factory=dict)


def _g(name: str, nodes: list[tuple], edges: list[tuple[str, str]]) -> CausalGraph:
    g = CausalGraph(name)
    for spec in nodes:
        g.add_node(*spec)
    for u, v in edges:
        g.add_edge(u, v)
    return g.validate()


def simple_confounding() -> CausalGraph:
    return _g("simple_confounding", [("z", "confounder"), ("t", "spend"), ("y", "outcome")], [("z", "t"), ("z", "y"), ("t", "y")])


def m_bias(observed_u: bool) -> Callable[[], CausalGraph]:
    def build() -> CausalGraph:
        return _g(
            f"m_bias_{'obs' if observed_u else 'latent'}",
            [("u1", "confounder", observed_u), ("u2", "confounder", observed_u), ("c", "control"), ("t", "spend"), ("y", "outcome")],
            [("u1", "t"), ("u1", "c"), ("u2", "c"), ("u2", "y"), ("t", "y")],
        )

    return build


def butterfly(observed_u: bool) -> Callable[[], CausalGraph]:
    """M-bias where the collider c also confounds t and y."""

    def build() -> CausalGraph:
        return _g(
            f"butterfly_{'obs' if observed_u else 'latent'}",
            [("u1", "confounder", observed_u), ("u2", "confounder", observed_u), ("c", "confounder"), ("t", "spend"), ("y", "outcome")],
            [("u1", "t"), ("u1", "c"), ("u2", "c"), ("u2", "y"), ("c", "t"), ("c", "y"), ("t", "y")],
        )

    return build


def front_door() -> CausalGraph:
    return _g("front_door", [("u", "confounder", False), ("t", "spend"), ("m", "mediator"), ("y", "outcome")], [("u", "t"), ("u", "y"), ("t", "m"), ("m", "y")])


def front_door_broken() -> CausalGraph:
    """Front-door plus a latent confounder of mediator and outcome (demand -> SEO -> sales)."""
    return _g(
        "front_door_broken",
        [("u", "confounder", False), ("v", "confounder", False), ("t", "spend"), ("m", "mediator"), ("y", "outcome")],
        [("u", "t"), ("u", "y"), ("v", "m"), ("v", "y"), ("t", "m"), ("m", "y")],
    )


def marketing(demand_observed: bool) -> Callable[[], CausalGraph]:
    def build() -> CausalGraph:
        g = load_graph(ROOT / "graphs" / "marketing.dot")
        if not demand_observed:
            g.add_node("demand", "confounder", observed=False)
        return g.validate()

    return build


def mediator_outcome_confounding() -> CausalGraph:
    return _g(
        "mediator_outcome_confounding",
        [("u", "confounder", False), ("t", "spend"), ("m", "mediator"), ("y", "outcome")],
        [("t", "m"), ("m", "y"), ("u", "m"), ("u", "y")],
    )


def spend_drives_spend(demand_observed: bool) -> Callable[[], CausalGraph]:
    """Social spend budgets drive PPC spend; demand drives PPC spend and clicks."""

    def build() -> CausalGraph:
        return _g(
            "spend_drives_spend",
            [
                ("demand", "confounder", demand_observed),
                ("social_spend", "spend"),
                ("ppc_spend", "spend"),
                ("social_clicks", "mediator"),
                ("ppc_clicks", "mediator"),
                ("sales", "outcome"),
            ],
            [
                ("demand", "ppc_spend"),
                ("demand", "ppc_clicks"),
                ("social_spend", "ppc_spend"),
                ("social_spend", "social_clicks"),
                ("ppc_spend", "ppc_clicks"),
                ("social_clicks", "sales"),
                ("ppc_clicks", "sales"),
            ],
        )

    return build


def instrument() -> CausalGraph:
    return _g("instrument", [("z", "control"), ("u", "confounder", False), ("t", "spend"), ("y", "outcome")], [("z", "t"), ("u", "t"), ("u", "y"), ("t", "y")])


def bow_arc() -> CausalGraph:
    return _g("bow_arc", [("u", "confounder", False), ("t", "spend"), ("y", "outcome")], [("u", "t"), ("u", "y"), ("t", "y")])


def confounder_parent_of_mediator() -> CausalGraph:
    return _g(
        "confounder_parent_of_mediator",
        [("w", "confounder"), ("t", "spend"), ("m", "mediator"), ("y", "outcome")],
        [("w", "t"), ("w", "m"), ("t", "m"), ("m", "y")],
    )


def precision_controls() -> CausalGraph:
    return _g(
        "precision_controls",
        [("season", "control"), ("promo", "control"), ("t", "spend"), ("d", "mediator"), ("y", "outcome")],
        [("season", "y"), ("promo", "y"), ("t", "y"), ("t", "d")],
    )


def confounder_chain() -> CausalGraph:
    """z1 -> z2 -> t and z1 -> y: either z1 or z2 blocks the backdoor path."""
    return _g(
        "confounder_chain", [("z1", "confounder"), ("z2", "confounder"), ("t", "spend"), ("y", "outcome")], [("z1", "z2"), ("z2", "t"), ("z1", "y"), ("t", "y")]
    )


def latent_with_observed_blocker() -> CausalGraph:
    """u (latent) -> z -> t, u -> y: the observed z blocks the path."""
    return _g(
        "latent_with_observed_blocker",
        [("u", "confounder", False), ("z", "confounder"), ("t", "spend"), ("y", "outcome")],
        [("u", "z"), ("z", "t"), ("u", "y"), ("t", "y")],
    )


def napkin() -> CausalGraph:
    """Pearl's napkin: identifiable, but by neither backdoor nor front-door."""
    return _g(
        "napkin",
        [("u1", "confounder", False), ("u2", "confounder", False), ("w1", "control"), ("w2", "control"), ("t", "spend"), ("y", "outcome")],
        [("u1", "w1"), ("u1", "y"), ("u2", "w1"), ("u2", "t"), ("w1", "w2"), ("w2", "t"), ("t", "y")],
    )


def post_treatment_collider() -> CausalGraph:
    """t -> c <- y style bad control: c is a descendant of t and must never be adjusted for."""
    return _g(
        "post_treatment_collider",
        [("z", "confounder"), ("t", "spend"), ("c", "control"), ("y", "outcome")],
        [("z", "t"), ("z", "y"), ("t", "y"), ("t", "c"), ("z", "c")],
    )


CASES: list[Case] = [
    Case("simple_confounding", simple_confounding, {"t": Expect(True, "backdoor", ("z",), invalid=((),))}),
    Case("m_bias_latent_u", m_bias(False), {"t": Expect(True, "backdoor", (), never=("c",), invalid=(("c",),))}),
    Case(
        "m_bias_observed_u",
        m_bias(True),
        {"t": Expect(True, "backdoor", (), never=("c",), also_valid=(("u1",), ("u2",), ("c", "u1"), ("c", "u2")), invalid=(("c",),))},
    ),
    Case(
        "butterfly_latent_u",
        butterfly(False),
        {"t": Expect(False, None, None, latent_named=("u",), invalid=(("c",), ()), experiments_include=("measured on y",))},
    ),
    Case(
        "butterfly_observed_u",
        butterfly(True),
        {"t": Expect(True, "backdoor", ("u1", "c"), also_valid=(("u2", "c"), ("u1", "u2", "c")), invalid=(("c",), ("u1",), ("u2",)))},
    ),
    Case(
        "front_door",
        front_door,
        {"t": Expect(True, "frontdoor", None, mediators=("m",), frontdoor=("m",), latent_named=("u",), experiments_include=("measured on y", "measured on m"))},
    ),
    Case(
        "front_door_broken",
        front_door_broken,
        {"t": Expect(False, None, None, mediators=("m",), latent_named=("u",), experiments_include=("measured on y",), experiments_exclude=("measured on m",))},
    ),
    Case(
        "marketing_demand_observed",
        marketing(True),
        {
            "ppc_spend": Expect(
                True,
                "backdoor",
                ("demand",),
                mediators=("ppc_clicks", "seo_clicks"),
                never=("ppc_clicks", "seo_clicks", "promo"),
                invalid=((), ("ppc_clicks",)),
            ),
            "social_spend": Expect(True, "backdoor", (), mediators=("social_clicks", "direct_clicks")),
            "brand_spend": Expect(True, "backdoor", (), mediators=("seo_clicks", "direct_clicks")),
        },
    ),
    Case(
        "marketing_demand_latent",
        marketing(False),
        {
            "ppc_spend": Expect(
                False,
                None,
                None,
                mediators=("ppc_clicks", "seo_clicks"),
                latent_named=("demand",),
                experiments_include=("measured on sales", "measured on ppc_clicks+seo_clicks"),
                experiments_exclude=("measured on ppc_clicks,", "measured on ppc_clicks given"),
            ),
            "social_spend": Expect(True, "backdoor", (), mediators=("social_clicks", "direct_clicks")),
            "brand_spend": Expect(True, "backdoor", (), mediators=("seo_clicks", "direct_clicks")),
        },
    ),
    Case(
        "mediator_outcome_confounding",
        mediator_outcome_confounding,
        {"t": Expect(True, "backdoor", (), mediators=("m",), experiments_exclude=("measured on m",))},
    ),
    Case(
        "spend_drives_spend_observed",
        spend_drives_spend(True),
        {
            "social_spend": Expect(True, "backdoor", (), mediators=("ppc_spend", "social_clicks", "ppc_clicks"), never=("ppc_spend",)),
            "ppc_spend": Expect(
                True,
                "backdoor",
                ("demand", "social_spend"),
                mediators=("ppc_clicks",),
                also_valid=(("demand", "social_clicks"),),
                invalid=(("demand",), ("social_spend",)),
            ),
        },
    ),
    Case(
        "spend_drives_spend_latent_demand",
        spend_drives_spend(False),
        {
            "social_spend": Expect(True, "backdoor", (), mediators=("ppc_spend", "social_clicks", "ppc_clicks")),
            "ppc_spend": Expect(False, None, None, mediators=("ppc_clicks",), latent_named=("demand",)),
        },
    ),
    Case(
        "instrument", instrument, {"t": Expect(False, None, None, never=("z",), latent_named=("u",), invalid=(("z",),), experiments_include=("measured on y",))}
    ),
    Case("bow_arc", bow_arc, {"t": Expect(False, None, None, latent_named=("u",))}),
    Case("confounder_parent_of_mediator", confounder_parent_of_mediator, {"t": Expect(True, "backdoor", ("w",), mediators=("m",), invalid=((), ("m",)))}),
    Case("precision_controls", precision_controls, {"t": Expect(True, "backdoor", (), never=("d",), also_valid=(("season", "promo"),), invalid=(("d",),))}),
    Case("confounder_chain", confounder_chain, {"t": Expect(True, "backdoor", ("z1",), also_valid=(("z2",), ("z1", "z2")))}),
    Case("latent_with_observed_blocker", latent_with_observed_blocker, {"t": Expect(True, "backdoor", ("z",), invalid=((),))}),
    Case("napkin", napkin, {"t": Expect(True, "do-calculus", None, invalid=((), ("w1",), ("w2",), ("w1", "w2")))}),
    Case("post_treatment_collider", post_treatment_collider, {"t": Expect(True, "backdoor", ("z",), never=("c",), invalid=(("z", "c"),))}),
]
