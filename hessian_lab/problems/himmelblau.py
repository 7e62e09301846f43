"""Himmelblau's function: four minima whose basins depend on both coordinates.

    f(x, y) = (x^2 + y - 11)^2 + (x + y^2 - 7)^2          (Himmelblau 1972)

``f >= 0`` with four minima of value 0 (one at exactly ``(3, 2)``), a local maximum near
``(-0.27, -0.92)`` and four saddles. Unlike a separable double well, where a start's
basin is decided by the sign of ``x`` alone, the basins here are curved regions of the
plane: a basin map shows which optimizer crosses which boundary.
"""

from __future__ import annotations

import numpy as np

from ..expr import symbols_for
from .expression import ExpressionProblem

__all__ = ["himmelblau", "HIMMELBLAU_MINIMA"]

#: The four minima to about 1e-6 (polished to machine precision by :func:`himmelblau`).
HIMMELBLAU_MINIMA = (
    (3.0, 2.0),
    (-2.805118, 3.131312),
    (-3.779310, -3.283186),
    (3.584428, -1.848126),
)


def _polish(problem: ExpressionProblem, points: np.ndarray, steps: int = 8) -> np.ndarray:
    """A few Newton steps ``x <- x - H(x)^{-1} grad f(x)`` on every row of ``(m, 2)``."""
    X = np.array(points, dtype=float)
    for _ in range(steps):
        X = X - np.linalg.solve(problem.hessian(X), problem.grad(X)[..., None])[..., 0]
    return X


def himmelblau() -> ExpressionProblem:
    """Himmelblau's function in ``(x, y)``; ``minima`` ``(4, 2)`` lists every minimum and
    ``minimizer`` is ``(3, 2)``, the one reached from the positive quadrant."""
    x, y = symbols_for(("x", "y"))
    problem = ExpressionProblem(
        (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2,
        (x, y),
        min_value=0.0,
        minimizer=(3.0, 2.0),
        name="himmelblau",
    )
    problem.minima = _polish(problem, np.array(HIMMELBLAU_MINIMA))
    return problem
