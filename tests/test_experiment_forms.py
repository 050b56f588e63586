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
