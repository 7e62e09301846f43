"""Steps to a target against batch size, the critical batch size, and iterate averaging."""

from __future__ import annotations

import numpy as np
import pytest

import hessian_lab as hl
from hessian_lab.noisy_theory import (
    ema_expected_loss,
    ema_stationary_loss,
    expected_loss,
    stationary_loss,
)
from hessian_lab.studies import batch_size_scaling, critical_batch_size


def test_critical_batch_size_definition():
    B = np.array([1, 2, 4, 8, 16, 32])
    perfect_then_flat = np.array([800.0, 400, 200, 100, 100, 100])  # B x steps: 800 ... 3200
    # B x steps reaches 1600 = 2 x 800 at B = 16 exactly
    assert critical_batch_size(B, perfect_then_flat) == pytest.approx(16.0)
    between = np.array([800.0, 400, 200, 150, 150, 150])  # ratios 1, 1, 1, 1.5, 3
    expected = np.exp(np.log(8) + np.log(2 / 1.5) / np.log(3 / 1.5) * np.log(2))
    assert critical_batch_size(B, between) == pytest.approx(expected)
    assert critical_batch_size(B, 800.0 / B) is None  # perfect scaling throughout
    assert critical_batch_size([1, 2], [np.nan, 3.0]) is None


def test_gd_scaling_is_exact_and_shows_both_regimes():
    problem = hl.Quadratic(1 / np.arange(1, 21))
    noise = hl.GradientNoise("hessian")
    x0 = np.ones(20)
    target = 0.02
    study = batch_size_scaling(problem, ["gd", hl.Momentum()], [1, 4, 16, 64, 256, 1024],
                               target, noise, x0, max_steps=20_000)
    gd, momentum = study.curves
    assert gd.source == "exact theory"
    for B, steps, point in zip(gd.batch_sizes, gd.steps, gd.best, strict=True):
        opt = hl.GD(**point)
        batch = noise.with_batch_size(int(B))
        assert expected_loss(problem, opt, x0, int(steps), batch) <= target
        assert expected_loss(problem, opt, x0, int(steps) - 1, batch) > target
    # small batches: about 4x fewer steps per 4x batch; large ones: steps level off
    assert 3.0 < gd.steps[0] / gd.steps[1] < 4.5
    assert gd.steps[-2] / gd.steps[-1] < 1.2
    assert gd.critical_batch_size is not None and 4 < gd.critical_batch_size < 1024
    # momentum (its beta searched, 0 included) never needs more steps, and helps at large B
    assert np.all(momentum.steps <= gd.steps)
    assert momentum.steps[-1] < 0.6 * gd.steps[-1]
    assert momentum.critical_batch_size > gd.critical_batch_size


def test_adaptive_methods_by_monte_carlo():
    problem = hl.Quadratic([1.0, 0.1])
    study = batch_size_scaling(problem, ["adam"], [1, 16], 0.05, hl.GradientNoise(1.0),
                               np.ones(2), max_steps=300, rows=8, lrs=[0.01, 0.1])
    (adam,) = study.curves
    assert adam.source == "monte carlo (8 rows)"
    assert np.all(np.isfinite(adam.steps)) and adam.steps[1] <= adam.steps[0]


def test_bad_study_arguments():
    problem = hl.Quadratic([1.0])
    with pytest.raises(ValueError, match="target"):
        batch_size_scaling(problem, ["gd"], [1, 2], 0.0, hl.GradientNoise(1.0))
    with pytest.raises(ValueError, match="batch_sizes"):
        batch_size_scaling(problem, ["gd"], [4, 2], 0.1, hl.GradientNoise(1.0))


def test_ema_floor_hand_derivation_and_monte_carlo():
    """GD on one mode: with P = q / (1 - a^2), C = (1-g) P / (1 - a g),
    U = (2 g (1-g) a C + (1-g)^2 P) / (1 - g^2); the Monte Carlo mean of 4,000 rows'
    averaged iterates is within 4 standard errors of lambda U / 2."""
    lam, lr, g = 1.0, 0.8, 0.9
    problem = hl.Quadratic([lam])
    noise = hl.GradientNoise(1.0, batch_size=2, seed=3)
    a, q = 1 - lr * lam, lr**2 * 0.5
    P = q / (1 - a * a)
    C = (1 - g) * P / (1 - a * g)
    U = (2 * g * (1 - g) * a * C + (1 - g) ** 2 * P) / (1 - g * g)
    floor = ema_stationary_loss(problem, hl.GD(lr=lr), noise, g)
    assert floor == pytest.approx(lam * U / 2, rel=1e-12)
    assert ema_stationary_loss(problem, hl.GD(lr=lr), noise, 0.0) == pytest.approx(
        stationary_loss(problem, hl.GD(lr=lr), noise)
    )
    run = hl.run(problem, hl.GD(lr=lr), np.zeros((4000, 1)), tol=0, max_steps=300,
                 noise=noise, record="x")
    u = run.x_history[0].copy()
    for x in run.x_history[1:]:
        u = g * u + (1 - g) * x
    f = 0.5 * lam * u[:, 0] ** 2
    assert abs(f.mean() - floor) < 4 * f.std() / np.sqrt(f.size)
    assert floor < 0.5 * stationary_loss(problem, hl.GD(lr=lr), noise)


@pytest.mark.parametrize(
    "optimizer",
    [hl.GD(lr=0.8), hl.Momentum(lr=0.3, beta=0.6), hl.Nesterov(lr=0.3, beta=0.6),
     hl.PreconditionedGD(lr=0.5, power=0.5)],
    ids=lambda o: o.name,
)
def test_the_averaged_iterates_path_joins_the_plain_one_and_the_floor(optimizer):
    """decay 0 is the iterates themselves (expected_loss); long runs reach the EMA floor;
    on a rotated problem with a noise covariance that does not commute with H."""
    rng = np.random.default_rng(1)
    A = rng.normal(size=(3, 3))
    problem = hl.Quadratic([1.0, 0.5, 0.1], center=[0.3, -0.2, 0.5], rotation="random", seed=2)
    noise = hl.GradientNoise(A @ A.T / 3, batch_size=4)
    steps = [0, 1, 5, 50]
    x0 = np.ones(3)
    plain = expected_loss(problem, optimizer, x0, steps, noise)
    np.testing.assert_allclose(ema_expected_loss(problem, optimizer, x0, steps, noise, 0.0),
                               plain, rtol=1e-12)
    averaged = ema_expected_loss(problem, optimizer, x0, [0, 4000], noise, 0.9)
    assert averaged[0] == pytest.approx(plain[0], rel=1e-12)  # u_0 = x_0
    floor = ema_stationary_loss(problem, optimizer, noise, 0.9)
    assert averaged[1] == pytest.approx(floor, rel=1e-9)
    assert floor < stationary_loss(problem, optimizer, noise)  # averaging lowers the floor


def test_the_averaged_iterates_path_against_monte_carlo():
    """4,000 noisy GD rows, their EMA computed here from the recorded iterates: the mean
    loss of the average at steps 5 and 40 within 4 standard errors of ema_expected_loss."""
    problem = hl.Quadratic([1.0, 0.3], center=[0.5, -0.5])
    noise = hl.GradientNoise("hessian", batch_size=2, seed=7)
    g, steps = 0.8, [5, 40]
    result = hl.run(problem, hl.GD(lr=0.9), np.zeros((4000, 2)), tol=0, max_steps=40,
                    noise=noise, record="x")
    path = np.asarray(result.x_history)  # (T + 1, rows, d)
    u = path[0].copy()
    losses = {}
    for t in range(1, path.shape[0]):
        u = g * u + (1 - g) * path[t]
        if t in steps:
            e = u - problem.center
            losses[t] = 0.5 * np.sum(np.asarray(problem.spectrum) * e * e, axis=1)
    exact = ema_expected_loss(problem, hl.GD(lr=0.9), np.zeros(2), steps, noise, g)
    for t, value in zip(steps, exact, strict=True):
        sample = losses[t]
        assert abs(sample.mean() - value) < 4 * sample.std() / np.sqrt(sample.size), t
    with pytest.raises(ValueError, match="decay"):
        ema_expected_loss(problem, hl.GD(lr=0.9), np.zeros(2), 3, noise, 1.0)
