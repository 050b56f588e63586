"""The workshop's editable graph: one edit at a time, cycles refused, undo and redo.

The state is a history of graph documents in :meth:`CausalGraph.to_dict` form (the YAML form),
so every version is plain data and saving is lossless. An edit is a JSON-able mapping
(``{"op": "add_edge", "source": "a", "target": "b"}``); it is applied to a copy, the copy is
rebuilt as a :class:`CausalGraph` (whose own checks reject a bad role, sign or lag) and checked
for cycles; only then does it become the current version. A graph under construction may still be
incomplete (no outcome yet): :meth:`WorkshopState.problem` says what is missing, edits go on.
"""

from __future__ import annotations

import copy
import re
from typing import Any, Callable

from causalmmm.errors import GraphError
from causalmmm.graph.causal_graph import EDGE_ATTRS, MECHANISM_ATTRS, ROLES, CausalGraph, parse_bool

__all__ = ["EDIT_OPS", "WorkshopState", "canonical", "graph_from_doc", "same_graph"]

Doc = dict[str, Any]

#: Node names the workshop accepts for new or renamed nodes: what a data column is usually called.
NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
RESERVED_NAMES = ("__legend__", "node", "edge", "graph", "digraph", "subgraph", "strict")
MAX_HISTORY = 500


def empty_doc(name: str = "marketing") -> Doc:
    return {"name": name, "nodes": {}, "edges": []}


def graph_from_doc(doc: Doc) -> CausalGraph:
    """Build a :class:`CausalGraph` from the dict form without the whole-graph validation (it may be a draft)."""
    graph = CausalGraph(str(doc.get("name") or "marketing"))
    for name, attrs in doc.get("nodes", {}).items():
        graph.add_node(str(name), attrs.get("role"), attrs.get("observed", True), **{k: attrs[k] for k in MECHANISM_ATTRS if attrs.get(k) is not None})
    for e in doc.get("edges", []):
        graph.add_edge(str(e["from"]), str(e["to"]), **{k: e[k] for k in EDGE_ATTRS if e.get(k) is not None})
    return graph


def canonical(graph: CausalGraph) -> tuple[Any, ...]:
    """Nodes (with role, observed and declared attributes) and edges (with declared attributes), order-free."""
    doc = graph.to_dict()
    nodes = tuple(sorted((n, tuple(sorted(a.items()))) for n, a in doc["nodes"].items()))
    edges = tuple(sorted((e["from"], e["to"], tuple(sorted((k, v) for k, v in e.items() if k not in ("from", "to")))) for e in doc["edges"]))
    return nodes, edges


def same_graph(a: CausalGraph, b: CausalGraph) -> bool:
    """Equal nodes, roles, observed flags and edges with their attributes (declaration order aside)."""
    return canonical(a) == canonical(b)


# ------------------------------------------------------------------ edits
def _text(edit: dict[str, Any], key: str) -> str:
    value = edit.get(key)
    if not isinstance(value, str) or not value.strip():
        raise GraphError(f"the edit needs a {key!r}", where=str(edit.get("op")), hint=f"fill in the {key.replace('_', ' ')}")
    return value.strip()


def _new_name(doc: Doc, name: str) -> str:
    if not NAME_RE.fullmatch(name) or name in RESERVED_NAMES:
        raise GraphError(
            f"{name!r} is not a usable node name",
            hint="use letters, digits, _ and . (start with a letter), like a data column: e.g. ppc_spend",
        )
    if name in doc["nodes"]:
        raise GraphError(f"node {name!r} already exists", hint="pick another name, or select the existing node to edit it")
    return name


def _node(doc: Doc, name: str) -> dict[str, Any]:
    if name not in doc["nodes"]:
        raise GraphError(f"unknown node {name!r}", hint=f"known nodes: {', '.join(doc['nodes']) or '(none yet)'}")
    attrs: dict[str, Any] = doc["nodes"][name]
    return attrs


def _edge(doc: Doc, source: str, target: str) -> dict[str, Any]:
    for e in doc["edges"]:
        if e["from"] == source and e["to"] == target:
            found: dict[str, Any] = e
            return found
    raise GraphError("no such edge", where=f"edge {source} -> {target}", hint="select an existing edge")


def _set_attrs(target: dict[str, Any], attrs: Any, allowed: tuple[str, ...], where: str) -> None:
    """Declare (or, with None / "", undeclare) attributes; values are checked when the graph is rebuilt."""
    if not isinstance(attrs, dict):
        raise GraphError("attrs must be a mapping", where=where)
    for key, value in attrs.items():
        if key not in allowed:
            raise GraphError(f"unknown attribute {key!r}", where=where, hint=f"allowed: {', '.join(allowed)}")
        if value is None or (isinstance(value, str) and not value.strip()):
            target.pop(key, None)
        else:
            target[key] = value.strip() if isinstance(value, str) else value


def _add_node(doc: Doc, edit: dict[str, Any]) -> str:
    name = _new_name(doc, _text(edit, "name"))
    role = edit.get("role") or "mediator"
    attrs: dict[str, Any] = {"role": role}
    if not parse_bool(edit.get("observed", True), "observed", f"node {name!r}"):
        attrs["observed"] = False
    doc["nodes"][name] = attrs
    return f"added node {name}"


def _remove_node(doc: Doc, edit: dict[str, Any]) -> str:
    name = _text(edit, "name")
    _node(doc, name)
    del doc["nodes"][name]
    doc["edges"] = [e for e in doc["edges"] if name not in (e["from"], e["to"])]
    for e in doc["edges"]:
        if e.get("modulator") == name:
            del e["modulator"]
    return f"removed node {name} and its edges"


def _rename_node(doc: Doc, edit: dict[str, Any]) -> str:
    old, new = _text(edit, "name"), _text(edit, "new_name")
    _node(doc, old)
    if new == old:
        return f"node {old} keeps its name"
    _new_name(doc, new)
    doc["nodes"] = {(new if n == old else n): a for n, a in doc["nodes"].items()}
    for e in doc["edges"]:
        for key in ("from", "to", "modulator"):
            if e.get(key) == old:
                e[key] = new
    return f"renamed {old} to {new}"


def _set_node(doc: Doc, edit: dict[str, Any]) -> str:
    name = _text(edit, "name")
    node = _node(doc, name)
    attrs = dict(edit.get("attrs") or {})
    where = f"node {name!r}"
    if "role" in attrs:
        role = attrs.pop("role")
        if role not in ROLES:
            raise GraphError(f"unknown role {role!r}", where=where, hint=f"allowed values: {', '.join(ROLES)}")
        node["role"] = role
    if "observed" in attrs:
        observed = parse_bool(attrs.pop("observed"), "observed", where)
        node.pop("observed", None)
        if not observed:
            node["observed"] = False
    _set_attrs(node, attrs, MECHANISM_ATTRS, where)
    return f"updated node {name}"


def _add_edge(doc: Doc, edit: dict[str, Any]) -> str:
    source, target = _text(edit, "source"), _text(edit, "target")
    if any(e["from"] == source and e["to"] == target for e in doc["edges"]):
        raise GraphError("the edge already exists", where=f"edge {source} -> {target}", hint="select it to change its attributes")
    edge: dict[str, Any] = {"from": source, "to": target}
    _set_attrs(edge, edit.get("attrs") or {}, EDGE_ATTRS, f"edge {source} -> {target}")
    doc["edges"].append(edge)
    return f"added edge {source} -> {target}"


def _remove_edge(doc: Doc, edit: dict[str, Any]) -> str:
    source, target = _text(edit, "source"), _text(edit, "target")
    edge = _edge(doc, source, target)
    doc["edges"].remove(edge)
    return f"removed edge {source} -> {target}"


def _set_edge(doc: Doc, edit: dict[str, Any]) -> str:
    source, target = _text(edit, "source"), _text(edit, "target")
    _set_attrs(_edge(doc, source, target), edit.get("attrs") or {}, EDGE_ATTRS, f"edge {source} -> {target}")
    return f"updated edge {source} -> {target}"


def _rename_graph(doc: Doc, edit: dict[str, Any]) -> str:
    doc["name"] = _text(edit, "name")
    return f"graph renamed to {doc['name']}"


def _replace(doc: Doc, edit: dict[str, Any]) -> str:
    new = edit.get("graph")
    if not isinstance(new, dict) or not isinstance(new.get("nodes", {}), dict) or not isinstance(new.get("edges", []), list):
        raise GraphError("replace needs a graph in the YAML form", hint="{name, nodes: {...}, edges: [...]}")
    doc.clear()
    doc.update(empty_doc(str(new.get("name") or "marketing")))
    doc["nodes"] = copy.deepcopy(new.get("nodes") or {})
    doc["edges"] = copy.deepcopy(new.get("edges") or [])
    return str(edit.get("summary") or "replaced the graph")


#: The edit operations the page can send.
EDIT_OPS: dict[str, Callable[[Doc, dict[str, Any]], str]] = {
    "add_node": _add_node,
    "remove_node": _remove_node,
    "rename_node": _rename_node,
    "set_node": _set_node,
    "add_edge": _add_edge,
    "remove_edge": _remove_edge,
    "set_edge": _set_edge,
    "rename_graph": _rename_graph,
    "replace": _replace,
}


def _describe(edit: dict[str, Any]) -> str:
    op = edit.get("op")
    if op in ("add_edge", "set_edge"):
        return f"edge {edit.get('source')} -> {edit.get('target')}"
    if op in ("set_node", "rename_node"):
        return f"this change to {edit.get('name')}"
    return "this change"


# ------------------------------------------------------------------ state
class WorkshopState:
    """The graph being drawn, with its history. Not thread-safe: the server holds a lock."""

    def __init__(self, graph: CausalGraph | None = None, *, name: str = "marketing") -> None:
        self._history: list[Doc] = [graph.to_dict() if graph is not None else empty_doc(name)]
        self._index = 0
        self.version = 0  # bumps on every change (edits, undo, redo)
        self.last_change = "opened the graph" if graph is not None else "started an empty graph"

    @property
    def doc(self) -> Doc:
        """The current graph in its dict form (a copy)."""
        return copy.deepcopy(self._history[self._index])

    def graph(self) -> CausalGraph:
        """The current graph (possibly incomplete; :meth:`problem` says)."""
        return graph_from_doc(self._history[self._index])

    @property
    def can_undo(self) -> bool:
        return self._index > 0

    @property
    def can_redo(self) -> bool:
        return self._index < len(self._history) - 1

    def apply(self, edit: dict[str, Any]) -> str:
        """Apply one edit; return what it did. Raises :class:`GraphError` (state unchanged) when refused."""
        if not isinstance(edit, dict):
            raise GraphError("an edit must be a JSON object with an 'op'")
        op = edit.get("op")
        handler = EDIT_OPS.get(str(op))
        if handler is None:
            raise GraphError(f"unknown edit {op!r}", hint=f"known edits: {', '.join(EDIT_OPS)}")
        doc = self.doc
        summary = handler(doc, edit)
        graph = graph_from_doc(doc)  # attribute checks (roles, signs, lags, adstock families)
        try:
            graph.topological_order()
        except GraphError as exc:
            raise GraphError(f"{_describe(edit)} is refused: {exc.what}", hint=exc.hint) from None
        new = graph.to_dict()
        if new == self._history[self._index]:
            return "nothing changed"
        del self._history[self._index + 1 :]
        self._history.append(new)
        if len(self._history) > MAX_HISTORY:
            del self._history[0]
        self._index = len(self._history) - 1
        self.version += 1
        self.last_change = summary
        return summary

    def replace(self, graph: CausalGraph, summary: str = "replaced the graph") -> str:
        """Replace the whole graph (an import), as one undoable edit."""
        return self.apply({"op": "replace", "graph": graph.to_dict(), "summary": summary})

    def undo(self) -> str:
        if not self.can_undo:
            raise GraphError("nothing to undo")
        self._index -= 1
        self.version += 1
        self.last_change = "undone"
        return self.last_change

    def redo(self) -> str:
        if not self.can_redo:
            raise GraphError("nothing to redo")
        self._index += 1
        self.version += 1
        self.last_change = "redone"
        return self.last_change

    def problem(self) -> str | None:
        """Why the current graph is not yet a valid model graph (``None`` when it is)."""
        try:
            self.graph().validate()
        except GraphError as exc:
            return str(exc)
        return None
