"""The planner's sentence: a value of information of exactly 0 is said in words, never printed as "0 sales"."""

from __future__ import annotations

from causalmmm.fmt import num
from causalmmm.report.narrative import planned_experiment


def _plan(evsi: float) -> dict:
    top = {
        "name": "brand_off",
        "design": "lift",
        "treatment": "brand_spend",
        "intervention": "off",
        "start": "2024-09-30",
        "end": "2024-11-18",
        "measured": ["sales"],
        "current_sd": {"brand_spend": 0.0425},
        "expected_sd": {"brand_spend": 0.0396},
        "cost": {"spend_change": -104977.0, "outcome_change": -68569.0, "net": -36408.0},
        "evsi": evsi,
    }
    return {"candidates": [top], "n_scored": 27}


def test_zero_value_of_information_is_said_in_words():
    text = planned_experiment(_plan(0.0), "sales").text
    assert "0 sales" not in text and "would change the recommended budget" in text


def test_positive_value_of_information_is_printed_with_its_digits():
    text = planned_experiment(_plan(1234.5), "sales").text
    assert f"the value of its information for the budget is {num(1234.5)} sales" in text
