"""Inputs that used to give silent wrong answers, hangs or tracebacks: each is now right or
a one-line refusal naming the input."""

from __future__ import annotations

import time

import pytest

from hessian_lab.expr import ExpressionError, parse_expression
from hessian_lab.problems.expression import ExpressionProblem


@pytest.mark.parametrize(
    "text",
    ["x**2 + sqrt(-1)", "sqrt(-1)*x", "(-8)**(1/3)*x**2", "log(-1)*x**2", "x**2 + (-1)**0.5"],
)
def test_a_complex_constant_is_refused(text):
    with pytest.raises(ExpressionError, match="not real") as info:
        parse_expression(text, "x")
    assert "\n" not in str(info.value)


def test_a_complex_sympy_expression_is_refused_by_the_problem():
    import sympy

    x = sympy.Symbol("x", real=True)
    with pytest.raises(ValueError, match="not real"):
        ExpressionProblem(sympy.I * x**2, [x])


@pytest.mark.parametrize(
    "text", ["1e308*10*x**2", "exp(1000)*x**2", "x**2*1e200*1e200", "2**1000*2**100*x", "10**400*x"]
)
def test_a_constant_beyond_float64_is_refused_however_written(text):
    with pytest.raises(ExpressionError, match="not finite|too large|digits"):
        parse_expression(text, "x")


def test_large_but_finite_constants_and_ordinary_expressions_still_parse():
    expression = parse_expression("1e300*x", "x")
    assert float(expression.subs(expression.free_symbols.pop(), 1)) == 1e300
    parse_expression("exp(700)*x**2 + 2**1000*x", "x")
    parse_expression("(x**2)**3 + (3*x)**10 + (x + 1)**1000", "x")


def test_an_exponent_tower_is_refused_before_it_is_built():
    start = time.perf_counter()
    with pytest.raises(ExpressionError, match="exponent|digits"):
        parse_expression("(((3*x)**1000)**1000)**1000", "x")
    with pytest.raises(ExpressionError, match="exponent|digits"):
        parse_expression("((x*y)**100)**100", "x y")
    assert time.perf_counter() - start < 5


def _one_line_error(args, *fragments):
    from typer.testing import CliRunner

    from hessian_lab.cli import app

    result = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert result.stdout == ""
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.mark.parametrize("objective", ["sqrt(-1)*x", "(-8)**(1/3)*x**2", "log(-1)*x**2"])
def test_run_refuses_a_complex_objective_in_one_line(objective):
    _one_line_error(["run", "--objective", objective, "--vars", "x"], "not real", objective)


def test_derive_refuses_a_complex_objective_and_an_exponent_tower_at_once():
    _one_line_error(["derive", "I*x**2", "--vars", "x"], "'I'")
    _one_line_error(["derive", "2*sqrt(-1)*x", "--vars", "x"], "not real")
    start = time.perf_counter()
    _one_line_error(["derive", "(((3*x)**1000)**1000)**1000", "--vars", "x", "--timeout", "5"])
    assert time.perf_counter() - start < 5
