"""Opt-in convergence on the classic non-quadratic functions, from their standard starts.

``--problems rosenbrock,beale``: the optimizer at the hyperparameters the user gave, run
from the start the test suites of torch-optimizer and pytorch-optimizer use, must come
within ``1e-3`` of the minimizer (Euclidean distance) within ``--budget`` steps; the
outcome says how many steps it took (or how close it came).

- ``rosenbrock``: ``(1 - x)^2 + 100 (y - x^2)^2`` from ``(-1.5, 2)``, minimizer ``(1, 1)``;
- ``beale``: ``(1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2`` from
  ``(1.5, 1.5)``, minimizer ``(3, 0.5)``.
"""

from __future__ import annotations

import numpy as np

from .invariants import FAIL, PASS, Kit, Outcome

__all__ = ["PROBLEMS", "problem_convergence"]

#: name -> (objective text, variables, start, minimizer)
PROBLEMS = {
    "rosenbrock": ("(1 - x)**2 + 100*(y - x**2)**2", "x,y", (-1.5, 2.0), (1.0, 1.0)),
    "beale": (
        "(1.5 - x + x*y)**2 + (2.25 - x + x*y**2)**2 + (2.625 - x + x*y**3)**2",
        "x,y",
        (1.5, 1.5),
        (3.0, 0.5),
    ),
}
#: the distance to the minimizer that counts as reached
REACH = 1e-3


def problem_convergence(kit: Kit, name: str) -> Outcome:
    """Steps from the standard start until within :data:`REACH` of the minimizer."""
    from ..engine import run
    from ..problems.expression import ExpressionProblem

    text, variables, start, minimizer = PROBLEMS[name]
    title = f"convergence on {name}"
    problem = ExpressionProblem(text, variables.split(","), min_value=0.0, minimizer=minimizer)
    result = run(
        problem,
        kit.build(2),
        np.array(start),
        criterion="distance",
        tol=REACH,
        max_steps=kit.budget,
        bound=1e6,
    )
    steps = int(result.steps[0])
    if result.status[0] == "converged":
        return Outcome(
            title, PASS, f"within {REACH:g} of {minimizer} in {steps} steps from {start}"
        )
    return Outcome(
        title,
        FAIL,
        f"{result.status[0]} after {steps} steps from {start}: distance "
        f"{result.final_criterion[0]:.3g} from {minimizer} (wanted {REACH:g})",
    )
