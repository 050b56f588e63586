"""Fit pathmc 0.4's structural causal model of a DAG on one job and write total-ROAS draws per channel.

Runs INSIDE the pymc-marketing anchor venv (which also holds pathmc): it imports only that venv's
packages, never causalmmm. Usage::

    bench/.anchors/pymc-marketing/bin/python bench/anchors/runner_pathmc.py job.json result.json

The job's ``model["parents"]`` gives the DAG: node -> list of {"source", "media", "lag"} (every
observed non-root node gets one equation, in the order given). Equations use pathmc's own terms:
a media edge is ``logistic_saturation(adstock(x, decay=...), lam=...)`` (pathmc's geometric adstock,
l_max 12, and logistic saturation, default priors); other edges are linear. Columns are divided by
their max (``pathmc.Scaling(method="max")``); ``fit`` is PyMC's ``pm.sample`` (nutpie when asked).

A lagged edge (``lag`` > 0) is written contemporaneous: pathmc's ``lag()`` needs ``panel=``, and
a panel model with lag()/adstock() is compiled with ``pytensor.scan``, which nutpie refuses (not
differentiable) and whose adstock step must be the default unbounded one. The result records
which edges were changed (``lag_edges_made_contemporaneous``).

Total ROAS per draw = (mean sales under ``do(spend = actual)`` - mean sales under ``do(channel = 0
in every period, other spend actual)``) x periods / total spend, with ``PathModel.do(kind="mean")``
(g-computation with noise at its mean; every equation downstream of spend is additive in its
noise, so the difference equals the counterfactual one): the estimand of world.true_effects().
"""

from __future__ import annotations

import time

PROCESS_START = time.perf_counter()

import sys  # noqa: E402
from importlib.metadata import version  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from runner_io import quiet, runner_main  # noqa: E402
from runner_pymc_marketing import diagnostics, sampling_seconds  # noqa: E402

VERSIONED = ("pathmc", "pymc", "pytensor", "arviz", "nutpie", "numpy", "pandas")


def term(node: str, parent: dict[str, Any]) -> str:
    """One right-hand-side term of ``node``'s equation in pathmc's DSL."""
    src = parent["source"]
    if not parent.get("media"):
        return src
    tag = f"{src}_{node}"
    return f"logistic_saturation(adstock({src}, decay=decay_{tag}), lam=lam_{tag})"


def dsl(parents: dict[str, list[dict[str, Any]]]) -> tuple[str, list[str]]:
    """The pathmc spec of the DAG, and the lagged edges written contemporaneous."""
    lines, lagged = [], []
    for node, ps in parents.items():
        if not ps:
            continue
        lagged += [f"{p['source']} -> {node}" for p in ps if int(p.get("lag") or 0) > 0]
        lines.append(f"{node} ~ " + " + ".join(term(node, p) for p in ps))
    return "\n".join(lines), lagged


def run(job: dict[str, Any]) -> dict[str, Any]:
    parents = job.get("model", {}).get("parents")
    if not parents:
        raise SystemExit("job: model['parents'] (the DAG) is required for pathmc")
    channels, target = list(job["channels"]), job["target"]
    df = pd.read_csv(job["csv"]).drop(columns=[job["date_column"]])
    used = sorted({n for n, ps in parents.items() if ps} | {p["source"] for ps in parents.values() for p in ps})
    df = df[used].astype(float)
    spec, lagged = dsl(parents)
    s = job.get("sampler", {})
    with quiet("pymc", "pathmc", "pytensor", "nutpie", "arviz"):
        import pathmc

        t0 = time.perf_counter()
        m = pathmc.model(spec, data=df, scaling=pathmc.Scaling(target={"method": "max"}, channel={"method": "max"}))
        t_sample = time.perf_counter()
        kwargs: dict[str, Any] = {
            "draws": int(s.get("draws", 500)),
            "tune": int(s.get("tune", 500)),
            "chains": int(s.get("chains", 2)),
            "target_accept": float(s.get("target_accept", 0.9)),
            "random_seed": int(s.get("seed", 0)),
            "progressbar": False,
            "compute_convergence_checks": False,
        }
        kwargs["nuts_sampler"] = "nutpie" if s.get("nutpie", True) else "pymc"
        if kwargs["nuts_sampler"] == "pymc":
            kwargs["cores"] = min(kwargs["chains"], 2)
        idata = m.fit(compute_log_likelihood=False, **kwargs)
        t_fit = time.perf_counter()
        free = [v.name for v in m.pymc_model.free_RVs]
        diag = diagnostics(idata, free)
        actual = {c: df[c].to_numpy() for c in channels}
        base = m.do(set=dict(actual), kind="mean").dataset[target]
        T = len(df)
        roas = {}
        for c in channels:
            off = dict(actual, **{c: np.zeros(T)})
            cf = m.do(set=off, kind="mean").dataset[target]
            contribution = ((base - cf) * T).stack(sample=("chain", "draw")).to_numpy().ravel()
            total = float(actual[c].sum())
            roas[c] = (contribution / total).tolist() if total > 0 else None
        t_done = time.perf_counter()
    sample_s = sampling_seconds(idata)
    fit_s = t_fit - t0
    return {
        "anchor": "pathmc",
        "roas_draws": roas,
        "spec": spec,
        "lag_edges_made_contemporaneous": lagged,
        "contribution_method": "(mean sales | do(spend=actual) - mean sales | do(channel=0)) x periods / total spend, PathModel.do(kind='mean')",
        "build_seconds": t_sample - t0,
        "fit_seconds": fit_s,
        "sampling_seconds": sample_s,
        "postprocess_seconds": t_done - t_fit,
        "process_seconds": time.perf_counter() - PROCESS_START,
        **diag,
        "ess_per_second": diag["ess_bulk_min"] / (sample_s or fit_s),
        "sampler": kwargs["nuts_sampler"],
        "versions": {d: version(d) for d in VERSIONED},
        "python": sys.version.split()[0],
    }


if __name__ == "__main__":
    sys.exit(runner_main(run, sys.argv[1:], __file__))
