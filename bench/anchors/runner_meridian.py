"""Fit Google Meridian 2.x on one job (a national model: one geo) and write total-ROAS draws per channel.

Runs INSIDE the meridian anchor venv (bench/.anchors/meridian); it imports only that venv's
packages, never causalmmm. Usage::

    bench/.anchors/meridian/bin/python bench/anchors/runner_meridian.py job.json result.json

Data: ``DataFrameInputDataBuilder(kpi_type="revenue")`` with the target as KPI, each spend column
as both media execution and media spend, the controls as controls (no geo column: Meridian makes
one national geo). Model: ``ModelSpec(max_lag=l_max)`` and Meridian's defaults otherwise (ROI
priors, geometric adstock, Hill saturation, time knots). Sampling: ``Meridian.sample_posterior``
(TFP's windowed adaptive NUTS; ``nutpie`` in the job is ignored), ``n_adapt = n_burnin = tune / 2``.

Total ROAS per draw = ``Analyzer(mmm).roi()``: the expected outcome minus the expected outcome
with the channel's media (here its spend) set to 0 in every period, summed over the data, / total
spend. Lift tests are not used: Meridian calibrates with ROI priors, not lift rows.
"""

from __future__ import annotations

import time

PROCESS_START = time.perf_counter()

import logging  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import warnings  # noqa: E402
from importlib.metadata import version  # noqa: E402
from typing import Any  # noqa: E402

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from runner_io import runner_main  # noqa: E402

VERSIONED = ("google-meridian", "tensorflow", "tfp-nightly", "jax", "numpy", "pandas", "arviz")


def run(job: dict[str, Any]) -> dict[str, Any]:
    warnings.simplefilter("ignore")
    logging.getLogger("absl").setLevel(logging.ERROR)
    import arviz as az
    from meridian.analysis import analyzer
    from meridian.data import data_frame_input_data_builder as dfb
    from meridian.model import model, spec

    date, target = job["date_column"], job["target"]
    channels, controls = list(job["channels"]), list(job.get("controls") or [])
    df = pd.read_csv(job["csv"])
    missing = [c for c in [date, target, *channels, *controls] if c not in df.columns]
    if missing:
        raise SystemExit(f"{job['csv']}: columns not in the data: {missing}")
    df[date] = pd.to_datetime(df[date]).dt.strftime("%Y-%m-%d")
    builder = dfb.DataFrameInputDataBuilder(kpi_type="revenue", default_time_column=date, default_media_time_column=date)
    builder = builder.with_kpi(df, kpi_col=target).with_media(df, media_cols=channels, media_spend_cols=channels, media_channels=channels)
    if controls:
        builder = builder.with_controls(df, control_cols=controls)
    data = builder.build()
    s = job.get("sampler", {})
    tune, draws, chains = int(s.get("tune", 500)), int(s.get("draws", 500)), int(s.get("chains", 2))
    t0 = time.perf_counter()
    mmm = model.Meridian(input_data=data, model_spec=spec.ModelSpec(max_lag=int(job.get("model", {}).get("l_max", 8))))
    t_sample = time.perf_counter()
    mmm.sample_posterior(n_chains=chains, n_adapt=max(1, tune // 2), n_burnin=max(1, tune - tune // 2), n_keep=draws, seed=int(s.get("seed", 0)))
    t_fit = time.perf_counter()
    roi = np.asarray(analyzer.Analyzer(mmm).roi())  # (chain, draw, channel)
    t_done = time.perf_counter()
    post = mmm.inference_data.posterior
    params = [v for v in ("roi_m", "alpha_m", "ec_m", "slope_m", "beta_m", "gamma_c", "tau_g", "knot_values", "sigma") if v in post.data_vars]
    ess = az.ess(post[params], method="bulk")
    rhat = az.rhat(post[params])
    ess_min = float(min(float(np.nanmin(ess[v].values)) for v in ess.data_vars))
    stats = mmm.inference_data.sample_stats if "sample_stats" in mmm.inference_data.groups() else None
    div = int(np.asarray(stats["diverging"]).sum()) if stats is not None and "diverging" in stats else 0
    sample_s = t_fit - t_sample
    return {
        "anchor": "meridian",
        "roas_draws": {c: roi[..., i].ravel().tolist() for i, c in enumerate(channels)},
        "spend": {c: float(df[c].sum()) for c in channels},
        "contribution_method": "meridian.analysis.analyzer.Analyzer(mmm).roi() (spend of the channel set to 0 in every "
        "period, outcome summed over the data, / total spend)",
        "n_lift_rows": 0,
        "lift_tests_ignored": bool(job.get("lift_tests")),
        "build_seconds": t_sample - t0,
        "fit_seconds": t_fit - t0,
        "sampling_seconds": sample_s,
        "postprocess_seconds": t_done - t_fit,
        "process_seconds": time.perf_counter() - PROCESS_START,
        "ess_bulk_min": ess_min,
        "r_hat_max": float(max(float(np.nanmax(rhat[v].values)) for v in rhat.data_vars)),
        "divergences": div,
        "ess_per_second": ess_min / sample_s,
        "sampler": "tfp windowed_adaptive_nuts",
        "versions": {d: version(d) for d in VERSIONED},
        "python": sys.version.split()[0],
    }


if __name__ == "__main__":
    sys.exit(runner_main(run, sys.argv[1:], __file__))
