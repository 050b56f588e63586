"""One validated `Dataset`: checked once, at the boundary (CONTRACT.md §2).

Dates are parsed, unique, sorted and regular (weekly or daily, no gaps); every
value column is numeric and finite. With a graph: every observed node has a
column and spend is non-negative.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from causalmmm.errors import DataError

if TYPE_CHECKING:
    from causalmmm.graph.causal_graph import CausalGraph


@dataclass(frozen=True)
class Dataset:
    """A regular time series table: a DatetimeIndex named ``date`` and float columns."""

    frame: pd.DataFrame
    freq: str
    source: str = "<DataFrame>"
    warnings: tuple[str, ...] = field(default=())

    @property
    def dates(self) -> pd.DatetimeIndex:
        return self.frame.index

    @property
    def n_periods(self) -> int:
        return len(self.frame)

    def column(self, name: str) -> np.ndarray:
        return self.frame[name].to_numpy(dtype=float)

    def fingerprint(self) -> str:
        """SHA-256 of the canonical CSV form; stored in runs to detect changed data."""
        csv = self.frame.to_csv(float_format="%.10g").encode()
        return hashlib.sha256(csv).hexdigest()

    def window_mask(self, start: str | pd.Timestamp | None, end: str | pd.Timestamp | None, what: str = "window") -> np.ndarray:
        """Boolean mask of periods in [start, end]; raise if the window misses the data."""
        s = _parse_date(start, what) if start is not None else self.dates[0]
        e = _parse_date(end, what) if end is not None else self.dates[-1]
        if s > e:
            raise DataError(f"{what} starts ({s.date()}) after it ends ({e.date()})", hint="swap start and end")
        if s < self.dates[0] or e > self.dates[-1]:
            raise DataError(
                f"{what} {s.date()}..{e.date()} is outside the data ({self.dates[0].date()}..{self.dates[-1].date()})",
                hint="choose dates inside the data range",
            )
        mask = (self.dates >= s) & (self.dates <= e)
        if not mask.any():
            raise DataError(f"{what} {s.date()}..{e.date()} contains no data period", hint="widen the window")
        return np.asarray(mask)

    def validate_against(self, graph: CausalGraph) -> Dataset:
        """Check columns and spend signs against the graph; extra columns become warnings."""
        try:
            warnings = list(self.warnings) + graph.check_columns(self.frame.columns)
        except DataError as exc:
            raise DataError(exc.what, where=exc.where or self.source, hint=exc.hint) from None
        for node in graph.spend_nodes:
            col = self.frame[node]
            if (col < 0).any():
                bad = col.index[col < 0][0]
                raise DataError(
                    f"spend column {node!r} is negative on {bad.date()} ({col[bad]:g})", where=self.source, hint="spend must be >= 0; fix or remove the row"
                )
        keep = [n for n in graph.observed_nodes]
        return Dataset(self.frame[keep].copy(), self.freq, self.source, tuple(warnings))


def _parse_date(value: str | pd.Timestamp, what: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise DataError(f"cannot parse {what} date {value!r}", hint="use ISO dates like 2024-04-01") from None
    if ts is pd.NaT:
        raise DataError(f"cannot parse {what} date {value!r}", hint="use ISO dates like 2024-04-01")
    return ts


def _infer_freq(dates: pd.DatetimeIndex, source: str, date_column: str) -> str:
    if len(dates) < 3:
        raise DataError(f"only {len(dates)} rows", where=source, hint="a model needs a time series of many periods")
    steps = pd.Series(dates[1:] - dates[:-1])
    step = steps.mode().iloc[0]
    irregular = np.flatnonzero(steps.to_numpy() != step)
    if irregular.size:
        i = int(irregular[0])
        kind = "gap" if steps.iloc[i] > step else "irregular step"
        raise DataError(
            f"dates are not regular: {kind} between {dates[i].date()} and {dates[i + 1].date()} (expected every {step.days} days)",
            where=f"{source}, column {date_column!r}, data row {i + 2}",
            hint="fill the missing periods or resample to a regular weekly or daily grid",
        )
    if step == pd.Timedelta(days=7):
        return "W"
    if step == pd.Timedelta(days=1):
        return "D"
    if step == pd.Timedelta(hours=1):
        return "h"
    return f"{int(step.total_seconds())}s"


def load_data(source: str | Path | pd.DataFrame, date_column: str = "date") -> Dataset:
    """Read and validate a wide CSV (or DataFrame): one ``date`` column, one column per node."""
    if isinstance(source, pd.DataFrame):
        raw, name, header = source.copy(), "<DataFrame>", None
        if date_column not in raw.columns and isinstance(raw.index, pd.DatetimeIndex):
            raw = raw.reset_index(names=date_column)
    else:
        path = Path(source)
        name = str(path)
        if not path.exists():
            raise DataError("data file not found", where=name, hint="check the path")
        if path.is_dir():
            raise DataError("expected a CSV file but found a directory", where=name, hint="pass the path of the .csv file")
        try:
            with path.open(newline="", encoding="utf-8") as fh:
                header = next(csv.reader(fh), None)
            raw = pd.read_csv(path)
        except pd.errors.EmptyDataError:
            raise DataError("the CSV file is empty", where=name, hint="it needs a header row with 'date' and one column per node, then data rows") from None
        except (pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise DataError(f"cannot parse CSV ({str(exc).splitlines()[0]})", where=name, hint="check delimiters and quoting") from None
    if raw.empty:
        raise DataError("the data has a header but no rows", where=name, hint="add data rows")
    cols = header if header is not None else [str(c) for c in raw.columns]
    dupes = sorted({c for c in cols if cols.count(c) > 1})
    if dupes:
        raise DataError(f"duplicated column {dupes[0]!r}", where=name, hint="each column name must appear once")
    if date_column not in raw.columns:
        if len(cols) == 1 and any(sep in cols[0] for sep in (";", "\t", "|")):
            sep = next(s for s in (";", "\t", "|") if s in cols[0])
            raise DataError(
                f"no date column {date_column!r}: the header {cols[0]!r} looks separated by {sep!r}",
                where=name,
                hint="save the file comma-separated (causalmmm reads CSV with ',')",
            )
        raise DataError(f"no date column {date_column!r}", where=name, hint="add a 'date' column or pass --date-column")
    try:
        dates = pd.to_datetime(raw[date_column], errors="raise", format="mixed")
    except (ValueError, TypeError):
        parsed = pd.to_datetime(raw[date_column], errors="coerce", format="mixed")
        i = int(np.flatnonzero(parsed.isna().to_numpy())[0])
        raise DataError(
            f"unparsable date {raw[date_column].iloc[i]!r}", where=f"{name}, column {date_column!r}, data row {i + 1}", hint="use ISO dates like 2024-04-01"
        ) from None
    if dates.isna().any():
        i = int(np.flatnonzero(dates.isna().to_numpy())[0])
        raise DataError("missing date", where=f"{name}, column {date_column!r}, data row {i + 1}", hint="every row needs a date")
    if dates.duplicated().any():
        i = int(np.flatnonzero(dates.duplicated().to_numpy())[0])
        raise DataError(
            f"duplicated date {dates.iloc[i].date()}",
            where=f"{name}, column {date_column!r}, data row {i + 1}",
            hint="keep one row per period (aggregate duplicates first)",
        )
    if not dates.is_monotonic_increasing:
        order = np.argsort(dates.to_numpy(), kind="stable")
        raw, dates = raw.iloc[order].reset_index(drop=True), dates.iloc[order].reset_index(drop=True)
    frame = raw.drop(columns=[date_column])
    for col in frame.columns:
        values = pd.to_numeric(frame[col], errors="coerce")
        bad = values.isna() & frame[col].notna()
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(
                f"non-numeric value {frame[col].iloc[i]!r}",
                where=f"{name}, column {col!r}, data row {i + 1}",
                hint="use plain numbers (no currency symbols or thousands separators)",
            )
        if values.isna().any():
            i = int(np.flatnonzero(values.isna().to_numpy())[0])
            raise DataError("missing value (NaN)", where=f"{name}, column {col!r}, data row {i + 1}", hint="fill or impute missing values before fitting")
        if not np.isfinite(values.to_numpy(dtype=float)).all():
            i = int(np.flatnonzero(~np.isfinite(values.to_numpy(dtype=float)))[0])
            raise DataError("infinite value", where=f"{name}, column {col!r}, data row {i + 1}", hint="replace infinities with finite numbers")
        frame[col] = values.astype(float)
    index = pd.DatetimeIndex(dates, name="date")
    freq = _infer_freq(index, name, date_column)
    frame.index = index
    frame.columns = [str(c) for c in frame.columns]
    return Dataset(frame, freq, name)
