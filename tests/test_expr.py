"""Safe expressions: hostile text never runs and gives a one-line error; valid text round-trips."""

from __future__ import annotations

import builtins
import contextlib
import math
import os

import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

from hessian_lab.expr import (
    MAX_LENGTH,
    MAX_NODES,
    ExpressionError,
    evaluate,
    parse_expression,
    symbols_for,
)

VARIABLES = ("x", "y")

HOSTILE_PIECES = [
    "__import__('os')",
    "__import__('os').system('touch /tmp/pwned')",
    "().__class__",
    "().__class__.__bases__[0].__subclasses__()",
    "x.y",
    "x.real",
    "x[0]",
    "lambda: 1",
    "open('f')",
    "eval('1')",
    "exec('1')",
    "getattr(x, 'y')",
    "globals()",
    "9**9**9",
    "(999**999)**999",
    "2**2**2**2**2",
    "exp(x, y)",
    "exp(x=1)",
    "exp(*x)",
    "[x for x in y]",
    "{1: 2}",
    "'text'",
    "b'bytes'",
    "True",
    "1j",
    "None",
    "x if y else 1",
    "x and y",
    "x < y",
    "foo",
    "_x",
    "__builtins__",
    "x := 1",
    "f'{x}'",
    "x" * (MAX_LENGTH + 1),
    "(" * 120 + "x" + ")" * 120,
    "-" * 200 + "x",
]


@contextlib.contextmanager
def tripwires():
    """Record any opening, evaluating, executing, or import of os-like modules meanwhile."""
    calls: list[str] = []

    def trap(name):
        def tripped(*args, **kwargs):
            calls.append(name)
            raise AssertionError(f"{name} was called")

        return tripped

    real_import = builtins.__import__

    def guarded_import(name, *args, **kwargs):
        if name.split(".")[0] in {"os", "subprocess", "shutil", "socket"}:
            calls.append(f"import {name}")
        return real_import(name, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        for name in ("open", "eval", "exec"):  # not compile: ast.parse uses it (AST only)
            patch.setattr(builtins, name, trap(name))
        patch.setattr(builtins, "__import__", guarded_import)
        patch.setattr(os, "system", trap("os.system"))
        yield calls


def assert_rejected(text: str, **kwargs) -> ExpressionError:
    with pytest.raises(ExpressionError) as info:
        parse_expression(text, VARIABLES, **kwargs)
    message = str(info.value)
    assert message and "\n" not in message and "\r" not in message
    return info.value


hostile = st.builds(
    lambda pre, piece, post: pre + piece + post,
    st.sampled_from(["", "x+", "1*(", "-", "exp(", "y**"]),
    st.sampled_from(HOSTILE_PIECES),
    st.sampled_from(["", ")", "+1", "*y", "))"]),
)


@given(text=hostile)
def test_hostile_text_is_rejected_and_never_runs(text):
    parse_expression("exp(x) + 1", VARIABLES)  # let sympy do its own lazy imports first
    with tripwires() as calls:
        assert_rejected(text)
        with pytest.raises(ExpressionError):
            evaluate(text, {"x": 1.0, "y": 2.0})
    assert calls == []


@given(text=st.text(max_size=80))
def test_random_text_parses_or_gives_one_line_error(text):
    with tripwires() as calls:
        try:
            result = parse_expression(text, VARIABLES)
        except ExpressionError as error:
            assert "\n" not in str(error)
        else:
            assert isinstance(result, sympy.Expr)
    assert calls == []


def test_error_names_the_offending_part_and_what_is_allowed():
    message = str(assert_rejected("foo+1"))
    assert "'foo'" in message and "'foo+1'" in message and "x, y" in message
    assert "'x.real'" in str(assert_rejected("x.real + 1"))
    assert "exponent" in str(assert_rejected("2**5000"))


def test_allowed_names_and_constants():
    x, y = symbols_for("x y")
    assert x.is_real and y.is_real
    assert parse_expression("2*x + y", VARIABLES) == 2 * x + y
    assert parse_expression("sigmoid(x)", VARIABLES).rewrite(sympy.exp) == 1 / (1 + sympy.exp(-x))
    assert parse_expression("pi*e", VARIABLES) == sympy.pi * sympy.E
    assert parse_expression("lr_opt*x", VARIABLES, names=["lr_opt"]).free_symbols == {
        x,
        sympy.Symbol("lr_opt", real=True),
    }
    assert parse_expression("c*x", VARIABLES, names={"c": 3}) == 3 * x


def test_evaluate_scalars_and_flat_tuples():
    assert evaluate("0.175*lr_opt", {"lr_opt": 2.0}) == pytest.approx(0.35)
    assert evaluate("(0.9, 0.999)") == (0.9, 0.999)
    assert evaluate("2**10") == 1024.0
    for bad in ("((1, 2), 3)", "1/0", "log(-1)", "(-8)**(1/3)", "exp(1000)", "1e999", "x"):
        with pytest.raises(ExpressionError) as info:
            evaluate(bad, {})
        assert "\n" not in str(info.value)


def test_bad_variable_names_are_rejected():
    for bad in ("exp", "_x", "lambda", "1x", "x.y"):
        with pytest.raises(ExpressionError):
            symbols_for([bad])


# --------------------------------------------------------------------------- round trip
leaves = st.one_of(
    st.sampled_from(["x", "y", "pi", "e"]),
    st.integers(0, 9).map(str),
    st.floats(0.1, 9.9, allow_nan=False).map(lambda v: f"{v:.3f}"),
)


def _extend(children):
    return st.one_of(
        st.tuples(children, st.sampled_from(["+", "-", "*", "/"]), children).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        ),
        st.tuples(children, st.integers(-3, 3)).map(lambda t: f"({t[0]})**{t[1]}"),
        children.map(lambda c: f"-({c})"),
        st.tuples(
            st.sampled_from(["exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "abs"]),
            children,
        ).map(lambda t: f"{t[0]}({t[1]})"),
    )


valid_text = st.recursive(leaves, _extend, max_leaves=12)


def _numeric(expr: sympy.Expr, point: dict) -> complex:
    return complex(expr.evalf(subs=point))


@given(text=valid_text)
def test_valid_text_round_trips_through_sympy_printing(text):
    try:
        expr = parse_expression(text, VARIABLES)
    except ExpressionError as error:  # only for a genuinely undefined value, e.g. 1/0
        assert "undefined" in str(error) or "not real" in str(error)
        return
    again = parse_expression(str(expr), VARIABLES)
    if again != expr:
        x, y = symbols_for(VARIABLES)
        point = {x: sympy.Rational(3, 10), y: sympy.Rational(7, 10)}
        a, b = _numeric(expr, point), _numeric(again, point)
        assert (math.isnan(abs(a)) and math.isnan(abs(b))) or abs(a - b) <= 1e-9 * (1 + abs(a))


@given(text=valid_text)
def test_float_evaluation_matches_the_sympy_expression(text):
    values = {"x": 0.3, "y": 0.7}
    try:
        number = evaluate(text, values)
    except ExpressionError:
        return  # an intermediate is undefined, non-real or overflows in floats
    expr = parse_expression(text, VARIABLES)
    x, y = symbols_for(VARIABLES)
    exact = _numeric(expr, {x: sympy.Rational(3, 10), y: sympy.Rational(7, 10)})
    assert number == pytest.approx(exact.real, rel=1e-9, abs=1e-9)


# --------------------------------------------------------------------------- size and depth
def test_a_flat_sum_is_shallow_and_size_is_limited_apart():
    names = [f"x{i}" for i in range(52)]
    flat = parse_expression(" + ".join(names) + " - 1", names)
    assert flat == sum(symbols_for(names)) - 1
    assert parse_expression("*".join(["x"] * 60) + "/2", VARIABLES) == symbols_for("x")[0] ** 60 / 2
    assert parse_expression("(" * 60 + "x" + "+1)" * 60, VARIABLES) == symbols_for("x")[0] + 60
    message = str(assert_rejected("(x*(y+" * 30 + "1" + "))" * 30))  # alternating: 60 levels
    assert "nesting deeper than" in message
    big = str(assert_rejected("+".join(["x"] * (MAX_NODES // 2 + 1))))
    assert f"at most {MAX_NODES}" in big and "nesting" not in big


def test_dangerous_variable_names_are_refused_with_the_reason():
    for name, reason in (
        ("pi", "constant"),
        ("e", "constant"),
        ("ｅｘｐ", "function"),
        ("None", "keyword"),
        ("__class__", "'_'"),
    ):
        with pytest.raises(ExpressionError, match=reason):
            symbols_for([name])
