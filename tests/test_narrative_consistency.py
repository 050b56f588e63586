"""The narrative never contradicts the validation and warnings payloads (constructed payloads, no model, no sampling).

The world: three channels on 0-1 scaled data (ROAS in the thousandths, budgets below 1).
* ppc_spend is not identified and is calibrated by ppc_geo, which the validation marks inconsistent (z = +3.5);
* social_spend is calibrated by social_lift, consistent in-sample but flagged by an ``experiment_conflict`` warning;
* brand_spend is not identified and is calibrated by brand_geo, consistent and unflagged: it may be said to pin brand down.
"""

from __future__ import annotations

import re

import pytest

from causalmmm.fmt import num, signed
from causalmmm.model_warnings import ModelWarning
from causalmmm.report.collect import ReportData
from causalmmm.report.distrust import ONLY_NOTES
from causalmmm.report.narrative import DISTRUST, NOTES, NOTHING_TO_DISTRUST, Point, fmt_ratio, narrative

CHANNELS = ("ppc_spend", "social_spend", "brand_spend")
ROAS = {"ppc_spend": (0.00123, 0.00081, 0.00172), "social_spend": (0.0456, 0.0312, 0.0601), "brand_spend": (0.789, 0.512, 1.13)}
MROAS = {"ppc_spend": (0.000612, 0.0004, 0.00083), "social_spend": (0.0401, 0.0288, 0.0522), "brand_spend": (0.35, 0.2, 0.51)}
CALIBRATING = {"ppc_geo": "ppc_spend", "social_lift": "social_spend", "brand_geo": "brand_spend"}
CONFLICTING = ("ppc_geo", "social_lift")
PRAISE = [
    r"\bpins?\b",
    r"\bpinned\b",
    r"\bconfirm",
    r"\bvalidat(?:es|ed)\b",
    r"\bsupports?\b",
    r"\bcalibrates? \w+ well\b",
    r"\bresting on experiments\b",
    r"(?<!not )\bagrees?\b",
    r"\btrustworthy\b",
    r"\breliabl",
]
NUMBER = re.compile(r"(?<![\w.])[+-]?\d[\d,]*(?:\.\d+)?(?:e[+-]?\d+)?(?![\w%]|\.\d)")


def summary(mean: float, low: float, high: float) -> dict[str, float]:
    return {"mean": mean, "hdi_low": low, "hdi_high": high}


def effects_payload() -> dict:
    rows = [{"treatment": c, "kind": "total", "path": None, "roas": summary(*ROAS[c]), "contribution": summary(*(r * 120 for r in ROAS[c]))} for c in CHANNELS]
    return {"outcome": "sales", "channels": {c: {"mroas": summary(*MROAS[c]), "cannibalisation": None} for c in CHANNELS}, "effects": rows}


def check(name: str, z: float, calibrated: bool = True) -> dict:
    return {
        "name": name,
        "use": "calibrate" if calibrated else "holdout",
        "calibrated": calibrated,
        "measured": 0.0421,
        "measured_se": 0.0033,
        "predicted": summary(0.0302, 0.0271, 0.0333),
        "predicted_sd": 0.0016,
        "z": z,
        "consistent": abs(z) < 2,
    }


def validation_payload(z_ppc: float = 3.5) -> dict:
    return {
        "experiments": [check("ppc_geo", z_ppc), check("social_lift", 0.4), check("brand_geo", -0.3), check("ppc_go_dark", 0.2, False)],
        "summary": {},
        "skipped": [],
    }


RUN_WARNINGS = [
    ModelWarning(
        "adstock_tail",
        "brand_spend -> sales",
        "the carry-over is cut off at l_max = 13 with 21% of its weight beyond",
        "declare l_max=26 on the edge",
        "medium",
    ),
    ModelWarning(
        "experiment_conflict",
        "social_lift",
        "without social_lift the model predicts 0.0302 ± 0.0016 against 0.0421 ± 0.0033 (z_loo = +3.3)",
        "check the lift test's unit and window, then the edges into social_clicks",
        "high",
    ),
    ModelWarning("sign_binding", "seo_clicks -> sales", "the positive coefficient piles up at zero", "let the sign be free or drop the edge", "low"),
]


def identification_payload() -> dict:
    def ident(c: str, ok: bool) -> dict:
        return {
            "treatment": c,
            "identifiable": ok,
            "adjustment_set": [] if ok else None,
            "mediators": [],
            "reason": "",
            "latent_confounders": [] if ok else ["demand"],
            "experiments_that_identify": [f"a geo test on {c}"],
        }

    return {"outcome": "sales", "channels": [ident("ppc_spend", False), ident("social_spend", True), ident("brand_spend", False)]}


def scenario() -> dict:
    cur = {"ppc_spend": 0.3, "social_spend": 0.2, "brand_spend": 0.1}
    return {
        "budget": 0.6,
        "periods": 52,
        "allocation": {"ppc_spend": 0.25, "social_spend": 0.21, "brand_spend": 0.14},
        "current_allocation": cur,
        "expected_outcome": summary(1.2345, 1.2, 1.27),
        "current_outcome": summary(1.2301, 1.19, 1.26),
    }


def report_data(*, warnings=(), validation=None, diagnostics_ok: bool = True) -> ReportData:
    diags = [{"node": "sales", "r_hat_max": 1.0 if diagnostics_ok else 1.3, "ess_bulk_min": 800.0, "divergences": 0, "warnings": []}]
    experiments = [{"name": n, "treatment": c, "design": "geo-lift", "measured": ["sales"], "calibrated": True} for n, c in CALIBRATING.items()]
    return ReportData(
        run_path="constructed",
        outcome="sales",
        start="2022-01-03",
        end="2024-12-30",
        n_periods=156,
        freq="W-MON",
        graph=None,
        summary={"diagnostics": diags, "warnings": [w.to_dict() for w in warnings], "experiments": experiments},
        identification=identification_payload(),
        effects=effects_payload(),
        edge_effects={},
        curves=[],
        scenarios=[scenario()],
        node_fits=[],
        spend={},
        validation=validation,
        experiments=experiments,
    )


def sentences(points: list[Point]) -> list[str]:
    return [s for p in points for s in re.split(r"(?<=[.!?])\s+", p.text)]


@pytest.fixture(scope="module")
def conflicted() -> list[Point]:
    return narrative(report_data(warnings=RUN_WARNINGS, validation=validation_payload()))


def test_no_sentence_praises_a_conflicting_experiment(conflicted):
    body = [p for p in conflicted if p.topic != DISTRUST]
    for s in sentences(body):
        for name in CONFLICTING:
            if re.search(rf"\b{name}\b", s):
                hits = [pat for pat in PRAISE if re.search(pat, s, flags=re.I)]
                assert not hits, (name, hits, s)
    not_identified = {p.text.split("'")[0]: p.text for p in body if p.topic == "Not identified"}
    assert "pin" not in not_identified["ppc_spend"] and "ppc_geo (z = +3.5) conflicts with the model" in not_identified["ppc_spend"]
    assert "brand_geo pins it down" in not_identified["brand_spend"]  # the gate keeps the praise an agreeing experiment earned
    evidence = next(p.text for p in body if p.topic == "Evidence")
    resting = next(s for s in sentences([Point("", evidence)]) if s.startswith("Resting on experiments"))
    assert "brand_geo" in resting and "ppc_geo" not in resting and "social_lift" not in resting
    payback = {p.text.split(" ")[0]: p.text for p in body if p.topic == "Payback"}
    assert "Distrust this number" in payback["ppc_spend"] and "Distrust this number" in payback["social_spend"]
    assert "Distrust" not in payback["brand_spend"]
    validation = next(p.text for p in body if p.topic == "Validation")
    assert "ppc_geo does not agree" in validation and "z = +3.50" in validation and "social_lift is matched in-sample (z = +0.40)" in validation


def test_the_gate_opens_when_the_experiment_agrees():
    points = narrative(report_data(validation=validation_payload(z_ppc=0.5)))
    ppc = next(p.text for p in points if p.topic == "Not identified" and p.text.startswith("ppc_spend"))
    assert "ppc_geo pins it down" in ppc


def test_what_to_distrust_comes_first_ranked_with_every_fix(conflicted):
    block = [p for p in conflicted if p.topic in (DISTRUST, NOTES)]
    assert conflicted[: len(block)] == block  # the very top of the summary: doubts, then notes
    expected = [*RUN_WARNINGS, "ppc_geo"]  # the validation's inconsistent experiment is a warning too
    assert len(block) == len(expected)
    assert [p.topic == NOTES for p in block] == [p.text.startswith("low · ") for p in block]  # low ones are notes, not doubts
    for w in RUN_WARNINGS:
        line = next(p.text for p in block if f" · {w.where}: " in p.text)
        assert line.startswith(f"{w.severity} · ") and w.message in line and f"Fix: {w.fix}" in line
    ppc = next(p.text for p in block if " · ppc_geo: " in p.text)
    assert ppc.startswith("high · ") and "z = +3.5" in ppc and num(0.0421) in ppc and num(0.0302) in ppc and "Fix: " in ppc
    order = {"high": 0, "medium": 1, "low": 2}
    ranks = [order[p.text.split(" · ")[0]] for p in block]
    assert ranks == sorted(ranks)


def test_validation_warnings_and_old_runs_without_warnings():
    val = {
        **validation_payload(z_ppc=0.1),
        "warnings": [ModelWarning("refute_placebo", "ppc_spend", "a placebo treatment has an effect", "add the missing confounder", "high").to_dict()],
    }
    d = report_data(validation=val, diagnostics_ok=False)
    del d.summary["warnings"]  # a run written before warnings existed
    block = [p.text for p in narrative(d) if p.topic == DISTRUST]
    assert any("ppc_spend: a placebo treatment has an effect. Fix: add the missing confounder." in t for t in block)
    assert any(t.startswith("high · sales: the sampler did not converge (max R-hat 1.300") for t in block)


def test_only_low_warnings_are_notes_under_a_sentence_that_says_so():
    d = report_data(validation=validation_payload(z_ppc=0.1))
    low = ModelWarning("convergence", "sales", "short chains (max R-hat 1.012): the intervals are rough, the estimate is not in doubt", "sample longer", "low")
    d.summary["warnings"] = [low.to_dict()]
    points = narrative(d)
    assert points[0] == Point(DISTRUST, ONLY_NOTES)
    assert points[1].topic == NOTES and points[1].text.startswith("low · sales: short chains")
    assert not any(p.topic == DISTRUST and "short chains" in p.text for p in points)


def test_no_warnings_says_so_in_one_sentence():
    points = narrative(report_data(validation=validation_payload(z_ppc=0.1)))
    block = [p for p in points if p.topic == DISTRUST]
    assert [p.text for p in block] == [NOTHING_TO_DISTRUST]
    assert len(sentences(block)) == 1 and points[0] == block[0]
    assert "Distrust" not in " ".join(p.text for p in points[1:])


def test_every_roas_number_is_the_payload_formatted_by_fmt(conflicted):
    for p in conflicted:
        if p.topic == "Payback":
            channel = p.text.split(" ")[0]
            allowed = {num(v) for v in (*ROAS[channel], *MROAS[channel])}
            found = {n for s in sentences([p]) if not s.startswith("Distrust") for n in NUMBER.findall(s)}
            assert found == allowed, (channel, found, allowed)
            assert fmt_ratio(summary(*ROAS[channel])) in p.text
    for s in sentences(conflicted):
        if "ROAS is the least certain" in s:
            channel = re.search(r"on (\w+) measured|test on (\w+)", s)
            assert channel is not None
            name = channel.group(1) or channel.group(2)
            assert set(NUMBER.findall(s)) <= {num(v) for v in ROAS[name]}


def test_small_numbers_keep_their_digits_in_every_sentence(conflicted):
    text = " ".join(p.text for p in conflicted)
    budget = next(p.text for p in conflicted if p.topic == "Budget")
    assert "ppc_spend 0.3 → 0.25" in budget and f"by about {signed(1.2345 - 1.2301)} (+0.36%)" in budget
    assert "0.00123 (94% HDI 0.00081 to 0.00172)" in text
    for token in NUMBER.findall(text):
        assert token.lstrip("+-").replace(",", "") not in ("0", "0.0", "0.00"), token
