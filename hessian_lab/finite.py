"""Finite numbers or ``None``: how results reach tables and JSON (NaN and inf become ``None``).

Standard library only, so the CLI can use it before NumPy is imported.
"""

from __future__ import annotations

import math
from typing import Any


def float_or_none(value: Any) -> float | None:
    """``float(value)`` when it is a finite number, else ``None`` (also for non-numbers)."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def int_or_none(value: Any) -> int | None:
    """The nearest int to a finite ``value``, else ``None``."""
    value = float_or_none(value)
    return None if value is None else int(round(value))


__all__ = ["float_or_none", "int_or_none"]
