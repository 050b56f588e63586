"""Warnings as data: what a run's user should distrust, with where and how to fix it.

Every check that can find a problem with a fit (posterior shapes, experiment
conflicts, convergence, hidden confounding) returns :class:`ModelWarning`
items. They travel in one list: ``summary.json["warnings"]``, ``fit --json``,
``effects --json``, validation output and the report's first block.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Iterable, Mapping

#: Severity order, most severe first (the report ranks by it).
SEVERITIES: tuple[str, ...] = ("high", "medium", "low")


@dataclass(frozen=True)
class ModelWarning:
    """One finding. ``where`` is a node, an edge written ``a -> b``, or an experiment name."""

    code: str
    where: str
    message: str
    fix: str
    severity: str = "medium"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ModelWarning:
        return cls(code=str(d["code"]), where=str(d["where"]), message=str(d["message"]), fix=str(d["fix"]), severity=str(d.get("severity", "medium")))

    def to_text(self) -> str:
        return f"[{self.code}] {self.where}: {self.message}. Fix: {self.fix}"


def ranked(warnings: Iterable[ModelWarning]) -> list[ModelWarning]:
    """Most severe first; stable within a severity."""
    order = {s: i for i, s in enumerate(SEVERITIES)}
    return sorted(warnings, key=lambda w: order.get(w.severity, len(order)))


def to_dicts(warnings: Iterable[ModelWarning]) -> list[dict[str, Any]]:
    return [w.to_dict() for w in ranked(warnings)]


def from_dicts(items: Iterable[Mapping[str, Any]] | None) -> list[ModelWarning]:
    return [ModelWarning.from_dict(d) for d in items or ()]
