"""The fast identification (per-graph context, moral-graph separation, caches) says exactly what the
original search said, on the example graph, the 30-node benchmark graph, the graphs/ files, the
textbook catalogue and 60 seeded random graphs with latent nodes.

The reference digests in ``test_identify_payloads.json`` (a sha256 of each graph's payload, plus a
readable summary per channel) were written by the original (uncached,
networkx-d-separation-per-subset) ``graph/identify.py`` with::

    python tests/test_identify_equivalence.py --write
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from graph_catalogue import CASES  # noqa: E402

from bench.bench_workshop import graph_30  # noqa: E402
from causalmmm.graph import CausalGraph, load_graph  # noqa: E402
from causalmmm.graph.identify import identify, minimal_adjustment_set  # noqa: E402
from causalmmm.workshop.panels import identification_panel  # noqa: E402

BASELINE = Path(__file__).with_name("test_identify_payloads.json")
N_RANDOM = 60


def _toggled(graph: CausalGraph, node: str) -> CausalGraph:
    g = graph.copy()
    g._g.nodes[node]["observed"] = not graph.is_observed(node)
    return g


def random_graph(seed: int) -> CausalGraph | None:
    """A seeded random DAG: 6-16 nodes, the last one the outcome, 1-4 spend nodes, up to 3 latent nodes."""
    rng = random.Random(seed)
    n = rng.randint(6, 16)
    names = [f"n{i}" for i in range(n - 1)] + ["y"]
    p = rng.uniform(0.15, 0.4)
    edges = [(names[i], names[j]) for i in range(n) for j in range(i + 1, n) if rng.random() < p]
    if not any(v == "y" for _, v in edges):
        edges.append((names[-2], "y"))
    reach_y = {u for u, v in edges if v == "y"}
    changed = True
    while changed:
        before = len(reach_y)
        reach_y |= {u for u, v in edges if v in reach_y}
        changed = len(reach_y) != before
    candidates = [x for x in names[:-1] if x in reach_y]
    spends = set(rng.sample(candidates, min(len(candidates), rng.randint(1, 4))))
    others = [x for x in names[:-1] if x not in spends]
    latents = set(rng.sample(others, min(len(others), rng.randint(0, 3))))
    order = names[:]
    rng.shuffle(order)  # declaration order differs from the topological order: tie-breaks matter
    g = CausalGraph(f"random{seed}")
    for x in order:
        role = "outcome" if x == "y" else "spend" if x in spends else rng.choice(["mediator", "confounder", "control"])
        g.add_node(x, role, observed=x not in latents)
    for u, v in edges:
        g.add_edge(u, v)
    return g.validate()


def equivalence_graphs() -> Iterator[tuple[str, CausalGraph]]:
    example = load_graph(ROOT / "graphs" / "marketing.dot")
    yield "example", example
    for node in example.nodes:
        if node != example.outcome and node not in example.spend_nodes:
            yield f"example:{node} toggled", _toggled(example, node)
    for path in sorted((ROOT / "graphs").iterdir()):
        if path.suffix in (".dot", ".yaml", ".yml", ".gv"):
            yield f"graphs/{path.name}", load_graph(path)
    big = graph_30()
    yield "graph_30", big
    for node in ("demand", "season", "competitor", "promo", "clicks_2", "visits_5"):
        yield f"graph_30:{node} toggled", _toggled(big, node)
    for case in CASES:
        yield f"catalogue:{case.name}", case.build()
    for seed in range(N_RANDOM):
        graph = random_graph(seed)
        if graph is not None:
            yield f"random:{seed}", graph


def payload(graph: CausalGraph) -> dict[str, Any]:
    """The workshop panel, identification of every observed node, and the adjustment-set search per spend node."""
    everyone = [n for n in graph.nodes if graph.is_observed(n) and n != graph.outcome]
    return {
        "panel": identification_panel(graph),
        "all": identify(graph, everyone).to_dict(),
        "small_budget": {t: minimal_adjustment_set(graph, t, max_checks=3) for t in graph.spend_nodes},
    }


def digest(graph: CausalGraph) -> dict[str, Any]:
    """A sha256 of the whole payload (exact comparison) and a readable summary per channel (for the diff)."""
    data = payload(graph)
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    summary = {c["treatment"]: [c["criterion"], c["adjustment_set"], c["frontdoor_set"], len(c["experiments_that_identify"])] for c in data["all"]["channels"]}
    return {"sha256": hashlib.sha256(text.encode()).hexdigest(), "channels": summary}


def _cases() -> list[tuple[str, CausalGraph]]:
    return list(equivalence_graphs())


def test_the_graph_set_is_the_one_the_baseline_was_written_for() -> None:
    expected = json.loads(BASELINE.read_text())
    assert [label for label, _ in _cases()] == list(expected)


@pytest.mark.parametrize("label,graph", _cases(), ids=[label for label, _ in _cases()])
def test_identification_payload_is_unchanged(label: str, graph: CausalGraph) -> None:
    expected = json.loads(BASELINE.read_text())[label]
    first = json.loads(json.dumps(digest(graph)))
    assert first["channels"] == expected["channels"]
    assert first["sha256"] == expected["sha256"]
    assert json.loads(json.dumps(digest(graph))) == expected  # a second time: served from the caches


if __name__ == "__main__" and "--write" in sys.argv:
    out = {}
    for label, graph in equivalence_graphs():
        t0 = time.perf_counter()
        out[label] = digest(graph)
        print(f"{label}: {1000 * (time.perf_counter() - t0):.0f} ms", flush=True)
    BASELINE.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {BASELINE} ({len(out)} graphs)")
