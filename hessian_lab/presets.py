"""The named problems (``hessian-lab run --problem NAME``), each with the start it teaches from.

A :class:`Preset` says, once, what a named problem is and where a run of it starts by
default; the start is part of the lesson:

- ``steep-valley``: ``f = 1/2 (x-c)^T diag(1, 100) (x-c)``, ``c = (0.8, 0.6)``, from the
  origin: gradient descent zig-zags across the steep axis and crawls along the flat one;
- ``neuron``: one sigmoid neuron ``(w, b)`` fitted to two points, from ``(-2, -2)``, on the
  saturated plateau where the gradient nearly vanishes (first-order methods stall, a
  curvature-scaled step does not);
- ``rosenbrock``: ``(1-x)^2 + 100 (y-x^2)^2`` from the classic ``(-1.2, 1)``, across the
  curved valley floor;
- ``double-well``: ``(x^2-1)^2 + y^2/2`` from ``(-1.8, 0.5)``, on the outer wall of the left
  well (minima ``(+-1, 0)``, a saddle at the origin): a large step or momentum can carry
  a run over the saddle into the other well;
- ``himmelblau``: ``(x^2+y-11)^2 + (x+y^2-7)^2`` from ``(0, 0.5)``: four minima whose
  basins are curved regions of the plane; from this start heavy ball and AdaHessian end
  in different minima (the ``cross-init`` experiment's start).

Standard library only (``hessian-lab --help`` lists the names); :meth:`Preset.build`
imports the problem's module on first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any, NamedTuple

__all__ = ["PRESETS", "Preset", "preset"]


class Preset(NamedTuple):
    """A named problem: ``target`` is ``"module:function"`` under :mod:`hessian_lab.problems`."""

    name: str
    target: str
    x0: tuple[float, ...]  # the default start, shape (d,)
    summary: str

    def build(self) -> Any:
        """The problem (a fresh object; its module is imported here)."""
        module, _, function = self.target.partition(":")
        return getattr(import_module(f"hessian_lab.problems.{module}"), function)()


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            "steep-valley",
            "quadratic:steep_valley",
            (0.0, 0.0),
            "eigenvalues 1 and 100, minimizer (0.8, 0.6)",
        ),
        Preset(
            "neuron",
            "expression:sigmoid_neuron",
            (-2.0, -2.0),
            "one sigmoid neuron (w, b), two data points, from its saturated plateau",
        ),
        Preset("rosenbrock", "expression:rosenbrock", (-1.2, 1.0), "the curved valley"),
        Preset(
            "double-well",
            "expression:double_well",
            (-1.8, 0.5),
            "two minima (+-1, 0) and a saddle at the origin",
        ),
        Preset(
            "himmelblau",
            "himmelblau:himmelblau",
            (0.0, 0.5),
            "four minima with curved basins; from (0, 0.5) heavy ball and AdaHessian part ways",
        ),
    )
}


def preset(name: str) -> Preset:
    """The preset called ``name``; ``ValueError`` naming the allowed ones otherwise."""
    found = PRESETS.get(name)
    if found is None:
        raise ValueError(f"unknown problem {name!r}; allowed: {', '.join(PRESETS)}")
    return found
