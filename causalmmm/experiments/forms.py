"""Experiments-file items that expand into several experiments (docs/file-formats.md, "Experiment forms").

* ``- lift_rows: FILE`` (with ``measured``, ``start``/``end``, ``use`` as defaults): one ``lift``
  experiment per pymc-marketing lift-test row, the estimands :func:`~causalmmm.experiments.lift_rows.from_lift_rows` makes.
* ``- results: FILE``: one experiment per row of a CSV table of analysed results.
* a ``geo_lift`` item with ``cells:``: one experiment per cell (``NAME.CELL``), each with its own
  treated geos, intervention and scope; the other cells' treated geos leave its donor pool (``exclude``).

Paths are relative to the experiments file. Every expanded item is validated as a normal experiment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import pandas as pd
import yaml

from causalmmm.errors import ExperimentError
from causalmmm.experiments.schema import USES, Experiment, _date, parse_experiment

LIFT_ROWS_KEYS = ("lift_rows", "measured", "start", "end", "use")
RESULTS_REQUIRED = ("name", "design", "treatment", "intervention", "measured", "start", "end", "estimate", "se", "unit")
RESULTS_OPTIONAL = ("scope", "use", "likelihood", "treated", "notes")
CELL_KEYS = ("name", "treated", "intervention", "geo_shares", "scope", "estimate", "se", "notes")
#: fields of a multi-cell experiment that belong to each cell, not to the experiment
PER_CELL_ONLY = ("treated", "estimate", "se")


def _err(what: str, where: str, hint: str | None = None) -> ExperimentError:
    return ExperimentError(what, where=where, hint=hint)


def _path(value: Any, key: str, base: Path | None, where: str) -> tuple[Path, str]:
    if not isinstance(value, str) or not value.strip():
        raise _err(f"{key} must be a CSV file path, got {value!r}", where, f"e.g. {key}: {key}.csv (relative to the experiments file)")
    p = Path(value)
    return (p if p.is_absolute() or base is None else base / p), value


def is_form(item: Any) -> bool:
    return isinstance(item, dict) and any(k in item for k in ("lift_rows", "results", "cells"))


def expand(item: Mapping[str, Any], index: int, source: str, line: int | None, base: Path | None, cell_lines: list[int] | None = None) -> list[Experiment]:
    """The experiments one item stands for."""
    loc = f"{source}:{line}" if line else source
    if "lift_rows" in item:
        return _lift_rows(item, loc, base)
    if "results" in item:
        return _results(item, loc, base)
    return _cells(item, index, source, line, cell_lines or [])


# ---------------------------------------------------------------- lift rows


def _lift_rows(item: Mapping[str, Any], loc: str, base: Path | None) -> list[Experiment]:
    from causalmmm.experiments.lift_rows import read_rows, rows_to_experiments

    where = f"{loc}: lift_rows item"
    unknown = sorted(set(item) - set(LIFT_ROWS_KEYS))
    if unknown:
        raise _err(f"unknown field {unknown[0]!r}", where, f"a lift_rows item takes: {', '.join(LIFT_ROWS_KEYS)}; per-row values go in the CSV's columns")
    path, written = _path(item["lift_rows"], "lift_rows", base, where)
    measured = item.get("measured")
    if measured is not None and not isinstance(measured, str):
        raise _err(f"measured must be one node name, got {measured!r}", where, "lift rows measure one node: the outcome delta_y is on, e.g. measured: sales")
    if ("start" in item) != ("end" in item):
        raise _err("a lift_rows item with a window needs both start and end", where, "give both, the period the tests ran in")
    window = None
    if "start" in item:
        window = (_date(item["start"], "start", where), _date(item["end"], "end", where))
        if window[0] > window[1]:
            raise _err(f"start {window[0].date()} is after end {window[1].date()}", where, "swap start and end")
    use = item.get("use", "calibrate")
    if use not in USES:
        raise _err(f"unknown use {use!r}", where, f"allowed: {', '.join(USES)}")
    df, label = read_rows(path, written)
    hint = f"add start: and end: to the lift_rows item in {loc} (the period the tests ran in; pymc-marketing rows carry no dates), or start/end columns"
    return rows_to_experiments(df, label, measured=measured, window=window, use=str(use), origin=loc, missing_hint=hint)


# ---------------------------------------------------------------- results table


def _cell(value: str) -> Any:
    """A results-table cell as YAML would read it (``{scale: 1.5}`` becomes a mapping); on/off stay words."""
    text = value.strip()
    if text.startswith("{"):
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError:
            return text
    return text


def results_from_csv(path: str | Path, label: str | None = None) -> list[Experiment]:
    """One experiment per row of a results table (columns ``RESULTS_REQUIRED``, optional ``RESULTS_OPTIONAL``)."""
    p = Path(path)
    source = label or str(p)
    if not p.exists():
        raise _err("results file not found", source, "give the path of a CSV with columns " + ", ".join(RESULTS_REQUIRED))
    try:
        df = pd.read_csv(p, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise _err(f"cannot read the results table ({str(exc).splitlines()[0]})", source, "a CSV with a header line") from None
    missing = [c for c in RESULTS_REQUIRED if c not in df.columns]
    if missing:
        raise _err(
            f"results table lacks column(s) {', '.join(missing)}", source, f"columns: {', '.join(RESULTS_REQUIRED)} (optional: {', '.join(RESULTS_OPTIONAL)})"
        )
    unknown = [str(c) for c in df.columns if c not in RESULTS_REQUIRED + RESULTS_OPTIONAL]
    if unknown:
        raise _err(f"unknown results column {unknown[0]!r}", source, f"columns: {', '.join(RESULTS_REQUIRED)} (optional: {', '.join(RESULTS_OPTIONAL)})")
    if df.empty:
        raise _err("no rows in the results table", source, "add one row per analysed experiment")
    out = []
    for i, row in df.iterrows():
        line = int(str(i)) + 2
        raw: dict[str, Any] = {k: v.strip() for k, v in row.items() if str(v).strip() != ""}
        for key in ("estimate", "se"):
            if key in raw:
                raw[key] = _float(raw[key], key, f"{source}:{line}")
        if "intervention" in raw:
            raw["intervention"] = _cell(raw["intervention"])
        if "measured" in raw:
            parts = [m.strip() for m in raw["measured"].split("+")]
            raw["measured"] = parts[0] if len(parts) == 1 else parts
        if "treated" in raw:
            raw["treated"] = [g for g in raw["treated"].replace(";", " ").split() if g]
        for key in RESULTS_REQUIRED:
            if key not in raw:
                raise _err(f"empty {key}", f"{source}:{line}", f"fill the {key} column (required: {', '.join(RESULTS_REQUIRED)})")
        out.append(parse_experiment(raw, int(str(i)), source, line))
    return out


def _float(text: str, key: str, where: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise _err(f"{key} must be a number, got {text!r}", where, f"write a plain number in the {key} column, e.g. -120.5") from None


def _results(item: Mapping[str, Any], loc: str, base: Path | None) -> list[Experiment]:
    where = f"{loc}: results item"
    if set(item) != {"results"}:
        extra = sorted(set(item) - {"results"})[0]
        raise _err(f"unknown field {extra!r}", where, "a results item is one line, - results: FILE.csv; every value is a column of the table")
    path, written = _path(item["results"], "results", base, where)
    return results_from_csv(path, written)


# ---------------------------------------------------------------- multi-cell geo tests


def _cells(item: Mapping[str, Any], index: int, source: str, line: int | None, cell_lines: list[int]) -> list[Experiment]:
    loc = f"{source}:{line}" if line else source
    name = item.get("name")
    where = f"{loc}: experiment {name!r}"
    if not isinstance(name, str) or not name.strip():
        raise _err(f"experiments[{index}] has no name", loc, "add name: SOME_ID")
    if item.get("design") != "geo_lift":
        raise _err(f"cells need design: geo_lift, not {item.get('design')!r}", where, "a multi-cell test is a geo-lift with several treated groups")
    for key in PER_CELL_ONLY:
        if key in item:
            raise _err(f"{key} belongs to each cell of a multi-cell test", where, f"move {key}: into the cells (each cell has its own treated geos and result)")
    cells = item["cells"]
    if not isinstance(cells, list) or not cells:
        raise _err("cells must be a non-empty list", where, "cells: [{name: a, treated: [geo_1]}, {name: b, treated: [geo_2, geo_3]}]")
    owner: dict[str, str] = {}
    parsed = []
    for j, cell in enumerate(cells):
        cwhere = f"{source}:{cell_lines[j]}: experiment {name!r}" if j < len(cell_lines) else where
        if not isinstance(cell, dict):
            raise _err(f"cells[{j}] must be a mapping", cwhere, "each cell is a block: name, treated (and optionally intervention, geo_shares, scope)")
        cname = cell.get("name")
        if not isinstance(cname, (str, int)) or isinstance(cname, bool) or not str(cname).strip():
            raise _err(f"cells[{j}] has no name", cwhere, "add name: CELL_ID to each cell")
        unknown = sorted(set(cell) - set(CELL_KEYS))
        if unknown:
            raise _err(f"unknown cell field {unknown[0]!r} in cell {cname!r}", cwhere, f"a cell takes: {', '.join(CELL_KEYS)}")
        treated = cell.get("treated")
        if not isinstance(treated, list) or not treated:
            raise _err(f"cell {cname!r} needs treated: [geo, ...]", cwhere, "list the geos this cell treated")
        for g in map(str, treated):
            if g in owner:
                raise _err(f"geo {g!r} is treated in cells {owner[g]!r} and {cname!r}", cwhere, "every treated geo belongs to one cell")
            owner[g] = str(cname)
        parsed.append((str(cname), [str(g) for g in treated], cell, cell_lines[j] if j < len(cell_lines) else line))
    parent = {k: v for k, v in item.items() if k != "cells"}
    shares = parent.pop("geo_shares", None)
    extra_exclude = parent.pop("exclude", None) or []
    out = []
    for cname, treated, cell, cline in parsed:
        raw = {**parent, **{k: v for k, v in cell.items() if k != "name"}, "name": f"{name}.{cname}", "treated": treated}
        if "geo_shares" in cell or cell.get("scope") == "geo" or shares is None:
            pass  # the cell's own shares, or a geo-level cell: nothing to scale by
        elif isinstance(shares, dict):
            raw["geo_shares"] = {g: v for g, v in shares.items() if str(g) in treated}
        else:
            raw["geo_shares"] = shares  # not a mapping: parse_experiment says so
        others = sorted({g for g, c in owner.items() if c != cname} | {str(g) for g in extra_exclude})
        if others:
            raw["exclude"] = others
        raw["cell"] = {"experiment": name, "cell": cname}
        out.append(parse_experiment(raw, index, source, cline))
    return out
