"""Sweep grids: ``"lr=1e-4:1:64:log"`` (``NAME=START:STOP:NUM[:log|lin]``).

START and STOP may be expressions in the theory quantities (``lr=lr_opt/100:1.2*lr_max:64:log``);
NAME is a hyperparameter of the swept optimizer (``beta1``/``beta2`` for the parts of ``betas``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .optimizers import OptimizerSpec, resolve_optimizer
from .text import SpecError, blame, parse_value

__all__ = [
    "DEFAULT_GRID",
    "MAX_GRID_POINTS",
    "Grid",
    "SweepPlan",
    "grid_field_kind",
    "parse_grid",
    "parse_grids",
    "plan_sweep",
]

MAX_GRID_POINTS = 1_000_000
DEFAULT_GRID = "lr=lr_opt/100:1.2*lr_max:64:log"  # on a quadratic: from slow to unstable
_FORM = "expected NAME=START:STOP:NUM[:log|lin], e.g. 'lr=1e-4:1:64:log'"


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
        """The ``num`` grid points: ``start + (stop - start) i/(num-1)``, or geometric for
        ``log`` (evenly spaced logarithms, so any positive range is finite)."""
        what = f"--grid {self.text!r}"
        with blame(what):
            start = parse_value(self.start, names, "start")
            stop = parse_value(self.stop, names, "stop")
        if self.scale == "log" and (start <= 0 or stop <= 0):
            raise SpecError(f"{what}: a log grid needs start and stop > 0; got {start:g}, {stop:g}")
        if self.num == 1:
            return [start]
        fractions = [i / (self.num - 1) for i in range(self.num)]
        if self.scale == "log":
            low, high = math.log(start), math.log(stop)
            return [math.exp(low + f * (high - low)) for f in fractions]
        if not math.isfinite(stop - start):
            raise SpecError(f"{what}: stop - start overflows float64; use a log grid")
        return [start + f * (stop - start) for f in fractions]


def parse_grid(text: str) -> Grid:
    """Parse ``--grid`` text; a bad form names the expected ``name=start:stop:num[:log|lin]``."""
    raw = str(text).strip()
    name, eq, rest = raw.partition("=")
    name = name.strip()
    if not eq or not name.replace("_", "a").replace("[", "").replace("]", "").isalnum():
        raise SpecError(f"--grid {raw!r}: {_FORM}")
    parts = [p.strip() for p in rest.split(":")]
    if len(parts) not in (3, 4) or not all(parts):
        raise SpecError(f"--grid {raw!r}: {_FORM}")
    scale = parts[3].lower() if len(parts) == 4 else "lin"
    if scale not in ("log", "lin"):
        raise SpecError(f"--grid {raw!r}: scale must be log or lin; got {parts[3]!r}")
    try:
        num = int(parts[2])
    except ValueError:
        raise SpecError(
            f"--grid {raw!r}: NUM must be a positive integer; got {parts[2]!r}"
        ) from None
    if not 1 <= num <= MAX_GRID_POINTS:
        raise SpecError(f"--grid {raw!r}: NUM must be in [1, {MAX_GRID_POINTS}]; got {num}")
    return Grid(name, parts[0], parts[1], num, scale, raw)


def grid_field_kind(optimizer_name: str, name: str) -> str:
    """``"hyper"`` or ``"pair-part"`` (beta1/beta2 of betas) for a swept ``name``; a
    ``SpecError`` naming what can be swept otherwise."""
    from dataclasses import fields

    from .. import OPTIMIZERS

    kinds = {f.name: f.metadata.get("kind") for f in fields(OPTIMIZERS[optimizer_name])}
    if name in ("beta1", "beta2") and kinds.get("betas") == "pair":
        return "pair-part"
    if name not in kinds:
        allowed = [k for k, v in kinds.items() if v in ("hyper", "pair")]
        if "betas" in allowed:
            allowed += ["beta1", "beta2"]
        raise SpecError(
            f"--grid {name!r}: {optimizer_name} has no hyperparameter {name!r}; "
            f"allowed: {', '.join(a for a in allowed if a != 'betas')}"
        )
    if kinds[name] != "hyper":
        raise SpecError(
            f"--grid {name!r}: {name} cannot be swept (a fixed setting or a pair); "
            "sweep beta1 or beta2 for betas"
        )
    return "hyper"


def parse_grids(texts: Sequence[str]) -> list[Grid]:
    """One or two grids (none: the default, chosen by :func:`plan_sweep`), different names."""
    grids = [parse_grid(t) for t in texts]
    if len(grids) > 2:
        raise SpecError(f"--grid is given {len(grids)} times; one or two grids are allowed")
    if len(grids) == 2 and grids[0].name == grids[1].name:
        raise SpecError(f"--grid names {grids[0].name!r} twice; give two different names")
    return grids


@dataclass
class SweepPlan:
    """What a sweep runs: its grids, each grid's points, the hyperparameters held fixed."""

    grids: list[Grid]
    values: list[list[float]]
    fixed: dict[str, Any]


def plan_sweep(
    spec: OptimizerSpec, grids: Sequence[Grid], quantities: Mapping[str, float] | None
) -> SweepPlan:
    """The sweep of ``spec``'s optimizer over ``grids`` (default :data:`DEFAULT_GRID` on a
    quadratic); the spec's other values, and defaults, are held fixed."""
    grids = list(grids)
    if not grids:
        if quantities is None:
            raise SpecError(
                "--grid is required here (the default lr grid needs a quadratic's theory "
                "quantities); e.g. --grid 'lr=1e-4:1:64:log'"
            )
        grids = [parse_grid(DEFAULT_GRID)]
    for g in grids:
        grid_field_kind(spec.name, g.name)
    values = [g.values(quantities) for g in grids]
    swept = {g.name for g in grids}
    for key in spec.values:
        if key in swept:
            raise SpecError(f"--optimizer sets {key} and --grid sweeps it; drop one")
    base = resolve_optimizer(spec, quantities)
    fixed = {k: v for k, v in base.values.items() if k not in swept}
    return SweepPlan(grids, values, fixed)
