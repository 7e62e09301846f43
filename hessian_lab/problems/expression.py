"""Any small symbolic objective, lambdified once per backend and evaluated batched.

``ExpressionProblem(f, variables)`` differentiates ``f`` with sympy once (gradient ``g``,
Hessian ``H``, Hessian-vector product ``sum_j H_ij v_j`` with symbolic ``v``), then
lambdifies each for NumPy and for torch. On a batch ``X`` of shape ``(B, d)`` the columns
``X[:, i]`` are the variables:

- ``loss(X) -> (B,)``, ``grad(X) -> (B, d)``, ``hessian(X) -> (B, d, d)``,
  ``hessian_diagonal(X) -> (B, d)``, ``hvp(X, V) -> (B, d)``; constant entries are
  broadcast to ``(B,)``.

No sympy runs on the hot path: the lambdified functions are cached per backend, dtype and
device through :meth:`Problem.constants`.

Presets: :func:`sigmoid_neuron`, :func:`rosenbrock`, :func:`double_well`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

import numpy as np
import sympy
from array_api_compat import device as array_device

from ..backend import namespace
from ..expr import parse_expression, symbols_for
from .base import Problem

__all__ = ["ExpressionProblem", "sigmoid_neuron", "rosenbrock", "double_well"]


class _Compiled(NamedTuple):
    """Lambdified functions of one backend; each takes the d columns (and v's for hvp)."""

    loss: object
    grad: object
    value_and_grad: object  # [f, df/dx_1, ..., df/dx_d], common subexpressions shared
    hessian: object
    hessian_diagonal: object
    hvp: object


def _column(entry, like):
    """One generated entry as a ``(B,)`` array: constant entries come back as scalars."""
    B = like.shape[0]
    if getattr(entry, "shape", None) == (B,):
        return entry
    xp = namespace(like)
    return xp.full((B,), float(entry), dtype=like.dtype, device=array_device(like))


def _stack(entries: Sequence, like, axis: int = -1):
    """Stack per-entry results (arrays of shape (B,), or scalars for constant entries)."""
    return namespace(like).stack([_column(e, like) for e in entries], axis=axis)


class ExpressionProblem(Problem):
    """A problem from a sympy expression or safe text (see :mod:`hessian_lab.expr`).

    ``variables``: names (``"w b"``, ``("w", "b")``) or sympy symbols, in column order.
    ``minimizer`` (d,) and ``min_value`` are optional known values for the engine's
    criteria.

    >>> p = ExpressionProblem("(x - 1)**2 + 2*y**2", "x y")
    >>> p.grad(np.array([[0.0, 1.0]]))
    array([[-2.,  4.]])
    """

    def __init__(
        self,
        expression: sympy.Expr | str,
        variables: str | Iterable[str | sympy.Symbol],
        min_value: float | None = None,
        minimizer: Sequence[float] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__()
        names = variables.replace(",", " ").split() if isinstance(variables, str) else variables
        self.variables = tuple(
            v if isinstance(v, sympy.Symbol) else symbols_for([v])[0] for v in names
        )
        if isinstance(expression, str):
            expression = parse_expression(expression, self.variables)
        unknown = expression.free_symbols - set(self.variables)
        if unknown:
            raise ValueError(
                f"expression {expression} has symbols {sorted(map(str, unknown))} that are not "
                f"variables; variables: {', '.join(map(str, self.variables))}"
            )
        self.expression = expression
        self.name = name or str(expression)
        self.dim = len(self.variables)
        x = sympy.Matrix(self.variables)
        self.gradient_exprs = sympy.Matrix([expression]).jacobian(x).T  # (d, 1)
        self.hessian_exprs = self.gradient_exprs.jacobian(x)  # (d, d)
        self._v = sympy.symbols(f"v0:{self.dim}", real=True)
        self.hvp_exprs = self.hessian_exprs * sympy.Matrix(self._v)  # (d, 1)
        self.min_value = None if min_value is None else float(min_value)
        self.minimizer = None if minimizer is None else np.asarray(minimizer, dtype=float)

    def __repr__(self) -> str:
        return f"ExpressionProblem({self.name!r}, variables={[str(v) for v in self.variables]})"

    def _compile(self, backend) -> _Compiled:
        modules = "numpy" if backend.name == "numpy" else "torch"
        args = self.variables

        def lam(args_, exprs):
            return sympy.lambdify(args_, exprs, modules=modules, cse=True, docstring_limit=0)

        return _Compiled(
            loss=lam(args, [self.expression]),
            grad=lam(args, list(self.gradient_exprs)),
            value_and_grad=lam(args, [self.expression, *self.gradient_exprs]),
            hessian=lam(args, list(self.hessian_exprs)),
            hessian_diagonal=lam(args, list(self.hessian_exprs.diagonal())),
            hvp=lam(args + self._v, list(self.hvp_exprs)),
        )

    def _columns(self, X):
        if X.ndim != 2 or X.shape[1] != self.dim:
            raise ValueError(f"X must have shape (B, {self.dim}); got {tuple(X.shape)}")
        return [X[:, i] for i in range(self.dim)]

    def loss(self, X):
        compiled = self.constants(X, self._compile)
        return _stack(compiled.loss(*self._columns(X)), X)[:, 0]

    def grad(self, X):
        compiled = self.constants(X, self._compile)
        return _stack(compiled.grad(*self._columns(X)), X)

    def value_and_grad(self, X):
        """``(f(X), grad f(X))`` from one generated function (subexpressions shared)."""
        compiled = self.constants(X, self._compile)
        f, *grad = compiled.value_and_grad(*self._columns(X))
        return _column(f, X), _stack(grad, X)

    def hvp(self, X, V):
        compiled = self.constants(X, self._compile)
        return _stack(compiled.hvp(*self._columns(X), *self._columns(V)), X)

    def hessian(self, X):
        compiled = self.constants(X, self._compile)
        flat = _stack(compiled.hessian(*self._columns(X)), X)  # (B, d*d), row-major
        return flat.reshape((X.shape[0], self.dim, self.dim))

    def hessian_diagonal(self, X):
        compiled = self.constants(X, self._compile)
        return _stack(compiled.hessian_diagonal(*self._columns(X)), X)


# --------------------------------------------------------------------------- presets
def sigmoid_neuron(
    inputs: Sequence[float] = (0.5, 2.5), targets: Sequence[float] = (0.2, 0.9)
) -> ExpressionProblem:
    """One sigmoid neuron fitted by least squares, in ``(w, b)``:

    ``f(w, b) = sum_n (sigmoid(w x_n + b) - y_n)^2`` (a plain *sum* of squared errors, no
    1/2 and no mean). With two points and targets in (0, 1) the fit is exact, so
    ``min f = 0`` at the ``(w, b)`` solving ``w x_n + b = logit(y_n)``.
    """
    if len(inputs) != len(targets) or not inputs:
        raise ValueError("inputs and targets must be non-empty and of equal length")
    w, b = symbols_for(("w", "b"))
    loss = sum(
        (1 / (1 + sympy.exp(-(w * sympy.nsimplify(x) + b))) - sympy.nsimplify(y)) ** 2
        for x, y in zip(inputs, targets, strict=True)
    )
    minimizer = None
    min_value = None
    if len(inputs) == 2 and inputs[0] != inputs[1] and all(0 < y < 1 for y in targets):
        logits = [np.log(y / (1 - y)) for y in targets]
        w_star = (logits[1] - logits[0]) / (inputs[1] - inputs[0])
        minimizer = (w_star, logits[0] - w_star * inputs[0])
        min_value = 0.0
    return ExpressionProblem(
        loss, (w, b), min_value=min_value, minimizer=minimizer, name="sigmoid_neuron"
    )


def rosenbrock(a: float = 1.0, b: float = 100.0) -> ExpressionProblem:
    """``f(x, y) = (a - x)^2 + b (y - x^2)^2``; minimum 0 at ``(a, a^2)``."""
    x, y = symbols_for(("x", "y"))
    a_, b_ = sympy.nsimplify(a), sympy.nsimplify(b)
    return ExpressionProblem(
        (a_ - x) ** 2 + b_ * (y - x**2) ** 2,
        (x, y),
        min_value=0.0,
        minimizer=(a, a * a),
        name="rosenbrock",
    )


def double_well(depth: float = 1.0) -> ExpressionProblem:
    """``f(x, y) = depth (x^2 - 1)^2 + y^2 / 2``: minima 0 at ``(+-1, 0)``, a saddle at 0.

    ``minimizer`` is reported as ``(1, 0)``, the well reached from ``x > 0``; ``minima``
    lists both wells, ``(2, 2)``.
    """
    x, y = symbols_for(("x", "y"))
    problem = ExpressionProblem(
        sympy.nsimplify(depth) * (x**2 - 1) ** 2 + y**2 / 2,
        (x, y),
        min_value=0.0,
        minimizer=(1.0, 0.0),
        name="double_well",
    )
    problem.minima = np.array([[-1.0, 0.0], [1.0, 0.0]])  # both wells, (m, d)
    return problem
