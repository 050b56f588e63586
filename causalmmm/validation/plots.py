"""Validation figures (matplotlib ``Figure`` objects; nothing is shown or saved here)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from causalmmm.fmt import num
from causalmmm.validation.experiments import ValidationReport
from causalmmm.validation.holdout import HoldoutResult

CALIBRATING = "#1f77b4"
HOLDOUT = "#d62728"
LOO = "#ff7f0e"
MEASURED = "black"


def error_bars(mean: Any, low: Any, high: Any) -> np.ndarray:
    """Error-bar lengths [below, above] for matplotlib, clipped at 0 (a mean can sit a rounding error outside its HDI)."""
    m, lo, hi = (np.atleast_1d(np.asarray(v, dtype=float)) for v in (mean, low, high))
    return np.clip(np.vstack([m - lo, hi - m]), 0.0, None)


def plot_experiments(report: ValidationReport) -> Figure:
    """Predicted (mean, 94% HDI) vs measured (± 2 se) per experiment; calibrating and holdout in different colours.

    With a leave-one-out result, each calibrating experiment also shows its out-of-sample prediction.
    """
    checks = report.checks
    loo = {c.name: c for c in report.loo.checks if c.predicted is not None and c.z is not None} if report.loo is not None else {}
    fig = Figure(figsize=(8, 1.2 + 0.7 * max(len(checks), 1)), layout="constrained")
    ax = fig.subplots()
    if not checks:
        ax.text(0.5, 0.5, "no experiment with a result", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    ys = np.arange(len(checks))[::-1].astype(float)
    for y, c in zip(ys, checks):
        colour = CALIBRATING if c.calibrated else HOLDOUT
        p = c.predicted
        ax.errorbar([p.mean], [y + 0.15], xerr=error_bars(p.mean, p.hdi_low, p.hdi_high), fmt="o", color=colour, capsize=4)
        ax.errorbar([c.measured], [y - 0.15], xerr=[[2 * c.measured_se], [2 * c.measured_se]], fmt="s", color=MEASURED, mfc="white", capsize=4)
        if c.name in loo:
            q = loo[c.name].predicted
            assert q is not None  # a LOO check without a prediction is not plotted
            ax.errorbar([q.mean], [y], xerr=error_bars(q.mean, q.hdi_low, q.hdi_high), fmt="D", color=LOO, capsize=3, ms=4)
        ax.annotate(
            f"z = {c.z:+.2f}" + (f", LOO z = {loo[c.name].z:+.2f}" if c.name in loo else ""),
            (1.0, y),
            xycoords=("axes fraction", "data"),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
            color="black" if c.consistent else HOLDOUT,
        )
    ax.set_yticks(ys, [f"{c.name}\n({'calibrating' if c.calibrated else c.use})" for c in checks], fontsize=8)
    ax.axvline(0, color="grey", lw=0.8, ls=":")
    ax.set_xlabel("effect (experiment's estimand and unit)")
    ax.set_title("Experiments: model prediction vs measurement")
    handles = [
        Line2D([], [], marker="o", color=CALIBRATING),
        Line2D([], [], marker="o", color=HOLDOUT),
        Line2D([], [], marker="s", color=MEASURED, mfc="white"),
    ]
    labels = ["predicted, calibrating (94% HDI)", "predicted, holdout (94% HDI)", "measured ± 2 se"]
    if loo:
        handles.append(Line2D([], [], marker="D", color=LOO, ms=4))
        labels.append("predicted without it (LOO)")
    fig.legend(handles, labels, fontsize=8, loc="outside lower center", ncol=2, frameon=False)
    return fig


def plot_holdout(result: HoldoutResult) -> Figure:
    """Actual vs predicted per node over the training part and the hold-out, with the 94% predictive band."""
    nodes = result.nodes
    cols = 2 if len(nodes) > 1 else 1
    rows = max(1, math.ceil(len(nodes) / cols))
    fig = Figure(figsize=(6 * cols, 2.4 * rows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, sharex=True, squeeze=False)).ravel()
    dates = result.dates
    split = dates[result.n_train]
    for ax, n in zip(axes, nodes):
        m = n.metrics()
        ax.fill_between(dates, n.low, n.high, color=CALIBRATING, alpha=0.2, lw=0, label="94% predictive interval")
        ax.plot(dates, n.actual, color=MEASURED, lw=1, label="actual", zorder=3)
        ax.plot(dates[: result.n_train], n.mean[: result.n_train], color=CALIBRATING, lw=1, label="fitted (training)")
        ax.plot(dates[result.n_train :], n.mean[result.n_train :], color=HOLDOUT, lw=1.5, label="predicted (hold-out)")
        ax.axvspan(split, dates[-1], color="grey", alpha=0.08, lw=0)
        ax.axvline(split, color="grey", ls="--", lw=0.8)
        verdict = "beats naive" if m["beats_naive"] else "does not beat naive"
        err = num(m["mae"])
        ax.set_title(f"{n.node}: hold-out MAE {err} ({verdict})", fontsize=9)
        ax.tick_params(labelsize=7)
    for ax in axes[len(nodes) :]:
        ax.set_axis_off()
    if nodes:
        axes[0].legend(fontsize=7, loc="upper left")
    fig.suptitle(f"Time hold-out: last {result.n_holdout} periods, one-step structural prediction", fontsize=10)
    return fig
