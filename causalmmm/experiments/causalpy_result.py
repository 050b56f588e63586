"""A fitted CausalPy experiment (SyntheticControl, InterruptedTimeSeries, ...) → our `Experiment`.

The estimate is the posterior mean of CausalPy's ``post_impact`` (observed minus the model's
counterfactual ``mu``, per post-period observation) averaged over the window (``unit:
per_period``) or summed (``unit: total``), summed over the selected treated units. Its se is the
posterior sd of the same quantity plus, by default (``noise=True``), the outcome's own noise over
the window: the pre-period residual variance / n, inflated by the AR(1) factor (1+ρ)/(1−ρ) of the
residuals, as :func:`causalmmm.experiments.analyze.analyze_geo_lift` does (the posterior of ``mu``
alone holds only the model's parameter uncertainty).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from causalmmm.errors import ExperimentError
from causalmmm.experiments.schema import Experiment, parse_experiment

_DESIGN_OF = {"SyntheticControl": "geo_lift", "InterruptedTimeSeries": "pre_post"}


def _impact(result: Any, attr: str, where: str) -> Any:
    arr = getattr(result, attr, None)
    if arr is None or not hasattr(arr, "dims"):
        raise ExperimentError(
            f"the CausalPy result has no {attr}",
            where=where,
            hint="pass a fitted CausalPy experiment, e.g. cp.SyntheticControl(...) or cp.InterruptedTimeSeries(...)",
        )
    if not {"chain", "draw"} <= set(arr.dims):
        raise ExperimentError(
            f"the CausalPy result's {attr} has no posterior draws (an OLS model?)",
            where=where,
            hint="fit it with a PyMC model (e.g. cp.pymc_models.WeightedSumFitter) so the impact has a posterior for the se",
        )
    return arr


def _units(arr: Any, treated_units: Sequence[str] | None, where: str) -> tuple[Any, list[str]]:
    """Sum the impact over the selected treated units (all of them by default)."""
    if "treated_units" not in arr.dims:
        return arr, []
    have = [str(u) for u in arr.coords["treated_units"].values]
    pick = have if treated_units is None else [str(u) for u in treated_units]
    unknown = [u for u in pick if u not in have]
    if unknown:
        raise ExperimentError(f"treated unit(s) {', '.join(unknown)} not in the CausalPy result", where=where, hint=f"its treated units: {', '.join(have)}")
    return arr.sel(treated_units=pick).sum(dim="treated_units"), pick


def _window(arr: Any, start: pd.Timestamp, end: pd.Timestamp, where: str) -> Any:
    index = arr.coords["obs_ind"].values
    if np.issubdtype(np.asarray(index).dtype, np.datetime64):
        keep = (pd.DatetimeIndex(index) >= start) & (pd.DatetimeIndex(index) <= end)
        if not keep.any():
            raise ExperimentError(
                f"no post-period observation of the CausalPy result lies in {start.date()}..{end.date()}", where=where, hint="give the test's start and end"
            )
        return arr.isel(obs_ind=np.flatnonzero(keep))
    return arr  # an integer index: the whole post period is the window


def _noise_variance(result: Any, treated_units: list[str], n: int) -> float:
    """Variance of the mean of ``n`` post-period observations from the outcome's own (AR(1)) noise."""
    pre = getattr(result, "pre_impact", None)
    if pre is None or not hasattr(pre, "dims") or "obs_ind" not in pre.dims:
        return 0.0
    if "treated_units" in pre.dims:
        pre = pre.sel(treated_units=treated_units).sum(dim="treated_units") if treated_units else pre.sum(dim="treated_units")
    resid = np.asarray(pre.mean(dim=[d for d in pre.dims if d in ("chain", "draw")]).values, dtype=float).ravel()
    if resid.size < 3:
        return 0.0
    resid = resid - resid.mean()
    rho = float(np.clip(np.sum(resid[1:] * resid[:-1]) / max(float(np.sum(resid**2)), 1e-300), 0.0, 0.9))
    return float(resid.var()) / n * (1 + rho) / (1 - rho)


def from_causalpy(
    result: Any,
    *,
    name: str,
    treatment: str,
    measured: str | Sequence[str],
    start: Any,
    end: Any,
    intervention: Any = "off",
    design: str | None = None,
    unit: str = "per_period",
    scope: str | None = None,
    geo_shares: Mapping[str, float] | None = None,
    treated_units: Sequence[str] | None = None,
    use: str = "calibrate",
    noise: bool = True,
    source: str = "<causalpy>",
) -> Experiment:
    """Our experiment, with CausalPy's estimate and se. A geo-lift (SyntheticControl) must say whose
    effect it is: ``geo_shares`` (each treated unit's share of the national total; the estimate is
    divided by their sum, ``scope: national``) or ``scope="geo"`` (the treated units' own effect) or
    ``scope="national"`` (already national)."""
    where = f"{source}: experiment {name!r}"
    kind = type(result).__name__
    design = design or _DESIGN_OF.get(kind)
    if design is None:
        raise ExperimentError(f"cannot tell the design of a CausalPy {kind}", where=where, hint="pass design= (lift, geo_lift, switchback or pre_post)")
    impact = _impact(result, "post_impact", where)
    summed, units = _units(impact, treated_units, where)
    raw: dict[str, Any] = {
        "name": name,
        "design": design,
        "treatment": treatment,
        "intervention": intervention,
        "measured": list(measured) if not isinstance(measured, str) else measured,
        "start": start,
        "end": end,
        "unit": unit,
        "use": use,
        "estimate": 0.0,  # placeholders: the scope rules need to know a result is given
        "se": 1.0,
        "analysis": {"method": f"CausalPy {kind}", "from": "post_impact"},
    }
    if scope is not None:
        raw["scope"] = scope
    if units:
        raw["treated"] = units
    if geo_shares is not None:
        raw["geo_shares"] = dict(geo_shares)
    shell = parse_experiment(raw, 0, source)  # every field checked as in a file, before any number is read
    window = _window(summed, shell.start, shell.end, where)
    n = int(window.sizes["obs_ind"])
    per_draw = window.mean(dim="obs_ind") if shell.unit == "per_period" else window.sum(dim="obs_ind")
    draws = np.asarray(per_draw.values, dtype=float).ravel()
    var = float(draws.var())
    if noise:
        var += _noise_variance(result, units, n) * (1.0 if shell.unit == "per_period" else n**2)
    factor = 1.0
    if geo_shares is not None and shell.scope == "national":
        factor = 1.0 / float(sum(float(geo_shares[g]) for g in shell.treated))
    estimate, se = float(draws.mean()) * factor, float(np.sqrt(var)) * factor
    if not np.isfinite(estimate) or not se > 0:
        raise ExperimentError(f"the CausalPy impact gives estimate {estimate!r}, se {se!r}", where=where, hint="check the result was fitted on the test's data")
    analysis = {**raw["analysis"], "post_periods": n, "scale_factor": factor, "noise_in_se": noise}
    return parse_experiment({**raw, "estimate": estimate, "se": se, "analysis": analysis}, 0, source)
