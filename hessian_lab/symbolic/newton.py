"""Gradient, Hessian and the Newton-type steps of a symbolic objective.

For ``f`` in variables ``x = (x_1, ..., x_d)``:

- gradient ``g = grad f`` (a ``d x 1`` column), Hessian ``H = d^2 f / dx dx^T`` (``d x d``);
- Newton step ``-H^{-1} g`` (``None`` where ``H`` is singular for every ``x``);
- diagonal-Newton step ``-g_i / H_ii``;
- Hessian-power step ``-g_i / |H_ii|^k`` (AdaHessian's ``hessian_power``; ``k = 1`` is the
  diagonal-Newton step up to the sign of ``H_ii``, ``k = 0`` plain gradient descent).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sympy

from ..expr import parse_expression, symbols_for

__all__ = ["Derivation", "derive"]


SIMPLIFY_MAX_OPS = 40  # larger entries get a cheap rewrite instead of sympy.simplify


def _tidy(entry: sympy.Expr) -> sympy.Expr:
    """``simplify`` for small entries; cheap ``factor_terms`` for large ones (speed bound)."""
    if sympy.count_ops(entry) <= SIMPLIFY_MAX_OPS:
        return sympy.simplify(entry)
    return sympy.factor_terms(entry)


def _simplify(matrix: sympy.Matrix) -> sympy.Matrix:
    return matrix.applyfunc(_tidy)


def _det(matrix: sympy.Matrix) -> sympy.Expr:
    """Laplace expansion along the first row, with no simplification (sympy's own ``det``
    simplifies while it pivots, which is very slow on sigmoid-sized entries)."""
    n = matrix.rows
    if n == 1:
        return matrix[0, 0]
    return sympy.Add(
        *(
            (-1) ** j * matrix[0, j] * _det(matrix.minor_submatrix(0, j))
            for j in range(n)
            if matrix[0, j] != 0
        )
    )


def _is_identically_zero(entry: sympy.Expr, symbols, trials: int = 3) -> bool:
    """Zero as a function: exactly, or numerically at a few random rational points."""
    if entry == 0 or (sympy.count_ops(entry) <= SIMPLIFY_MAX_OPS and _tidy(entry) == 0):
        return True
    for trial in range(trials):
        point = {s: sympy.Rational(3 + 2 * i + trial, 7 + trial) for i, s in enumerate(symbols)}
        value = complex(entry.evalf(subs=point))
        if abs(value) > 1e-12:
            return False
    return True


def _newton_step(hessian: sympy.Matrix, gradient: sympy.Matrix, symbols) -> sympy.Matrix | None:
    """``-H^{-1} g`` by Cramer's rule: ``-det(H with column i := g) / det(H)``."""
    determinant = _det(hessian)
    if _is_identically_zero(determinant, symbols):
        return None
    columns = []
    for i in range(hessian.cols):
        replaced = hessian.copy()
        replaced[:, i] = gradient
        columns.append(-_det(replaced) / determinant)
    return _simplify(sympy.Matrix(columns))


@dataclass(frozen=True)
class Derivation:
    """The derivatives of ``expression`` in ``variables`` and the steps built from them."""

    expression: sympy.Expr
    variables: tuple[sympy.Symbol, ...]
    gradient: sympy.Matrix  # (d, 1)
    hessian: sympy.Matrix  # (d, d)
    newton_step: sympy.Matrix | None  # (d, 1); None when H is singular everywhere
    diagonal_newton_step: sympy.Matrix  # (d, 1)

    def hessian_power_step(self, k) -> sympy.Matrix:
        """``-g_i / |H_ii|^k`` as a ``(d, 1)`` column; ``k`` a number or sympy expression."""
        k = sympy.nsimplify(k) if isinstance(k, float) else sympy.S(k)
        column = [
            -self.gradient[i] / sympy.Abs(self.hessian[i, i]) ** k
            for i in range(len(self.variables))
        ]
        return _simplify(sympy.Matrix(column))

    def parts(self) -> dict[str, sympy.Basic | None]:
        return {
            "expression": self.expression,
            "gradient": self.gradient,
            "hessian": self.hessian,
            "newton_step": self.newton_step,
            "diagonal_newton_step": self.diagonal_newton_step,
        }

    def latex(self) -> dict[str, str]:
        """Each part as a LaTeX string (``"\\text{singular}"`` for a missing Newton step)."""
        return {
            name: sympy.latex(part) if part is not None else r"\text{singular}"
            for name, part in self.parts().items()
        }

    def pretty(self) -> dict[str, str]:
        """Each part pretty-printed in plain text (unicode off, for any terminal)."""
        return {
            name: sympy.pretty(part, use_unicode=False) if part is not None else "singular"
            for name, part in self.parts().items()
        }


def derive(
    expression: sympy.Expr | str, variables: str | Iterable[str | sympy.Symbol]
) -> Derivation:
    """Differentiate ``expression`` (sympy, or text parsed by :mod:`hessian_lab.expr`).

    >>> d = derive("x**2 + 3*y**2", "x y")
    >>> d.newton_step.T
    Matrix([[-x, -y]])
    """
    names = variables.replace(",", " ").split() if isinstance(variables, str) else variables
    symbols = tuple(v if isinstance(v, sympy.Symbol) else symbols_for([v])[0] for v in names)
    if isinstance(expression, str):
        expression = parse_expression(expression, symbols)
    else:
        # user symbols may lack real=True; identify them by name with ours
        expression = expression.subs(
            {s: v for s in expression.free_symbols for v in symbols if s.name == v.name}
        )
    x = sympy.Matrix(symbols)
    gradient = sympy.Matrix([expression]).jacobian(x).T
    hessian = gradient.jacobian(x)
    gradient, hessian = _simplify(gradient), _simplify(hessian)
    newton_step = _newton_step(hessian, gradient, symbols)
    diagonal = _simplify(sympy.Matrix([-gradient[i] / hessian[i, i] for i in range(len(symbols))]))
    return Derivation(expression, symbols, gradient, hessian, newton_step, diagonal)
