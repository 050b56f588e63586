"""Coverage study: is the 94% HDI of total ROAS honest, and are holdout z-scores calibrated?

Over many seeds of the `search` world (demand observed), fit causalmmm calibrated by the world's
`use: calibrate` experiments, then record whether each channel's 94% HDI of total ROAS covers the
true ROAS, and the z-score of every holdout experiment. If the model is calibrated, coverage is
about 94% and holdout z is roughly standard normal (mean 0, sd 1, |z| < 2 in ~95% of cases).

    python -m bench.bench_coverage --seeds 10 [--draws 300] [--quick] [--cluster local|none|tcp://HOST:PORT] [--workers N]

Seeds are independent fits: they run on an embedded dask cluster (cores / chains workers) or an
existing scheduler (bench.common.run_seeds); the fragment is written only after every seed finished.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from bench.bench_accuracy import _row  # noqa: E402
from bench.common import add_cluster_args, command_line, header, run_seeds, table, write_fragment  # noqa: E402
from bench.oracle import oracle_roas  # noqa: E402
from causalmmm.data import load_data  # noqa: E402
from causalmmm.experiments.analyze import analyze_experiments, merge_results  # noqa: E402
from causalmmm.experiments.schema import load_experiments  # noqa: E402
from causalmmm.model.fit import SamplerConfig, fit_model  # noqa: E402
from causalmmm.query.do import PosteriorSCM  # noqa: E402
from causalmmm.query.effects import effects  # noqa: E402
from causalmmm.simulate import simulate_world, write  # noqa: E402
from causalmmm.spec import build_spec  # noqa: E402
from causalmmm.validate import validate_experiments  # noqa: E402


def one_seed(preset: str, seed: int, cfg: SamplerConfig) -> tuple[list[dict], list[dict]]:
    """Fit one world calibrated; return (ROAS coverage rows, holdout z rows)."""
    world = simulate_world(preset, seed)
    with tempfile.TemporaryDirectory() as d:
        write(world, d)
        exps = load_experiments(Path(d) / "experiments.yaml")
        exps = merge_results(exps, analyze_experiments(exps, d, seed=seed))
        data = load_data(Path(d) / "data.csv").validate_against(world.graph)
    spec = build_spec(world.graph, data)
    truth = world.true_effects()
    t0 = time.perf_counter()
    fit = fit_model(spec, data, replace(cfg, seed=seed), experiments=[e for e in exps if e.use == "calibrate"])
    secs = time.perf_counter() - t0
    scm = PosteriorSCM(spec, data, fit.posterior_draws(), tuple(world.graph.spend_nodes))
    rows = [_row(preset, seed, "causalmmm calibrated", ch.treatment, truth[ch.treatment]["roas"], ch.total.roas, secs) for ch in effects(scm).channels]
    oracles = {"oracle": oracle_roas(world), "oracle_known": oracle_roas(world, known=[n for n in world.mechanisms if n != world.graph.outcome])}
    for r in rows:
        for key, o in oracles.items():
            r[key] = (o[r["channel"]]["roas"] - r["truth"]) / abs(r["truth"])
            r[key + "_sd"] = o[r["channel"]]["sd"] / abs(r["truth"])
    report = validate_experiments(scm, [e for e in exps if e.use == "holdout" and e.has_result])
    zs = [{"seed": seed, "experiment": c.name, "z": c.z, "measured": c.measured, "predicted": c.predicted.mean} for c in report.checks]
    return rows, zs


def seed_task(args: tuple[str, int, SamplerConfig]) -> tuple[list[dict], list[dict]]:
    """:func:`one_seed` on one packed tuple (the unit bench.common.run_seeds dispatches)."""
    return one_seed(*args)


def render(rows: list[dict], zs: list[dict], preset: str, cfg: SamplerConfig) -> str:
    """The markdown fragment: coverage per channel, z calibration, per-seed details."""
    channels = sorted({r["channel"] for r in rows})
    cov = [
        [
            ch,
            len(sel := [r for r in rows if r["channel"] == ch]),
            f"{sum(r['covered'] for r in sel)}/{len(sel)}",
            f"{100 * np.mean([r['covered'] for r in sel]):.0f}%",
            f"{100 * np.median([abs(r['err']) for r in sel]):.1f}%",
            float(np.median([r["width"] for r in sel])),
        ]
        for ch in channels
    ]
    cov.append(
        [
            "all channels",
            len(rows),
            f"{sum(r['covered'] for r in rows)}/{len(rows)}",
            f"{100 * np.mean([r['covered'] for r in rows]):.0f}%" if rows else "-",
            "",
            "",
        ]
    )

    def within(sel: list[dict], key: str) -> str:
        return f"{sum(abs(r[key]) <= 0.10 for r in sel)}/{len(sel)}"

    ref = [
        [
            ch,
            within(sel := [r for r in rows if r["channel"] == ch], "err"),
            f"{100 * np.median([abs(r['err']) for r in sel]):.1f}%",
            within(sel, "oracle"),
            f"{100 * np.median([abs(r['oracle']) for r in sel]):.1f}%",
            f"{100 * np.median([r['oracle_sd'] for r in sel]):.1f}%",
            within(sel, "oracle_known"),
            f"{100 * np.median([abs(r['oracle_known']) for r in sel]):.1f}%",
            f"{100 * np.median([r['oracle_known_sd'] for r in sel]):.1f}%",
        ]
        for ch in channels
    ]
    z = np.array([r["z"] for r in zs], dtype=float)
    zrow = (
        [[len(z), f"{100 * np.mean(np.abs(z) < 2):.0f}%", float(z.mean()), float(z.std(ddof=1)) if len(z) > 1 else float("nan"), float(np.abs(z).max())]]
        if len(z)
        else [[0, "-", "-", "-", "-"]]
    )
    text = header("Coverage: 94% HDI of total ROAS and holdout z-scores over simulator seeds", command_line())
    text += (
        f"World `{preset}` (demand observed), fitted calibrated by its `use: calibrate` experiments "
        f"(draws={cfg.draws}, tune={cfg.tune}, chains={cfg.chains}, seed = world seed). Goal: coverage >= 90%; "
        "holdout z roughly standard normal (|z| < 2 in about 95% of cases, mean near 0, sd near 1).\n\n"
        + table(["channel", "seeds", "HDI covers truth", "coverage", "median |error|", "median HDI width"], cov)
        + "\n"
        + table(["holdout experiments", "share abs(z) < 2", "mean z", "sd z", "max abs(z)"], zrow)
        + "\n**How accurate can one seed be?** The same seeds, against two oracle references (bench/oracle.py) that "
        "know the graph and every adstock/saturation shape and fit only linear coefficients by least squares. "
        "*Oracle, data only* estimates every equation from the data, like causalmmm uncalibrated but with the shapes "
        "given. *Oracle, mediators known* is handed every mediator's true equation, as if perfect experiments had "
        "measured all spend→click and click→click effects, and estimates only the outcome's equation. Its sd is the "
        "error left by the outcome's noise alone, which only outcome-level experiments can reduce.\n\n"
        + table(
            [
                "channel",
                "causalmmm within 10%",
                "causalmmm median |error|",
                "oracle data-only within 10%",
                "oracle data-only median |error|",
                "oracle data-only sd",
                "oracle mediators-known within 10%",
                "oracle mediators-known median |error|",
                "oracle mediators-known sd",
            ],
            ref,
        )
        + "\n<details><summary>per seed</summary>\n\n"
        + table(
            ["seed", "channel", "truth", "estimate", "error", "covered", "HDI width", "oracle data-only error", "oracle mediators-known error", "fit s"],
            [
                [
                    r["seed"],
                    r["channel"],
                    r["truth"],
                    r["mean"],
                    f"{100 * r['err']:+.1f}%",
                    r["covered"],
                    r["width"],
                    f"{100 * r['oracle']:+.1f}%",
                    f"{100 * r['oracle_known']:+.1f}%",
                    r["seconds"],
                ]
                for r in rows
            ],
        )
        + "\n"
        + table(
            ["seed", "holdout experiment", "measured", "predicted", "z"],
            [[r["seed"], r["experiment"], r["measured"], r["predicted"], f"{r['z']:+.2f}"] for r in zs],
        )
        + "\n</details>\n"
    )
    return text


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="search")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--draws", type=int, default=300)
    ap.add_argument("--quick", action="store_true", help="2 seeds, 150 draws: checks the script, not the coverage")
    ap.add_argument("--name", default="coverage", help="fragment name under bench/results/")
    add_cluster_args(ap)
    args = ap.parse_args()
    seeds, draws = (2, 150) if args.quick else (args.seeds, args.draws)
    cfg = SamplerConfig(draws=draws, tune=draws, chains=2, seed=0)
    workers = args.workers or max(1, (os.cpu_count() or 1) // cfg.chains)  # each fit samples its chains in parallel
    results = run_seeds(
        seed_task,
        [(args.preset, s, cfg) for s in range(seeds)],
        labels=[f"{args.preset} seed {s}" for s in range(seeds)],
        cluster=args.cluster,
        workers=workers,
    )
    rows: list[dict] = []
    zs: list[dict] = []
    for seed, (r, z) in enumerate(results):
        rows += r
        zs += z
        zs_text = ", ".join(f"{x['z']:+.2f}" for x in z)
        print(f"{args.preset} seed {seed}: {sum(x['covered'] for x in r)}/{len(r)} covered, holdout z {zs_text}", file=sys.stderr)
    write_fragment(args.name, render(rows, zs, args.preset, cfg))


if __name__ == "__main__":
    main()
