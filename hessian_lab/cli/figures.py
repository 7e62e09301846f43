"""What the commands that draw share: figure titles with the formula typeset."""

from __future__ import annotations

from .common import problem_title


def figure_title(built) -> str:
    """The problem's name for a figure: a preset's name with its objective typeset
    (``himmelblau: (x^2 + y - 11)^2 + ...`` in mathtext, not Python's ``**``), or the
    typeset objective of ``--objective``; quadratics keep their spectrum."""
    name = problem_title(built)
    expression = getattr(built.problem, "expression", None)
    if expression is None:
        return name
    import sympy

    formula = f"$f = {sympy.latex(expression)}$"
    if built.config.get("kind") == "expression" and not built.config.get("name"):
        return formula
    return f"{name}: {formula}"
