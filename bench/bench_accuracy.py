"""Accuracy against ground truth: total ROAS per channel, causalmmm (uncalibrated / calibrated)
and, when the bench extra is installed, pymc-marketing's flat MMM in the configurations users run.

    python bench/bench_accuracy.py [--presets search search_latent] [--seeds 3] [--draws 500] [--no-flat]
                                   [--latent auto|baseline|factor] [--name accuracy]

``--latent`` is passed to ``build_spec`` (how a latent confounder is modelled); it changes
nothing in worlds whose confounder is observed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


from bench.common import command_line, error_cells, header, table, write_fragment  # noqa: E402
from bench.oracle import oracle_roas  # noqa: E402
from causalmmm.data import load_data  # noqa: E402
from causalmmm.experiments.analyze import analyze_experiments, merge_results  # noqa: E402
from causalmmm.experiments.schema import load_experiments  # noqa: E402
from causalmmm.model.fit import SamplerConfig, fit_model  # noqa: E402
from causalmmm.query.do import PosteriorSCM, Summary  # noqa: E402
from causalmmm.query.effects import effects  # noqa: E402
from causalmmm.simulate import simulate_world, write  # noqa: E402
from causalmmm.spec import build_spec  # noqa: E402
from causalmmm.validate import validate_experiments  # noqa: E402


def _row(preset, seed, method, channel, truth, s: Summary, seconds, extra=""):
    err = (s.mean - truth) / abs(truth)
    cover = s.hdi_low <= truth <= s.hdi_high
    return {
        "preset": preset,
        "seed": seed,
        "method": method,
        "channel": channel,
        "truth": truth,
        "mean": s.mean,
        "err": err,
        "covered": cover,
        "width": s.hdi_high - s.hdi_low,
        "seconds": seconds,
        "extra": extra,
    }


ORACLE = "reference: oracle OLS (true shapes)"
Z94 = 1.881  # normal quantile for a central 94% interval


def oracle_rows(preset, seed, world):
    """The oracle reference (bench/oracle.py): OLS with every shape known, no experiments; 94% normal interval."""
    truth = world.true_effects()
    return [
        _row(preset, seed, ORACLE, ch, truth[ch]["roas"], Summary(o["roas"], o["roas"] - Z94 * o["sd"], o["roas"] + Z94 * o["sd"]), 0.0)
        for ch, o in oracle_roas(world).items()
    ]


def causal_rows(preset, seed, world, d, exps, cfg, latent="auto"):
    graph = world.graph
    data = load_data(Path(d) / "data.csv").validate_against(graph)
    spec = build_spec(graph, data, latent=latent)
    truth = world.true_effects()
    rows = []
    for label, use_exps in (("causalmmm uncalibrated", []), ("causalmmm calibrated", exps)):
        t0 = time.perf_counter()
        fit = fit_model(spec, data, cfg, experiments=use_exps)
        secs = time.perf_counter() - t0
        scm = PosteriorSCM(spec, data, fit.posterior_draws(), tuple(graph.spend_nodes))
        rep = effects(scm)
        val = validate_experiments(scm, [e for e in exps if e.use == "holdout"])
        hz = ";".join(f"holdout z {c.z:+.2f}" for c in val.checks)
        rhat = max((x.r_hat_max for x in fit.diagnostics if x.r_hat_max is not None), default=float("nan"))
        n_div = max((x.divergences for x in fit.diagnostics), default=0)
        hz += f"; max R-hat {rhat:.2f}; {n_div} div"
        for ch in rep.channels:
            rows.append(_row(preset, seed, label, ch.treatment, truth[ch.treatment]["roas"], ch.total.roas, secs, hz))
            if ch.cannibalisation:
                share = Summary(**ch.cannibalisation["share"])
                rows.append(_row(preset, seed, label, "cannibalisation share", truth["ppc_spend"]["cannibalisation_share"], share, secs))
    return rows


def flat_rows(preset, seed, world, d, exps, cfg):
    from bench.flat_mmm import fit_flat_mmm, lift_rows_from_experiments

    df = world.data.copy()
    channels = list(world.graph.spend_nodes)
    truth = world.true_effects()
    confounders = [c for c in ("demand",) if c in df.columns]
    clicks = [c for c in df.columns if c.endswith("_clicks")]
    configs = [("spend_only", [], None), ("with_confounder", confounders + ["promo"], None), ("kitchen_sink", confounders + ["promo"] + clicks, None)]
    sales_exps = [e.to_dict() for e in exps if e.use == "calibrate"]
    lift, _skipped = lift_rows_from_experiments(sales_exps, df)
    configs.append(("lift_calibrated", confounders + ["promo"], lift))
    rows = []
    for name, controls, lift_df in configs:
        if name == "with_confounder" and not confounders:
            continue
        res = fit_flat_mmm(
            df, channels=channels, controls=controls, lift_tests=lift_df, draws=cfg.draws, tune=cfg.tune, chains=cfg.chains, seed=seed, config_name=name
        )
        for c in channels:
            rows.append(_row(preset, seed, f"pymc-marketing {name}", c, truth[c]["roas"], Summary.of(res.roas_draws[c]), res.fit_seconds))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--presets", nargs="+", default=["search", "search_latent"])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--draws", type=int, default=500)
    ap.add_argument("--no-flat", action="store_true")
    ap.add_argument("--name", default="accuracy", help="fragment name under bench/results/")
    ap.add_argument("--latent", default="auto", choices=("auto", "baseline", "factor"), help="build_spec latent handling")
    args = ap.parse_args()
    cfg = SamplerConfig(draws=args.draws, tune=args.draws, chains=2, seed=0)
    rows = []
    for preset in args.presets:
        for seed in range(args.seeds):
            world = simulate_world(preset, seed)
            with tempfile.TemporaryDirectory() as d:
                write(world, d)
                exps = load_experiments(Path(d) / "experiments.yaml")
                exps = merge_results(exps, analyze_experiments(exps, d, seed=seed))
                rows += causal_rows(preset, seed, world, d, exps, cfg, args.latent)
                rows += oracle_rows(preset, seed, world)
                if not args.no_flat:
                    try:
                        rows += flat_rows(preset, seed, world, d, exps, cfg)
                    except ImportError as exc:
                        print(f"skipping pymc-marketing: {exc}", file=sys.stderr)
                        args.no_flat = True
            print(f"{preset} seed {seed} done", file=sys.stderr)
    # summary per preset x method x channel
    keyset = sorted({(r["preset"], r["method"], r["channel"]) for r in rows}, key=lambda k: (k[0], k[1], k[2]))
    summary = []
    for preset, method, channel in keyset:
        sel = [r for r in rows if (r["preset"], r["method"], r["channel"]) == (preset, method, channel)]
        summary.append([preset, method, channel, *error_cells(sel)])
    title = (
        "Accuracy: total ROAS per channel against ground truth"
        if args.no_flat
        else "Accuracy head-to-head: causalmmm and pymc-marketing's flat MMM, same worlds, same run"
    )
    if args.latent != "auto":
        title += f" (latent confounders: {args.latent})"
    text = header(title, command_line())
    text += (
        f"Latent confounders modelled as: `{args.latent}` (`build_spec(..., latent=...)`).\n\n"
        "Goals: within 5% with the confounder observed (`search`), within 15% with it latent plus experiments "
        "(`search_latent`, calibrated), 94% HDI coverage >= 90%. "
        f"*{ORACLE}* is not a tool: it knows the graph, every adstock/saturation shape and every latent series, "
        "and fits only the linear coefficients by least squares (bench/oracle.py). Its error shows how much one "
        "seed's data can say without experiments; its interval is mean ± 1.88 delta-method sd.\n\n"
        + table(["world", "method", "quantity", "seeds", "median |error|", "max |error|", "HDI covers truth", "median HDI width", "median fit s"], summary)
        + "\n<details><summary>per seed</summary>\n\n"
        + table(
            ["world", "seed", "method", "quantity", "truth", "estimate", "error", "covered", "HDI width", "notes"],
            [
                [r["preset"], r["seed"], r["method"], r["channel"], r["truth"], r["mean"], f"{100 * r['err']:+.1f}%", r["covered"], r["width"], r["extra"]]
                for r in rows
            ],
        )
        + "\n</details>\n"
    )
    write_fragment(args.name, text)


if __name__ == "__main__":
    main()
