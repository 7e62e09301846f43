"""hessian_lab.torch.spectrum against the exact Hessian of small float64 models."""

from __future__ import annotations

import copy
import math

import pytest
import torch
from torch.func import functional_call
from torch_models import exact_hessian, mlp_problem, one_torch_thread  # noqa: F401

from hessian_lab.torch.spectrum import (
    hutchinson_trace,
    lambda_max,
    power_iteration,
    spectral_density,
    top_eigenvalues,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module", params=["cross_entropy", "squares"])
def problem(request):
    model, loss_fn, loss_of = mlp_problem(seed=3, loss=request.param)
    H = exact_hessian(model, loss_of)
    return model, loss_fn, H, torch.linalg.eigvalsh(H)


def test_lanczos_top_eigenvalues_match_eigvalsh(problem):
    model, loss_fn, H, exact = problem
    found = top_eigenvalues(model, loss_fn, k=3, tol=1e-10)
    assert found.converged
    want = exact.flip(0)[:3]
    assert torch.allclose(found.values, want, rtol=1e-8, atol=0)
    assert found.n_products < H.shape[0]  # a Krylov method, not a dense solve
    # the vectors are eigenvectors of the exact Hessian
    for value, u in zip(found.values, found.vectors, strict=True):
        assert abs(float(u.norm()) - 1) < 1e-10
        assert float((H @ u - value * u).norm()) < 1e-6 * float(value.abs())
    assert lambda_max(model, loss_fn, tol=1e-10) == pytest.approx(float(want[0]), rel=1e-8)


def test_power_iteration_finds_the_algebraic_top(problem):
    model, loss_fn, _, exact = problem
    found = power_iteration(model, loss_fn, k=2, tol=1e-9, max_iter=3000)
    assert found.converged
    want = exact.flip(0)[:2]
    assert torch.allclose(found.values, want, rtol=1e-7, atol=0)


def test_hutchinson_trace_within_three_standard_errors(problem):
    model, loss_fn, H, _ = problem
    estimate = hutchinson_trace(model, loss_fn, n_samples=60, seed=1)
    exact = float(torch.trace(H))
    assert estimate.stderr > 0
    assert abs(estimate.value - exact) < 3 * estimate.stderr
    # the standard error matches the estimator's known variance 2 (||H||_F^2 - sum H_ii^2) / N
    variance = 2 * (float((H**2).sum()) - float((torch.diagonal(H) ** 2).sum())) / 60
    assert estimate.stderr == pytest.approx(math.sqrt(variance), rel=0.4)


def test_seeded_results_repeat_and_seeds_differ(problem):
    model, loss_fn, _, _ = problem
    a = hutchinson_trace(model, loss_fn, n_samples=5, seed=7)
    b = hutchinson_trace(model, loss_fn, n_samples=5, seed=7)
    c = hutchinson_trace(model, loss_fn, n_samples=5, seed=8)
    assert torch.equal(a.samples, b.samples)
    assert not torch.equal(a.samples, c.samples)


def test_slq_density_moments(problem):
    model, loss_fn, H, exact = problem
    n = H.shape[0]
    slq = spectral_density(model, loss_fn, n_probes=8, n_steps=40, seed=2)
    # a probability density: weights sum to one per probe, the curve integrates to one
    assert torch.allclose(slq.weights.sum(dim=1), torch.ones(8, dtype=torch.float64))
    assert float(torch.trapezoid(slq.density, slq.grid)) == pytest.approx(1, abs=1e-6)
    assert float(slq.density.min()) >= 0
    # the curve's mean is the quadrature's first moment (Gaussian broadening is centred)
    mean = float(torch.trapezoid(slq.grid * slq.density, slq.grid))
    assert mean == pytest.approx(slq.moment(1), abs=1e-6 * float(exact.abs().max()))
    # first moment: z^T H z / n over the same Rademacher probes as Hutchinson's (same seed)
    trace = hutchinson_trace(model, loss_fn, n_samples=8, seed=2)
    assert slq.moment(1) * n == pytest.approx(trace.value, rel=1e-10)
    assert abs(slq.moment(1) - float(exact.sum()) / n) < 3 * trace.stderr / n
    # second moment against tr(H^2) / n, statistically
    assert slq.moment(2) == pytest.approx(float((exact**2).sum()) / n, rel=0.25)
    # the nodes lie inside the spectrum, and the extreme ones have converged to its ends
    assert float(slq.nodes.max()) == pytest.approx(float(exact.max()), rel=1e-6)
    assert float(slq.nodes.min()) >= float(exact.min()) - 1e-9


def test_slq_with_a_full_krylov_space_is_exact_per_probe():
    model, loss_fn, loss_of = mlp_problem(seed=5, loss="squares")
    H = exact_hessian(model, loss_of)
    n = H.shape[0]
    slq = spectral_density(model, loss_fn, n_probes=3, n_steps=n, seed=4)
    generator = torch.Generator().manual_seed(4)  # the probes the function draws
    probes = [2.0 * torch.randint(0, 2, (n,), generator=generator).double() - 1 for _ in range(3)]
    for j in (1, 2, 3, 5):
        want = sum(float(z @ torch.linalg.matrix_power(H, j) @ z) for z in probes) / (3 * n)
        assert slq.moment(j) == pytest.approx(want, rel=1e-8)


def test_unused_and_linear_parameters_contribute_zero_rows():
    a = torch.nn.Parameter(torch.tensor([1.0, 2.0], dtype=torch.float64))
    b = torch.nn.Parameter(torch.tensor([3.0], dtype=torch.float64))
    unused = torch.nn.Parameter(torch.zeros(2, dtype=torch.float64))

    def loss_fn():
        return a.sum() + 1.5 * (b**2).sum()  # H = diag(0, 0, 3, 0, 0)

    found = top_eigenvalues([a, b, unused], loss_fn, k=2, tol=1e-12)
    assert torch.allclose(found.values, torch.tensor([3.0, 0.0], dtype=torch.float64), atol=1e-12)
    estimate = hutchinson_trace([a, b, unused], loss_fn, n_samples=4)
    assert estimate.value == pytest.approx(3.0) and estimate.stderr == 0


def test_parameters_are_left_unchanged(problem):
    model, loss_fn, _, _ = problem
    before = [p.detach().clone() for p in model.parameters()]
    top_eigenvalues(model, loss_fn, k=1)
    spectral_density(model, loss_fn, n_probes=1, n_steps=5)
    assert all(torch.equal(p, q) for p, q in zip(before, model.parameters(), strict=True))
    assert all(p.grad is None for p in model.parameters())


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda m, f: top_eigenvalues(m, f, k=0), "k must be a positive integer"),
        (lambda m, f: top_eigenvalues(m, f, method="qr"), "method must be"),
        (lambda m, f: top_eigenvalues(m, f, k=10**6), "k must be at most"),
        (lambda m, f: hutchinson_trace(m, f, n_samples=1), "n_samples must be"),
        (lambda m, f: spectral_density(m, f, n_probes=0), "n_probes must be"),
        (lambda m, f: top_eigenvalues(m, f, seed=-1), "seed must be"),
        (lambda m, f: top_eigenvalues(m, lambda: f().reshape(1, 1)), "must return a scalar"),
    ],
)
def test_bad_arguments_name_themselves(problem, call, message):
    model, loss_fn, _, _ = problem
    with pytest.raises(ValueError, match=message):
        call(model, loss_fn)


@pytest.mark.parametrize("method", ["lanczos", "power"])
def test_repeated_eigenvalues_are_all_found(method):
    """H = diag(3, 3, 1, 1, 1): a Krylov space closes after 2 steps; Lanczos restarts."""
    p = torch.nn.Parameter(torch.linspace(-1, 1, 5, dtype=torch.float64))
    weights = torch.tensor([3.0, 3.0, 1.0, 1.0, 1.0], dtype=torch.float64)

    def loss_fn():
        return 0.5 * (weights * p**2).sum()

    found = top_eigenvalues([p], loss_fn, k=3, method=method, tol=1e-12)
    assert found.converged
    torch.testing.assert_close(found.values, torch.tensor([3.0, 3.0, 1.0], dtype=torch.float64))
    gram = found.vectors @ found.vectors.T
    torch.testing.assert_close(gram, torch.eye(3, dtype=torch.float64))


def _twin_problem():
    """Two copies of one tanh MLP, their losses added: every eigenvalue of H is double
    (H = diag(H_a, H_a) for identical halves), the top one included."""
    gen = torch.Generator().manual_seed(11)
    X = torch.randn(24, 5, generator=gen, dtype=torch.float64)
    y = torch.randn(24, 2, generator=gen, dtype=torch.float64)
    torch.manual_seed(11)
    half = torch.nn.Sequential(
        torch.nn.Linear(5, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2)
    ).double()
    twin = torch.nn.ModuleList([half, copy.deepcopy(half)])

    def loss_of_half(net, X=X, y=y):
        return 0.5 * ((net(X) - y) ** 2).sum(dim=1).mean()

    def loss_of(theta):  # the halves' Hessians, from one half's flat parameters
        names = [name for name, _ in half.named_parameters()]
        shapes = [p.shape for p in half.parameters()]
        pieces = torch.split(theta, [s.numel() for s in shapes])
        params = {n: t.reshape(s) for n, t, s in zip(names, pieces, shapes, strict=True)}
        return 0.5 * ((functional_call(half, params, (X,)) - y) ** 2).sum(dim=1).mean()

    H_half = exact_hessian(half, loss_of)
    exact = torch.linalg.eigvalsh(torch.block_diag(H_half, H_half)).flip(0)
    return twin, (lambda: loss_of_half(twin[0]) + loss_of_half(twin[1])), exact


@pytest.mark.parametrize("method", ["lanczos", "power"])
def test_a_double_top_eigenvalue_comes_back_twice(method):
    twin, loss_fn, exact = _twin_problem()
    assert float(exact[0] - exact[1]) < 1e-12 < float(exact[1] - exact[2])  # double, then gap
    found = top_eigenvalues(twin, loss_fn, k=3, method=method, tol=1e-10)
    assert found.converged
    torch.testing.assert_close(found.values, exact[:3], rtol=1e-9, atol=0)
    gram = found.vectors @ found.vectors.T  # two independent eigenvectors for the pair
    torch.testing.assert_close(gram, torch.eye(3, dtype=torch.float64), atol=1e-8, rtol=0)


def _quadratic(values):
    """``L = 1/2 p^T Q diag(values) Q^T p``: a Hessian with the given spectrum."""
    values = torch.as_tensor(values, dtype=torch.float64)
    Q, _ = torch.linalg.qr(torch.randn(len(values), len(values), dtype=torch.float64,
                                       generator=torch.Generator().manual_seed(5)))
    H = Q @ torch.diag(values) @ Q.T
    p = torch.nn.Parameter(torch.ones(len(values), dtype=torch.float64))
    return [p], (lambda: 0.5 * p @ H @ p)


@pytest.mark.parametrize("method", ["lanczos", "power"])
def test_at_a_saddle_every_method_returns_the_algebraic_top(method):
    # the largest magnitude is -3.9; the top eigenvalue is 1.12
    spectrum = [-3.9, 1.12, 0.7, 0.3, -0.2, -1.0, -2.5]
    params, loss_fn = _quadratic(spectrum)
    assert lambda_max(params, loss_fn, method=method, tol=1e-10) == pytest.approx(1.12, rel=1e-9)
    found = top_eigenvalues(params, loss_fn, k=3, method=method, tol=1e-10)
    assert found.converged
    torch.testing.assert_close(found.values, torch.tensor([1.12, 0.7, 0.3]).double())


def test_clustered_and_triple_eigenvalues_are_resolved():
    spectrum = [2.0, 2.0, 2.0, 2.0 - 1e-6, 1.9, 1.0, 0.5, 0.1, -0.3, 0.0]
    params, loss_fn = _quadratic(spectrum)
    found = top_eigenvalues(params, loss_fn, k=5, tol=1e-10)
    assert found.converged
    want = torch.tensor(spectrum[:5], dtype=torch.float64)
    torch.testing.assert_close(found.values, want, rtol=0, atol=1e-9)


def test_float32_tolerance_is_raised_to_its_resolution_and_converged_is_honest():
    model, _, loss_of = mlp_problem(seed=3, loss="squares")
    exact = torch.linalg.eigvalsh(exact_hessian(model, loss_of)).flip(0)
    model32 = copy.deepcopy(model).float()
    gen = torch.Generator().manual_seed(3)
    X = torch.randn(40, 8, generator=gen, dtype=torch.float64)  # mlp_problem's data
    y = torch.randn(40, 3, generator=gen, dtype=torch.float64)
    X32, y32 = X.float(), y.float()
    with pytest.warns(UserWarning, match="below what torch.float32 arithmetic resolves"):
        found = top_eigenvalues(
            model32, lambda: 0.5 * ((model32(X32) - y32) ** 2).sum(dim=1).mean(), k=2, tol=1e-8
        )
    assert found.tol == pytest.approx(100 * torch.finfo(torch.float32).eps)
    assert found.converged
    # the claim holds in float64: each eigenvalue within tol * lambda_max of the truth
    error = (found.values.double() - exact[:2]).abs().max()
    assert float(error) <= found.tol * float(exact[0])
