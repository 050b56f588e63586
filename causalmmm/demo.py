"""`causalmmm demo`: the pipeline, as far as it is built, on the bundled example.

Steps today: graph check → identification → graph picture → model spec →
fit (small NUTS, or the fast approximation) → run directory. Later issues add
effects, queries, experiments, validation and the report.
"""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path
from typing import Any, Callable

from causalmmm.errors import RunError


def example_dir() -> Path:
    """The bundled example world (data.csv, graph.dot, experiments.yaml, truth.json)."""
    return Path(str(resources.files("causalmmm") / "example"))


def run_demo(output: str | Path, *, fast: bool = False, say: Callable[[str], None] = print, show_progress: bool = False,
             draws: int = 300, tune: int = 300) -> dict[str, Any]:
    """Run every built step on the example, writing into ``output``; return a summary."""
    from causalmmm.api import fit_run, load_graph_and_data
    from causalmmm.graph.draw import draw_graph
    from causalmmm.graph.identify import identify

    out = Path(output)
    if out.exists() and any(out.iterdir()) and not (out / ".causalmmm-demo").exists():
        raise RunError("output directory exists and is not a previous demo output", where=str(out), hint="choose another -o directory")
    out.mkdir(parents=True, exist_ok=True)
    (out / ".causalmmm-demo").touch()
    src = example_dir()
    for name in ("graph.dot", "data.csv", "experiments.yaml", "truth.json"):
        if (src / name).exists():
            shutil.copyfile(src / name, out / name)
    graph_file, data_file = out / "graph.dot", out / "data.csv"

    say("1/4 graph: checking the example graph against the data")
    graph, data = load_graph_and_data(graph_file, data_file)
    for w in data.warnings:
        say(f"    warning: {w}")
    say(f"    {len(graph.nodes)} nodes, {len(graph.edges)} edges, {data.n_periods} periods ({data.freq}), outcome {graph.outcome!r}")

    say("2/4 identification: adjustment sets and mediators per spend channel")
    report = identify(graph)
    for line in report.to_text().splitlines():
        say(f"    {line}")

    picture = draw_graph(graph, out / "graph.png")
    say(f"3/4 picture: {picture}")

    mode = "fast approximation" if fast else f"NUTS ({draws} draws x 2 chains)"
    say(f"4/4 fit: one Bayesian submodel per node, {mode}")
    run = fit_run(graph_file, data_file, out / "run", draws=draws, tune=tune, chains=2, seed=1, fast=fast, force=True,
                  show_progress=show_progress)
    for line in run.summary_text().splitlines():
        say(f"    {line}")
    say("not built yet: effects/ROAS, do() queries, optimiser (issue 5); experiment calibration (issue 6); validation (issue 7); report (issue 8)")
    return {"output": str(out), "run": str(out / "run"), "graph_picture": str(picture), "identification": report.to_dict(),
            "fit": run.summary}
