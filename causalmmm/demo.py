"""`causalmmm demo`: the pipeline, as far as it is built, on the bundled example.

Steps: graph check and picture → identification → experiment analysis
(CausalPy geo-lift, switchback) → calibrated fit (small NUTS, or the fast
approximation) → effects → a Q3 counterfactual → budget scenarios →
validation against every experiment → the HTML report.
"""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path
from typing import Any, Callable

from causalmmm.errors import RunError
from causalmmm.fmt import num


def example_dir() -> Path:
    """The bundled example world (data.csv, graph.dot, experiments.yaml, truth.json)."""
    return Path(str(resources.files("causalmmm") / "example"))


def run_demo(
    output: str | Path, *, fast: bool = False, say: Callable[[str], None] = print, show_progress: bool = False, draws: int = 500, tune: int = 500
) -> dict[str, Any]:
    """Run every step on the example, writing into ``output``; return a summary."""
    from causalmmm.api import analyze_experiments_file, fit_run, load_graph_and_data, run_report, run_validate
    from causalmmm.fileio import atomic_write_text
    from causalmmm.graph.draw import draw_graph
    from causalmmm.graph.identify import identify
    from causalmmm.query.do import PosteriorSCM, parse_do, query
    from causalmmm.query.effects import effects
    from causalmmm.query.optimize import budget_scenarios

    out = Path(output)
    if out.exists() and any(out.iterdir()) and not (out / ".causalmmm-demo").exists():
        raise RunError("output directory exists and is not a previous demo output", where=str(out), hint="choose another -o directory")
    out.mkdir(parents=True, exist_ok=True)
    (out / ".causalmmm-demo").touch()
    src = example_dir()
    for p in src.iterdir():
        if p.is_file():
            shutil.copyfile(p, out / p.name)
    graph_file, data_file = out / "graph.dot", out / "data.csv"
    indent = lambda text: "\n".join(f"    {line}" for line in text.splitlines())  # noqa: E731

    say("1/9 graph: checking the example graph against the data")
    graph, data = load_graph_and_data(graph_file, data_file)
    for w in data.warnings:
        say(f"    warning: {w}")
    say(f"    {len(graph.nodes)} nodes, {len(graph.edges)} edges, {data.n_periods} periods ({data.freq}), outcome {graph.outcome!r}")
    picture = draw_graph(graph, out / "graph.png")
    say(f"    picture: {picture}")

    say("2/9 identification: adjustment sets and mediators per spend channel")
    ident = identify(graph)
    say(indent(ident.to_text()))

    say("3/9 experiments: analysing the raw geo-lift (CausalPy) and switchback data")
    analysed = out / "experiments.analysed.yaml"
    results = analyze_experiments_file(out / "experiments.yaml", analysed, seed=1, force=True, show_progress=show_progress)
    for r in results:
        say(f"    {r.experiment.name}: {num(r.estimate)} ± {num(r.se)} per period ({r.method})")

    mode = "fast approximation" if fast else f"NUTS ({draws} draws x 2 chains)"
    say(f"4/9 fit: one Bayesian submodel per node, calibrated by the experiments, {mode}")
    run = fit_run(
        graph_file, data_file, out / "run", experiments=analysed, draws=draws, tune=tune, chains=2, seed=1, fast=fast, force=True, show_progress=show_progress
    )
    say(indent(run.summary_text()))

    scm = PosteriorSCM.from_run(run)
    say("5/9 effects: total and path-specific, ROAS and mROAS (94% HDI)")
    eff = effects(scm)
    say(indent(eff.to_text()))

    say("6/9 counterfactual: what if PPC had been off in Q3 2023?")
    q = query(scm, [parse_do("ppc_spend=0")], start="2023-07-03", end="2023-09-25")
    say(indent(q.to_text()))

    say("7/9 budget: optimal split at 0.8x, 1.0x and 1.2x the current weekly budget (last 52 weeks)")
    scenarios = budget_scenarios(scm, (0.8, 1.0, 1.2), periods=52)
    for a in scenarios:
        say(indent(a.to_text()))

    say("8/9 validation: predicted vs measured for every experiment")
    val = run_validate(out / "run", analysed)
    say(indent(val.to_text()))
    summary = {
        "output": str(out),
        "run": str(out / "run"),
        "graph_picture": str(picture),
        "identification": ident.to_dict(),
        "experiments": [r.to_dict() for r in results],
        "fit": run.summary,
        "effects": eff.to_dict(),
        "query": q.to_dict(),
        "scenarios": [a.to_dict() for a in scenarios],
        "validation": val.to_dict(),
    }
    say("9/9 report: the HTML report with a plain-language summary")
    report = run_report(out / "run", out / "report.html", experiments=analysed, force=True, show_progress=show_progress)
    say(f"    open {report}")
    summary["report"] = str(report)
    atomic_write_text(out / "demo-summary.json", json.dumps(summary, indent=2, default=float))
    return summary
