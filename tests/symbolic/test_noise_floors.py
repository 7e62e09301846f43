"""The symbolic noise floors against the literature's AR(2) variance and the numeric layer."""

from __future__ import annotations

import numpy as np
import pytest
import sympy

import hessian_lab as hl
from hessian_lab import theory
from hessian_lab.noise import GradientNoise
from hessian_lab.symbolic import noise as sym
from hessian_lab.symbolic.rates import beta, lam, lr


def test_gd_floor_is_the_nqm_closed_form():
    expected = lr * sym.s / (2 * sym.B * (2 - lr * lam))
    assert sympy.simplify(sym.stationary_mode_loss("gd") - expected) == 0


def test_stationary_variance_is_the_ar2_textbook_formula():
    """x_t = phi1 x_{t-1} + phi2 x_{t-2} + e: Var = (1 - phi2) sigma^2 /
    ((1 + phi2)((1 - phi2)^2 - phi1^2)) (Box & Jenkins), with phi1 = a, phi2 = -b."""
    a, b = sympy.symbols("a b", real=True)
    textbook = (1 + b) * sym.q / ((1 - b) * ((1 + b) ** 2 - a**2))
    assert sympy.simplify(sym.stationary_moments()["p"] - textbook) == 0


def test_heavy_ball_floor_in_closed_form():
    expected = lr * sym.s * (1 + beta) / (2 * sym.B * (1 - beta) * (2 + 2 * beta - lr * lam))
    assert sympy.simplify(sym.stationary_mode_loss("heavy_ball") - expected) == 0


@pytest.mark.parametrize(
    ("name", "opt"),
    [
        ("gd", lambda lr_, b: hl.GD(lr=lr_)),
        ("heavy_ball", lambda lr_, b: hl.Momentum(lr=lr_, beta=b)),
        ("nesterov", lambda lr_, b: hl.Nesterov(lr=lr_, beta=b)),
    ],
)
def test_closed_forms_match_the_numeric_stationary_loss(name, opt):
    """Summed over modes, each closed form equals theory.stationary_loss (S = H, B = 4) at
    drawn stable points, and the sum of the numeric recursion after many steps."""
    f = sym.mode_loss_functions()[name]
    rng = np.random.default_rng(1)
    spectrum = np.array([1.0, 0.3, 0.05])
    problem = hl.Quadratic(spectrum, center=[0.2, 0.1, 0.0])
    noise = GradientNoise("hessian", batch_size=4)
    for _ in range(5):
        lr_, b = rng.uniform(0.1, 1.2), rng.uniform(0.0, 0.9)
        closed = float(np.sum(f(lr_, spectrum, b, spectrum, 4)))
        optimizer = opt(lr_, b)
        assert theory.stationary_loss(problem, optimizer, noise) == pytest.approx(closed, rel=1e-11)
        late = theory.expected_loss(problem, optimizer, [0.2, 0.1, 0.0], 40_000, noise)
        assert late == pytest.approx(closed, rel=1e-8)
