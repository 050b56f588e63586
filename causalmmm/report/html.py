"""Render :class:`ReportData` as one self-contained HTML file.

No external scripts, fonts, stylesheets or images: charts are embedded as
base64 PNG data URIs, the graph as inline SVG. Every name that comes from a
user file is HTML-escaped.
"""

from __future__ import annotations

import base64
import html
import io
import re
from typing import Any

from causalmmm import tables
from causalmmm.model.run import sampler_label
from causalmmm.report import figures
from causalmmm.report.collect import ReportData
from causalmmm.report.distrust import DOUBT_SEVERITIES
from causalmmm.report.narrative import DISTRUST, NOTES, narrative

CSS = """
body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;max-width:1100px;margin:24px auto;padding:0 16px;color:#222;line-height:1.45}
h1{font-size:1.7em;margin-bottom:0}h2{font-size:1.25em;border-bottom:2px solid #e5e5e5;padding-bottom:4px;margin-top:2em}
.sub{color:#666;margin-top:4px}.summary{background:#f3f7fb;border-left:4px solid #3182bd;padding:8px 18px;margin:16px 0}
.summary li{margin:6px 0}.topic{font-weight:600}.warn{background:#fff4e5;border-left-color:#e6550d}
table.cm-table{border-collapse:collapse;font-size:.86em;margin:8px 0 16px;width:100%}
.cm-table caption{text-align:left;color:#555;font-style:italic;padding-bottom:4px}
.cm-table th,.cm-table td{border-bottom:1px solid #e5e5e5;padding:4px 8px;text-align:left;vertical-align:top}
.cm-table th{background:#fafafa}.cm-table tr.total td{font-weight:600}.cm-table tr.path td{color:#555}
.cm-table tr.bad td{background:#fdecea}img.chart{max-width:100%;display:block;margin:8px 0}
.graph svg{max-width:100%;height:auto}h3#distrust{margin:.4em 0 .2em;font-size:1.05em}.distrust li{margin:4px 0}
li.sev-high{color:#a50f15}li.sev-medium{color:#7f2704}.note{color:#555;font-size:.9em}nav a{margin-right:12px}
"""


def figure_data_uri(fig: Any, dpi: int = 100) -> str:
    """A matplotlib figure as a PNG data URI (the figure is closed)."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _img(fig: Any, alt: str) -> str:
    return f'<img class="chart" alt="{html.escape(alt)}" src="{figure_data_uri(fig)}">'


def _inline_svg(svg: str) -> str:
    """Graphviz SVG without its XML prolog and DOCTYPE, safe to inline."""
    start = svg.find("<svg")
    svg = svg[start:] if start >= 0 else svg
    return re.sub(r"<!--.*?-->", "", svg, flags=re.S)


def _section(anchor: str, title: str, body: str, note: str = "") -> str:
    n = f'<p class="note">{html.escape(note)}</p>' if note else ""
    return f'<section id="{anchor}"><h2>{html.escape(title)}</h2>{n}{body}</section>'


def render_html(d: ReportData) -> str:
    """The whole report as one HTML string."""
    from causalmmm.graph.draw import render_svg

    points = narrative(d)
    distrust = [p for p in points if p.topic == DISTRUST]
    notes = [p for p in points if p.topic == NOTES]
    items = "".join(f'<li><span class="topic">{html.escape(p.topic)}:</span> {html.escape(p.text)}</li>' for p in points if p.topic not in (DISTRUST, NOTES))
    doubts = [w for w in d.warnings if w.severity in DOUBT_SEVERITIES]
    warn = " warn" if any(w.severity == "high" for w in doubts) else ""
    if doubts:
        block = (
            '<ol class="distrust">'
            + "".join(f'<li class="sev-{html.escape(w.severity)}">{html.escape(p.text)}</li>' for w, p in zip(doubts, distrust))
            + "</ol>"
        )
    else:
        block = f'<p class="distrust">{html.escape(distrust[0].text)}</p>'
    if notes:
        block += f'<p class="note"><b>{NOTES}</b></p><ul class="notes">' + "".join(f'<li class="sev-low">{html.escape(p.text)}</li>' for p in notes) + "</ul>"
    sections = [
        f'<div class="summary{warn}"><h2 style="border:0;margin-top:.4em">Summary</h2><h3 id="distrust">{DISTRUST}</h3>{block}<ul>{items}</ul></div>',
        _section(
            "graph",
            "The causal graph, with fitted effects",
            f'<div class="graph">{_inline_svg(render_svg(d.graph, effects=d.edge_effects))}</div>',
            "Edge labels on spend edges are the posterior-mean contribution carried by that edge over the data period.",
        ),
        _section(
            "identification",
            "What the data can identify",
            tables.identification_table(d.identification).to_html() + tables.mechanisms_table(d.summary).to_html(),
        ),
        _section("diagnostics", "Fit diagnostics", tables.diagnostics_table(d.summary).to_html()),
        _section(
            "fit",
            "Actual vs fitted, per node",
            _img(figures.actual_vs_fitted(d.node_fits), "actual vs fitted per node"),
            "Black: observed. Blue: posterior mean of each node's equation given its observed parents; band: 94% posterior predictive.",
        ),
        _section(
            "residuals",
            "Residual diagnostics",
            tables.residuals_table(d.residuals).to_html(),
            "Autocorrelated residuals hint at a missing carry-over, seasonality or slow confounder; residuals that correlate "
            "with another node hint at a missing edge. Red rows need a look.",
        ),
        _section("contributions", "Contributions over time", _img(figures.contributions_over_time(d.effects), "contributions over time")),
        _section(
            "roas",
            "ROAS and mROAS",
            _img(figures.roas_forest(d.effects), "ROAS and mROAS per channel") + tables.effects_table(d.effects).to_html(),
            "ROAS = (outcome with the channel as it was − outcome with the channel off for the whole period) / spend. "
            "mROAS = the return of 1% more spend. Paths: the part of the effect that flows along that chain of edges.",
        ),
        _section(
            "curves",
            "Response curves",
            _img(figures.response_curves(d.curves, d.spend), "response curves"),
            "Total change in the outcome through the whole graph when the channel's spend is scaled, keeping its flighting pattern.",
        ),
    ]
    if d.validation:
        sections.append(_section("experiments", "Experiments: predicted vs measured", _experiments_body(d)))
    else:
        sections.append(
            _section(
                "experiments",
                "Experiments: predicted vs measured",
                "<p>No experiments file was given: run <code>causalmmm report RUN --experiments EXP.yaml</code>.</p>",
            )
        )
    if d.scenarios:
        sections.append(
            _section(
                "budget", "Budget scenarios", _img(figures.scenarios_chart(d.scenarios), "budget scenarios") + tables.scenarios_table(d.scenarios).to_html()
            )
        )
    nav = "".join(
        f'<a href="#{a}">{t}</a>'
        for a, t in (
            ("graph", "graph"),
            ("identification", "identification"),
            ("diagnostics", "diagnostics"),
            ("fit", "fit"),
            ("residuals", "residuals"),
            ("contributions", "contributions"),
            ("roas", "ROAS"),
            ("curves", "curves"),
            ("experiments", "experiments"),
            ("budget", "budget"),
        )
    )
    title = f"causalmmm report: {d.outcome}"
    settings = d.summary.get("settings", {})
    how = (
        f"fast approximation (MAP + Laplace), {settings.get('draws', '?')} draws"
        if settings.get("fast")
        else f"sampler {sampler_label(d.summary) if 'sampler' in settings else '?'}, {settings.get('chains', '?')} chains × {settings.get('draws', '?')} draws"
    )
    sub = f"Run {d.run_path} · {d.n_periods} periods ({d.freq}) {d.start} to {d.end} · {how}, seed {settings.get('seed', '?')}"
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{html.escape(title)}</title><style>{CSS}</style></head>'
        f'<body><h1>{html.escape(title)}</h1><p class="sub">{html.escape(sub)}</p><nav>{nav}</nav>{"".join(sections)}'
        '<p class="note">Intervals are 94% highest-density intervals of the posterior. Generated by causalmmm.</p></body></html>'
    )


def _experiments_body(d: ReportData) -> str:
    from causalmmm.validate import plot_experiments

    assert d.validation is not None
    chart = _img(plot_experiments(d.validation_report), "predicted vs measured per experiment") if d.validation_report is not None else ""
    return chart + tables.validation_table(d.validation).to_html()
