"""Analyse raw-data experiments into an estimate and se in the model's units.

* **geo-lift** → CausalPy ``SyntheticControl`` (Bayesian ``WeightedSumFitter``)
  on the geo panel, then scaled to the national level (rule below).
* **switchback** → a fixed-effects regression with carry-over washout (CausalPy
  has no switchback design); see docs/concepts.md.
* **pre_post** (a national test with no control geos) → CausalPy
  ``InterruptedTimeSeries``: a Bayesian regression of the pre-period on trend,
  Fourier seasonality and the listed ``controls`` forecasts the window.

Geo scaling rule. Each geo's sales are indexed to its pre-period mean; the
treated series is the mean index of the treated geos and the donors are the
control geos' indices. The synthetic-control effect (index points per period)
times the treated geos' summed pre-period mean sales is the effect in the
treated geos (geo-level). With ``geo_shares`` (each treated geo's share of the
national total) it is divided by their sum to give the national effect per
period (``scope: national``, scaled by 1/Σ shares); this is exact when geos
respond in proportion to their size. Without ``geo_shares`` nothing is scaled:
the estimate stays geo-level (``scope: geo``), which the national model cannot
use. Every result states its scope and factor (:meth:`AnalysisResult.to_text`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from causalmmm.errors import ExperimentError
from causalmmm.experiments.schema import Experiment, with_result
from causalmmm.fmt import num


@dataclass
class AnalysisResult:
    experiment: Experiment
    estimate: float
    se: float
    method: str
    diagnostics: dict[str, Any] = field(default_factory=dict)
    scale_factor: float = 1.0  # estimate = (effect the method measured) × scale_factor
    scale_rule: str = "not scaled"
    cached: str | None = None  # when this answer comes from the analysis cache: the time it was computed

    @property
    def scope(self) -> str:
        return self.experiment.scope

    def scope_text(self) -> str:
        """Whose effect the estimate is and how it was scaled, in words."""
        if self.scope == "geo":
            return f"geo-level: the treated geos' own effect ({', '.join(self.experiment.treated)}), not scaled; add geo_shares to get the national effect"
        if self.scale_factor != 1.0:
            return f"national: treated geos' effect x {num(self.scale_factor)} ({self.scale_rule})"
        return "national"

    def to_text(self) -> str:
        e = self.experiment
        text = f"{e.name:<24} {self.method:<48} estimate {num(self.estimate)} (se {num(self.se)}, {e.unit}); {self.scope_text()}"
        return text + (f" [cached analysis of {self.cached}]" if self.cached else "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.experiment.name,
            "design": self.experiment.design,
            "method": self.method,
            "estimate": self.estimate,
            "se": self.se,
            "unit": self.experiment.unit,
            "scope": self.scope,
            "scale_factor": self.scale_factor,
            "scale_rule": self.scale_rule,
            "diagnostics": self.diagnostics,
        }


def data_path(e: Experiment, base: Path) -> Path:
    """The experiment's raw data file (``data:`` is relative to the experiments file's folder ``base``)."""
    return (base / e.data) if e.data and not Path(e.data).is_absolute() else Path(str(e.data))


def _read_csv(e: Experiment, base: Path, required: Sequence[str]) -> pd.DataFrame:
    path = data_path(e, base)
    if not path.exists():
        raise ExperimentError(f"raw data file not found: {path}", where=e.where, hint="fix the data: path (relative to the experiments file)")
    try:
        df = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ExperimentError(f"cannot read raw data {path.name} ({str(exc).splitlines()[0]})", where=e.where) from None
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise ExperimentError(f"raw data {path.name} lacks column(s) {', '.join(missing)}", where=e.where, hint=f"expected columns: {', '.join(required)}")
    return df


def _to_unit(e: Experiment, per_period: float, se_per_period: float, n_periods: int) -> tuple[float, float]:
    if e.unit == "total":
        return per_period * n_periods, se_per_period * n_periods
    return per_period, se_per_period


# -------------------------------------------------------------------- switchback


def analyze_switchback(e: Experiment, base: Path, *, washout: int = 1) -> AnalysisResult:
    """Effect of switching the treatment off, per model period, from alternating on/off raw periods.

    Model: ``y_d = a_{week(d)} + b · off_d + e_d`` on the raw periods that are not
    within ``washout`` periods after a switch (carry-over), where ``y`` is the sum
    of the measured columns. Week fixed effects absorb slow movements (demand,
    seasonality). ``b`` times ``raw_periods_per_period`` is the per-period
    estimand; its se is heteroskedasticity-robust (HC1).
    """
    df = _read_csv(e, base, ["timestamp"])
    on_cols = [c for c in df.columns if c.endswith("_on") or c == "on"]
    if not on_cols:
        raise ExperimentError("switchback raw data needs an on/off column (e.g. ppc_on with 1 = on, 0 = off)", where=e.where)
    state_col = on_cols[0]
    missing = [m for m in e.measured if m not in df.columns]
    if missing:
        raise ExperimentError(f"switchback raw data lacks measured column(s) {', '.join(missing)}", where=e.where)
    ts = pd.to_datetime(df["timestamp"], errors="coerce")
    if ts.isna().any():
        raise ExperimentError(f"unparsable timestamp {df['timestamp'][ts.isna()].iloc[0]!r} in switchback data", where=e.where)
    state = df[state_col].to_numpy(dtype=int)
    if set(np.unique(state)) - {0, 1} or len(np.unique(state)) < 2:
        raise ExperimentError(f"column {state_col!r} must contain both 0 (off) and 1 (on)", where=e.where)
    y = df[list(e.measured)].sum(axis=1).to_numpy(dtype=float)
    switched = np.zeros(len(state), dtype=bool)
    for lag in range(1, washout + 1):
        switched[lag:] |= state[lag:] != state[:-lag]
    keep = ~switched
    week = ((ts - ts.iloc[0]).dt.days // 7).to_numpy()
    weeks = np.unique(week[keep])
    X = np.column_stack([(1 - state[keep]).astype(float)] + [(week[keep] == w).astype(float) for w in weeks])
    yk = y[keep]
    beta, *_ = np.linalg.lstsq(X, yk, rcond=None)
    resid = yk - X @ beta
    n, k = X.shape
    bread = np.linalg.pinv(X.T @ X)
    meat = (X * resid[:, None] ** 2).T @ X
    cov = bread @ meat @ bread * n / max(n - k, 1)
    b, se_b = float(beta[0]), float(np.sqrt(cov[0, 0]))
    per = float(e.extra.get("raw_periods_per_period", 1))
    kind, value = e.intervention
    if not (kind == "set" and value == 0.0):
        raise ExperimentError("switchback analysis supports intervention: off only", where=e.where)
    n_model_periods = max(1, int(round(len(df) / per)))
    est, se = _to_unit(e, b * per, se_b * per, n_model_periods)
    diag = {
        "raw_periods": int(len(df)),
        "used": int(keep.sum()),
        "dropped_washout": int((~keep).sum()),
        "switches": int(np.sum(state[1:] != state[:-1])),
        "effect_per_raw_period": b,
        "raw_periods_per_period": per,
        "residual_sd": float(resid.std()),
    }
    return AnalysisResult(with_result(e, est, se), est, se, "fixed-effects regression with washout", diag)


# -------------------------------------------------------------------- geo-lift


class _quiet_pymc:
    """Silence PyMC's sampling log lines (progress belongs to our own bar)."""

    def __enter__(self) -> None:
        import logging

        self.loggers = [logging.getLogger(n) for n in ("pymc", "pymc.sampling", "pymc.stats.convergence")]
        self.levels = [lg.level for lg in self.loggers]
        for lg in self.loggers:
            lg.setLevel(logging.ERROR)

    def __exit__(self, *exc: object) -> None:
        for lg, level in zip(self.loggers, self.levels):
            lg.setLevel(level)


def analyze_geo_lift(e: Experiment, base: Path, *, seed: int = 0, draws: int = 500, tune: int = 500) -> AnalysisResult:
    """CausalPy synthetic control on the geo panel, scaled to the national per-period effect."""
    import causalpy as cp

    df = _read_csv(e, base, ["date", "geo"] + list(e.measured))
    if not e.treated:
        raise ExperimentError("geo_lift needs treated: [geo, ...]", where=e.where)
    df = df.assign(date=pd.to_datetime(df["date"], errors="coerce"))
    if df["date"].isna().any():
        raise ExperimentError("unparsable date in geo panel", where=e.where)
    df["y"] = df[list(e.measured)].sum(axis=1)
    wide = df.pivot_table(index="date", columns="geo", values="y", aggfunc="sum").sort_index()
    unknown = [g for g in e.treated if g not in wide.columns]
    if unknown:
        raise ExperimentError(f"treated geo(s) not in the panel: {', '.join(unknown)}", where=e.where)
    share, to_scope, rule = _geo_scale(e)
    wide = wide.loc[wide.index <= e.end]
    pre = wide.index < e.start
    if pre.sum() < 8:
        raise ExperimentError(f"only {int(pre.sum())} pre-period dates in the geo panel", where=e.where, hint="a synthetic control needs a long pre-period")
    excluded = [str(g) for g in e.extra.get("exclude") or []]
    absent = [g for g in excluded if g not in wide.columns]
    if absent:
        raise ExperimentError(f"excluded geo(s) not in the panel: {', '.join(absent)}", where=e.where, hint="fix exclude: (or the cells' treated geos)")
    controls = [g for g in wide.columns if g not in e.treated and g not in excluded]
    if len(controls) < 2:
        raise ExperimentError(f"only {len(controls)} donor geo(s) left in the panel", where=e.where, hint="a synthetic control needs at least 2 untreated geos")
    pre_mean = wide.loc[pre].mean()
    index = wide / pre_mean
    panel = pd.DataFrame({"treated": index[list(e.treated)].mean(axis=1)})
    for g in controls:
        panel[g] = index[g]
    panel = panel.reset_index(drop=True)
    treatment_time = int(np.argmax(~pre))
    model = cp.pymc_models.WeightedSumFitter(
        sample_kwargs={"draws": draws, "tune": tune, "chains": 2, "random_seed": seed, "progressbar": False, "target_accept": 0.95}
    )
    with warnings.catch_warnings(), _quiet_pymc():
        warnings.simplefilter("ignore")
        result = cp.SyntheticControl(panel.copy(), treatment_time, control_units=controls, treated_units=["treated"], model=model)
    impact = result.post_impact  # index points, (chain, draw, obs_ind, treated_units) in some order
    dims = [d for d in impact.dims if d not in ("chain", "draw")]
    per_draw_index = impact.mean(dim=[d for d in dims if d != "treated_units"]).sum(dim="treated_units").stack(s=("chain", "draw")).to_numpy()
    treated_scale = float(pre_mean[list(e.treated)].sum())
    n_post = int((~pre).sum())
    # The posterior of the mean impact reflects uncertainty in the synthetic control's weights only;
    # the treated series' own noise over the post period adds sigma^2 / n_post (index units).
    # Noise is autocorrelated in geo panels: inflate by the AR(1) factor (1+rho)/(1-rho), with rho
    # estimated from the pre-period gap between the treated series and the donors' mean.
    sigma = result.idata.posterior["y_hat_sigma"].to_numpy().ravel()
    gap = (panel["treated"] - panel[controls].mean(axis=1)).to_numpy()[:treatment_time]
    gap = gap - gap.mean()
    rho = float(np.clip(np.sum(gap[1:] * gap[:-1]) / max(np.sum(gap**2), 1e-12), 0.0, 0.9))
    var_index = float(per_draw_index.var()) + float(np.mean(sigma**2)) / n_post * (1 + rho) / (1 - rho)
    est, se = _to_unit(e, float(per_draw_index.mean()) * treated_scale * to_scope, float(np.sqrt(var_index)) * treated_scale * to_scope, n_post)
    pre_fit = result.score if hasattr(result, "score") else None
    diag = {
        "treated_geos": list(e.treated),
        "control_geos": len(controls),
        "excluded_geos": excluded,
        "pre_periods": int(pre.sum()),
        "post_periods": n_post,
        "treated_share": share,
        "treated_share_of_panel": float(wide.loc[pre, list(e.treated)].to_numpy().sum() / wide.loc[pre].to_numpy().sum()),
        "noise_autocorrelation": rho,
        "pre_r2": float(np.asarray(pre_fit.iloc[0])) if pre_fit is not None and hasattr(pre_fit, "iloc") else None,
    }
    analysed = with_result(e, est, se) if share is not None else replace(with_result(e, est, se), scope="geo")
    return AnalysisResult(analysed, est, se, "CausalPy SyntheticControl (WeightedSumFitter)", diag, to_scope, rule)


def _geo_scale(e: Experiment) -> tuple[float | None, float, str]:
    """(Σ treated geo_shares, factor from the treated geos' effect to the estimate's scope, rule in words)."""
    shares = e.extra.get("geo_shares")
    if e.scope == "geo" or not shares:
        return None, 1.0, "geo-level, not scaled (no geo_shares)" if not shares else "geo-level, not scaled (scope: geo)"
    share = float(sum(float(shares[g]) for g in e.treated))  # validated when the file was read
    return share, 1.0 / share, f"1 / sum of treated geo_shares {num(share)}"


# -------------------------------------------------------------------- pre/post (ITS)


def _its_design(dates: pd.DatetimeIndex, n_pre: int) -> tuple[pd.DataFrame, list[str]]:
    """Trend and Fourier seasonality columns: yearly when the pre-period covers > 1.2 years, weekly for daily data."""
    step = float(np.median(np.diff(dates.values).astype("timedelta64[h]").astype(float))) / 24.0
    t = np.arange(len(dates), dtype=float)
    cols = {"t": t / max(len(dates), 1)}
    periods = []
    if n_pre * step > 1.2 * 365.25:
        periods.append(365.25 / step)
    if step <= 1.0 and n_pre >= 21:
        periods.append(7.0 / step)
    for j, period in enumerate(periods):
        for k in (1, 2):
            cols[f"s{j}_{k}"] = np.sin(2 * np.pi * k * t / period)
            cols[f"c{j}_{k}"] = np.cos(2 * np.pi * k * t / period)
    return pd.DataFrame(cols, index=dates), list(cols)


def analyze_pre_post(e: Experiment, base: Path, *, seed: int = 0, draws: int = 500, tune: int = 500) -> AnalysisResult:
    """CausalPy interrupted time series: observed − forecast over the window, per model period.

    The raw file holds the national series (``date``, the measured columns and
    any ``controls`` listed in the experiment, e.g. a demand proxy) before and
    during the test. Valid only when trend, seasonality and the controls
    explain the pre-period well: check ``pre_r2`` in the diagnostics.
    """
    import causalpy as cp

    raw_controls = e.extra.get("controls") or []
    controls = [str(c) for c in ([raw_controls] if isinstance(raw_controls, str) else raw_controls)]
    df = _read_csv(e, base, ["date"] + list(e.measured) + controls)
    df = df.assign(date=pd.to_datetime(df["date"], errors="coerce"))
    if df["date"].isna().any():
        raise ExperimentError("unparsable date in pre/post data", where=e.where, hint="write dates as YYYY-MM-DD")
    df = df.sort_values("date").set_index("date")
    df = df.loc[df.index <= e.end]
    pre = df.index < e.start
    if pre.sum() < 26:
        raise ExperimentError(
            f"only {int(pre.sum())} pre-period rows in the pre/post data", where=e.where, hint="an interrupted time series needs at least 26 pre-period rows"
        )
    if (~pre).sum() < 1:
        raise ExperimentError("no rows inside the test window in the pre/post data", where=e.where, hint="the file must cover start..end")
    design, terms = _its_design(df.index, int(pre.sum()))
    frame = design.assign(y=df[list(e.measured)].sum(axis=1).to_numpy())
    scale = float(frame.loc[pre, "y"].mean()) or 1.0
    frame["y"] = frame["y"] / scale
    for c in controls:
        sd = float(df.loc[pre, c].std()) or 1.0
        frame[f"ctl_{c}"] = ((df[c] - df.loc[pre, c].mean()) / sd).to_numpy()
        terms.append(f"ctl_{c}")
    model = cp.pymc_models.LinearRegression(sample_kwargs={"draws": draws, "tune": tune, "chains": 2, "random_seed": seed, "progressbar": False})
    with warnings.catch_warnings(), _quiet_pymc():
        warnings.simplefilter("ignore")
        result = cp.InterruptedTimeSeries(frame.copy(), df.index[int(pre.sum())], formula="y ~ 1 + " + " + ".join(terms), model=model)
    impact = result.post_impact  # observed − posterior predictive, (chain, draw, obs_ind)
    per_draw = impact.mean(dim=[d for d in impact.dims if d not in ("chain", "draw")]).stack(s=("chain", "draw")).to_numpy()
    fitted = result.pre_pred.mean(dim=["chain", "draw"]).to_numpy().ravel()  # posterior mean of mu over the pre-period
    resid = frame.loc[pre, "y"].to_numpy() - fitted[: int(pre.sum())]
    resid = resid - resid.mean()
    rho = float(np.clip(np.sum(resid[1:] * resid[:-1]) / max(np.sum(resid**2), 1e-12), 0.0, 0.9))
    n_post = int((~pre).sum())
    se_pp = float(per_draw.std()) * float(np.sqrt((1 + rho) / (1 - rho))) * scale
    est, se = _to_unit(e, float(per_draw.mean()) * scale, se_pp, n_post)
    ybar = frame.loc[pre, "y"].to_numpy()
    r2 = float(1 - np.sum(resid**2) / max(np.sum((ybar - ybar.mean()) ** 2), 1e-12))
    diag = {"pre_periods": int(pre.sum()), "post_periods": n_post, "terms": terms, "pre_r2": r2, "noise_autocorrelation": rho}
    return AnalysisResult(with_result(e, est, se), est, se, "CausalPy InterruptedTimeSeries (LinearRegression)", diag)


# -------------------------------------------------------------------- dispatch


def analyze_experiments(
    experiments: Sequence[Experiment],
    base: str | Path,
    *,
    seed: int = 0,
    progress: Callable[[int, int, str], None] | None = None,
    cache: bool = False,
) -> list[AnalysisResult]:
    """Analyse every experiment that has raw data; pass the others through unchanged.

    ``cache``: reuse an earlier analysis of the same entry, data file and seed
    (:mod:`causalmmm.experiments.cache`), and store new ones.
    """
    from causalmmm.experiments import cache as analysis_cache

    out = []
    raw = [e for e in experiments if e.data is not None]
    for i, e in enumerate(raw):
        if progress:
            progress(i, len(raw), e.name)
        hit = analysis_cache.load(e, Path(base), seed) if cache else None
        if hit is not None:
            out.append(hit)
            continue
        out.append(_analyze_one(e, Path(base), seed))
        if cache:
            analysis_cache.store(out[-1], Path(base), seed)
    if progress:
        progress(len(raw), len(raw), "done")
    return out


def _analyze_one(e: Experiment, base: Path, seed: int) -> AnalysisResult:
    """The analysis of one raw-data experiment, by design."""
    if e.design == "switchback":
        return analyze_switchback(e, base)
    if e.design == "geo_lift":
        return analyze_geo_lift(e, base, seed=seed)
    if e.design == "pre_post":
        return analyze_pre_post(e, base, seed=seed)
    raise ExperimentError(
        f"no analysis for raw data of design {e.design!r}",
        where=e.where,
        hint="give estimate and se for lift tests, or use design geo_lift, switchback or pre_post",
    )


def merge_results(experiments: Sequence[Experiment], results: Sequence[AnalysisResult]) -> list[Experiment]:
    by_name = {r.experiment.name: r.experiment for r in results}
    return [by_name.get(e.name, e) for e in experiments]
