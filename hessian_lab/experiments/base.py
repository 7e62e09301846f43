"""What every canned experiment shares: the result object and its atomic writer.

An experiment composes library calls and returns an :class:`ExperimentResult`: a table
(rows of plain values), ``data`` (every number it reports, JSON-ready) and matplotlib
figures. ``write(out_dir)`` renders everything first and then moves each file into place
(temporary file + ``os.replace``), so a failure leaves no half-written file behind.

This module imports only the standard library and NumPy; matplotlib, sympy and torch are
imported by the experiments that need them, when they run.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..files import atomic_write_many

__all__ = [
    "Experiment",
    "ExperimentResult",
    "jsonable",
    "quantities",
    "BACKEND",
]

#: Experiments run on NumPy in float64 unless they say otherwise: small, exact, reproducible.
BACKEND = "numpy"


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON types: arrays to lists, NumPy scalars to Python, NaN/inf to None."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, str):
        return value
    return str(value)


def _cell(value: Any) -> str:
    """One table cell as text: compact numbers, blank for missing values."""
    value = jsonable(value)
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list):
        return "(" + ", ".join(_cell(v) for v in value) + ")"
    return str(value)


def _columns(rows: list[dict]) -> list[str]:
    """Every key of ``rows``, in order of first appearance."""
    seen: dict[str, None] = {}
    for row in rows:
        for key in row:
            seen.setdefault(key, None)
    return list(seen)


@dataclass
class ExperimentResult:
    """The outcome of one experiment.

    Attributes:
        name: the experiment's registry name (``steep-valley``).
        title: a one-line human title.
        table: rows of ``{column: value}`` (JSON-ready after :func:`jsonable`).
        data: every number the experiment reports, JSON-ready.
        figures: ``{name: matplotlib Figure}``, written as ``name.png`` (or svg / pdf).
        notes: short sentences explaining what the numbers show.
        tables: further tables ``{name: rows}``, each written to its own ``name.csv`` and
            ``name.md`` (one table per file).
    """

    name: str
    title: str
    table: list[dict] = field(default_factory=list)
    data: dict = field(default_factory=dict)
    figures: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    tables: dict = field(default_factory=dict)

    @property
    def columns(self) -> list[str]:
        return _columns(self.table)

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "title": self.title,
            "notes": list(self.notes),
            "table": jsonable(self.table),
            "data": jsonable(self.data),
            "figures": sorted(self.figures),
            "tables": {name: jsonable(rows) for name, rows in self.tables.items()},
        }

    def to_json(self, indent: int | None = 2) -> str:
        """The whole result (table, data, notes, figure names) as one JSON document."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    def table_csv(self, name: str | None = None) -> str:
        """The main table (or the extra table ``name``) as CSV."""
        rows = self.table if name is None else self.tables[name]
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        columns = _columns(rows)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_cell(row.get(c)) for c in columns])
        return out.getvalue()

    def table_markdown(self, name: str | None = None) -> str:
        """The main table with the notes (or the extra table ``name``) as Markdown."""
        rows = self.table if name is None else self.tables[name]
        columns = _columns(rows)
        lines = [f"# {self.title}" if name is None else f"# {self.title}: {name}", ""]
        lines.append("| " + " | ".join(columns) + " |")
        lines.append("|" + "|".join("---" for _ in columns) + "|")
        for row in rows:
            lines.append("| " + " | ".join(_cell(row.get(c)) for c in columns) + " |")
        if self.notes and name is None:
            lines += [""] + [f"- {note}" for note in self.notes]
        return "\n".join(lines) + "\n"

    def write(
        self, out_dir: str | os.PathLike, dpi: int | None = None, format: str = "png"
    ) -> list[Path]:
        """Write ``table.csv``, ``table.md``, ``result.json`` and ``<figure>.<format>``
        (``png``, ``svg`` or ``pdf``) into ``out_dir``; PNGs at ``dpi`` (default: the dpi of
        the style the figures were built in, see :func:`hessian_lab.plots.style`).

        Everything is rendered to memory first, then each file goes through a temporary
        file in ``out_dir`` and ``os.replace``; on any failure the temporaries are removed
        and no target file is left half-written. Returns the paths written.
        """
        if format not in ("png", "svg", "pdf"):
            raise ValueError(f"unknown figure format {format!r}; allowed: png, svg, pdf")
        folder = Path(out_dir)
        payloads: dict[str, bytes] = {
            "table.csv": self.table_csv().encode(),
            "table.md": self.table_markdown().encode(),
            "result.json": (self.to_json() + "\n").encode(),
        }
        for name in self.tables:
            payloads[f"{name}.csv"] = self.table_csv(name).encode()
            payloads[f"{name}.md"] = self.table_markdown(name).encode()
        for name, fig in self.figures.items():
            buffer = io.BytesIO()
            fig.savefig(buffer, format=format, dpi=dpi or "figure")
            payloads[f"{name}.{format}"] = buffer.getvalue()
        return atomic_write_many(folder, payloads)


@dataclass(frozen=True)
class Experiment:
    """A registry entry: the name, a one-line summary, and the module that runs it.

    The module is imported only when the experiment runs, so the registry stays cheap.
    """

    name: str
    summary: str
    module: str

    def _runner(self) -> Callable[[bool], ExperimentResult]:
        from importlib import import_module

        return import_module(f"hessian_lab.experiments.{self.module}").run

    def run(self, quick: bool = False) -> ExperimentResult:
        """Run the experiment (``quick``: a reduced size that takes a few seconds)."""
        return self._runner()(quick=quick)


# --- Bridges to the theory layer ------------------------------------------------------


def quantities(problem) -> dict[str, float]:
    """The named theory quantities of a quadratic (``lr_opt``, ``lr_max``, ``lr_hb_opt``, ...).

    From :func:`hessian_lab.theory.named_quantities` (the symbolic layer).
    """
    from ..theory import named_quantities

    return {key: float(value) for key, value in named_quantities(problem).items()}


def first_index(mask: np.ndarray) -> int | None:
    """The first True index of a 1-D boolean array, or None."""
    hits = np.flatnonzero(mask)
    return int(hits[0]) if hits.size else None


def as_int_or_none(value: float) -> int | None:
    return int(value) if value is not None and math.isfinite(value) else None
