"""The text forms the commands read, from :mod:`hessian_lab.spec` (where they live, so a
notebook, a config-driven script or the check kit reads the same strings), and the
command line's writer of output files."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from .. import files
from ..memory import check_memory, format_bytes
from ..spec.grids import Grid, parse_grid
from ..spec.optimizers import OptimizerSpec, parse_optimizer_spec
from ..spec.paths import as_path, check_output_folder, check_output_path, probe_folder
from ..spec.text import SpecError as CLIError
from ..spec.text import blame, parse_list, parse_number, parse_value, split_top_level

__all__ = [
    "CLIError",
    "Grid",
    "OptimizerSpec",
    "as_path",
    "atomic_write",
    "blame",
    "check_memory",
    "check_output_folder",
    "check_output_path",
    "format_bytes",
    "parse_grid",
    "parse_list",
    "parse_number",
    "parse_optimizer_spec",
    "parse_value",
    "probe_folder",
    "split_top_level",
]


def atomic_write(path: str | os.PathLike, write: Callable[[Any], None], mode: str = "w") -> None:
    """``files.atomic_write`` with a failure to write the file reported as a CLI error."""
    try:
        files.atomic_write(path, write, mode)
    except OSError as error:
        raise CLIError(f"cannot write {str(path)!r} ({error.strerror or error})") from None
