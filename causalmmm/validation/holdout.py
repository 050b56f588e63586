"""Time hold-out: refit without the last N periods, then predict them node by node.

The prediction is *one-step structural*: each node's structural mean given its **observed**
parents in the hold-out periods (``node_mean`` with the refitted parameters, the time features
extrapolated with the training scale of ``t``). It tests each equation out of time, not a
multi-step forecast of the whole graph (which would also need future spend and confounders).
Per node it reports MAE and MAPE (data units) of the posterior-mean prediction against naive
baselines: the training mean, and the seasonal naive (the same period one season earlier,
52 for weekly and 7 for daily data) or, when the training history is shorter than one season,
the last training value. ``beats_naive`` is true when the model's MAE is below every baseline's.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from causalmmm.data import Dataset
from causalmmm.errors import DataError
from causalmmm.fmt import num, pct
from causalmmm.model.equations import TimeFeatures, node_mean, params_from_flat
from causalmmm.model.noise import noise_draws
from causalmmm.spec import ModelSpec
from causalmmm.validation.residuals import PPC_PROB

SEASON = {"W": 52, "D": 7}
PREDICTION = "one-step structural mean given the observed parents"


def mae(y: np.ndarray, yhat: np.ndarray) -> float:
    return float(np.mean(np.abs(y - yhat)))


def mape(y: np.ndarray, yhat: np.ndarray) -> float | None:
    """Mean absolute percentage error over periods with ``y != 0`` (None when all are zero)."""
    ok = y != 0
    return float(np.mean(np.abs((y[ok] - yhat[ok]) / y[ok]))) if ok.any() else None


def naive_forecasts(train: np.ndarray, horizon: int, freq: str) -> dict[str, np.ndarray]:
    """Baselines: training mean, and seasonal naive (or last value when history is shorter than a season)."""
    out = {"train_mean": np.full(horizon, float(np.mean(train)))}
    m = SEASON.get(freq)
    if m is not None and len(train) >= m:
        last_season = train[-m:]
        out["seasonal_naive"] = np.array([last_season[h % m] for h in range(horizon)], dtype=float)
    else:
        out["last_value"] = np.full(horizon, float(train[-1]))
    return out


@dataclass
class NodeHoldout:
    """One node over the hold-out: model vs naive baselines, plus the series for plotting."""

    node: str
    actual: np.ndarray  # full horizon, data units
    mean: np.ndarray  # full horizon, structural mean (in-sample fit, then hold-out prediction)
    low: np.ndarray  # 94% predictive interval (mean + noise), full horizon
    high: np.ndarray
    n_train: int
    freq: str

    @property
    def test(self) -> slice:
        return slice(self.n_train, None)

    def metrics(self) -> dict[str, Any]:
        y, yhat = self.actual[self.test], self.mean[self.test]
        forecasts = naive_forecasts(self.actual[: self.n_train], len(y), self.freq)
        base_mae = {k: mae(y, f) for k, f in forecasts.items()}
        base = {k: {"mae": base_mae[k], "mape": mape(y, f)} for k, f in forecasts.items()}
        model_mae = mae(y, yhat)
        best = min(base_mae, key=base_mae.__getitem__)
        cover = float(np.mean((y >= self.low[self.test]) & (y <= self.high[self.test])))
        return {
            "node": self.node,
            "mae": model_mae,
            "mape": mape(y, yhat),
            "baselines": base,
            "best_baseline": best,
            "beats_naive": bool(model_mae < min(base_mae.values())),
            "coverage": cover,
        }


@dataclass
class HoldoutResult:
    """Per-node hold-out predictions and metrics."""

    dates: pd.DatetimeIndex
    n_train: int
    nodes: list[NodeHoldout]
    skipped: list[str]
    dropped_experiments: list[str]

    @property
    def n_holdout(self) -> int:
        return len(self.dates) - self.n_train

    def to_dict(self) -> dict[str, Any]:
        rows = [n.metrics() for n in self.nodes]
        return {
            "n_periods": self.n_holdout,
            "start": str(self.dates[self.n_train].date()),
            "end": str(self.dates[-1].date()),
            "prediction": PREDICTION,
            "interval_prob": PPC_PROB,
            "nodes": rows,
            "summary": {"n_nodes": len(rows), "n_beats_naive": sum(r["beats_naive"] for r in rows)},
            "skipped": self.skipped,
            "dropped_experiments": self.dropped_experiments,
        }

    def to_text(self) -> str:
        d = self.to_dict()
        lines = [
            f"time hold-out: last {d['n_periods']} periods ({d['start']}..{d['end']}), {PREDICTION}",
            "node              model MAE   MAPE    best naive              naive MAE   verdict",
        ]
        for r in d["nodes"]:
            b = r["baselines"][r["best_baseline"]]
            mape = "-" if r["mape"] is None else pct(r["mape"])
            lines.append(
                f"{r['node']:<17} {num(r['mae']):>9}  {mape:>6}   {r['best_baseline']:<22} {num(b['mae']):>9}   "
                f"{'beats naive' if r['beats_naive'] else 'DOES NOT beat naive'}"
            )
        s = d["summary"]
        lines.append(f"{s['n_beats_naive']}/{s['n_nodes']} nodes beat the naive baselines")
        lines += [f"skipped: {m}" for m in self.skipped]
        if self.dropped_experiments:
            lines.append(f"not used in the refit (window reaches the hold-out): {', '.join(self.dropped_experiments)}")
        return "\n".join(lines)


def split_data(data: Dataset, n_holdout: int) -> Dataset:
    """The training part of ``data`` (all but the last ``n_holdout`` periods)."""
    if not 1 <= n_holdout <= data.n_periods - 10:
        raise DataError(
            f"--holdout-periods {n_holdout} leaves {data.n_periods - n_holdout} of {data.n_periods} periods for training",
            where=data.source,
            hint="hold out at least 1 period and keep at least 10 for training",
        )
    return Dataset(data.frame.iloc[: data.n_periods - n_holdout].copy(), data.freq, data.source, data.warnings)


def train_spec(spec: ModelSpec, n_train: int) -> ModelSpec:
    """The run's spec restricted to the training periods (same equations, priors and scales)."""
    return replace(spec, n_periods=n_train)


def predict_holdout(spec: ModelSpec, draws: Mapping[str, np.ndarray], data: Dataset, n_train: int, seed: int = 0) -> HoldoutResult:
    """Predict every modelled node over the whole horizon of ``data`` with parameters fitted on the first ``n_train`` periods.

    ``spec`` holds the scales used at fit time; time features keep the training scale of ``t``.
    """
    T = data.n_periods
    features = TimeFeatures(np.arange(T, dtype=float) / max(n_train - 1, 1), spec.periods_per_year)
    series = {n: data.column(n) / spec.scales[n] for n in spec.scales}
    rng = np.random.default_rng(seed)
    nodes, skipped = [], []
    for n in spec.nodes:
        missing = [p for p in n.parents if p not in series]
        if missing:
            skipped.append(f"{n.name}: parent {', '.join(missing)} is a latent factor, unknown beyond the training periods")
            continue
        params = params_from_flat(n, draws)
        mu = np.asarray(node_mean(n, params, {p: series[p] for p in n.parents}, features, np), dtype=float)
        S = len(np.asarray(params["sigma"]).reshape(-1))
        mu = np.broadcast_to(mu, (S, T))
        y_rep = mu + noise_draws(n.likelihood, params, (S, T), rng)
        lo, hi = np.quantile(y_rep, [(1 - PPC_PROB) / 2, (1 + PPC_PROB) / 2], axis=0)
        s = spec.scales[n.name]
        nodes.append(NodeHoldout(n.name, data.column(n.name), mu.mean(axis=0) * s, lo * s, hi * s, n_train, data.freq))
    return HoldoutResult(data.dates, n_train, nodes, skipped, [])


def time_holdout(
    spec: ModelSpec, data: Dataset, config: Any, n_holdout: int, experiments: Sequence[Any] = (), progress: Callable[[str], None] | None = None
) -> HoldoutResult:
    """Refit on all but the last ``n_holdout`` periods and predict them (calibrating experiments inside the training span are kept)."""
    from causalmmm.model.fit import fit_model

    train = split_data(data, n_holdout)
    last = train.dates[-1]
    keep = [e for e in experiments if e.use == "calibrate" and e.end <= last]
    dropped = [e.name for e in experiments if e.use == "calibrate" and e.end > last]
    if progress:
        progress(f"time hold-out: refitting on {train.n_periods} periods, predicting the last {n_holdout}")
    fit = fit_model(train_spec(spec, train.n_periods), train, config, experiments=keep)
    result = predict_holdout(spec, fit.posterior_draws(), data, train.n_periods)
    result.dropped_experiments = dropped
    return result
