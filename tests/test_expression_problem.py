"""ExpressionProblem: grad/hvp vs finite differences and direct formulas, NumPy and torch."""

from __future__ import annotations

import keyword
import time
import unicodedata

import numpy as np
import pytest
import sympy
import torch
from helpers import all_optimizer_classes
from hypothesis import given, settings
from hypothesis import strategies as st

from hessian_lab.backend import to_numpy
from hessian_lab.expr import CONSTANTS, FUNCTIONS, MAX_VARIABLES, ExpressionError, variable_name
from hessian_lab.problems.expression import (
    ExpressionProblem,
    double_well,
    rosenbrock,
    sigmoid_neuron,
)

PROBLEMS = {
    "rosenbrock": rosenbrock,
    "double_well": double_well,
    "sigmoid_neuron": sigmoid_neuron,
    "text": lambda: ExpressionProblem("exp(x/3) + sin(x*y) + y**4/4 + 2", "x y"),
}


def central_difference(fn, X, h=1e-5):
    """``d fn / dX`` row-wise: output ``(B, d)`` (loss) or ``(B, d, d)`` columns (grad)."""
    columns = []
    for i in range(X.shape[1]):
        E = np.zeros_like(X)
        E[:, i] = h
        columns.append((fn(X + E) - fn(X - E)) / (2 * h))
    return np.stack(columns, axis=-1)


@pytest.mark.parametrize("name", PROBLEMS)
def test_grad_and_hvp_agree_with_finite_differences(name):
    problem = PROBLEMS[name]()
    rng = np.random.default_rng(1)
    X = rng.uniform(-1.5, 1.5, size=(6, 2))
    V = rng.normal(size=(6, 2))
    np.testing.assert_allclose(
        problem.grad(X), central_difference(problem.loss, X), rtol=1e-6, atol=1e-6
    )
    H_fd = central_difference(problem.grad, X)  # (B, d, d): H_fd[b, i, j] = d g_i / d x_j
    np.testing.assert_allclose(problem.hessian(X), H_fd, rtol=1e-6, atol=1e-5)
    np.testing.assert_allclose(
        problem.hvp(X, V), np.einsum("bij,bj->bi", H_fd, V), rtol=1e-6, atol=1e-5
    )
    np.testing.assert_allclose(
        problem.hessian_diagonal(X), np.diagonal(H_fd, axis1=1, axis2=2), rtol=1e-6, atol=1e-5
    )
    assert problem.loss(X).shape == (6,)


def test_quadratic_agrees_with_direct_numpy_formulas():
    A = np.array([[3.0, 1.0, 0.5], [1.0, 2.0, 0.0], [0.5, 0.0, 1.0]])
    c = np.array([1.0, -2.0, 0.5])
    names = ("a", "b", "c3")
    terms = [
        f"{A[i, j]}*({names[i]} - ({c[i]}))*({names[j]} - ({c[j]}))"
        for i in range(3)
        for j in range(3)
    ]
    problem = ExpressionProblem(
        "0.5*(" + " + ".join(terms) + ") + 7", names, min_value=7.0, minimizer=c
    )
    rng = np.random.default_rng(2)
    X = rng.normal(size=(5, 3))
    V = rng.normal(size=(5, 3))
    E = X - c
    np.testing.assert_allclose(
        problem.loss(X), 0.5 * np.einsum("bi,ij,bj->b", E, A, E) + 7, rtol=1e-13
    )
    np.testing.assert_allclose(problem.grad(X), E @ A, rtol=1e-13)
    np.testing.assert_allclose(problem.hvp(X, V), V @ A, rtol=1e-13)
    np.testing.assert_allclose(problem.hessian(X), np.broadcast_to(A, (5, 3, 3)), rtol=1e-13)
    np.testing.assert_allclose(problem.grad(c[None, :]), 0, atol=1e-14)


@pytest.mark.parametrize("name", PROBLEMS)
def test_numpy_and_torch_backends_agree(name):
    problem = PROBLEMS[name]()
    rng = np.random.default_rng(3)
    X = rng.uniform(-1, 1, size=(4, 2))
    V = rng.normal(size=(4, 2))
    Xt, Vt = torch.tensor(X, dtype=torch.float64), torch.tensor(V, dtype=torch.float64)
    for method, args, targs in (
        ("loss", (X,), (Xt,)),
        ("grad", (X,), (Xt,)),
        ("hessian", (X,), (Xt,)),
        ("hvp", (X, V), (Xt, Vt)),
    ):
        got = getattr(problem, method)(*targs)
        assert isinstance(got, torch.Tensor) and got.dtype == torch.float64
        np.testing.assert_allclose(
            got.numpy(), getattr(problem, method)(*args), rtol=1e-13, atol=1e-14
        )


def test_constant_entries_broadcast_and_float32_works():
    problem = ExpressionProblem("x**2 + 3*y", "x y")
    X = np.zeros((3, 2))
    np.testing.assert_array_equal(problem.grad(X), [[0.0, 3.0]] * 3)
    np.testing.assert_array_equal(
        problem.hessian(X), np.broadcast_to([[2.0, 0.0], [0.0, 0.0]], (3, 2, 2))
    )
    Xt = torch.zeros(3, 2, dtype=torch.float32)
    assert problem.hvp(Xt, torch.ones(3, 2)).dtype == torch.float32


def test_presets_know_their_minimizers():
    for problem in (sigmoid_neuron(), rosenbrock(), double_well()):
        x_star = problem.minimizer[None, :]
        assert problem.loss(x_star)[0] == pytest.approx(problem.min_value, abs=1e-12)
        np.testing.assert_allclose(problem.grad(x_star), 0, atol=1e-9)


def test_bad_inputs_are_rejected():
    with pytest.raises(ValueError, match="not variables"):
        ExpressionProblem(ExpressionProblem("x", "x").expression + 1, "y")
    with pytest.raises(ValueError):
        ExpressionProblem("x + z", "x y")
    with pytest.raises(ValueError, match="shape"):
        rosenbrock().loss(np.zeros((2, 3)))


def test_typed_quadratic_equals_the_quadratic_class_and_runs_identically(backend):
    """A rotated quadratic typed as text gives Quadratic's loss, grad, hvp and GD run."""
    import hessian_lab as hl

    quadratic = hl.Quadratic([1.0, 4.0], rotation="random", center=[0.3, -0.2], seed=5)
    H, c = quadratic.hessian_matrix.tolist(), quadratic.center.tolist()
    text = (
        f"({H[0][0]!r}*(x - {c[0]!r})**2 + 2*{H[0][1]!r}*(x - {c[0]!r})*(y - {c[1]!r})"
        f" + {H[1][1]!r}*(y - {c[1]!r})**2) / 2"
    )
    typed = ExpressionProblem(text, ["x", "y"], min_value=0.0, minimizer=c)
    X = backend.asarray(np.random.default_rng(1).standard_normal((7, 2)))
    V = backend.asarray(np.random.default_rng(2).standard_normal((7, 2)))
    for ours, theirs in [
        (typed.loss(X), quadratic.loss(X)),
        (typed.grad(X), quadratic.grad(X)),
        (typed.hvp(X, V), quadratic.hvp(X, V)),
        (typed.hessian(X), quadratic.hessian(X)),
    ]:
        np.testing.assert_allclose(to_numpy(ours), to_numpy(theirs), rtol=1e-12, atol=1e-12)
    typed = ExpressionProblem(text, ["x", "y"], min_value=0.0, minimizer=quadratic.center)
    run_typed = hl.run(typed, hl.GD(lr=0.3), [0.0, 0.0], tol=1e-10, backend=backend)
    run_quad = hl.run(quadratic, hl.GD(lr=0.3), [0.0, 0.0], tol=1e-10, backend=backend)
    assert run_typed.steps[0] == run_quad.steps[0] > 0


def test_base_problem_builds_hessians_from_hvps(backend):
    """A problem that only knows loss, grad and hvp still gets dense Hessians (Newton)."""
    from hessian_lab.problems.base import Problem

    A = np.array([[2.0, 0.5, 0.0], [0.5, 3.0, -1.0], [0.0, -1.0, 4.0]])

    class HvpOnly(Problem):
        dim = 3

        def hvp(self, X, V):
            return V @ backend.asarray(A)

    X = backend.asarray(np.ones((2, 3)))
    np.testing.assert_array_equal(to_numpy(HvpOnly().hessian(X)), np.stack([A, A]))
    np.testing.assert_array_equal(
        to_numpy(HvpOnly().hessian_diagonal(X)), np.stack([np.diag(A)] * 2)
    )


@pytest.mark.parametrize("backend", ["numpy", "torch"])
@pytest.mark.parametrize(
    "make",
    [*PROBLEMS.values(), lambda: ExpressionProblem("3*x + y**2", "x y")],
    ids=[*PROBLEMS, "constant-entry"],
)
def test_value_and_grad_is_loss_and_grad_from_one_generated_function(make, backend):
    """The joint function (shared subexpressions) gives the separate loss and gradient,
    constant gradient entries (3 for ``3*x``) spread over the batch."""
    problem = make()
    X = np.random.default_rng(4).uniform(-1.5, 1.5, size=(5, 2))
    if backend == "torch":
        X = torch.as_tensor(X)
    f, G = problem.value_and_grad(X)
    assert tuple(f.shape) == (5,) and tuple(G.shape) == (5, 2)
    np.testing.assert_allclose(to_numpy(f), to_numpy(problem.loss(X)), rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(to_numpy(G), to_numpy(problem.grad(X)), rtol=1e-14, atol=1e-15)


# --------------------------------------------------------------------------- hostile names
def _nfkc(name: str) -> str:
    return unicodedata.normalize("NFKC", name)


#: names that collide with something: the whitelisted functions and constants, names of
#: the generated code's namespaces (NumPy, torch, math, sympy's printers and lambdify's own
#: argument, subexpression and direction names), Python keywords and builtins, dunder
#: names, and letters that Python folds (NFKC) onto other names.
DANGEROUS_NAMES = sorted(
    {*FUNCTIONS, *CONSTANTS, *keyword.kwlist, *keyword.softkwlist}
    | {"numpy", "torch", "math", "mpmath", "builtins", "sympy", "np", "scipy"}
    | {"x0", "x1", "x2", "v0", "v1", "_x0", "_v0", "_Dummy_1", "Dummy", "cse", "funcname"}
    | {"sign", "select", "where", "inf", "nan", "Inf", "NaN", "zoo", "oo", "I", "S", "N", "Q"}
    | {"O", "Float", "Integer", "Rational", "Symbol", "DiracDelta", "Heaviside", "Max", "Min"}
    | {"array", "tensor", "float64", "dtype", "device", "amax", "amin", "hypot", "exp2"}
    | {"log1p", "expm1", "asin", "acos", "erf", "gamma", "beta", "re", "im", "floor", "pow"}
    | {"sum", "min", "max", "float", "int", "print", "exec", "eval", "open", "len", "range"}
    | {"__import__", "__class__", "__builtins__", "__name__", "_", "__"}
    | {"ｘ", "ｙ", "ｅ", "ｐｉ", "ｅｘｐ", "ℯ", "𝐱", "𝑒", "ﬁ", "Ⅸ", "ｖ０", "ｓｉｇｎ", "ａｂｓ"}
)


def _refused(name: str) -> bool:
    """The rule, stated apart from the code: what text would read as something else."""
    normal = _nfkc(name)
    return (
        not normal.isidentifier()
        or keyword.iskeyword(normal)
        or normal.startswith("_")
        or normal in FUNCTIONS
        or normal in CONSTANTS
        or normal == "y"  # the other variable
    )


@pytest.mark.parametrize("name", DANGEROUS_NAMES)
def test_every_colliding_name_is_refused_exactly_when_text_would_misread_it(name):
    if _refused(name) and _nfkc(name) != "y":
        with pytest.raises(ExpressionError) as info:
            variable_name(name)
        assert "\n" not in str(info.value) and repr(name) in str(info.value)
    else:
        assert variable_name(name) == _nfkc(name)


@settings(max_examples=20)  # each example generates code for two backends
@given(name=st.sampled_from(DANGEROUS_NAMES), first=st.booleans())
def test_any_variable_name_gives_the_true_objective_or_a_one_line_refusal(name, first):
    """A name either is refused with one line, or the problem is exactly the typed one on
    both backends: loss and gradient equal NumPy formulas written out by hand."""
    names = [name, "y"] if first else ["y", name]
    text = f"({name} - 0.5)**2*exp(y) + pi*{name}*y + e*y**2 + abs({name})"
    try:
        problem = ExpressionProblem(text, names)
    except ExpressionError as error:
        assert _refused(name), str(error)
        assert "\n" not in str(error)
        return
    assert not _refused(name)
    rng = np.random.default_rng(5)
    X = rng.uniform(-1.5, 1.5, size=(6, 2))
    a, b = (X[:, 0], X[:, 1]) if first else (X[:, 1], X[:, 0])
    loss = (a - 0.5) ** 2 * np.exp(b) + np.pi * a * b + np.e * b**2 + np.abs(a)
    da = 2 * (a - 0.5) * np.exp(b) + np.pi * b + np.sign(a)
    db = (a - 0.5) ** 2 * np.exp(b) + np.pi * a + 2 * np.e * b
    grad = np.stack([da, db] if first else [db, da], axis=1)
    for batch in (X, torch.as_tensor(X)):
        np.testing.assert_allclose(to_numpy(problem.loss(batch)), loss, rtol=1e-13)
        np.testing.assert_allclose(to_numpy(problem.grad(batch)), grad, rtol=1e-13)


def test_nfkc_names_read_as_python_reads_them():
    problem = ExpressionProblem("ｘ**2 + 3*x", ["ｘ"])  # one variable: x, as Python reads it
    assert [str(v) for v in problem.variables] == ["x"]
    np.testing.assert_allclose(problem.loss(np.array([[2.0]])), [10.0])
    with pytest.raises(ExpressionError, match="twice"):
        ExpressionProblem("ｘ + x", ["ｘ", "x"])


# --------------------------------------------------------------------------- non-smooth
def test_abs_is_differentiated_almost_everywhere_on_both_backends():
    problem = ExpressionProblem("abs(x) + x*abs(y) + y**2", "x y")
    assert not any(e.has(sympy.DiracDelta) for e in problem.hessian_exprs)
    X = np.array([[0.7, -0.4], [-1.2, 0.3], [0.5, 0.0]])
    x, y = X[:, 0], X[:, 1]
    grad = np.stack([np.sign(x) + np.abs(y), x * np.sign(y) + 2 * y], axis=1)
    hessian = np.zeros((3, 2, 2))
    hessian[:, 0, 1] = hessian[:, 1, 0] = np.sign(y)
    hessian[:, 1, 1] = 2.0
    for batch in (X, torch.as_tensor(X)):
        np.testing.assert_allclose(to_numpy(problem.grad(batch)), grad, rtol=1e-14)
        np.testing.assert_allclose(to_numpy(problem.hessian(batch)), hessian, rtol=1e-14)
        np.testing.assert_allclose(
            to_numpy(problem.hvp(batch, batch)), np.einsum("bij,bj->bi", hessian, X), rtol=1e-14
        )


@pytest.mark.parametrize("optimizer", all_optimizer_classes(), ids=lambda c: c.name)
def test_every_optimizer_runs_on_a_non_smooth_objective_and_backends_agree(optimizer):
    import hessian_lab as hl

    problem = ExpressionProblem("abs(x) + y**2", "x y", min_value=0.0, minimizer=(0.0, 0.0))
    results = [
        hl.run(problem, optimizer(), [0.7, -0.4], max_steps=60, backend=backend)
        for backend in ("numpy", "torch")
    ]
    assert list(results[0].status) == list(results[1].status)
    np.testing.assert_allclose(
        to_numpy(results[0].final_loss), to_numpy(results[1].final_loss), rtol=1e-9
    )


# --------------------------------------------------------------------------- many variables
def test_many_variables_of_which_few_interact_are_cheap_and_exact():
    """1,500 variables, three used: only the used columns are read and only the non-zero
    Hessian entries generated (the dense path took minutes and gigabytes)."""
    d = 1500
    names = [f"a{i}" for i in range(d)]
    start = time.perf_counter()
    problem = ExpressionProblem("(a0 - 1)**2 + a7**2*a1 + sin(a0*a1)", names)
    rng = np.random.default_rng(6)
    X, V = rng.normal(size=(3, d)), rng.normal(size=(3, d))
    grad, hvp, diagonal = problem.grad(X), problem.hvp(X, V), problem.hessian_diagonal(X)
    elapsed = time.perf_counter() - start
    a0, a1, a7 = X[:, 0], X[:, 1], X[:, 7]
    expected = np.zeros((3, d))
    expected[:, 0] = 2 * (a0 - 1) + a1 * np.cos(a0 * a1)
    expected[:, 1] = a7**2 + a0 * np.cos(a0 * a1)
    expected[:, 7] = 2 * a7 * a1
    np.testing.assert_allclose(grad, expected, rtol=1e-13, atol=1e-15)
    H = np.zeros((3, d, d))
    H[:, 0, 0] = 2 - a1**2 * np.sin(a0 * a1)
    H[:, 1, 1] = -(a0**2) * np.sin(a0 * a1)
    H[:, 0, 1] = H[:, 1, 0] = np.cos(a0 * a1) - a0 * a1 * np.sin(a0 * a1)
    H[:, 1, 7] = H[:, 7, 1] = 2 * a7
    H[:, 7, 7] = 2 * a1
    np.testing.assert_allclose(hvp, np.einsum("bij,bj->bi", H, V), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(diagonal, np.diagonal(H, axis1=1, axis2=2), rtol=1e-13)
    assert elapsed < 30, f"{elapsed:.1f} s for {d} variables"


def test_too_many_variables_are_refused_in_one_line():
    with pytest.raises(ExpressionError, match=f"at most {MAX_VARIABLES} variables"):
        ExpressionProblem("a0", [f"a{i}" for i in range(MAX_VARIABLES + 1)])
