"""Text from the command line (and TOML configs) -> plain Python values, with one-line errors.

Stdlib only at import time: ``hessian-lab --help`` must stay fast. Everything that is not a
plain number goes through :mod:`hessian_lab.expr` (imported on demand), never ``eval``.

- lists: ``"1,100"``, ``"0.8, 0.6"`` (an item may be an expression such as ``2**10``);
- optimizer specs: ``"momentum:lr=0.175*lr_opt,beta=0.9"``, ``"adam:betas=(0.9,0.999)"``;
- grids: ``"lr=1e-4:1:64:log"`` (``name=start:stop:num[:log|lin]``);
- sizes: the memory a problem will need, refused over a limit;
- output paths: written through a temporary file in the same directory, then renamed.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import files

__all__ = [
    "CLIError",
    "blame",
    "parse_number",
    "parse_value",
    "parse_list",
    "split_top_level",
    "OptimizerSpec",
    "parse_optimizer_spec",
    "Grid",
    "parse_grid",
    "check_output_path",
    "atomic_write",
    "check_memory",
    "format_bytes",
    "as_path",
]

_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


class CLIError(ValueError):
    """A bad input: ``str(error)`` is one line naming the input and what is allowed."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))


@contextlib.contextmanager
def blame(what: str) -> Iterator[None]:
    """Prefix any ValueError raised inside with ``what`` (the option being parsed)."""
    try:
        yield
    except CLIError as error:
        if str(error).startswith(what):
            raise
        raise CLIError(f"{what}: {error}") from None
    except ValueError as error:
        raise CLIError(f"{what}: {error}") from None


# --------------------------------------------------------------------------- numbers
def parse_number(text: str, names: Mapping[str, float] | None = None, what: str = "value"):
    """A float from ``text``: a literal, or a safe expression in ``names`` (``0.5*lr_opt``).

    Returns a float, or a tuple of floats for a top-level tuple such as ``(0.9, 0.999)``.
    """
    text = str(text).strip()
    if not text:
        raise CLIError(f"{what} is empty; expected a number or an expression")
    if _NUMBER.match(text):
        value = float(text)
        if not math.isfinite(value):
            raise CLIError(f"{what} {text!r} is not a finite number")
        return value
    from ..expr import evaluate

    return evaluate(text, dict(names or {}))


def parse_value(text: str, names: Mapping[str, float] | None = None, what: str = "value") -> float:
    """A single finite float (a tuple is refused)."""
    value = parse_number(text, names, what)
    if isinstance(value, tuple):
        raise CLIError(f"{what} must be one number, not a tuple; got {text!r}")
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
                raise CLIError(f"unbalanced ')' in {text!r}")
        elif char == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    if depth != 0:
        raise CLIError(f"unbalanced '(' in {text!r}")
    parts.append(text[start:])
    return parts


def parse_list(value: Any, what: str, length: int | None = None) -> list[float]:
    """A list of finite floats from ``"1,100"`` (or a TOML list); ``length`` if it must match."""
    if isinstance(value, (list, tuple)):
        items = [str(v) for v in value]
    else:
        text = str(value).strip()
        if text.startswith("[") and text.endswith("]"):
            text = text[1:-1]
        items = split_top_level(text) if text else []
    if not items or any(not item.strip() for item in items):
        raise CLIError(
            f"{what} must be a comma-separated list of numbers such as '1,100'; got {value!r}"
        )
    numbers = []
    for item in items:
        with blame(what):
            numbers.append(parse_value(item, what=f"item {item.strip()!r}"))
    if length is not None and len(numbers) != length:
        raise CLIError(
            f"{what} has {len(numbers)} values but the problem has dimension {length}; "
            f"give {length} numbers"
        )
    return numbers


# --------------------------------------------------------------------------- optimizers
@dataclass
class OptimizerSpec:
    """``NAME:key=value,...`` split but not yet evaluated: ``values`` maps key -> text."""

    name: str
    values: dict[str, str] = field(default_factory=dict)
    text: str = ""


def parse_optimizer_spec(text: str, allowed: Sequence[str]) -> OptimizerSpec:
    """Split an optimizer spec; the name must be one of ``allowed``."""
    raw = str(text).strip()
    name, _, rest = raw.partition(":")
    name = name.strip().lower()
    if name not in allowed:
        raise CLIError(
            f"--optimizer {raw!r}: unknown optimizer {name!r}; allowed: {', '.join(allowed)} "
            "(as NAME or NAME:key=value,...)"
        )
    values: dict[str, str] = {}
    if rest.strip():
        try:
            parts = split_top_level(rest)
        except CLIError as error:
            raise CLIError(f"--optimizer {raw!r}: {error}") from None
        for part in parts:
            key, eq, value = part.partition("=")
            key = key.strip()
            if not eq or not key or not value.strip():
                raise CLIError(
                    f"--optimizer {raw!r}: {part.strip()!r} is not key=value "
                    "(e.g. 'momentum:lr=0.175*lr_opt,beta=0.9')"
                )
            if key in values:
                raise CLIError(f"--optimizer {raw!r}: {key!r} is given twice")
            values[key] = value.strip()
    return OptimizerSpec(name, values, raw)


# --------------------------------------------------------------------------- grids
@dataclass
class Grid:
    """``name=start:stop:num[:log|lin]``; ``start``/``stop`` may be expressions (text kept)."""

    name: str
    start: str
    stop: str
    num: int
    scale: str
    text: str

    def values(self, names: Mapping[str, float] | None = None) -> list[float]:
        """The ``num`` grid points (geometric for ``log``)."""
        what = f"--grid {self.text!r}"
        with blame(what):
            start = parse_value(self.start, names, "start")
            stop = parse_value(self.stop, names, "stop")
        if self.scale == "log" and (start <= 0 or stop <= 0):
            raise CLIError(f"{what}: a log grid needs start and stop > 0; got {start:g}, {stop:g}")
        if self.num == 1:
            return [start]
        out = []
        for i in range(self.num):
            frac = i / (self.num - 1)
            if self.scale == "log":
                out.append(math.exp(math.log(start) + frac * (math.log(stop) - math.log(start))))
            else:
                out.append(start + frac * (stop - start))
        return out


MAX_GRID_POINTS = 1_000_000


def parse_grid(text: str) -> Grid:
    """Parse ``--grid`` text; a bad form names the expected ``name=start:stop:num[:log|lin]``."""
    raw = str(text).strip()
    form = "expected NAME=START:STOP:NUM[:log|lin], e.g. 'lr=1e-4:1:64:log'"
    name, eq, rest = raw.partition("=")
    name = name.strip()
    if not eq or not name.replace("_", "a").replace("[", "").replace("]", "").isalnum():
        raise CLIError(f"--grid {raw!r}: {form}")
    parts = [p.strip() for p in rest.split(":")]
    if len(parts) not in (3, 4) or not all(parts):
        raise CLIError(f"--grid {raw!r}: {form}")
    scale = parts[3].lower() if len(parts) == 4 else "lin"
    if scale not in ("log", "lin"):
        raise CLIError(f"--grid {raw!r}: scale must be log or lin; got {parts[3]!r}")
    try:
        num = int(parts[2])
    except ValueError:
        raise CLIError(
            f"--grid {raw!r}: NUM must be a positive integer; got {parts[2]!r}"
        ) from None
    if not 1 <= num <= MAX_GRID_POINTS:
        raise CLIError(f"--grid {raw!r}: NUM must be in [1, {MAX_GRID_POINTS}]; got {num}")
    return Grid(name, parts[0], parts[1], num, scale, raw)


# --------------------------------------------------------------------------- memory
def format_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.3g} {unit}"
        n /= 1000
    return f"{n:.3g} TB"  # pragma: no cover


def check_memory(needed: float, limit_gb: float, what: str, advice: str) -> None:
    """Refuse when an estimate ``needed`` (bytes) is over ``limit_gb`` gigabytes."""
    if needed > limit_gb * 1e9:
        raise CLIError(
            f"{what} needs about {format_bytes(needed)} of memory, over the limit of "
            f"{limit_gb:g} GB (--max-memory-gb); {advice}"
        )


# --------------------------------------------------------------------------- outputs
def as_path(text: str | os.PathLike, what: str) -> Path:
    """A path from the command line; empty text (which would mean ".") is refused."""
    if not str(text).strip():
        raise CLIError(f"{what} is empty; give a path")
    return Path(text)


def check_output_path(path: str | os.PathLike, what: str, formats: Sequence[str] = ()) -> Path:
    """Check ``path`` before any work: the extension (if ``formats``) and a writable folder.

    A symbolic link is followed: the file it points to is what gets replaced (the link
    stays), so the folder checked is that file's."""
    p = as_path(path, what)
    if formats:
        ext = p.suffix.lower().lstrip(".")
        if ext not in formats:
            raise CLIError(
                f"{what} {str(path)!r}: unknown file type {p.suffix or '(none)'!r}; "
                f"allowed: {', '.join('.' + f for f in formats)}"
            )
    folder = Path(os.path.realpath(p)).parent if p.is_symlink() else p.parent
    if p.is_dir():
        raise CLIError(f"{what} {str(path)!r} is a directory; give a file name")
    if not folder.is_dir():
        raise CLIError(f"{what} {str(path)!r}: folder {str(folder)!r} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise CLIError(f"{what} {str(path)!r}: folder {str(folder)!r} is not writable")
    probe_folder(folder, f"{what} {str(path)!r}")
    return p


def probe_folder(folder: Path, what: str) -> None:
    """Create and remove a file in ``folder``: root passes ``os.access`` everywhere, while
    /proc, /sys and read-only mounts still refuse a real file."""
    try:
        fd, probe = tempfile.mkstemp(prefix=".hessian-lab.", suffix=".probe", dir=folder)
    except OSError as error:
        raise CLIError(f"{what}: cannot write in {str(folder)!r} ({error.strerror})") from None
    os.close(fd)
    os.unlink(probe)


def atomic_write(path: str | os.PathLike, write: Callable[[Any], None], mode: str = "w") -> None:
    """``files.atomic_write`` with a failure to create the file reported as a CLI error."""
    try:
        files.atomic_write(path, write, mode)
    except OSError as error:
        raise CLIError(f"cannot write {str(path)!r} ({error.strerror or error})") from None
