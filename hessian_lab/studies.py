"""Studies: the library calls behind the CLI's commands, each returning plain data.

Each study runs the engine (and the theory bridge where it applies) and returns a
dataclass; the CLI renders it, and experiments and notebooks can call it as well.

- :func:`stationary_start`: is a start point a stationary point that is not a minimizer?
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["stationary_start"]


def stationary_start(problem, x0: Sequence[float]) -> str | None:
    """Why ``x0`` is a trap, or None: a stationary point (``grad f(x0) = 0``) that is not a
    minimizer, where every gradient method takes zero steps and stays.

    "Not a minimizer" is decided from what the problem knows: its minima (``minima``,
    ``(m, d)``, or ``minimizer``), else its minimum value ``f*`` (``f(x0) > f*``), else the
    Hessian at ``x0`` (an eigenvalue ``< 0``: a saddle or a maximum). Undecided -> None.
    """
    X = np.asarray(x0, dtype=float)[None, :]
    value = float(problem.loss(X)[0])
    gradient = np.asarray(problem.grad(X), dtype=float)[0]
    if not (np.all(np.isfinite(gradient)) and np.isfinite(value)):
        return None
    if np.linalg.norm(gradient) > 1e-12 * (1.0 + abs(value)):
        return None
    scale = 1.0 + float(np.linalg.norm(X))
    minima = getattr(problem, "minima", None)
    if minima is None and getattr(problem, "minimizer", None) is not None:
        minima = np.asarray(problem.minimizer, dtype=float)[None, :]
    if minima is not None:
        distance = np.linalg.norm(np.asarray(minima, dtype=float) - X, axis=1).min()
        if distance <= 1e-9 * scale:
            return None
        why = f"the nearest minimizer is {distance:.3g} away"
    elif getattr(problem, "min_value", None) is not None:
        gap = value - float(problem.min_value)
        if gap <= 1e-12 * (1.0 + abs(value)):
            return None
        why = f"f(x0) is {gap:.3g} above the minimum"
    else:
        try:
            lowest = float(np.linalg.eigvalsh(np.asarray(problem.hessian(X), dtype=float)[0])[0])
        except (NotImplementedError, np.linalg.LinAlgError):
            return None
        if not lowest < 0:
            return None
        why = f"the Hessian there has the eigenvalue {lowest:.3g} < 0"
    shown = ", ".join(f"{v:g}" for v in X[0])
    return (
        f"x0 = ({shown}) is a stationary point (gradient 0) that is not a minimizer ({why}): "
        "gradient methods stay there"
    )
