"""The graph workshop: draw the causal graph with the marketing team in a browser.

``causalmmm graph workshop [GRAPH] [--data CSV]`` starts :func:`serve`: a local server
(:mod:`causalmmm.workshop.server`) over an editable graph with undo and redo
(:mod:`causalmmm.workshop.state`). Identification, drawing and independence tests are the
library's own (:mod:`causalmmm.workshop.panels`); DAGitty text goes both ways
(:mod:`causalmmm.workshop.dagitty`).
"""

from causalmmm.workshop.dagitty import graph_from_dagitty, graph_to_dagitty
from causalmmm.workshop.server import Workshop, WorkshopError, make_server, serve
from causalmmm.workshop.state import WorkshopState, same_graph

__all__ = ["Workshop", "WorkshopError", "WorkshopState", "graph_from_dagitty", "graph_to_dagitty", "make_server", "same_graph", "serve"]
