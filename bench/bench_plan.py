"""The experiment planner: predicted vs realised posterior sd, and what the top pick buys.

    python bench/bench_plan.py [--seeds 5] [--preset search] [--drop social_lift]

Per seed: simulate the world, drop one channel's calibrating test (``--drop``), fit with ``fast=True``
(Laplace), run the planner over its default candidates, then run two candidates inside the world — the
planner's top pick and one chosen at random (seeded) among the others. Running a candidate means: its
true estimand from the simulator (``World.estimand``, the window and measured nodes of the candidate) plus
Normal noise with the se the planner's noise model gives that design (as ``presets.add_lift_test`` does
with a stated se); it is added as a calibrating experiment and the model is refitted (fast). We compare
the realised posterior sd of every channel's total ROAS with the planner's expected sd (target: within
±30% for the channel the pick is about), and the mean |ROAS error| over channels before and after.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

import causalmmm  # noqa: E402
from bench.common import command_line, header, table, write_fragment  # noqa: E402
from causalmmm.experiments.schema import Experiment  # noqa: E402
from causalmmm.fitted import as_experiments  # noqa: E402
from causalmmm.fmt import num, pct, signed_pct  # noqa: E402
from causalmmm.planning.plan import roas_draws  # noqa: E402
from causalmmm.simulate import simulate_world, write  # noqa: E402

TOLERANCE = 0.30


def roas_summary(fm: Any, channels: list[str]) -> tuple[np.ndarray, np.ndarray]:
    r = roas_draws(fm.scm, channels)
    return r.mean(axis=0), r.std(axis=0)


def run_candidate(world: Any, cand: dict[str, Any], rng: np.random.Generator) -> Experiment:
    """The candidate run inside the world: true estimand + Normal(0, se) at the planner's se."""
    truth = world.estimand(cand["treatment"], cand["intervention_obj"], cand["measured"], cand["start"], cand["end"])
    se = max(float(cand["se"]), 1e-9)
    import pandas as pd

    return Experiment(
        name=f"planned_{cand['name']}",
        design=cand["design"],
        treatment=cand["treatment"],
        intervention=cand["intervention_obj"],
        measured=tuple(cand["measured"]),
        start=pd.Timestamp(cand["start"]),
        end=pd.Timestamp(cand["end"]),
        estimate=float(truth + rng.normal(0, se)),
        se=se,
        use="calibrate",
        source="<bench_plan>",
    )


def one_seed(preset: str, seed: int, drop: str) -> dict[str, Any]:
    world = simulate_world(preset, seed)
    world.experiments = [e for e in world.experiments if e["name"] != drop]
    truth = world.true_effects()
    with tempfile.TemporaryDirectory() as d:
        write(world, d)
        g = causalmmm.load_graph(Path(d) / "graph.dot")
        data = causalmmm.load_data(Path(d) / "data.csv").validate_against(g)
        exps = as_experiments(Path(d) / "experiments.yaml", g, data, seed=0)
    t0 = time.perf_counter()
    fm = causalmmm.fit(g, data, exps, fast=True, seed=0)
    t_fit = time.perf_counter() - t0
    t0 = time.perf_counter()
    report = fm.plan(top=None, seed=seed)
    t_plan = time.perf_counter() - t0
    channels = list(report.current_sd)
    true = np.array([truth[c]["roas"] for c in channels])
    mean0, sd0 = roas_summary(fm, channels)
    cands = report.candidates
    by_name = {c.name: c for c in cands}
    rng = np.random.default_rng(seed)
    pick_random = cands[1 + int(rng.integers(len(cands) - 1))]
    from causalmmm.planning.candidates import default_candidates

    ivs = {c.name: c.experiment.intervention for c in default_candidates(fm.scm.spec, fm.data, channels)}
    out: dict[str, Any] = {"seed": seed, "fit_s": t_fit, "plan_s": t_plan, "n_candidates": len(cands), "channels": channels, "truth": true}
    out["before"] = {"mean": mean0, "sd": sd0, "err": np.abs(mean0 - true) / np.abs(true)}
    for label, ev in (("top", cands[0]), ("random", pick_random)):
        cand = {**ev.to_dict(), "intervention_obj": ivs[ev.name]}
        new = run_candidate(world, cand, np.random.default_rng(1000 + seed))
        fm2 = causalmmm.fit(g, data, [*exps, new], fast=True, seed=0)
        mean1, sd1 = roas_summary(fm2, channels)
        target = max(channels, key=lambda c: 1 - ev.expected_sd[c] / ev.current_sd[c])
        out[label] = {
            "name": ev.name,
            "target": target,
            "predicted": np.array([by_name[ev.name].expected_sd[c] for c in channels]),
            "closed_form": np.array([ev.closed_form_sd[c] for c in channels]),
            "method": ev.method,
            "realised": sd1,
            "err": np.abs(mean1 - true) / np.abs(true),
            "score": ev.score,
            "evsi": ev.evsi,
            "net_cost": ev.cost["net"],
        }
    return out


def render(results: list[dict[str, Any]], args: argparse.Namespace) -> str:
    text = header("Experiment planner: predicted vs realised posterior sd", command_line())
    text += (
        f"World `{args.preset}`, seeds {', '.join(str(r['seed']) for r in results)}, without `{args.drop}`; fast (Laplace) fits. "
        "Each pick is run in the world (true estimand + noise at the planner's se) and the model refitted. "
        "ratio = realised sd / predicted sd of the ROAS of the channel the pick is about (target within ±30%).\n\n"
    )
    rows, within, red_top, red_rand = [], 0, [], []
    for r in results:
        chans = r["channels"]
        for label in ("top", "random"):
            p = r[label]
            i = chans.index(p["target"])
            ratio = p["realised"][i] / p["predicted"][i]
            if label == "top":
                within += abs(ratio - 1) <= TOLERANCE
            red = float(np.mean(r["before"]["err"]) - np.mean(p["err"]))
            (red_top if label == "top" else red_rand).append(red)
            rows.append(
                [
                    r["seed"],
                    label,
                    p["name"],
                    p["target"],
                    num(r["before"]["sd"][i]),
                    num(p["predicted"][i]),
                    num(p["closed_form"][i]),
                    num(p["realised"][i]),
                    f"{ratio:.2f}",
                    pct(float(np.mean(r["before"]["err"]))),
                    pct(float(np.mean(p["err"]))),
                ]
            )
    text += table(
        ["seed", "pick", "candidate", "channel", "sd before", "predicted sd", "closed form", "realised sd", "ratio", "mean |err| before", "after"], rows
    )
    n = len(results)
    text += (
        f"\nTop pick within ±30% of the predicted sd: {within}/{n}. Mean reduction of the mean |ROAS error| over channels: "
        f"top pick {signed_pct(float(np.mean(red_top)))}, random candidate {signed_pct(float(np.mean(red_rand)))} "
        f"(top better on {sum(a > b for a, b in zip(red_top, red_rand))}/{n} seeds). "
        f"Median fast fit {np.median([r['fit_s'] for r in results]):.0f} s, planner {np.median([r['plan_s'] for r in results]):.1f} s "
        f"for {results[0]['n_candidates']} candidates.\n"
    )
    return text


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--preset", default="search")
    ap.add_argument("--drop", default="social_lift", help="the calibrating experiment left out, so one channel is poorly known")
    args = ap.parse_args()
    results = []
    for seed in range(args.seeds):
        t0 = time.perf_counter()
        results.append(one_seed(args.preset, seed, args.drop))
        print(f"seed {seed}: {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    write_fragment("plan", render(results, args))


if __name__ == "__main__":
    main()
