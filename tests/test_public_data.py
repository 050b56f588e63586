"""pymc-marketing's public data (tests/data/): the files load against their graphs, the DGPs reproduce them,
and the truth is what tests/data/README.md says. Sampling-free."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench import public_data as pub  # noqa: E402
from causalmmm.data import load_data  # noqa: E402
from causalmmm.errors import DataError  # noqa: E402
from causalmmm.experiments.schema import check_against  # noqa: E402

README = (REPO / "tests" / "data" / "README.md").read_text(encoding="utf-8")


def readme_value(label: str) -> float:
    """The number in the README table row that starts with ``| label |``."""
    m = re.search(rf"^\| {re.escape(label)} \|.*?\| (-?[\d.]+) \|$", README, flags=re.M)
    assert m, f"no README row for {label}"
    return float(m.group(1))


@pytest.fixture(scope="module")
def all_worlds():
    return pub.worlds()


def test_every_world_loads_against_its_graph(all_worlds):
    assert [w.name for w in all_worlds] == ["mmm_example", "mmm_roas (z latent)", "mmm_roas (z observed)"]
    for w in all_worlds:
        w.graph.validate()
        data = load_data(w.frame).validate_against(w.graph)
        assert data.freq.startswith("W")
        assert set(data.frame.columns) == set(w.graph.observed_nodes)
        assert not [m for m in data.warnings if "ignored" in m]  # the frame holds exactly the modelled columns
        assert set(w.truth) == set(w.graph.spend_nodes) == {"x1", "x2"}
        if w.experiments:
            check_against(w.experiments, w.graph, data)


def test_graphs_say_what_a_user_who_knows_the_data_would_write(all_worlds):
    example, latent, observed = all_worlds
    assert example.graph.declared_node_attrs("y") == {"trend": "linear", "seasonality": 2}
    assert {example.graph.role(e) for e in ("event_1", "event_2")} == {"control"}
    e = example.graph.edge("x1", "y")
    assert (e.adstock, e.saturation, e.l_max) == ("geometric", "logistic", 8)
    assert not latent.graph.is_observed("z") and observed.graph.is_observed("z")
    assert set(latent.graph.children("z")) == {"x1", "y"} and "z" not in latent.frame.columns
    assert latent.graph.edge("x2", "y").l_max == 4


def test_the_raw_roas_file_needs_its_text_column_dropped():
    with pytest.raises(DataError, match="quarter"):
        load_data(pub.ROAS_CSV)
    assert load_data(pub.EXAMPLE_CSV, date_column="date_week").n_periods == 179


def test_mmm_example_dgp_reproduces_the_csv_from_the_notebook_seed():
    raw = pd.read_csv(pub.EXAMPLE_CSV)
    n = len(raw)
    rng = np.random.default_rng(sum(map(ord, "mmm")))
    u1, u2 = rng.uniform(0.0, 1.0, n), rng.uniform(0.0, 1.0, n)
    np.testing.assert_allclose(raw["x1"], np.where(u1 > 0.9, u1, u1 / 2), atol=1e-15)
    np.testing.assert_allclose(raw["x2"], np.where(u2 > 0.8, u2, 0.0), atol=1e-15)
    parts = pub.example_dgp_y(pub.example_frame())
    np.testing.assert_allclose(raw["event_1"] * 1500.0, parts["event_1"])
    np.testing.assert_allclose(parts["mean"] + pub.example_noise(), raw["y"], rtol=1e-12)


def test_mmm_roas_columns_pin_the_dgp_down_exactly():
    raw = pub.roas_raw()
    amp = pub.ROAS_DGP["amplitude"]
    np.testing.assert_allclose(raw["y"], amp * (raw.trend + raw.seasonality + raw.z + raw.x1_effect + raw.x2_effect + raw.epsilon), rtol=1e-12)
    np.testing.assert_allclose(raw["seasonality"], 0.3 * (raw.cs + raw.cc), atol=1e-12)
    for ch in ("x1", "x2"):
        p = pub.ROAS_DGP[ch]
        np.testing.assert_allclose(raw[f"{ch}_adstock"], pub.geometric_adstock(raw[ch].to_numpy(), p["alpha"], pub.ROAS_DGP["l_max"]), atol=1e-12)
        np.testing.assert_allclose(raw[f"{ch}_adstock_saturated"], pub.logistic_saturation(raw[f"{ch}_adstock"].to_numpy(), p["lam"]), atol=1e-12)
        np.testing.assert_allclose(raw[f"{ch}_effect"], p["beta"] * raw[f"{ch}_adstock_saturated"], atol=1e-12)
        np.testing.assert_allclose(raw["y"] - raw[f"y0{ch[-1]}"], amp * raw[f"{ch}_effect"], atol=1e-9)


def test_truth_is_what_the_readme_says():
    rows = [(c, float(v)) for c, v in re.findall(r"^\| (x[12]) \| ([\d.]+) \|$", README, flags=re.M)]
    assert [c for c, _ in rows] == ["x1", "x2", "x1", "x2"]  # mmm_example's table, then mmm_roas's
    example = pub.example_truth()
    assert [example["x1"], example["x2"]] == pytest.approx([v for _, v in rows[:2]], abs=0.005)
    roas, documented = pub.roas_truth(), pub.roas_truth_documented()
    # the notebook prints 93.39 and 171.41; with no spend before the data causalmmm's estimand is the same
    assert [documented["x1"], documented["x2"]] == pytest.approx([93.39, 171.41], abs=0.005)
    assert [v for _, v in rows[2:]] == [93.39, 171.41]
    assert roas == pytest.approx(documented, rel=1e-12)
    _, exp_truth = pub.roas_experiments()
    for name, value in exp_truth.items():
        assert value == pytest.approx(readme_value(name), abs=0.005)


def test_go_dark_experiments_are_unbiased_with_se_a_tenth_of_the_effect():
    exps, truth = pub.roas_experiments()
    assert [e.name for e in exps] == list(pub.ROAS_EXPERIMENTS)
    for e in exps:
        assert e.estimate == truth[e.name] < 0  # intervened − factual: switching a channel off loses sales
        assert e.se == pytest.approx(0.1 * abs(e.estimate))
        assert tuple(e.intervention) == ("set", 0.0) and e.measured == ("y",) and e.use == "calibrate"
    # switching x1 off everywhere recovers the whole effect: the counterfactual code agrees with the y01 column
    raw = pub.roas_raw()
    everywhere = np.ones(len(raw), dtype=bool)
    np.testing.assert_allclose(pub.roas_effect_of_turning_off(raw, "x1", everywhere), raw["y"] - raw["y01"], atol=1e-9)
