"""The experiment planner on fixed posterior draws (no sampling)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from test_query import linear_graph, linear_world

from causalmmm.data import load_data
from causalmmm.fitted import FittedModel
from causalmmm.fmt import num, signed
from causalmmm.graph import CausalGraph
from causalmmm.intervention import Intervention
from causalmmm.model.equations import param_name
from causalmmm.planning import Preposterior, closed_form_sd, jitter_frame, plan
from causalmmm.planning.candidates import make_candidate
from causalmmm.planning.noise import NodeNoise, switchback_weights
from causalmmm.query.do import PosteriorSCM
from causalmmm.spec import build_spec

T = 80


def two_channel_scm(n_draws: int = 400, sd_known: float = 0.005, sd_unknown: float = 0.3) -> PosteriorSCM:
    """y = 1 + b1·x1 + b2·x2 + e (scaled units, linear): b1 is uncertain, b2 is well known."""
    g = CausalGraph("two").add_node("x1", "spend").add_node("x2", "spend").add_node("y", "outcome")
    g.add_edge("x1", "y", adstock="none", saturation="none").add_edge("x2", "y", adstock="none", saturation="none")
    rng = np.random.default_rng(1)
    x1, x2 = 100 * rng.uniform(0.5, 1.5, T), 100 * rng.uniform(0.5, 1.5, T)
    df = pd.DataFrame({"date": pd.date_range("2023-01-02", periods=T, freq="W-MON"), "x1": x1, "x2": x2, "y": 3 + x1 / 100 + x2 / 100})
    data = load_data(df).validate_against(g)
    spec = build_spec(g, data)
    d = np.random.default_rng(2)
    draws = {
        param_name("y", "intercept"): np.full(n_draws, 1.0),
        param_name("y", "sigma"): np.full(n_draws, 0.05),
        param_name("y", "beta", "x1"): 0.5 + sd_unknown * 0.5 * d.standard_normal(n_draws),
        param_name("y", "beta", "x2"): 0.5 + sd_known * d.standard_normal(n_draws),
    }
    return PosteriorSCM(spec, data, draws, ("x1", "x2"))


@pytest.fixture(scope="module")
def fixed_run():
    scm, _ = linear_world(n_draws=60)
    rng = np.random.default_rng(0)
    draws = {k: v * (1 + 0.05 * rng.standard_normal(len(v))) for k, v in scm.draws.items()}
    summary = {
        "settings": {"sampler": "fixed", "chains": 1, "draws": 60, "seed": 0},
        "converged": True,
        "diagnostics": [{"node": n.name, "r_hat_max": 1.0, "ess_bulk_min": 1000.0, "divergences": 0, "warnings": []} for n in scm.spec.nodes],
        "experiments": [],
    }
    return SimpleNamespace(path="fixed-run", graph=linear_graph(), spec=scm.spec, data=scm.data, summary=summary, posterior_draws=lambda: draws, warnings=[])


def test_importance_sd_matches_the_linear_gaussian_closed_form():
    rng = np.random.default_rng(0)
    theta = rng.multivariate_normal([1.0, 2.0], [[1.0, 0.3], [0.3, 0.5]], size=20_000)
    implied = theta[:, 0] + 0.5 * theta[:, 1]
    roas = np.column_stack([theta[:, 0], theta[:, 1], theta[:, 0] - theta[:, 1]])
    for se in (0.5, 1.0, 2.0):
        pre = Preposterior.simulate(implied, se, 400, np.random.default_rng(1))
        closed = closed_form_sd(roas, implied, se)
        np.testing.assert_allclose(pre.expected_sd(roas), closed, rtol=0.04)
        # the closed form itself: var(R) − cov(R, I)² / (var(I) + se²) with the exact moments
        cov = np.array([[1.0, 0.3], [0.3, 0.5]])
        a, B = np.array([1.0, 0.5]), np.array([[1, 0], [0, 1], [1, -1]], dtype=float)
        exact = np.sqrt(np.diag(B @ cov @ B.T) - (B @ cov @ a) ** 2 / (a @ cov @ a + se**2))
        np.testing.assert_allclose(closed, exact, rtol=0.03)
    assert pre.expected_sd(roas)[0] < roas[:, 0].std()  # a measurement of I teaches about θ1


def test_an_uninformative_measurement_teaches_nothing_and_has_no_value():
    rng = np.random.default_rng(0)
    implied = rng.standard_normal(500)
    roas = np.column_stack([implied, rng.standard_normal(500)])
    pre = Preposterior.simulate(implied, 1e6, 200, rng)
    np.testing.assert_allclose(pre.expected_sd(roas), roas.std(axis=0), rtol=1e-3)
    assert pre.evsi(np.vstack([implied, -implied])) == pytest.approx(0.0, abs=1e-3)
    # a precise one moves the decision between two allocations whose order depends on the sign of `implied`
    precise = Preposterior.simulate(implied, 0.1, 200, np.random.default_rng(0))
    assert precise.evsi(np.vstack([implied, -implied])) > 0.5


def test_ar1_noise_inflates_a_window_mean_and_a_switchback_cancels_it():
    iid, ar = NodeNoise(1.0, 0.0), NodeNoise(1.0, 0.8)
    assert iid.mean_variance(8) == pytest.approx(1 / 8)
    assert ar.mean_variance(8) > 3 * iid.mean_variance(8)
    w = switchback_weights(8, 2)
    assert w.sum() == pytest.approx(0.0) and np.count_nonzero(w) == 4
    assert ar.contrast_variance(w) < 2 * ar.mean_variance(8)  # differencing on/off periods removes the slow part


def test_ranking_prefers_a_precise_test_on_the_least_certain_channel():
    scm = two_channel_scm()
    precise = make_candidate(scm.spec, scm.data, "x1", "lift", Intervention.off("x1"), 8, "y")
    noisy = make_candidate(scm.spec, scm.data, "x2", "geo_lift", Intervention.off("x2"), 4, "y", share=0.05)
    report = plan(scm, [noisy, precise], seed=0)
    first, second = report.candidates
    assert first.name == precise.name
    assert first.expected_sd["x1"] < 0.5 * first.current_sd["x1"]
    assert second.expected_sd["x1"] == pytest.approx(second.current_sd["x1"], rel=0.02)  # x2's test says nothing about x1
    assert first.evsi > second.evsi


def test_cost_signs_go_dark_and_heavy_up():
    scm = two_channel_scm()
    dark = make_candidate(scm.spec, scm.data, "x1", "lift", Intervention.off("x1"), 8, "y")
    heavy = make_candidate(scm.spec, scm.data, "x1", "lift", Intervention("x1", "scale", 1.5), 8, "y")
    by = {c.name: c for c in plan(scm, [dark, heavy], top=None).candidates}
    d, h = by[dark.name].cost, by[heavy.name].cost
    assert d["spend_change"] < 0 and d["outcome_change"] < 0
    assert h["spend_change"] > 0 and h["outcome_change"] > 0
    assert h["spend_change"] == pytest.approx(-0.5 * d["spend_change"], rel=1e-9)  # same window, half the change
    assert d["net"] == pytest.approx(d["spend_change"] - d["outcome_change"])


def test_default_candidates_and_json_keys(fixed_run):
    report = FittedModel(fixed_run).plan(top=4)
    d = json.loads(json.dumps(report.to_dict()))
    assert len(d["candidates"]) == 4 and d["n_scored"] >= 6
    for c in d["candidates"]:
        assert {"name", "design", "treatment", "measured", "start", "end", "expected_sd", "current_sd", "cost", "evsi", "score"} <= set(c)
        assert set(c["expected_sd"]) == set(c["current_sd"]) == {"x"}
        assert c["end"] == str(fixed_run.data.dates[-1].date())  # the window ends with the data
    assert [c["rank"] for c in d["candidates"]] == [1, 2, 3, 4]
    assert {c["design"] for c in d["candidates"]} <= {"lift", "geo_lift", "switchback", "pre_post"}
    assert report._repr_html_().startswith('<table class="cm-table">')
    assert d["candidates"][0]["name"] in report.to_text()


def test_jitter_csv_is_deterministic(fixed_run, tmp_path):
    from causalmmm.planning import write_jitter

    a, b = jitter_frame(fixed_run.data, "x", 10, seed=0), jitter_frame(fixed_run.data, "x", 10, seed=0)
    write_jitter(a, tmp_path / "a.csv")
    write_jitter(b, tmp_path / "b.csv")
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert not jitter_frame(fixed_run.data, "x", 10, seed=1)["multiplier"].equals(a["multiplier"])
    assert a["multiplier"].between(0.9, 1.1).all() and a["multiplier"].std() > 0.02
    assert pd.Timestamp(a["date"].iloc[0]) > fixed_run.data.dates[-1]
    report = FittedModel(fixed_run).plan(top=1, jitter="x", weeks=10)
    j = report.to_dict()["jitter"]
    assert j["channel"] == "x" and j["expected_sd"]["x"] <= j["current_sd"]["x"] * 1.001


def test_narrative_next_experiment_is_the_plans_top_pick(fixed_run):
    from causalmmm.report import collect
    from causalmmm.report.narrative import next_experiment

    data = collect(fixed_run)
    top = data.plan["candidates"][0]
    text = next_experiment(data).text
    ch = "x"
    assert text.startswith(f"Run {top['name']}:")
    for number in (num(top["current_sd"][ch]), num(top["expected_sd"][ch]), signed(top["cost"]["net"]), num(top["evsi"])):
        assert number in text
    assert top == FittedModel(fixed_run).plan(top=5).to_dict()["candidates"][0]  # the same numbers as `causalmmm plan --json`
    from causalmmm.report.html import render_html

    page = render_html(data)
    assert f"Run {top['name']}:" in page


def _cli(args, capsys):
    from causalmmm.cli import main

    code = main(args)
    return code, capsys.readouterr()


def test_cli_plan_json_and_bad_input(fixed_run, tmp_path, capsys, monkeypatch):
    import causalmmm.fitted

    code, out = _cli(["plan", str(tmp_path)], capsys)  # an empty directory is not a run
    assert code == 2 and out.err.startswith("error: ") and out.err.count("\n") == 1 and "not a run directory" in out.err
    monkeypatch.setattr(causalmmm.fitted, "load", lambda d: FittedModel(fixed_run))
    code, out = _cli(["plan", "RUN", "--json", "--top", "2"], capsys)
    assert code == 0 and len(json.loads(out.out)["candidates"]) == 2
    code, out = _cli(["plan", "RUN", "--jitter", "nope", "--out", str(tmp_path / "j.csv")], capsys)
    assert code == 2 and "unknown channel 'nope'" in out.err and out.err.count("\n") == 1
    code, out = _cli(["plan", "RUN", "--jitter", "x", "--out", str(tmp_path / "j.csv"), "--json"], capsys)
    assert code == 0 and (tmp_path / "j.csv").exists() and json.loads(out.out)["jitter"]["schedule"].endswith("j.csv")
    good = "candidates:\n  - name: t1\n    design: lift\n    treatment: x\n    measured: y\n    start: 2023-12-04\n    end: 2024-01-22\n"
    for bad, needle in (
        (good.replace("design: lift", "design: lifft"), "unknown design 'lifft'"),
        (good.replace("treatment: x", "treatment: m1"), "unknown channel 'm1'"),
        (good.replace("measured: y", "measured: y\n    colour: red"), "unknown field 'colour'"),
        (good + "    estimate: 3\n    se: 1\n", "has a result"),
        (good.replace("end: 2024-01-22", "end: 2030-01-01"), "outside the data"),
    ):
        f = tmp_path / "c.yaml"
        f.write_text(bad)
        code, out = _cli(["plan", "RUN", "--candidates", str(f)], capsys)
        assert code == 2 and out.err.startswith("error: ") and needle in out.err and out.err.count("\n") == 1, out.err
    f.write_text(good)
    code, out = _cli(["plan", "RUN", "--candidates", str(f), "--json"], capsys)
    assert code == 0 and [c["name"] for c in json.loads(out.out)["candidates"]] == ["t1"]
