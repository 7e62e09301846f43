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
from ..expr import (
    check_real,
    drop_point_masses,
    parse_expression,
    symbols_for,
    variables_for,
)
from .base import Problem

__all__ = ["ExpressionProblem", "sigmoid_neuron", "rosenbrock", "double_well"]


class _Entries(NamedTuple):
    """Some entries of a ``(B, size)`` result: a function of the columns it reads giving
    the non-zero entries, and their positions; every other entry is identically zero."""

    function: object  # lambdified: (arguments[k] for k in inputs) -> len(where) entries
    inputs: tuple[int, ...]  # which arguments (columns of X, then of V) it reads
    where: tuple[int, ...]  # flat positions of the generated entries, increasing
    size: int


class _Generated(dict):
    """The generated functions of one backend, by kind (``"loss"``, ``"grad"``,
    ``"value_and_grad"``, ``"hessian"``, ``"hessian_diagonal"``, ``"hvp"``), each
    generated on first use: a run that never asks for Hessians never builds them."""

    def __init__(self, generate) -> None:
        super().__init__()
        self.generate = generate

    def __missing__(self, kind: str) -> _Entries:
        self[kind] = entries = self.generate(kind)
        return entries


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


def _evaluate(entries: _Entries, arguments: Sequence, like):
    """``(B, size)``: the generated entries in their places, zeros elsewhere."""
    if not entries.where:
        xp = namespace(like)
        return xp.zeros((like.shape[0], entries.size), dtype=like.dtype, device=array_device(like))
    values = _stack(entries.function(*(arguments[k] for k in entries.inputs)), like)
    if len(entries.where) == entries.size:
        return values
    xp = namespace(like)
    out = xp.zeros((like.shape[0], entries.size), dtype=like.dtype, device=array_device(like))
    out[:, list(entries.where)] = values
    return out


#: the functions the generated code runs on both backends (and what sympy's derivatives of
#: them give); Max, Min and their derivative Heaviside run on NumPy only (sympy prints
#: torch.heaviside with a float where torch wants a tensor)
FUNCTIONS_BOTH = (
    "exp",
    "log",
    "sin",
    "cos",
    "tan",
    "atan",
    "sinh",
    "cosh",
    "tanh",
    "Abs",
    "sign",
    "sigmoid",
    "softplus",
)
FUNCTIONS_NUMPY_ONLY = ("Max", "Min", "Heaviside")


def _short(expression, limit: int = 60) -> str:
    text = str(expression)
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


def _function_names(expression) -> set[str]:
    """Names of the functions applied in ``expression`` (``Max`` is no ``sympy.Function``)."""
    return {type(f).__name__ for f in expression.atoms(sympy.core.function.Application)}


def _refuse_unsupported(expression) -> None:
    """ValueError naming a function the generated code cannot evaluate (gamma, floor, ...)."""
    unknown = sorted(_function_names(expression) - set(FUNCTIONS_BOTH + FUNCTIONS_NUMPY_ONLY))
    if unknown:
        raise ValueError(
            f"expression {_short(expression)} uses {', '.join(unknown)}, which the generated "
            f"code does not support; supported: {', '.join(FUNCTIONS_BOTH)} "
            f"(and {', '.join(FUNCTIONS_NUMPY_ONLY)} on NumPy)"
        )


class ExpressionProblem(Problem):
    """A problem from a sympy expression or safe text (see :mod:`hessian_lab.expr`).

    ``variables``: names (``"w b"``, ``("w", "b")``) or sympy symbols, in column order.
    ``minimizer`` (d,) and ``min_value`` are optional known values for the engine's
    criteria.

    Derivatives are taken almost everywhere: a non-smooth function (``abs``) contributes
    its derivative off its kinks and no point mass (``d^2|x|/dx^2 = 0``, ``sign(0) = 0``;
    see :func:`hessian_lab.expr.drop_point_masses`). Only the non-zero Hessian entries
    are generated (``H_ij`` for the pairs of variables that meet in ``f``), so a problem
    with many variables of which few interact stays cheap; ``hessian_exprs`` builds the
    dense ``(d, d)`` sympy matrix on first use.

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
        self.variables = variables_for(variables)
        if isinstance(expression, str):
            expression = parse_expression(expression, self.variables)
        else:  # built with sympy directly: the same refusals as for text
            expression = check_real(sympy.sympify(expression, strict=True))
        unknown = expression.free_symbols - set(self.variables)
        if unknown:
            raise ValueError(
                f"expression {expression} has symbols {sorted(map(str, unknown))} that are not "
                f"variables; variables: {', '.join(map(str, self.variables))}"
            )
        _refuse_unsupported(expression)
        self.expression = expression
        self.name = name or str(expression)
        self.dim = len(self.variables)
        used = expression.free_symbols
        self.gradient_exprs = sympy.Matrix(  # (d, 1)
            [drop_point_masses(expression.diff(x)) if x in used else 0 for x in self.variables]
        )
        self._hessian_entries = self._second_derivatives()  # {(i, j): H_ij}, non-zero only
        for derivative in [*self.gradient_exprs, *self._hessian_entries.values()]:
            if derivative.has(sympy.Derivative):
                (part,) = list(derivative.atoms(sympy.Derivative))[:1]
                raise ValueError(
                    f"expression {_short(expression)} cannot be differentiated: sympy leaves "
                    f"{_short(part)} unevaluated (a step function such as floor has no "
                    f"derivative to generate)"
                )
        self.min_value = None if min_value is None else float(min_value)
        self.minimizer = None if minimizer is None else np.asarray(minimizer, dtype=float)

    def _second_derivatives(self) -> dict[tuple[int, int], sympy.Expr]:
        """``H_ij = d g_i / d x_j`` for the pairs where ``g_i`` depends on ``x_j``, ``i <= j``
        differentiated and mirrored (H is symmetric)."""
        column = {x: j for j, x in enumerate(self.variables)}
        entries = {}
        for i, g in enumerate(self.gradient_exprs):
            for j in sorted(column[x] for x in g.free_symbols if column[x] >= i):
                h = drop_point_masses(g.diff(self.variables[j]))
                if h != 0:
                    entries[i, j] = entries[j, i] = h
        return entries

    @property
    def hessian_exprs(self) -> sympy.Matrix:
        """The Hessian as a dense ``(d, d)`` sympy matrix."""
        return sympy.Matrix(
            self.dim, self.dim, lambda i, j: self._hessian_entries.get((i, j), sympy.S.Zero)
        )

    def __repr__(self) -> str:
        return f"ExpressionProblem({self.name!r}, variables={[str(v) for v in self.variables]})"

    def _targets(self, kind: str) -> tuple[dict[int, sympy.Expr], int]:
        """The non-zero entries of ``kind`` by flat position, and the row length.

        ``hvp`` entries are ``sum_j H_ij v_j`` in the direction variables ``_v0, ...``."""
        d = self.dim
        gradient = {i: g for i, g in enumerate(self.gradient_exprs) if g != 0}
        hessian = self._hessian_entries
        if kind == "loss":
            return {0: self.expression}, 1
        if kind == "grad":
            return gradient, d
        if kind == "value_and_grad":
            return {0: self.expression, **{i + 1: g for i, g in gradient.items()}}, d + 1
        if kind == "hessian":
            return {i * d + j: h for (i, j), h in hessian.items()}, d * d
        if kind == "hessian_diagonal":
            return {i: hessian[i, i] for i in range(d) if (i, i) in hessian}, d
        rows: dict[int, list] = {}
        for (i, j), h in hessian.items():
            rows.setdefault(i, []).append(h * sympy.Symbol(f"_v{j}", real=True))
        return {i: sympy.Add(*terms) for i, terms in rows.items()}, d

    def _generator(self, backend) -> _Generated:
        """The functions for ``backend``, generated on demand. The variables are renamed
        ``_x0, _x1, ...`` (the hvp's direction is ``_v0, ...``) first: a user's name never
        meets the generated code's own names (``pi``, ``e``, ``sign``, ``x0`` of the shared
        subexpressions, ...), as no user's name starts with ``_``. Each function reads only
        the columns its entries depend on."""
        modules = "numpy" if backend.name == "numpy" else "torch"
        numpy_only = sorted(_function_names(self.expression) & set(FUNCTIONS_NUMPY_ONLY))
        if modules == "torch" and numpy_only:
            raise ValueError(
                f"expression {_short(self.expression)} uses {', '.join(numpy_only)}, which "
                f"runs on the numpy backend only; use backend 'numpy'"
            )
        d = self.dim
        used = [i for i, x in enumerate(self.variables) if x in self.expression.free_symbols]
        # argument k of a generated function: column k of X (k < d), of V (k >= d)
        safe = {i: sympy.Symbol(f"_x{i}", real=True) for i in used}
        safe.update({d + j: sympy.Symbol(f"_v{j}", real=True) for j in used})
        position = {symbol: k for k, symbol in safe.items()}
        rename = {self.variables[i]: safe[i] for i in used}

        def generate(kind: str) -> _Entries:
            exprs, size = self._targets(kind)
            where = tuple(sorted(exprs))
            generated = [exprs[k].xreplace(rename) for k in where]
            read = set().union(*(e.free_symbols for e in generated))
            inputs = tuple(sorted(position[a] for a in read))
            function = sympy.lambdify(
                [safe[k] for k in inputs],
                generated,
                modules=modules,
                cse=True,
                docstring_limit=0,
            )
            return _Entries(function, inputs, where, size)

        return _Generated(generate)

    def _entries(self, X, kind: str) -> _Entries:
        return self.constants(X, self._generator)[kind]

    def _columns(self, X):
        if X.ndim != 2 or X.shape[1] != self.dim:
            raise ValueError(f"X must have shape (B, {self.dim}); got {tuple(X.shape)}")
        return [X[:, i] for i in range(self.dim)]

    def loss(self, X):
        return _evaluate(self._entries(X, "loss"), self._columns(X), X)[:, 0]

    def grad(self, X):
        return _evaluate(self._entries(X, "grad"), self._columns(X), X)

    def value_and_grad(self, X):
        """``(f(X), grad f(X))`` from one generated function (subexpressions shared)."""
        both = _evaluate(self._entries(X, "value_and_grad"), self._columns(X), X)
        return both[:, 0], both[:, 1:]

    def hvp(self, X, V):
        return _evaluate(self._entries(X, "hvp"), self._columns(X) + self._columns(V), X)

    def hessian(self, X):
        flat = _evaluate(self._entries(X, "hessian"), self._columns(X), X)  # (B, d*d)
        return flat.reshape((X.shape[0], self.dim, self.dim))

    def hessian_diagonal(self, X):
        return _evaluate(self._entries(X, "hessian_diagonal"), self._columns(X), X)


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
    from ..symbolic.functions import sigmoid  # overflow-safe: from (-300, -300) as well

    w, b = symbols_for(("w", "b"))
    loss = sum(
        (sigmoid(w * sympy.nsimplify(x) + b) - sympy.nsimplify(y)) ** 2
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
