"""Finite numbers or ``None``: how results reach tables and JSON (NaN and inf become ``None``).

:func:`jsonable` turns a whole document (NumPy scalars and arrays included) into plain
JSON values.

Standard library only, so the CLI can use it before NumPy is imported.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
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


def jsonable(value: Any) -> Any:
    """Plain JSON values: NumPy scalars and arrays unwrapped, non-finite floats -> None."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return jsonable(value.tolist())
    if isinstance(value, bool) or value is None or isinstance(value, (str, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return str(value)


__all__ = ["float_or_none", "int_or_none", "jsonable"]
