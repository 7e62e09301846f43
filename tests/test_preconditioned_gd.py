"""GD preconditioned by diag(H)^-p: references at p = 0 (GD) and p = 1 (diagonal Newton)."""

from __future__ import annotations

import numpy as np

import hessian_lab as hl
from hessian_lab import theory
from hessian_lab.backend import to_numpy


def test_powers_zero_and_one_are_gd_and_diagonal_newton():
    problem = hl.Quadratic([3.0, 1.0, 0.2], rotation="random", center=[0.1, 0.2, -0.3], seed=2)
    args = dict(tol=0, max_steps=30)
    x0 = np.ones((2, 3))
    for power, reference in ((0.0, hl.GD(lr=0.3)), (1.0, hl.DiagonalNewton(lr=0.3))):
        ours = hl.run(problem, hl.PreconditionedGD(lr=0.3, power=power), x0, **args)
        theirs = hl.run(problem, reference, x0, **args)
        np.testing.assert_allclose(to_numpy(ours.x), to_numpy(theirs.x), rtol=1e-13, atol=1e-15)


def test_predicted_steps_match_the_run():
    """The theory bridge's closed form for p = 0.5 on a rotated problem (modes of
    P^(1/2) H P^(1/2)) predicts the engine's steps exactly."""
    problem = hl.Quadratic([3.0, 1.0, 0.2, 0.05], rotation="random", seed=5)
    opt = hl.PreconditionedGD(lr=[0.1, 0.3, 0.5], power=0.5)
    run = hl.run(problem, opt, np.ones(4), tol=1e-8, max_steps=5000)
    predicted = theory.predict(problem, opt, np.ones(4), tol=1e-8, max_steps=5000)
    assert np.all(run.converged)
    np.testing.assert_array_equal(run.steps, predicted.steps)
