"""`Intervention`: the one type for do(), experiments and the simulator.

``node = value`` ("set"), ``node *= factor`` ("scale") or a whole new series
("series"), in data units. Queries, experiment estimands (their ``intervention``)
and ground-truth worlds all use it; :meth:`Intervention.parse` reads every
spelling users write (``"off"``, a number, ``{"set": v}``, ``{"scale": f}``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np

from causalmmm.errors import CausalMMMError, QueryError

KINDS = ("set", "scale", "series")


@dataclass(frozen=True)
class Intervention:
    """An intervention on ``node``: set it to ``value``, scale it by ``value``, or replace it by ``series``."""

    node: str
    kind: str
    value: float = 0.0
    series: np.ndarray | None = None

    # ------------------------------------------------------------ constructors
    @classmethod
    def off(cls, node: str) -> Intervention:
        return cls(node, "set", 0.0)

    @classmethod
    def parse(cls, node: str, value: Any, *, error: type[CausalMMMError] = QueryError, where: str | None = None) -> Intervention:
        """``"off"`` (or YAML's ``False`` for a bare off), a number (set), ``{"set": v}``, ``{"scale": f}``,
        or a ``("set"|"scale", v)`` pair. Errors quote what the user wrote."""
        if isinstance(value, Intervention):
            return value
        if value == "off" or value is False:
            return cls.off(node)
        if value is True or value == "on":
            raise error(
                "intervention 'on' needs the spend level it goes live at",
                where=where,
                hint="write {set: VALUE} (spend per period while on), or {scale: FACTOR} for a heavy-up",
            )
        kind, v = None, None
        if isinstance(value, dict) and len(value) == 1:
            ((kind, v),) = value.items()
        elif isinstance(value, (tuple, list)) and len(value) == 2 and isinstance(value[0], str):
            kind, v = value
        elif isinstance(value, (int, float)):
            kind, v = "set", value
        if kind not in ("set", "scale") or isinstance(v, bool) or not isinstance(v, (int, float)):
            raise error(f"unknown intervention {value!r}", where=where, hint="use off, a number (set), {set: VALUE} or {scale: FACTOR}")
        v = float(v)
        if not math.isfinite(v):
            raise error(f"intervention {kind} must be a finite number, got {value!r}", where=where, hint="use a finite value, e.g. {set: 5000}")
        if kind == "scale" and v < 0:
            raise error(f"intervention scale must be >= 0, got {v:g}", where=where, hint="a scale multiplies spend: use {scale: 0.5} to halve it, or off")
        return cls(node, kind, v)

    # ------------------------------------------------------------------ use
    def apply(self, x: Any, mask: np.ndarray, scale: float = 1.0, xp: Any = np) -> Any:
        """Apply to a series ``x`` (..., T) divided by ``scale`` inside ``mask`` (numpy or pytensor)."""
        new: Any
        if self.kind == "series":
            new = np.asarray(self.series, dtype=float) / scale
        elif self.kind == "set":
            new = self.value / scale
        else:
            new = x * self.value
        return xp.where(mask, new, x)

    def at_share(self, share: float) -> Intervention:
        """The same intervention in a geo holding ``share`` of the nation (``set v`` becomes ``set share·v``)."""
        return Intervention(self.node, self.kind, self.value * share) if self.kind == "set" else self

    @property
    def is_off(self) -> bool:
        return self.kind == "set" and self.value == 0.0

    def to_text(self) -> str:
        """``node=VALUE`` or ``node*=FACTOR`` (the CLI's ``--do`` syntax)."""
        return f"{self.node}{'*=' if self.kind == 'scale' else '='}{self.value:g}" if self.kind != "series" else f"{self.node}=<series>"

    def to_spec(self) -> Any:
        """The file form: ``"off"``, ``{"set": v}`` or ``{"scale": f}``."""
        return "off" if self.is_off else {self.kind: self.value}

    def __iter__(self) -> Iterator[Any]:
        """``kind, value = intervention`` (the pair form older code unpacks)."""
        return iter((self.kind, self.value))
