"""``--config FILE.toml``: a command's defaults from a file (click's ``default_map``).

The file holds the same fields as the command's flags (``max-steps = 500`` or
``max_steps = 500``), read by :func:`hessian_lab.spec.config.read_config` (each value of its
flag's kind; regular files of at most 1 MB); a flag given on the command line wins over
the file, the file over the built-in default.
"""

from __future__ import annotations

from typing import Any

from ..spec.config import read_config

__all__ = ["LIST_OPTIONS", "config_defaults", "find_config"]

#: options that take a list of numbers as text ("1,100"); a config may give a TOML list
LIST_OPTIONS = ("eigenvalues", "center", "x0")
#: options that take comma-separated names ("w,b"); a config may give a TOML list
NAME_OPTIONS = ("vars",)


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
    """What a parameter takes (a kind of :mod:`hessian_lab.spec.config`): from Typer's
    annotation (``int``, ``float``...), else from its click type's name."""
    if param.name in NAME_OPTIONS:
        return "names"
    if getattr(param, "multiple", False):
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
    return "number" if type_name.startswith("float") else "text"


def config_defaults(command: Any, path: str) -> dict[str, Any]:
    """``{parameter name: value}`` for ``command`` from the TOML file at ``path``."""
    by_flag = {
        opt[2:]: param
        for param in command.params
        if param.param_type_name == "option" and param.name not in ("config", "help")
        for opt in param.opts
        if opt.startswith("--")
    }
    values = read_config(path, {flag: _kind(param) for flag, param in by_flag.items()})
    return {by_flag[flag].name: value for flag, value in values.items()}
