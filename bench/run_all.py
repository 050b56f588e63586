"""Regenerate docs/benchmarks.md: run every benchmark, then assemble their fragments.

python -m bench.run_all            # full (the run log in docs/benchmarks.md gives the time of each step)
python -m bench.run_all --quick    # fewer seeds and draws
python -m bench.run_all --assemble # only rebuild docs/benchmarks.md from bench/results/
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
ORDER = [
    "run_log",
    "speed",
    "compile",
    "sampler",
    "scaling",
    "accuracy",
    "accuracy_latent_factor",
    "coverage",
    "recovery",
    "experiments",
    "discovery",
    "misspec",
    "misspec_defaults",
    "public",
    "frontdoor",
    "plan",
    "workshop",
    "anchors",
]

INTRO = """# Benchmarks

Every table below was written by a script in `bench/`; none of the numbers is typed by hand.
Each section names the command that produced it, the date and the machine; sections from
different dates come from different versions of the code, so compare rows within a section.
Regenerate all of it with `make bench` or `make bench-quick` (fewer seeds and draws); the run
log below gives the measured time of every step of the last run. `make bench` first creates the
anchors' own environments (pymc-marketing 1.3 with pathmc 0.4, and Meridian 2.1; cached under
`bench/.anchors/`, `python -m bench.anchors.envs install`), then runs every script. The slow parts
are the NUTS fits: the accuracy table fits every world twice with causalmmm and four times with
pymc-marketing, the misspecification suite fits eight families over several seeds, and the
coverage study fits more worlds. `--quick` runs one seed with fewer draws.

**How to read this.** *Error* is (estimate − truth) / |truth| of the posterior mean. *HDI covers
truth* counts the seeds whose 94% highest-density interval contains the true value; a
well-calibrated model covers it on about 94% of seeds. Times are wall-clock seconds on a shared
2-core machine and are noisy: compare the ratios measured in the same run, not absolute times.
The worlds are the simulator's presets (see docs/simulator.md): `search` has demand observed,
`search_latent` hides it, so PPC's effect is identified only through experiments, and `linear`
is the search graph with linear mechanisms (no adstock or saturation).

**How accurate can one seed be?** Each world is one draw of noise, so even a perfect method
misses the truth by the noise's imprint on that seed. The *oracle* rows (bench/oracle.py) measure
it: an estimator that is handed the graph and every adstock/saturation shape, and fits only the
linear coefficients by least squares. Where causalmmm's errors track the oracle's, the remaining
error is in the data, not in the method, and only more information (experiments, longer data)
reduces it.

Goals: accuracy within 5% with the confounder observed; within 15% with it latent plus
experiments; coverage ≥ 90%; a full fit ≤ 1.0× pymc-marketing's flat fit; a query in < 1 s.

"""


STEPS: list[tuple[str, float]] = []
#: The two families whose 3-seed, 300-draw rows miss a target, again at the default sampler settings over 5 seeds.
MISSPEC_DEFAULTS = (
    "--families", "misspec_multiplicative", "misspec_seasonal", "--seeds", "5", "--name", "misspec_defaults",
    "--title", "Misspecification suite at the default sampler settings (500 draws), 5 seeds",
)  # fmt: skip


def run(script: str, *args: str) -> None:
    """Run one benchmark script and record its wall time for the run log."""
    cmd = f"python bench/{script} {' '.join(args)}".strip()
    print(f"$ {cmd}", file=sys.stderr)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, str(ROOT / "bench" / script), *args], check=True, cwd=ROOT)
    STEPS.append((cmd, time.perf_counter() - t0))


def run_anchors(quick: bool) -> None:
    """The anchors' head-to-head in their own venvs (created and cached under bench/.anchors/ first)."""
    from bench.anchors.envs import manifest

    subprocess.run([sys.executable, "-m", "bench.anchors.envs", "install"], check=False, cwd=ROOT)  # a failure is reported below
    if manifest("pymc-marketing") is None:
        print("anchors: the pymc-marketing venv could not be built; skipping the head-to-head", file=sys.stderr)
        return
    meridian = ["--meridian"] if manifest("meridian") is not None else []
    run("bench_anchors.py", *(["--seeds", "1", "--draws", "300", "--tune", "300", "--no-pathmc"] if quick else ["--seeds", "3", *meridian]))


def write_run_log(quick: bool) -> None:
    """The measured duration of every step of this run (bench/results/run_log.md)."""
    from bench.common import command_line, header, table, write_fragment

    total = sum(sec for _, sec in STEPS)
    rows = [[f"`{cmd}`", f"{sec / 60:.1f}", f"{100 * sec / total:.0f}%"] for cmd, sec in STEPS]
    rows.append(["total", f"{total / 60:.1f}", "100%"])
    text = header("Run log: how long each step took" + (" (quick mode)" if quick else ""), command_line())
    text += "Wall time of each benchmark script in this run (minutes), excluding installation. Quick mode: `make bench-quick`.\n\n" + table(
        ["step", "minutes", "share"], rows
    )
    write_fragment("run_log", text)


def assemble() -> Path:
    parts = [INTRO]
    for name in ORDER:
        f = RESULTS / f"{name}.md"
        parts.append(f.read_text() if f.exists() else f"## {name}\n\nNot run yet.\n")
    out = ROOT / "docs" / "benchmarks.md"
    out.write_text("\n".join(parts))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--assemble", action="store_true")
    args = ap.parse_args()
    if not args.assemble:
        q = args.quick
        run("bench_speed.py", *(["--draws", "300"] if q else []))
        run("bench_compile.py", *(["--draws", "300", "--tune", "300", "--timeout", "600"] if q else []))
        run("bench_sampler.py", *(["--draws", "300", "--tune", "300", "--timeout", "900"] if q else []))
        run(
            "bench_accuracy.py",
            "--presets",
            "search",
            "search_latent",
            "linear",
            "--name",
            "accuracy",
            *(["--seeds", "1", "--draws", "300"] if q else ["--seeds", "3"]),
        )
        if not q:
            run("bench_accuracy.py", "--presets", "search_latent", "--seeds", "5", "--no-flat", "--latent", "factor", "--name", "accuracy_latent_factor")
        run("bench_recovery.py", *(["--seeds", "1", "--draws", "300"] if q else ["--seeds", "3"]))
        run("bench_experiments.py", "--seeds", "10")
        run("bench_discovery.py", *(["--quick"] if q else []), "--write", str((RESULTS / "discovery.md").relative_to(ROOT)))
        run("bench_coverage.py", *(["--quick"] if q else ["--seeds", "10"]))
        run("bench_misspec.py", *(["--quick"] if q else ["--seeds", "3", "--draws", "300", "--tune", "300"]))
        if not q:
            run("bench_misspec.py", *MISSPEC_DEFAULTS)
        run("bench_public.py", *(["--fast-only"] if q else []))
        run("bench_frontdoor.py", *(["--seeds", "1", "--draws", "300"] if q else ["--seeds", "3"]))
        run("bench_plan.py", *(["--seeds", "1"] if q else ["--seeds", "5"]))
        run("bench_workshop.py")
        run("bench_scaling.py", *(["--quick"] if q else []))
        run_anchors(q)
        write_run_log(q)
    print(f"wrote {assemble()}", file=sys.stderr)


if __name__ == "__main__":
    main()
