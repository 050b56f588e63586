"""Small HTML tables: one renderer for the report and for Jupyter's ``_repr_html_``.

Every result object that shows as a table in a notebook builds a :class:`Table`
from its ``to_dict()``; the HTML report uses the same functions, so the numbers
in a notebook and in the report cannot drift apart. Every cell is HTML-escaped.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from causalmmm.fmt import num, pct, signed


@dataclass
class Table:
    """A caption, column headers and rows of already-formatted cells."""

    columns: Sequence[str]
    rows: list[Sequence[Any]] = field(default_factory=list)
    caption: str = ""
    row_classes: list[str] = field(default_factory=list)

    def to_html(self) -> str:
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in self.columns)
        body = []
        for i, row in enumerate(self.rows):
            cls = self.row_classes[i] if i < len(self.row_classes) and self.row_classes[i] else ""
            attr = f' class="{html.escape(cls)}"' if cls else ""
            body.append(f"<tr{attr}>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>")
        cap = f"<caption>{html.escape(self.caption)}</caption>" if self.caption else ""
        return f'<table class="cm-table">{cap}<thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def fmt_num(x: float | None) -> str:
    """:func:`causalmmm.fmt.num` (significant digits at any scale); '–' for missing."""
    return "–" if x is None else num(x)


def fmt_interval(s: Mapping[str, float]) -> str:
    """``mean [low, high]`` from a Summary dict."""
    return f"{num(s['mean'])} [{num(s['hdi_low'])}, {num(s['hdi_high'])}]"


def effects_table(effects: Mapping[str, Any]) -> Table:
    """Total ROAS, mROAS and contribution per channel, then each path (from ``EffectsReport.to_dict()``)."""
    t = Table(
        ["channel", "effect", "path", "ROAS [94% HDI]", "contribution [94% HDI]", "mROAS [94% HDI]"],
        caption=f"Effects on {effects['outcome']} over the data period",
    )
    for row in effects["effects"]:
        ch = effects["channels"].get(row["treatment"], {})
        is_total = row["kind"] == "total"
        path = " → ".join(row["path"]) if row.get("path") else ("all paths" if is_total else "(rest)")
        t.rows.append(
            [
                row["treatment"],
                row["kind"],
                path,
                fmt_interval(row["roas"]),
                fmt_interval(row["contribution"]),
                fmt_interval(ch["mroas"]) if is_total and "mroas" in ch else "",
            ]
        )
        t.row_classes.append("total" if is_total else "path")
    return t


def identification_table(ident: Mapping[str, Any]) -> Table:
    """Per channel: identifiable?, adjust for, mediators, experiments that identify it."""
    t = Table(
        ["channel", "identified from data?", "adjust for", "works through", "why"],
        caption=f"Identification of each channel's total effect on {ident['outcome']}",
    )
    for c in ident["channels"]:
        adj = c["adjustment_set"]
        t.rows.append(
            [
                c["treatment"],
                "yes" if c["identifiable"] else "NO",
                "–" if adj is None else (", ".join(adj) or "nothing"),
                ", ".join(c["mediators"]) or "–",
                c["reason"],
            ]
        )
        t.row_classes.append("" if c["identifiable"] else "bad")
    return t


def diagnostics_table(summary: Mapping[str, Any]) -> Table:
    """Convergence per node from a run's summary.json."""
    t = Table(
        ["node", "R-hat max", "ESS bulk min", "divergences", "warnings"],
        caption="Sampler diagnostics per node (R-hat < 1.01 and bulk ESS of at least 100 per chain are good)",
    )
    for d in summary.get("diagnostics", []):
        rh, ess = d.get("r_hat_max"), d.get("ess_bulk_min")
        t.rows.append(
            [
                d["node"],
                "–" if rh is None else f"{rh:.3f}",
                "–" if ess is None else num(ess),
                d.get("divergences", 0),
                "; ".join(d.get("warnings", [])) or "none",
            ]
        )
        t.row_classes.append("bad" if d.get("warnings") else "")
    return t


def mechanisms_table(summary: Mapping[str, Any]) -> Table:
    """Each node's equation from a run's summary.json: causal parents, adjustment terms, baseline, status."""
    t = Table(
        ["node", "causal parents", "adjustment terms (not causes)", "baseline", "mechanism"],
        caption="The per-node equations. Adjustment terms block a backdoor path into the node and are held at their "
        "observed values in every do(); they are not part of the node's causal effect.",
    )
    for n in summary.get("nodes", []):
        base = [
            b
            for b in ((n.get("trend") if n.get("trend") not in (None, "none") else ""), (f"seasonality {n['seasonality']}" if n.get("seasonality") else ""))
            if b
        ]
        t.rows.append(
            [
                n["name"],
                ", ".join(n.get("causes", n.get("parents", []))) or "–",
                ", ".join(n.get("adjustment", [])) or "–",
                ", ".join(base) or "–",
                "confounded unless calibrated" if n.get("confounded") else "identified",
            ]
        )
        t.row_classes.append("bad" if n.get("confounded") else "")
    return t


def residuals_table(residuals: Mapping[str, Any]) -> Table:
    """Residual checks per node (``Diagnostics.to_dict()``): autocorrelation, predictive coverage, missing-edge hints."""
    t = Table(
        ["node", "lag-1 autocorrelation", "Ljung-Box p", "inside 94% predictive band", "hints"],
        caption=f"Residual diagnostics per node (lags 1..{residuals.get('max_lag', '?')})",
    )
    for n in residuals.get("nodes", []):
        hints = "; ".join(h["suggestion"] for h in n.get("missing_edge_hints", []))
        t.rows.append([n["node"], f"{n['autocorrelation'][0]:+.2f}", f"{n['ljung_box']['p_value']:.2g}", pct(n["ppc_coverage"]), hints or "none"])
        t.row_classes.append("bad" if n["autocorrelated"] or not n["ppc_ok"] or hints else "")
    return t


def validation_table(validation: Mapping[str, Any]) -> Table:
    """Predicted vs measured per experiment (``ValidationReport.to_dict()``)."""
    t = Table(
        ["experiment", "use", "measured ± se", "predicted [94% HDI]", "z", "verdict"],
        caption="Experiments: what the model predicts for each one vs what was measured",
    )
    for e in validation["experiments"]:
        use = "calibrating" if e.get("calibrated") else e["use"]
        t.rows.append(
            [
                e["name"],
                use,
                f"{num(e['measured'])} ± {num(e['measured_se'])}",
                fmt_interval(e["predicted"]),
                f"{e['z']:+.2f}",
                "consistent" if e["consistent"] else "INCONSISTENT",
            ]
        )
        t.row_classes.append("" if e["consistent"] else "bad")
    return t


def scenarios_table(scenarios: Sequence[Mapping[str, Any]]) -> Table:
    """Optimal allocation per budget scenario (``Allocation.to_dict()`` list)."""
    chans = list(scenarios[0]["allocation"]) if scenarios else []
    t = Table(
        ["budget per period", *[f"{c}" for c in chans], "expected outcome [94% HDI]", "current allocation's outcome"],
        caption="Budget scenarios: the best split of each per-period budget (current split in the first row)",
    )
    if scenarios:
        cur = scenarios[0]["current_allocation"]
        t.rows.append([f"{num(sum(cur.values()))} (current)", *[fmt_num(cur[c]) for c in chans], "", ""])
        t.row_classes.append("total")
    for s in scenarios:
        t.rows.append(
            [
                fmt_num(s["budget"]),
                *[fmt_num(s["allocation"][c]) for c in chans],
                fmt_interval(s["expected_outcome"]),
                fmt_num(s["current_outcome"]["mean"]) if s["budget"] else "",
            ]
        )
        t.row_classes.append("")
    return t


def query_table(q: Mapping[str, Any]) -> Table:
    """One do() query (``QueryResult.to_dict()``)."""
    t = Table(["", f"Σ {q['outcome']} {q['start']}..{q['end']}", "94% HDI"], caption=f"do({', '.join(q.get('do', []))}), {q['mode']}")
    for key, label in (("baseline", "factual"), ("intervened", "intervened"), ("delta", "change")):
        s = q[key]
        t.rows.append([label, fmt_num(s["mean"]), f"{num(s['hdi_low'])} .. {num(s['hdi_high'])}"])
    return t


def allocation_table(a: Mapping[str, Any]) -> Table:
    """One optimisation result (``Allocation.to_dict()``)."""
    t = Table(["channel", "current per period", "optimal per period", "change"], caption=f"Budget {num(a['budget'])} per period over {a['periods']} periods")
    for c, v in a["allocation"].items():
        cur = a["current_allocation"][c]
        t.rows.append([c, fmt_num(cur), fmt_num(v), signed(v - cur)])
    t.rows.append(["expected outcome", fmt_num(a["current_outcome"]["mean"]), fmt_interval(a["expected_outcome"]), ""])
    return t
