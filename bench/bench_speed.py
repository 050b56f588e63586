"""Speed and memory: causalmmm's full fit vs pymc-marketing's flat fit on the same data, same
sampler, chains and draws; plus --fast mode, query latency, optimiser time and peak memory.

    python bench/bench_speed.py [--draws 500] [--repeats 2]

Each measurement runs in its own subprocess (peak RSS is per process).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402


def _ess_rhat(idatas) -> tuple[float, float]:
    import arviz as az

    ess, rhat = [], []
    for idata in idatas:
        post = idata.posterior[[v for v in idata.posterior.data_vars if not str(v).endswith("__")]]
        e, r = az.ess(post), az.rhat(post)
        ess += [float(e[v].min()) for v in post.data_vars]
        rhat += [float(r[v].max()) for v in post.data_vars]
    return min(ess), max(rhat)


def part(name: str, draws: int, seed: int) -> dict:
    from causalmmm.simulate import simulate_world

    world = simulate_world("search", seed)
    out: dict = {"part": name}
    if name in ("causal", "fast"):
        from causalmmm.data import load_data
        from causalmmm.model.fit import SamplerConfig, fit_model
        from causalmmm.spec import build_spec

        data = load_data(world.data).validate_against(world.graph)
        t0 = time.perf_counter()
        spec = build_spec(world.graph, data)
        fit = fit_model(spec, data, SamplerConfig(draws=draws, tune=draws, chains=2, seed=seed, fast=name == "fast"))
        out["seconds"] = time.perf_counter() - t0
        if name == "causal":
            out["ess_min"], out["rhat_max"] = _ess_rhat(fit.idata)
    elif name == "flat":
        from bench.flat_mmm import fit_flat_mmm

        res = fit_flat_mmm(
            world.data,
            channels=list(world.graph.spend_nodes),
            controls=["demand", "promo"],
            draws=draws,
            tune=draws,
            chains=2,
            seed=seed,
            config_name="with_confounder",
        )
        out["seconds"], out["ess_min"], out["rhat_max"] = res.fit_seconds, res.ess_bulk_min, res.r_hat_max
    elif name in ("query", "optimize"):
        from causalmmm.data import load_data
        from causalmmm.model.equations import param_name
        from causalmmm.query.do import PosteriorSCM, parse_do, query
        from causalmmm.query.optimize import optimize_budget
        from causalmmm.spec import build_spec

        data = load_data(world.data).validate_against(world.graph)
        spec = build_spec(world.graph, data)
        rng = np.random.default_rng(0)
        S = 4000
        draws_ = {}
        for n in spec.nodes:  # fixed parameter draws: the query cost does not depend on their values
            draws_[param_name(n.name, "intercept")] = rng.normal(0.2, 0.05, S)
            draws_[param_name(n.name, "sigma")] = rng.uniform(0.05, 0.1, S)
            for e in n.edges:
                for k in e.param_names:
                    draws_[param_name(n.name, k, e.source)] = rng.uniform(0.3, 0.7, S)
            if n.trend != "none":
                draws_[param_name(n.name, "trend")] = rng.normal(0, 0.1, S)
            if n.seasonality:
                draws_[param_name(n.name, "season")] = rng.normal(0, 0.1, (S, 2 * n.seasonality))
        scm = PosteriorSCM(spec, data, draws_, tuple(world.graph.spend_nodes))
        out["draws"], out["periods"], out["nodes"] = S, spec.n_periods, len(world.graph.nodes)
        if name == "query":
            query(scm, [parse_do("ppc_spend=0")], start="2023-07-03", end="2023-09-25")  # warm-up (abduction cache)
            times = []
            for _ in range(5):
                t0 = time.perf_counter()
                query(scm, [parse_do("ppc_spend=0")], start="2023-07-03", end="2023-09-25")
                times.append(time.perf_counter() - t0)
            out["seconds"] = float(np.median(times))
        else:
            t0 = time.perf_counter()
            optimize_budget(scm, float(sum(world.data[c].tail(52).mean() for c in world.graph.spend_nodes)), periods=52)
            out["seconds"] = time.perf_counter() - t0
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def run_part(name: str, draws: int, seed: int) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--part", name, "--draws", str(draws), "--seed", str(seed)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{name} failed: {proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else proc.returncode}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--draws", type=int, default=500)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--part", default=None)
    args = ap.parse_args()
    if args.part:
        print(json.dumps(part(args.part, args.draws, args.seed)))
        return
    from bench.common import command_line, header, table, write_fragment

    res: dict[str, list[dict]] = {}
    for name in ("causal", "flat", "fast"):  # warm-up: every fit then runs with a warm compilation cache
        try:
            run_part(name, 50, args.seed)
        except RuntimeError as exc:
            print(f"warm-up {name}: {exc}", file=sys.stderr)
    names = ["causal", "flat", "fast"] * args.repeats + ["query", "optimize"]
    for name in names:  # interleaved, so machine noise hits both tools alike
        try:
            res.setdefault(name, []).append(run_part(name, args.draws, args.seed))
        except RuntimeError as exc:
            print(f"skipping: {exc}", file=sys.stderr)
        print(f"{name}: {(res.get(name) or [{}])[-1]}", file=sys.stderr)

    def med(name: str, key: str) -> float | None:
        vals = [r[key] for r in res.get(name, []) if r.get(key) is not None]
        return float(np.median(vals)) if vals else None

    rows = []
    c, f = med("causal", "seconds"), med("flat", "seconds")
    rows.append(
        [
            "causalmmm full fit (nutpie, 2 chains)",
            c,
            med("causal", "ess_min"),
            med("causal", "rhat_max"),
            (med("causal", "ess_min") or 0) / c if c else None,
            med("causal", "peak_rss_mb"),
            "-",
        ]
    )
    if f:
        rows.append(
            [
                "pymc-marketing flat fit (nutpie, 2 chains)",
                f,
                med("flat", "ess_min"),
                med("flat", "rhat_max"),
                (med("flat", "ess_min") or 0) / f,
                med("flat", "peak_rss_mb"),
                "-",
            ]
        )
        rows.append(["ratio causalmmm / pymc-marketing", c / f if c else None, "", "", "", "", "<= 1.0 (stretch 0.5)"])
    rows.append(["causalmmm --fast (MAP + Laplace)", med("fast", "seconds"), "", "", "", med("fast", "peak_rss_mb"), "<= 5 s"])
    q = res.get("query", [{}])[-1]
    rows.append(
        [
            f"query: {q.get('draws')} draws x {q.get('periods')} periods x {q.get('nodes')} nodes",
            med("query", "seconds"),
            "",
            "",
            "",
            med("query", "peak_rss_mb"),
            "< 1 s",
        ]
    )
    rows.append(["optimiser (3 channels, 52 weeks, 200 draws)", med("optimize", "seconds"), "", "", "", med("optimize", "peak_rss_mb"), "< 10 s"])
    text = header("Speed and memory (search world, 156 weeks, 10 nodes)", command_line())
    text += (
        f"Both fits: nutpie, 2 chains, {args.draws} tune + {args.draws} draws, seed {args.seed}; median of {args.repeats} "
        "interleaved runs after one warm-up fit of each tool (so both compile with a warm cache, as in day-to-day use); "
        "wall time includes building and compiling the model. `--fast` is measured the same way (warm-up, then the median "
        f"of {args.repeats} runs). pymc-marketing gets demand and promo as "
        "controls (its best configuration on this world). Peak memory is the peak RSS of the measuring process.\n\n"
        + table(["what", "seconds", "min ESS (bulk)", "max R-hat", "ESS/s", "peak MB", "goal"], rows)
    )
    write_fragment("speed", text)


if __name__ == "__main__":
    main()
