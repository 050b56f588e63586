"""One seed offset for every seeded test: ``CAUSALMMM_TEST_SEED=k`` adds k to each seed they use.

A seeded test writes ``seeded(3)`` where it used to write ``3``; the default offset 0 keeps the
historical seeds, ``make test-seeds`` runs the slow tests under offsets 0, 1 and 2.
"""

from __future__ import annotations

import os

import pytest

ENV = "CAUSALMMM_TEST_SEED"


def seed_offset() -> int:
    """The offset from ``CAUSALMMM_TEST_SEED`` (default 0); anything but an integer >= 0 is a usage error."""
    raw = os.environ.get(ENV, "").strip()
    if not raw:
        return 0
    try:
        offset = int(raw)
    except ValueError:
        offset = -1
    if offset < 0:
        raise pytest.UsageError(f"{ENV}={raw!r} is not a non-negative integer: unset it or set it to 0, 1, 2, ...")
    return offset


def seeded(base: int) -> int:
    """``base`` shifted by the active offset (numpy seeds must stay non-negative)."""
    return base + seed_offset()
