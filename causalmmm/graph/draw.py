"""Draw a :class:`CausalGraph` for people: roles, signs, lags and latent nodes.

The picture is made for a marketing team in a workshop. It reads left to right
in causal order (confounders and controls, then spend, then the mediators,
then the outcome), each role has its own colour *and* shape (so it survives a
black-and-white printer), latent nodes are dashed, negative edges are red with
a bar arrowhead and a "−", lagged edges say "lag N", and spend edges with a
long carry-over say so. A legend explains every mark.

Layout runs inside the process with the Graphviz engine bundled in the
pygraphviz wheel: no ``dot`` program is needed.

Public functions:

* :func:`to_agraph` — the styled :class:`pygraphviz.AGraph` (no layout yet);
* :func:`draw_graph` — write ``.svg``, ``.png``, ``.pdf`` or ``.dot`` atomically;
* :func:`render_svg` — SVG text, used by ``CausalGraph._repr_svg_`` in Jupyter.

``effects`` (``{(source, target): value}``, e.g. fitted contributions) overlays
numbers on the edges and scales their width by ``|value|``.
"""

from __future__ import annotations

import html
import math
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Mapping

from causalmmm.errors import GraphError
from causalmmm.fileio import atomic_write_bytes
from causalmmm.graph.causal_graph import ROLE_TIER, CausalGraph, EdgeInfo

if TYPE_CHECKING:
    import pygraphviz

__all__ = ["DRAW_FORMATS", "to_agraph", "draw_graph", "render_svg"]

#: Output formats :func:`draw_graph` accepts, by file suffix.
DRAW_FORMATS: dict[str, str] = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot"}

FONT = "Helvetica,Arial,sans-serif"
FONT_SIZE = 16  # node labels
EDGE_FONT_SIZE = 14  # edge labels and legend: the smallest text in the picture
INK = "#333333"
NEGATIVE = "#C0392B"
EFFECT = "#1B4F72"
MINUS = "\u2212"

#: Role -> (shape, extra style, fill colour, border colour). Colours follow the
#: colour-blind-safe Okabe-Ito hues, lightened for fills.
ROLE_STYLE: dict[str, dict[str, str]] = {
    "confounder": {"shape": "hexagon", "style": "filled", "fillcolor": "#EADCF2", "color": "#7D3C98"},
    "control": {"shape": "note", "style": "filled", "fillcolor": "#EEEEEE", "color": "#7F7F7F"},
    "spend": {"shape": "box", "style": "rounded,filled", "fillcolor": "#FFE1B0", "color": "#D68910"},
    "mediator": {"shape": "ellipse", "style": "filled", "fillcolor": "#D4E8F7", "color": "#1F6FB2"},
    "outcome": {"shape": "box", "style": "filled,bold", "fillcolor": "#CFEFDC", "color": "#117A4B", "peripheries": "2"},
}
ROLE_LEGEND: tuple[tuple[str, str], ...] = (
    ("confounder", "confounder (hexagon)"),
    ("control", "control (note)"),
    ("spend", "spend (rounded box)"),
    ("mediator", "mediator (ellipse)"),
    ("outcome", "outcome (double box)"),
)


# --------------------------------------------------------------------- helpers
def _fmt_value(value: float) -> str:
    """A compact signed number for an edge label: +1,234 / +12.3 / −0.042."""
    a = abs(value)
    if a >= 100:
        text = f"{a:,.0f}"
    elif a >= 10:
        text = f"{a:.1f}"
    elif a >= 1:
        text = f"{a:.2f}"
    elif a == 0:
        text = "0"
    else:
        text = f"{a:.2g}"
    return (MINUS if value < 0 else "+") + text


def _tiers(graph: CausalGraph) -> list[list[str]]:
    """Nodes grouped into drawing ranks, in causal order.

    The role tier (:data:`ROLE_TIER`) comes first; inside a tier, a node that
    has a parent of the same tier (a mediator feeding another mediator) moves
    one rank further, so no edge runs inside one rank.
    """
    import networkx as nx

    tier = {n: ROLE_TIER.get(graph.node(n).role, 2) for n in graph.nodes}
    depth = {n: 0 for n in graph.nodes}
    inner = nx.DiGraph()
    inner.add_nodes_from(graph.nodes)
    inner.add_edges_from((u, v) for u, v in graph.edges if tier[u] == tier[v])
    try:
        for n in nx.topological_sort(inner):
            for p in inner.predecessors(n):
                depth[n] = max(depth[n], depth[p] + 1)
    except nx.NetworkXUnfeasible:  # a cycle: draw it anyway, one rank per role tier
        depth = {n: 0 for n in graph.nodes}
    keys = sorted({(tier[n], depth[n]) for n in graph.nodes})
    return [[n for n in graph.nodes if (tier[n], depth[n]) == k] for k in keys]


def _html_text(text: str) -> str:
    """Text for an HTML-like Graphviz label: XML-escaped, and backslashes doubled
    (Graphviz expands \\N, \\G ... even inside HTML labels)."""
    return html.escape(text, quote=False).replace("\\", "\\\\")


def _node_label(name: str, observed: bool, note: str | None = None) -> str:
    label = _html_text(name)
    if note:
        label += f'<BR/><FONT POINT-SIZE="{EDGE_FONT_SIZE}" COLOR="#7A4A00">{_html_text(note)}</FONT>'
    if not observed:
        label += f'<BR/><FONT POINT-SIZE="{EDGE_FONT_SIZE}"><I>(latent)</I></FONT>'
    return f"<{label}>"


#: A declared carry-over window longer than this is shown on the edge (brand/TV-like carry-over).
NOTABLE_CARRY_OVER = 8


def _carry_over(graph: CausalGraph, e: EdgeInfo) -> int | None:
    """The carry-over length worth showing on a spend edge, else ``None``.

    Only the notable ones are shown, to keep the picture quiet: a declared
    carry-over longer than :data:`NOTABLE_CARRY_OVER` periods (the team said it
    is long) or a shaped (delayed, weibull) adstock.
    """
    if graph.node(e.source).role != "spend" or e.adstock == "none":
        return None
    declared = graph.declared_edge_attrs(e.source, e.target).get("l_max")
    if (declared is not None and declared > NOTABLE_CARRY_OVER) or e.adstock in ("delayed", "weibull"):
        return e.l_max
    return None


def _carry_text(e: EdgeInfo, carry: int) -> str:
    return f"{e.adstock} carry-over {carry}" if e.adstock in ("delayed", "weibull") else f"carry-over {carry}"


def _node_carry(graph: CausalGraph, node: str) -> str | None:
    """A spend node's carry-over note when all its media edges share the same notable one.

    Written once on the node instead of on every edge: less ink, same news.
    """
    if graph.node(node).role != "spend":
        return None
    edges = [graph.edge(node, c) for c in graph.children(node)]
    notes = {(_carry_text(e, c) if (c := _carry_over(graph, e)) is not None else None) for e in edges if e.adstock != "none"}
    if len(notes) == 1:
        return notes.pop()
    return None


def _edge_marks(graph: CausalGraph, e: EdgeInfo, on_node: bool) -> list[str]:
    """The plain-text annotations of an edge: lag and notable carry-over (unless shown on the node)."""
    marks = []
    if e.lag:
        marks.append(f"lag {e.lag}")
    carry = _carry_over(graph, e)
    if carry is not None and not on_node:
        marks.append(_carry_text(e, carry))
    return marks


def _legend_label(*, roles: set[str], latent: bool, negative: bool, lag: int | None, carry: int | None, effects: bool) -> str:
    """The legend: an HTML table with one row per role and one per edge mark in use."""
    rows = []
    for role, text in ROLE_LEGEND:
        if role not in roles:
            continue
        s = ROLE_STYLE[role]
        rows.append(f'<TR><TD WIDTH="34" BGCOLOR="{s["fillcolor"]}" COLOR="{s["color"]}" BORDER="2"> </TD><TD ALIGN="LEFT">{text}</TD></TR>')
    marks = []
    if latent:
        marks.append(("<I>(latent)</I>", "dashed: not in the data"))
    if negative:
        marks.append((f'<FONT COLOR="{NEGATIVE}"><B>{MINUS} \u22a3</B></FONT>', f'<FONT COLOR="{NEGATIVE}">negative effect</FONT>'))
    if lag is not None:
        marks.append((f"lag {lag}", f"acts {lag} period{'s' if lag != 1 else ''} later"))
    if carry is not None:
        marks.append((f"carry-over {carry}", f"spend acts for up to {carry} periods"))
    if effects:
        marks.append(("+1,234", "fitted effect; thicker = larger"))
    for sym, text in marks:
        rows.append(f'<TR><TD ALIGN="CENTER">{sym}</TD><TD ALIGN="LEFT">{text}</TD></TR>')
    return '<<TABLE BORDER="1" COLOR="#BBBBBB" CELLBORDER="0" CELLSPACING="4" CELLPADDING="3" BGCOLOR="white">' + "".join(rows) + "</TABLE>>"


def _check_effects(graph: CausalGraph, effects: Mapping[tuple[str, str], float] | None) -> dict[tuple[str, str], float]:
    if not effects:
        return {}
    out: dict[tuple[str, str], float] = {}
    known = set(graph.edges)
    for key, value in effects.items():
        try:
            u, v = key
        except (TypeError, ValueError):
            raise GraphError(f"effects key {key!r} is not a (source, target) pair", hint="pass {(source, target): value}") from None
        if (u, v) not in known:
            raise GraphError(
                f"an effect is given for edge {u} -> {v}, which is not in the graph",
                hint="draw the graph the run was fitted on",
            )
        try:
            x = float(value)
        except (TypeError, ValueError):
            raise GraphError(f"the effect on edge {u} -> {v} is not a number: {value!r}") from None
        if not math.isfinite(x):
            raise GraphError(f"the effect on edge {u} -> {v} is not finite: {x}")
        out[(u, v)] = x
    return out


# --------------------------------------------------------------------- public
def to_agraph(
    graph: CausalGraph,
    *,
    effects: Mapping[tuple[str, str], float] | None = None,
    title: str | None = None,
) -> pygraphviz.AGraph:
    """The styled, not yet laid out, Graphviz graph.

    Roles are shown by colour and shape, latent nodes are dashed and say
    "(latent)", negative edges are red with a bar head and a "−", lags are
    labelled "lag N", spend edges with a long (> default) or shaped carry-over
    say "carry-over L". ``effects`` maps ``(source, target)`` to a number that
    is written on the edge; the edge's width grows with ``|value|``.
    A legend (an HTML table node, name ``"__legend__"``) explains the marks.
    """
    import pygraphviz as pgv

    values = _check_effects(graph, effects)
    biggest = max((abs(x) for x in values.values()), default=0.0)

    A = pgv.AGraph(directed=True, strict=False, name=graph.name)
    A.graph_attr.update(
        rankdir="LR",
        newrank="true",
        nodesep="0.35",
        ranksep="0.9",
        pad="0.3",
        fontname=FONT,
        fontsize=str(FONT_SIZE + 6),
        bgcolor="white",
    )
    if title:
        A.graph_attr.update(label=_html_text(title).join(("<<B>", "</B>>")), labelloc="t", labeljust="l")
    A.node_attr.update(fontname=FONT, fontsize=str(FONT_SIZE), fontcolor=INK, penwidth="1.8", margin="0.18,0.08")
    A.edge_attr.update(fontname=FONT, fontsize=str(EDGE_FONT_SIZE), fontcolor=INK, color="#555555", penwidth="1.6", arrowsize="0.9")

    node_notes = {n: _node_carry(graph, n) for n in graph.nodes}
    for n in graph.nodes:
        info = graph.node(n)
        attrs = dict(ROLE_STYLE.get(info.role, ROLE_STYLE["mediator"]))
        if not info.observed:
            attrs["style"] += ",dashed"
            attrs["penwidth"] = "2.2"
            attrs["fillcolor"] = "white:" + attrs["fillcolor"]
            attrs["gradientangle"] = "90"
        A.add_node(n, label=_node_label(n, info.observed, node_notes[n]), tooltip=info.role + ("" if info.observed else " (latent)"), **attrs)

    negatives: list[tuple[str, str]] = []
    lags: list[int] = []
    carries: list[int] = []
    for e in graph.edge_infos():
        eattrs: dict[str, str] = {}
        marks = _edge_marks(graph, e, on_node=node_notes[e.source] is not None)
        if e.lag:
            lags.append(e.lag)
        carry = _carry_over(graph, e)
        if carry is not None:
            carries.append(carry)
        parts = [_html_text(m) for m in marks]
        negative = e.sign == "negative"
        if negative:
            negatives.append((e.source, e.target))
            eattrs.update(color=NEGATIVE, fontcolor=NEGATIVE, arrowhead="tee")
            parts.insert(0, f'<FONT POINT-SIZE="{EDGE_FONT_SIZE + 8}"><B>{MINUS}</B></FONT>')
        if (e.source, e.target) in values:
            x = values[(e.source, e.target)]
            scale = abs(x) / biggest if biggest > 0 else 0.0
            eattrs["penwidth"] = f"{1.2 + 6.0 * scale:.2f}"
            eattrs["arrowsize"] = f"{0.9 - 0.3 * scale:.2f}"  # heads stay moderate on thick edges
            colour = NEGATIVE if x < 0 else EFFECT
            parts.append(f'<FONT COLOR="{colour}"><B>{_fmt_value(x)}</B></FONT>')
            if x < 0:
                eattrs["color"] = NEGATIVE
        elif values and not negative:
            eattrs["color"] = "#9A9A9A"  # no fitted value: recede
        if parts:
            eattrs["label"] = "<" + "<BR/>".join(parts) + ">"
        if marks or (e.source, e.target) in values:
            eattrs["decorate"] = "true"  # a line ties the text to its edge
        # tooltips hold no node names: Graphviz would read backslashes in them as escapes
        tooltip = f"sign {e.sign}, lag {e.lag}, adstock {e.adstock}, saturation {e.saturation}"
        A.add_edge(e.source, e.target, tooltip=tooltip, **eattrs)

    # one rank per tier, tiers chained by invisible edges so the order holds
    tiers = _tiers(graph)
    for i, members in enumerate(tiers):
        _rank(A, members, f"rank_{i}")
    for a, b in zip(tiers, tiers[1:]):
        A.add_edge(a[0], b[0], style="invis", weight="0", key="__tier__")

    # legend: an HTML table in the last rank, next to the outcome
    legend = "__legend__"
    A.add_node(
        legend,
        label=_legend_label(
            roles={graph.node(n).role for n in graph.nodes},
            latent=bool(graph.latent_nodes),
            negative=bool(negatives),
            lag=min(lags) if lags else None,
            carry=max(carries) if carries else None,
            effects=bool(values),
        ),
        shape="plain",
        fontsize=str(EDGE_FONT_SIZE),
        tooltip="legend",
    )
    if tiers:
        _rank(A, [tiers[-1][0], legend], "rank_legend")
    return A


def _rank(A: Any, members: list[str], name: str) -> None:
    """A ``rank=same`` subgraph of existing nodes. Created empty and then filled: pygraphviz's
    ``add_subgraph(nbunch)`` also copies every edge among the members, which costs 3x the drawing."""
    sg = A.add_subgraph(name=name, rank="same")
    sg.add_nodes_from(members)


@contextmanager
def _quiet_stderr() -> Iterator[list[str]]:
    """Capture the C library's stderr (Fontconfig and Graphviz warnings) for the block."""
    messages: list[str] = []
    with tempfile.TemporaryFile() as err:
        saved = os.dup(2)
        os.dup2(err.fileno(), 2)
        try:
            yield messages
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            err.seek(0)
            messages.extend(err.read().decode("utf-8", "replace").splitlines())


def _render(A, fmt: str) -> bytes:
    """Lay out in-process with the bundled ``dot`` engine and render to bytes."""
    if fmt == "dot":
        return A.string().encode("utf-8")
    with _quiet_stderr() as messages:
        try:
            data = A.draw(format=fmt, prog="dot")
        except Exception as exc:  # pygraphviz raises OSError/ValueError with Graphviz's text
            failure: Exception | None = exc
            data = None
        else:
            failure = None
    if failure is not None or not data:
        detail = next((m for m in messages if "rror" in m), str(failure or "empty output"))
        raise GraphError(f"Graphviz could not render {fmt}: {' '.join(detail.split())}")
    return data


def draw_graph(
    graph: CausalGraph,
    path: str | Path,
    *,
    effects: Mapping[tuple[str, str], float] | None = None,
    title: str | None = None,
) -> Path:
    """Draw ``graph`` to ``path``; the format follows the suffix (.svg, .png, .pdf, .dot).

    The ``.dot`` output is the styled Graphviz source (for hand-tuning the
    picture), not a causalmmm graph file: save those with ``save_graph``.
    The file is written atomically. Returns the path.
    """
    p = Path(path)
    fmt = DRAW_FORMATS.get(p.suffix.lower())
    if fmt is None:
        raise GraphError(
            f"cannot draw to a {p.suffix or 'suffix-less'!s} file",
            where=str(p),
            hint=f"use one of: {', '.join(DRAW_FORMATS)}",
        )
    data = _render(to_agraph(graph, effects=effects, title=title), fmt)
    atomic_write_bytes(p, data)
    return p


def render_svg(graph: CausalGraph, *, effects: Mapping[tuple[str, str], float] | None = None) -> str:
    """The drawing as SVG text (what Jupyter shows for a ``CausalGraph``)."""
    return _render(to_agraph(graph, effects=effects), "svg").decode("utf-8")


def side_by_side_figure(left: CausalGraph, right: CausalGraph, *, titles: tuple[str, str] = ("declared", "discovered")):
    """A matplotlib figure with two graph pictures next to each other (returned, not saved)."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.image as mpimg
    import matplotlib.pyplot as plt

    images = [mpimg.imread(io.BytesIO(_render(to_agraph(g, title=t), "png")), format="png") for g, t in zip((left, right), titles)]
    widths = [img.shape[1] for img in images]
    height = max(img.shape[0] for img in images)
    fig, axes = plt.subplots(1, 2, figsize=(sum(widths) / 100, height / 100 + 0.4), gridspec_kw={"width_ratios": widths})
    for ax, img in zip(axes, images):
        ax.imshow(img)
        ax.axis("off")
    fig.tight_layout()
    return fig


def draw_side_by_side(left: CausalGraph, right: CausalGraph, path: str | Path, *, titles: tuple[str, str] = ("declared", "discovered")) -> Path:
    """Save the two graphs side by side (.png, .pdf or .svg), atomically."""
    import io

    p = Path(path)
    fmt = {".png": "png", ".pdf": "pdf", ".svg": "svg"}.get(p.suffix.lower())
    if fmt is None:
        raise GraphError(f"cannot draw a comparison to a {p.suffix or 'suffix-less'} file", where=str(p), hint="use .png, .pdf or .svg")
    import matplotlib.pyplot as plt

    fig = side_by_side_figure(left, right, titles=titles)
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=100)
    plt.close(fig)
    atomic_write_bytes(p, buf.getvalue())
    return p
