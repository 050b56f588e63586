"""pymc-marketing lift-test rows → explicit `Experiment` estimands.

A row (``channel, x, delta_x, delta_y, sigma``; optional ``start``/``end`` or
``date``, ``name``, ``measured``, ``use``) is a point pair on the channel's
response curve, in pymc-marketing's sense: moving the channel's sustained spend
per period from ``x`` to ``x + delta_x`` changed the outcome by ``delta_y`` per
period (standard deviation ``sigma``). Here it becomes the estimand

* intervention on ``channel`` over the window: ``scale (x + delta_x) / x`` when
  ``x > 0`` (the row's relative change, applied to the spend in the data), or
  ``set delta_x`` when ``x == 0`` (a go-live from zero);
* measured on the graph's outcome (or the row's ``measured`` node), ``unit:
  per_period``, ``estimate = delta_y``, ``se = sigma``;
* window: ``start..end``, or the one period ``date``, or the whole data when
  the row has no dates (pymc-marketing rows are not tied to a time).

Two ways in, one set of estimands: :func:`from_lift_rows` (Python, with the
graph and data for the defaults) and the experiments-file item ``lift_rows:
FILE`` (:func:`rows_to_experiments`, graph-free; its ``measured`` and
``start``/``end`` give the defaults). The graph and data checks
(:func:`check_lift_row`) run in :func:`causalmmm.experiments.schema.check_against`,
so both ways are checked alike. See docs/file-formats.md, "Lift-test rows".
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from causalmmm.errors import ExperimentError
from causalmmm.experiments.schema import USES, Experiment, check_against
from causalmmm.intervention import Intervention

REQUIRED = ("channel", "x", "delta_x", "delta_y", "sigma")
OPTIONAL = ("date", "start", "end", "name", "measured", "use")
#: x must be within this factor of the channel's mean spend over the window (else units or window are wrong).
MAX_LEVEL_RATIO = 3.0
#: a go-live row (x = 0) needs the window's mean spend below this fraction of delta_x.
GO_LIVE_TOLERANCE = 0.05


def read_rows(frame_or_path: pd.DataFrame | str | Path, label: str | None = None) -> tuple[pd.DataFrame, str]:
    """The rows and the name errors use for them (the path as given, or ``label``)."""
    if isinstance(frame_or_path, pd.DataFrame):
        return frame_or_path.reset_index(drop=True), label or "<lift rows>"
    path = Path(frame_or_path)
    source = label or str(path)
    if not path.exists():
        raise ExperimentError("lift-test file not found", where=source, hint="give the path of a CSV with columns " + ", ".join(REQUIRED))
    try:
        return pd.read_csv(path), source
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ExperimentError(f"cannot read lift-test rows ({str(exc).splitlines()[0]})", where=source, hint="a CSV with a header line") from None


def _number(row: pd.Series, col: str, where: str) -> float:
    raw = row[col]
    try:
        value = float(raw)
    except (TypeError, ValueError):
        value = math.nan
    if isinstance(raw, bool) or not math.isfinite(value):
        raise ExperimentError(f"{col} must be a finite number, got {raw!r}", where=where, hint=f"write a plain number in the {col} column")
    return value


def _given(row: pd.Series, col: str) -> bool:
    return col in row.index and not (row[col] is None or (isinstance(row[col], float) and math.isnan(row[col])) or str(row[col]).strip() == "")


def _date(row: pd.Series, col: str, where: str) -> pd.Timestamp:
    ts = pd.to_datetime(str(row[col]), errors="coerce")
    if pd.isna(ts):
        raise ExperimentError(f"cannot parse {col} {row[col]!r}", where=where, hint="use ISO dates like 2024-04-01")
    return pd.Timestamp(ts)


def _window(row: pd.Series, default: tuple[pd.Timestamp, pd.Timestamp] | None, where: str, missing_hint: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    if _given(row, "start") or _given(row, "end"):
        if not (_given(row, "start") and _given(row, "end")):
            raise ExperimentError("a lift row with a window needs both start and end", where=where, hint="fill both, or neither to use the default window")
        start, end = _date(row, "start", where), _date(row, "end", where)
        if start > end:
            raise ExperimentError(f"start {start.date()} is after end {end.date()}", where=where, hint="swap start and end")
        return start, end
    if _given(row, "date"):
        d = _date(row, "date", where)
        return d, d
    if default is None:
        raise ExperimentError("the lift row has no dates and there is no default window", where=where, hint=missing_hint)
    return default


def rows_to_experiments(
    df: pd.DataFrame,
    source: str,
    *,
    measured: str | None,
    window: tuple[pd.Timestamp, pd.Timestamp] | None,
    use: str = "calibrate",
    origin: str | None = None,
    missing_hint: str = "give start/end columns",
) -> list[Experiment]:
    """One ``lift`` experiment per row (graph-free checks). ``measured``/``window``/``use`` are the
    defaults for rows without those columns; ``origin`` becomes each experiment's ``source``."""
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise ExperimentError(
            f"lift-test rows lack column(s) {', '.join(missing)}", where=source, hint=f"columns: {', '.join(REQUIRED)} (optional: {', '.join(OPTIONAL)})"
        )
    unknown = [str(c) for c in df.columns if c not in REQUIRED + OPTIONAL]
    if unknown:
        raise ExperimentError(
            f"unknown lift-test column {unknown[0]!r}", where=source, hint=f"columns: {', '.join(REQUIRED)} (optional: {', '.join(OPTIONAL)})"
        )
    if df.empty:
        raise ExperimentError("no lift-test rows", where=source, hint="add one row per lift test")
    out: list[Experiment] = []
    for i, row in df.iterrows():
        line = int(str(i)) + 2  # CSV line: header is line 1
        where = f"{source}:{line}"
        channel = str(row["channel"]).strip()
        x, dx, dy, sigma = (_number(row, c, where) for c in ("x", "delta_x", "delta_y", "sigma"))
        if x < 0 or x + dx < 0:
            raise ExperimentError(
                f"spend must stay >= 0 (x = {x:g}, x + delta_x = {x + dx:g})",
                where=where,
                hint="x is the spend per period before the test and delta_x its change; delta_x >= -x (-x is a go-dark)",
            )
        if dx == 0:
            raise ExperimentError("delta_x is 0: the test changed no spend", where=where, hint="delta_x is the change in spend per period")
        if sigma <= 0:
            raise ExperimentError(f"sigma must be > 0, got {sigma:g}", where=where, hint="sigma is the standard deviation of delta_y")
        if dx * dy < 0:
            raise ExperimentError(
                f"delta_y {dy:g} has the opposite sign of delta_x {dx:g}",
                where=where,
                hint="lift rows assume more spend never lowers the outcome (as pymc-marketing does); check the signs",
            )
        name = str(row["name"]).strip() if _given(row, "name") else f"lift_{channel}_{line - 1}"
        node = str(row["measured"]).strip() if _given(row, "measured") else measured
        if node is None:
            raise ExperimentError("the lift row has no measured node", where=where, hint="add measured: OUTCOME to the lift_rows item, or a measured column")
        row_use = str(row["use"]).strip() if _given(row, "use") else use
        if row_use not in USES:
            raise ExperimentError(f"unknown use {row_use!r}", where=where, hint=f"allowed: {', '.join(USES)}")
        start, end = _window(row, window, where, missing_hint)
        iv = Intervention(channel, "scale", (x + dx) / x) if x > 0 else Intervention(channel, "set", dx)
        record = {"file": source, "row": line, "x": x, "delta_x": dx, "delta_y": dy, "sigma": sigma}
        out.append(
            Experiment(
                name=name,
                design="lift",
                treatment=channel,
                intervention=iv,
                measured=(node,),
                start=start,
                end=end,
                unit="per_period",
                use=row_use,
                estimate=dy,
                se=sigma,
                extra={"lift_row": record},
                source=origin or source,
            )
        )
    return out


def check_lift_row(e: Experiment, graph: Any, data: Any | None) -> None:
    """The row's channel is a spend node, its measured node is downstream, and the data's spend over the
    window is near ``x`` (so the relative change means what the row says); a go-live row's channel is off."""
    record = e.extra["lift_row"]
    where = f"{record['file']}:{record['row']}" if "file" in record and "row" in record else e.where
    channel, spend = e.treatment, set(graph.spend_nodes)
    if channel not in spend:
        raise ExperimentError(f"channel {channel!r} is not a spend node of the graph", where=where, hint=f"spend nodes: {', '.join(sorted(spend))}")
    (measured,) = e.measured
    if measured not in graph or measured not in graph.descendants(channel):
        raise ExperimentError(
            f"measured node {measured!r} is not downstream of {channel!r}", where=where, hint=f"use the outcome {graph.outcome!r} or a child of {channel!r}"
        )
    if data is None:
        return
    x, dx = float(record["x"]), float(record["delta_x"])
    mask = np.asarray((data.dates >= e.start) & (data.dates <= e.end))
    span = f"{e.start.date()}..{e.end.date()}"
    if not mask.any():
        raise ExperimentError(f"the window {span} holds no data period", where=where, hint="give start/end inside the data")
    window_spend = float(data.column(channel)[mask].mean())
    if x > 0:
        if window_spend == 0:
            raise ExperimentError(
                f"{channel} has no spend in {span}, so scaling it changes nothing",
                where=where,
                hint="give start/end where the channel ran, or x = 0 for a go-live",
            )
        if not 1 / MAX_LEVEL_RATIO <= window_spend / x <= MAX_LEVEL_RATIO:
            raise ExperimentError(
                f"x = {x:g} but {channel} averages {window_spend:.4g} per period in {span}",
                where=where,
                hint="x is the spend per period before the test, in the data's units; fix x or give the test's start/end",
            )
    elif window_spend > GO_LIVE_TOLERANCE * abs(dx):
        raise ExperimentError(
            f"x = 0 (a go-live) but {channel} averages {window_spend:.4g} per period in {span}",
            where=where,
            hint="give start/end of the test, when the channel was off",
        )


def from_lift_rows(frame_or_path: pd.DataFrame | str | Path, graph: Any, data: Any) -> list[Experiment]:
    """One ``lift`` experiment per pymc-marketing lift-test row, checked against ``graph`` and ``data``.
    Rows without ``measured`` measure the graph's outcome; rows without dates cover the whole data."""
    df, source = read_rows(frame_or_path)
    out = rows_to_experiments(df, source, measured=graph.outcome, window=(pd.Timestamp(data.dates[0]), pd.Timestamp(data.dates[-1])))
    names = [e.name for e in out]
    dup = next((n for n in names if names.count(n) > 1), None)
    if dup is not None:
        raise ExperimentError(f"duplicate lift-row name {dup!r}", where=source, hint="give every row a unique name")
    check_against(out, graph, data)
    return out
