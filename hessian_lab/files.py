"""Writing output files atomically: nothing half-written, ever.

Every file goes to a temporary name in its target folder and is renamed over the target
(``os.replace``, atomic on POSIX) only once it is complete; on any failure the temporary
file is removed and the target is left as it was. A new file gets the usual permissions
(``0o666`` less the umask), not ``mkstemp``'s private ``0o600``; a file replaced keeps its
own mode (a private ``0o600`` file stays private). A symbolic link is followed: the file
it points to is replaced (created if missing) and the link itself stays.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO

__all__ = ["atomic_write", "atomic_write_many"]


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def _permissions() -> int:
    return 0o666 & ~_umask()


def _resolve(path: str | os.PathLike) -> Path:
    """Where a write to ``path`` lands: the file a symbolic link points to, else ``path``."""
    target = Path(path)
    return Path(os.path.realpath(target)) if target.is_symlink() else target


def _mode_for(target: Path) -> int:
    """The mode a file written to ``target`` gets: the old file's, else 0o666 less umask."""
    try:
        return os.stat(target).st_mode & 0o7777
    except OSError:
        return _permissions()


def _stage(target: Path, write: Callable[[IO], None], mode: str) -> str:
    """``write`` into a temporary file beside ``target``; return its name."""
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        kwargs = {} if "b" in mode else {"newline": "", "encoding": "utf-8"}
        with os.fdopen(fd, mode, **kwargs) as handle:
            write(handle)
        os.chmod(tmp, _mode_for(target))
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return tmp


def atomic_write(path: str | os.PathLike, write: Callable[[IO], None], mode: str = "wb") -> Path:
    """``write(handle)`` into a temporary file beside ``path``, then rename it over ``path``.

    Returns the file written: ``path``, or the file it links to."""
    target = _resolve(path)
    tmp = _stage(target, write, mode)
    try:
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return target


def atomic_write_many(folder: str | os.PathLike, payloads: Mapping[str, bytes]) -> list[Path]:
    """Write ``{file name: bytes}`` into ``folder``; nothing is ever half-written.

    A new ``folder`` is filled as a temporary folder beside it and renamed into place once
    every file is complete: on a failure nothing is left, neither the folder nor the
    parents created for it. Into an existing folder every file is staged completely before
    any is renamed into place, so a failure while writing leaves no target touched; a
    rename failing part-way leaves the files already renamed (each complete) and removes
    the rest.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return _write_new_folder(folder, payloads)
    staged: list[tuple[str, Path]] = []
    try:
        for name, payload in payloads.items():
            target = _resolve(folder / name)
            staged.append((_stage(target, _writer(payload), "wb"), target))
        for tmp, target in staged:
            os.replace(tmp, target)
    except BaseException:
        for tmp, _ in staged:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise
    return [target for _, target in staged]


def _writer(payload: bytes) -> Callable[[IO], None]:
    return lambda handle: handle.write(payload)


def _write_new_folder(folder: Path, payloads: Mapping[str, bytes]) -> list[Path]:
    """Fill a temporary sibling of ``folder`` and rename it to ``folder`` (see above)."""
    created = [p for p in reversed(folder.parents) if not p.exists()]
    tmp = None
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".tmp", dir=folder.parent))
        for name, payload in payloads.items():
            os.replace(_stage(tmp / name, _writer(payload), "wb"), tmp / name)
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp's folder is private; the usual mode
        os.rename(tmp, folder)
    except BaseException:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        for parent in reversed(created):
            with contextlib.suppress(OSError):
                parent.rmdir()
        raise
    return [folder / name for name in payloads]
