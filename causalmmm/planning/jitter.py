"""Spend jitter: a seeded schedule of randomised ±x% weekly spend, and the identification it buys.

Spend that follows the demand forecast is confounded with demand; multiplying each planned week by an
independent factor ``1 + u_t``, ``u_t ~ Uniform(−x, x)``, adds variation no confounder shares. The planned
base is the channel's last ``weeks`` periods of spend (business as usual), dated after the data.

What it buys is estimated as a planner candidate whose measurement is the new weeks themselves: for each
draw the model propagates the jittered spend (the query engine), giving the change ``Δm_t(θ)`` of the
channel's first mediator (or the outcome) in each week; the measurement is the regression slope of ``m``
on ``u``, ``I(θ) = Σ_t a_t Δm_t(θ)`` with ``a_t = u_t / Σ u²``, its se² = ``aᵀΣa`` (Σ the node's residual
covariance). Approximations: the weeks are evaluated on the last ``weeks`` periods of the data, and only
the jitter informs (the new weeks' ordinary variation is treated as uninformative, which is conservative).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from causalmmm.errors import QueryError
from causalmmm.fileio import atomic_write_text
from causalmmm.planning.candidates import media_children
from causalmmm.planning.noise import measured_noise
from causalmmm.planning.plan import Context, evaluate
from causalmmm.query.do import Intervention

#: seed 000 of the domain notes: randomise weekly spend by ±10%.
JITTER = 0.10


def jitter_frame(data: Any, channel: str, weeks: int, *, jitter: float = JITTER, seed: int = 0) -> pd.DataFrame:
    """The schedule: ``date, channel, base_spend, multiplier, planned_spend`` for ``weeks`` periods after the data."""
    if weeks < 2:
        raise QueryError(f"--weeks {weeks}: a jitter schedule needs at least 2 periods", hint="e.g. --weeks 12")
    if not 0 < jitter < 1:
        raise QueryError(f"jitter {jitter:g} must be in (0, 1)", hint="e.g. 0.1 for ±10%")
    x = np.asarray(data.column(channel), dtype=float)
    base = np.resize(x[-min(weeks, len(x)) :], weeks)  # the last weeks, repeated if more are planned
    u = np.random.default_rng(seed).uniform(-jitter, jitter, weeks)
    dates = pd.date_range(data.dates[-1], periods=weeks + 1, freq=data.freq)[1:]
    return pd.DataFrame({"date": [str(d.date()) for d in dates], "channel": channel, "base_spend": base, "multiplier": 1 + u, "planned_spend": base * (1 + u)})


def write_jitter(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write the schedule as CSV (atomically) to a ``.csv`` path whose directory exists."""
    from causalmmm.errors import RunError

    out = Path(path)
    if out.suffix.lower() != ".csv":
        raise RunError("the jitter schedule is a CSV file", where=str(out), hint="name the output like jitter.csv")
    if not out.parent.is_dir():
        raise RunError("the output directory does not exist", where=str(out.parent), hint="create it first or choose another --out")
    atomic_write_text(out, frame.to_csv(index=False, float_format="%.6g"))
    return out


def jitter_value(ctx: Context, frame: pd.DataFrame, *, rng: np.random.Generator, n_true: int = 200) -> dict[str, Any]:
    """What the schedule would teach: the channel's expected ROAS sd after refitting with those weeks (see the module)."""
    scm = ctx.scm
    channel = str(frame["channel"].iloc[0])
    n = min(len(frame), scm.spec.n_periods)
    u = frame["multiplier"].to_numpy()[:n] - 1
    mask = np.zeros(scm.spec.n_periods, dtype=bool)
    mask[-n:] = True
    x = np.asarray(scm.data.column(channel), dtype=float).copy()
    x[mask] = x[mask] * (1 + u)
    kids = media_children(scm.spec, channel)
    node = kids[0] if kids else scm.spec.outcome
    new = scm.simulate([Intervention(channel, "series", series=x)], mask)
    out = scm.spec.outcome
    delta = (new[node][:, mask] - scm.series[node][mask]) * scm.spec.scales[node]
    a = u / float(np.sum(u**2))
    implied = delta @ a
    se = float(np.sqrt(measured_noise(scm, (node,)).contrast_variance(a)))
    spend = float((x - scm.data.column(channel))[mask].sum())
    outcome = float(((new[out][:, mask] - scm.series[out][mask]).sum(axis=1) * scm.spec.scales[out]).mean())
    cost = {"spend_change": spend, "outcome_change": outcome, "net": spend - outcome}
    fields = {
        "design": "jitter",
        "treatment": channel,
        "intervention": "jitter",
        "measured": (node,),
        "start": str(frame["date"].iloc[0]),
        "end": str(frame["date"].iloc[-1]),
        "periods": len(frame),
        "share": 1.0,
    }
    ev = evaluate(f"{channel}_jitter_{len(frame)}p", fields, implied, se, ctx.roas, ctx.utility, ctx.channels, cost, rng, n_true)
    return ev.to_dict()
