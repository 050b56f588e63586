"""Experiment files and the calibration contrast (no sampling)."""

from __future__ import annotations

import numpy as np
import pytensor
import pytest

from causalmmm.errors import ExperimentError
from causalmmm.experiments.calibrate import calibration_ties, involved_nodes
from causalmmm.experiments.schema import check_against, experiments_from_yaml, experiments_to_yaml
from causalmmm.model.build import build_model, variables_by_edge
from causalmmm.model.fit import fit_blocks
from causalmmm.query.do import PosteriorSCM, parse_do
from causalmmm.spec import build_spec

GOOD = """
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
  - name: brand_geo
    design: geo_lift
    treatment: brand_spend
    intervention: {scale: 0.5}
    measured: sales
    start: 2022-06-06
    end: 2022-08-01
    data: brand_geo.csv
    treated: [geo_03, geo_07]
    geo_shares: {geo_03: 0.05, geo_07: 0.04}  # without shares the estimate is geo-level and check_against refuses it
    use: holdout
"""


def test_parse_good_file_round_trips():
    exps = experiments_from_yaml(GOOD, "e.yaml")
    sb, geo = exps
    assert tuple(sb.intervention) == ("set", 0.0) and sb.measured == ("ppc_clicks", "seo_clicks") and sb.has_result
    assert tuple(geo.intervention) == ("scale", 0.5) and geo.measured == ("sales",) and not geo.has_result and geo.treated == ("geo_03", "geo_07")
    again = experiments_from_yaml(experiments_to_yaml(exps), "e2.yaml")
    assert [e.to_dict() for e in again] == [e.to_dict() for e in exps]


def _mutate(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new, 1)


@pytest.mark.parametrize(
    "text, needle",
    [
        (_mutate("start: 2022-04-04", "start: 2022-06-04"), "start 2022-06-04 is after end 2022-05-30"),
        (_mutate("unit: per_period", "unit: weekly"), "unknown unit 'weekly'; allowed: per_period, total"),
        (_mutate("se: 80.0", "se: 0"), "se must be > 0"),
        (_mutate("se: 80.0", "se: -3"), "se must be > 0"),
        (_mutate("    data: brand_geo.csv\n", ""), "no result and no raw data"),
        (_mutate("name: brand_geo", "name: ppc_switchback"), "duplicate experiment name 'ppc_switchback'"),
        (_mutate("design: switchback", "design: ab"), "unknown design 'ab'"),
        (_mutate("intervention: off", "intervention: pause"), "unknown intervention 'pause'"),
        (_mutate("use: calibrate", "use: train"), "unknown use 'train'"),
        (_mutate("    se: 80.0\n", ""), "estimate and se must be given together"),
        ("experiments:\n  - !!python/object/apply:os.system ['echo x']\n", "!!python are not allowed"),
        ("foo: 1\n", "top-level 'experiments:' list"),
    ],
)
def test_experiment_errors_are_one_line(text, needle):
    with pytest.raises(ExperimentError) as exc:
        experiments_from_yaml(text, "e.yaml")
    assert needle in str(exc.value) and "\n" not in str(exc.value)


def test_error_names_the_line():
    with pytest.raises(ExperimentError, match=r"e.yaml:14: experiment 'brand_geo': unknown design"):
        experiments_from_yaml(_mutate("design: geo_lift", "design: geo"), "e.yaml")


def test_checks_against_graph_and_data(example_graph, random_data):
    exps = experiments_from_yaml(GOOD, "e.yaml")
    check_against(exps, example_graph, random_data)
    bad = experiments_from_yaml(_mutate("treatment: ppc_spend", "treatment: tv_spend"), "e.yaml")
    with pytest.raises(ExperimentError, match="unknown node 'tv_spend'"):
        check_against(bad, example_graph)
    late = experiments_from_yaml(_mutate("end: 2022-05-30", "end: 2031-05-30"), "e.yaml")
    with pytest.raises(ExperimentError, match="outside the data"):
        check_against(late, example_graph, random_data)


def test_switchback_ties_click_mechanisms_into_one_block(example_graph, random_data):
    spec = build_spec(example_graph, random_data)
    sb, geo = experiments_from_yaml(GOOD, "e.yaml")
    assert involved_nodes(spec, sb) == ("ppc_clicks", "seo_clicks")
    assert set(involved_nodes(spec, geo)) == {"seo_clicks", "direct_clicks", "sales"}
    assert calibration_ties(spec, [sb, geo]) == [("ppc_clicks", "seo_clicks")]  # holdouts never tie
    blocks = fit_blocks(spec, calibration_ties(spec, [sb]))
    assert ("ppc_clicks", "seo_clicks") in blocks


def test_calibration_contrast_equals_query_engine(example_graph, random_data):
    """The symbolic contrast in the PyMC model == the numpy query engine, for the same estimand and draws."""
    spec = build_spec(example_graph, random_data)
    sb, _ = experiments_from_yaml(GOOD, "e.yaml")
    model = build_model(spec, random_data, None, [sb])
    rng = np.random.default_rng(4)
    point = {v.name: rng.uniform(0.3, 0.8, size=v.type.shape) for v in model.free_RVs}
    implied = model["experiment|ppc_switchback|implied"]
    f = pytensor.function(list(model.free_RVs), implied, on_unused_input="ignore")
    symbolic = float(f(*[point[v.name] for v in model.free_RVs]))
    # the same draw, through the query engine (deterministic beta/intercept evaluated at the point)
    by_edge = {n: v for n, v in variables_by_edge(model, spec).items() if "|" in n and not n.endswith("obs") and not n.startswith("experiment")}
    names = list(by_edge)
    values = pytensor.function(list(model.free_RVs), list(by_edge.values()), on_unused_input="ignore")(*[point[v.name] for v in model.free_RVs])
    draws = {k: np.array([v, v]) for k, v in zip(names, values)}
    scm = PosteriorSCM(spec, random_data, draws)
    mask = random_data.window_mask(sb.start, sb.end)
    values = scm.simulate([parse_do("ppc_spend=0")], mask)
    engine = sum(((values[m] - scm.series[m]) * spec.scales[m])[:, mask].sum(axis=1) for m in sb.measured) / mask.sum()
    np.testing.assert_allclose(engine, symbolic, rtol=1e-9)
    assert symbolic < 0  # switching PPC off lowers PPC clicks more than SEO gains
    assert "experiment|ppc_switchback" in {v.name for v in model.observed_RVs}


def test_analysis_error_paths(tmp_path):
    from causalmmm.experiments.analyze import analyze_experiments

    def one(extra: str, raw: str | None, name: str = "raw.csv"):
        text = (
            "experiments:\n  - name: sb\n    design: switchback\n    treatment: ppc_spend\n    measured: [ppc_clicks]\n"
            "    start: 2022-04-04\n    end: 2022-05-30\n    data: raw.csv\n" + extra
        )
        if raw is not None:
            (tmp_path / name).write_text(raw)
        return experiments_from_yaml(text, "e.yaml")

    with pytest.raises(ExperimentError, match="raw data file not found"):
        analyze_experiments(one("", None), tmp_path)
    with pytest.raises(ExperimentError, match="needs an on/off column"):
        analyze_experiments(one("", "timestamp,ppc_clicks\n2022-04-04,1\n"), tmp_path)
    with pytest.raises(ExperimentError, match="must contain both 0 \\(off\\) and 1 \\(on\\)"):
        analyze_experiments(one("", "timestamp,ppc_on,ppc_clicks\n2022-04-04,1,1\n2022-04-05,1,2\n"), tmp_path)
    with pytest.raises(ExperimentError, match="lacks measured column"):
        analyze_experiments(one("", "timestamp,ppc_on,seo_clicks\n2022-04-04,1,1\n2022-04-05,0,2\n"), tmp_path)
    geo = experiments_from_yaml(
        "experiments:\n  - name: g\n    design: geo_lift\n    treatment: brand_spend\n    measured: sales\n"
        "    start: 2022-04-04\n    end: 2022-05-30\n    data: geo.csv\n    treated: [geo_99]\n",
        "e.yaml",
    )
    (tmp_path / "geo.csv").write_text("date,geo,sales\n2022-01-03,geo_01,1\n")
    with pytest.raises(ExperimentError, match="treated geo\\(s\\) not in the panel: geo_99"):
        analyze_experiments(geo, tmp_path)


def test_calibrated_logp_graph_fuses_without_rewrite_errors(example_graph, random_data, caplog):
    """PyTensor's elemwise fusion must not fail on a calibrated graph: when it does (pytensor#2145, a
    KeyError that length-1 media-group vectors triggered), it logs an error, leaves hundreds of
    operations unfused and numba's cold compile of the search world went from minutes to over 15."""
    import logging

    from pytensor.compile.mode import Mode, get_mode

    spec = build_spec(example_graph, random_data)
    text = GOOD.replace("    use: holdout", "    estimate: -500.0\n    se: 50.0\n    unit: per_period\n    use: calibrate")
    model = build_model(spec, random_data, None, experiments_from_yaml(text, "e.yaml"))
    logp = model.logp()
    rewrite_only = Mode(linker="py", optimizer=get_mode("NUMBA").optimizer)  # the rewrites nutpie's numba backend runs
    with caplog.at_level(logging.ERROR, logger="pytensor"):
        pytensor.function(model.value_vars, [logp, *pytensor.grad(logp, model.value_vars)], mode=rewrite_only, on_unused_input="ignore")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], [r.getMessage()[:200] for r in caplog.records]
