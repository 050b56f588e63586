"""The bad-input battery (issue 8): every wrong input a user can give, through the real CLI.

Each case runs ``causalmmm ...`` in-process (``causalmmm.cli.main``) and checks the
contract of a failure:

- the exit code is not 0;
- stderr is exactly one line, starting with ``error:``;
- the line names the offending thing (file and line, column, node, date, ...) and says
  how to fix it (the part after ``;``);
- there is no traceback;
- nothing is left behind: the ``-o`` target does not exist afterwards, or an existing
  one is byte-for-byte unchanged, and no hidden staging file or directory remains.

A few cases also run as a subprocess (``python -m causalmmm.cli`` and the console
script) to prove there is no traceback end to end. Runs for query/optimize cases are
written from fixed parameter draws (no sampling), so the whole battery takes seconds.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pytest

from causalmmm.cli import main

REPO = Path(__file__).resolve().parents[1]
MARKETING = REPO / "graphs" / "marketing.dot"


# ----------------------------------------------------------------- fixtures


def _marketing_frame() -> pd.DataFrame:
    """156 weeks of positive noise for every observed node of the example graph."""
    rng = np.random.default_rng(0)
    cols = ["demand", "promo", "ppc_spend", "social_spend", "brand_spend", "ppc_clicks", "seo_clicks", "social_clicks", "direct_clicks", "sales"]
    df = pd.DataFrame({"date": pd.date_range("2022-01-03", periods=156, freq="W-MON").strftime("%Y-%m-%d")})
    for c in cols:
        df[c] = np.round(rng.gamma(5.0, 100.0, len(df)), 3)
    return df


GOOD_EXPERIMENTS = """\
experiments:
  - name: ppc_switchback
    design: switchback
    treatment: ppc_spend
    intervention: off
    measured: [ppc_clicks, seo_clicks]
    start: 2022-04-04
    end: 2022-05-30
    estimate: -1234.5
    se: 80.0
    unit: per_period
    use: calibrate
  - name: brand_lift
    design: lift
    treatment: brand_spend
    intervention: {scale: 0.5}
    measured: sales
    start: 2022-06-06
    end: 2022-08-01
    estimate: -300.0
    se: 50.0
    use: holdout
"""


def _lin_graph():
    from causalmmm.graph import CausalGraph

    return (
        CausalGraph("lin")
        .add_node("c", "confounder")
        .add_node("x", "spend")
        .add_node("z", "spend")
        .add_node("m1", "mediator")
        .add_node("y", "outcome")
        .add_edge("c", "x")
        .add_edge("x", "m1", adstock="none", saturation="none")
        .add_edge("z", "y", adstock="none", saturation="none")
        .add_edge("m1", "y")
        .add_edge("c", "y")
    )


def _write_fixed_draw_run(path: Path) -> None:
    """A valid run directory written from fixed parameter draws (no sampler)."""
    import arviz as az

    from causalmmm.data import load_data
    from causalmmm.model.equations import param_name
    from causalmmm.model.fit import FitResult, SamplerConfig, fit_blocks
    from causalmmm.model.run import write_run
    from causalmmm.spec import build_spec

    g = _lin_graph()
    rng = np.random.default_rng(1)
    T = 52
    c = 10 + rng.normal(0, 1, T)
    x = 50 + 3 * c + rng.normal(0, 5, T)
    z = 20 + rng.gamma(2.0, 5.0, T)
    m1 = 5 + 0.8 * x + rng.normal(0, 2, T)
    y = 100 + 0.6 * m1 + 0.5 * z + 2 * c + rng.normal(0, 3, T)
    df = pd.DataFrame({"date": pd.date_range("2023-01-02", periods=T, freq="W-MON"), "c": c, "x": x, "z": z, "m1": m1, "y": y})
    data = load_data(df).validate_against(g)
    spec = build_spec(g, data)
    blocks = fit_blocks(spec)
    n = 8
    idata = []
    for block in blocks:
        post = {}
        for name in block:
            node = spec.node(name)
            post[param_name(name, "intercept")] = np.full((1, n), 0.3)
            post[param_name(name, "sigma")] = np.full((1, n), 0.05)
            for e in node.edges:
                for k in e.param_names:
                    post[param_name(name, k, e.source)] = np.full((1, n), 0.4) + 0.01 * np.arange(n)[None, :]
        idata.append(az.from_dict(posterior=post))
    fit = FitResult(blocks, idata, [], SamplerConfig(draws=n, chains=1), 0.0)
    write_run(path, g, spec, data, fit)


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    """Shared good inputs: data, experiments, a run, and a few existing outputs."""
    b = tmp_path_factory.mktemp("bad_input")
    _marketing_frame().to_csv(b / "data.csv", index=False)
    (b / "experiments.yaml").write_text(GOOD_EXPERIMENTS)
    _write_fixed_draw_run(b / "run")
    # sanity: the run is usable, so every query/optimize failure below is due to the bad argument
    assert main(["query", str(b / "run"), "--do", "x=0", "--json"]) == 0
    return b


@dataclass
class Case:
    """One bad input: how to build it, the argv, what the line must contain, what must not be written."""

    id: str
    argv: Callable[[Path, Path], list[str]]  # (base, tmp) -> argv
    needles: tuple[str, ...]
    setup: Callable[[Path, Path], None] = lambda base, tmp: None
    output: Callable[[Path, Path], Path | None] = lambda base, tmp: None  # the -o target, if any
    existing: bool = False  # the -o target exists before the command (and must stay unchanged)
    exit_code: int | None = None
    extra: dict = field(default_factory=dict)


def _w(name: str, text: str) -> Callable[[Path, Path], None]:
    def setup(base: Path, tmp: Path) -> None:
        (tmp / name).write_text(text)

    return setup


def _csv(mutate: Callable[[pd.DataFrame], pd.DataFrame] | None = None, text: str | None = None) -> Callable[[Path, Path], None]:
    def setup(base: Path, tmp: Path) -> None:
        if text is not None:
            (tmp / "d.csv").write_text(text)
        else:
            df = mutate(_marketing_frame())  # type: ignore[misc]
            df.to_csv(tmp / "d.csv", index=False)

    return setup


def _fit_with_graph(graph_name: str) -> Callable[[Path, Path], list[str]]:
    return lambda b, t: ["fit", str(t / graph_name), str(b / "data.csv"), "-o", str(t / "run")]


def _fit_with_data() -> Callable[[Path, Path], list[str]]:
    return lambda b, t: ["fit", str(MARKETING), str(t / "d.csv"), "-o", str(t / "run")]


def _fit_with_experiments() -> Callable[[Path, Path], list[str]]:
    return lambda b, t: ["fit", str(MARKETING), str(b / "data.csv"), "--experiments", str(t / "e.yaml"), "-o", str(t / "run"), "--fast"]


def _analyze() -> Callable[[Path, Path], list[str]]:
    return lambda b, t: ["experiments", "analyze", str(t / "e.yaml"), "-o", str(t / "out.yaml")]


def _exp(old: str, new: str) -> Callable[[Path, Path], None]:
    assert old in GOOD_EXPERIMENTS, old
    return _w("e.yaml", GOOD_EXPERIMENTS.replace(old, new, 1))


def _copy_run(mutate: Callable[[Path], None]) -> Callable[[Path, Path], None]:
    def setup(base: Path, tmp: Path) -> None:
        shutil.copytree(base / "run", tmp / "run")
        mutate(tmp / "run")

    return setup


def _bump_first_value(csv: Path) -> None:
    lines = csv.read_text().splitlines()
    fields = lines[1].split(",")
    fields[-1] = str(float(fields[-1]) + 1.0)
    lines[1] = ",".join(fields)
    csv.write_text("\n".join(lines) + "\n")


_RUN = lambda b, t: t / "run"  # noqa: E731
_OUT_YAML = lambda b, t: t / "out.yaml"  # noqa: E731

_DOT_HEAD = "digraph g {\n  a [role=spend];\n  m [role=mediator];\n  y [role=outcome];\n"

CASES = [
    # ------------------------------------------------------------ graph errors
    Case(
        "graph-syntax-error-line",
        _fit_with_graph("g.dot"),
        ("g.dot:6", "syntax error", "fix the DOT syntax"),
        setup=_w("g.dot", _DOT_HEAD + "  a -> m\n  m -> ;\n}\n"),
        output=_RUN,
    ),
    Case(
        "graph-cycle",
        _fit_with_graph("g.dot"),
        ("g.dot", "cycle", "m -> y -> m", "remove or reverse"),
        setup=_w("g.dot", _DOT_HEAD + "  a -> m;\n  m -> y;\n  y -> m;\n}\n"),
        output=_RUN,
    ),
    Case(
        "graph-unknown-role",
        _fit_with_graph("g.dot"),
        ("g.dot:3", "node 'm'", "unknown role 'sales'"),
        setup=_w("g.dot", "digraph g {\n  a [role=spend];\n  m [role=sales];\n  y [role=outcome];\n  a -> m;\n  m -> y;\n}\n"),
        output=_RUN,
    ),
    Case(
        "graph-two-outcomes",
        _fit_with_graph("g.dot"),
        ("g.dot", "2 outcome nodes", "m, y", "exactly one node with role=outcome"),
        setup=_w("g.dot", "digraph g {\n  a [role=spend];\n  m [role=outcome];\n  y [role=outcome];\n  a -> m;\n  a -> y;\n}\n"),
        output=_RUN,
    ),
    Case(
        "graph-node-declared-twice-with-two-roles",
        _fit_with_graph("g.dot"),
        ("g.dot:5", "node 'm'", "role", "declare each node once"),
        setup=_w("g.dot", _DOT_HEAD + "  m [role=confounder];\n  a -> m;\n  m -> y;\n}\n"),
        output=_RUN,
    ),
    Case(
        "graph-yaml-duplicated-node-key",
        _fit_with_graph("g.yaml"),
        ("g.yaml:5", "duplicate key 'm'", "once"),
        setup=_w(
            "g.yaml",
            "nodes:\n  a: {role: spend}\n  m: {role: mediator}\n  y: {role: outcome}\n  m: {role: confounder}\n"
            "edges:\n  - {from: a, to: m}\n  - {from: m, to: y}\n",
        ),
        output=_RUN,
    ),
    Case(
        "graph-no-outcome",
        _fit_with_graph("g.dot"),
        ("g.dot", "no outcome node", "role=outcome"),
        setup=_w("g.dot", "digraph g {\n  a [role=spend];\n  m [role=mediator];\n  a -> m;\n}\n"),
        output=_RUN,
    ),
    Case(
        "graph-self-loop",
        _fit_with_graph("g.dot"),
        ("g.dot:6", "m -> m", "self-loop", "remove the edge"),
        setup=_w("g.dot", _DOT_HEAD + "  a -> m;\n  m -> m;\n  m -> y;\n}\n"),
        output=_RUN,
    ),
    Case(
        "graph-yaml-edge-to-unknown-node",
        _fit_with_graph("g.yaml"),
        ("g.yaml", "edges[1]", "unknown node 'sales'", "declare it"),
        setup=_w("g.yaml", "nodes:\n  a: {role: spend}\n  y: {role: outcome}\nedges:\n  - {from: a, to: y}\n  - {from: a, to: sales}\n"),
        output=_RUN,
    ),
    Case(
        "graph-yaml-python-tag",
        _fit_with_graph("g.yaml"),
        ("g.yaml:2", "!!python", "not allowed"),
        setup=_w("g.yaml", "nodes:\n  a: !!python/object/apply:os.system ['touch pwned']\n  y: {role: outcome}\n"),
        output=_RUN,
    ),
    Case(
        "graph-edge-attribute-bad-value",
        _fit_with_graph("g.dot"),
        ("g.dot:5", "a -> m", "lag must be an integer, got 'soon'", "lag=1"),
        setup=_w("g.dot", _DOT_HEAD + "  a -> m [lag=soon];\n  m -> y;\n}\n"),
        output=_RUN,
    ),
    Case(
        "graph-yaml-node-not-a-mapping",
        _fit_with_graph("g.yaml"),
        ("g.yaml", "node 'a'", "must be a mapping", "role: spend"),
        setup=_w("g.yaml", "nodes:\n  a: spend\n  y: {role: outcome}\nedges:\n  - {from: a, to: y}\n"),
        output=_RUN,
    ),
    Case(
        "graph-file-missing",
        lambda b, t: ["fit", str(t / "nope.dot"), str(b / "data.csv"), "-o", str(t / "run")],
        ("nope.dot", "graph file not found", "check the path"),
        output=_RUN,
    ),
    Case(
        "graph-unknown-suffix", _fit_with_graph("g.txt"), ("g.txt", "unknown graph file type '.txt'", ".dot"), setup=_w("g.txt", "digraph g {}\n"), output=_RUN
    ),
    # ------------------------------------------------------------- data errors
    Case(
        "data-file-missing",
        lambda b, t: ["fit", str(MARKETING), str(t / "nope.csv"), "-o", str(t / "run")],
        ("nope.csv", "data file not found", "check the path"),
        output=_RUN,
    ),
    Case(
        "data-missing-column",
        _fit_with_data(),
        ("d.csv", "without a data column: seo_clicks", "add the columns"),
        setup=_csv(lambda df: df.drop(columns=["seo_clicks"])),
        output=_RUN,
    ),
    Case(
        "data-duplicated-column",
        _fit_with_data(),
        ("d.csv", "duplicated column 'promo'", "once"),
        setup=_csv(text="date,promo,promo\n2024-01-01,1,1\n2024-01-08,2,2\n2024-01-15,3,3\n"),
        output=_RUN,
    ),
    Case(
        "data-non-numeric",
        _fit_with_data(),
        ("d.csv", "column 'ppc_spend'", "data row 4", "non-numeric value '1,200 EUR'", "plain numbers"),
        setup=_csv(lambda df: df.astype({"ppc_spend": object}).assign(ppc_spend=lambda d: d["ppc_spend"].where(d.index != 3, "1,200 EUR"))),
        output=_RUN,
    ),
    Case(
        "data-nan",
        _fit_with_data(),
        ("d.csv", "column 'sales'", "data row 11", "missing value", "fill or impute"),
        setup=_csv(lambda df: df.assign(sales=lambda d: d["sales"].where(d.index != 10, np.nan))),
        output=_RUN,
    ),
    Case(
        "data-negative-spend",
        _fit_with_data(),
        ("d.csv", "'brand_spend'", "negative on 2022-02-07", "spend must be >= 0"),
        setup=_csv(lambda df: df.assign(brand_spend=lambda d: d["brand_spend"].where(d.index != 5, -10.0))),
        output=_RUN,
    ),
    Case(
        "data-duplicated-date",
        _fit_with_data(),
        ("d.csv", "column 'date'", "duplicated date 2022-01-17", "one row per period"),
        setup=_csv(lambda df: df.assign(date=lambda d: d["date"].where(d.index != 3, "2022-01-17"))),
        output=_RUN,
    ),
    Case(
        "data-gapped-dates",
        _fit_with_data(),
        ("d.csv", "gap between 2022-03-28 and 2022-04-11", "fill the missing periods"),
        setup=_csv(lambda df: df.drop(index=13)),
        output=_RUN,
    ),
    Case(
        "data-unparsable-date",
        _fit_with_data(),
        ("d.csv", "column 'date'", "data row 8", "unparsable date 'week 8'", "ISO dates"),
        setup=_csv(lambda df: df.assign(date=lambda d: d["date"].where(d.index != 7, "week 8"))),
        output=_RUN,
    ),
    Case("data-empty-file", _fit_with_data(), ("d.csv", "empty", "header row"), setup=_csv(text=""), output=_RUN),
    Case("data-header-only", _fit_with_data(), ("d.csv", "header but no rows", "add data rows"), setup=_csv(text="date,sales,ppc_spend\n"), output=_RUN),
    Case(
        "data-no-date-column",
        lambda b, t: ["fit", str(MARKETING), str(t / "d.csv"), "-o", str(t / "run"), "--date-column", "week"],
        ("d.csv", "no date column 'week'", "--date-column"),
        setup=_csv(lambda df: df),
        output=_RUN,
    ),
    Case(
        "data-semicolon-separated",
        _fit_with_data(),
        ("d.csv", "no date column 'date'", "separated by ';'", "comma-separated"),
        setup=_csv(text="date;promo;sales\n2024-01-01;1;1\n2024-01-08;2;2\n2024-01-15;3;3\n"),
        output=_RUN,
    ),
    Case(
        "data-infinite-value",
        _fit_with_data(),
        ("d.csv", "column 'demand'", "infinite value", "finite"),
        setup=_csv(lambda df: df.assign(demand=lambda d: d["demand"].where(d.index != 2, np.inf))),
        output=_RUN,
    ),
    # ------------------------------------------------------- experiment errors
    Case(
        "experiment-unknown-node",
        _fit_with_experiments(),
        ("e.yaml", "experiment 'brand_lift'", "unknown node 'tv_spend'", "graph nodes"),
        setup=_exp("treatment: brand_spend", "treatment: tv_spend"),
        output=_RUN,
    ),
    Case(
        "experiment-start-after-end",
        _analyze(),
        ("e.yaml:2", "experiment 'ppc_switchback'", "after end", "swap start and end"),
        setup=_exp("start: 2022-04-04", "start: 2022-07-04"),
        output=_OUT_YAML,
    ),
    Case(
        "experiment-window-outside-data",
        _fit_with_experiments(),
        ("e.yaml", "'brand_lift'", "2022-06-06..2031-08-01 is outside the data", "fix the dates"),
        setup=_exp("end: 2022-08-01", "end: 2031-08-01"),
        output=_RUN,
    ),
    Case(
        "experiment-unknown-unit",
        _analyze(),
        ("e.yaml:2", "unknown unit 'weekly'", "allowed: per_period, total"),
        setup=_exp("unit: per_period", "unit: weekly"),
        output=_OUT_YAML,
    ),
    Case(
        "experiment-no-result-no-data",
        _analyze(),
        ("e.yaml:13", "'brand_lift'", "no result and no raw data", "give estimate and se"),
        setup=_exp("    estimate: -300.0\n    se: 50.0\n", ""),
        output=_OUT_YAML,
    ),
    Case("experiment-se-zero", _analyze(), ("e.yaml:13", "se must be > 0", "standard error"), setup=_exp("se: 50.0", "se: 0"), output=_OUT_YAML),
    Case("experiment-se-negative", _fit_with_experiments(), ("e.yaml:2", "se must be > 0", "standard error"), setup=_exp("se: 80.0", "se: -80.0"), output=_RUN),
    Case(
        "experiment-duplicate-name",
        _analyze(),
        ("e.yaml", "duplicate experiment name 'ppc_switchback'", "unique name"),
        setup=_exp("name: brand_lift", "name: ppc_switchback"),
        output=_OUT_YAML,
    ),
    Case(
        "experiment-python-tag",
        _analyze(),
        ("e.yaml:2", "!!python", "not allowed"),
        setup=_w("e.yaml", "experiments:\n  - !!python/object/new:os.system ['touch pwned']\n"),
        output=_OUT_YAML,
    ),
    Case(
        "experiment-yaml-syntax-error",
        _fit_with_experiments(),
        ("e.yaml:3", "invalid YAML", "fix the YAML syntax"),
        setup=_w("e.yaml", "experiments:\n  - name: a\n   design: lift\n"),
        output=_RUN,
    ),
    Case(
        "experiment-file-missing",
        lambda b, t: ["fit", str(MARKETING), str(b / "data.csv"), "--experiments", str(t / "nope.yaml"), "-o", str(t / "run")],
        ("nope.yaml", "experiments file not found", "check the path"),
        output=_RUN,
    ),
    Case("experiment-top-level-not-a-list", _analyze(), ("e.yaml", "top-level 'experiments:' list"), setup=_w("e.yaml", "- name: a\n"), output=_OUT_YAML),
    Case(
        "experiment-yaml-duplicate-key",
        _analyze(),
        ("e.yaml:11", "duplicate key 'se'", "only once"),
        setup=_exp("    se: 80.0\n", "    se: 80.0\n    se: 90.0\n"),
        output=_OUT_YAML,
    ),
    Case(
        "experiment-missing-data-file",
        _analyze(),
        ("e.yaml", "'ppc_switchback'", "nope.csv", "not found"),
        setup=_exp("    estimate: -1234.5\n    se: 80.0\n", "    data: nope.csv\n"),
        output=_OUT_YAML,
    ),
    # ------------------------------------------------------------ query errors
    Case("query-unknown-node", lambda b, t: ["query", str(b / "run"), "--do", "tv_spend=0"], ("unknown or unobserved node 'tv_spend'", "observed nodes: ")),
    Case("query-malformed-do", lambda b, t: ["query", str(b / "run"), "--do", "x==0"], ("malformed --do 'x==0'", "node=VALUE")),
    Case("query-malformed-do-value", lambda b, t: ["query", str(b / "run"), "--do", "x=off"], ("malformed --do 'x=off'", "node=VALUE")),
    Case(
        "query-window-outside-data",
        lambda b, t: ["query", str(b / "run"), "--do", "x=0", "--start", "2030-01-07", "--end", "2030-03-04"],
        ("query window 2030-01-07..2030-03-04 is outside the data (2023-01-02..2023-12-25)", "inside the data range"),
    ),
    Case("query-do-value-not-finite", lambda b, t: ["query", str(b / "run"), "--do", "x=1e999", "--json"], ("--do 'x=1e999'", "finite value")),
    Case(
        "query-window-start-after-end",
        lambda b, t: ["query", str(b / "run"), "--do", "x=0", "--start", "2023-06-05", "--end", "2023-03-06"],
        ("starts (2023-06-05) after it ends (2023-03-06)", "swap start and end"),
    ),
    Case("query-unparsable-window-date", lambda b, t: ["query", str(b / "run"), "--do", "x=0", "--start", "last summer"], ("'last summer'", "ISO dates")),
    Case(
        "query-unknown-outcome",
        lambda b, t: ["query", str(b / "run"), "--do", "x=0", "--outcome", "revenue"],
        ("unknown outcome node 'revenue'", "observed nodes"),
    ),
    Case("query-not-a-run-directory", lambda b, t: ["query", str(t), "--do", "x=0"], ("not a run directory", "missing summary.json", "pass the -o directory")),
    Case("query-run-path-missing", lambda b, t: ["effects", str(t / "nope")], ("nope", "not a run directory", "pass the -o directory")),
    Case(
        "query-run-corrupt-summary",
        lambda b, t: ["query", str(t / "run"), "--do", "x=0"],
        ("run", "summary.json", "corrupt", "refit"),
        setup=_copy_run(lambda r: (r / "summary.json").write_text('{"format_version": 1, "outc')),
    ),
    Case(
        "query-run-missing-posterior",
        lambda b, t: ["query", str(t / "run"), "--do", "x=0"],
        ("run", "missing posterior file block_00.nc", "refit"),
        setup=_copy_run(lambda r: (r / "posterior" / "block_00.nc").unlink()),
    ),
    Case(
        "query-run-corrupt-posterior",
        lambda b, t: ["effects", str(t / "run")],
        ("block_01.nc", "cannot read", "refit"),
        setup=_copy_run(lambda r: (r / "posterior" / "block_01.nc").write_bytes(b"not netcdf at all")),
    ),
    Case(
        "query-run-data-changed",
        lambda b, t: ["query", str(t / "run"), "--do", "x=0"],
        ("data.csv", "fingerprint", "refit"),
        setup=_copy_run(lambda r: _bump_first_value(r / "data.csv")),
    ),
    Case(
        "query-run-missing-graph",
        lambda b, t: ["effects", str(t / "run")],
        ("run", "not a run directory (missing graph.dot)", "pass the -o directory"),
        setup=_copy_run(lambda r: (r / "graph.dot").unlink()),
    ),
    Case(
        "query-run-corrupt-spec",
        lambda b, t: ["query", str(t / "run"), "--do", "x=0"],
        ("spec.json", "corrupt", "refit"),
        setup=_copy_run(lambda r: (r / "spec.json").write_text('{"nodes": 3}')),
    ),
    # --------------------------------------------------------- optimize errors
    Case(
        "optimize-bounds-infeasible",
        lambda b, t: ["optimize", str(b / "run"), "--budget", "100", "--bounds", "x=0:10", "--bounds", "z=0:20"],
        ("--bounds", "cannot add up to the budget 100", "upper bounds sum to only 30", "loosen --bounds"),
    ),
    Case(
        "optimize-bounds-lower-above-budget",
        lambda b, t: ["optimize", str(b / "run"), "--budget", "100", "--bounds", "x=80:90", "--bounds", "z=50:60"],
        ("cannot add up to the budget 100", "lower bounds alone sum to 130", "raise --budget"),
    ),
    Case(
        "optimize-unknown-channel",
        lambda b, t: ["optimize", str(b / "run"), "--budget", "100", "--bounds", "tv_spend=0:10"],
        ("--bounds for unknown channel 'tv_spend'", "spend channels: x, z"),
    ),
    Case(
        "optimize-malformed-bounds",
        lambda b, t: ["optimize", str(b / "run"), "--budget", "100", "--bounds", "x=10-20"],
        ("malformed --bounds 'x=10-20'", "node=lo:hi"),
    ),
    Case(
        "optimize-reversed-bounds",
        lambda b, t: ["optimize", str(b / "run"), "--budget", "100", "--bounds", "x=50:10"],
        ("--bounds for 'x'", "50:10", "0 <= lo <= hi"),
    ),
    Case(
        "optimize-periods-outside-data",
        lambda b, t: ["optimize", str(b / "run"), "--budget", "100", "--periods", "0"],
        ("--periods 0 is outside 1..52", "inside the data"),
    ),
    Case("optimize-negative-budget", lambda b, t: ["optimize", str(b / "run"), "--budget", "-5"], ("budget must be a positive number", "--budget")),
    # ------------------------------------------- overwriting without --force
    Case(
        "overwrite-fit-output",
        lambda b, t: ["fit", str(MARKETING), str(b / "data.csv"), "-o", str(t / "run")],
        ("run", "already exists", "--force"),
        setup=lambda b, t: (t / "run").mkdir() or (t / "run" / "keep.txt").write_text("mine"),
        output=_RUN,
        existing=True,
    ),
    Case(
        "overwrite-simulate-output",
        lambda b, t: ["simulate", "search", "-o", str(t / "world")],
        ("world", "already exists", "--force"),
        setup=lambda b, t: (t / "world").mkdir() or (t / "world" / "data.csv").write_text("mine"),
        output=lambda b, t: t / "world",
        existing=True,
    ),
    Case(
        "overwrite-experiments-analyze-output",
        _analyze(),
        ("out.yaml", "already exists", "--force"),
        setup=lambda b, t: _w("e.yaml", GOOD_EXPERIMENTS)(b, t) or (t / "out.yaml").write_text("mine"),
        output=_OUT_YAML,
        existing=True,
    ),
    Case(
        "overwrite-report-output",
        lambda b, t: ["report", str(b / "run"), "-o", str(t / "report.html")],
        ("report.html", "already exists", "--force"),
        setup=lambda b, t: (t / "report.html").write_text("mine"),
        output=lambda b, t: t / "report.html",
        existing=True,
    ),
    Case(
        "overwrite-graph-discover-output",
        lambda b, t: ["graph", "discover", str(b / "data.csv"), "--outcome", "sales", "-o", str(t / "draft.dot")],
        ("draft.dot", "already exists", "--force"),
        setup=lambda b, t: (t / "draft.dot").write_text("mine"),
        output=lambda b, t: t / "draft.dot",
        existing=True,
    ),
    # ----------------------------------------------------------- usage errors
    Case("usage-fit-without-output", lambda b, t: ["fit", str(MARKETING), str(b / "data.csv")], ("-o/--output", "see --help")),
    Case(
        "usage-unknown-sampler",
        lambda b, t: ["fit", str(MARKETING), str(b / "data.csv"), "-o", str(t / "run"), "--sampler", "gibbs"],
        ("--sampler", "'gibbs'", "see --help"),
        output=_RUN,
    ),
]


def _snapshot(path: Path) -> dict[str, str]:
    if path.is_file():
        return {"": hashlib.sha256(path.read_bytes()).hexdigest()}
    return {str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir" for p in sorted(path.rglob("*"))}


def check_failure(code: int, out: str, err: str, needles: tuple[str, ...]) -> str:
    assert code != 0, f"exit code 0: {err!r}"
    assert "Traceback" not in err and "Traceback" not in out
    lines = err.splitlines()
    assert len(lines) == 1 and err.endswith("\n"), f"stderr is not one line: {err!r}"
    line = lines[0]
    assert line.startswith("error: "), line
    assert "internal error" not in line, line
    for needle in needles:
        assert needle in line, f"{needle!r} not in {line!r}"
    assert ";" in line or "(see --help)" in line, f"no fix hint in {line!r}"
    assert out == "", f"stdout is not empty: {out!r}"
    return line


def test_battery_has_at_least_35_cases():
    assert len(CASES) >= 35 and len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, base: Path, tmp_path: Path, capsys):
    case.setup(base, tmp_path)
    target = case.output(base, tmp_path)
    before = _snapshot(target) if (target is not None and case.existing) else None
    if target is not None and not case.existing:
        assert not target.exists()
    listing = sorted(p.name for p in tmp_path.iterdir())
    capsys.readouterr()
    code = main(case.argv(base, tmp_path))
    out, err = capsys.readouterr()
    check_failure(code, out, err, case.needles)
    if case.exit_code is not None:
        assert code == case.exit_code
    if target is not None:
        if case.existing:
            assert _snapshot(target) == before, "an existing output was changed"
        else:
            assert not target.exists(), "a partial output was left behind"
    # nothing new beside the inputs: no staging directories, no temporary files
    assert sorted(p.name for p in tmp_path.iterdir()) == listing
    assert not (Path.cwd() / "pwned").exists()


# ------------------------------------------------------- end to end (subprocess)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("CAUSALMMM_DEBUG", None)
    return env


@pytest.mark.parametrize("case_id", ["data-nan", "graph-syntax-error-line", "experiment-python-tag"])
def test_bad_input_as_a_subprocess(case_id: str, base: Path, tmp_path: Path):
    """``python -m causalmmm.cli``: one line, no traceback, nothing written."""
    case = next(c for c in CASES if c.id == case_id)
    case.setup(base, tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "causalmmm.cli", *case.argv(base, tmp_path)], capture_output=True, text=True, env=_env(), cwd=tmp_path, timeout=120
    )
    check_failure(proc.returncode, proc.stdout, proc.stderr, case.needles)
    target = case.output(base, tmp_path)
    assert target is None or not target.exists()
    assert not (tmp_path / "pwned").exists()


def test_console_script_query_on_a_corrupt_run(base: Path, tmp_path: Path):
    """The installed ``causalmmm`` entry point behaves the same."""
    exe = Path(sys.executable).parent / "causalmmm"
    if not exe.exists():
        pytest.skip("console script not installed next to the interpreter")
    shutil.copytree(base / "run", tmp_path / "run")
    (tmp_path / "run" / "summary.json").write_text("{")
    proc = subprocess.run([str(exe), "query", str(tmp_path / "run"), "--do", "x=0", "--json"], capture_output=True, text=True, env=_env(), timeout=120)
    check_failure(proc.returncode, proc.stdout, proc.stderr, ("summary.json", "corrupt", "refit"))
    assert json.loads((base / "run" / "summary.json").read_text())["format_version"] >= 1
