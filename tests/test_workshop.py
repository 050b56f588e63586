"""The graph workshop without a browser: edits, cycle refusal, undo/redo, round trips, atomic save, the JSON API."""

from __future__ import annotations

import json
import os
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import REPO

import causalmmm as cm
from causalmmm.data import load_data
from causalmmm.errors import GraphError, GraphSyntaxError
from causalmmm.graph.io import graph_from_dict, graph_from_dot, graph_from_yaml, graph_to_dot, graph_to_yaml
from causalmmm.workshop import Workshop, WorkshopError, WorkshopState, graph_from_dagitty, graph_to_dagitty, make_server, same_graph
from causalmmm.workshop.panels import identification_panel

EXAMPLE = REPO / "graphs" / "marketing.dot"


def example(demand_latent: bool = False) -> cm.CausalGraph:
    doc = cm.load_graph(EXAMPLE).to_dict()
    if demand_latent:
        doc["nodes"]["demand"]["observed"] = False
    return graph_from_dict(doc)


# ------------------------------------------------------------------ state
def test_building_the_example_edit_by_edit_gives_the_example():
    target = example()
    state = WorkshopState()
    assert state.problem() is not None  # an empty graph is not a model graph yet
    for n in target.nodes:
        state.apply({"op": "add_node", "name": n, "role": target.node(n).role})
    for u, v in target.edges:
        state.apply({"op": "add_edge", "source": u, "target": v, "attrs": target.declared_edge_attrs(u, v)})
    assert state.problem() is None
    assert state.graph() == target  # same order too: to_dict equality


def test_attribute_edits_are_typed_and_undeclared_by_blank():
    state = WorkshopState(example())
    state.apply({"op": "set_edge", "source": "ppc_spend", "target": "ppc_clicks", "attrs": {"l_max": "6", "lag": "1", "sign": "free"}})
    attrs = state.graph().declared_edge_attrs("ppc_spend", "ppc_clicks")
    assert attrs["l_max"] == 6 and attrs["lag"] == 1 and attrs["sign"] == "free"
    state.apply({"op": "set_edge", "source": "ppc_spend", "target": "ppc_clicks", "attrs": {"lag": "", "sign": None}})
    attrs = state.graph().declared_edge_attrs("ppc_spend", "ppc_clicks")
    assert "lag" not in attrs and "sign" not in attrs and attrs["adstock"] == "geometric"
    state.apply({"op": "set_node", "name": "sales", "attrs": {"trend": "linear", "seasonality": "2"}})
    assert state.graph().declared_node_attrs("sales") == {"trend": "linear", "seasonality": 2}


def test_rename_and_remove_follow_the_edges_and_modulators():
    state = WorkshopState(example())
    state.apply({"op": "set_edge", "source": "ppc_spend", "target": "ppc_clicks", "attrs": {"modulator": "demand"}})
    state.apply({"op": "rename_node", "name": "demand", "new_name": "market_demand"})
    g = state.graph()
    assert "demand" not in g and g.nodes.index("market_demand") == 0
    assert ("market_demand", "ppc_spend") in g.edges
    assert g.declared_edge_attrs("ppc_spend", "ppc_clicks")["modulator"] == "market_demand"
    state.apply({"op": "remove_node", "name": "market_demand"})
    g = state.graph()
    assert "market_demand" not in g and all("market_demand" not in e for e in g.edges)
    assert "modulator" not in g.declared_edge_attrs("ppc_spend", "ppc_clicks")


def test_a_cycle_is_refused_with_the_reason_and_the_state_is_unchanged():
    state = WorkshopState(example())
    before, version = state.doc, state.version
    with pytest.raises(GraphError) as err:
        state.apply({"op": "add_edge", "source": "ppc_clicks", "target": "ppc_spend"})
    text = str(err.value)
    assert text.startswith("edge ppc_clicks -> ppc_spend is refused: the graph has a cycle: ppc_spend -> ppc_clicks -> ppc_spend")
    assert "remove or reverse one edge" in text and "\n" not in text
    assert state.doc == before and state.version == version and not state.can_redo


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ({"op": "add_node", "name": "demand", "role": "confounder"}, "node 'demand' already exists"),
        ({"op": "add_node", "name": "tv spend", "role": "spend"}, "is not a usable node name"),
        ({"op": "add_node", "name": "tv", "role": "channel"}, "unknown role 'channel'"),
        ({"op": "add_edge", "source": "ppc_spend", "target": "ppc_clicks"}, "the edge already exists"),
        ({"op": "add_edge", "source": "ppc_spend", "target": "ppc_spend"}, "self-loop"),
        ({"op": "add_edge", "source": "ppc_spend", "target": "tv"}, "unknown node 'tv'"),
        ({"op": "set_edge", "source": "ppc_spend", "target": "ppc_clicks", "attrs": {"adstock": "exponential"}}, "unknown adstock 'exponential'"),
        ({"op": "set_edge", "source": "ppc_spend", "target": "ppc_clicks", "attrs": {"l_max": "0"}}, "l_max must be >= 1"),
        ({"op": "set_node", "name": "sales", "attrs": {"observed": "maybe"}}, "observed must be true or false"),
        ({"op": "fly"}, "unknown edit 'fly'"),
    ],
)
def test_bad_edits_get_a_one_line_message(edit, message):
    state = WorkshopState(example())
    before = state.doc
    with pytest.raises(GraphError, match=message.replace("(", r"\(")):
        state.apply(edit)
    assert state.doc == before


def test_undo_and_redo_walk_the_history_and_a_new_edit_drops_the_redo():
    state = WorkshopState(example())
    original = state.doc
    state.apply({"op": "set_node", "name": "demand", "attrs": {"observed": False}})
    latent = state.doc
    state.apply({"op": "remove_edge", "source": "promo", "target": "sales"})
    state.undo()
    assert state.doc == latent and state.can_redo
    state.undo()
    assert state.doc == original and not state.can_undo
    with pytest.raises(GraphError, match="nothing to undo"):
        state.undo()
    state.redo()
    assert state.doc == latent
    state.apply({"op": "rename_graph", "name": "workshop"})
    assert not state.can_redo
    with pytest.raises(GraphError, match="nothing to redo"):
        state.redo()
    assert state.apply({"op": "rename_graph", "name": "workshop"}) == "nothing changed"


# -------------------------------------------------------------- round trips
def test_dot_and_yaml_round_trips_are_lossless_after_edits():
    state = WorkshopState(example(demand_latent=True))
    state.apply({"op": "set_node", "name": "sales", "attrs": {"trend": "piecewise", "changepoints": "4", "seasonality": "2", "noise": "ar1"}})
    state.apply({"op": "set_edge", "source": "brand_spend", "target": "seo_clicks", "attrs": {"adstock": "weibull", "lag": "2"}})
    g = state.graph()
    assert same_graph(graph_from_dot(graph_to_dot(g)), g)
    assert graph_from_yaml(graph_to_yaml(g)) == g


def test_dagitty_round_trip_is_lossless():
    state = WorkshopState(example(demand_latent=True))
    state.apply({"op": "set_node", "name": "sales", "attrs": {"seasonality": "2", "season_period": "52.18"}})
    state.apply({"op": "set_edge", "source": "ppc_spend", "target": "ppc_clicks", "attrs": {"modulator": "demand"}})
    g = state.graph()
    text = graph_to_dagitty(g)
    assert text.startswith("dag {") and 'demand [role="confounder",latent]' in text and "ppc_spend [exposure]" in text and "sales [outcome" in text
    assert graph_from_dagitty(text, name=g.name) == g


def test_dagitty_import_of_plain_dagitty_text():
    text = """dag {
      bb="0,0,1,1"
      x [exposure,pos="0.1,0.5"]
      y [outcome]
      u [latent]
      z
      u -> {x y}
      z -> x -> m -> y
      w <- y2 ; y2 [adjusted]
      a <-> y
    }"""
    g = graph_from_dagitty(text)
    assert g.node("x").role == "spend" and g.node("y").role == "outcome"
    assert not g.node("u").observed and g.node("u").role == "confounder"
    assert g.node("z").role == "confounder" and g.node("m").role == "mediator" and g.node("w").role == "mediator"
    assert {("u", "x"), ("u", "y"), ("z", "x"), ("x", "m"), ("m", "y"), ("y2", "w")} <= set(g.edges)
    assert not g.node("U_a_y").observed and {("U_a_y", "a"), ("U_a_y", "y")} <= set(g.edges)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("dag { a -- b }", "not directed"),
        ("pdag { a -> b }", "is not a DAG"),
        ("dag { a -> b ", "missing '}'"),
        ("dag { a -> b -> a }", "cycle"),
        ('dag { a [role="channel"] }', "unknown role"),
        ("dag { a -> }", "expected a node name"),
    ],
)
def test_dagitty_errors_are_one_line(text, message):
    with pytest.raises(GraphError, match=message) as err:
        graph_from_dagitty(text)
    assert "\n" not in str(err.value)
    if message != "cycle" and message != "unknown role":
        assert isinstance(err.value, GraphSyntaxError)


# ------------------------------------------------------------- identification
def test_identification_payload_for_the_example_with_demand_latent():
    panel = identification_panel(example(demand_latent=True))
    assert panel["ok"] and panel["outcome"] == "sales"
    by = {c["treatment"]: c for c in panel["channels"]}
    ppc = by["ppc_spend"]
    assert ppc["identifiable"] is False and ppc["adjustment_set"] is None
    assert ppc["open_path"] == "ppc_spend <- demand -> ppc_clicks -> sales"
    assert ppc["open_path_nodes"] == ["ppc_spend", "demand", "ppc_clicks", "sales"]
    assert ppc["experiments_that_identify"][0].startswith("a randomised test on ppc_spend")
    assert by["social_spend"]["identifiable"] and by["social_spend"]["adjustment_set"] == [] and by["social_spend"]["open_path_nodes"] == []
    assert by["brand_spend"]["mediators"] == ["seo_clicks", "direct_clicks"]
    observed = identification_panel(example())
    assert {c["treatment"]: c["adjustment_set"] for c in observed["channels"]}["ppc_spend"] == ["demand"]


def test_identification_of_an_incomplete_graph_says_what_is_missing():
    state = WorkshopState()
    state.apply({"op": "add_node", "name": "ppc_spend", "role": "spend"})
    panel = identification_panel(state.graph())
    assert not panel["ok"] and "no outcome node" in panel["problem"]


# -------------------------------------------------------------------- save
def test_save_is_atomic_and_refuses_an_incomplete_graph(tmp_path: Path, monkeypatch):
    ws = Workshop(example(), base_dir=tmp_path)
    result = ws.save("g.dot")
    assert result["format"] == "dot" and cm.load_graph(tmp_path / "g.dot") == cm.load_graph(EXAMPLE)
    before = (tmp_path / "g.dot").read_bytes()

    ws.state.apply({"op": "set_node", "name": "sales", "attrs": {"role": "mediator"}})  # no outcome now
    with pytest.raises(GraphError, match="not saved: the graph is not complete yet"):
        ws.save("g.dot")
    assert (tmp_path / "g.dot").read_bytes() == before
    ws.state.undo()

    ws.state.apply({"op": "set_node", "name": "demand", "attrs": {"observed": False}})

    real_fdopen = os.fdopen

    class HalfFile:  # the disk fills up half-way through the write
        def __init__(self, fh):
            self.fh = fh

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

        def write(self, data):
            self.fh.write(data[: len(data) // 2])
            self.fh.flush()
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fdopen", lambda fd, mode: HalfFile(real_fdopen(fd, mode)))
    with pytest.raises(OSError):
        ws.save("g.dot")
    monkeypatch.undo()
    assert (tmp_path / "g.dot").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["g.dot"]  # no temporary file left behind

    with pytest.raises(WorkshopError, match="use .dot or .yaml"):
        ws.save("g.txt")
    ws.save(str(tmp_path / "g.yaml"))
    assert cm.load_graph(tmp_path / "g.yaml") == example(demand_latent=True)


# -------------------------------------------------------------- JSON API
@pytest.fixture
def api(tmp_path: Path):
    data = load_data(REPO / "causalmmm" / "example" / "data.csv")
    ws = Workshop(example(), data=data, base_dir=tmp_path)
    srv = make_server(ws, 0)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()

    def call(path: str, body: object | None = None, headers: dict[str, str] | None = None) -> tuple[int, dict]:
        data = None if body is None else json.dumps(body).encode()
        hdrs = {"Content-Type": "application/json"} if body is not None else {}
        hdrs.update(headers or {})
        req = urllib.request.Request(srv.url.rstrip("/") + path, data=data, headers=hdrs, method="POST" if body is not None else "GET")
        try:
            with urllib.request.urlopen(req, timeout=60) as res:
                return res.status, json.load(res)
        except urllib.error.HTTPError as exc:
            return exc.code, json.load(exc)

    yield call, srv
    srv.shutdown()
    srv.server_close()
    thread.join(timeout=10)


def test_json_api_edit_undo_save_and_errors(api, tmp_path: Path):
    call, srv = api
    status, state = call("/api/state")
    assert status == 200 and state["problem"] is None and state["svg"].startswith("<svg") and not state["can_undo"]
    assert {c["treatment"]: c["identifiable"] for c in state["identification"]["channels"]} == {"ppc_spend": True, "social_spend": True, "brand_spend": True}

    status, state = call("/api/edit", {"op": "set_node", "name": "demand", "attrs": {"observed": False}})
    assert status == 200 and state["can_undo"] and state["message"] == "updated node demand"
    ppc = next(c for c in state["identification"]["channels"] if c["treatment"] == "ppc_spend")
    assert not ppc["identifiable"] and ppc["open_path_nodes"] == ["ppc_spend", "demand", "ppc_clicks", "sales"]

    status, err = call("/api/edit", {"op": "add_edge", "source": "sales", "target": "demand"})
    assert status == 400 and "is refused: the graph has a cycle" in err["error"]
    status, state = call("/api/state")
    assert ("sales", "demand") not in {(e["from"], e["to"]) for e in state["graph"]["edges"]}

    status, saved = call("/api/save", {"path": "out.dot"})
    assert status == 200 and saved["format"] == "dot"
    assert same_graph(cm.load_graph(tmp_path / "out.dot"), example(demand_latent=True))

    status, state = call("/api/undo", {})
    assert status == 200 and all(c["identifiable"] for c in state["identification"]["channels"])
    status, state = call("/api/redo", {})
    assert status == 200 and not state["can_redo"]

    status, text = call("/api/dagitty")
    assert status == 200 and 'demand [role="confounder",latent]' in text["text"]
    status, state = call("/api/dagitty", {"text": "dag { x [exposure] y [outcome] x -> y }"})
    assert status == 200 and set(state["graph"]["nodes"]) == {"x", "y"} and state["problem"] is None
    status, err = call("/api/dagitty", {"text": "dag { x -- y }"})
    assert status == 400 and "not directed" in err["error"]

    status, err = call("/api/save", {"path": "out.csv"})
    assert status == 400 and "use .dot or .yaml" in err["error"]
    status, err = call("/api/nothing")
    assert status == 404


def test_json_api_refuses_foreign_hosts_and_non_json(api):
    call, srv = api
    status, err = call("/api/state", headers={"Host": "evil.example"})
    assert status == 403
    req = urllib.request.Request(srv.url + "api/edit", data=b"op=add_node&name=x", headers={"Content-Type": "application/x-www-form-urlencoded"}, method="POST")
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(req, timeout=30)
    assert exc.value.code == 400 and "must be JSON" in json.load(exc.value)["error"]


def test_static_assets_ship_in_the_package(api):
    call, srv = api
    for path, kind in (("", "text/html"), ("static/app.js", "text/javascript"), ("static/app.css", "text/css")):
        with urllib.request.urlopen(srv.url + path, timeout=30) as res:
            body = res.read().decode()
            assert res.headers["Content-Type"].startswith(kind) and len(body) > 100
            assert "http://" not in body.replace("http://www.w3.org", "") and "https://" not in body  # nothing from the internet
    with urllib.request.urlopen(srv.url + "api/export.png", timeout=60) as res:
        assert res.read()[:8] == b"\x89PNG\r\n\x1a\n"
    with urllib.request.urlopen(srv.url + "api/export.svg", timeout=60) as res:
        assert b"<svg" in res.read()[:200]


def test_json_api_independence_tests_with_data(api):
    call, srv = api
    status, tests = call("/api/tests")
    assert status == 200 and tests["available"] and tests["ok"], tests
    assert tests["n_tested"] > 0 and all(i["verdict"] in ("consistent", "violated", "skipped") for i in tests["implications"])
    call("/api/edit", {"op": "add_node", "name": "tv_spend", "role": "spend"})
    status, tests = call("/api/tests")
    assert status == 200 and not tests["ok"] and "tv_spend" in tests["problem"]


# --------------------------------------------------------------------- CLI
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["graph", "workshop", "nope.dot", "--no-browser"], "error: nope.dot: graph file not found"),
        (["graph", "workshop", str(EXAMPLE), "--data", "nope.csv", "--no-browser"], "error: "),
    ],
)
def test_cli_bad_files_give_one_error_line(args, message, capsys):
    from causalmmm.cli import main

    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(message), err


def test_cli_port_in_use_gives_one_error_line(api, capsys):
    from causalmmm.cli import main

    call, srv = api
    assert main(["graph", "workshop", "--no-browser", "--port", str(srv.server_address[1])]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot listen on 127.0.0.1" in err[0] and "--port 0" in err[0]


def test_cli_serves_until_ctrl_c_and_stops_cleanly(tmp_path: Path):
    import re
    import signal
    import subprocess
    import sys
    import time

    proc = subprocess.Popen(
        [sys.executable, "-m", "causalmmm.cli", "graph", "workshop", str(EXAMPLE), "--no-browser", "--port", "0"],
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        m = re.search(r"(http://127\.0\.0\.1:\d+/)", line)
        assert m, line
        with urllib.request.urlopen(m.group(1) + "api/state", timeout=60) as res:
            assert json.load(res)["graph"]["name"] == "marketing"
        time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        _, rest = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, rest
    assert rest.strip().splitlines() == ["workshop stopped"]
