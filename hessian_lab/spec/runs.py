"""A run's start and stopping rule as typed: ``x0="0,0"``, ``tol="1e-8"``, ``criterion``...

What ``hessian-lab run`` and ``sweep`` (and their config files) share: the start defaults
to the problem's own (a preset's start, the origin for an objective), the divergence
bound to 5 on the steep valley (its lesson's box) and 1e12 elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .problems import BuiltProblem
from .text import as_choice, as_float, as_int, parse_list

__all__ = ["MAX_STEPS", "RunSettings", "run_settings"]

MAX_STEPS = 10**9
STEEP_VALLEY_BOUND = 5.0
CRITERIA = ("loss", "distance", "grad")


@dataclass
class RunSettings:
    """A run's start and stopping rule, checked."""

    x0: list[float]
    criterion: str
    tol: float
    max_steps: int
    bound: float
    backend: Any  # hessian_lab.backend.Backend

    def engine_kwargs(self) -> dict[str, Any]:
        """The keyword arguments of :func:`hessian_lab.engine.run` (and the studies)."""
        return dict(
            criterion=self.criterion,
            tol=self.tol,
            max_steps=self.max_steps,
            bound=self.bound,
            backend=self.backend,
        )

    def describe(self) -> dict[str, Any]:
        """The JSON keys every run-like command reports."""
        return {
            "x0": self.x0,
            "criterion": self.criterion,
            "tol": self.tol,
            "max_steps": self.max_steps,
            "bound": self.bound,
            "backend": self.backend.name,
            "device": self.backend.device,
            "dtype": self.backend.dtype,
        }


def run_settings(
    built: BuiltProblem,
    x0: Any = None,
    criterion: str = "loss",
    tol: Any = 1e-6,
    max_steps: Any = 10_000,
    bound: Any = None,
    backend: str = "auto",
    dtype: str = "float64",
) -> RunSettings:
    """:class:`RunSettings` for ``built`` from typed values (text or numbers)."""
    from ..backend import get_backend

    start = built.x0 if x0 is None else parse_list(x0, "--x0", built.problem.dim)
    default_bound = STEEP_VALLEY_BOUND if built.config.get("name") == "steep-valley" else 1e12
    return RunSettings(
        start,
        as_choice(criterion, "--criterion", CRITERIA),
        as_float(tol, "--tol", positive=True),
        as_int(max_steps, "--max-steps", minimum=1, maximum=MAX_STEPS),
        as_float(default_bound if bound is None else bound, "--bound", positive=True),
        get_backend(as_choice(backend, "--backend", ("auto", "numpy", "torch")), str(dtype)),
    )
