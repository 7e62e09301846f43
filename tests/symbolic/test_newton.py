"""Newton-type steps: symbolic results against numpy linear algebra and finite differences."""

from __future__ import annotations

import numpy as np
import pytest
import sympy

from hessian_lab.expr import parse_expression
from hessian_lab.symbolic.newton import derive

ROSENBROCK = "(1 - x)**2 + 100*(y - x**2)**2"


def _numeric(matrix, symbols):
    return sympy.lambdify(symbols, matrix, modules="numpy")


def _fd_grad_hessian(text, point, h=1e-4):
    """Central differences of the loss (numpy only): gradient and Hessian at ``point``."""
    x, y = sympy.symbols("x y", real=True)
    f = sympy.lambdify((x, y), parse_expression(text, (x, y)), modules="numpy")
    d = len(point)
    eye = np.eye(d) * h
    grad = np.array([(f(*(point + e)) - f(*(point - e))) / (2 * h) for e in eye])
    hess = np.array(
        [
            [
                (
                    f(*(point + a + b))
                    - f(*(point + a - b))
                    - f(*(point - a + b))
                    + f(*(point - a - b))
                )
                / (4 * h * h)
                for b in eye
            ]
            for a in eye
        ]
    )
    return grad, hess


def test_quadratic_newton_step_lands_on_the_minimizer():
    rng = np.random.default_rng(0)
    Q = rng.integers(-3, 4, size=(3, 3))
    A = Q @ Q.T + 3 * np.eye(3, dtype=int)
    b = rng.integers(-5, 6, size=3)
    xs = sympy.symbols("x0:3", real=True)
    xv = sympy.Matrix(xs)
    f = (xv.T * sympy.Matrix(A) * xv)[0] / 2 + (sympy.Matrix(b).T * xv)[0]
    d = derive(f, [str(s) for s in xs])
    point = rng.normal(size=3)
    step = np.asarray(_numeric(d.newton_step, d.variables)(*point), dtype=float).ravel()
    np.testing.assert_allclose(point + step, np.linalg.solve(A, -b), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(np.array(d.hessian, dtype=float), A)


@pytest.mark.parametrize("point", [np.array([0.3, -0.4]), np.array([-1.2, 1.0])])
def test_rosenbrock_steps_match_finite_differences(point):
    d = derive(ROSENBROCK, "x y")
    grad, hess = _fd_grad_hessian(ROSENBROCK, point)
    args = d.variables
    newton = np.asarray(_numeric(d.newton_step, args)(*point), dtype=float).ravel()
    np.testing.assert_allclose(newton, -np.linalg.solve(hess, grad), rtol=1e-5, atol=1e-7)
    diagonal = np.asarray(_numeric(d.diagonal_newton_step, args)(*point), dtype=float).ravel()
    np.testing.assert_allclose(diagonal, -grad / np.diag(hess), rtol=1e-5)
    for k in (0, 0.5, 1):
        power = np.asarray(_numeric(d.hessian_power_step(k), args)(*point), dtype=float).ravel()
        np.testing.assert_allclose(power, -grad / np.abs(np.diag(hess)) ** k, rtol=1e-5)


def test_sigmoid_sized_expression_is_fast_and_correct():
    text = "(sigmoid(0.5*x + y) - 0.2)**2 + (sigmoid(2.5*x + y) - 0.9)**2"
    d = derive(text, "x y")
    point = np.array([0.7, -0.3])
    grad, hess = _fd_grad_hessian(text, point)
    newton = np.asarray(_numeric(d.newton_step, d.variables)(*point), dtype=float).ravel()
    np.testing.assert_allclose(newton, -np.linalg.solve(hess, grad), rtol=1e-4)


def test_singular_hessian_has_no_newton_step_and_printing_works():
    d = derive("x + 2*y", "x y")
    assert d.newton_step is None
    d = derive("x**4/4 - x**2/2 + y**2", "x y")
    latex, pretty = d.latex(), d.pretty()
    assert set(latex) == set(pretty) >= {"gradient", "hessian", "newton_step"}
    assert all(isinstance(v, str) and v for v in [*latex.values(), *pretty.values()])
