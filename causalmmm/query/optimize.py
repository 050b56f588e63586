"""Budget optimiser through the whole DAG (cannibalisation and halo included).

Decision: spend per period for each channel over a planning window (the last
``periods`` periods of the data). Each channel keeps its factual flighting
pattern inside the window, rescaled to the chosen mean. The objective is the
posterior-mean outcome summed over the window under that counterfactual
(optionally minus ``risk_aversion`` × its posterior sd), maximised by SLSQP
subject to Σ allocations = budget and per-channel bounds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
from scipy.optimize import minimize

from causalmmm.errors import QueryError
from causalmmm.fmt import interval, num
from causalmmm.query.do import Intervention, PosteriorSCM, Summary


@dataclass
class Allocation:
    budget: float
    periods: int
    allocation: dict[str, float]
    expected_outcome: Summary
    current_allocation: dict[str, float]
    current_outcome: Summary
    success: bool
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "budget": self.budget,
            "periods": self.periods,
            "allocation": self.allocation,
            "expected_outcome": self.expected_outcome.to_dict(),
            "current_allocation": self.current_allocation,
            "current_outcome": self.current_outcome.to_dict(),
            "success": self.success,
            "message": self.message,
        }

    def _repr_html_(self) -> str:
        from causalmmm.tables import allocation_table

        return allocation_table(self.to_dict()).to_html()

    def to_text(self) -> str:
        lines = [f"budget {num(self.budget)} per period over the last {self.periods} periods"]
        for c in self.allocation:
            lines.append(f"  {c:<16} {num(self.current_allocation[c]):>12} -> {num(self.allocation[c]):>12}")
        e, cur = self.expected_outcome, self.current_outcome  # the factual world has no spread; float noise is not one
        current = f"{num(cur.mean)} (observed)" if num(cur.hdi_low) == num(cur.hdi_high) else f"{num(cur.mean)} {interval(cur.hdi_low, cur.hdi_high)}"
        lines.append(f"expected outcome {num(e.mean)} {interval(e.hdi_low, e.hdi_high)} vs current allocation {current}")
        return "\n".join(lines)


class BudgetProblem:
    """Outcome over the planning window as a function of per-period channel budgets."""

    def __init__(self, scm: PosteriorSCM, channels: Sequence[str], periods: int) -> None:
        if periods < 1 or periods > scm.spec.n_periods:
            raise QueryError(f"--periods {periods} is outside 1..{scm.spec.n_periods}", hint="plan over a window inside the data")
        self.scm, self.channels = scm, list(channels)
        self.mask = np.zeros(scm.spec.n_periods, dtype=bool)
        self.mask[-periods:] = True
        self.periods = periods
        self.current = np.array([scm.data.column(c)[self.mask].mean() for c in self.channels])
        self.patterns = {}
        for c, cur in zip(self.channels, self.current):
            x = scm.data.column(c)[self.mask]
            self.patterns[c] = x / cur if cur > 0 else np.ones(periods)
        self.out = scm.spec.outcome

    def outcome_draws(self, alloc: np.ndarray) -> np.ndarray:
        """Σ outcome over the window per draw for the allocation (data units)."""
        ivs = []
        for c, a in zip(self.channels, alloc):
            x = self.scm.data.column(c).copy()
            x[self.mask] = max(float(a), 0.0) * self.patterns[c]
            ivs.append(Intervention(c, "series", series=x))
        res = self.scm.simulate(ivs, self.mask)
        return res[self.out][:, self.mask].sum(axis=1) * self.scm.spec.scales[self.out]


def _parse_bounds(bounds: Mapping[str, tuple[float, float]] | None, channels: Sequence[str], budget: float) -> list[tuple[float, float]]:
    bounds = dict(bounds or {})
    unknown = set(bounds) - set(channels)
    if unknown:
        raise QueryError(f"--bounds for unknown channel {sorted(unknown)[0]!r}", hint=f"spend channels: {', '.join(channels)}")
    out = []
    for c in channels:
        lo, hi = bounds.get(c, (0.0, budget))
        if not (np.isfinite(lo) and np.isfinite(hi)) or lo < 0 or hi < lo:
            raise QueryError(f"bad --bounds for {c!r}: {num(lo)}:{num(hi)}", hint="use node=lo:hi with 0 <= lo <= hi")
        out.append((float(lo), float(min(hi, budget))))
    low, high = sum(lo for lo, _ in out), sum(hi for _, hi in out)
    if low > budget + 1e-9:
        raise QueryError(
            f"--bounds cannot add up to the budget {num(budget)}: the lower bounds alone sum to {num(low)}", hint="lower some lower bounds or raise --budget"
        )
    if high < budget - 1e-9:
        raise QueryError(
            f"--bounds cannot add up to the budget {num(budget)}: the upper bounds sum to only {num(high)}",
            hint="loosen --bounds (raise an upper bound) or lower --budget",
        )
    return out


def parse_bounds_args(items: Sequence[str]) -> dict[str, tuple[float, float]]:
    """Parse CLI ``node=lo:hi`` strings."""
    out = {}
    for item in items:
        try:
            node, rng = item.split("=", 1)
            lo, hi = rng.split(":", 1)
            node, bounds = node.strip(), (float(lo), float(hi))
        except ValueError:
            raise QueryError(f"malformed --bounds {item!r}", hint="write node=lo:hi, e.g. ppc_spend=1000:5000") from None
        if not node:
            raise QueryError(f"malformed --bounds {item!r} (no channel name)", hint="write node=lo:hi, e.g. ppc_spend=1000:5000")
        if node in out:
            raise QueryError(f"--bounds for {node!r} given twice", hint="give one node=lo:hi per channel")
        out[node] = bounds
    return out


def optimize_budget(
    scm: PosteriorSCM,
    budget: float,
    *,
    periods: int | None = None,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    channels: Sequence[str] | None = None,
    risk_aversion: float = 0.0,
    max_draws: int = 200,
    seed: int = 0,
) -> Allocation:
    """Maximise E[Σ outcome] (− risk_aversion·sd) over per-period channel budgets summing to ``budget``."""
    if not np.isfinite(budget) or budget <= 0:
        raise QueryError(f"budget must be a positive number, got {budget}", hint="pass --budget AMOUNT (spend per period)")
    chans = list(channels) if channels is not None else list(scm.spend_nodes)
    if not chans:
        raise QueryError("no spend channels to allocate", hint="the graph needs nodes with role=spend")
    if scm.n_draws > max_draws:
        scm = scm.subset(np.sort(np.random.default_rng(seed).choice(scm.n_draws, max_draws, replace=False)))
    n = periods if periods is not None else min(52, scm.spec.n_periods)
    prob = BudgetProblem(scm, chans, n)
    bnds = _parse_bounds(bounds, chans, budget)
    scale = budget  # the optimiser works on shares of the budget and outcomes relative to today's: no unit enters its tolerances
    y_now = prob.outcome_draws(prob.current)
    norm = abs(float(y_now.mean())) or float(y_now.std()) or 1.0

    def objective(z: np.ndarray) -> float:
        y = prob.outcome_draws(z * scale)
        return -(y.mean() - risk_aversion * y.std()) / norm

    start = prob.current / prob.current.sum() * budget if prob.current.sum() > 0 else np.full(len(chans), budget / len(chans))
    start = np.clip(start, [b[0] for b in bnds], [b[1] for b in bnds])
    res = minimize(
        objective,
        start / scale,
        method="SLSQP",
        bounds=[(lo / scale, hi / scale) for lo, hi in bnds],
        constraints=[{"type": "eq", "fun": lambda z: z.sum() * scale - budget}],
        options={"maxiter": 200, "ftol": 1e-9},
    )
    best = np.clip(res.x * scale, [b[0] for b in bnds], [b[1] for b in bnds])
    return Allocation(
        budget=float(budget),
        periods=n,
        allocation={c: float(v) for c, v in zip(chans, best)},
        expected_outcome=Summary.of(prob.outcome_draws(best)),
        current_allocation={c: float(v) for c, v in zip(chans, prob.current)},
        current_outcome=Summary.of(y_now),
        success=bool(res.success),
        message=str(res.message),
    )


def budget_scenarios(scm: PosteriorSCM, multipliers: Sequence[float] = (0.6, 0.8, 1.0, 1.2), **kwargs: Any) -> list[Allocation]:
    """Optimise at several multiples of the current per-period budget."""
    periods = kwargs.pop("periods", None) or min(52, scm.spec.n_periods)
    chans = list(kwargs.pop("channels", None) or scm.spend_nodes)
    current = sum(scm.data.column(c)[-periods:].mean() for c in chans)
    return [optimize_budget(scm, current * m, periods=periods, channels=chans, **kwargs) for m in multipliers]
