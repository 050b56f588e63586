"""Experiment forms: go-live / heavy-up interventions, pymc-marketing lift rows, geo-lift scope (no sampling)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytensor
import pytensor.tensor as pt
import pytest
import xarray as xr

from causalmmm.data import load_data
from causalmmm.errors import ExperimentError
from causalmmm.experiments.analyze import AnalysisResult, analyze_geo_lift
from causalmmm.experiments.lift_rows import from_lift_rows
from causalmmm.experiments.schema import Experiment, check_against, experiments_from_yaml, experiments_to_yaml
from causalmmm.intervention import Intervention

ONE = """\
experiments:
  - name: t
    design: lift
    treatment: ppc_spend
    intervention: {iv}
    measured: sales
    start: 2022-04-04
    end: 2022-05-30
    estimate: 10.0
    se: 2.0
"""


def _one(iv: str) -> Experiment:
    return experiments_from_yaml(ONE.format(iv=iv), "e.yaml")[0]


# ---------------------------------------------------------------- interventions


@pytest.mark.parametrize(
    "written, kind, value, spec",
    [
        ("off", "set", 0.0, "off"),
        ("Off", "set", 0.0, "off"),
        ("on", "on", 0.0, "on"),
        ("ON", "on", 0.0, "on"),
        ("'*1.5'", "scale", 1.5, {"scale": 1.5}),
        ("x2", "scale", 2.0, {"scale": 2.0}),
        ("{scale: 1.5}", "scale", 1.5, {"scale": 1.5}),
        ("{set: 20000}", "set", 20000.0, {"set": 20000.0}),
        ("20000", "set", 20000.0, {"set": 20000.0}),
        ("{on: 20000}", "set", 20000.0, {"set": 20000.0}),
    ],
)
def test_intervention_spellings_parse_and_round_trip(written, kind, value, spec):
    e = _one(written)
    assert (e.intervention.kind, e.intervention.value) == (kind, value)
    assert e.to_dict()["intervention"] == spec
    again = experiments_from_yaml(experiments_to_yaml([e]), "again.yaml")[0]
    assert again.intervention == e.intervention


@pytest.mark.parametrize(
    "written, quoted",
    [
        ("yes", "'yes'"),
        ("no", "'no'"),
        ("maybe", "'maybe'"),
        ("{scale: abc}", "'{scale: abc}'"),
        ("{On: 0}", "'{On: 0}'"),
        ("'*-1'", "'*-1'"),
        ("*1.5", "'intervention: *1.5'"),
        ("{set: .inf}", "'{set: inf}'"),
    ],
)
def test_intervention_errors_quote_the_users_text_in_one_line(written, quoted):
    with pytest.raises(ExperimentError) as err:
        _one(written)
    msg = str(err.value)
    assert quoted in msg and "\n" not in msg and msg.startswith("e.yaml:")
    assert "True" not in msg and "False" not in msg  # never YAML's reading of on/off/yes/no


def test_unknown_intervention_lists_what_is_allowed():
    msg = str(pytest.raises(ExperimentError, _one, "yes").value)
    assert all(word in msg for word in ("off", "on", "scale", "*1.5", "set"))


def test_other_fields_quote_yaml_booleans_as_written():
    with pytest.raises(ExperimentError, match="unknown use 'yes'"):
        experiments_from_yaml(ONE.format(iv="off") + "    use: yes\n", "e.yaml")


def test_go_live_holds_the_typical_level_numpy_and_pytensor():
    x = np.array([[0.0, 0.0, 10.0, 20.0, 0.0, 30.0], [0.0, 0.0, 1.0, 1.0, 1.0, 1.0]])
    window = np.array([True, True, False, False, False, False])
    on = Intervention.parse("ppc_spend", True)  # YAML 1.1's reading of a bare `on`
    expected = np.array([[20.0, 20.0, 10.0, 20.0, 0.0, 30.0], [1.0, 1.0, 1.0, 1.0, 1.0, 1.0]])
    np.testing.assert_allclose(on.apply(x, window), expected)
    sym = pt.dmatrix("x")
    np.testing.assert_allclose(pytensor.function([sym], on.apply(sym, window, 1.0, pt))(x), expected)
    assert on.level(x[0]) == pytest.approx(20.0) and on.to_text() == "ppc_spend=on"
    heavy = Intervention.parse("ppc_spend", "*1.5")
    np.testing.assert_allclose(heavy.apply(x[0], window | True), 1.5 * x[0])


def test_go_live_needs_periods_where_the_channel_ran(example_graph, random_frame):
    frame = random_frame.assign(ppc_spend=0.0)
    data = load_data(frame).validate_against(example_graph)
    with pytest.raises(ExperimentError, match=r"ppc_spend is 0 in every period.*intervention: \{on: LEVEL\}"):
        check_against([_one("on")], example_graph, data)
    check_against([_one("{on: 500}")], example_graph, data)  # an explicit level needs no history


# ---------------------------------------------------------------- lift rows


def _rows(**over) -> pd.DataFrame:
    base = {
        "channel": ["ppc_spend", "brand_spend"],
        "x": [500.0, 400.0],
        "delta_x": [250.0, -400.0],
        "delta_y": [40.0, -90.0],
        "sigma": [5.0, 12.0],
    }
    base.update(over)
    return pd.DataFrame(base)


def test_lift_rows_become_explicit_estimands(example_graph, random_data):
    rows = _rows(start=["2022-03-07", None], end=["2022-04-25", None])
    ppc, brand = from_lift_rows(rows, example_graph, random_data)
    assert ppc.intervention == Intervention("ppc_spend", "scale", 1.5)  # (x + delta_x) / x
    assert brand.intervention == Intervention("brand_spend", "scale", 0.0)  # x + delta_x = 0: a go-dark
    assert ppc.measured == brand.measured == ("sales",)  # the graph's outcome
    assert (ppc.estimate, ppc.se, ppc.unit, ppc.design, ppc.use) == (40.0, 5.0, "per_period", "lift", "calibrate")
    assert (str(ppc.start.date()), str(ppc.end.date())) == ("2022-03-07", "2022-04-25")
    assert (brand.start, brand.end) == (random_data.dates[0], random_data.dates[-1])  # no dates: the whole data
    assert ppc.extra["lift_row"]["row"] == 2 and brand.extra["lift_row"]["x"] == 400.0


def test_lift_row_go_live_from_zero_and_single_date(example_graph, random_frame):
    frame = random_frame.copy()
    frame.loc[10:20, "social_spend"] = 0.0
    data = load_data(frame).validate_against(example_graph)
    day = str(data.dates[12].date())
    rows = pd.DataFrame(
        {"channel": ["social_spend"], "x": [0.0], "delta_x": [300.0], "delta_y": [25.0], "sigma": [6.0], "date": [day], "measured": ["social_clicks"]}
    )
    (e,) = from_lift_rows(rows, example_graph, data)
    assert e.intervention == Intervention("social_spend", "set", 300.0) and e.measured == ("social_clicks",)
    assert e.start == e.end == data.dates[12]


def test_lift_rows_round_trip_through_yaml_and_csv(example_graph, random_data, tmp_path):
    path = tmp_path / "lifts.csv"
    _rows(name=["ppc_q1", "brand_dark"]).to_csv(path, index=False)
    exps = from_lift_rows(path, example_graph, random_data)
    assert [e.name for e in exps] == ["ppc_q1", "brand_dark"] and exps[0].source == str(path)
    again = experiments_from_yaml(experiments_to_yaml(exps), "e.yaml")
    assert [e.to_dict() for e in again] == [e.to_dict() for e in exps]


@pytest.mark.parametrize(
    "over, needle",
    [
        ({"channel": ["tv_spend", "brand_spend"]}, r"lifts.csv:2: channel 'tv_spend' is not a spend node"),
        ({"sigma": [0.0, 12.0]}, r"lifts.csv:2: sigma must be > 0"),
        ({"delta_y": [-40.0, -90.0]}, r"lifts.csv:2: delta_y -40 has the opposite sign of delta_x 250"),
        ({"delta_x": [0.0, -400.0]}, r"lifts.csv:2: delta_x is 0"),
        ({"x": [500.0, "lots"]}, r"lifts.csv:3: x must be a finite number, got 'lots'"),
        ({"x": [5.0, 400.0]}, r"lifts.csv:2: x = 5 but ppc_spend averages .* per period"),
        ({"x": [500.0, 0.0], "delta_x": [250.0, 400.0], "delta_y": [40.0, 90.0]}, r"lifts.csv:3: x = 0 \(a go-live\) but brand_spend averages"),
        ({"start": ["2022-03-07", None]}, r"lifts.csv:2: a lift row with a window needs both start and end"),
        ({"measured": ["social_clicks", None]}, r"lifts.csv:2: measured node 'social_clicks' is not downstream of 'ppc_spend'"),
        ({"use": ["maybe", None]}, r"lifts.csv:2: unknown use 'maybe'"),
    ],
)
def test_bad_lift_rows_give_one_line_errors(example_graph, random_data, tmp_path, over, needle):
    path = tmp_path / "lifts.csv"
    _rows(**over).to_csv(path, index=False)
    with pytest.raises(ExperimentError, match=needle) as err:
        from_lift_rows(path, example_graph, random_data)
    assert "\n" not in str(err.value)


def test_lift_rows_need_the_pymc_marketing_columns(example_graph, random_data):
    with pytest.raises(ExperimentError, match="lack column\\(s\\) delta_y, sigma"):
        from_lift_rows(_rows().drop(columns=["delta_y", "sigma"]), example_graph, random_data)


# ---------------------------------------------------------------- geo-lift scope

GEO = """\
experiments:
  - name: g
    design: geo_lift
    treatment: brand_spend
    intervention: off
    measured: sales
    start: 2022-04-04
    end: 2022-05-02
    treated: [geo_a]
"""


def _geo(extra: str) -> Experiment:
    return experiments_from_yaml(GEO + extra, "e.yaml")[0]


def test_geo_scope_is_explicit_and_never_defaults_to_national():
    assert _geo("    data: p.csv\n").scope == "geo"  # no shares: the treated geos' own effect
    assert _geo("    data: p.csv\n    geo_shares: {geo_a: 0.2}\n").scope == "national"
    assert _geo("    estimate: -5.0\n    se: 1.0\n    scope: national\n").scope == "national"
    with pytest.raises(ExperimentError, match="a geo_lift estimate must say whose effect it is; add scope: national"):
        _geo("    estimate: -5.0\n    se: 1.0\n")
    with pytest.raises(ExperimentError, match="scope: national needs geo_shares"):
        _geo("    data: p.csv\n    scope: national\n")
    with pytest.raises(ExperimentError, match="geo_shares has no share for treated geo\\(s\\) geo_a"):
        _geo("    data: p.csv\n    geo_shares: {geo_b: 0.2}\n")
    with pytest.raises(ExperimentError, match="geo_shares\\[geo_a\\] must be a number in \\(0, 1\\], got 12"):
        _geo("    data: p.csv\n    geo_shares: {geo_a: 12}\n")


def test_geo_level_estimate_cannot_calibrate_and_says_how_to_fix(example_graph, random_data):
    e = _geo("    estimate: -5.0\n    se: 1.0\n    scope: geo\n")
    with pytest.raises(ExperimentError) as err:
        check_against([e], example_graph, random_data)
    msg = str(err.value)
    assert "geo-level" in msg and "cannot calibrate" in msg and "add geo_shares: {GEO: SHARE, ...}" in msg and "\n" not in msg


class _FakeSyntheticControl:
    """Stands in for CausalPy's fit: a fixed post-period impact of -0.1 index points, no sampling."""

    def __init__(self, panel, treatment_time, **_: object) -> None:
        n_post = len(panel) - treatment_time
        self.post_impact = xr.DataArray(np.full((1, 4, n_post, 1), -0.1), dims=("chain", "draw", "obs_ind", "treated_units"))
        self.idata = type("I", (), {"posterior": {"y_hat_sigma": xr.DataArray(np.full((1, 4), 0.05), dims=("chain", "draw"))}})()


@pytest.fixture
def geo_panel(tmp_path, monkeypatch):
    import causalpy

    monkeypatch.setattr(causalpy, "SyntheticControl", _FakeSyntheticControl)
    monkeypatch.setattr(causalpy.pymc_models, "WeightedSumFitter", lambda **_: None)
    dates = pd.date_range("2022-01-03", periods=18, freq="W-MON")  # 13 pre-period weeks, 5 in the window
    rows = [{"date": d.date(), "geo": g, "sales": level} for d in dates for g, level in (("geo_a", 100.0), ("geo_b", 200.0), ("geo_c", 300.0))]
    pd.DataFrame(rows).to_csv(tmp_path / "p.csv", index=False)
    return tmp_path


def test_geo_lift_with_shares_is_national_and_says_its_factor(geo_panel):
    r = analyze_geo_lift(_geo("    data: p.csv\n    geo_shares: {geo_a: 0.2}\n"), geo_panel)
    assert r.estimate == pytest.approx(-0.1 * 100.0 / 0.2)  # index points x treated pre-mean / share
    assert (r.scope, r.scale_factor, r.experiment.scope) == ("national", pytest.approx(5.0), "national")
    assert "national: treated geos' effect x 5 (1 / sum of treated geo_shares 0.2)" in r.to_text()
    assert r.to_dict()["scope"] == "national" and r.to_dict()["scale_factor"] == pytest.approx(5.0)


def test_geo_lift_without_shares_stays_geo_level_and_unscaled(geo_panel, example_graph, random_data):
    r = analyze_geo_lift(_geo("    data: p.csv\n"), geo_panel)
    assert r.estimate == pytest.approx(-0.1 * 100.0)  # the treated geo's own effect, not x 12.9 or any factor
    assert (r.scope, r.scale_factor) == ("geo", 1.0)
    assert "geo-level: the treated geos' own effect (geo_a), not scaled" in r.to_text()
    assert r.diagnostics["treated_share_of_panel"] == pytest.approx(100.0 / 600.0)  # reported, never applied
    saved = experiments_from_yaml(experiments_to_yaml([r.experiment]), "a.yaml")[0]
    assert saved.scope == "geo" and saved.estimate == pytest.approx(-10.0)
    with pytest.raises(ExperimentError, match="geo-level"):
        check_against([saved], example_graph, random_data)


def test_analysis_result_text_for_national_designs_names_its_scope():
    e = _one("off")
    assert AnalysisResult(e, -3.0, 1.0, "fixed-effects regression").to_text().endswith("; national")


def test_file_formats_example_parses_with_explicit_scopes(repo):
    text = (repo / "docs" / "file-formats.md").read_text(encoding="utf-8")
    block = text.split("## Experiment files", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    exps = {e.name: e for e in experiments_from_yaml(block, "file-formats.md")}
    assert exps["brand_geo_dark"].scope == "national" and exps["ppc_switchback_q2"].intervention.is_off


# ---------------------------------------------------------------- lift rows in the experiments file

LIFT_ITEM = """\
experiments:
  - lift_rows: lifts.csv
    measured: sales
    start: {start}
    end: {end}
"""


def test_lift_rows_item_expands_to_the_estimands_from_lift_rows_makes(example_graph, random_data, tmp_path):
    from causalmmm.experiments.schema import load_experiments

    _rows(name=["ppc_q1", "brand_dark"]).to_csv(tmp_path / "lifts.csv", index=False)
    first, last = (str(d.date()) for d in (random_data.dates[0], random_data.dates[-1]))
    (tmp_path / "e.yaml").write_text(LIFT_ITEM.format(start=first, end=last), encoding="utf-8")
    from_file = load_experiments(tmp_path / "e.yaml")
    check_against(from_file, example_graph, random_data)
    from_python = from_lift_rows(tmp_path / "lifts.csv", example_graph, random_data)
    strip = [{k: v for k, v in e.to_dict().items() if k != "lift_row"} for e in from_python]
    assert [{k: v for k, v in e.to_dict().items() if k != "lift_row"} for e in from_file] == strip
    assert from_file[0].extra["lift_row"] == {"file": "lifts.csv", "row": 2, "x": 500.0, "delta_x": 250.0, "delta_y": 40.0, "sigma": 5.0}
    again = experiments_from_yaml(experiments_to_yaml(from_file), str(tmp_path / "again.yaml"))
    assert [e.to_dict() for e in again] == [e.to_dict() for e in from_file]
    check_against(again, example_graph, random_data)  # the lift-row checks run again on the saved form


@pytest.mark.parametrize(
    "rows, item, needle",
    [
        ({"channel": ["tv_spend", "brand_spend"]}, "", r"lifts.csv:2: channel 'tv_spend' is not a spend node of the graph; spend nodes: "),
        ({"x": [500.0, 400.0], "delta_x": [-600.0, -400.0]}, "", r"lifts.csv:2: spend must stay >= 0 \(x = 500, x \+ delta_x = -100\); .*delta_x >= -x"),
        ({"sigma": [-1.0, 12.0]}, "", r"lifts.csv:2: sigma must be > 0, got -1; sigma is the standard deviation of delta_y"),
        ({"x": [500.0, "lots"]}, "", r"lifts.csv:3: x must be a finite number, got 'lots'; write a plain number in the x column"),
        ({"geo": ["a", "b"]}, "", r"lifts.csv: unknown lift-test column 'geo'; columns: channel, x"),
        ({}, "    scope: geo\n", r"e.yaml:2: lift_rows item: unknown field 'scope'; a lift_rows item takes: lift_rows, measured, start, end, use"),
        ({}, "    use: maybe\n", r"e.yaml:2: lift_rows item: unknown use 'maybe'; allowed: calibrate, holdout"),
    ],
)
def test_bad_lift_rows_item_gives_one_line_errors(example_graph, random_data, tmp_path, rows, item, needle):
    from causalmmm.experiments.schema import load_experiments

    _rows(**rows).to_csv(tmp_path / "lifts.csv", index=False)
    (tmp_path / "e.yaml").write_text(LIFT_ITEM.format(start="2022-01-03", end="2024-12-23") + item, encoding="utf-8")
    with pytest.raises(ExperimentError, match=needle) as err:
        check_against(load_experiments(tmp_path / "e.yaml"), example_graph, random_data)
    assert "\n" not in str(err.value)


def test_lift_rows_item_without_a_window_or_measured_says_what_to_add(tmp_path):
    from causalmmm.experiments.schema import load_experiments

    _rows().to_csv(tmp_path / "lifts.csv", index=False)
    (tmp_path / "e.yaml").write_text("experiments:\n  - lift_rows: lifts.csv\n    measured: sales\n", encoding="utf-8")
    with pytest.raises(ExperimentError, match=r"lifts.csv:2: the lift row has no dates .*; add start: and end: to the lift_rows item in .*e.yaml:2"):
        load_experiments(tmp_path / "e.yaml")
    (tmp_path / "e.yaml").write_text("experiments:\n  - lift_rows: lifts.csv\n    start: 2022-01-03\n    end: 2022-06-27\n", encoding="utf-8")
    with pytest.raises(ExperimentError, match=r"lifts.csv:2: the lift row has no measured node; add measured: OUTCOME to the lift_rows item"):
        load_experiments(tmp_path / "e.yaml")
    (tmp_path / "e.yaml").write_text("experiments:\n  - lift_rows: nothere.csv\n    measured: sales\n", encoding="utf-8")
    with pytest.raises(ExperimentError, match=r"nothere.csv: lift-test file not found"):
        load_experiments(tmp_path / "e.yaml")


# ---------------------------------------------------------------- lift rows: pymc-marketing's mmm_example truth


def _mmm_example_lift_world(channel: str, x: float, dx: float, start: str, end: str):
    """mmm_example with ``channel`` held at ``x`` per period over the test window and the l_max - 1 weeks
    before it (what a lift test at level x means), and the row the pymc-marketing notebook would write
    for it: delta_y from the true curve, beta * (logistic(x + dx) - logistic(x)) in y's units, rounded."""
    import sys

    sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1]))
    from bench import public_data as pub

    frame = pub.example_frame()
    dates = pd.to_datetime(frame["date"])
    lead = pd.Timestamp(start) - pd.Timedelta(weeks=pub.EXAMPLE_DGP["l_max"] - 1)
    frame.loc[(dates >= lead) & (dates <= pd.Timestamp(end)), channel] = x
    p, scale = pub.EXAMPLE_DGP[channel], pub.EXAMPLE_DGP["scale"]
    curve = scale * p["beta"] * (pub.logistic_saturation(np.array([x + dx]), p["lam"]) - pub.logistic_saturation(np.array([x]), p["lam"]))[0]
    row = {
        "channel": channel,
        "x": x,
        "delta_x": dx,
        "delta_y": round(float(curve), 2),
        "sigma": round(0.05 * abs(float(curve)), 2),
        "start": start,
        "end": end,
    }
    return pub, frame, row


@pytest.mark.parametrize(
    "channel, x, dx, start, end",
    [
        ("x1", 0.3, 0.06, "2019-09-02", "2020-08-24"),  # heavy-up +20% at x1's typical level, 52 weeks
        ("x2", 0.15, 0.05, "2020-01-06", "2020-12-28"),  # heavy-up of x2
        ("x2", 0.0, 0.2, "2019-01-07", "2019-06-24"),  # go-live from zero, 25 weeks
    ],
)
def test_pymc_marketing_lift_rows_agree_with_mmm_example_truth(channel, x, dx, start, end):
    """Our estimand's true value under mmm_example's documented DGP (bench/public_data.py) against the
    row's delta_y: exactly equal in every window period once the adstock has ramped up (l_max - 1 periods),
    and over the whole window short of it by at most the ramp-up share R / L (logistic is concave)."""
    from causalmmm.data import load_data

    pub, frame, row = _mmm_example_lift_world(channel, x, dx, start, end)
    graph = pub.example_graph()
    data = load_data(frame).validate_against(graph)
    (e,) = from_lift_rows(pd.DataFrame([row]), graph, data)
    assert e.measured == ("y",) and e.unit == "per_period" and e.estimate == row["delta_y"]
    assert e.intervention == (Intervention(channel, "scale", (x + dx) / x) if x > 0 else Intervention(channel, "set", dx))
    window = np.asarray((data.dates >= e.start) & (data.dates <= e.end))
    do_frame = frame.copy()
    do_frame[channel] = e.intervention.apply(frame[channel].to_numpy(float), window)  # the estimand's own intervention
    effect = (pub.example_dgp_y(do_frame)["mean"] - pub.example_dgp_y(frame)["mean"])[window]  # per period, data units
    l_max = pub.EXAMPLE_DGP["l_max"]
    steady = effect[l_max - 1 :]
    assert np.all(np.abs(steady - row["delta_y"]) <= 0.005 + 1e-9)  # equal to the row's delta_y, to its rounding
    w = pub.EXAMPLE_DGP[channel]["alpha"] ** np.arange(l_max)
    ramp = float(np.sum(1.0 - np.cumsum(w / w.sum())))  # periods of effect the ramp-up loses, at most
    truth = float(effect.mean())  # our estimand's true value
    assert row["delta_y"] * (1 - ramp / window.sum()) - 0.005 <= truth <= row["delta_y"] + 0.005
    assert abs(truth / row["delta_y"] - 1) < 0.015


# ---------------------------------------------------------------- results table

RESULTS = """\
name,design,treatment,intervention,measured,start,end,estimate,se,unit,scope
ppc_dark,lift,ppc_spend,off,sales,2022-04-04,2022-05-30,-120.5,20,per_period,
brand_up,lift,brand_spend,*1.5,sales,2022-06-06,2022-07-25,80,15,total,
social_live,geo_lift,social_spend,on,social_clicks+sales,2022-08-01,2022-08-29,35,7,per_period,national
search_set,pre_post,ppc_spend,{set: 500},sales,2023-01-02,2023-02-27,12,4,per_period,
"""


def _results_file(tmp_path, text: str = RESULTS):
    (tmp_path / "results.csv").write_text(text, encoding="utf-8")
    (tmp_path / "e.yaml").write_text("experiments:\n  - results: results.csv\n", encoding="utf-8")
    return tmp_path / "e.yaml"


def test_results_table_reads_every_spelling_and_round_trips(tmp_path, example_graph, random_data):
    from causalmmm.experiments import results_from_csv
    from causalmmm.experiments.schema import load_experiments

    exps = {e.name: e for e in load_experiments(_results_file(tmp_path))}
    assert exps["ppc_dark"].intervention.is_off and exps["ppc_dark"].estimate == -120.5 and exps["ppc_dark"].se == 20.0
    assert exps["brand_up"].intervention == Intervention("brand_spend", "scale", 1.5) and exps["brand_up"].unit == "total"
    assert exps["social_live"].intervention.is_on and exps["social_live"].measured == ("social_clicks", "sales")
    assert exps["social_live"].scope == "national" and exps["search_set"].intervention == Intervention("ppc_spend", "set", 500.0)
    assert [e.to_dict() for e in results_from_csv(tmp_path / "results.csv")] == [e.to_dict() for e in exps.values()]
    again = experiments_from_yaml(experiments_to_yaml(list(exps.values())), "again.yaml")
    assert [e.to_dict() for e in again] == [e.to_dict() for e in exps.values()]
    check_against([exps["ppc_dark"], exps["brand_up"]], example_graph, random_data)


@pytest.mark.parametrize(
    "edit, needle",
    [
        (
            lambda t: (
                t.replace(",se,unit", ",unit").replace(",20,per", ",per").replace(",15,total", ",total").replace(",7,per", ",per").replace(",4,per", ",per")
            ),
            r"results.csv: results table lacks column\(s\) se; columns: name, design",
        ),
        (
            lambda t: t.replace("-120.5", "about -120"),
            r"results.csv:2: estimate must be a number, got 'about -120'; write a plain number in the estimate column",
        ),
        (lambda t: t.replace(",20,per_period", ",0,per_period"), r"results.csv:2: experiment 'ppc_dark': se must be > 0, got 0; give the standard error"),
        (lambda t: t.replace("*1.5", "yes"), r"results.csv:3: experiment 'brand_up': unknown intervention 'yes'; allowed: off"),
        (
            lambda t: t.replace("per_period,national", "per_period,"),
            r"results.csv:4: experiment 'social_live': a geo_lift estimate must say whose effect it is; add scope",
        ),
        (lambda t: t.replace("2022-04-04", ""), r"results.csv:2: empty start; fill the start column"),
        (lambda t: t.replace(",scope", ",scope,lift"), r"results.csv: unknown results column 'lift'"),
    ],
)
def test_bad_results_table_gives_one_line_errors(tmp_path, edit, needle):
    from causalmmm.experiments.schema import load_experiments

    text = edit(RESULTS)
    if "scope,lift" in text:
        text = "\n".join(line + "," if i else line for i, line in enumerate(text.splitlines())) + "\n"
    with pytest.raises(ExperimentError, match=needle) as err:
        load_experiments(_results_file(tmp_path, text))
    assert "\n" not in str(err.value)


def test_results_item_is_one_line():
    with pytest.raises(ExperimentError, match=r"e.yaml:2: results item: unknown field 'use'; a results item is one line, - results: FILE.csv"):
        experiments_from_yaml("experiments:\n  - results: r.csv\n    use: holdout\n", "e.yaml")


# ---------------------------------------------------------------- multi-cell geo tests

CELLS = """\
experiments:
  - name: social_cells
    design: geo_lift
    treatment: social_spend
    intervention: on
    measured: sales
    start: 2022-04-04
    end: 2022-05-02
    data: p.csv
    geo_shares: {geo_a: 0.2, geo_b: 0.1}
    cells:
      - name: live
        treated: [geo_a]
      - name: heavy
        treated: [geo_b]
        intervention: '*2'
      - name: local
        treated: [geo_c]
        intervention: off
        scope: geo
"""


def test_cells_become_one_estimand_each_with_explicit_scope_and_round_trip():
    exps = experiments_from_yaml(CELLS, "e.yaml")
    assert [e.name for e in exps] == ["social_cells.live", "social_cells.heavy", "social_cells.local"]
    live, heavy, local = exps
    assert live.treated == ("geo_a",) and live.intervention.is_on and live.scope == "national" and live.extra["geo_shares"] == {"geo_a": 0.2}
    assert heavy.intervention == Intervention("social_spend", "scale", 2.0) and heavy.extra["geo_shares"] == {"geo_b": 0.1}
    assert local.intervention.is_off and local.scope == "geo" and "geo_shares" not in local.extra
    assert live.extra["exclude"] == ["geo_b", "geo_c"] and local.extra["exclude"] == ["geo_a", "geo_b"]  # other cells are no donors
    assert live.extra["cell"] == {"experiment": "social_cells", "cell": "live"}
    again = experiments_from_yaml(experiments_to_yaml(exps), "again.yaml")
    assert [e.to_dict() for e in again] == [e.to_dict() for e in exps]


@pytest.mark.parametrize(
    "edit, needle",
    [
        (
            lambda t: t.replace("[geo_b]", "[geo_a]"),
            r"e.yaml:14: experiment 'social_cells': geo 'geo_a' is treated in cells 'live' and 'heavy'; every treated geo belongs to one cell",
        ),
        (
            lambda t: t.replace("    data: p.csv\n", "    data: p.csv\n    treated: [geo_a]\n"),
            r"treated belongs to each cell of a multi-cell test; move treated: into the cells",
        ),
        (lambda t: t.replace("        treated: [geo_c]\n", ""), r"e.yaml:17: experiment 'social_cells': cell 'local' needs treated: \[geo, ...\]"),
        (lambda t: t.replace("intervention: '*2'", "intervention: yes"), r"e.yaml:14: experiment 'social_cells.heavy': unknown intervention 'yes'"),
        (
            lambda t: t.replace("        scope: geo\n", "        scope: geo\n        data: q.csv\n"),
            r"unknown cell field 'data' in cell 'local'; a cell takes: name, treated",
        ),
        (lambda t: t.replace("design: geo_lift", "design: lift"), r"cells need design: geo_lift, not 'lift'"),
        (
            lambda t: t.replace("{geo_a: 0.2, geo_b: 0.1}", "{geo_a: 0.2}"),
            r"e.yaml:14: experiment 'social_cells.heavy': geo_shares has no share for treated geo\(s\) geo_b",
        ),
        (lambda t: t.replace("      - name: heavy", "      - name: live"), r"duplicate experiment name 'social_cells.live'"),
    ],
)
def test_bad_cells_give_one_line_errors(edit, needle):
    with pytest.raises(ExperimentError, match=needle) as err:
        experiments_from_yaml(edit(CELLS), "e.yaml")
    assert "\n" not in str(err.value)


def test_each_cell_is_analysed_without_the_other_cells_geos_as_donors(geo_panel, monkeypatch):
    import causalpy

    seen = {}

    class Capture(_FakeSyntheticControl):
        def __init__(self, panel, treatment_time, control_units=(), **kw):
            seen.setdefault("donors", []).append(list(control_units))
            super().__init__(panel, treatment_time, **kw)

    monkeypatch.setattr(causalpy, "SyntheticControl", Capture)
    pd.concat([pd.read_csv(geo_panel / "p.csv"), pd.read_csv(geo_panel / "p.csv").assign(geo=lambda d: d["geo"].str.replace("geo_", "ctl_"))]).to_csv(
        geo_panel / "p.csv", index=False
    )
    live, heavy, local = experiments_from_yaml(CELLS, "e.yaml")
    r_live, r_local = analyze_geo_lift(live, geo_panel), analyze_geo_lift(local, geo_panel)
    assert seen["donors"] == [["ctl_a", "ctl_b", "ctl_c"]] * 2 and r_live.diagnostics["excluded_geos"] == ["geo_b", "geo_c"]
    assert r_live.estimate == pytest.approx(-0.1 * 100.0 / 0.2) and r_live.scope == "national"
    assert r_local.estimate == pytest.approx(-0.1 * 300.0) and r_local.scope == "geo"


def _multicell_panel(tmp_path) -> None:
    """CausalPy's geolift_multi_cell (4 treated geos t1..t4, +0.2 per week each from 2022-01-01; 12 donors), long form, shortened."""
    import causalpy as cp

    wide = cp.load_data("geolift_multi_cell").set_index("time").loc["2020-07-01":"2022-03-31"]
    wide.rename_axis("date").reset_index().melt(id_vars="date", var_name="geo", value_name="sales").to_csv(tmp_path / "cells.csv", index=False)


@pytest.mark.slow  # two small CausalPy synthetic-control fits (NUTS)
def test_multicell_geolift_recovers_each_cells_effect(tmp_path):
    from causalmmm.experiments.schema import load_experiments

    _multicell_panel(tmp_path)
    (tmp_path / "e.yaml").write_text(
        "experiments:\n  - name: multi\n    design: geo_lift\n    treatment: social_spend\n    intervention: on\n    measured: sales\n"
        "    start: 2022-01-02\n    end: 2022-03-27\n    data: cells.csv\n    cells:\n"
        "      - {name: a, treated: [t1, t2], scope: geo}\n      - {name: b, treated: [t3, t4], geo_shares: {t3: 0.05, t4: 0.05}}\n",
        encoding="utf-8",
    )
    a, b = load_experiments(tmp_path / "e.yaml")
    from seeds import seeded

    ra = analyze_geo_lift(a, tmp_path, seed=seeded(3), draws=200, tune=300)
    rb = analyze_geo_lift(b, tmp_path, seed=seeded(3), draws=200, tune=300)
    assert ra.diagnostics["excluded_geos"] == ["t3", "t4"] and ra.diagnostics["control_geos"] == 12
    # truth: +0.2 per week in each treated geo, so +0.4 in a cell of two geos; cell b is national (x 1 / 0.1).
    # Measured at seed 3: a 0.439 (se 0.13), b 4.05 (se 0.83); the margins are ~5x the error.
    assert ra.scope == "geo" and abs(ra.estimate - 0.4) < 0.2 and 0.02 < ra.se < 0.4
    assert rb.scope == "national" and rb.scale_factor == pytest.approx(10.0) and abs(rb.estimate - 4.0) < 2.0


# ---------------------------------------------------------------- results straight from a CausalPy object


class SyntheticControl:
    """Shaped like CausalPy 0.9's fitted SyntheticControl: ``post_impact`` / ``pre_impact`` are
    (chain, draw, obs_ind, treated_units) posteriors of observed minus ``mu``."""

    def __init__(self, post: np.ndarray, pre: np.ndarray, units=("t1", "t2")):
        post_dates = pd.date_range("2022-01-02", periods=post.shape[2], freq="W")
        pre_dates = pd.date_range("2021-01-03", periods=pre.shape[2], freq="W")
        dims = ("chain", "draw", "obs_ind", "treated_units")
        self.post_impact = xr.DataArray(post, dims=dims, coords={"obs_ind": post_dates, "treated_units": list(units)})
        self.pre_impact = xr.DataArray(pre, dims=dims, coords={"obs_ind": pre_dates, "treated_units": list(units)})


def _fake_result(seed: int = 0) -> SyntheticControl:
    rng = np.random.default_rng(seed)
    post = 0.2 + rng.normal(0, 0.05, size=(2, 50, 10, 1)) + np.zeros((2, 50, 10, 2))  # the draws move both units together
    pre = np.tile(rng.normal(0, 0.1, size=(1, 1, 30, 2)), (2, 50, 1, 1))
    return SyntheticControl(post, pre)


def test_from_causalpy_reads_the_posterior_impact():
    from causalmmm.experiments import from_causalpy

    r = _fake_result()
    kw = dict(name="g", treatment="social_spend", measured="sales", start="2022-01-02", end="2022-03-06", intervention="on")
    e = from_causalpy(r, scope="geo", noise=False, **kw)
    draws = r.post_impact.sum("treated_units").mean("obs_ind").values.ravel()
    assert (e.design, e.scope, e.treated, e.unit) == ("geo_lift", "geo", ("t1", "t2"), "per_period") and e.intervention.is_on
    assert e.estimate == pytest.approx(draws.mean()) and e.se == pytest.approx(draws.std())
    national = from_causalpy(r, geo_shares={"t1": 0.1, "t2": 0.15}, noise=False, **kw)
    assert national.scope == "national" and national.estimate == pytest.approx(draws.mean() / 0.25) and national.se == pytest.approx(draws.std() / 0.25)
    total = from_causalpy(r, scope="geo", unit="total", noise=False, treated_units=["t1"], **{**kw, "end": "2022-01-30"})
    t1 = r.post_impact.sel(treated_units="t1").isel(obs_ind=slice(0, 5)).sum("obs_ind").values.ravel()
    assert total.estimate == pytest.approx(t1.mean()) and total.treated == ("t1",)
    noisy = from_causalpy(r, scope="geo", **kw)
    assert noisy.estimate == e.estimate and noisy.se > e.se  # the outcome's own noise over the window adds to the se
    again = experiments_from_yaml(experiments_to_yaml([national]), "a.yaml")[0]
    assert again.to_dict() == national.to_dict() and again.extra["analysis"]["scale_factor"] == pytest.approx(4.0)


@pytest.mark.parametrize(
    "change, needle",
    [
        ({}, r"<causalpy>: experiment 'g': a geo_lift estimate must say whose effect it is; add scope: national"),
        ({"scope": "geo", "treated_units": ["t9"]}, r"treated unit\(s\) t9 not in the CausalPy result; its treated units: t1, t2"),
        ({"scope": "geo", "start": "2023-01-01", "end": "2023-02-01"}, r"no post-period observation of the CausalPy result lies in 2023-01-01..2023-02-01"),
        ({"scope": "geo", "intervention": "yes"}, r"unknown intervention 'yes'"),
        ({"geo_shares": {"t1": 0.1}}, r"geo_shares has no share for treated geo\(s\) t2"),
    ],
)
def test_from_causalpy_errors_name_the_field_and_the_fix(change, needle):
    from causalmmm.experiments import from_causalpy

    kw = dict(name="g", treatment="social_spend", measured="sales", start="2022-01-02", end="2022-03-06")
    with pytest.raises(ExperimentError, match=needle) as err:
        from_causalpy(_fake_result(), **{**kw, **change})
    assert "\n" not in str(err.value)


def test_from_causalpy_needs_a_posterior_and_a_known_design():
    from causalmmm.experiments import from_causalpy

    kw = dict(name="g", treatment="social_spend", measured="sales", start="2022-01-02", end="2022-03-06", scope="geo")
    ols = _fake_result()
    ols.post_impact = ols.post_impact.isel(chain=0, draw=0)
    with pytest.raises(ExperimentError, match=r"post_impact has no posterior draws \(an OLS model\?\); fit it with a PyMC model"):
        from_causalpy(ols, **kw)
    other = type("PrePostNEGD", (), {"post_impact": _fake_result().post_impact})()
    with pytest.raises(ExperimentError, match=r"cannot tell the design of a CausalPy PrePostNEGD; pass design="):
        from_causalpy(other, **kw)
