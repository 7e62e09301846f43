"""Quadratic problems against dense NumPy formulas written out here, on every backend.

f(x) = 1/2 (x-c)^T H (x-c) + f*,  grad = H (x-c),  Hv,  H,  diag H, with H = Q diag(lam) Q^T
built by the test from its own orthogonal matrix.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from hessian_lab.backend import to_numpy
from hessian_lab.problems import Quadratic, haar_orthogonal, spectrum, steep_valley

EPS = np.finfo(np.float64).eps


def own_orthogonal(rng, d):
    """An orthogonal matrix built here (QR of a Gaussian), independent of the package."""
    Q, R = np.linalg.qr(rng.standard_normal((d, d)))
    return Q * np.sign(np.diag(R))


def random_case(rng, d, rotated=True):
    lam = rng.uniform(-2.0, 5.0, size=d)  # any sign: the formulas hold for indefinite H too
    Q = own_orthogonal(rng, d) if rotated else np.eye(d)
    c = rng.uniform(-1, 1, size=d)
    fstar = float(rng.uniform(-3, 3))
    H = Q @ np.diag(lam) @ Q.T
    rotation = Q if rotated else "none"
    problem = Quadratic(lam, rotation=rotation, center=c, min_value=fstar)
    return problem, H, c, fstar


@pytest.mark.parametrize("rotated", [True, False], ids=["rotated", "axis"])
@pytest.mark.parametrize("d", [1, 3, 7])
def test_oracles_match_dense_formulas(backend, rng, d, rotated):
    problem, H, c, fstar = random_case(rng, d, rotated)
    B = 5
    Xn = rng.uniform(-2, 2, size=(B, d))
    Vn = rng.standard_normal((B, d))
    X, V = backend.asarray(Xn), backend.asarray(Vn)
    E = Xn - c
    loss = np.array([0.5 * e @ H @ e + fstar for e in E])
    grad = np.array([H @ e for e in E])
    hvp = np.array([H @ v for v in Vn])
    scale = np.abs(H).sum() * (1 + np.abs(Xn).max() + np.abs(c).max()) ** 2
    tol = 64 * d * EPS * scale

    f, G = problem.value_and_grad(X)
    assert type(f) is type(X) and type(G) is type(X)
    assert tuple(G.shape) == (B, d) and tuple(f.shape) == (B,)
    np.testing.assert_allclose(to_numpy(f), loss, rtol=0, atol=tol + 8 * EPS * abs(fstar))
    np.testing.assert_allclose(to_numpy(problem.loss(X)), loss, atol=tol + 8 * EPS * abs(fstar))
    np.testing.assert_allclose(to_numpy(G), grad, rtol=0, atol=tol)
    np.testing.assert_allclose(to_numpy(problem.grad(X)), grad, rtol=0, atol=tol)
    np.testing.assert_allclose(to_numpy(problem.hvp(X, V)), hvp, rtol=0, atol=tol * 4)
    Hb = to_numpy(problem.hessian(X))
    assert Hb.shape == (B, d, d)
    np.testing.assert_allclose(Hb, np.broadcast_to(H, (B, d, d)), rtol=0, atol=tol)
    np.testing.assert_allclose(
        to_numpy(problem.hessian_diagonal(X)), np.broadcast_to(np.diag(H), (B, d)), atol=tol
    )
    np.testing.assert_allclose(problem.hessian_matrix, H, atol=tol)


def test_exposed_constants(rng):
    lam = np.array([3.0, 0.5, 2.0])
    Q = own_orthogonal(rng, 3)
    c = np.array([1.0, -2.0, 0.25])
    problem = Quadratic(lam, rotation=Q, center=c, min_value=1.5)
    np.testing.assert_array_equal(problem.eigenvalues, [0.5, 2.0, 3.0])
    np.testing.assert_array_equal(problem.minimizer, c)
    assert problem.min_value == 1.5
    assert problem.condition_number == pytest.approx(6.0, rel=1e-15)
    assert problem.dim == 3
    # the loss at the minimizer is f*, and the gradient vanishes there
    f, G = problem.value_and_grad(c[None, :])
    assert f[0] == pytest.approx(1.5, abs=1e-15)
    np.testing.assert_allclose(G, 0.0, atol=1e-15)
    # semi-definite: no unique minimizer, but f* exists; indefinite: neither
    semi = Quadratic([0.0, 1.0])
    assert semi.minimizer is None and semi.min_value == 0.0
    assert semi.condition_number == np.inf
    saddle = Quadratic([-1.0, 1.0])
    assert saddle.minimizer is None and saddle.min_value is None


def test_random_rotation_gives_the_right_spectrum(rng):
    lam = rng.uniform(0.1, 10, size=6)
    problem = Quadratic(lam, rotation="random", seed=11)
    H = problem.hessian_matrix
    np.testing.assert_allclose(H, H.T, atol=0)
    np.testing.assert_allclose(np.linalg.eigvalsh(H), np.sort(lam), rtol=1e-13)
    # not axis-aligned: some off-diagonal mass
    assert np.abs(H - np.diag(np.diag(H))).max() > 1e-3
    assert not problem.axis_aligned
    # the public diagonal is diag(H), on the host and through the batched oracle
    np.testing.assert_allclose(problem.hessian_matrix_diagonal, np.diag(H), rtol=1e-13)
    np.testing.assert_allclose(
        problem.hessian_diagonal(np.zeros((2, 6))), np.tile(np.diag(H), (2, 1)), rtol=1e-13
    )
    np.testing.assert_array_equal(Quadratic(lam).hessian_matrix_diagonal, lam)


def test_steep_valley():
    problem = steep_valley()
    np.testing.assert_array_equal(problem.eigenvalues, [1.0, 100.0])
    np.testing.assert_array_equal(problem.minimizer, [0.8, 0.6])
    assert problem.axis_aligned and problem.min_value == 0.0
    # f(0) = 1/2 (1 * 0.64 + 100 * 0.36)
    assert problem.loss(np.zeros((1, 2)))[0] == pytest.approx(0.5 * (0.64 + 36.0), rel=1e-15)


# --------------------------------------------------------------------------------- spectra


@pytest.mark.parametrize("kind", ["geometric", "linear", "two-cluster", "uniform"])
@pytest.mark.parametrize("dim", [1, 2, 5, 8])
@pytest.mark.parametrize(("kappa", "lambda_min"), [(1.0, 1.0), (100.0, 0.5), (1e4, 2.0)])
def test_spectrum_ends_and_length(kind, dim, kappa, lambda_min):
    lam = spectrum(dim, kappa, kind, lambda_min=lambda_min, seed=3)
    assert lam.shape == (dim,)
    assert lam.min() == pytest.approx(lambda_min, rel=1e-14)
    if dim > 1:
        assert lam.max() == pytest.approx(kappa * lambda_min, rel=1e-14)
        assert lam.max() / lam.min() == pytest.approx(kappa, rel=1e-13)
    assert np.all(lam >= lambda_min * (1 - 1e-15))
    assert np.all(lam <= kappa * lambda_min * (1 + 1e-14))
    problem = Quadratic.from_condition(dim, kappa, kind, lambda_min=lambda_min, seed=3)
    assert problem.dim == dim
    expected_kappa = kappa if dim > 1 else 1.0
    assert problem.condition_number == pytest.approx(expected_kappa, rel=1e-13)


def test_spectrum_shapes():
    d, kappa = 6, 1000.0
    geo = spectrum(d, kappa, "geometric")
    ratios = geo[1:] / geo[:-1]
    np.testing.assert_allclose(ratios, kappa ** (1 / (d - 1)), rtol=1e-13)
    lin = spectrum(d, kappa, "linear")
    np.testing.assert_allclose(np.diff(lin), (kappa - 1) / (d - 1), rtol=1e-13)
    two = spectrum(7, kappa, "two-cluster")
    assert np.count_nonzero(two == 1.0) == 3 and np.count_nonzero(two == kappa) == 4
    uni = spectrum(50, kappa, "uniform", seed=1)
    assert np.all(np.diff(uni) >= 0)
    inner = uni[1:-1]
    assert np.all((inner >= 1.0) & (inner <= kappa))
    # spread over the interval, not clustered at an end (49 draws: mean within ~5 sigma)
    assert abs(inner.mean() - (1 + kappa) / 2) < 5 * (kappa - 1) / np.sqrt(12 * inner.size)


def test_uniform_spectrum_is_seeded():
    a = spectrum(10, 50.0, "uniform", seed=5)
    b = spectrum(10, 50.0, "uniform", seed=5)
    c = spectrum(10, 50.0, "uniform", seed=6)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    p = Quadratic.from_condition(10, 50.0, "uniform", seed=5)
    np.testing.assert_array_equal(p.spectrum, a)


# -------------------------------------------------------------------------------- rotation


@pytest.mark.parametrize("dim", [1, 2, 5, 20])
def test_haar_rotation_orthogonal_and_seeded(dim):
    Q = haar_orthogonal(dim, seed=4)
    assert Q.shape == (dim, dim)
    np.testing.assert_allclose(Q.T @ Q, np.eye(dim), atol=32 * dim * EPS)
    np.testing.assert_allclose(Q @ Q.T, np.eye(dim), atol=32 * dim * EPS)
    np.testing.assert_array_equal(Q, haar_orthogonal(dim, seed=4))
    if dim > 1:
        assert not np.allclose(Q, haar_orthogonal(dim, seed=5))
    p1 = Quadratic(np.arange(1.0, dim + 1), rotation="random", seed=4)
    p2 = Quadratic(np.arange(1.0, dim + 1), rotation="random", seed=4)
    np.testing.assert_array_equal(p1.hessian_matrix, p2.hessian_matrix)


def test_haar_rotation_is_unbiased():
    """Haar: every entry has mean 0 and variance 1/d (QR without the sign fix fails this)."""
    d, n = 3, 3000
    first = np.array([haar_orthogonal(d, seed=s)[0, 0] for s in range(n)])
    sigma = np.sqrt(1 / d / n)
    assert abs(first.mean()) < 5 * sigma
    assert abs((first**2).mean() - 1 / d) < 0.05
    dets = np.array([np.linalg.det(haar_orthogonal(d, seed=s)) for s in range(200)])
    # both components of O(d) are hit
    assert np.any(dets > 0) and np.any(dets < 0)


# ------------------------------------------------------------------------- axis-aligned cost


def test_axis_aligned_builds_no_dense_matrix(backend):
    problem = Quadratic([1.0, 2.0, 3.0], center=[1.0, 1.0, 1.0])
    X = backend.asarray(np.ones((2, 3)))
    problem.grad(X)
    assert problem.axis_aligned and problem.Q is None
    assert problem._arrays(X).H is None


def test_axis_aligned_scales_to_a_million_coordinates():
    d = 10**6
    lam = np.linspace(1.0, 2.0, d)
    tracemalloc.start()
    try:
        problem = Quadratic(lam, center=np.ones(d))
        X = np.zeros((1, d))
        G = problem.grad(X)
        f = problem.loss(X)
        Hv = problem.hvp(X, np.ones((1, d)))
        hd = problem.hessian_diagonal(X)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert problem._arrays(X).H is None
    np.testing.assert_array_equal(G[0], -lam)
    np.testing.assert_array_equal(Hv[0], lam)
    np.testing.assert_array_equal(hd[0], lam)
    assert f[0] == pytest.approx(0.5 * lam.sum(), rel=1e-12)
    # a dense H would be 8 TB; a handful of d-vectors is ~100 MB at most
    assert peak < 200 * 2**20, peak


# ------------------------------------------------------------------------------ validation


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [
        ({"dim": 3, "kappa": 0.5}, "kappa"),
        ({"dim": 3, "kappa": float("nan")}, "kappa"),
        ({"dim": 3, "kappa": float("inf")}, "kappa"),
        ({"dim": 0, "kappa": 10.0}, "dim"),
        ({"dim": -2, "kappa": 10.0}, "dim"),
        ({"dim": 2.5, "kappa": 10.0}, "dim"),
        ({"dim": 3, "kappa": 10.0, "spectrum_kind": "cubic"}, "spectrum"),
        ({"dim": 3, "kappa": 10.0, "lambda_min": 0.0}, "lambda_min"),
        ({"dim": 3, "kappa": 10.0, "lambda_min": -1.0}, "lambda_min"),
        ({"dim": 3, "kappa": 10.0, "rotation": "diagonal"}, "rotation"),
        ({"dim": 3, "kappa": 10.0, "center": [1.0, 2.0]}, "center"),
        ({"dim": 3, "kappa": 10.0, "center": [1.0, 2.0, float("nan")]}, "center"),
        ({"dim": 3, "kappa": 10.0, "min_value": float("nan")}, "min_value"),
    ],
)
def test_from_condition_validation(kwargs, word):
    with pytest.raises(ValueError, match=word) as info:
        Quadratic.from_condition(**kwargs)
    assert "\n" not in str(info.value)


def test_quadratic_validation():
    with pytest.raises(ValueError, match="rotation matrix must be orthogonal"):
        Quadratic([1.0, 2.0], rotation=[[1.0, 0.5], [0.0, 1.0]])
    with pytest.raises(ValueError, match="rotation matrix"):
        Quadratic([1.0, 2.0], rotation=np.eye(3))
    with pytest.raises(ValueError, match="eigenvalues"):
        Quadratic([])
    with pytest.raises(ValueError, match="eigenvalues"):
        Quadratic([1.0, float("inf")])
    with pytest.raises(ValueError, match="center"):
        Quadratic([1.0, 2.0], center=[1.0, 2.0, 3.0])
    # an explicit orthogonal matrix (a reflection) is accepted
    Quadratic([1.0, 2.0], rotation=[[0.0, 1.0], [1.0, 0.0]])
