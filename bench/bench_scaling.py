"""How cost grows: fit wall time and peak RSS of causalmmm and pymc-marketing 1.3 against channels and periods.

    python bench/bench_scaling.py [--quick] [--draws 300] [--tune 300] [--methods ...] [--rows rows.json]
    python bench/bench_scaling.py --from-rows rows.json     # only rewrite the fragment and the plot

Worlds (``scaling_world``): N spend channels, each ``spend -> sales`` with geometric adstock (l_max 8)
and Hill saturation, plus a demand control, simulated by causalmmm.simulate's World. Grid: channels
3/10/30 at 156 weeks, periods 156/520 weeks and 1500 days at 3 channels (``--quick``: 3/10 channels,
156/520 weeks). One fresh process per fit, one fit at a time; peak RSS is that process's (for
pymc-marketing, its runner subprocess's). Writes bench/results/scaling.md and docs/img/scaling.png.
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

PLOT = ROOT / "docs" / "img" / "scaling.png"
L_MAX = 8
#: method key -> label; causalmmm's three samplers and pymc-marketing 1.3's runner (nutpie and PyMC NUTS).
METHODS = {
    "causal_nutpie": "causalmmm (nutpie)",
    "causal_pymc": "causalmmm (PyMC NUTS)",
    "causal_fast": "causalmmm --fast",
    "pmm_nutpie": "pymc-marketing 1.3 (nutpie)",
    "pmm_pymc": "pymc-marketing 1.3 (PyMC NUTS)",
}
#: causalmmm's default sampler (--sampler auto is PyMC's NUTS), its fast fit, and both of pymc-marketing's samplers.
DEFAULT_METHODS = ["causal_pymc", "causal_fast", "pmm_nutpie", "pmm_pymc"]
FULL_GRID = [(3, 156, "W"), (10, 156, "W"), (30, 156, "W"), (3, 520, "W"), (3, 1500, "D")]
QUICK_GRID = [(3, 156, "W"), (10, 156, "W"), (3, 520, "W")]


def scaling_world(n_channels: int, n_periods: int, freq: str = "W", seed: int = 0):
    """A flat MMM world with ``n_channels`` spend channels into sales (adstock + Hill) and a demand control."""
    import pandas as pd

    from causalmmm.graph.causal_graph import CausalGraph
    from causalmmm.simulate.world import Mechanism, Term, World

    rng = np.random.default_rng(seed)
    per_week = 7.0 if freq == "D" else 1.0
    t = np.arange(n_periods)
    demand = 100.0 * (1 + 0.2 * np.sin(2 * np.pi * t / (52.18 * per_week))) + rng.normal(0, 2.0, n_periods)
    channels = [f"ch{i:02d}_spend" for i in range(n_channels)]
    exo: dict[str, np.ndarray] = {"demand": demand}
    g = CausalGraph("scaling")
    g.add_node("demand", "control")
    g.add_node("sales", "outcome")
    terms = [Term("demand", 400.0 / per_week)]
    for c in channels:
        on = rng.random(n_periods) < rng.uniform(0.5, 0.9)
        exo[c] = np.where(on, rng.uniform(5_000, 20_000) / per_week * rng.uniform(0.6, 1.4, n_periods), 0.0)
        g.add_node(c, "spend")
        g.add_edge(c, "sales", adstock="geometric", saturation="hill", l_max=L_MAX)
        alpha, k, s = rng.uniform(0.2, 0.6), rng.uniform(0.6, 1.2), rng.uniform(1.0, 2.0)
        ref = float(exo[c].mean())
        terms.append(Term(c, 60_000.0 / n_channels / per_week, "geometric", {"alpha": alpha}, L_MAX, "hill", {"k": k, "s": s}, 0, ref))
    g.add_edge("demand", "sales")
    mech = Mechanism("sales", 20_000.0 / per_week, 3_000.0 / np.sqrt(per_week), tuple(terms))
    noise = {"sales": rng.normal(0.0, mech.noise_sd, n_periods)}
    dates = pd.date_range("2020-01-06", periods=n_periods, freq="D" if freq == "D" else "W-MON")
    return World(f"scaling_{n_channels}x{n_periods}{freq}", dates, exo, [mech], noise, g.validate(), seed, "scaling")


def one_fit(method: str, n_channels: int, n_periods: int, freq: str, draws: int, tune: int, chains: int) -> dict:
    """One fit in this process (called in a fresh process by ``measure``): wall seconds, peak RSS, ESS."""
    world = scaling_world(n_channels, n_periods, freq)
    out: dict = {"method": method, "channels": n_channels, "periods": n_periods, "freq": freq}
    if method.startswith("causal"):
        from causalmmm.data import load_data
        from causalmmm.model.fit import SamplerConfig, fit_model
        from causalmmm.spec import build_spec

        data = load_data(world.data).validate_against(world.graph)
        sampler = "pymc" if method == "causal_pymc" else "nutpie"
        t0 = time.perf_counter()
        spec = build_spec(world.graph, data)
        fit = fit_model(spec, data, SamplerConfig(sampler=sampler, draws=draws, tune=tune, chains=chains, seed=0, fast=method == "causal_fast"))
        out["seconds"] = time.perf_counter() - t0
        ess = [d.ess_bulk_min for d in fit.diagnostics if getattr(d, "ess_bulk_min", None) is not None] if hasattr(fit, "diagnostics") else []
        out["ess_min"] = float(min(ess)) if ess else None
        out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    else:
        from bench.anchors.run import AnchorJob, run_anchor
        from causalmmm.simulate import write

        with tempfile.TemporaryDirectory() as d:
            write(world, d)
            job = AnchorJob(
                csv=str(Path(d) / "data.csv"),
                channels=[c for c in world.graph.spend_nodes],
                controls=["demand"],
                draws=draws,
                tune=tune,
                chains=chains,
                seed=0,
                nutpie=method == "pmm_nutpie",
                model={"l_max": L_MAX},
            )
            res = run_anchor("pymc-marketing", job)
        out["seconds"] = res.fit_seconds
        out["process_seconds"] = res.process_seconds
        out["ess_min"] = res.raw.get("ess_bulk_min")
        out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # the runner, this process's only child
    return out


def measure(method: str, n_channels: int, n_periods: int, freq: str, args) -> dict:
    """Run ``one_fit`` in a fresh process; a failure or timeout becomes a row with seconds None and a note."""
    cfg = json.dumps(
        {"method": method, "n_channels": n_channels, "n_periods": n_periods, "freq": freq, "draws": args.draws, "tune": args.tune, "chains": args.chains}
    )
    base = {"method": method, "channels": n_channels, "periods": n_periods, "freq": freq, "seconds": None, "peak_rss_mb": None, "ess_min": None}
    t0 = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, __file__, "--one", cfg], capture_output=True, text=True, timeout=args.timeout, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {**base, "note": f"timeout after {args.timeout:.0f} s"}
    lines = [ln for ln in proc.stdout.strip().splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {**base, "note": f"failed: {last[:160]}"}
    row = json.loads(lines[-1])
    row["wall_seconds"] = time.perf_counter() - t0
    row["load"] = os.getloadavg()[0]  # 1-minute load average when the fit ended (the machine is shared)
    return row


def parse_config(text: str) -> tuple[int, int, str]:
    """'3x1500D' -> (3, 1500, 'D'); a bad spelling is a one-line error."""
    from causalmmm.errors import CausalMMMError

    class ScalingConfigError(CausalMMMError):
        """A --configs grid point that cannot be read."""

    try:
        ch, rest = text.lower().split("x")
        freq = rest[-1].upper()
        if freq not in ("W", "D"):
            raise ValueError
        return int(ch), int(rest[:-1]), freq
    except ValueError:
        raise ScalingConfigError(f"bad grid point {text!r}", where="--configs", hint="write CHANNELSxPERIODS then W or D, e.g. 3x156W") from None


def _label_periods(r: dict) -> str:
    return f"{r['periods']} {'days' if r['freq'] == 'D' else 'weeks'}"


def slopes(rows: list[dict], axis: str) -> dict[str, float]:
    """Log-log slope of fit seconds against ``axis`` (channels at 156 weeks, or periods at 3 channels) per method."""
    out = {}
    for m in METHODS:
        sel = [r for r in rows if r["method"] == m and r["seconds"] and not r.get("cold") and _on_axis(r, axis)]
        xs = sorted({r[axis] for r in sel})
        if len(xs) >= 2:
            out[m] = float(np.polyfit(np.log([r[axis] for r in sel]), np.log([r["seconds"] for r in sel]), 1)[0])
    return out


def _key(r: dict) -> tuple:
    return (r["method"], r["channels"], r["periods"], r["freq"])


def _on_axis(r: dict, axis: str) -> bool:
    return (r["periods"] == 156 and r["freq"] == "W") if axis == "channels" else r["channels"] == 3


def plot(rows: list[dict], path: Path = PLOT):
    """Log-log fit seconds and peak RSS against channels and against periods, one line per method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import ticker

    fig, axes = plt.subplots(2, 2, figsize=(10, 7.5))
    for col, axis in enumerate(("channels", "periods")):
        for row_i, (key, ylabel) in enumerate((("seconds", "fit wall time (s)"), ("peak_rss_mb", "peak RSS (MB)"))):
            ax = axes[row_i, col]
            for m, label in METHODS.items():
                sel = sorted((r for r in rows if r["method"] == m and r.get(key) and _on_axis(r, axis)), key=lambda r: r[axis])
                if sel:
                    ax.plot([r[axis] for r in sel], [r[key] for r in sel], "o-", label=label)
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xticks(sorted({r[axis] for r in rows if _on_axis(r, axis)}))  # the grid's values, written plainly
            ax.xaxis.set_major_formatter(ticker.ScalarFormatter())
            ax.xaxis.set_minor_formatter(ticker.NullFormatter())
            ax.set_xlabel("spend channels (156 weeks)" if axis == "channels" else "periods (3 channels; 1500 = daily)")
            ax.set_ylabel(ylabel)
            ax.grid(True, which="both", alpha=0.3)
    axes[0, 0].legend(fontsize=8)
    fig.suptitle("How cost grows: causalmmm vs pymc-marketing 1.3 (same draws, tune, chains)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    return fig


def fragment(rows: list[dict], args, command: str, date: str | None = None) -> str:
    from bench.common import PYMC_CHILD_MEMORY_NOTE, header, table
    from causalmmm.fmt import num

    text = header("How cost grows: fit time and peak memory against channels and periods", command, date)
    text += (
        f"Worlds: `bench/bench_scaling.py scaling_world`, N spend channels into sales (geometric adstock l_max {L_MAX}, Hill "
        "saturation) plus a demand control; 156 weeks for the channel axis, 3 channels for the period axis (1500 periods "
        f"are daily). Every fit: {args.draws} draws, {args.tune} tune, {args.chains} chains, one fresh process per fit, one "
        "fit at a time on a shared 2-core machine (timings noisy: compare rows of this run). causalmmm: `build_spec` + "
        "`fit_model` (compile + sample every block; `--fast` = `SamplerConfig(fast=True)`); pymc-marketing 1.3: its runner "
        "(bench/anchors/runner_pymc_marketing.py, `MMM`, GeometricAdstock(l_max=8), LogisticSaturation, "
        "yearly_seasonality=2, demand as a control), fit s = build + `fit` inside the subprocess. Peak RSS: the fitting "
        f"process's maximum resident set; {PYMC_CHILD_MEMORY_NOTE} "
        "Compile caches (PyTensor's, numba's) persist between fits: *(cold)* marks a "
        "method's first fit of the study, which compiled into an empty cache; every other fit followed an earlier fit of "
        "the same method (re-measuring a point with `--configs ... --append` replaces its row), and growth exponents "
        "use warm fits only.\n\n"
    )
    by = {_key(r): r for r in rows}
    points = dict.fromkeys((r["channels"], r["periods"], r["freq"]) for r in rows)
    grid = sorted(points, key=lambda g: FULL_GRID.index(g) if g in FULL_GRID else len(FULL_GRID))  # the grid's order
    methods = [m for m in METHODS if any(r["method"] == m for r in rows)]

    def cell(m: str, g: tuple, key: str) -> str:
        r = by.get((m, *g))
        if r is None:
            return "not run"
        if not r.get(key):
            return r.get("note", "-")
        return num(r[key]) + (" (cold)" if r.get("cold") and key == "seconds" else "")

    text += "**Fit wall time (s)** (load = the machine's 1-minute load average after each fit, on 2 cores)\n\n" + table(
        ["channels", "periods", *[METHODS[m] for m in methods], "load"],
        [
            [
                g[0],
                _label_periods({"periods": g[1], "freq": g[2]}),
                *[cell(m, g, "seconds") for m in methods],
                "/".join(num(by[(m, *g)]["load"], 2) for m in methods if by.get((m, *g), {}).get("load")),
            ]
            for g in grid
        ],
    )
    text += "\n**Peak RSS (MB)**\n\n" + table(
        ["channels", "periods", *[METHODS[m] for m in methods]],
        [[g[0], _label_periods({"periods": g[1], "freq": g[2]}), *[cell(m, g, "peak_rss_mb") for m in methods]] for g in grid],
    )
    ratio_rows = []
    for causal, anchor in (("causal_nutpie", "pmm_nutpie"), ("causal_pymc", "pmm_pymc")):
        for g in grid:
            a, b = by.get((causal, *g)), by.get((anchor, *g))
            if a and b and a["seconds"] and b["seconds"]:
                ratio_rows.append(
                    [f"{METHODS[causal]} / {METHODS[anchor]}", g[0], _label_periods({"periods": g[1], "freq": g[2]}), num(a["seconds"] / b["seconds"])]
                )
    if ratio_rows:
        text += "\n**Speed ratio, same sampler** (causalmmm fit s / pymc-marketing fit s; < 1 means causalmmm is faster)\n\n"
        text += table(["pair", "channels", "periods", "ratio"], ratio_rows)
    slope_rows = []
    for axis in ("channels", "periods"):
        for m, v in slopes(rows, axis).items():
            loads = [r["load"] for r in rows if r["method"] == m and r["seconds"] and _on_axis(r, axis) and r.get("load")]
            steady = bool(loads) and max(loads) <= 1.5 * max(min(loads), 1.0)  # a load change moves times more than the grid does
            slope_rows.append([METHODS[m], axis, num(v) if steady else f"not reported: load {num(min(loads), 2)}-{num(max(loads), 2)} across the points"])
    if slope_rows:
        text += "\n**Growth exponent** (slope of log fit s on log channels or log periods: 1 = linear)\n\n" + table(
            ["method", "against", "exponent"], slope_rows
        )
    text += f"\n![fit time and peak RSS against channels and periods, log-log]({PLOT.relative_to(ROOT / 'docs').as_posix()})\n"
    return text


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="3/10 channels, 156/520 weeks, 200 draws")
    ap.add_argument("--draws", type=int, default=None, help="default 300 (quick: 200)")
    ap.add_argument("--tune", type=int, default=None, help="default = draws")
    ap.add_argument("--chains", type=int, default=2)
    ap.add_argument(
        "--methods",
        nargs="+",
        choices=list(METHODS),
        default=DEFAULT_METHODS,
        help=f"default: {' '.join(DEFAULT_METHODS)} (causal_nutpie, not the default sampler, recompiles with numba in every process)",
    )
    ap.add_argument("--timeout", type=float, default=1200.0, help="seconds per fit before it is recorded as a timeout")
    ap.add_argument("--configs", nargs="+", help="only these grid points, written CHANNELSxPERIODS{W|D}, e.g. 3x156W 3x1500D")
    ap.add_argument("--rows", help="also save the measured rows to this JSON file")
    ap.add_argument("--append", action="store_true", help="add to the rows already in --rows (same settings) instead of starting afresh")
    ap.add_argument("--from-rows", help="skip fitting: rebuild the fragment and plot from a --rows file")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        c = json.loads(args.one)
        print(json.dumps(one_fit(c["method"], c["n_channels"], c["n_periods"], c["freq"], c["draws"], c["tune"], c["chains"])))
        return
    from bench.common import command_line, now_utc, write_fragment

    args.draws = args.draws or (200 if args.quick else 300)
    args.tune = args.tune or args.draws
    if args.from_rows:
        saved = json.loads(Path(args.from_rows).read_text())
        rows, command, date = saved["rows"], saved["command"], saved.get("date")
        args.draws, args.tune, args.chains = saved["draws"], saved["tune"], saved["chains"]
    else:
        command, date = command_line(), None
        rows = []
        if args.append and args.rows and Path(args.rows).is_file():
            saved = json.loads(Path(args.rows).read_text())
            rows, command = saved["rows"], f"{saved['command']}` then `{command}"
        grid = QUICK_GRID if args.quick else FULL_GRID
        if args.configs:
            grid = [parse_config(c) for c in args.configs]
        fitted = {r["method"] for r in rows}  # methods that already filled their compile cache in this study
        for n_ch, n_per, freq in grid:
            for m in args.methods:
                print(f"{METHODS[m]}: {n_ch} channels x {n_per}{freq}", file=sys.stderr)
                r = {**measure(m, n_ch, n_per, freq, args), "cold": m not in fitted}
                fitted.add(m)
                rows = [x for x in rows if _key(x) != _key(r)] + [r]  # a re-measured point replaces the old row
                print(f"  {r.get('seconds')} s, {r.get('peak_rss_mb')} MB {r.get('note', '')}", file=sys.stderr)
                if args.rows:
                    saved = {"rows": rows, "command": command, "date": now_utc(), "draws": args.draws, "tune": args.tune, "chains": args.chains}
                    Path(args.rows).write_text(json.dumps(saved))
    plot(rows)
    write_fragment("scaling", fragment(rows, args, command, date))


if __name__ == "__main__":
    main()
