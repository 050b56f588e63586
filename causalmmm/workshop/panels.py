"""What the page shows beside the drawing, computed with the library (the same code as the CLI).

* :func:`identification_panel`: ``graph identify``'s report per channel, plus the nodes of each
  channel's open backdoor path (for the highlight) from :func:`causalmmm.graph.identify.open_backdoor_path`;
* :func:`independence_panel`: ``graph test``'s implied independences and verdicts on the data;
* :func:`drawing_svg`: ``graph draw``'s picture as SVG.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from typing import Any

from causalmmm.errors import CausalMMMError, GraphError
from causalmmm.graph.causal_graph import CausalGraph

__all__ = ["clear_caches", "drawing_svg", "identification_panel", "independence_panel"]

EMPTY_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="480" height="120" viewBox="0 0 480 120">'
    '<text x="20" y="60" font-family="Helvetica,Arial,sans-serif" font-size="16" fill="#777">'
    "No nodes yet: add one on the left.</text></svg>"
)


def identification_panel(graph: CausalGraph) -> dict[str, Any]:
    """Per spend channel: identifiable or not, adjustment set, mediators, reason, experiments, open path."""
    from causalmmm.graph.identify import identify, open_backdoor_path

    try:
        graph.validate()
    except GraphError as exc:
        return {"ok": False, "problem": str(exc), "outcome": None, "channels": [], "nodes": []}
    report = identify(graph)
    channels = []
    for c in report.channels:
        item = c.to_dict()
        item["open_path_nodes"] = (open_backdoor_path(graph, c.treatment, report.outcome) or []) if c.open_path else []
        channels.append(item)
    problem = None if channels else "no spend node yet: give a node role=spend to see its identification"
    return {"ok": True, "problem": problem, "outcome": report.outcome, "channels": channels, "nodes": [m.to_dict() for m in report.nodes]}


def independence_panel(graph: CausalGraph, data: Any | None, *, alpha: float = 0.05) -> dict[str, Any]:
    """``graph test`` on the workshop's data; a message instead when there is no data or the graph does not fit it."""
    from causalmmm.graph.independence import check_implied_independences

    if data is None:
        return {"available": False, "ok": False, "problem": "start the workshop with --data CSV to test the graph's implied independences"}
    try:
        report = check_implied_independences(graph, data, alpha=alpha)
    except CausalMMMError as exc:
        return {"available": True, "ok": False, "problem": str(exc)}
    return {"available": True, "ok": True, "problem": None, "text": report.to_text(), **report.to_dict()}


#: Drawings of recent graph versions (undo, redo and toggling back redraw nothing).
_MAX_CACHED_DRAWINGS = 32
_DRAWINGS: OrderedDict[str, str] = OrderedDict()
_DRAWINGS_LOCK = threading.Lock()


def drawing_svg(graph: CausalGraph) -> str:
    """The graph as ``graph draw`` pictures it, as SVG text (a placeholder for an empty graph).

    Cached by the graph's document (name, nodes and edges with every attribute, in order): the
    drawing is a function of it.
    """
    from causalmmm.graph.draw import render_svg

    if not graph.nodes:
        return EMPTY_SVG
    key = json.dumps(graph.to_dict(), sort_keys=False, default=str)
    with _DRAWINGS_LOCK:
        if key in _DRAWINGS:
            _DRAWINGS.move_to_end(key)
            return _DRAWINGS[key]
    svg = render_svg(graph)
    start = svg.find("<svg")
    svg = svg[start:] if start >= 0 else svg
    with _DRAWINGS_LOCK:
        _DRAWINGS[key] = svg
        while len(_DRAWINGS) > _MAX_CACHED_DRAWINGS:
            _DRAWINGS.popitem(last=False)
    return svg


def clear_caches() -> None:
    """Forget cached drawings and identification results (benchmarks time the uncached work with it)."""
    from causalmmm.graph.identify import clear_cache

    with _DRAWINGS_LOCK:
        _DRAWINGS.clear()
    clear_cache()
