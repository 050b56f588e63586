"""Where a NUTS fit's time goes: compiling against sampling, per sampler and compile cache.

    python bench/bench_compile.py [--seed 0] [--draws 500] [--tune 500] [--timeout 900] [--calibrated]

The search world's joint model, as ``causalmmm fit`` builds it (every block in one model; with
``--calibrated``, with the world's calibrating experiments), is compiled and sampled in a fresh process
per measurement, 2 chains. Variants: PyMC's NUTS (C backend) with an empty PyTensor compile directory,
then again with the directory that run filled; nutpie (numba) at ``NUMBA_OPT=0`` (causalmmm's setting until 2026-12-04)
with an empty cache, then warm; nutpie at numba's default ``NUMBA_OPT=3`` (causalmmm's since), cold. PyMC's compile time is
its wall time minus the sampling time it records; nutpie's compile is timed on its own. A run past
``--timeout`` seconds is stopped and reported as such.
"""

from __future__ import annotations

import argparse
import json
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import command_line, compile_cache_env, header, table, write_fragment  # noqa: E402

#: (label, sampler, NUMBA_OPT, compile directory key); a directory's first run is cold, its next warm.
VARIANTS = [
    ("PyMC NUTS, cold", "pymc", "0", "pymc"),
    ("PyMC NUTS, warm", "pymc", "0", "pymc"),
    ("nutpie, NUMBA_OPT=0, cold", "nutpie", "0", "numba0"),
    ("nutpie, NUMBA_OPT=0, warm", "nutpie", "0", "numba0"),
    ("nutpie, NUMBA_OPT=3, cold", "nutpie", "3", "numba3"),
]


def write_inputs(path: Path, seed: int, calibrated: bool = True) -> None:
    """The spec, data and (when ``calibrated``) analysed calibrating experiments of the search world."""
    from causalmmm.fitted import _as_data, _as_graph, as_experiments
    from causalmmm.simulate import simulate_world, write
    from causalmmm.spec import build_spec

    with tempfile.TemporaryDirectory() as d:
        write(simulate_world("search", seed), d)
        graph = _as_graph(Path(d) / "graph.dot")
        data = _as_data(Path(d) / "data.csv", graph, "date")
        exps = [e for e in as_experiments(Path(d) / "experiments.yaml", graph, data, seed=0) if e.use == "calibrate"] if calibrated else []
    path.write_bytes(pickle.dumps((build_spec(graph, data), data, exps)))


def measure(inputs: Path, sampler: str, draws: int, tune: int) -> dict[str, float]:
    """One compile and one sampling run in this process (called in a child process)."""
    import warnings

    warnings.simplefilter("ignore")
    import arviz as az
    import pymc as pm

    from causalmmm.model.build import build_model

    spec, data, exps = pickle.loads(inputs.read_bytes())
    model = build_model(spec, data, list(spec.node_names), exps)
    t0 = time.perf_counter()
    if sampler == "nutpie":
        import nutpie

        compiled = nutpie.compile_pymc_model(model)
        t1 = time.perf_counter()
        trace = nutpie.sample(compiled, draws=draws, tune=tune, chains=2, seed=1, progress_bar=False)
        sample = time.perf_counter() - t1
    else:
        with model:
            trace = pm.sample(draws=draws, tune=tune, chains=2, cores=2, random_seed=1, progressbar=False, compute_convergence_checks=False)
        sample = float(trace.posterior.attrs["sampling_time"])
    total = time.perf_counter() - t0
    return {"compile": total - sample, "sample": sample, "min_ess": float(az.ess(trace).to_array().min())}


def run_variant(inputs: Path, sampler: str, level: str, cache: Path, args: argparse.Namespace) -> dict[str, float] | None:
    """One measurement in a fresh process compiling into ``cache``; None when it ran past the timeout."""
    cmd = [sys.executable, __file__, "--child", str(inputs), "--sampler", sampler, "--draws", str(args.draws), "--tune", str(args.tune)]
    env = {**compile_cache_env(cache), "NUMBA_OPT": level}
    try:
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True, timeout=args.timeout)
    except subprocess.TimeoutExpired:
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=0, help="the search world's seed")
    ap.add_argument("--draws", type=int, default=500)
    ap.add_argument("--tune", type=int, default=500)
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds before a run is stopped")
    ap.add_argument("--calibrated", action="store_true", help="add the world's calibrating experiments to the model")
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--sampler", default="pymc", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.sampler, args.draws, args.tune)))
        return
    rows = []
    with tempfile.TemporaryDirectory() as d:
        inputs = Path(d) / "inputs.pkl"
        write_inputs(inputs, args.seed, args.calibrated)
        n_exps = len(pickle.loads(inputs.read_bytes())[2])
        for label, sampler, level, key in VARIANTS:
            r = run_variant(inputs, sampler, level, Path(d) / key, args)
            print(f"{label}: {r}", file=sys.stderr, flush=True)
            if r is None:
                rows.append([label, f"stopped after {args.timeout:.0f}", "-", "-", "-"])
            else:
                rows.append([label, r["compile"], r["sample"], r["compile"] + r["sample"], f"{r['min_ess']:.0f}"])
    what = f"calibrated joint model ({n_exps} calibrating experiments)" if args.calibrated else "uncalibrated joint model"
    text = header(f"Where a fit's time goes: compile and sample, per sampler (search world, {what})", command_line())
    text += (
        f"World seed {args.seed}; one fresh process per row: the joint model `causalmmm fit` builds (every block in one "
        f"model) is compiled and sampled, {args.draws} + {args.tune} draws on 2 chains. Each sampler compiles into its own "
        "empty directory (PyTensor's compile directory and numba's cache); the *warm* row reuses the one the *cold* row "
        "filled. PyMC's compile s is its wall time minus the sampling time it records. Each nutpie row sets `NUMBA_OPT` "
        "itself; causalmmm leaves numba's default, 3, since these rows (it set 0 until 2026-12-04); `--sampler auto` is "
        "PyMC's NUTS (`causalmmm/model/fit.py::resolve_sampler`).\n\n" + table(["sampler, cache", "compile s", "sample s", "total s", "min bulk ESS"], rows)
    )
    write_fragment("compile", text)


if __name__ == "__main__":
    main()
