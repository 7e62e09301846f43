"""Gradient noise as typed: ``--noise hessian|FLOAT|v1,v2,...`` (and config files).

``hessian`` is ``S = H``; a number ``s`` is ``S = s I``; comma-separated numbers are the
diagonal of ``S`` (one variance per coordinate). Standard library only.
"""

from __future__ import annotations

import math

from .text import SpecError

__all__ = ["parse_noise"]


def parse_noise(text: str, what: str = "--noise"):
    """``"hessian"``, a float, or a list of floats (each finite and >= 0) from ``text``."""
    text = str(text).strip()
    if text == "hessian":
        return text
    allowed = "'hessian', a number >= 0 or comma-separated variances >= 0"
    try:
        values = [float(part) for part in text.split(",")]
    except ValueError:
        raise SpecError(f"{what} must be {allowed}; got {text!r}") from None
    if not all(math.isfinite(v) and v >= 0 for v in values):
        raise SpecError(f"{what} must be {allowed}; got {text!r}")
    return values[0] if len(values) == 1 else values
