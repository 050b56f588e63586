"""Acceptance test of the graph workshop in a real headless browser (Playwright driving Debian's chromium).

The page starts empty; the test builds the bundled example graph (graphs/marketing.dot) through the
page's forms, checks that a cycle is refused with its reason, marks ``demand`` latent, sees PPC
become "not identifiable" with its open backdoor path highlighted and the experiment that fixes
it, tries undo/redo, and saves to DOT and YAML. The saved files load with ``cm.load_graph`` and
equal the example with demand latent. Screenshots go to ``$CAUSALMMM_ARTIFACTS`` (or pytest's
tmp_path); their folder is printed.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest
from conftest import REPO

import causalmmm as cm
from causalmmm.graph.io import graph_from_dict
from causalmmm.report.screenshot import HEADLESS_FLAGS
from causalmmm.workshop import Workshop, make_server, same_graph

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = list(HEADLESS_FLAGS)
EXAMPLE = REPO / "graphs" / "marketing.dot"

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright; it drives the system chromium)")
if not (Path(CHROMIUM).exists() or shutil.which("chromium")):
    pytest.skip("Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True)


def _expected() -> cm.CausalGraph:
    doc = cm.load_graph(EXAMPLE).to_dict()
    doc["nodes"]["demand"]["observed"] = False
    return graph_from_dict(doc)


@pytest.fixture
def artifacts(tmp_path: Path) -> Path:
    out = Path(os.environ.get("CAUSALMMM_ARTIFACTS") or tmp_path / "artifacts") / "workshop"
    out.mkdir(parents=True, exist_ok=True)
    print(f"\nworkshop screenshots in {out}")
    return out


@pytest.fixture
def server(tmp_path: Path):
    workshop = Workshop(None, base_dir=tmp_path)
    srv = make_server(workshop, 0)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join(timeout=10)


@pytest.fixture
def page(server, artifacts: Path):
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"), args=CHROMIUM_ARGS)
        pg = browser.new_page(viewport={"width": 1500, "height": 1000})
        outside: list[str] = []

        def only_local(route):
            host = urlparse(route.request.url).hostname
            if host in ("127.0.0.1", "localhost"):
                route.continue_()
            else:
                outside.append(route.request.url)
                route.abort()

        pg.route("**/*", only_local)
        errors: list[str] = []
        pg.on("pageerror", lambda exc: errors.append(str(exc)))
        pg.goto(server.url)
        pg.wait_for_selector("#new-node-role option", state="attached")
        yield pg
        try:
            pg.screenshot(path=str(artifacts / "99-last.png"), full_page=True)
        finally:
            browser.close()
        assert not outside, f"the page asked the internet for {outside}"
        assert not errors, f"JavaScript errors in the page: {errors}"


def _edit(page, action) -> None:
    """Run a UI action that sends one edit and wait for the server's answer to be shown.

    The page replaces its ``state`` object when it renders an answer: waiting for a new object (not
    for the message's class, which is already "ok" from the previous edit) closes the race between
    the response arriving and the page rendering it.
    """
    page.evaluate("() => { window.__shownBefore = state; }")
    with page.expect_response(lambda r: "/api/" in r.url and r.request.method == "POST") as info:
        action()
    assert info.value.ok, info.value.json().get("error")
    page.wait_for_function("state !== window.__shownBefore && document.querySelector('#message').className === 'ok'")


def _add_node(page, name: str, role: str, observed: bool) -> None:
    page.fill("#new-node-name", name)
    page.select_option("#new-node-role", role)
    page.set_checked("#new-node-observed", observed)
    _edit(page, lambda: page.click("#add-node"))
    page.wait_for_selector(f'.node-item[data-node="{name}"]')


def _add_edge(page, source: str, target: str, attrs: dict[str, object]) -> None:
    page.select_option("#edge-from", source)
    page.select_option("#edge-to", target)
    _edit(page, lambda: page.click("#add-edge"))
    item = f'.edge-item[data-edge="{source}->{target}"]'
    page.wait_for_selector(item)
    if not attrs:
        return
    page.click(item)
    page.wait_for_selector(f'[data-inspect="edge {source}->{target}"]')
    fields = {"sign": "#edge-sign", "adstock": "#edge-adstock", "saturation": "#edge-saturation", "modulator": "#edge-modulator"}
    for key, value in attrs.items():
        if key in fields:
            page.select_option(fields[key], str(value))
        else:
            page.fill({"lag": "#edge-lag", "l_max": "#edge-lmax"}[key], str(value))
    _edit(page, lambda: page.click("#edge-apply"))
    meta = page.locator(f"{item} + .meta")
    for key, value in attrs.items():
        assert f"{key}={value}" in meta.inner_text()


def test_build_the_example_mark_demand_latent_and_save(page, server, tmp_path: Path, artifacts: Path):
    example = cm.load_graph(EXAMPLE)
    page.screenshot(path=str(artifacts / "00-empty.png"))

    # 1. build the example from scratch, through the forms
    for name in example.nodes:
        info = example.node(name)
        _add_node(page, name, info.role, info.observed)
    for source, target in example.edges:
        _add_edge(page, source, target, example.declared_edge_attrs(source, target))
    assert page.locator("#problem").is_hidden()
    assert page.locator('[data-channel="ppc_spend"]').get_attribute("class") == "channel identifiable"
    assert "adjust for: demand" in page.inner_text('[data-channel="ppc_spend"]')
    page.screenshot(path=str(artifacts / "01-built.png"), full_page=True)

    # a cycle is refused with the reason, and nothing changes
    page.select_option("#edge-from", "sales")
    page.select_option("#edge-to", "demand")
    page.click("#add-edge")
    page.wait_for_selector("#message.error")
    message = page.inner_text("#message")
    assert "refused" in message and "cycle" in message and "sales -> demand" in message, message
    assert page.locator('.edge-item[data-edge="sales->demand"]').count() == 0
    page.screenshot(path=str(artifacts / "02-cycle-refused.png"))

    # 2. demand latent: PPC is not identifiable, its open backdoor path is red, the experiment is named
    page.click('.node-item[data-node="demand"]')
    page.wait_for_selector('[data-inspect="node demand"]')
    page.uncheck("#node-observed")
    _edit(page, lambda: page.click("#node-apply"))
    ppc = page.locator('[data-channel="ppc_spend"]')
    ppc.locator(".verdict", has_text="not identifiable").wait_for()
    text = ppc.inner_text()
    assert "ppc_spend <- demand -> ppc_clicks -> sales" in text
    assert "a randomised test on ppc_spend (e.g. lift, geo-lift or randomised spend jitter) measured on sales" in text
    assert page.locator('[data-channel="social_spend"]').get_attribute("class") == "channel identifiable"
    assert page.locator('#drawing g.node.open-path[data-node="demand"]').count() == 1
    assert page.locator('#drawing g.edge.open-path[data-edge="demand->ppc_spend"]').count() == 1
    page.screenshot(path=str(artifacts / "03-demand-latent.png"), full_page=True)

    # undo brings the identifiable graph back, redo the latent demand
    _edit(page, lambda: page.click("#undo"))
    page.locator('[data-channel="ppc_spend"] .verdict', has_text="identifiable (backdoor)").wait_for()
    _edit(page, lambda: page.click("#redo"))
    page.locator('[data-channel="ppc_spend"] .verdict', has_text="not identifiable").wait_for()

    # 3. save, as DOT and as YAML; both load back equal to the example with demand latent
    expected = _expected()
    for name in ("marketing_latent.dot", "marketing_latent.yaml"):
        page.fill("#save-path", name)
        with page.expect_response("**/api/save") as info:
            page.click("#save")
        assert info.value.ok, info.value.json()
        page.wait_for_selector("#message.saved")
        saved = cm.load_graph(tmp_path / name)
        assert same_graph(saved, expected)
        assert {n: (saved.node(n).role, saved.node(n).observed) for n in saved.nodes} == {
            n: (expected.node(n).role, expected.node(n).observed) for n in expected.nodes
        }
        assert {e: saved.declared_edge_attrs(*e) for e in saved.edges} == {e: expected.declared_edge_attrs(*e) for e in expected.edges}
    page.screenshot(path=str(artifacts / "04-saved.png"), full_page=True)
