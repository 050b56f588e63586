"""Head-to-head against the current anchor: pymc-marketing 1.3 (in its own venv, as a subprocess)
and causalmmm calibrated, same worlds, same sampler settings, in the same run.

    python -m bench.anchors.envs install --only pymc-marketing   # once
    python -m bench.anchors.envs install --only meridian         # once, for --meridian (~3 GB)
    python bench/bench_anchors.py [--seeds 3] [--draws 500] [--tune 500] [--chains 2] [--meridian] [--name anchors]

World: the ``search`` preset (confounder ``demand`` observed). pymc-marketing 1.3 runs in three
configurations (spend only; + demand and promo as controls; + sales-level lift tests from the
world's experiments, as bench/flat_mmm.py's ``lift_rows_from_experiments`` derives them);
causalmmm is ``causalmmm.fitted.fit(graph, data, experiments=<experiments.yaml>)``. Fits run one
at a time. Truth: ``world.true_effects()`` (in-sample total ROAS: do(channel = 0) in every period).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from bench.anchors.run import AnchorJob, run_anchor  # noqa: E402
from bench.anchors.wins import where_each_tool_wins  # noqa: E402
from bench.common import command_line, error_cells, header, table, write_fragment  # noqa: E402
from bench.flat_mmm import lift_rows_from_experiments  # noqa: E402
from causalmmm.experiments.analyze import analyze_experiments, merge_results  # noqa: E402
from causalmmm.experiments.schema import load_experiments  # noqa: E402
from causalmmm.fitted import fit  # noqa: E402
from causalmmm.fmt import num  # noqa: E402
from causalmmm.query.do import Summary  # noqa: E402
from causalmmm.simulate import simulate_world, write  # noqa: E402

PRESET = "search"
CAUSAL = "causalmmm calibrated"
PMM = "pymc-marketing 1.3"
MERIDIAN = "Meridian 2.1: + demand, promo"
PATHMC = "pathmc 0.4: same DAG"


def _row(seed: int, method: str, channel: str, truth: float, s: Summary, seconds: float, ess_per_s: float, notes: str = "") -> dict:
    return {
        "seed": seed,
        "method": method,
        "channel": channel,
        "truth": truth,
        "mean": s.mean,
        "err": (s.mean - truth) / abs(truth),
        "covered": s.hdi_low <= truth <= s.hdi_high,
        "width": s.hdi_high - s.hdi_low,
        "seconds": seconds,
        "ess_per_s": ess_per_s,
        "notes": notes,
        "load": os.getloadavg()[0],
    }


def analysed_experiments(d: Path, seed: int) -> list:
    """The world's experiments with the raw ones analysed (CausalPy, switchback): once per seed, shared by every method."""
    exps = load_experiments(d / "experiments.yaml")
    return merge_results(exps, analyze_experiments(exps, d, seed=seed))


def causal_rows(seed: int, world, exps: list, args) -> list[dict]:
    truth = world.true_effects()
    # the experiments are analysed before the clock starts, as pymc-marketing's lift rows are: fit time is fitting only
    t0 = time.perf_counter()
    # causalmmm's default sampler, as a user gets it
    model = fit(world.graph, world.data, experiments=exps, draws=args.draws, tune=args.tune, chains=args.chains, seed=seed)
    secs = time.perf_counter() - t0
    diags = model.summary["diagnostics"]
    ess = min((x["ess_bulk_min"] for x in diags if x["ess_bulk_min"] is not None), default=float("nan"))
    rhat = max((x["r_hat_max"] for x in diags if x["r_hat_max"] is not None), default=float("nan"))
    notes = f"max R-hat {rhat:.2f}; min ESS {ess:.0f}"
    rep = model.effects(sensitivity=False)
    return [_row(seed, CAUSAL, ch.treatment, truth[ch.treatment]["roas"], ch.total.roas, secs, ess / secs, notes) for ch in rep.channels]


def anchor_configs(world, exps: list) -> list[tuple[str, list[str], list[dict] | None, str]]:
    sales = [e.to_dict() for e in exps if e.use == "calibrate"]
    lift, skipped = lift_rows_from_experiments(sales, world.data, channels=list(world.graph.spend_nodes))
    rows = lift[["channel", "x", "delta_x", "delta_y", "sigma"]].to_dict("records")
    note = f"{len(rows)} lift row(s): {', '.join(lift['name'])}" + (f"; skipped {', '.join(s['name'] for s in skipped)}" if skipped else "")
    controls = [c for c in ("demand", "promo") if c in world.data.columns]
    return [("spend only", [], None, ""), ("+ demand, promo", controls, None, ""), ("+ demand, promo, lift tests", controls, rows, note)]


def anchor_rows(seed: int, world, d: Path, exps: list, args) -> list[dict]:
    truth = world.true_effects()
    channels = list(world.graph.spend_nodes)
    out = []
    for label, controls, lift, note in anchor_configs(world, exps):
        job = AnchorJob(
            csv=str(d / "data.csv"),
            channels=channels,
            controls=controls,
            lift_tests=lift,
            draws=args.draws,
            tune=args.tune,
            chains=args.chains,
            seed=seed,
            nutpie=True,
        )
        res = run_anchor("pymc-marketing", job)
        raw = res.raw
        notes = (
            f"max R-hat {raw['r_hat_max']:.2f}; min ESS {raw['ess_bulk_min']:.0f}; {raw['divergences']} div; "
            f"sampling {raw['sampling_seconds'] or float('nan'):.1f} s; process {res.process_seconds:.0f} s" + (f"; {note}" if note else "")
        )
        for c in channels:
            out.append(
                _row(seed, f"{PMM}: {label}", c, truth[c]["roas"], Summary.of(res.roas_draws[c]), res.fit_seconds, raw["ess_bulk_min"] / res.fit_seconds, notes)
            )
        out[-1]["versions"] = res.versions
        print(f"  {label}: fit {res.fit_seconds:.0f} s", file=sys.stderr)
    return out


def meridian_rows(seed: int, world, d: Path, args) -> list[dict]:
    """Meridian 2.1 (national, one geo), spend as media, demand and promo as controls; its own NUTS (no nutpie)."""
    truth = world.true_effects()
    channels = list(world.graph.spend_nodes)
    controls = [c for c in ("demand", "promo") if c in world.data.columns]
    job = AnchorJob(
        csv=str(d / "data.csv"), channels=channels, controls=controls, draws=args.draws, tune=args.tune, chains=args.chains, seed=seed, nutpie=False
    )
    res = run_anchor("meridian", job)
    raw = res.raw
    notes = (
        f"max R-hat {raw['r_hat_max']:.2f}; min ESS {raw['ess_bulk_min']:.0f}; {raw['divergences']} div; "
        f"sampling {raw['sampling_seconds']:.1f} s; process {res.process_seconds:.0f} s; Analyzer.roi(); "
        f"{', '.join(f'{k} {v}' for k, v in res.versions.items())}"
    )
    print(f"  meridian: fit {res.fit_seconds:.0f} s", file=sys.stderr)
    return [
        _row(seed, MERIDIAN, c, truth[c]["roas"], Summary.of(res.roas_draws[c]), res.fit_seconds, raw["ess_bulk_min"] / res.fit_seconds, notes)
        for c in channels
    ]


def dag_parents(graph) -> dict[str, list[dict]]:
    """causalmmm's graph as the pathmc runner's job: node -> its parents (media edge? lag?), in topological order."""
    edges = list(graph.edge_infos())
    return {
        n: [{"source": e.source, "media": e.adstock != "none" or e.saturation != "none", "lag": int(e.lag or 0)} for e in edges if e.target == n]
        for n in graph.topological_order()
        if graph.is_observed(n)
    }


def pathmc_rows(seed: int, world, d: Path, args) -> list[dict]:
    """pathmc 0.4 on causalmmm's DAG (its adstock/logistic saturation, its do()); nutpie, same draws."""
    truth = world.true_effects()
    channels = list(world.graph.spend_nodes)
    job = AnchorJob(
        csv=str(d / "data.csv"),
        channels=channels,
        draws=args.draws,
        tune=args.tune,
        chains=args.chains,
        seed=seed,
        nutpie=True,
        model={"parents": dag_parents(world.graph)},
    )
    res = run_anchor("pathmc", job)
    raw = res.raw
    lagged = raw.get("lag_edges_made_contemporaneous") or []
    notes = (
        f"max R-hat {raw['r_hat_max']:.2f}; min ESS {raw['ess_bulk_min']:.0f}; {raw['divergences']} div; "
        f"sampling {raw['sampling_seconds'] or float('nan'):.1f} s; do() {raw['postprocess_seconds']:.0f} s; process {res.process_seconds:.0f} s"
        + (f"; cannot express lag: {', '.join(lagged)} fitted contemporaneous (lag() needs panel=, whose scan model nutpie rejects)" if lagged else "")
    )
    print(f"  pathmc: fit {res.fit_seconds:.0f} s", file=sys.stderr)
    return [
        _row(seed, PATHMC, c, truth[c]["roas"], Summary.of(res.roas_draws[c]), res.fit_seconds, raw["ess_bulk_min"] / res.fit_seconds, notes) for c in channels
    ]


def confounded_channels(graph) -> list[str]:
    """Spend channels with a parent in the DAG (their budget responds to something that also drives sales)."""
    return [c for c in graph.spend_nodes if graph.parents(c)]


def summarise(rows: list[dict]) -> list[list]:
    keys = list(dict.fromkeys((r["method"], r["channel"]) for r in rows))
    out = []
    for method, channel in keys:
        sel = [r for r in rows if (r["method"], r["channel"]) == (method, channel)]
        out.append([method, channel, *error_cells(sel)])
    return out


def speed(rows: list[dict]) -> list[list]:
    """Median fit seconds per method (one value per seed) and causalmmm / pymc-marketing."""
    per_fit = {}
    for r in rows:
        per_fit.setdefault(r["method"], {})[r["seed"]] = (r["seconds"], r["ess_per_s"])
    causal = float(np.median([s for s, _ in per_fit[CAUSAL].values()]))
    out = []
    for method, fits in per_fit.items():
        secs = float(np.median([s for s, _ in fits.values()]))
        out.append([method, len(fits), secs, float(np.median([e for _, e in fits.values()])), "1" if method == CAUSAL else f"{causal / secs:.2f}"])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1")
    ap.add_argument("--draws", type=int, default=500)
    ap.add_argument("--tune", type=int, default=500)
    ap.add_argument("--chains", type=int, default=2)
    ap.add_argument("--name", default="anchors", help="fragment name under bench/results/")
    ap.add_argument("--meridian", action="store_true", help="also fit Meridian 2.1 (+ demand, promo; its venv must be installed)")
    ap.add_argument("--no-pathmc", dest="pathmc", action="store_false", help="skip pathmc 0.4 (the same DAG)")
    args = ap.parse_args()
    rows: list[dict] = []
    versions: dict[str, str] = {}
    command = command_line()
    for seed in range(args.seeds):
        world = simulate_world(PRESET, seed)
        with tempfile.TemporaryDirectory() as tmp:
            d = Path(tmp)
            write(world, d)
            print(f"seed {seed}: causalmmm", file=sys.stderr)
            exps = analysed_experiments(d, seed)
            rows += causal_rows(seed, world, exps, args)
            print(f"seed {seed}: pymc-marketing 1.3", file=sys.stderr)
            rows += anchor_rows(seed, world, d, exps, args)
            if args.pathmc:
                print(f"seed {seed}: pathmc 0.4", file=sys.stderr)
                rows += pathmc_rows(seed, world, d, args)
            if args.meridian:
                print(f"seed {seed}: Meridian 2.1", file=sys.stderr)
                rows += meridian_rows(seed, world, d, args)
        versions = next((r["versions"] for r in rows if "versions" in r), versions)
        write_anchor_fragment(rows, args, versions, command)


def write_anchor_fragment(rows: list[dict], args, versions: dict[str, str], command: str) -> None:
    """Assemble and save the fragment from the rows measured so far (called after every seed)."""
    seeds_done = ", ".join(str(s) for s in sorted({r["seed"] for r in rows}))
    others = [*(["pathmc 0.4"] if args.pathmc else []), *(["Meridian 2.1"] if args.meridian else [])]
    title = "Current anchor head-to-head: causalmmm calibrated vs pymc-marketing 1.3" + "".join(f", {o}" for o in others)
    text = header(title + ", same worlds, same run", command)
    text += (
        f"World `{PRESET}` (confounder `demand` observed), seeds {seeds_done}; every fit: {args.draws} draws, "
        f"{args.tune} tune, {args.chains} chains (causalmmm: its default `--sampler auto`, PyMC's NUTS; pymc-marketing: "
        "nutpie, its faster sampler on this world, bench/results/speed.md), one fit at a time by this script "
        f"(the machine is shared: 1-minute load average on its 2 cores after each fit {num(min(r['load'] for r in rows), 2)}-"
        f"{num(max(r['load'] for r in rows), 2)}). pymc-marketing runs in its own venv "
        f"({', '.join(f'{k} {v}' for k, v in versions.items())}) as a subprocess (bench/anchors/): `MMM` with "
        "GeometricAdstock(l_max=8), LogisticSaturation, yearly_seasonality=2; controls divided by their max. Its total ROAS "
        "per draw is `mmm.incrementality.compute_incremental_contribution(frequency='all_time', counterfactual_spend_factor=0)` "
        "/ total spend: the outcome minus the outcome with the channel's spend 0 in every period, summed over the data, "
        "as the truth (`world.true_effects()`) is. Lift rows: sales-level calibrate experiments, per period "
        "(bench/flat_mmm.py `lift_rows_from_experiments`); causalmmm gets the whole experiments.yaml. "
        "Fit s: causalmmm = the `causalmmm.fitted.fit` call on the analysed experiments (every block compiled and sampled, "
        "conflict check); pymc-marketing = build + lift terms + `fit` (compile, sample, its post-fit step), inside the "
        "subprocess (imports and the ROAS computation excluded; see 'process' in the notes).\n\n"
        + (
            f"{MERIDIAN}: national model (one geo), each spend column as media and spend, Meridian's default priors "
            "(ROI priors, Hill saturation, max_lag=8, time knots); `Meridian.sample_posterior` (TFP windowed adaptive "
            "NUTS: n_adapt + n_burnin = tune) instead of nutpie; total ROAS = `Analyzer(mmm).roi()`, the same "
            "estimand; no lift tests (Meridian calibrates through ROI priors).\n\n"
            if args.meridian
            else ""
        )
        + (
            f"{PATHMC}: causalmmm's graph written in pathmc's DSL, one equation per observed non-root node "
            "(bench/anchors/runner_pathmc.py): every spend edge `logistic_saturation(adstock(x))` (pathmc's geometric "
            "adstock, 12 periods, its default priors), other edges linear, columns divided by their max; no "
            "experiments (pathmc has no lift-test term); nutpie. Total ROAS = (mean sales under `do(spend = actual)` "
            "- under `do(channel = 0)`) x periods / total spend (`PathModel.do(kind='mean')`). Not expressible: the "
            "lag-1 `social_clicks -> direct_clicks` edge (pathmc's `lag()` needs `panel=`, and the panel model is a "
            "`pytensor.scan` that nutpie rejects as non-differentiable), fitted contemporaneous.\n\n"
            if args.pathmc
            else ""
        )
        + table(
            ["method", "channel", "seeds", "median abs error", "max abs error", "94% HDI covers truth", "median HDI width", "median fit s"], summarise(rows)
        )
        + "\n**Speed** (same draws/tune/chains; each tool on the sampler named above; ratio = causalmmm fit s / this method's fit s; "
        "ESS/s = smallest bulk ESS over the free parameters / fit s):\n\n"
        + table(["method", "fits", "median fit s", "median min-ESS / fit s", "causalmmm / this"], speed(rows))
        + "\n"
        + where_each_tool_wins(rows, CAUSAL, confounded=confounded_channels(simulate_world(PRESET, 0).graph))
        + "\n<details><summary>per seed</summary>\n\n"
        + table(
            ["seed", "method", "channel", "truth", "estimate", "error", "covered", "HDI width", "fit s", "notes"],
            [
                [r["seed"], r["method"], r["channel"], r["truth"], r["mean"], f"{100 * r['err']:+.1f}%", r["covered"], r["width"], r["seconds"], r["notes"]]
                for r in rows
            ],
        )
        + "\n</details>\n"
    )
    write_fragment(args.name, text)


if __name__ == "__main__":
    main()
