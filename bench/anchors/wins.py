"""'Where each tool wins': a paragraph written from the head-to-head's measured rows (no number typed by hand).

Rows are bench_anchors.py's per (seed, method, channel) dicts with keys ``method``, ``channel``,
``err`` (signed relative error of the posterior mean), ``covered`` and ``seconds`` (fit seconds).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from causalmmm.fmt import num, pct

#: What each method's model does, by method-label prefix: the mechanism behind its errors.
MECHANISMS: dict[str, str] = {
    "causalmmm": (
        "it fits one equation per node of the DAG (demand adjusted where it confounds, the click mediators and the "
        "cannibalisation edge modelled) and each experiment calibrates the node it measured"
    ),
    "pymc-marketing 1.3: spend only": (
        "a flat regression of sales on spend with demand left out: unbiased for channels no confounder drives "
        "({unconfounded}), but where the budget follows demand ({confounded}) the backdoor is open and the ROAS "
        "absorbs demand's effect on sales"
    ),
    "pymc-marketing 1.3: + demand, promo, lift tests": (
        "the flat model with demand as a control plus per-period sales-level lift rows, which pin the saturation curve "
        "at the tested spend levels only (the switchback cannot be written as a lift row)"
    ),
    "pymc-marketing 1.3: + demand, promo": (
        "with demand as a control the backdoor is closed, and a flat model of total effects needs no mediators, so "
        "with the confounder observed every total ROAS is identified"
    ),
    "Meridian": (
        "a national Hill-saturation model whose ROI priors carry the estimate where one geo's weekly data are weak (wide intervals, pulled toward the prior)"
    ),
    "pathmc": (
        "the same DAG with pathmc's default priors, logistic saturation on max-scaled spend, geometric adstock of 12 "
        "periods, no experiments, and the lag-1 halo fitted contemporaneous"
    ),
}


def mechanism(method: str, confounded: Sequence[str] = (), channels: Sequence[str] = ()) -> str:
    """The mechanism sentence of the longest matching label prefix ('' if none); ``confounded``: the channels
    with a confounder parent in the DAG."""
    hits = [k for k in MECHANISMS if method.startswith(k)]
    if not hits:
        return ""
    unconfounded = [c for c in channels if c not in confounded]
    return MECHANISMS[max(hits, key=len)].format(
        confounded=", ".join(f"`{c}`" for c in confounded) or "none", unconfounded=", ".join(f"`{c}`" for c in unconfounded) or "none"
    )


def median_abs_errors(rows: Sequence[dict]) -> dict[tuple[str, str], float]:
    """(method, channel) -> median |relative error| over seeds."""
    groups: dict[tuple[str, str], list[float]] = {}
    for r in rows:
        groups.setdefault((r["method"], r["channel"]), []).append(abs(r["err"]))
    return {k: float(np.median(v)) for k, v in groups.items()}


def median_fit_seconds(rows: Sequence[dict]) -> dict[str, float]:
    """method -> median fit seconds over its fits (one value per seed)."""
    per: dict[str, dict[int, float]] = {}
    for r in rows:
        per.setdefault(r["method"], {})[r["seed"]] = r["seconds"]
    return {m: float(np.median(list(s.values()))) for m, s in per.items()}


def where_each_tool_wins(rows: Sequence[dict], reference: str, confounded: Sequence[str] = ()) -> str:
    """A markdown paragraph: the most accurate method per channel and why, the lowest worst-channel error, and
    each method's fit time relative to ``reference`` (measured in the same run). ``confounded``: channels with a
    confounder parent in the world's DAG."""
    errs = median_abs_errors(rows)
    methods = list(dict.fromkeys(m for m, _ in errs))
    channels = list(dict.fromkeys(c for _, c in errs))
    n_seeds = len({r["seed"] for r in rows})
    parts = [f"**Where each tool wins** (median absolute error over {n_seeds} seed(s), from the table above)."]
    winners: list[str] = []
    for c in channels:
        ranked = sorted((errs[(m, c)], m) for m in methods if (m, c) in errs)
        (e1, m1), rest = ranked[0], ranked[1:]
        runner_up = f"; next {rest[0][1]} ({pct(rest[0][0])})" if rest else ""
        ref = f"; {reference} {pct(errs[(reference, c)])}" if reference != m1 and (reference, c) in errs and (not rest or rest[0][1] != reference) else ""
        parts.append(f"`{c}`: {m1} is closest ({pct(e1)}{runner_up}{ref}).")
        winners.append(m1)
    worst = {m: max(errs[(m, c)] for c in channels if (m, c) in errs) for m in methods}
    best_worst = min(worst, key=worst.get)
    parts.append(
        f"Lowest worst-channel error: {best_worst} ({pct(worst[best_worst])}), against "
        + ", ".join(f"{m} {pct(worst[m])}" for m in methods if m != best_worst)
        + "."
    )
    why = list(dict.fromkeys([*winners, best_worst]))
    mech = {m: mechanism(m, confounded, channels) for m in methods}
    parts.append("Why, by mechanism: " + " ".join(f"{m}: {mech[m]}." for m in why if mech[m]))
    losers = [m for m in methods if m not in why and mech[m]]
    if losers:
        parts.append("The others: " + " ".join(f"{m}: {mech[m]}." for m in losers))
    secs = median_fit_seconds(rows)
    if reference in secs:
        ref_s = secs[reference]
        parts.append(
            f"Speed (median fit s, same draws, tune and chains): {reference} {num(ref_s)} s; "
            + ", ".join(f"{m} {num(s)} s ({reference} takes {num(ref_s / s)}x as long)" for m, s in secs.items() if m != reference)
            + "."
        )
    return " ".join(parts) + "\n"
