"""Fit pymc-marketing 1.x's MMM on one job and write total-ROAS draws per channel.

Runs INSIDE the pymc-marketing anchor venv (bench/.anchors/pymc-marketing): it imports only
that venv's packages, never causalmmm. Usage::

    bench/.anchors/pymc-marketing/bin/python bench/anchors/runner_pymc_marketing.py job.json result.json

Model: ``pymc_marketing.mmm.MMM`` (the multidimensional model, no extra dims), GeometricAdstock
(l_max from the job, default 8), LogisticSaturation, ``yearly_seasonality`` (default 2), controls
divided by their max |value| (as bench/flat_mmm.py does), lift tests through
``MMM.add_lift_test_measurements`` (the library's default likelihood).

Total ROAS per draw = ``mmm.incrementality.compute_incremental_contribution(frequency="all_time",
counterfactual_spend_factor=0.0)`` (the outcome with actual spend minus the outcome with that
channel's spend set to 0 in every period, summed over the fitted dates, original units) / Σ spend.
As a check, the same total from ``MMM.compute_counterfactual_contributions_dataset`` (the channel's
term removed from mu) is compared; with the identity link and LogisticSaturation(0) = 0 they agree.
"""

from __future__ import annotations

import time

PROCESS_START = time.perf_counter()

import os  # noqa: E402
import sys  # noqa: E402
from importlib.metadata import version  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from runner_io import quiet, runner_main  # noqa: E402

VERSIONED = ("pymc-marketing", "pymc", "pytensor", "arviz", "nutpie", "numpy", "pandas", "xarray")


def design(job: dict[str, Any]) -> tuple[pd.DataFrame, pd.Series, dict[str, float]]:
    df = pd.read_csv(job["csv"])
    date, channels, controls = job["date_column"], list(job["channels"]), list(job.get("controls") or [])
    missing = [c for c in [date, job["target"], *channels, *controls] if c not in df.columns]
    if missing:
        raise SystemExit(f"{job['csv']}: columns not in the data: {missing}")
    X = df[[date, *channels, *controls]].copy()
    X[date] = pd.to_datetime(X[date])
    for c in [*channels, *controls]:
        X[c] = pd.to_numeric(X[c]).astype(float)
    if job.get("model", {}).get("scale_controls", True):
        for c in controls:
            m = float(np.abs(X[c]).max())
            if m > 0:
                X[c] = X[c] / m
    y = pd.Series(pd.to_numeric(df[job["target"]]).to_numpy(dtype=float), index=X.index, name=job["target"])
    return X, y, {c: float(X[c].sum()) for c in channels}


def sampling_seconds(idata: Any) -> float | None:
    """Sampling time the sampler recorded (PyMC stores it on the posterior's attrs), if any."""
    for group in ("posterior", "sample_stats"):
        try:
            attrs = idata[group].attrs
        except (KeyError, AttributeError):
            continue
        for key in ("sampling_time", "sampling_time_seconds"):
            if key in attrs:
                return float(attrs[key])
    return None


def diagnostics(idata: Any, free: list[str]) -> dict[str, float]:
    import arviz as az

    post = idata["posterior"].to_dataset()
    post = post[[v for v in free if v in post.data_vars]]
    ess = az.ess(post, method="bulk")
    rhat = az.rhat(post)
    ess = getattr(ess, "to_dataset", lambda: ess)() if not hasattr(ess, "data_vars") else ess
    rhat = getattr(rhat, "to_dataset", lambda: rhat)() if not hasattr(rhat, "data_vars") else rhat
    out = {
        "ess_bulk_min": float(min(float(np.nanmin(ess[v].values)) for v in ess.data_vars)),
        "r_hat_max": float(max(float(np.nanmax(rhat[v].values)) for v in rhat.data_vars)),
    }
    stats = idata["sample_stats"].to_dataset() if "sample_stats" in idata.children else None
    out["divergences"] = int(stats["diverging"].sum()) if stats is not None and "diverging" in stats else 0
    return out


def run(job: dict[str, Any]) -> dict[str, Any]:
    with quiet("pymc", "pymc_marketing", "pytensor", "nutpie", "arviz"):
        import pymc_marketing.mmm as pmm

        X, y, spend = design(job)
        channels, controls = list(job["channels"]), list(job.get("controls") or [])
        s = job.get("sampler", {})
        nuts = "nutpie" if s.get("nutpie", True) else "pymc"
        sampler_config = {
            "draws": int(s.get("draws", 500)),
            "tune": int(s.get("tune", 500)),
            "chains": int(s.get("chains", 2)),
            "target_accept": float(s.get("target_accept", 0.9)),
            "nuts_sampler": nuts,
            "progressbar": False,
            "compute_convergence_checks": False,
        }
        if nuts == "pymc":
            sampler_config["cores"] = min(sampler_config["chains"], 2)
        m = job.get("model", {})
        mmm = pmm.MMM(
            date_column=job["date_column"],
            target_column=job["target"],
            channel_columns=channels,
            control_columns=controls or None,
            adstock=pmm.GeometricAdstock(l_max=int(m.get("l_max", 8))),
            saturation=pmm.LogisticSaturation(),
            yearly_seasonality=int(m.get("yearly_seasonality", 2)),
            sampler_config=sampler_config,
        )
        t0 = time.perf_counter()
        mmm.build_model(X, y)
        lift = pd.DataFrame(job.get("lift_tests") or [], columns=["channel", "x", "delta_x", "delta_y", "sigma"])
        lift = lift[lift["channel"].isin(channels)].reset_index(drop=True)
        if len(lift):
            mmm.add_lift_test_measurements(lift)
        t_sample = time.perf_counter()
        mmm.fit(X, y, random_seed=int(s.get("seed", 0)))
        t_fit = time.perf_counter()
        free = [v.name for v in mmm.model.free_RVs]
        diag = diagnostics(mmm.idata, free)
        inc = mmm.incrementality.compute_incremental_contribution(frequency="all_time", counterfactual_spend_factor=0.0)
        inc = inc.stack(sample=("chain", "draw")).transpose("channel", "sample")
        removed = mmm.compute_counterfactual_contributions_dataset(period="all_time")
        t_done = time.perf_counter()
    check = {}
    for c in channels:
        a = inc.sel(channel=c).to_numpy()
        if c in removed.data_vars:
            b = removed[c].stack(sample=("chain", "draw")).to_numpy().ravel()
        elif "channel_contribution" in removed.data_vars or "channels" in removed.data_vars:
            var = removed["channel_contribution" if "channel_contribution" in removed.data_vars else "channels"]
            b = var.sel(channel=c).stack(sample=("chain", "draw")).to_numpy().ravel()
        else:
            b = None
        if b is not None and b.shape == a.shape:
            check[c] = float(np.max(np.abs(a - b)) / max(float(np.mean(np.abs(a))), 1e-12))
    sample_s = sampling_seconds(mmm.idata)
    fit_s = t_fit - t0
    return {
        "anchor": "pymc-marketing",
        "roas_draws": {c: (inc.sel(channel=c).to_numpy() / spend[c]).tolist() if spend[c] > 0 else None for c in channels},
        "spend": spend,
        "contribution_method": "mmm.incrementality.compute_incremental_contribution(frequency='all_time', counterfactual_spend_factor=0.0) / total spend",
        "check_vs_removed_term": {
            "method": "MMM.compute_counterfactual_contributions_dataset(period='all_time')",
            "max_rel_diff": check,
            "variables": sorted(map(str, removed.data_vars)),
        },
        "n_lift_rows": int(len(lift)),
        "build_seconds": t_sample - t0,
        "fit_seconds": fit_s,
        "sampling_seconds": sample_s,
        "postprocess_seconds": t_done - t_fit,
        "process_seconds": time.perf_counter() - PROCESS_START,
        **diag,
        "ess_per_second": diag["ess_bulk_min"] / (sample_s or fit_s),
        "sampler": nuts,
        "versions": {d: version(d) for d in VERSIONED},
        "python": sys.version.split()[0],
    }


if __name__ == "__main__":
    sys.exit(runner_main(run, sys.argv[1:], __file__))
