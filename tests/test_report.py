"""The HTML report and the Jupyter tables, on fixed parameter draws (no sampling)."""

from __future__ import annotations

import html
import re
from types import SimpleNamespace

import numpy as np
import pytest
from test_query import linear_graph, linear_world

from causalmmm.query.do import parse_do, query
from causalmmm.query.effects import effects
from causalmmm.query.optimize import optimize_budget
from causalmmm.report import collect, narrative
from causalmmm.report.html import render_html
from causalmmm.report.narrative import DISTRUST, NOTHING_TO_DISTRUST, fmt_ratio, fmt_share, payback_verdict
from causalmmm.tables import Table


@pytest.fixture(scope="module")
def fixed_run():
    scm, _ = linear_world(n_draws=40)
    rng = np.random.default_rng(0)  # spread the draws a little so the HDIs are not points
    draws = {k: v * (1 + 0.05 * rng.standard_normal(len(v))) for k, v in scm.draws.items()}
    summary = {
        "settings": {"sampler": "fixed", "chains": 1, "draws": 40, "seed": 0},
        "converged": True,
        "diagnostics": [{"node": n.name, "r_hat_max": 1.0, "ess_bulk_min": 1000.0, "divergences": 0, "warnings": []} for n in scm.spec.nodes],
        "experiments": [],
    }
    return SimpleNamespace(path="fixed-run", graph=linear_graph(), spec=scm.spec, data=scm.data, summary=summary, posterior_draws=lambda: draws)


@pytest.fixture(scope="module")
def report_data(fixed_run):
    return collect(fixed_run)


def summary_items(page: str) -> list[str]:
    block = page[page.index('<div class="summary') : page.index("</div>")]
    return [html.unescape(re.sub(r"<[^>]+>", "", li)) for li in re.findall(r"<li>(.*?)</li>", block, flags=re.S)]


def test_narrative_numbers_match_the_effects_json(fixed_run, report_data):
    page = render_html(report_data)
    items = summary_items(page)
    from causalmmm.query.do import PosteriorSCM

    eff = effects(PosteriorSCM.from_run(fixed_run)).to_dict()  # what `causalmmm effects --json` prints
    for ch, info in eff["channels"].items():
        total = next(e for e in eff["effects"] if e["treatment"] == ch and e["kind"] == "total")
        line = next(i for i in items if i.startswith(f"Payback: {ch} "))
        assert fmt_ratio(total["roas"]) in line and fmt_ratio(info["mroas"]) in line
        assert payback_verdict(total["roas"]) in line
        if info["cannibalisation"]:
            can = next(i for i in items if i.startswith("Cannibalisation:"))
            assert fmt_share(info["cannibalisation"]["share"]) in can and info["cannibalisation"]["cannibalised"] in can
    assert any(i.startswith("Next experiment:") for i in items)
    assert any(i.startswith("Budget:") for i in items)


def test_report_is_self_contained_and_has_every_section(report_data):
    page = render_html(report_data)
    summary = page[page.index('<div class="summary') :]
    assert summary.index('<h3 id="distrust">What to distrust</h3>') < summary.index("<ul>")  # first thing in the summary
    assert html.escape(NOTHING_TO_DISTRUST) in summary  # a converged fixed-draws run without warnings says so
    for forbidden in ("<script", "<link", "@import", 'src="http', "url(http"):
        assert forbidden not in page
    assert all(src.startswith("data:image/png;base64,") for src in re.findall(r'<img[^>]*src="([^"]+)"', page))
    for anchor in ("graph", "identification", "diagnostics", "fit", "residuals", "contributions", "roas", "curves", "experiments", "budget"):
        assert f'<section id="{anchor}">' in page
    assert "<svg" in page  # the graph is inline SVG


def test_narrative_flags_non_convergence_and_missing_validation(fixed_run):
    bad = SimpleNamespace(
        **{
            **vars(fixed_run),
            "summary": {
                **fixed_run.summary,
                "converged": False,
                "diagnostics": [{"node": "y", "r_hat_max": 1.4, "ess_bulk_min": 20.0, "divergences": 3, "warnings": ["y: R-hat"]}],
            },
        }
    )
    points = narrative(collect(bad))
    assert points[0].topic == DISTRUST and points[0].text.startswith("high · y:") and "did not converge" in points[0].text
    assert "R-hat 1.400" in points[0].text and "3 divergent" in points[0].text and "Fix: run more" in points[0].text
    assert '<div class="summary warn">' in render_html(collect(bad))
    assert any(p.topic == "Validation" and "No experiments" in p.text for p in points)


def test_payback_verdicts():
    assert payback_verdict({"mean": 2.0, "hdi_low": 1.5, "hdi_high": 2.5}) == "pays back"
    assert payback_verdict({"mean": 0.5, "hdi_low": 0.3, "hdi_high": 0.8}) == "does not pay back"
    assert payback_verdict({"mean": 1.1, "hdi_low": 0.8, "hdi_high": 1.4}) == "may or may not pay back"


def test_tables_escape_user_names():
    t = Table(["<b>col</b>"], [["<script>alert(1)</script>"]], caption="a & b")
    out = t.to_html()
    assert "<script>" not in out and "&lt;script&gt;" in out and "&lt;b&gt;col" in out and "a &amp; b" in out


def test_jupyter_reprs_are_tables(fixed_run):
    from causalmmm.graph.identify import identify
    from causalmmm.query.do import PosteriorSCM

    scm = PosteriorSCM.from_run(fixed_run)
    for obj in (effects(scm), query(scm, [parse_do("x=0")]), optimize_budget(scm, float(scm.data.column("x").mean()), periods=10), identify(linear_graph())):
        out = obj._repr_html_()
        assert out.startswith('<table class="cm-table">') and "</table>" in out
    assert linear_graph()._repr_svg_().lstrip().startswith(("<?xml", "<svg", "<!DOCTYPE"))


def test_report_cli_refuses_to_overwrite_and_needs_html(tmp_path, capsys):
    from causalmmm.cli import main

    out = tmp_path / "r.html"
    out.write_text("keep")
    code = main(["report", str(tmp_path), "-o", str(out)])
    err = capsys.readouterr().err
    assert code != 0 and "already exists" in err and err.count("\n") == 1 and out.read_text() == "keep"
    code = main(["report", str(tmp_path), "-o", str(tmp_path / "r.pdf")])
    err = capsys.readouterr().err
    assert code != 0 and "HTML" in err and err.count("\n") == 1 and not (tmp_path / "r.pdf").exists()


@pytest.mark.skipif(
    __import__("causalmmm.report.screenshot", fromlist=["find_browser"]).find_browser() is None, reason="needs Debian's chromium (apt-get install chromium)"
)
def test_screenshot_in_headless_chromium(report_data, tmp_path):
    from PIL import Image

    from causalmmm.report.screenshot import screenshot

    page = tmp_path / "r.html"
    page.write_text(render_html(report_data))
    shot = screenshot(page, tmp_path / "r.png", height=5000)
    img = Image.open(shot)
    assert img.width == 1200 and 1500 < img.height < 5000  # the blank bottom is trimmed
    assert len(set(img.convert("L").resize((60, 200)).getdata())) > 20  # not a blank page


def test_charts_survive_a_mean_a_rounding_error_outside_its_hdi():
    from causalmmm.report.figures import scenarios_chart

    s = {"mean": 100.0000001, "hdi_low": 100.0, "hdi_high": 100.0}
    sc = [{"budget": 10.0, "periods": 4, "allocation": {"a": 10.0}, "current_allocation": {"a": 10.0}, "expected_outcome": s, "current_outcome": s}]
    assert scenarios_chart(sc).axes


def test_mechanisms_table_marks_adjustment_terms():
    from causalmmm.tables import mechanisms_table

    summary = {
        "nodes": [
            {
                "name": "sales",
                "parents": ["brand_search", "tv_spend"],
                "causes": ["brand_search"],
                "adjustment": ["tv_spend"],
                "trend": "linear",
                "seasonality": 2,
                "confounded": False,
                "latent_parents": ["competitor"],
            }
        ]
    }
    html = mechanisms_table(summary).to_html()
    assert "adjustment terms (not causes)" in html and "<td>tv_spend</td>" in html and "<td>brand_search</td>" in html
    assert "linear, seasonality 2" in html and "identified" in html
