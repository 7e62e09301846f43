"""Exact expected loss under gradient noise: closed forms, the full recursion, Monte Carlo."""

from __future__ import annotations

import numpy as np
import pytest

import hessian_lab as hl
from hessian_lab import theory
from hessian_lab.noise import GradientNoise

# the last mode is within 1e-6 of the unit circle: summed step by step, not in closed form
LAM6 = np.array([2.0, 1.0, 0.5, 0.2, 0.05, 1e-7])
CENTER6 = np.linspace(-0.5, 0.7, 6)


def _psd(d: int, seed: int) -> np.ndarray:
    A = np.random.default_rng(seed).standard_normal((d, d))
    return A @ A.T / d


LINEAR = [
    hl.GD(lr=0.7),
    hl.Momentum(lr=0.3, beta=0.6),
    hl.Nesterov(lr=0.4, beta=0.7),
    hl.PreconditionedGD(lr=0.5, power=0.5),
    hl.DiagonalNewton(lr=0.4),
    hl.Newton(lr=0.6),
]


def test_gd_on_one_mode_matches_the_hand_derivation():
    """1-D GD: E f_t = lam/2 [(1-h)^(2t) e0^2 + lr^2 s/B (1 - (1-h)^(2t)) / (1 - (1-h)^2)]."""
    lam, lr, s, B, e0 = 0.8, 0.9, 0.3, 5, 1.5
    problem = hl.Quadratic([lam], center=[0.25])
    t = np.array([0, 1, 2, 7, 40, 500])
    a2t = (1 - lr * lam) ** (2 * t)
    hand = lam / 2 * (a2t * e0**2 + lr**2 * s / B * (1 - a2t) / (1 - (1 - lr * lam) ** 2))
    got = theory.expected_loss(problem, hl.GD(lr=lr), [0.25 + e0], t, GradientNoise(s, B))
    np.testing.assert_allclose(got, hand, rtol=1e-12)
    floor = theory.stationary_loss(problem, hl.GD(lr=lr), GradientNoise(s, B))
    assert floor == pytest.approx(lr * s / (2 * B * (2 - lr * lam)), rel=1e-13)


def test_first_step_from_the_minimum_is_the_injected_noise():
    """From x0 = c one step of any method moves by -lr P xi: E f_1 = lr^2/2 tr(H P S P)/B."""
    problem = hl.Quadratic(LAM6, rotation="random", center=CENTER6, seed=1)
    S = _psd(6, 2)
    noise = GradientNoise(S, batch_size=3)
    H = problem.hessian_matrix
    for opt in (hl.GD(lr=0.7), hl.Momentum(lr=0.3, beta=0.6), hl.Nesterov(lr=0.4, beta=0.7)):
        got = theory.expected_loss(problem, opt, CENTER6, 1, noise)
        assert got == pytest.approx(opt.lr**2 / 2 * np.trace(H @ S) / 3, rel=1e-12)
    P = np.diag(np.diag(H) ** -0.5)
    got = theory.expected_loss(problem, hl.PreconditionedGD(lr=0.5, power=0.5), CENTER6, 1, noise)
    assert got == pytest.approx(0.25 / 2 * np.trace(H @ P @ S @ P) / 3, rel=1e-12)


@pytest.mark.parametrize("opt", LINEAR, ids=lambda o: o.name)
@pytest.mark.parametrize("rotation", ["none", "random"])
def test_modes_equal_the_full_recursion(opt, rotation):
    """Per-mode sums against the dense 2d-state recursion, with S not commuting with H."""
    problem = hl.Quadratic(LAM6, rotation=rotation, center=CENTER6, seed=4)
    x0 = CENTER6 + np.linspace(1.0, -1.0, 6)
    steps = [0, 1, 2, 3, 10, 57, 300]
    for cov in ("hessian", _psd(6, 5), np.linspace(0.1, 1.0, 6), 0.4):
        noise = GradientNoise(cov, batch_size=2)
        modes = theory.expected_loss(problem, opt, x0, steps, noise)
        full = theory.expected_loss(problem, opt, x0, steps, noise, method="full")
        np.testing.assert_allclose(modes, full, rtol=1e-8, atol=1e-15)
        floor = theory.stationary_loss(problem, opt, noise)
        # the dense Lyapunov solve is conditioned by 1 / (1 - radius) ~ 1e7 here
        assert floor == pytest.approx(
            theory.stationary_loss(problem, opt, noise, method="full"), rel=1e-6
        )


def test_the_loss_settles_at_the_stationary_loss():
    problem = hl.Quadratic([2.0, 1.0, 0.3], rotation="random", center=[1.0, 0.0, -1.0])
    noise = GradientNoise("hessian", batch_size=8)
    for opt in (hl.GD(lr=0.9), hl.Momentum(lr=0.2, beta=0.8), hl.Nesterov(lr=0.5, beta=0.5)):
        late = theory.expected_loss(problem, opt, np.zeros(3), 5000, noise)
        assert late == pytest.approx(theory.stationary_loss(problem, opt, noise), rel=1e-10)


def test_stationary_loss_is_infinite_outside_the_stability_region():
    problem = hl.Quadratic([2.0, 0.5])
    noise = GradientNoise(1.0)
    assert np.isfinite(theory.stationary_loss(problem, hl.GD(lr=0.99), noise))
    assert theory.stationary_loss(problem, hl.GD(lr=1.01), noise) == np.inf
    # heavy ball: stable iff lr lam < 2 + 2 beta
    inside = theory.stationary_loss(problem, hl.Momentum(lr=1.79, beta=0.8), noise)
    outside = theory.stationary_loss(problem, hl.Momentum(lr=1.81, beta=0.8), noise)
    assert np.isfinite(inside) and outside == np.inf
    rows = theory.stationary_loss(problem, hl.GD(lr=[0.5, 1.5]), noise)
    assert np.isfinite(rows[0]) and rows[1] == np.inf
    # the floor shrinks as 1/B and the transient does not depend on the noise
    half = theory.stationary_loss(problem, hl.GD(lr=0.5), GradientNoise(1.0, batch_size=2))
    assert half == pytest.approx(theory.stationary_loss(problem, hl.GD(lr=0.5), noise) / 2)


def test_rows_of_hyperparameters_are_independent_predictions():
    problem = hl.Quadratic(LAM6, center=CENTER6)
    noise = GradientNoise("hessian", batch_size=4)
    lrs, betas = [0.2, 0.5, 0.9], [0.0, 0.5, 0.9]
    together = theory.expected_loss(
        problem, hl.Momentum(lr=lrs, beta=betas), np.zeros(6), [3, 30], noise
    )
    assert together.shape == (2, 3)
    for i in range(3):
        alone = theory.expected_loss(
            problem, hl.Momentum(lr=lrs[i], beta=betas[i]), np.zeros(6), [3, 30], noise
        )
        np.testing.assert_allclose(together[:, i], alone, rtol=1e-13)
    assert theory.expected_loss(problem, hl.GD(lr=0.5), np.zeros(6), 3, noise).shape == ()


def test_errors_say_why():
    problem = hl.Quadratic([1.0, 2.0])
    noise = GradientNoise(1.0)
    with pytest.raises(ValueError, match="adam"):
        theory.expected_loss(problem, hl.Adam(), np.zeros(2), 3, noise)
    with pytest.raises(ValueError, match="steps"):
        theory.expected_loss(problem, hl.GD(), np.zeros(2), [-1], noise)
    with pytest.raises(ValueError, match="per-row"):
        theory.stationary_loss(problem, hl.PreconditionedGD(power=[0.0, 1.0]), noise)
    with pytest.raises(ValueError, match="weight_decay"):
        theory.stationary_loss(problem, hl.GD(weight_decay=0.1), noise)


# ------------------------------------------------------------------------- Monte Carlo
ROWS = 3000


@pytest.mark.parametrize(
    "opt",
    [
        hl.GD(lr=0.8),
        hl.Momentum(lr=0.3, beta=0.7),
        hl.Nesterov(lr=0.5, beta=0.6),
        hl.PreconditionedGD(lr=0.6, power=0.5),
    ],
    ids=lambda o: o.name,
)
def test_monte_carlo_rows_match_the_expected_loss(opt):
    """The mean of 3,000 noisy rows is within 4 standard errors of the exact expected loss
    at steps 1, 5, 20 and 60, for S = H and for a full S that does not commute with H;
    a prediction 15 % off is rejected at the floor (the test can fail)."""
    problem = hl.Quadratic(
        [2.0, 1.0, 0.5, 0.25, 0.1], rotation="random", seed=7, center=[0.2, -0.1, 0.0, 0.4, 0.3]
    )
    x0 = np.array([1.0, 1.0, -1.0, 0.5, 0.0])
    steps = np.array([1, 5, 20, 60])
    for seed, cov in enumerate(("hessian", _psd(5, 8))):
        noise = GradientNoise(cov, batch_size=2, seed=seed)
        run = hl.run(
            problem,
            opt,
            np.broadcast_to(x0, (ROWS, 5)),
            tol=0,
            max_steps=60,
            noise=noise,
            record="loss",
        )
        losses = run.loss_history[steps] - problem.min_value  # (T, R)
        mean = losses.mean(axis=1)
        se = losses.std(axis=1, ddof=1) / np.sqrt(ROWS)
        exact = theory.expected_loss(problem, opt, x0, steps, noise)
        assert np.all(np.abs(mean - exact) < 4 * se), (mean, exact, se)
        assert abs(mean[-1] - 0.85 * exact[-1]) > 4 * se[-1]
