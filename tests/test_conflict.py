"""experiment_conflict: PSIS leave-one-out of each calibrating experiment, from fixed draws (no sampling).

The draws are a deterministic normal quantile grid, so every number here is reproducible exactly.
The reference is the conjugate normal case: a contrast θ with experiment-free distribution
N(m0, s0²) and a measurement est ~ N(θ, se²). The calibrated posterior is N(m1, s1²); removing
the measurement's likelihood term must give back N(m0, s0²).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from causalmmm.experiments.schema import Experiment
from causalmmm.fmt import num, signed
from causalmmm.validation.conflict import K_HAT_MAX, METHOD_PSIS, METHOD_UNRELIABLE, Z_IN_SAMPLE_THRESHOLD, Z_LOO_THRESHOLD, experiment_conflicts, implied_key


def experiment(name: str, estimate: float | None, se: float | None, use: str = "calibrate", likelihood: str = "normal") -> Experiment:
    return Experiment(
        name=name,
        design="lift",
        treatment="x",
        intervention=("set", 0.0),
        measured=("y",),
        start=pd.Timestamp("2024-01-01"),
        end=pd.Timestamp("2024-02-26"),
        estimate=estimate,
        se=se,
        use=use,
        likelihood=likelihood,
    )


def quantile_draws(mean: float, sd: float, n: int = 4000) -> np.ndarray:
    return mean + sd * stats.norm.ppf((np.arange(n) + 0.5) / n)


def calibrated_posterior(m0: float, s0: float, est: float, se: float) -> tuple[float, float]:
    """Mean and sd of θ | est for θ ~ N(m0, s0²), est ~ N(θ, se²)."""
    var = 1.0 / (1.0 / s0**2 + 1.0 / se**2)
    return var * (m0 / s0**2 + est / se**2), math.sqrt(var)


def check(m0: float, s0: float, est: float, se: float, name: str = "e"):
    m1, s1 = calibrated_posterior(m0, s0, est, se)
    report = experiment_conflicts({implied_key(name): quantile_draws(m1, s1)}, [experiment(name, est, se)])
    assert len(report.rows) == 1
    return report, report.rows[0]


@pytest.mark.parametrize("m0, s0, est, se", [(100.0, 10.0, 110.0, 20.0), (100.0, 10.0, 130.0, 20.0), (50.0, 5.0, 40.0, 8.0), (0.02, 0.004, 0.015, 0.006)])
def test_psis_loo_matches_the_exact_conjugate_leave_one_out(m0, s0, est, se):
    _, row = check(m0, s0, est, se)
    assert row.k_hat < 0.5
    assert row.method == METHOD_PSIS and row.note is None
    assert row.loo_mean == pytest.approx(m0, abs=0.01 * s0)
    assert row.loo_sd == pytest.approx(s0, rel=0.02)
    assert row.z_loo == pytest.approx((est - m0) / math.sqrt(se**2 + s0**2), abs=0.01)
    # the calibrated fit's own residual, shrunk by sqrt((1 - k) / (1 + k)) with k = s0² / (s0² + se²)
    k = s0**2 / (s0**2 + se**2)
    m1, s1 = calibrated_posterior(m0, s0, est, se)
    assert row.implied_mean == pytest.approx(m1, rel=1e-6)
    assert row.z_in_sample == pytest.approx(row.z_loo * math.sqrt((1 - k) / (1 + k)), abs=0.01)


def test_a_conflict_fires_and_names_experiment_numbers_and_causes():
    # without the experiment the model says 150 ± 5; the experiment measured 100 ± 10 (exact z_loo = -4.5)
    report, row = check(150.0, 5.0, 100.0, 10.0, name="x1_dark_q2")
    assert row.conflict
    assert row.z_loo < -Z_LOO_THRESHOLD and row.z_in_sample < -Z_IN_SAMPLE_THRESHOLD
    assert row.loo_mean == pytest.approx(150.0, abs=1.0)
    [w] = report.warnings()
    assert (w.code, w.where, w.severity) == ("experiment_conflict", "x1_dark_q2", "high")
    assert "measured 100 ± 10" in w.message
    assert f"predicts {num(row.loo_mean)} ± {num(row.loo_sd)}" in w.message and f"z = {signed(row.z_loo, 2)}" in w.message
    assert num(row.loo_mean) in ("149", "150", "151")
    for cause in ("graph", "window", "units", "confounded", "the experiment itself", "validate --loo"):
        assert cause in w.fix
    assert report.to_dict()["n_conflicts"] == 1


def test_a_consistent_experiment_stays_quiet():
    report, row = check(100.0, 10.0, 104.0, 10.0)
    assert not row.conflict
    assert abs(row.z_loo) < 1.0
    assert report.warnings() == []


def test_leave_one_out_catches_what_the_in_sample_residual_hides():
    # exact z_loo = 2.7: a conflict; the calibrated fit absorbed it (z_in = 2.7 · sqrt(1/3) = 1.56)
    est = 100.0 + 2.7 * math.sqrt(200.0)
    _, row = check(100.0, 10.0, est, 10.0)
    assert abs(row.z_in_sample) < Z_IN_SAMPLE_THRESHOLD
    assert row.z_loo > Z_LOO_THRESHOLD
    assert row.conflict
    # just under the threshold it stays quiet
    _, row = check(100.0, 10.0, 100.0 + 2.3 * math.sqrt(200.0), 10.0)
    assert not row.conflict


def test_k_hat_is_reported_and_an_unreliable_approximation_says_so():
    # the experiment (se 5) is far more informative than the rest (sd 30): the posterior moved beyond its draws
    report, row = check(100.0, 30.0, 130.0, 5.0)
    assert row.k_hat > K_HAT_MAX
    assert row.method == METHOD_UNRELIABLE
    assert "validate --loo" in row.note
    assert not row.conflict  # the in-sample residual is small; the exact LOO z is 0.99
    d = report.to_dict()["experiments"][0]
    assert set(d) >= {"name", "measured", "se", "predicted_loo", "z_loo", "k_hat", "z_in_sample", "conflict", "method"}
    assert set(d["predicted_loo"]) == {"mean", "sd"} and d["k_hat"] == row.k_hat


def test_unreliable_but_large_in_sample_residual_is_a_conflict():
    # a fit that cannot reach its own experiment: posterior draws centred 4 se from the measurement
    draws = quantile_draws(140.0, 5.0)
    report = experiment_conflicts({implied_key("e"): draws}, [experiment("e", 100.0, 10.0)])
    [row] = report.rows
    assert row.z_in_sample == pytest.approx(-40.0 / math.sqrt(125.0), abs=0.01)
    assert row.conflict and len(report.warnings()) == 1
    assert "unreliable" in report.warnings()[0].message or row.k_hat <= K_HAT_MAX


def test_student_t_likelihood_and_chain_shaped_draws():
    m1, s1 = calibrated_posterior(100.0, 10.0, 110.0, 20.0)
    draws = quantile_draws(m1, s1).reshape(2, 2000)  # (chain, draw) is flattened
    report = experiment_conflicts({implied_key("e"): draws}, [experiment("e", 110.0, 20.0, likelihood="student_t")])
    [row] = report.rows
    assert np.isfinite(row.z_loo) and 0.0 < row.k_hat < K_HAT_MAX
    assert abs(row.loo_mean - 100.0) < 5.0  # a t likelihood pulls less than the normal one, but the same way


def test_holdouts_are_ignored_and_missing_inputs_are_skipped_with_a_reason():
    draws = {implied_key("cal"): quantile_draws(100.0, 5.0), implied_key("nan"): np.full(100, np.nan)}
    exps = [
        experiment("cal", 101.0, 10.0),
        experiment("hold", 50.0, 5.0, use="holdout"),
        experiment("nores", None, None),
        experiment("absent", 10.0, 1.0),
        experiment("nan", 10.0, 1.0),
    ]
    report = experiment_conflicts(draws, exps)
    assert [r.name for r in report.rows] == ["cal"]
    text = " | ".join(report.skipped)
    assert "nores: no estimate" in text and "absent:" in text and "experiment|absent|implied" in text and "nan: only 0 finite" in text
    assert "hold" not in text
    assert "cal" in report.to_text() and "ok" in report.to_text()


def test_small_scale_numbers_keep_significant_digits():
    report, row = check(0.0002, 0.00002, 0.0001, 0.00001, name="tiny")
    assert row.conflict
    message = report.warnings()[0].message
    assert f"measured {num(0.0001)} ± {num(0.00001)}" in message and f"predicts {num(row.loo_mean)}" in message
    assert num(row.loo_mean).startswith("0.00014") and " 0 ±" not in message
