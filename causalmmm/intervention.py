"""`Intervention`: the one type for do(), experiments and the simulator.

``node = value`` ("set"), ``node *= factor`` ("scale"), a go-live at the node's
typical level ("on") or a whole new series ("series"), in data units. Queries,
experiment estimands (their ``intervention``) and ground-truth worlds all use
it; :meth:`Intervention.parse` reads every spelling users write (``off``,
``on``, a number, ``*1.5``, ``{set: v}``, ``{scale: f}``, ``{on: level}``).

A go-live (``on``) sets the node, inside the window, to its typical level: the
mean of the series over the periods where it is > 0 (the level it runs at when
it is on). ``{on: LEVEL}`` is the same as ``{set: LEVEL}``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np

from causalmmm.errors import CausalMMMError, QueryError

KINDS = ("set", "scale", "on", "series")
ALLOWED = "allowed: off (go dark), on (go live at its usual level), scale: F or *F (heavy-up, e.g. *1.5), set: V (level per period)"
_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_TEXT_FORMS = (
    (re.compile(rf"^(?:\*|x|×)\s*({_NUMBER})$", re.I), "scale"),
    (re.compile(rf"^=?\s*({_NUMBER})$"), "set"),
    (re.compile(rf"^(set|scale|on)\s*[:=]?\s*({_NUMBER})$", re.I), ""),
)


def _spelling(value: Any) -> str:
    """The user's text, as they would have written it in YAML (booleans back to on/off)."""
    if value is True:
        return "on"
    if value is False:
        return "off"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_spelling(k)}: {_spelling(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_spelling(v) for v in value) + "]"
    return str(value)


def _typical_level(x: Any, xp: Any) -> Any:
    """Mean of ``x`` over its periods > 0 (last axis), kept as a trailing axis of length 1."""
    on = x > 0
    total = xp.sum(xp.where(on, x, 0.0), axis=-1, keepdims=True)
    count = xp.sum(xp.where(on, 1.0, 0.0), axis=-1, keepdims=True)
    return total / xp.maximum(count, 1.0)


@dataclass(frozen=True)
class Intervention:
    """An intervention on ``node``: set it to ``value``, scale it by ``value``, switch it on at its
    typical level (``on``; ``value`` unused) or replace it by ``series``."""

    node: str
    kind: str
    value: float = 0.0
    series: np.ndarray | None = None

    # ------------------------------------------------------------ constructors
    @classmethod
    def off(cls, node: str) -> Intervention:
        return cls(node, "set", 0.0)

    @classmethod
    def on(cls, node: str) -> Intervention:
        """Go live: the node runs at its typical level (mean over its periods > 0) inside the window."""
        return cls(node, "on", 0.0)

    @classmethod
    def parse(cls, node: str, value: Any, *, error: type[CausalMMMError] = QueryError, where: str | None = None) -> Intervention:
        """``off``, ``on``, a number or ``=V`` (set), ``*F`` (scale), ``{set: V}``, ``{scale: F}``,
        ``{on: LEVEL}`` (set LEVEL), or a ``("set"|"scale", v)`` pair. YAML's booleans for a bare
        on/off are read back as on/off. Errors quote what the user wrote."""
        if isinstance(value, Intervention):
            return value
        text = _spelling(value)
        word = value.strip().lower() if isinstance(value, str) else None
        if value is False or word == "off":
            return cls.off(node)
        if value is True or word == "on":
            return cls.on(node)
        kind: Any = None
        v: Any = None
        if isinstance(value, str):
            for pattern, form in _TEXT_FORMS:
                m = pattern.match(value.strip())
                if m:
                    kind, v = (form, float(m.group(1))) if form else (m.group(1).lower(), float(m.group(2)))
                    break
        elif isinstance(value, dict) and len(value) == 1:
            ((kind, v),) = value.items()
            kind = "on" if kind is True else kind.strip().lower() if isinstance(kind, str) else kind
        elif isinstance(value, (tuple, list)) and len(value) == 2 and isinstance(value[0], str):
            kind, v = value
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            kind, v = "set", value
        if kind not in ("set", "scale", "on") or isinstance(v, bool) or not isinstance(v, (int, float)):
            raise error(f"unknown intervention {text!r}", where=where, hint=ALLOWED)
        v = float(v)
        if not math.isfinite(v):
            raise error(f"intervention {text!r} is not a finite number", where=where, hint="use a finite value, e.g. set: 5000 or *1.5")
        if kind == "scale" and v < 0:
            raise error(
                f"intervention {text!r}: a scale must be >= 0", where=where, hint="a scale multiplies the level: *0.5 halves it, *1.5 is a heavy-up; or off"
            )
        if kind == "on":
            if v <= 0:
                raise error(
                    f"intervention {text!r}: a go-live level must be > 0", where=where, hint="write on (its usual level) or {on: LEVEL}; use off to go dark"
                )
            kind = "set"
        return cls(node, kind, v)

    # ------------------------------------------------------------------ use
    def apply(self, x: Any, mask: np.ndarray, scale: float = 1.0, xp: Any = np) -> Any:
        """Apply to a series ``x`` (..., T) divided by ``scale`` inside ``mask`` (numpy or pytensor)."""
        new: Any
        if self.kind == "series":
            new = np.asarray(self.series, dtype=float) / scale
        elif self.kind == "set":
            new = self.value / scale
        elif self.kind == "on":
            new = _typical_level(x, xp)
        else:
            new = x * self.value
        return xp.where(mask, new, x)

    def at_share(self, share: float) -> Intervention:
        """The same intervention in a geo holding ``share`` of the nation (``set v`` becomes ``set share·v``;
        ``on`` already reads the geo's own typical level)."""
        return Intervention(self.node, self.kind, self.value * share) if self.kind == "set" else self

    @property
    def is_off(self) -> bool:
        return self.kind == "set" and self.value == 0.0

    @property
    def is_on(self) -> bool:
        return self.kind == "on"

    def level(self, series: np.ndarray) -> float | None:
        """The level a ``set`` or ``on`` intervention holds the node at, given its factual series (data units)."""
        if self.kind == "set":
            return self.value
        if self.kind == "on":
            return float(_typical_level(np.asarray(series, dtype=float), np)[..., 0])
        return None

    def to_text(self) -> str:
        """``node=VALUE``, ``node*=FACTOR`` (the CLI's ``--do`` syntax) or ``node=on``."""
        if self.kind == "series":
            return f"{self.node}=<series>"
        if self.kind == "on":
            return f"{self.node}=on"
        return f"{self.node}{'*=' if self.kind == 'scale' else '='}{self.value:g}"

    def to_spec(self) -> Any:
        """The file form: ``"off"``, ``"on"``, ``{"set": v}`` or ``{"scale": f}``."""
        return "off" if self.is_off else "on" if self.is_on else {self.kind: self.value}

    def __iter__(self) -> Iterator[Any]:
        """``kind, value = intervention`` (the pair form older code unpacks)."""
        return iter((self.kind, self.value))
