"""Typed text -> plain Python values, with one-line errors naming the input.

Standard library only at import time (``hessian-lab --help`` reads this package). Anything
that is not a plain number goes through :mod:`hessian_lab.expr` (imported on demand), never
``eval``:

- numbers: ``"1e-3"``, or an expression in named values: ``"0.5*lr_opt"``, ``"2**10"``;
- lists: ``"1,100"``, ``"0.8, 0.6"`` (or a TOML list), each item a number or expression;
- names: ``"w,b"`` (the variables of an objective);
- matrices: ``"2,1;1,3"`` (rows separated by ``;``), symmetric;
- options read from a config file: :func:`as_float`, :func:`as_int`, :func:`as_choice`.
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from enum import Enum
from typing import Any

__all__ = [
    "SpecError",
    "as_choice",
    "as_float",
    "as_int",
    "blame",
    "parse_list",
    "parse_matrix",
    "parse_names",
    "parse_number",
    "parse_value",
    "split_top_level",
]

_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


class SpecError(ValueError):
    """A bad input: ``str(error)`` is one line naming the input and what is allowed.

    The command line turns it into ``Error: ...`` and exit code 2."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))


@contextlib.contextmanager
def blame(what: str) -> Iterator[None]:
    """Prefix any ValueError raised inside with ``what`` (the input being read)."""
    try:
        yield
    except SpecError as error:
        if str(error).startswith(what):
            raise
        raise SpecError(f"{what}: {error}") from None
    except ValueError as error:
        raise SpecError(f"{what}: {error}") from None


def parse_number(text: str, names: Mapping[str, float] | None = None, what: str = "value"):
    """A float from ``text``: a literal, or a safe expression in ``names`` (``0.5*lr_opt``).

    Returns a float, or a tuple of floats for a top-level tuple such as ``(0.9, 0.999)``.
    """
    text = str(text).strip()
    if not text:
        raise SpecError(f"{what} is empty; expected a number or an expression")
    if _NUMBER.match(text):
        value = float(text)
        if not math.isfinite(value):
            raise SpecError(f"{what} {text!r} is not a finite number")
        return value
    from ..expr import evaluate

    return evaluate(text, dict(names or {}))


def parse_value(text: str, names: Mapping[str, float] | None = None, what: str = "value") -> float:
    """A single finite float (a tuple is refused)."""
    value = parse_number(text, names, what)
    if isinstance(value, tuple):
        raise SpecError(f"{what} must be one number, not a tuple; got {text!r}")
    return float(value)


def split_top_level(text: str, sep: str = ",") -> list[str]:
    """``text`` split on ``sep`` outside parentheses: ``"lr=1,betas=(0.9,0.99)"`` -> 2 parts."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                raise SpecError(f"unbalanced ')' in {text!r}")
        elif char == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    if depth != 0:
        raise SpecError(f"unbalanced '(' in {text!r}")
    parts.append(text[start:])
    return parts


def parse_list(value: Any, what: str, length: int | None = None) -> list[float]:
    """A list of finite floats from ``"1,100"``, a list or a 1-D array; ``length`` if it
    must match."""
    if hasattr(value, "tolist") and not isinstance(value, str):  # a NumPy array
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        items = [str(v) for v in value]
    else:
        text = str(value).strip()
        if text.startswith("[") and text.endswith("]"):
            text = text[1:-1]
        items = split_top_level(text) if text else []
    if not items or any(not item.strip() for item in items):
        raise SpecError(
            f"{what} must be a comma-separated list of numbers such as '1,100'; got {value!r}"
        )
    numbers = []
    for item in items:
        with blame(what):
            numbers.append(parse_value(item, what=f"item {item.strip()!r}"))
    if length is not None and len(numbers) != length:
        raise SpecError(
            f"{what} has {len(numbers)} values but the problem has dimension {length}; "
            f"give {length} numbers"
        )
    return numbers


def parse_names(value: Any, what: str = "--vars") -> list[str]:
    """Variable names from ``"w,b"`` or a list ``["w", "b"]``: non-empty, each once."""
    if isinstance(value, (list, tuple)):
        names = [str(v).strip() for v in value]
    else:
        names = [v.strip() for v in str(value).split(",")]
    if not names or not all(names):
        raise SpecError(f"{what} must be comma-separated names such as 'w,b'; got {value!r}")
    if len(set(names)) != len(names):
        raise SpecError(f"{what} names a variable twice: {value!r}")
    return names


def parse_matrix(text: str, what: str = "--matrix") -> list[list[float]]:
    """A symmetric matrix from rows separated by ``;``: ``"2,1;1,3"`` -> ``[[2, 1], [1, 3]]``."""
    rows = str(text).split(";")
    if any(not r.strip() for r in rows):
        raise SpecError(f"{what} must be rows separated by ';' such as '2,1;1,3'; got {text!r}")
    matrix = [parse_list(r, f"{what} row {i + 1}") for i, r in enumerate(rows)]
    n = len(matrix)
    for i, row in enumerate(matrix):
        if len(row) != n:
            raise SpecError(
                f"{what} must be square: row {i + 1} has {len(row)} entries, expected {n}"
            )
    for i in range(n):
        for j in range(i):
            if abs(matrix[i][j] - matrix[j][i]) > 1e-12 * (1 + abs(matrix[i][j])):
                raise SpecError(
                    f"{what} must be symmetric: entry ({i + 1},{j + 1}) = {matrix[i][j]:g} "
                    f"but ({j + 1},{i + 1}) = {matrix[j][i]:g}"
                )
    return matrix


def as_float(value: Any, what: str, positive: bool = False, at_least: float | None = None):
    """A finite float from a number or text (``None`` passes through)."""
    if value is None:
        return None
    with blame(what):
        number = value if isinstance(value, (int, float)) else parse_value(str(value))
    number = float(number)
    if not math.isfinite(number):
        raise SpecError(f"{what} must be a finite number; got {value!r}")
    if positive and number <= 0:
        raise SpecError(f"{what} must be > 0; got {value!r}")
    if at_least is not None and number < at_least:
        raise SpecError(f"{what} must be >= {at_least:g}; got {value!r}")
    return number


def as_int(value: Any, what: str, minimum: int | None = None, maximum: int | None = None):
    """An integer from an int, a whole float or text (``None`` passes through)."""
    if value is None:
        return None
    try:
        number = int(value)
        if isinstance(value, float) and number != value:
            raise ValueError
        if isinstance(value, str):
            number = int(value.strip())
    except (TypeError, ValueError, OverflowError):
        raise SpecError(f"{what} must be an integer; got {value!r}") from None
    if minimum is not None and number < minimum:
        raise SpecError(f"{what} must be an integer >= {minimum}; got {value!r}")
    if maximum is not None and number > maximum:
        low = "" if minimum is None else f"{minimum} <= "
        raise SpecError(f"{what} must be an integer {low}n <= {maximum:,}; got {value!r}")
    return number


def as_choice(value: Any, what: str, choices: Sequence[str]):
    """One of ``choices`` (an Enum's value is taken; ``None`` passes through)."""
    if value is None:
        return None
    value = value.value if isinstance(value, Enum) else str(value)
    if value not in choices:
        raise SpecError(f"{what} must be one of {', '.join(choices)}; got {value!r}")
    return value
