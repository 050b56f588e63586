"""The report's charts. Each function returns a matplotlib Figure (nothing is shown or saved here)."""

from __future__ import annotations

from typing import Any, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from causalmmm.fmt import num, pct  # noqa: E402
from causalmmm.report.collect import NodeFit  # noqa: E402
from causalmmm.validation.plots import error_bars  # noqa: E402

PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]


def human(x: float, _pos: Any = None) -> str:
    """Axis label: 12k, 3.4M."""
    a = abs(x)
    if a >= 1e9:
        return f"{x / 1e9:.3g}G"
    if a >= 1e6:
        return f"{x / 1e6:.3g}M"
    if a >= 1e4:
        return f"{x / 1e3:.3g}k"
    return f"{x:.4g}"


def _human_axes(ax: Any, x: bool = False, y: bool = True) -> None:
    from matplotlib.ticker import FuncFormatter

    if x:
        ax.xaxis.set_major_formatter(FuncFormatter(human))
    if y:
        ax.yaxis.set_major_formatter(FuncFormatter(human))


def _grid(n: int, ncols: int = 2, height: float = 2.4, width: float = 11.0) -> tuple[Figure, np.ndarray]:
    nrows = max(1, int(np.ceil(n / ncols)))
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, height * nrows), squeeze=False)
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    return fig, axes.ravel()


def actual_vs_fitted(fits: Sequence[NodeFit]) -> Figure:
    """Observed series vs posterior-predictive mean and 94% band, one panel per modelled node."""
    fig, axes = _grid(len(fits))
    for ax, f in zip(axes, fits):
        ax.fill_between(f.dates, f.low, f.high, color="#9ecae1", alpha=0.6, lw=0, label="94% predictive band")
        ax.plot(f.dates, f.observed, color="black", lw=0.9, label="observed")
        ax.plot(f.dates, f.fitted, color="#08519c", lw=1.1, label="fitted")
        ax.set_title(f"{f.node}  (R² {f.r2:.2f}, {pct(f.coverage)} inside band)", fontsize=9, loc="left")
        ax.tick_params(labelsize=7)
        _human_axes(ax)
    axes[0].legend(fontsize=7, loc="upper left", frameon=False)
    fig.tight_layout()
    return fig


def contributions_over_time(effects: dict[str, Any]) -> Figure:
    """Each channel's total contribution to the outcome per period (posterior mean, 94% HDI band)."""
    fig, ax = plt.subplots(figsize=(11, 3.4))
    for i, (ch, info) in enumerate(effects["channels"].items()):
        ot = info["contribution_over_time"]
        dates = np.asarray(ot["dates"], dtype="datetime64[D]")
        color = PALETTE[i % len(PALETTE)]
        ax.fill_between(dates, ot["hdi_low"], ot["hdi_high"], color=color, alpha=0.18, lw=0)
        ax.plot(dates, ot["mean"], color=color, lw=1.2, label=ch)
    ax.axhline(0, color="grey", lw=0.6)
    _human_axes(ax)
    ax.set_ylabel(f"contribution to {effects['outcome']}\nper period")
    ax.legend(fontsize=8, frameon=False, ncol=min(4, len(effects["channels"])))
    ax.set_title("Contribution of each channel over time (factual − channel off), 94% HDI", fontsize=10, loc="left")
    fig.tight_layout()
    return fig


def roas_forest(effects: dict[str, Any]) -> Figure:
    """Total ROAS and mROAS per channel with 94% HDIs; the break-even line at 1."""
    chans = list(effects["channels"])
    totals = {e["treatment"]: e["roas"] for e in effects["effects"] if e["kind"] == "total"}
    fig, ax = plt.subplots(figsize=(8, 0.7 + 0.75 * len(chans)))
    for i, ch in enumerate(chans):
        for off, s, color, label in (
            (0.15, totals[ch], "#08519c", "ROAS (average)"),
            (-0.15, effects["channels"][ch]["mroas"], "#e6550d", "mROAS (next unit)"),
        ):
            y = len(chans) - 1 - i + off
            ax.errorbar(s["mean"], y, xerr=error_bars(s["mean"], s["hdi_low"], s["hdi_high"]), fmt="o", color=color, capsize=3, label=label if i == 0 else None)
    ax.axvline(1.0, color="grey", ls="--", lw=0.8)
    ax.set_yticks(range(len(chans)), list(reversed(chans)))
    ax.set_xlabel(f"{effects['outcome']} per unit of spend (94% HDI); dashed line = break-even")
    ax.legend(fontsize=8, frameon=False, loc="best")
    fig.tight_layout()
    return fig


def response_curves(curves: Sequence[dict[str, Any]], spend_now: dict[str, float]) -> Figure:
    """Total effect on the outcome (whole DAG) vs total spend, per channel, with 94% HDI bands."""
    fig, axes = _grid(len(curves), ncols=min(3, max(1, len(curves))), height=2.8)
    for i, (ax, c) in enumerate(zip(axes, curves)):
        x = np.array([p["spend"] for p in c["points"]])
        m = np.array([p["effect"]["mean"] for p in c["points"]])
        lo = np.array([p["effect"]["hdi_low"] for p in c["points"]])
        hi = np.array([p["effect"]["hdi_high"] for p in c["points"]])
        color = PALETTE[i % len(PALETTE)]
        ax.fill_between(x, lo, hi, color=color, alpha=0.2, lw=0)
        ax.plot(x, m, color=color, lw=1.5)
        ax.axvline(spend_now.get(c["channel"], np.nan), color="grey", ls=":", lw=0.9)
        ax.axhline(0, color="grey", lw=0.5)
        ax.set_title(c["channel"], fontsize=9, loc="left")
        ax.set_xlabel("total spend (dotted = actual)", fontsize=8)
        ax.set_ylabel(f"Δ {c['outcome']}", fontsize=8)
        ax.tick_params(labelsize=7)
        _human_axes(ax, x=True)
    fig.tight_layout()
    return fig


def scenarios_chart(scenarios: Sequence[dict[str, Any]]) -> Figure:
    """Current vs optimal per-period allocation per budget scenario, and the expected outcome."""
    chans = list(scenarios[0]["allocation"])
    labels = ["current"] + [num(s["budget"]) for s in scenarios]
    rows = [scenarios[0]["current_allocation"]] + [s["allocation"] for s in scenarios]
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 3.2), gridspec_kw={"width_ratios": [3, 2]})
    bottom = np.zeros(len(rows))
    for i, c in enumerate(chans):
        vals = np.array([r[c] for r in rows])
        ax.bar(labels, vals, bottom=bottom, color=PALETTE[i % len(PALETTE)], label=c)
        bottom += vals
    ax.set_ylabel("spend per period")
    ax.set_xlabel("budget per period")
    ax.set_ylim(0, bottom.max() * 1.22)
    ax.legend(fontsize=8, frameon=False, ncol=len(chans), loc="upper left")
    ax.set_title("Allocation", fontsize=10, loc="left")
    means = [scenarios[0]["current_outcome"]["mean"]] + [s["expected_outcome"]["mean"] for s in scenarios]
    lows = [scenarios[0]["current_outcome"]["hdi_low"]] + [s["expected_outcome"]["hdi_low"] for s in scenarios]
    highs = [scenarios[0]["current_outcome"]["hdi_high"]] + [s["expected_outcome"]["hdi_high"] for s in scenarios]
    x = np.arange(len(labels))
    ax2.errorbar(x, means, yerr=error_bars(means, lows, highs), fmt="o", color="#08519c", capsize=3)
    ax2.set_xticks(x, labels)
    ax2.set_title("Expected total outcome over the planning window (94% HDI)", fontsize=10, loc="left")
    ax2.tick_params(labelsize=8)
    _human_axes(ax)
    _human_axes(ax2)
    fig.tight_layout()
    return fig
