"""Hypothesis properties of the optimizers on random spectra and rotations.

Valid inputs are built directly (no filtering): a dimension, lambda_min, lambda_max >= it,
eigenvalues in between, a seed for a Haar rotation built here, a center and a start whose
error has a component of at least 0.1 along every eigenvector. Tolerances are stated in
multiples of the float64 machine epsilon.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import direct_iterates
from hypothesis import given
from hypothesis import strategies as st

import hessian_lab as hl
from hessian_lab.backend import Backend
from hessian_lab.optimizers.adahessian import hutchinson_diagonal
from hessian_lab.optimizers.base import Oracle

EPS = np.finfo(np.float64).eps
BACKENDS = ["numpy", "torch"]


def haar(d: int, seed: int) -> np.ndarray:
    """A Haar orthogonal matrix built here (QR of a Gaussian with R's signs fixed)."""
    Q, R = np.linalg.qr(np.random.default_rng(seed).standard_normal((d, d)))
    return Q * np.sign(np.diag(R))


class Case:
    """A drawn quadratic: eigenvalues ``lam`` along the columns of ``Q``, center, start."""

    def __init__(self, lam, Q, c, e0, fstar):
        self.lam, self.Q, self.c, self.fstar = lam, Q, c, fstar
        self.d = lam.size
        self.e0 = e0  # the start's error in the eigenbasis
        self.x0 = c + Q @ e0
        self.H = Q @ np.diag(lam) @ Q.T

    def __repr__(self) -> str:
        return (
            f"Case(lam={self.lam.tolist()}, c={self.c.tolist()}, e0={self.e0.tolist()}, "
            f"fstar={self.fstar}, rotated={not np.array_equal(self.Q, np.eye(self.d))})"
        )

    @property
    def lam_max(self) -> float:
        return float(self.lam.max())

    def problem(self, rotated=True) -> hl.Quadratic:
        rotation = self.Q if rotated else "none"
        return hl.Quadratic(self.lam, rotation=rotation, center=self.c, min_value=self.fstar)


bounded = st.floats(-2.0, 2.0, allow_nan=False, allow_infinity=False)


@st.composite
def cases(draw, max_dim=6, max_kappa=1e3, rotated=True):
    d = draw(st.integers(1, max_dim))
    lam_min = draw(st.floats(0.01, 10.0))
    lam_max = draw(st.floats(lam_min, lam_min * max_kappa))
    inner = draw(st.lists(st.floats(lam_min, lam_max), min_size=d, max_size=d))
    lam = np.array(inner)
    lam[0] = lam_min
    lam[-1] = lam_max  # both ends present (d = 1: lam_max alone)
    lam = np.clip(lam, lam_min, lam_max)
    seed = draw(st.integers(0, 2**32 - 1))
    perm = np.random.default_rng(seed).permutation(d)
    lam = lam[perm]
    Q = haar(d, seed) if rotated else np.eye(d)
    c = np.array(draw(st.lists(bounded, min_size=d, max_size=d)))
    size = draw(st.lists(st.floats(0.1, 1.0), min_size=d, max_size=d))
    sign = draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=d, max_size=d))
    e0 = np.array(size) * np.array(sign)
    fstar = draw(st.floats(-5.0, 5.0))
    return Case(lam, Q, c, e0, fstar)


# ------------------------------------------------------------------------------------- GD


@pytest.mark.parametrize("backend", BACKENDS)
@given(case=cases(), u=st.floats(0.05, 0.99))
def test_gd_error_in_the_eigenbasis_is_a_power(backend, case, u):
    """Q^T (x_t - c) = (1 - lr lambda_i)^t Q^T (x_0 - c), to 16 d (t + 1) eps * scale."""
    lr = u * 2 / case.lam_max
    T = 30
    xs = direct_iterates(case.problem(), hl.GD(lr=lr), case.x0, T, backend)
    t = np.arange(T + 1)[:, None]
    predicted = (1 - lr * case.lam)[None, :] ** t * case.e0[None, :]
    errors = (xs - case.c) @ case.Q
    scale = 1 + np.abs(case.c).max() + np.abs(case.x0).max()
    tol = 16 * case.d * (t + 1) * EPS * scale
    assert np.all(np.abs(errors - predicted) <= tol), np.abs(errors - predicted).max()


def steps_bound(rate: float, start: float, tol: float) -> int:
    """The first t with rate^t * start <= tol."""
    return max(0, math.ceil(math.log(tol / start) / math.log(rate)))


@given(case=cases(max_kappa=100.0))
def test_gd_converges_just_below_the_stability_edge(case):
    lr = 0.99 * 2 / case.lam_max
    rate = float(np.abs(1 - lr * case.lam).max())
    tol = 1e-6
    bound = steps_bound(rate, float(np.linalg.norm(case.e0)), tol)
    result = hl.run(
        case.problem(),
        hl.GD(lr=lr),
        case.x0,
        criterion="distance",
        tol=tol,
        max_steps=10 * bound + 100,
        bound=1e3,
    )
    assert result.status[0] == "converged"
    # ||e_t||_2 <= rate^t ||e_0||_2, so the criterion holds at the bound (+1 for rounding)
    assert result.steps[0] <= bound + 1


@given(case=cases())
def test_gd_diverges_just_above_the_stability_edge(case):
    """The top mode grows by |1 - 2.02| = 1.02 per step, the others by at most that.

    ||x_t||_inf >= (||e_t||_2 - ||c||_2) / sqrt(d) >= (|a| 1.02^t - ||c||_2) / sqrt(d)
    with ``a`` the start's top component (|a| >= 0.1), so the row leaves the box |x_i| < B
    by the first t where that lower bound reaches B.
    """
    lr = 1.01 * 2 / case.lam_max
    a = abs(case.e0[np.argmax(case.lam)])
    box = 10.0
    need = box * math.sqrt(case.d) + float(np.linalg.norm(case.c))
    bound = math.ceil(math.log(need / a) / math.log(1.02))
    result = hl.run(
        case.problem(),
        hl.GD(lr=lr),
        case.x0,
        criterion="distance",
        tol=1e-6,
        max_steps=bound + 1,
        bound=box,
    )
    assert result.status[0] == "diverged"
    assert result.steps[0] <= bound + 1


@given(case=cases(), u=st.floats(0.01, 0.999))
def test_gd_decreases_the_loss_monotonically(case, u):
    lr = u * 2 / case.lam_max
    result = hl.run(
        case.problem(),
        hl.GD(lr=lr),
        case.x0,
        criterion="grad",
        tol=1e-300,
        max_steps=50,
        record="loss",
    )
    f = result.loss_history[:, 0]
    # all 50 steps, unless a step lands exactly on c (then the row is frozen there)
    assert f.shape == (51,) or result.status[0] == "converged"
    slack = 16 * case.d * EPS * (f[0] - case.fstar + abs(case.fstar))
    assert np.all(np.diff(f) <= slack), np.diff(f).max()
    assert np.all(f >= case.fstar - slack)


@pytest.mark.parametrize("backend", BACKENDS)
@given(case=cases(), u=st.floats(0.01, 1.2), wd=st.floats(0.0, 1.0))
def test_momentum_and_nesterov_with_beta_zero_are_gd(backend, case, u, wd):
    lr = u * 2 / case.lam_max
    problem = case.problem()
    gd = direct_iterates(problem, hl.GD(lr=lr, weight_decay=wd), case.x0, 25, backend)
    for opt in (
        hl.Momentum(lr=lr, beta=0.0, weight_decay=wd),
        hl.Nesterov(lr=lr, beta=0.0, weight_decay=wd),
    ):
        np.testing.assert_array_equal(direct_iterates(problem, opt, case.x0, 25, backend), gd)


# ----------------------------------------------------------------- scale-free adaptive rules

ADAPTIVE = {
    "adam": lambda lr: hl.Adam(lr=lr, betas=(0.9, 0.999), eps=0.0),
    "amsgrad": lambda lr: hl.Adam(lr=lr, eps=0.0, amsgrad=True),
    "rmsprop": lambda lr: hl.RMSProp(lr=lr, eps=0.0),
    "rmsprop-centered-momentum": lambda lr: hl.RMSProp(lr=lr, eps=0.0, centered=True, momentum=0.5),
    "adagrad": lambda lr: hl.AdaGrad(lr=lr, eps=0.0),
}


@pytest.mark.parametrize("name", list(ADAPTIVE))
@given(case=cases(), c=st.floats(1e-3, 1e3), lr=st.floats(1e-3, 0.05))
def test_adaptive_methods_with_eps_zero_ignore_the_loss_scale(name, case, c, lr):
    """f -> c f (H -> c H, f* -> c f*): g scales by c, every ratio g / sqrt(s) stays."""
    scaled = hl.Quadratic(c * case.lam, rotation=case.Q, center=case.c, min_value=c * case.fstar)
    a = direct_iterates(case.problem(), ADAPTIVE[name](lr), case.x0, 40)
    b = direct_iterates(scaled, ADAPTIVE[name](lr), case.x0, 40)
    scale = 1 + np.abs(a).max()
    # one-ulp differences in H, amplified mildly by the normalised steps
    np.testing.assert_allclose(b, a, rtol=0, atol=1e6 * EPS * scale)
    assert np.abs(a[-1] - a[0]).max() > 1e-4  # the run moved


# ----------------------------------------------------------------------------- AdaHessian


@pytest.mark.parametrize("backend", BACKENDS)
@given(
    case=cases(rotated=False),
    seed=st.integers(0, 2**63 - 1),
    step=st.integers(0, 2**64 - 1),
    n=st.integers(1, 4),
    rows=st.integers(1, 3),
    per_row=st.booleans(),
)
def test_hutchinson_is_exact_on_a_diagonal_hessian(backend, case, seed, step, n, rows, per_row):
    be = Backend(backend)
    X = be.asarray(np.tile(case.x0, (rows, 1)))
    seeds = [(seed + r) % 2**63 for r in range(rows)] if per_row else seed
    D = hutchinson_diagonal(Oracle(case.problem(rotated=False)), X, seeds, n, step=step)
    D = np.asarray(D.tolist())
    expected = np.tile(case.lam, (rows, 1))
    if n == 1:  # z * (lam z) with z = +-1: exact
        np.testing.assert_array_equal(D, expected)
    else:  # the mean of n equal samples, to a rounding per addition
        assert np.all(np.abs(D - expected) <= 2 * n * EPS * expected)


@given(case=cases(rotated=False), beta2=st.floats(0.0, 0.9999))
def test_adahessian_newton_step_on_a_diagonal_quadratic(case, beta2):
    """k = 1, beta1 = 0, lr = 1, eps = 0: m_hat / sqrt(v_hat) = g / |diag H|, the Newton step."""
    opt = hl.AdaHessian(lr=1.0, betas=(0.0, beta2), eps=0.0, hessian_power=1.0)
    xs = direct_iterates(case.problem(rotated=False), opt, case.x0, 1)
    tol = 8 * EPS * (np.abs(case.x0) + np.abs(case.c) + np.abs(case.e0))
    assert np.all(np.abs(xs[1] - case.c) <= tol)


@given(
    case=cases(rotated=False),
    s=st.lists(st.floats(0.1, 10.0), min_size=6, max_size=6),
    lr=st.floats(0.01, 0.5),
    beta1=st.floats(0.0, 0.95),
)
def test_adahessian_is_invariant_to_diagonal_rescaling(case, s, lr, beta1):
    """x = S u: f(S u) has H' = S H S, center c / S; run from x0 / S, then S u_t = x_t."""
    S = np.array(s[: case.d])
    opt = hl.AdaHessian(lr=lr, betas=(beta1, 0.999), eps=0.0, hessian_power=1.0, seed=1)
    x = direct_iterates(case.problem(rotated=False), opt, case.x0, 30)
    rescaled = hl.Quadratic(S * S * case.lam, center=case.c / S, min_value=case.fstar)
    u = direct_iterates(rescaled, opt, case.x0 / S, 30)
    scale = 1 + np.abs(x).max()
    np.testing.assert_allclose(S * u, x, rtol=0, atol=64 * 30 * EPS * scale)


# -------------------------------------------------------------------------- GD equivariance


@given(
    case=cases(),
    seed=st.integers(0, 2**32 - 1),
    shift=st.lists(bounded, min_size=6, max_size=6),
    u=st.floats(0.05, 0.99),
)
def test_gd_is_equivariant_under_rotations_and_translations(case, seed, shift, u):
    """On f'(y) = f(R^T (y - b)) GD from y0 = R x0 + b gives y_t = R x_t + b."""
    R = haar(case.d, seed)
    b = np.array(shift[: case.d])
    lr = u * 2 / case.lam_max
    x = direct_iterates(case.problem(), hl.GD(lr=lr), case.x0, 30)
    moved = hl.Quadratic(case.lam, rotation=R @ case.Q, center=R @ case.c + b, min_value=case.fstar)
    y = direct_iterates(moved, hl.GD(lr=lr), R @ case.x0 + b, 30)
    back = (y - b) @ R  # R^T (y_t - b), row by row
    scale = 1 + np.abs(case.c).max() + np.abs(case.x0).max() + np.abs(b).max()
    t = np.arange(31)[:, None]
    assert np.all(np.abs(back - x) <= 32 * case.d * (t + 1) * EPS * scale)
