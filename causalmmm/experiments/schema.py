"""Experiment files (CONTRACT.md §3) → `Experiment` objects with an explicit estimand.

An experiment says: intervene on ``treatment`` (off / scale / set) over
[``start``, ``end``]; the effect is the change in the sum of the ``measured``
node(s), intervened minus business-as-usual, per data period (``per_period``)
or summed over the window (``total``).

Its ``scope`` says whose effect ``estimate`` is: ``national`` (the whole market,
the model's units) or ``geo`` (the treated geos only, e.g. a geo-lift analysed
without ``geo_shares``). Only national estimands can calibrate or validate the
national model.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping, Sequence

import pandas as pd
import yaml

from causalmmm.errors import ExperimentError
from causalmmm.fileio import atomic_write_text, load_yaml_text, read_text
from causalmmm.intervention import Intervention
from causalmmm.spec import LIKELIHOODS

DESIGNS = ("lift", "geo_lift", "switchback", "pre_post")
UNITS = ("per_period", "total")
USES = ("calibrate", "holdout")
SCOPES = ("national", "geo")
_BOOL_TAG = "tag:yaml.org,2002:bool"
_KNOWN = {
    "name",
    "design",
    "treatment",
    "intervention",
    "measured",
    "start",
    "end",
    "estimate",
    "se",
    "unit",
    "use",
    "data",
    "treated",
    "likelihood",
    "raw_periods_per_period",
    "geo_shares",
    "controls",
    "notes",
    "analysis",
    "scope",
    "lift_row",
    "exclude",
    "cell",
}
_EXTRA = ("raw_periods_per_period", "geo_shares", "controls", "notes", "analysis", "lift_row", "exclude", "cell")


@dataclass(frozen=True)
class Experiment:
    """One experiment and its estimand in model terms."""

    name: str
    design: str
    treatment: str
    intervention: Intervention  # on the treatment: set (off is set 0) or scale
    measured: tuple[str, ...]
    start: pd.Timestamp
    end: pd.Timestamp
    unit: str = "per_period"
    use: str = "calibrate"
    estimate: float | None = None
    se: float | None = None
    data: str | None = None
    treated: tuple[str, ...] = ()
    likelihood: str = "normal"
    extra: Mapping[str, Any] = field(default_factory=dict)
    source: str = "<experiments>"
    scope: str = "national"  # national | geo: whose effect the estimate is

    def __post_init__(self) -> None:
        if not isinstance(self.intervention, Intervention):  # ("set", v) pairs and "off" from code that builds experiments
            object.__setattr__(self, "intervention", Intervention.parse(self.treatment, self.intervention, error=ExperimentError, where=self.where))

    @property
    def has_result(self) -> bool:
        return self.estimate is not None and self.se is not None

    @property
    def where(self) -> str:
        return f"{self.source}: experiment {self.name!r}"

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "name": self.name,
            "design": self.design,
            "treatment": self.treatment,
            "intervention": self.intervention.to_spec(),
            "measured": list(self.measured) if len(self.measured) > 1 else self.measured[0],
            "start": str(self.start.date()),
            "end": str(self.end.date()),
        }
        if self.estimate is not None:
            d["estimate"] = float(self.estimate)
        if self.se is not None:
            d["se"] = float(self.se)
        d["unit"] = self.unit
        d["use"] = self.use
        if self.data is not None:
            d["data"] = self.data
        if self.treated:
            d["treated"] = list(self.treated)
        if self.likelihood != "normal":
            d["likelihood"] = self.likelihood
        if self.design == "geo_lift" or self.scope != "national":
            d["scope"] = self.scope
        d.update(self.extra)
        return d


def _err(what: str, where: str, hint: str | None = None) -> ExperimentError:
    return ExperimentError(what, where=where, hint=hint)


def _date(value: Any, key: str, where: str) -> pd.Timestamp:
    if isinstance(value, (dt.date, dt.datetime)):
        return pd.Timestamp(value)
    try:
        ts = pd.Timestamp(str(value))
    except (ValueError, TypeError):
        ts = pd.NaT
    if ts is pd.NaT:
        raise _err(f"cannot parse {key} {value!r}", where, "use ISO dates like 2024-04-01")
    return ts


def _number(value: Any, key: str, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _err(f"{key} must be a number, got {value!r}", where, f"write {key}: followed by a plain number, e.g. {key}: 120.5")
    return float(value)


def parse_experiment(raw: Any, index: int, source: str, line: int | None = None) -> Experiment:
    """Validate one experiment mapping (graph-free checks)."""
    loc = f"{source}:{line}" if line else source
    if not isinstance(raw, dict):
        raise _err(f"experiments[{index}] must be a mapping", loc, "each item is a block of key: value lines (name, design, treatment, ...)")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise _err(f"experiments[{index}] has no name", loc, "add name: SOME_ID")
    where = f"{loc}: experiment {name!r}"
    unknown = sorted(set(raw) - _KNOWN)
    if unknown:
        raise _err(f"unknown field {unknown[0]!r}", where, f"allowed fields: {', '.join(sorted(_KNOWN))}")
    for key in ("design", "treatment", "measured", "start", "end"):
        if key not in raw:
            raise _err(f"missing field {key!r}", where, f"add {key}: ... (required: design, treatment, measured, start, end)")
    design = raw["design"]
    if design not in DESIGNS:
        raise _err(f"unknown design {design!r}", where, f"allowed: {', '.join(DESIGNS)}")
    unit = raw.get("unit", "per_period")
    if unit not in UNITS:
        raise _err(f"unknown unit {unit!r}", where, f"allowed: {', '.join(UNITS)}")
    use = raw.get("use", "calibrate")
    if use not in USES:
        raise _err(f"unknown use {use!r}", where, f"allowed: {', '.join(USES)}")
    likelihood = raw.get("likelihood", "normal")
    if likelihood not in LIKELIHOODS:
        raise _err(f"unknown likelihood {likelihood!r}", where, f"allowed: {', '.join(LIKELIHOODS)}")
    measured = raw["measured"]
    measured = (measured,) if isinstance(measured, str) else tuple(measured) if isinstance(measured, list) else None
    if not measured or not all(isinstance(m, str) for m in measured):
        raise _err("measured must be a node name or a list of node names", where, "e.g. measured: sales or measured: [ppc_clicks, seo_clicks]")
    start, end = _date(raw["start"], "start", where), _date(raw["end"], "end", where)
    if start > end:
        raise _err(f"start {start.date()} is after end {end.date()}", where, "swap start and end")
    estimate = None if raw.get("estimate") is None else _number(raw["estimate"], "estimate", where)
    se = None if raw.get("se") is None else _number(raw["se"], "se", where)
    if se is not None and se <= 0:
        raise _err(f"se must be > 0, got {se:g}", where, "give the standard error of the estimate")
    if (estimate is None) != (se is None):
        raise _err("estimate and se must be given together", where, "give both, or neither and data: FILE to analyse")
    data = raw.get("data")
    if estimate is None and data is None:
        raise _err("no result and no raw data", where, "give estimate and se, or data: FILE to analyse")
    treated = raw.get("treated") or []
    if not isinstance(treated, list):
        raise _err("treated must be a list of geo names", where, "e.g. treated: [geo_03, geo_07]")
    if raw.get("geo_shares") is not None:
        _check_shares(raw["geo_shares"], treated, where)
    exclude = raw.get("exclude")
    if exclude is not None and (not isinstance(exclude, list) or design != "geo_lift"):
        raise _err("exclude must be a list of geo names, on a geo_lift", where, "e.g. exclude: [geo_05] (geos left out of the donor pool)")
    if exclude and set(map(str, exclude)) & set(map(str, treated)):
        both = sorted(set(map(str, exclude)) & set(map(str, treated)))[0]
        raise _err(f"geo {both!r} is both treated and excluded", where, "exclude lists donor geos to leave out, not treated ones")
    extra = {k: raw[k] for k in _EXTRA if k in raw}
    scope = _scope(raw, design, where, has_estimate=estimate is not None)
    return Experiment(
        name=name,
        design=design,
        treatment=str(raw["treatment"]),
        intervention=Intervention.parse(str(raw["treatment"]), raw.get("intervention", "off"), error=ExperimentError, where=where),
        measured=measured,
        start=start,
        end=end,
        unit=unit,
        use=use,
        estimate=estimate,
        se=se,
        data=None if data is None else str(data),
        treated=tuple(str(t) for t in treated),
        likelihood=likelihood,
        extra=extra,
        source=source,
        scope=scope,
    )


def _check_shares(shares: Any, treated: Sequence[Any], where: str) -> None:
    """``geo_shares`` maps every treated geo to its share of the national total; their sum is in (0, 1]."""
    hint = "geo_shares: {GEO: SHARE, ...}, each treated geo's fraction of the national total, e.g. {geo_07: 0.08}"
    if not isinstance(shares, dict):
        raise _err(f"geo_shares must be a mapping of geo to share, got {shares!r}", where, hint)
    missing = [str(g) for g in treated if g not in shares]
    if missing:
        raise _err(f"geo_shares has no share for treated geo(s) {', '.join(missing)}", where, hint)
    for g, v in shares.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.0 < float(v) <= 1.0:
            raise _err(f"geo_shares[{g!s}] must be a number in (0, 1], got {v!r}", where, hint)
    total = sum(float(shares[g]) for g in treated)
    if total > 1.0 + 1e-9:
        raise _err(f"the treated geos' shares sum to {total:g} > 1", where, hint)


def _scope(raw: Mapping[str, Any], design: str, where: str, *, has_estimate: bool) -> str:
    """Whose effect the estimate is. A geo-lift is national only with ``geo_shares`` (to scale the
    treated geos' effect) or when the file says so for a given estimate; never by default."""
    scope = raw.get("scope")
    shares = bool(raw.get("geo_shares"))
    if scope is None:
        if design != "geo_lift" or shares:
            return "national"
        if has_estimate:
            raise _err(
                "a geo_lift estimate must say whose effect it is",
                where,
                "add scope: national (the whole market's effect) or scope: geo (the treated geos only)",
            )
        return "geo"  # raw data without geo_shares: analysed into the treated geos' own effect
    if scope not in SCOPES:
        raise _err(f"unknown scope {scope!r}", where, f"allowed: {', '.join(SCOPES)}")
    if scope == "geo" and design != "geo_lift":
        raise _err(f"scope: geo needs design: geo_lift, not {design}", where, "only a geo-lift measures the treated geos alone; use scope: national")
    if scope == "national" and design == "geo_lift" and not has_estimate and not shares:
        raise _err(
            "scope: national needs geo_shares to scale the treated geos' effect",
            where,
            "add geo_shares: {GEO: SHARE, ...} (each treated geo's share of the national measured total)",
        )
    return str(scope)


def _respelled(item: yaml.Node, loaded: Any) -> dict[str, Any]:
    """Fields YAML 1.1 read as booleans (on, off, yes, no, ...), back in the user's own spelling
    (inside ``cells:`` too)."""
    out: dict[str, Any] = {}
    if not isinstance(item, yaml.MappingNode) or not isinstance(loaded, dict):
        return out
    for key, value in item.value:
        if isinstance(value, yaml.ScalarNode) and value.tag == _BOOL_TAG:
            out[key.value] = value.value
        elif isinstance(value, yaml.MappingNode) and key.value == "intervention" and isinstance(loaded.get("intervention"), dict):
            keys = [k.value if k.tag == _BOOL_TAG else loaded_key for (k, _), loaded_key in zip(value.value, loaded["intervention"])]
            out[key.value] = dict(zip(keys, loaded["intervention"].values()))
        elif isinstance(value, yaml.SequenceNode) and key.value == "cells" and isinstance(loaded.get("cells"), list):
            out[key.value] = [{**c, **_respelled(n, c)} if isinstance(c, dict) else c for n, c in zip(value.value, loaded["cells"])]
    return out


def _cell_lines(item: yaml.Node | None) -> list[int]:
    """1-based line of each item of an experiment's ``cells:`` list."""
    if not isinstance(item, yaml.MappingNode):
        return []
    for key, value in item.value:
        if key.value == "cells" and isinstance(value, yaml.SequenceNode):
            return [n.start_mark.line + 1 for n in value.value]
    return []


def _item_nodes(text: str) -> list[yaml.Node]:
    """The YAML nodes of the items of the top-level `experiments:` list."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return []
    if not isinstance(root, yaml.MappingNode):
        return []
    for key, value in root.value:
        if key.value == "experiments" and isinstance(value, yaml.SequenceNode):
            return list(value.value)
    return []


_STAR = re.compile(r"^\s*-?\s*intervention:\s*\*", re.M)


def experiments_from_yaml(text: str, source: str = "<experiments>", base: str | Path | None = None) -> list[Experiment]:
    """Parse an experiments file's text. ``base`` is the folder the ``lift_rows:`` and ``results:``
    paths are relative to (default: the folder of ``source``, when it is a path)."""
    from causalmmm.experiments import forms

    folder = Path(base) if base is not None else (Path(source).parent if not source.startswith("<") else None)
    try:
        doc = load_yaml_text(text, source, ExperimentError)
    except ExperimentError as exc:
        m = _STAR.search(text)
        if m and ("alias" in exc.what or "alphabetic or numeric" in exc.what):
            line = text.count("\n", 0, m.start()) + 1
            written = text[m.start() :].splitlines()[0].strip()
            raise _err(
                f"{written!r}: an unquoted * starts a YAML alias", f"{source}:{line}", "quote it, intervention: '*1.5', or write intervention: {scale: 1.5}"
            ) from None
        raise
    if not isinstance(doc, dict) or not isinstance(doc.get("experiments"), list):
        raise _err(
            "an experiment file needs a top-level 'experiments:' list", source, "start the file with experiments: and list one - name: ... block per experiment"
        )
    nodes = _item_nodes(text)
    out: list[Experiment] = []
    for i, item in enumerate(doc["experiments"]):
        node = nodes[i] if i < len(nodes) else None
        raw = {**item, **_respelled(node, item)} if node is not None and isinstance(item, dict) else item
        item_line = node.start_mark.line + 1 if node is not None else None
        if forms.is_form(raw):
            out.extend(forms.expand(raw, i, source, item_line, folder, _cell_lines(node)))
        else:
            out.append(parse_experiment(raw, i, source, item_line))
    seen: set[str] = set()
    for e in out:
        if e.name in seen:
            raise _err(f"duplicate experiment name {e.name!r}", source, "give every experiment a unique name")
        seen.add(e.name)
    return out


def load_experiments(path: str | Path) -> list[Experiment]:
    """Read and validate an experiments YAML file (graph-free checks)."""
    p = Path(path)
    return experiments_from_yaml(read_text(p, ExperimentError, "experiments"), str(p))


def check_against(experiments: Sequence[Experiment], graph: Any, data: Any | None = None) -> None:
    """Nodes must exist and be observed; the window must lie inside the data; the estimand must be
    national (the model is); a go-live needs periods where the treatment ran."""
    from causalmmm.experiments.lift_rows import check_lift_row

    observed = set(graph.observed_nodes)
    for e in experiments:
        if "lift_row" in e.extra:
            check_lift_row(e, graph, data)
        if e.scope == "geo":
            measured = " + ".join(e.measured)
            verb = "calibrate" if e.use == "calibrate" else "validate"
            raise _err(
                f"its estimate is geo-level (the treated geos' own {measured}) and cannot {verb} the national model",
                e.where,
                f"add geo_shares: {{GEO: SHARE, ...}} (each treated geo's share of national {measured}) and analyse again",
            )
        for node in (e.treatment, *e.measured):
            if node not in graph:
                raise _err(f"unknown node {node!r}", e.where, f"graph nodes: {', '.join(graph.nodes)}")
            if node not in observed:
                raise _err(f"node {node!r} is latent", e.where, "experiments must intervene on and measure observed nodes")
        if data is not None:
            first, last = data.dates[0], data.dates[-1]
            if e.start < first or e.end > last:
                raise _err(
                    f"window {e.start.date()}..{e.end.date()} is outside the data ({first.date()}..{last.date()})", e.where, "fix the dates or extend the data"
                )
            if not ((data.dates >= e.start) & (data.dates <= e.end)).any():
                raise _err("the window contains no data period", e.where, "widen the window")
            if e.intervention.is_on and e.treatment in data.frame.columns and not (data.column(e.treatment) > 0).any():
                raise _err(
                    f"intervention on: {e.treatment} is 0 in every period, so it has no usual level to go live at",
                    e.where,
                    "give the level: intervention: {on: LEVEL} (per period)",
                )


def experiments_to_yaml(experiments: Sequence[Experiment]) -> str:
    return yaml.safe_dump({"experiments": [e.to_dict() for e in experiments]}, sort_keys=False)


def save_experiments(experiments: Sequence[Experiment], path: str | Path) -> Path:
    atomic_write_text(path, experiments_to_yaml(experiments))
    return Path(path)


def with_result(e: Experiment, estimate: float, se: float, **extra: Any) -> Experiment:
    """A copy of ``e`` with an analysed result filled in."""
    return replace(e, estimate=float(estimate), se=float(se), extra={**e.extra, **extra})
