"""Speed and memory: causalmmm against pymc-marketing 1.3 on the same data, with the same sampler,
chains and draws, with a cold and a warm compile cache; plus ``--fast``, query latency, the optimiser
and peak memory.

    python bench/bench_speed.py [--draws 500] [--repeats 2] [--seed 0] [--samplers nutpie pymc]

World: the ``search`` preset (156 weeks, 10 nodes, demand observed), uncalibrated. pymc-marketing 1.3
runs in its own venv (``python -m bench.anchors.envs install --only pymc-marketing``) with demand and
promo as controls. Every measurement is a fresh process. Each tool x sampler gets its own empty
compile directory (``PYTENSOR_FLAGS=base_compiledir``, ``NUMBA_CACHE_DIR``): the first fit in it is
*cold*, the next ``--repeats`` fits reuse it (*warm*). Rounds are interleaved so that machine noise
hits every tool alike.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

PRESET = "search"
TOOLS = {"causal": "causalmmm", "pmm": "pymc-marketing 1.3"}
SAMPLER_LABEL = {"nutpie": "nutpie", "pymc": "PyMC NUTS"}


def _ess_rhat(idatas) -> tuple[float, float]:
    import arviz as az

    ess, rhat = [], []
    for idata in idatas:
        post = idata.posterior[[v for v in idata.posterior.data_vars if not str(v).endswith("__")]]
        e, r = az.ess(post), az.rhat(post)
        ess += [float(e[v].min()) for v in post.data_vars]
        rhat += [float(r[v].max()) for v in post.data_vars]
    return min(ess), max(rhat)


def _fit_causal(world, sampler: str, draws: int, seed: int, fast: bool) -> dict:
    from causalmmm.data import load_data
    from causalmmm.model.fit import SamplerConfig, fit_model
    from causalmmm.spec import build_spec

    data = load_data(world.data).validate_against(world.graph)
    t0 = time.perf_counter()
    spec = build_spec(world.graph, data)
    fit = fit_model(spec, data, SamplerConfig(sampler=sampler, draws=draws, tune=draws, chains=2, seed=seed, fast=fast))
    out = {"seconds": time.perf_counter() - t0}
    if not fast:
        out["ess_min"], out["rhat_max"] = _ess_rhat(fit.idata)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def _fit_pmm(world, sampler: str, draws: int, seed: int) -> dict:
    from bench.anchors.run import AnchorJob, run_anchor
    from causalmmm.simulate import write

    with tempfile.TemporaryDirectory() as d:
        write(world, d)
        job = AnchorJob(
            csv=str(Path(d) / "data.csv"),
            channels=list(world.graph.spend_nodes),
            controls=["demand", "promo"],
            draws=draws,
            tune=draws,
            chains=2,
            seed=seed,
            nutpie=sampler == "nutpie",
        )
        res = run_anchor("pymc-marketing", job)
    return {
        "seconds": res.fit_seconds,
        "ess_min": res.raw.get("ess_bulk_min"),
        "rhat_max": res.raw.get("r_hat_max"),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,  # the runner, this process's only child
    }


def _query_or_optimize(world, name: str) -> dict:
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
    out: dict = {"draws": S, "periods": spec.n_periods, "nodes": len(world.graph.nodes)}
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


def part(name: str, sampler: str, draws: int, seed: int) -> dict:
    """One measurement in this process (the parent runs each in a fresh one)."""
    import warnings

    warnings.simplefilter("ignore")
    from causalmmm.simulate import simulate_world

    world = simulate_world(PRESET, seed)
    if name in ("causal", "fast"):
        return _fit_causal(world, sampler, draws, seed, fast=name == "fast")
    if name == "pmm":
        return _fit_pmm(world, sampler, draws, seed)
    return _query_or_optimize(world, name)


def run_part(name: str, sampler: str, draws: int, seed: int, cache: Path | None) -> dict:
    """``part`` in a fresh process, compiling into ``cache`` (None: the user's default directories)."""
    from bench.common import compile_cache_env

    env = dict(os.environ)
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        env = compile_cache_env(cache)
    cmd = [sys.executable, __file__, "--part", name, "--sampler", sampler, "--draws", str(draws), "--seed", str(seed)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"{name} ({sampler}) failed: {proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else proc.returncode}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["process_seconds"] = time.perf_counter() - t0
    return out


def measure_all(args: argparse.Namespace, root: Path) -> dict[tuple[str, str, str], list[dict]]:
    """(tool, sampler, cold|warm) -> measurements; round 0 is cold, later rounds warm, interleaved."""
    res: dict[tuple[str, str, str], list[dict]] = {}
    fits = [(tool, s) for s in args.samplers for tool in TOOLS] + [("fast", "nutpie")]
    for rnd in range(1 + args.repeats):
        for tool, sampler in fits:
            key = (tool, sampler, "cold" if rnd == 0 else "warm")
            try:
                res.setdefault(key, []).append(run_part(tool, sampler, args.draws, args.seed, root / f"{tool}-{sampler}"))
            except RuntimeError as exc:
                print(f"skipping: {exc}", file=sys.stderr)
            print(f"{key}: {(res.get(key) or [{}])[-1]}", file=sys.stderr, flush=True)
    for name in ("query", "optimize"):
        res[(name, "-", "warm")] = [run_part(name, "-", args.draws, args.seed, None)]
    return res


def fragment(res: dict[tuple[str, str, str], list[dict]], args: argparse.Namespace) -> str:
    from bench.common import PYMC_CHILD_MEMORY_NOTE, command_line, header, table

    def med(key: tuple[str, str, str], field: str) -> float | None:
        vals = [r[field] for r in res.get(key, []) if r.get(field) is not None]
        return float(np.median(vals)) if vals else None

    rows = []
    for sampler in args.samplers:
        for cache in ("cold", "warm"):
            for tool in TOOLS:
                k = (tool, sampler, cache)
                s, e = med(k, "seconds"), med(k, "ess_min")
                rows.append(
                    [
                        f"{TOOLS[tool]} ({SAMPLER_LABEL[sampler]})",
                        cache,
                        len(res.get(k, [])),
                        s,
                        med(k, "process_seconds"),
                        e,
                        med(k, "rhat_max"),
                        e / s if s and e else None,
                        med(k, "peak_rss_mb"),
                    ]
                )
    ratios = []
    for sampler in args.samplers:
        for cache in ("cold", "warm"):
            c, p = med(("causal", sampler, cache), "seconds"), med(("pmm", sampler, cache), "seconds")
            ce, pe = med(("causal", sampler, cache), "ess_min"), med(("pmm", sampler, cache), "ess_min")
            if c and p:
                ess_ratio = (ce / c) / (pe / p) if ce and pe else None
                ratios.append([SAMPLER_LABEL[sampler], cache, c / p, ess_ratio])
    from causalmmm.model.fit import resolve_sampler

    default = resolve_sampler("auto")
    default_vs_best = []
    for cache in ("cold", "warm"):
        ours = med(("causal", default, cache), "seconds")
        theirs = {sm: med(("pmm", sm, cache), "seconds") for sm in args.samplers}
        theirs = {sm: v for sm, v in theirs.items() if v}
        if ours and theirs:
            best = min(theirs, key=lambda sm: theirs[sm])
            default_vs_best.append(
                f"{ours / theirs[best]:.2f}x the fit time of pymc-marketing 1.3 on its faster sampler here ({SAMPLER_LABEL[best]}), both {cache}"
            )
    fast = ("fast", "nutpie", "warm")
    q, o = res.get(("query", "-", "warm"), [{}])[-1], ("optimize", "-", "warm")
    other = [
        ["causalmmm --fast (MAP + Laplace), warm", med(fast, "seconds"), med(fast, "process_seconds"), med(fast, "peak_rss_mb"), "<= 5 s"],
        [
            "causalmmm --fast, cold",
            med(("fast", "nutpie", "cold"), "seconds"),
            med(("fast", "nutpie", "cold"), "process_seconds"),
            med(("fast", "nutpie", "cold"), "peak_rss_mb"),
            "<= 5 s",
        ],
        [
            f"query: {q.get('draws')} draws x {q.get('periods')} periods x {q.get('nodes')} nodes",
            q.get("seconds"),
            q.get("process_seconds"),
            q.get("peak_rss_mb"),
            "< 1 s",
        ],
        ["optimiser (3 channels, 52 weeks, 200 draws)", med(o, "seconds"), med(o, "process_seconds"), med(o, "peak_rss_mb"), "< 10 s"],
    ]
    warm = "the fit that follows" if args.repeats == 1 else f"the median of the {args.repeats} fits that follow"
    command = command_line()
    if args.from_rows:  # show the command that measured, not the rebuild
        measured = f" --repeats {args.repeats} --rows {args.from_rows}" if "--repeats" not in command else f" --rows {args.from_rows}"
        command = command.replace(f" --from-rows {args.from_rows}", measured) + "`, its text rebuilt from those rows by `--from-rows"
    text = header("Speed and memory (search world, 156 weeks, 10 nodes)", command)
    text += (
        f"Every fit: 2 chains, {args.draws} tune + {args.draws} draws, seed {args.seed}, a fresh process. *fit s* is build + "
        "compile + sample inside that process (for pymc-marketing 1.3, `build_model` + `fit` inside its runner, "
        "bench/anchors/runner_pymc_marketing.py, in its own Python 3.12 venv); *process s* adds imports and, for "
        "pymc-marketing, reading the CSV and computing ROAS. Each tool x sampler compiles into its own empty directory "
        "(PyTensor's compile directory and numba's cache): *cold* is the first fit in it, *warm* "
        f"{warm}, interleaved across tools. pymc-marketing gets demand and promo as controls (its "
        "best configuration on this world). causalmmm's `--sampler auto` is PyMC's NUTS. "
        "Peak memory is the peak RSS of the fitting process. "
        f"{PYMC_CHILD_MEMORY_NOTE}\n\n"
        + table(["tool (sampler)", "cache", "runs", "fit s", "process s", "min ESS (bulk)", "max R-hat", "ESS/s", "peak MB"], rows)
        + "\n**Ratio causalmmm / pymc-marketing 1.3, same sampler** (goal <= 1.0, stretch 0.5; ESS/s ratio > 1 means "
        "causalmmm draws effective samples faster)\n\n"
        + table(["sampler", "cache", "fit-time ratio", "ESS/s ratio"], ratios)
        + (f"\ncausalmmm's default (`--sampler auto`, {SAMPLER_LABEL[default]}) takes {'; '.join(default_vs_best)}.\n" if default_vs_best else "")
        + "\n**Fast mode, queries and the optimiser** (`--fast` measured like the fits: its own compile directory, cold "
        "then warm)\n\n" + table(["what", "seconds", "process s", "peak MB", "goal"], other)
    )
    return text


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--draws", type=int, default=500)
    ap.add_argument("--repeats", type=int, default=2, help="warm fits per tool x sampler after the cold one")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--samplers", nargs="+", choices=list(SAMPLER_LABEL), default=list(SAMPLER_LABEL))
    ap.add_argument("--rows", type=Path, help="also save the raw measurements to this JSON file")
    ap.add_argument("--from-rows", type=Path, help="skip measuring: rebuild the fragment from a --rows file")
    ap.add_argument("--part", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--sampler", default="nutpie", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.part:
        print(json.dumps(part(args.part, args.sampler, args.draws, args.seed)))
        return
    from bench.common import write_fragment

    if args.from_rows:
        res = {tuple(k): v for k, v in json.loads(args.from_rows.read_text())}
        args.repeats = max(len(v) for k, v in res.items() if k[2] == "warm")  # the rows say how many warm fits ran
        write_fragment("speed", fragment(res, args))
        return
    with tempfile.TemporaryDirectory(prefix="causalmmm-speed-") as d:
        res = measure_all(args, Path(d))
    if args.rows:
        args.rows.write_text(json.dumps([[list(k), v] for k, v in res.items()]))
    write_fragment("speed", fragment(res, args))


if __name__ == "__main__":
    main()
