"""The HTML report: collect the numbers once, write the narrative from them, render one self-contained file."""

from __future__ import annotations

from typing import Any, Callable, Sequence

from causalmmm.report.collect import ReportData, collect
from causalmmm.report.narrative import Point, narrative


def render_report(run: Any, experiments: Sequence[Any] | None = None, *, progress: Callable[[str], None] | None = None) -> str:
    """The report of a fitted run (optionally validated against experiments) as one HTML string."""
    from causalmmm.report.html import render_html

    return render_html(collect(run, experiments, progress=progress))


__all__ = ["ReportData", "Point", "collect", "narrative", "render_report"]
