"""Where a NUTS fit's time goes, and what numba's optimisation level does to it.

    python bench/bench_compile.py [--rounds 2] [--seeds 2] [--levels 3 0] [--draws 500] [--tune 500]

The search world's calibrated joint model (world seeds 0..N-1, its three calibrating experiments analysed
once per seed) is compiled by nutpie and sampled in a fresh process per measurement, with ``NUMBA_OPT``
set to each level in turn, interleaved over ``--rounds`` rounds (the machine is noisy: compare
medians within this run). Reported per level: nutpie's compile time, sampling time, and the
smallest bulk ESS, which shows whether the draws changed.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import command_line, header, table, write_fragment  # noqa: E402


def write_inputs(path: Path, seed: int) -> None:
    """The spec, data and analysed calibrating experiments of the search world."""
    from causalmmm.fitted import _as_data, _as_graph, as_experiments
    from causalmmm.simulate import simulate_world, write
    from causalmmm.spec import build_spec

    with tempfile.TemporaryDirectory() as d:
        write(simulate_world("search", seed), d)
        graph = _as_graph(Path(d) / "graph.dot")
        data = _as_data(Path(d) / "data.csv", graph, "date")
        exps = [e for e in as_experiments(Path(d) / "experiments.yaml", graph, data, seed=0) if e.use == "calibrate"]
    path.write_bytes(pickle.dumps((build_spec(graph, data), data, exps)))


def measure(inputs: Path, draws: int, tune: int) -> dict[str, float]:
    """One compile and one sampling run in this process (called in a child process)."""
    import warnings

    warnings.simplefilter("ignore")
    import arviz as az
    import nutpie

    from causalmmm.model.build import build_model

    spec, data, exps = pickle.loads(inputs.read_bytes())
    model = build_model(spec, data, list(spec.node_names), exps)
    t0 = time.perf_counter()
    compiled = nutpie.compile_pymc_model(model)
    t1 = time.perf_counter()
    trace = nutpie.sample(compiled, draws=draws, tune=tune, chains=2, seed=1, progress_bar=False)
    t2 = time.perf_counter()
    return {"compile": t1 - t0, "sample": t2 - t1, "min_ess": float(az.ess(trace).to_array().min())}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--seeds", type=int, default=2, help="world seeds 0..N-1 (compile time depends on the data)")
    ap.add_argument("--levels", nargs="+", default=["3", "0"], help="NUMBA_OPT levels to compare (3 is numba's default)")
    ap.add_argument("--draws", type=int, default=500)
    ap.add_argument("--tune", type=int, default=500)
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.draws, args.tune)))
        return
    runs: dict[tuple[int, str], list[dict[str, float]]] = {}
    with tempfile.TemporaryDirectory() as d:
        for seed in range(args.seeds):
            inputs = Path(d) / f"inputs_{seed}.pkl"
            write_inputs(inputs, seed)
            for r in range(args.rounds):
                for level in args.levels:
                    cmd = [sys.executable, __file__, "--child", str(inputs), "--draws", str(args.draws), "--tune", str(args.tune)]
                    out = subprocess.run(cmd, env={**os.environ, "NUMBA_OPT": level}, capture_output=True, text=True, check=True)
                    runs.setdefault((seed, level), []).append(json.loads(out.stdout.strip().splitlines()[-1]))
                    print(f"seed {seed} round {r + 1} NUMBA_OPT={level}: {runs[seed, level][-1]}", file=sys.stderr)
    rows = []
    for (seed, level), xs in runs.items():
        base = statistics.median(x["compile"] for x in runs[seed, args.levels[0]])
        comp = statistics.median(x["compile"] for x in xs)
        rows.append(
            [
                seed,
                level,
                len(xs),
                f"{comp:.1f}",
                f"{statistics.median(x['sample'] for x in xs):.1f}",
                f"{statistics.median(x['compile'] + x['sample'] for x in xs):.1f}",
                f"{comp / base:.2f}",
                ", ".join(f"{x['min_ess']:.0f}" for x in xs),
            ]
        )
    text = header("Compile time: numba's optimisation level (search world, calibrated joint model)", command_line())
    text += (
        f"One fresh process per measurement: nutpie compiles the calibrated joint model (6 nodes, 3 calibrating experiments), then samples "
        f"{args.draws} + {args.tune} draws on 2 chains; levels interleaved over {args.rounds} rounds per world seed; medians. Identical min-ESS values "
        "across levels mean identical draws. causalmmm sets "
        "`NUMBA_OPT=0` when it is imported unless the variable is already set (`causalmmm/__init__.py`).\n\n"
        + table(["world seed", "NUMBA_OPT", "runs", "compile s", "sample s", "total s", "compile / first level", "min bulk ESS per run"], rows)
    )
    write_fragment("compile", text)


if __name__ == "__main__":
    main()
