"""Config files: a TOML file's keys checked against the fields they set, each with its kind.

A config holds the same fields as the command line's flags (``max-steps = 500`` or
``max_steps = 500``); each value must have its field's kind, checked before anything
converts it: a ``number`` (``true`` is not one), an ``integer``, a ``boolean``, ``text``,
``texts`` (text or a list of texts: ``optimizer = ["gd", "adam"]``), ``numbers`` (a list
of numbers or text such as ``"1,100"``) or ``names`` (a list of names or text such as
``"w,b"``). Lists come back as the text the flag takes (``"1,100"``, ``"w,b"``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .paths import read_toml
from .text import SpecError

__all__ = ["KINDS", "read_config"]

KINDS = {
    "numbers": "a list of numbers such as [1, 100] or text such as '1,100'",
    "names": "text or a list of texts",  # names: 'w,b' or ['w', 'b']
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "texts": "text or a list of texts",
    "text": "text",
}
ALIASES = {"optimizers": "optimizer"}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _has_kind(value: Any, kind: str) -> bool:
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return _is_number(value)
    if kind == "boolean":
        return isinstance(value, bool)
    if isinstance(value, str):
        return kind in ("numbers", "names", "texts", "text")
    if kind == "numbers":
        return isinstance(value, list) and all(_is_number(v) or isinstance(v, str) for v in value)
    if kind in ("texts", "names"):
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    return False


def _toml_type(value: Any) -> str:
    names = {bool: "boolean", int: "integer", float: "float", str: "text", list: "array"}
    return names.get(type(value), "table" if isinstance(value, dict) else type(value).__name__)


def read_config(path: str, kinds: Mapping[str, str], what: str = "--config") -> dict[str, Any]:
    """``{field: value}`` from the TOML file at ``path``; ``kinds`` maps each allowed field
    (spelled with dashes, as its flag) to its kind. Keys may use ``_`` for ``-``; an unknown
    key or a value of the wrong kind is a one-line :class:`SpecError` naming both."""
    where = f"{what} {path!r}"
    out = {}
    for key, value in read_toml(path, what).items():
        name = ALIASES.get(key.replace("_", "-"), key.replace("_", "-"))
        kind = kinds.get(name)
        if kind is None:
            raise SpecError(f"{where}: unknown field {key!r}; allowed: {', '.join(kinds)}")
        if not _has_kind(value, kind):
            raise SpecError(
                f"{where}: {key} must be {KINDS[kind]}; got {value!r} ({_toml_type(value)})"
            )
        if kind in ("numbers", "names") and isinstance(value, list):
            value = ",".join(repr(v) if _is_number(v) else v for v in value)
        elif kind == "texts" and isinstance(value, str):
            value = [value]
        out[name] = value
    return out
