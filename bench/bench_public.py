"""pymc-marketing's public data sets as test worlds: causalmmm's total ROAS against their documented truth.

    python bench/bench_public.py [--draws 500] [--fast-only]

Worlds (bench/public_data.py, data in tests/data/): mmm_example (trend, seasonality, two events),
mmm_roas with the confounder z latent (as in the pymc-marketing notebook and the issue) and with z
observed. The mmm_roas worlds are fitted without and with two go-dark experiments (se 10% of the
effect). Each fit runs with the fast Laplace approximation and with NUTS (draws/tune = --draws,
2 chains). Calibrated fits also report the experiment-conflict check (PSIS leave-one-out).
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import command_line, header, table, write_fragment  # noqa: E402
from bench.public_data import PublicWorld, worlds  # noqa: E402
from causalmmm.data import load_data  # noqa: E402
from causalmmm.fitted import fit_warnings  # noqa: E402
from causalmmm.fmt import num, pct, signed  # noqa: E402
from causalmmm.model.fit import SamplerConfig, fit_model  # noqa: E402
from causalmmm.query.do import PosteriorSCM  # noqa: E402
from causalmmm.query.effects import effects  # noqa: E402
from causalmmm.spec import build_spec  # noqa: E402
from causalmmm.validation.conflict import experiment_conflicts  # noqa: E402

NEEDS = "needs node trend/seasonality"


def _warning_codes(warnings) -> str:
    codes: dict[str, list[str]] = {}
    for w in warnings:
        codes.setdefault(f"{w.code} [{w.severity}]", []).append(w.where)
    return "; ".join(f"{code} ({', '.join(wheres)})" for code, wheres in codes.items()) or "-"


def _graph_supported(world: PublicWorld) -> str | None:
    """None when this checkout fits the graph's node trend/seasonality; else why not."""
    try:
        data = load_data(world.frame).validate_against(world.graph)
        spec = build_spec(world.graph, data)
    except Exception as exc:  # noqa: BLE001 - any failure here means the syntax is not there yet
        return f"{NEEDS} ({type(exc).__name__}: {exc})"
    declared = world.graph.declared_node_attrs(world.graph.outcome)
    node = spec.node(world.graph.outcome)
    if declared.get("trend", "none") != node.trend or declared.get("seasonality", 0) != node.seasonality:
        return f"{NEEDS} (the spec ignored the outcome's declared trend/seasonality)"
    return None


def fit_world(world: PublicWorld, calibrated: bool, cfg: SamplerConfig) -> tuple[list[list], list[list], str | None]:
    data = load_data(world.frame).validate_against(world.graph)
    spec = build_spec(world.graph, data)
    exps = world.experiments if calibrated else []
    t0 = time.perf_counter()
    fit = fit_model(spec, data, cfg, experiments=exps)
    seconds = time.perf_counter() - t0
    draws = fit.posterior_draws()
    conflicts = experiment_conflicts(draws, exps)
    warnings = fit_warnings(spec, fit, data, exps, tuple(world.graph.spend_nodes), conflicts)
    rep = effects(PosteriorSCM(spec, data, draws, tuple(world.graph.spend_nodes)))
    method = ("fast (Laplace)" if cfg.fast else f"NUTS {cfg.draws}/{cfg.tune}") + (" + 2 go-dark" if calibrated else "")
    rows = []
    for ch in rep.channels:
        truth, s = world.truth[ch.treatment], ch.total.roas
        covered = s.hdi_low <= truth <= s.hdi_high
        rows.append(
            [
                world.name,
                method,
                ch.treatment,
                num(truth),
                num(s.mean),
                signed(100 * (s.mean - truth) / abs(truth), 2) + "%",
                f"[{num(s.hdi_low)}, {num(s.hdi_high)}]",
                "yes" if covered else "no",
                f"{seconds:.0f}",
                _warning_codes(warnings),
            ]
        )
    crow = [
        [
            world.name,
            method,
            r.name,
            num(world.experiment_truth[r.name]),
            f"{num(r.measured)} ± {num(r.se)}",
            f"{num(r.loo_mean)} ± {num(r.loo_sd)}",
            signed(r.z_loo, 2),
            num(r.k_hat, 2),
            signed(r.z_in_sample, 2),
            "CONFLICT" if r.conflict else "ok",
        ]
        for r in conflicts.rows
    ]
    return rows, crow, None


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--draws", type=int, default=500)
    ap.add_argument("--fast-only", action="store_true", help="skip the NUTS fits")
    args = ap.parse_args()
    configs = [SamplerConfig(fast=True, seed=0)]
    if not args.fast_only:
        configs.append(SamplerConfig(draws=args.draws, tune=args.draws, chains=2, seed=0))
    rows, conflict_rows, skipped = [], [], []
    for world in worlds():
        why = _graph_supported(world)
        if why is not None:
            skipped.append(f"{world.name}: {why}")
            print(f"{world.name}: {why}", file=sys.stderr)
            continue
        for cfg in configs:
            for calibrated in (False, True) if world.experiments else (False,):
                try:
                    r, c, _ = fit_world(world, calibrated, cfg)
                except Exception as exc:  # noqa: BLE001 - one failing fit must not hide the others
                    traceback.print_exc()
                    skipped.append(f"{world.name} ({'fast' if cfg.fast else 'NUTS'}{', calibrated' if calibrated else ''}): {type(exc).__name__}: {exc}")
                    continue
                rows += r
                conflict_rows += c
                print(f"{world.name} {'fast' if cfg.fast else 'NUTS'} calibrated={calibrated} done", file=sys.stderr)
    text = header("Public data: pymc-marketing's mmm_example and mmm_roas_data (documented truth)", command_line())
    text += (
        "Truth: total ROAS over the whole data from each data set's documented data-generating process "
        "(tests/data/README.md). mmm_roas's confounder z drives x1 and y; with z latent, x1 is not identified "
        "without experiments. The go-dark experiments are unbiased with se = 10% of the effect.\n\n"
    )
    text += table(["data", "fit", "channel", "true ROAS", "estimate", "error", "94% HDI", "covers", "s", "warnings"], rows) if rows else ""
    if conflict_rows:
        text += "\nExperiment conflicts (PSIS-LOO; conflict when |z_loo| > 2.5 or |z_in| > 2; k̂ > 0.7 = approximation unreliable):\n\n" + table(
            ["data", "fit", "experiment", "true effect", "measured ± se", "without it ± sd", "z_loo", "k̂", "z_in", "verdict"], conflict_rows
        )
    if skipped:
        text += "\nNot run:\n\n" + "".join(f"- {s}\n" for s in skipped)
    n_cov = sum(r[7] == "yes" for r in rows)
    text += f"\nHDI coverage: {n_cov}/{len(rows)} ({pct(n_cov / len(rows)) if rows else 'n/a'}).\n"
    write_fragment("public", text)


if __name__ == "__main__":
    main()
