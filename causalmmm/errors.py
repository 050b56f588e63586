"""The one exception hierarchy of causalmmm.

Every error a user can cause is a :class:`CausalMMMError`. Its ``str()`` is a
single line saying what is wrong, where (file, line, node, column) and how to
fix it. The CLI prints exactly that line and exits with a non-zero code.
"""

from __future__ import annotations


class CausalMMMError(Exception):
    """Base class. ``str(err)`` is one line: ``WHERE: WHAT; HINT``."""

    exit_code = 2

    def __init__(self, what: str, *, where: str | None = None, hint: str | None = None) -> None:
        self.what = what
        self.where = where
        self.hint = hint
        super().__init__(self._format())

    def _format(self) -> str:
        msg = f"{self.where}: {self.what}" if self.where else self.what
        if self.hint:
            msg = f"{msg}; {self.hint}"
        return " ".join(msg.split())  # guarantee a single line


class GraphError(CausalMMMError):
    """The causal graph is malformed or inconsistent."""


class GraphSyntaxError(GraphError):
    """A DOT or YAML graph file cannot be parsed."""


class DataError(CausalMMMError):
    """The data table is missing, malformed or inconsistent with the graph."""


class SpecError(CausalMMMError):
    """A model specification (priors, transforms) is invalid."""


class ExperimentError(CausalMMMError):
    """An experiment file or estimand is invalid."""


class QueryError(CausalMMMError):
    """A do()/counterfactual query is malformed."""


class RunError(CausalMMMError):
    """A run directory is missing, corrupt, or would be overwritten."""


class FitError(CausalMMMError):
    """Fitting failed."""


class NotBuiltYetError(CausalMMMError):
    """The requested feature is not implemented yet. Nothing pretends to work."""

    exit_code = 3
