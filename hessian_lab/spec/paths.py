"""Paths users type: output files and folders checked before any work, TOML files read safely.

- :func:`check_output_path`: the extension is allowed, the folder exists and takes a file
  (probed with a real file: root passes ``os.access`` on read-only mounts);
- :func:`check_output_folder`: a folder to create (or fill) is writable;
- :func:`read_toml`: a regular UTF-8 TOML file of at most :data:`MAX_TOML_BYTES`, parsed
  to a dict; a FIFO, a device (``/dev/zero``), a directory, binary text, invalid or too
  deeply nested TOML are one-line errors, never a hang, a MemoryError or a traceback.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .text import SpecError

__all__ = [
    "MAX_TOML_BYTES",
    "as_path",
    "check_output_folder",
    "check_output_path",
    "probe_folder",
    "read_toml",
]

MAX_TOML_BYTES = 1_000_000  # a config is a few lines; anything this large is a mistake


def as_path(text: str | os.PathLike, what: str) -> Path:
    """A path from the command line; empty text (which would mean ".") is refused."""
    if not str(text).strip():
        raise SpecError(f"{what} is empty; give a path")
    return Path(text)


def check_output_path(path: str | os.PathLike, what: str, formats: Sequence[str] = ()) -> Path:
    """Check ``path`` before any work: the extension (if ``formats``) and a writable folder.

    A symbolic link is followed: the file it points to is what gets replaced (the link
    stays), so the folder checked is that file's."""
    p = as_path(path, what)
    if formats:
        ext = p.suffix.lower().lstrip(".")
        if ext not in formats:
            raise SpecError(
                f"{what} {str(path)!r}: unknown file type {p.suffix or '(none)'!r}; "
                f"allowed: {', '.join('.' + f for f in formats)}"
            )
    folder = Path(os.path.realpath(p)).parent if p.is_symlink() else p.parent
    if p.is_dir():
        raise SpecError(f"{what} {str(path)!r} is a directory; give a file name")
    if not folder.is_dir():
        raise SpecError(f"{what} {str(path)!r}: folder {str(folder)!r} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise SpecError(f"{what} {str(path)!r}: folder {str(folder)!r} is not writable")
    probe_folder(folder, f"{what} {str(path)!r}")
    return p


def check_output_folder(folder: Path, what: str) -> None:
    """Fail before any work unless ``folder`` (or its nearest existing parent) is writable."""
    existing = folder
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise SpecError(f"{what} {str(folder)!r}: {str(existing)!r} is not a folder")
    probe_folder(existing, f"{what} {str(folder)!r}")


def probe_folder(folder: Path, what: str) -> None:
    """Create and remove a file in ``folder``: root passes ``os.access`` everywhere, while
    /proc, /sys and read-only mounts still refuse a real file."""
    try:
        fd, probe = tempfile.mkstemp(prefix=".hessian-lab.", suffix=".probe", dir=folder)
    except OSError as error:
        raise SpecError(f"{what}: cannot write in {str(folder)!r} ({error.strerror})") from None
    os.close(fd)
    os.unlink(probe)


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)")):
        if test(mode):
            return name
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a socket" if stat.S_ISSOCK(mode) else "not a regular file"


def read_toml(path: str | os.PathLike, what: str = "--config") -> dict[str, Any]:
    """A TOML file as a dict (UTF-8, with or without a byte-order mark); every way a file
    can be unusable is a one-line :class:`SpecError` naming it."""
    import tomllib

    path = as_path(path, what)
    where = f"{what} {str(path)!r}"
    try:
        mode = os.stat(path).st_mode  # follows a link: what would be read
        if not stat.S_ISREG(mode):
            raise SpecError(f"{where}: {_kind(mode)}, not a TOML file; give a regular file")
        with open(path, "rb") as handle:
            data = handle.read(MAX_TOML_BYTES + 1)
    except OSError as error:
        raise SpecError(f"{where}: cannot read it ({error.strerror or error})") from None
    if len(data) > MAX_TOML_BYTES:
        raise SpecError(f"{where}: larger than {MAX_TOML_BYTES:,} bytes; a config is a few lines")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SpecError(f"{where}: not a UTF-8 text file (TOML is text)") from None
    if "\x00" in text:
        raise SpecError(f"{where}: a binary file, not TOML text")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise SpecError(f"{where}: not valid TOML ({error})") from None
    except RecursionError:
        raise SpecError(f"{where}: nested too deeply to read (arrays or tables)") from None
