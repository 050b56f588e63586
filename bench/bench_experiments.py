"""Experiment-analysis accuracy: geo-lift and pre/post (CausalPy) and switchback estimates vs the world's truth.

python bench/bench_experiments.py [--seeds 10]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from bench.common import command_line, header, table, write_fragment  # noqa: E402
from causalmmm.experiments.analyze import analyze_experiments  # noqa: E402
from causalmmm.experiments.schema import load_experiments  # noqa: E402
from causalmmm.simulate import simulate_world, write  # noqa: E402
from causalmmm.simulate.presets import add_pre_post_test  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=10)
    args = ap.parse_args()
    rows, stats = [], {}
    for seed in range(args.seeds):
        world = simulate_world("search", seed)
        add_pre_post_test(world, "ppc_pre_post", "ppc_spend", 140, 6)  # national go-dark, no control group: ITS
        with tempfile.TemporaryDirectory() as d:
            write(world, d)
            t0 = time.perf_counter()
            results = analyze_experiments(load_experiments(Path(d) / "experiments.yaml"), d, seed=seed)
            secs = time.perf_counter() - t0
        for r in results:
            truth = world.experiment_truth[r.experiment.name]["true"]
            z = (r.estimate - truth) / r.se
            err = (r.estimate - truth) / abs(truth)
            stats.setdefault(r.experiment.design, []).append((abs(z) <= 2, abs(err), r.se / abs(truth)))
            rows.append([seed, r.experiment.name, round(truth), round(r.estimate), round(r.se), f"{z:+.2f}", f"{100 * err:+.1f}%"])
        print(f"seed {seed}: {secs:.1f} s", file=sys.stderr)
    summary = [
        [
            design,
            len(v),
            f"{100 * np.mean([a for a, _, _ in v]):.0f}%",
            f"{100 * np.median([b for _, b, _ in v]):.1f}%",
            f"{100 * np.median([c for _, _, c in v]):.1f}%",
        ]
        for design, v in stats.items()
    ]
    text = header("Experiment analysis accuracy (search world; pre/post = a national PPC go-dark added to each world)", command_line())
    text += (
        "Goal: the true estimand within 2 se on >= 80% of seeds.\n\n"
        + table(["design", "seeds", "within 2 se", "median |error|", "median se / |truth|"], summary)
        + "\n<details><summary>per seed</summary>\n\n"
        + table(["seed", "experiment", "truth", "estimate", "se", "z", "error"], rows)
        + "\n</details>\n"
    )
    write_fragment("experiments", text)


if __name__ == "__main__":
    main()
