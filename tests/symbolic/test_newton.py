"""Newton-type steps: symbolic results against numpy linear algebra and finite differences."""

from __future__ import annotations

import time

import numpy as np
import pytest
import sympy

from hessian_lab.expr import parse_expression
from hessian_lab.symbolic.newton import MAX_VARIABLES, DerivationTimeout, derive

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


# --------------------------------------------------------------------------- singularity
SINGULAR = ["(x + y)**2", "(0.1*x + 0.3*y)**2", "sin(x + y)**2 + cos(x + y)**2 + x"]
INVERTIBLE = ["x**2 + y**2", "0.3*x**2 + 0.7*x*y + y**2", "exp(x) + x*y + y**2"]


@pytest.mark.parametrize("scale", ["1e-7", "1e7"])
def test_singular_everywhere_is_decided_independently_of_the_scale(scale):
    """``c f`` has the verdict of ``f``: H of ``1e-7 (x^2 + y^2)`` is 2e-7 I, invertible."""
    for text in SINGULAR:
        assert derive(f"{scale}*({text})", "x y").newton_step is None, text
    for text in INVERTIBLE:
        d = derive(f"{scale}*({text})", "x y")
        assert d.newton_step is not None, text
        point = np.array([0.8, -0.3])
        grad, hess = _fd_grad_hessian(text, point)  # of f, not c f: the step is the same
        step = np.asarray(_numeric(d.newton_step, d.variables)(*point), dtype=float).ravel()
        np.testing.assert_allclose(step, -np.linalg.solve(hess, grad), rtol=1e-4, atol=1e-8)


# --------------------------------------------------------------------------- non-smooth
def test_abs_has_no_point_masses_and_a_note():
    d = derive("abs(x) + x*abs(y) + y**2", "x y")
    assert not d.hessian.has(sympy.DiracDelta) and not d.gradient.has(sympy.DiracDelta)
    x, y = d.variables
    H = d.hessian.subs({x: sympy.Rational(1, 3), y: sympy.Rational(-1, 2)})
    assert H == sympy.Matrix([[0, -1], [-1, 2]])
    assert any("almost everywhere" in note for note in d.notes)
    assert derive("x**2 + y**2", "x y").notes == ()


def test_a_zero_hessian_diagonal_gives_nan_and_a_note_not_zoo():
    d = derive("x + y**2", "x y")
    assert d.diagonal_newton_step[0] is sympy.nan and not d.diagonal_newton_step.has(sympy.zoo)
    assert any("undefined" in note for note in d.notes)


# --------------------------------------------------------------------------- bounds
def test_too_many_variables_are_refused_at_once():
    names = [f"a{i}" for i in range(MAX_VARIABLES + 3)]
    start = time.perf_counter()
    with pytest.raises(ValueError, match=f"at most {MAX_VARIABLES} variables"):
        derive(" + ".join(f"{n}**2" for n in names), names)
    assert time.perf_counter() - start < 5


def test_high_powers_are_tidied_cheaply():
    """``(x+y+1)^50 (x-y)^50`` ran for minutes in sympy.simplify; factor_terms is exact."""
    start = time.perf_counter()
    d = derive("(x + y + 1)**50*(x - y)**50", "x y")
    assert time.perf_counter() - start < 30
    x, y = d.variables
    point = {x: sympy.Rational(1, 3), y: sympy.Rational(1, 7)}
    f = (x + y + 1) ** 50 * (x - y) ** 50
    assert d.gradient[0].subs(point) == f.diff(x).subs(point)
    assert d.hessian[0, 1].subs(point) == f.diff(x, y).subs(point)


def test_timeout_stops_a_long_derivation_quickly():
    names = [f"a{i}" for i in range(MAX_VARIABLES)]
    text = " + ".join(f"a{i}**2*a{(i + 1) % len(names)}" for i in range(len(names)))
    start = time.perf_counter()
    with pytest.raises(DerivationTimeout, match="longer than 0.3 s"):
        derive(text + " + exp(a0*a1)", names, timeout=0.3)
    assert time.perf_counter() - start < 5


@pytest.mark.parametrize("k", [-0.5, 1.5, 1e9, float("nan"), float("inf")])
def test_hessian_power_outside_adahessian_range_is_refused(k):
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        derive("x**4 + y**2", "x y").hessian_power_step(k)
