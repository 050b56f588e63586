"""The workshop's local web server: the page, its assets and a small JSON API (stdlib only).

Routes (all on 127.0.0.1):

* ``GET /`` and ``GET /static/NAME``: the page and its JS/CSS (package data, no internet);
* ``GET /api/state``: the graph, undo/redo flags, the drawing (SVG), identification per channel;
* ``POST /api/edit`` (one edit, see :data:`causalmmm.workshop.state.EDIT_OPS`), ``/api/undo``, ``/api/redo``:
  the new state, or ``400 {"error": ...}`` with the state unchanged;
* ``POST /api/save`` ``{"path": "graph.dot"}``: DOT or YAML by suffix, checked to load back equal, written atomically;
* ``GET /api/tests``: the implied-independence tests on ``--data`` (computed on request: they take longer);
* ``GET /api/dagitty`` / ``POST /api/dagitty`` ``{"text": ...}``: DAGitty export and import;
* ``GET /api/export.svg`` and ``/api/export.png``: the drawing for slides.

POSTs must be JSON and requests must name this host (a page on another site cannot drive it).
"""

from __future__ import annotations

import json
import tempfile
import threading
import webbrowser
from collections import OrderedDict
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlparse

from causalmmm.errors import CausalMMMError, GraphError
from causalmmm.graph.causal_graph import ADSTOCKS, MECHANISM_ATTRS, ROLES, SATURATIONS, SIGNS, CausalGraph
from causalmmm.workshop.panels import drawing_svg, identification_panel, independence_panel
from causalmmm.workshop.state import WorkshopState, same_graph

__all__ = ["Workshop", "WorkshopError", "make_server", "serve"]

HOST = "127.0.0.1"
DEFAULT_PORT = 8765
_STATIC_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
_MAX_BODY = 2_000_000
_MAX_CACHED_TESTS = 16


class WorkshopError(CausalMMMError):
    """The workshop cannot start or a request to it is malformed."""


class Workshop:
    """The editable graph plus what the page needs; every method holds the lock."""

    def __init__(self, graph: CausalGraph | None = None, *, data: Any | None = None, save_path: str | Path | None = None, base_dir: Path | None = None) -> None:
        self.state = WorkshopState(graph)
        self.data = data
        self.base_dir = Path.cwd() if base_dir is None else Path(base_dir)
        self.save_path = str(save_path) if save_path is not None else "graph.dot"
        self.lock = threading.Lock()
        self._tests_cache: OrderedDict[str, dict[str, Any]] = OrderedDict()

    # ------------------------------------------------------------ payloads
    def payload(self, message: str | None = None) -> dict[str, Any]:
        graph = self.state.graph()
        problem: str | None = None
        try:
            graph.validate()
        except GraphError as exc:
            problem = str(exc)  # what WorkshopState.problem says, without rebuilding the graph
        return {
            "version": self.state.version,
            "graph": self.state.doc,
            "edges_resolved": _resolved_edges(graph),
            "can_undo": self.state.can_undo,
            "can_redo": self.state.can_redo,
            "problem": problem,
            "message": message or self.state.last_change,
            "identification": identification_panel(graph),
            "svg": drawing_svg(graph),
            "save_path": self.save_path,
            "has_data": self.data is not None,
            "choices": {"roles": ROLES, "signs": SIGNS, "adstocks": ADSTOCKS, "saturations": SATURATIONS, "node_attrs": MECHANISM_ATTRS},
        }

    def state_payload(self) -> dict[str, Any]:
        with self.lock:
            return self.payload()

    def edit(self, edit: Any) -> dict[str, Any]:
        with self.lock:
            return self.payload(self.state.apply(edit))

    def undo(self) -> dict[str, Any]:
        with self.lock:
            return self.payload(self.state.undo())

    def redo(self) -> dict[str, Any]:
        with self.lock:
            return self.payload(self.state.redo())

    def tests(self) -> dict[str, Any]:
        """The implied-independence tests, recomputed only for a graph document not tested before (undo/redo reuse them)."""
        with self.lock:
            version, graph = self.state.version, self.state.graph()
            key = json.dumps(self.state.doc, default=str)
            cached = self._tests_cache.get(key)
        if cached is None:
            cached = independence_panel(graph, self.data)
            with self.lock:
                self._tests_cache[key] = cached
                while len(self._tests_cache) > _MAX_CACHED_TESTS:
                    self._tests_cache.popitem(last=False)
        return {"version": version, **cached}

    def dagitty_text(self) -> dict[str, Any]:
        from causalmmm.workshop.dagitty import graph_to_dagitty

        with self.lock:
            return {"text": graph_to_dagitty(self.state.graph())}

    def import_dagitty(self, text: Any) -> dict[str, Any]:
        from causalmmm.workshop.dagitty import graph_from_dagitty

        if not isinstance(text, str) or not text.strip():
            raise WorkshopError("paste DAGitty text first", hint="e.g. dag { ppc_spend [exposure] sales [outcome] ppc_spend -> sales }")
        with self.lock:
            graph = graph_from_dagitty(text, name=self.state.graph().name)
            return self.payload(self.state.replace(graph, f"imported a DAGitty graph ({len(graph.nodes)} nodes, {len(graph.edges)} edges)"))

    def save(self, path: Any) -> dict[str, Any]:
        """Write the graph as DOT or YAML atomically, after checking that the text loads back to the same graph."""
        from causalmmm.fileio import atomic_write_text
        from causalmmm.graph.io import _DOT_SUFFIXES, _YAML_SUFFIXES, graph_from_dot, graph_from_yaml, graph_to_dot, graph_to_yaml

        if not isinstance(path, str) or not path.strip():
            raise WorkshopError("give a file name to save to", hint="e.g. graph.dot or graph.yaml")
        target = Path(path.strip()).expanduser()
        if not target.is_absolute():
            target = self.base_dir / target
        suffix = target.suffix.lower()
        with self.lock:
            graph = self.state.graph()
            problem = self.state.problem()
            if problem is not None:
                raise GraphError(f"not saved: the graph is not complete yet ({problem})", hint="fix it first; the file on disk is unchanged")
            if suffix in _DOT_SUFFIXES:
                text, load = graph_to_dot(graph), graph_from_dot
            elif suffix in _YAML_SUFFIXES:
                text, load = graph_to_yaml(graph), graph_from_yaml
            else:
                raise WorkshopError(f"cannot save a graph as {suffix or 'a file without suffix'!r}", where=str(target), hint="use .dot or .yaml")
            back = load(text, str(target))
            if not same_graph(back, graph) or back.name != graph.name:
                raise WorkshopError("not saved: the file would not load back to the same graph", where=str(target), hint="report this; the file is unchanged")
            if target.is_dir():
                raise WorkshopError("not saved: the path is a directory", where=str(target), hint="give a file name such as graph.dot")
            atomic_write_text(target, text)
            self.save_path = path.strip()
            return {"saved": str(target), "format": "dot" if suffix in _DOT_SUFFIXES else "yaml", "message": f"saved {target}"}

    def export(self, fmt: str) -> bytes:
        from causalmmm.graph.draw import draw_graph

        with self.lock:
            graph = self.state.graph()
        if fmt == "svg":
            return drawing_svg(graph).encode("utf-8")
        if not graph.nodes:
            raise WorkshopError("nothing to export yet", hint="add nodes first")
        with tempfile.TemporaryDirectory() as tmp:
            path = draw_graph(graph, Path(tmp) / f"graph.{fmt}")
            return path.read_bytes()


def _resolved_edges(graph: CausalGraph) -> list[dict[str, Any]]:
    """Each edge with its defaults resolved (what the page shows as "default (...)")."""
    return [
        {"from": e.source, "to": e.target, "adstock": e.adstock, "saturation": e.saturation, "l_max": e.l_max, "lag": e.lag, "sign": e.sign}
        for e in graph.edge_infos()
    ]


# ----------------------------------------------------------------- HTTP
def _static(name: str) -> bytes | None:
    if "/" in name or name.startswith(".") or Path(name).suffix not in _STATIC_TYPES:
        return None
    res = resources.files("causalmmm.workshop").joinpath("static", name)
    return res.read_bytes() if res.is_file() else None


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the terminal is for the user
        return

    # ---------------------------------------------------------- plumbing
    def _send(self, status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, payload: dict[str, Any]) -> None:
        self._send(status, json.dumps(payload, allow_nan=False, default=str).encode("utf-8"), "application/json")

    def _host_ok(self) -> bool:
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0].strip("[]")
        return host in ("127.0.0.1", "localhost", "::1")

    def _body(self) -> Any:
        if "application/json" not in (self.headers.get("Content-Type") or ""):
            raise WorkshopError("requests to the workshop must be JSON", hint="send Content-Type: application/json")
        length = int(self.headers.get("Content-Length") or 0)
        if length > _MAX_BODY:
            raise WorkshopError("request too large")
        raw = self.rfile.read(length) if length else b"{}"
        try:
            return json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise WorkshopError(f"the request is not valid JSON ({exc})") from None

    def _run(self, action: Callable[[], Any]) -> None:
        if not self._host_ok():
            self._json(HTTPStatus.FORBIDDEN, {"error": "the workshop only answers requests to localhost"})
            return
        try:
            result = action()
        except CausalMMMError as exc:
            self._json(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
            return
        except Exception as exc:  # a bug must not kill the workshop: say it in the page
            self._json(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": f"internal error ({type(exc).__name__}: {' '.join(str(exc).split())}); please report it"})
            return
        if result is None:
            self._json(HTTPStatus.NOT_FOUND, {"error": f"no such page: {self.path}"})
        elif isinstance(result, tuple):
            self._send(HTTPStatus.OK, *result)
        else:
            self._json(HTTPStatus.OK, result)

    # ------------------------------------------------------------ routes
    def do_GET(self) -> None:
        ws = self.server.workshop
        path = urlparse(self.path).path

        def route() -> Any:
            if path in ("/", "/index.html"):
                body = _static("index.html")
                return (body, _STATIC_TYPES[".html"]) if body is not None else None
            if path.startswith("/static/"):
                name = path[len("/static/") :]
                body = _static(name)
                return (body, _STATIC_TYPES[Path(name).suffix]) if body is not None else None
            if path == "/api/state":
                return ws.state_payload()
            if path == "/api/tests":
                return ws.tests()
            if path == "/api/dagitty":
                return ws.dagitty_text()
            if path in ("/api/export.svg", "/api/export.png"):
                fmt = path.rsplit(".", 1)[1]
                name = f"{ws.state.graph().name}.{fmt}"
                kind = "image/svg+xml" if fmt == "svg" else "image/png"
                return (ws.export(fmt), kind, {"Content-Disposition": f'attachment; filename="{name}"'})
            return None

        self._run(route)

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_POST(self) -> None:
        ws = self.server.workshop
        path = urlparse(self.path).path
        routes: dict[str, Callable[[Any], Any]] = {
            "/api/edit": ws.edit,
            "/api/undo": lambda body: ws.undo(),
            "/api/redo": lambda body: ws.redo(),
            "/api/save": lambda body: ws.save(body.get("path") if isinstance(body, dict) else None),
            "/api/dagitty": lambda body: ws.import_dagitty(body.get("text") if isinstance(body, dict) else None),
        }
        handler = routes.get(path)
        self._run(lambda: None if handler is None else handler(self._body()))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], workshop: Workshop) -> None:
        self.workshop = workshop
        super().__init__(address, _Handler)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.server_address[1]}/"


def make_server(workshop: Workshop, port: int = DEFAULT_PORT) -> _Server:
    """Bind the workshop to 127.0.0.1:``port`` (0: a free port); call ``serve_forever`` to run it."""
    try:
        return _Server((HOST, port), workshop)
    except OSError as exc:
        raise WorkshopError(
            f"cannot listen on {HOST}:{port} ({exc.strerror or exc})",
            hint="another program uses the port: pass --port N, or --port 0 for any free port",
        ) from None


def serve(
    graph_file: str | Path | None = None,
    data_file: str | Path | None = None,
    *,
    port: int = DEFAULT_PORT,
    open_browser: bool = True,
    date_column: str = "date",
    say: Callable[[str], None] = print,
) -> None:
    """Load the files, start the server and run it until Ctrl-C (which stops it cleanly)."""
    from causalmmm.data import load_data
    from causalmmm.graph.io import load_graph

    graph = load_graph(graph_file) if graph_file is not None else None
    data = load_data(data_file, date_column=date_column) if data_file is not None else None
    if graph is not None and data is not None:
        data = data.validate_against(graph)
    workshop = Workshop(graph, data=data, save_path=graph_file)
    server = make_server(workshop, port)
    say(f"graph workshop at {server.url} (Ctrl-C stops it)")
    if open_browser:
        webbrowser.open(server.url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        say("workshop stopped")
    finally:
        server.server_close()
