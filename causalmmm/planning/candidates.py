"""Candidate experiments for the planner: the default set from the fitted graph, or a candidates file.

A candidate is an :class:`causalmmm.experiments.schema.Experiment` without a result (the same fields,
read by the same parser), plus what its design needs: the treated share of the market (a lift test's
randomised half, a geo-lift's ``geo_shares``) and, for a switchback, the block length.

Windows lie **inside the data, at its end**: the latest ``n`` periods in which the channel spends in
every period (a go-dark needs spend to switch off), else the last ``n`` periods. The posterior SCM can
only propagate an intervention through periods whose exogenous inputs (demand, the other channels'
spend) it knows, so the last weeks stand in for the next ones (the same flighting, the same season
of the year a year on is *not* assumed). The simulator can run the same window, which the benchmark uses.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from causalmmm.errors import ExperimentError
from causalmmm.experiments.schema import Experiment, check_against, parse_experiment
from causalmmm.fileio import load_yaml_text, read_text
from causalmmm.intervention import Intervention

#: A randomised lift test holds out this share of the market (users or audiences) from the channel.
LIFT_SHARE = 0.5
#: The default geo-lift treats geos holding this share of the national total.
GEO_SHARE = 0.2
#: A switchback alternates blocks of this many periods; the first period of each block is washout.
SWITCH_BLOCK = 2
WINDOWS = (4, 8)


@dataclass(frozen=True)
class Candidate:
    """One experiment the planner could recommend."""

    experiment: Experiment
    share: float = 1.0  # share of the market the intervention reaches (lift: the held-out half; geo: the treated geos)
    block: int = SWITCH_BLOCK  # switchback block length (periods)

    @property
    def name(self) -> str:
        return self.experiment.name

    @property
    def design(self) -> str:
        return self.experiment.design

    @property
    def treatment(self) -> str:
        return self.experiment.treatment

    @property
    def measured(self) -> tuple[str, ...]:
        return self.experiment.measured

    @property
    def intervention_text(self) -> str:
        spec = self.experiment.intervention.to_spec()
        return spec if isinstance(spec, str) else next(f"{k} {v:g}" for k, v in spec.items())

    @property
    def reach(self) -> float:
        """Share of the window's periods × market the intervention is applied to (what the cost scales by):
        a switchback applies it in half of its periods."""
        return self.share * (0.5 if self.design == "switchback" else 1.0)


def design_share(design: str, geo_shares: dict[str, float] | None = None, treated: Sequence[str] = ()) -> float:
    """The share of the market a design intervenes on."""
    if design == "lift":
        return LIFT_SHARE
    if design == "geo_lift":
        shares = geo_shares or {}
        return float(sum(float(shares[g]) for g in (treated or shares)))
    return 1.0


def end_window(data: Any, channel: str, n: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The latest ``n``-period window in which ``channel`` spends in every period (else the last ``n`` periods)."""
    x = np.asarray(data.column(channel), dtype=float)
    dates = data.dates
    n = min(n, len(x))
    live = np.convolve((x > 0).astype(int), np.ones(n, dtype=int), mode="valid") == n
    last = int(np.flatnonzero(live)[-1]) if live.any() else len(x) - n
    return dates[last], dates[last + n - 1]


def media_children(spec: Any, channel: str) -> list[str]:
    """Modelled nodes with a spend (media) edge from ``channel``: its click or mediator nodes."""
    return [n.name for n in spec.nodes if channel in n.causes and n.name != spec.outcome]


def _label(iv: Intervention) -> str:
    return "off" if iv.is_off else f"x{iv.value:g}"


def make_candidate(spec: Any, data: Any, channel: str, design: str, iv: Intervention, n: int, measured: str, *, share: float | None = None) -> Candidate:
    """One candidate at the end of the data (see :func:`end_window`)."""
    start, end = end_window(data, channel, n)
    shares = {}
    if design == "geo_lift":
        shares = {"treated_geos": share if share is not None else GEO_SHARE}
    name = f"{channel.removesuffix('_spend')}_{design}_{_label(iv)}_{n}p_{measured}"
    e = Experiment(
        name=name,
        design=design,
        treatment=channel,
        intervention=iv,
        measured=(measured,),
        start=start,
        end=end,
        use="holdout",
        treated=tuple(shares),
        extra={"geo_shares": shares} if shares else {},
        source="<planner>",
    )
    return Candidate(e, design_share(design, shares))


def default_candidates(spec: Any, data: Any, channels: Sequence[str]) -> list[Candidate]:
    """Channel × design × intervention × window × measured node, about nine per channel.

    Per channel: a randomised lift (off) over 4 and 8 periods and a half-spend lift over 8 on the outcome;
    a lift and a switchback (off, 8 periods) on its first click/mediator node where the graph has one;
    a geo-lift (off, geo share 0.2, 8 periods); a pre/post go-dark over 6 periods; a heavy-up (×1.5) lift over 8.
    """
    out = spec.outcome
    cands = []
    for c in channels:
        off = Intervention.off(c)
        for n in WINDOWS:
            cands.append(make_candidate(spec, data, c, "lift", off, n, out))
        cands.append(make_candidate(spec, data, c, "lift", Intervention(c, "scale", 0.5), 8, out))
        cands.append(make_candidate(spec, data, c, "lift", Intervention(c, "scale", 1.5), 8, out))
        cands.append(make_candidate(spec, data, c, "geo_lift", off, 8, out))
        cands.append(make_candidate(spec, data, c, "switchback", off, 8, out))
        cands.append(make_candidate(spec, data, c, "pre_post", off, 6, out))
        kids = media_children(spec, c)
        if kids:
            cands.append(make_candidate(spec, data, c, "lift", off, 8, kids[0]))
            cands.append(make_candidate(spec, data, c, "switchback", off, 8, kids[0]))
    return cands


def _items(doc: Any, source: str) -> list[Any]:
    if isinstance(doc, list):
        return doc
    if isinstance(doc, dict):
        for key in ("candidates", "experiments"):
            if isinstance(doc.get(key), list):
                return doc[key]
    raise ExperimentError(
        "a candidates file needs a top-level 'candidates:' (or 'experiments:') list",
        where=source,
        hint="list one - name: ... block per candidate, in the experiments-file format without estimate and se",
    )


def load_candidates(path: str | Path, graph: Any, data: Any) -> list[Candidate]:
    """Read a candidates file: experiments-file items without results, checked against the graph and data."""
    p = Path(path)
    source = str(p)
    doc = load_yaml_text(read_text(p, ExperimentError, "candidates"), source, ExperimentError)
    cands, seen = [], set()
    spend = set(graph.spend_nodes)
    for i, raw in enumerate(_items(doc, source)):
        if isinstance(raw, dict) and ("estimate" in raw or "se" in raw):
            raise ExperimentError(
                f"candidates[{i}] has a result (estimate/se)", where=source, hint="a candidate is an experiment not run yet: drop estimate and se"
            )
        filled = {**raw, "estimate": 0.0, "se": 1.0, "use": "holdout"} if isinstance(raw, dict) else raw
        if isinstance(filled, dict) and filled.get("design") == "geo_lift":
            if not filled.get("geo_shares"):
                raise ExperimentError(
                    f"candidates[{i}] is a geo_lift without geo_shares",
                    where=source,
                    hint="add geo_shares: {GEO: SHARE, ...} and treated: [GEO, ...] (the treated geos' share of the national total)",
                )
            filled.setdefault("scope", "national")
        e = replace(parse_experiment(filled, i, source), estimate=None, se=None)
        if e.name in seen:
            raise ExperimentError(f"duplicate candidate name {e.name!r}", where=source, hint="give every candidate a unique name")
        seen.add(e.name)
        if e.treatment not in spend:
            raise ExperimentError(
                f"unknown channel {e.treatment!r} in candidate {e.name!r}", where=source, hint=f"treatment must be a spend channel: {', '.join(sorted(spend))}"
            )
        check_against([e], graph, data)
        shares = e.extra.get("geo_shares")
        cands.append(Candidate(e, design_share(e.design, shares, e.treated)))
    if not cands:
        raise ExperimentError("the candidates file lists no candidate", where=source, hint="add at least one - name: ... block")
    return cands


def as_candidates(items: Sequence[Any], graph: Any, data: Any) -> list[Candidate]:
    """Candidates from :class:`Candidate` or :class:`Experiment` objects (experiments are checked like a file's)."""
    out = []
    spend = set(graph.spend_nodes)
    for item in items:
        if isinstance(item, Candidate):
            out.append(item)
            continue
        if not isinstance(item, Experiment):
            raise ExperimentError(f"not a candidate: {item!r}", hint="pass Experiment or Candidate objects, or a candidates file")
        if item.treatment not in spend:
            raise ExperimentError(
                f"unknown channel {item.treatment!r}", where=item.where, hint=f"treatment must be a spend channel: {', '.join(sorted(spend))}"
            )
        check_against([item], graph, data)
        out.append(Candidate(item, design_share(item.design, item.extra.get("geo_shares"), item.treated)))
    return out
