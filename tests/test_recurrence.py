"""The numeric recurrences: generated from the iteration matrices, exact to an ulp or so."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import hessian_lab as hl
from hessian_lab import formulas as Q
from hessian_lab import recurrence as R

EPS = np.finfo(np.float64).eps


def exact_radius(name: str, lr: float, beta: float, lam: float) -> mpmath.mpf:
    """The spectral radius of the float inputs, in 40-digit arithmetic (written out here)."""
    with mpmath.workdps(40):
        h, b = mpmath.mpf(lr) * mpmath.mpf(lam), mpmath.mpf(beta)
        a, c = {
            "gd": (1 - h, mpmath.mpf(0)),
            "heavy_ball": (1 + b - h, b),
            "nesterov": ((1 + b) * (1 - h), b * (1 - h)),
        }[name]
        disc = a * a - 4 * c
        if disc >= 0:
            return (abs(a) + mpmath.sqrt(disc)) / 2
        return mpmath.sqrt(abs(c))


def ulps(value: float, exact: mpmath.mpf) -> float:
    return float(abs(mpmath.mpf(value) - exact) / (abs(exact) * EPS))


@pytest.mark.parametrize("kappa", [1.5, 10.0, 100.0, 1e4, 1e6, 1e8])
def test_the_rate_at_each_optimum_is_exact_to_an_ulp(kappa):
    q = Q.theory_quantities(1.0, kappa)
    for name, lr, beta in (
        ("heavy_ball", q["lr_hb_opt"], q["beta_hb_opt"]),
        ("nesterov", q["lr_nag_opt"], q["beta_nag_opt"]),
        ("nesterov", q["lr_nag_textbook"], q["beta_nag_textbook"]),
        ("gd", q["lr_opt"], 0.0),
    ):
        exact = max(exact_radius(name, lr, beta, lam) for lam in (1.0, kappa))
        assert ulps(R.spectral_radius(name, lr, beta, [1.0, kappa]), exact) <= 2, name


def double_roots(beta: float) -> dict[str, list[float]]:
    """``h = lr*lambda`` where each matrix has a double root (and where a factor vanishes)."""
    s = math.sqrt(beta)
    return {
        "gd": [1.0],
        "heavy_ball": [(1 - s) ** 2, (1 + s) ** 2, 1 + beta],
        "nesterov": [((1 - beta) / (1 + beta)) ** 2, 1.0],
    }


@given(
    name=st.sampled_from(["gd", "heavy_ball", "nesterov"]),
    beta=st.floats(0.0, 0.999),
    lam=st.floats(0.01, 100.0),
    which=st.integers(0, 2),
    offset=st.sampled_from([0.0, 1e-15, -1e-15, 1e-12, -1e-9, 1e-6, -1e-3]) | st.floats(-0.5, 1),
)
def test_the_radius_is_exact_to_an_ulp_on_and_near_every_double_root(
    name, beta, lam, which, offset
):
    roots = double_roots(beta)[name]
    lr = roots[which % len(roots)] * (1 + offset) / lam
    exact = exact_radius(name, lr, beta, lam)
    value = R.spectral_radius(name, lr, beta, [lam])
    if exact == 0:
        assert value == 0
    else:
        assert ulps(value, exact) <= 2, (value, exact)


@pytest.mark.parametrize(
    ("optimizer", "name"),
    [
        (hl.GD(lr=0.3), "gd"),
        (hl.Momentum(lr=0.3, beta=0.7), "heavy_ball"),
        (hl.Nesterov(lr=0.3, beta=0.7), "nesterov"),
    ],
)
def test_the_generated_recurrence_is_the_optimizers_own(optimizer, name):
    """Each iterate of the engine's run satisfies x_{t+1} = a x_t - b x_{t-1} (center 0)."""
    eigenvalues = np.array([0.5, 2.0, 5.0])
    result = hl.run(
        hl.Quadratic(eigenvalues), optimizer, np.ones(3), tol=1e-300, max_steps=6, record="x"
    )
    X = result.x_history[:, 0, :]
    rec = R.recurrence(name, 0.3, 0.7 if name != "gd" else 0.0, eigenvalues)
    np.testing.assert_allclose(X[2:], rec.a * X[1:-1] - rec.b * X[:-2], rtol=1e-13, atol=1e-15)
