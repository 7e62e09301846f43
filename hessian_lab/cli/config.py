"""``--config FILE.toml``: a command's defaults from a file (click's ``default_map``).

A config holds the same fields as the command's flags (``max-steps = 500`` or
``max_steps = 500``); a flag given on the command line wins over the file, the file over
the built-in default. Each value must have its flag's type, checked before click converts
it: a number (``true`` is not one), an integer, a boolean for on/off flags, text, a list of
texts for repeatable flags (``optimizer = ["gd", "adam"]``), and for the list flags
(``eigenvalues``, ``center``, ``x0``) a list of numbers or text such as ``"1,100"``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .parsing import CLIError, as_path

__all__ = ["LIST_OPTIONS", "config_defaults", "find_config", "read_toml"]

#: options that take a list of numbers as text ("1,100"); a config may give a TOML list
LIST_OPTIONS = ("eigenvalues", "center", "x0")
#: options that take comma-separated names ("w,b"); a config may give a TOML list
NAME_OPTIONS = ("vars",)
ALIASES = {"optimizers": "optimizer"}
_EXPECTED = {
    "numbers": "a list of numbers such as [1, 100] or text such as '1,100'",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "texts": "text or a list of texts",
    "text": "text",
}


def read_toml(path: str | Path, what: str = "--config") -> dict[str, Any]:
    """A TOML file as a dict; unreadable, binary or invalid files are one-line errors.

    UTF-8 with or without a byte-order mark is accepted."""
    import tomllib

    path = as_path(path, what)
    where = f"{what} {str(path)!r}"
    try:
        data = path.read_bytes()
    except OSError as error:
        raise CLIError(f"{where}: cannot read it ({error.strerror or error})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CLIError(f"{where}: not a UTF-8 text file (TOML is text)") from None
    if "\x00" in text:
        raise CLIError(f"{where}: a binary file, not TOML text")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise CLIError(f"{where}: not valid TOML ({error})") from None


def find_config(args: list[str]) -> str | None:
    """The value of ``--config`` among raw command-line ``args`` (the last one given)."""
    found = None
    for i, arg in enumerate(args):
        if arg == "--":
            break
        if arg == "--config" and i + 1 < len(args):
            found = args[i + 1]
        elif arg.startswith("--config="):
            found = arg.partition("=")[2]
    return found


def _kind(param: Any) -> str:
    """What a parameter takes: from Typer's annotation (``int``, ``float``...), else from
    its click type's name (``integer``, ``float range``...)."""
    if getattr(param, "multiple", False) or param.name in NAME_OPTIONS:
        return "texts"
    if param.name in LIST_OPTIONS:
        return "numbers"
    if getattr(param, "is_flag", False):
        return "boolean"
    annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)
    type_name = {int: "integer", float: "float"}.get(annotation) or getattr(
        getattr(param, "type", None), "name", ""
    )
    if type_name.startswith("integer"):
        return "integer"
    if type_name.startswith("float"):
        return "number"
    return "text"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _has_kind(value: Any, kind: str) -> bool:
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return _is_number(value)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "numbers":
        return isinstance(value, str) or (
            isinstance(value, list) and all(_is_number(v) or isinstance(v, str) for v in value)
        )
    if kind == "texts":
        return isinstance(value, str) or (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
        )
    return isinstance(value, str)


def _toml_type(value: Any) -> str:
    names = {bool: "boolean", int: "integer", float: "float", str: "text", list: "array"}
    return names.get(type(value), "table" if isinstance(value, dict) else type(value).__name__)


def config_defaults(command: Any, path: str) -> dict[str, Any]:
    """``{parameter name: value}`` for ``command`` from the TOML file at ``path``.

    Keys are the command's long flags without dashes (``max-steps`` or ``max_steps``);
    an unknown key or a value of the wrong type is a one-line error naming both."""
    where = f"--config {path!r}"
    by_flag: dict[str, Any] = {}
    for param in command.params:
        if param.param_type_name == "option" and param.name not in ("config", "help"):
            for opt in param.opts:
                if opt.startswith("--"):
                    by_flag[opt[2:]] = param
    defaults = {}
    for key, value in read_toml(path).items():
        flag = ALIASES.get(key.replace("_", "-"), key.replace("_", "-"))
        param = by_flag.get(flag)
        if param is None:
            raise CLIError(f"{where}: unknown field {key!r}; allowed: {', '.join(by_flag)}")
        kind = _kind(param)
        if not _has_kind(value, kind):
            raise CLIError(
                f"{where}: {key} must be {_EXPECTED[kind]}; got {value!r} ({_toml_type(value)})"
            )
        if kind == "numbers" and isinstance(value, list):
            value = ",".join(repr(v) if _is_number(v) else v for v in value)
        elif param.name in NAME_OPTIONS and isinstance(value, list):
            value = ",".join(value)
        elif kind == "texts" and isinstance(value, str):
            value = [value]
        defaults[param.name] = value
    return defaults
