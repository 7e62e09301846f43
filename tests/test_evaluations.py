"""Evaluation counts per row (``RunResult.evaluations``) and the chunk rule that weighs a
step's cost: a row's counts stop at its finishing step, whatever the chunking and the
active-set compaction did around it."""

from __future__ import annotations

import math

import numpy as np
import pytest

import hessian_lab as hl
from hessian_lab import engine

VALLEY = {"tol": 1e-6, "max_steps": 3000, "bound": 5.0}


def counts(result, name):
    return result.evaluations[name].tolist()


def test_gd_asks_one_gradient_per_step_in_every_row():
    # rows converge at different steps, inside chunks; the last one diverges
    lr = [0.005, 0.012, 0.019, 0.0201]
    result = hl.run(hl.steep_valley(), hl.GD(lr=lr), [0.0, 0.0], **VALLEY)
    assert list(result.status) == ["converged"] * 3 + ["diverged"]
    assert len(set(result.steps.tolist())) == 4
    assert counts(result, "gradients") == result.steps.tolist()
    for name in ("hvps", "hessians", "hessian_diagonals"):
        assert counts(result, name) == [0, 0, 0, 0]
    assert result.row(1)["evaluations"]["gradients"] == result.steps[1]


def test_a_row_that_runs_out_of_steps_counts_max_steps():
    result = hl.run(hl.steep_valley(), hl.GD(lr=[1e-4, 0.019]), [0.0, 0.0], max_steps=60)
    assert list(result.status) == ["max_steps", "max_steps"]
    assert counts(result, "gradients") == [60, 60]


def test_nesterov_asks_one_gradient_per_step_at_its_look_ahead():
    opt = hl.Nesterov(lr=[0.01, 0.008], beta=[0.5, 0.6])
    result = hl.run(hl.steep_valley(), opt, [0.0, 0.0], **VALLEY)
    assert all(result.converged) and result.steps[0] != result.steps[1]
    assert counts(result, "gradients") == result.steps.tolist()
    assert counts(result, "hvps") == [0, 0]


@pytest.mark.parametrize("n_samples, update_each", [(1, 1), (3, 4), (2, 7)])
def test_adahessian_asks_n_samples_products_per_estimate(n_samples, update_each):
    """D is estimated at steps 1, 1 + update_each, ...: ceil(steps / update_each) times."""
    opt = hl.AdaHessian(lr=[0.05, 0.1, 0.2], n_samples=n_samples, update_each=update_each)
    result = hl.run(hl.steep_valley(), opt, [0.0, 0.0], **VALLEY)
    steps = result.steps.tolist()
    assert all(result.converged) and len(set(steps)) == 3
    expected = [n_samples * math.ceil(s / update_each) for s in steps]
    assert counts(result, "hvps") == expected
    assert counts(result, "gradients") == steps


def test_newton_counts_hessians_and_diagonal_newton_diagonals():
    problem = hl.Quadratic.from_condition(6, 50.0, rotation="random", seed=1)
    result = hl.run(problem, hl.Newton(lr=[1.0, 0.5]), np.ones(6), tol=1e-10)
    assert result.steps[0] == 1 and result.steps[1] > 10
    assert counts(result, "hessians") == result.steps.tolist()
    assert counts(result, "gradients") == result.steps.tolist()
    diag = hl.run(hl.steep_valley(), hl.DiagonalNewton(lr=0.5), [0.0, 0.0], **VALLEY)
    assert counts(diag, "hessian_diagonals") == diag.steps.tolist() != [0]
    assert counts(diag, "hessians") == [0]


class CountingQuadratic(hl.Quadratic):
    """A quadratic that counts the dense Hessians it is asked for, wasted ones included."""

    hessian_calls = 0

    def hessian(self, X):
        self.hessian_calls += 1
        return super().hessian(X)


def test_a_step_with_a_dense_hessian_is_checked_every_step_in_high_dimension():
    """Newton (lr = 1) solves a quadratic in one step: with d^2 Hessian entries per row
    the engine looks after every step instead of running a chunk of solves on."""
    d = 130  # d (1 + d) entries of work: over CHUNK_MAX_ENTRIES, so one step per chunk
    assert d * (1 + d) > engine.CHUNK_MAX_ENTRIES
    eigenvalues = np.geomspace(1.0, 100.0, d)
    problem = CountingQuadratic(eigenvalues, rotation="random", seed=0)
    result = hl.run(problem, hl.Newton(), np.ones(d))
    assert result.steps[0] == 1 and problem.hessian_calls == 1
    slow = CountingQuadratic(eigenvalues, rotation="random", seed=0)
    result = hl.run(slow, hl.Newton(lr=0.5), np.ones(d), tol=1e-8)
    assert result.steps[0] > 5 and slow.hessian_calls == result.steps[0]


def test_cheap_steps_keep_their_chunks():
    """The same dimension without Hessians (and Newton in 2-D) still runs whole chunks."""
    n, d = 1, 130
    assert engine.chunk_steps(n, d, False, engine.step_weight(0.0, d)) == engine.CHUNK_STEPS
    assert engine.chunk_steps(n, d, False, engine.step_weight(1.0, d)) == 1
    # on a GPU the chunk is sized by the iterates it keeps, but not for Hessian steps
    assert engine.chunk_steps(n, d, True, engine.step_weight(0.0, d)) == engine.CHUNK_STEPS
    assert engine.chunk_steps(n, d, True, engine.step_weight(1.0, d)) == 1
    assert engine.chunk_steps(4096, 8, True) == min(25, engine.CHUNK_MAX_KEPT_GPU // 4096 // 8)
    assert engine.chunk_steps(1, 2, False, engine.step_weight(1.0, 2)) == engine.CHUNK_STEPS
    valley = CountingQuadratic([1.0, 100.0], center=[0.8, 0.6])
    result = hl.run(valley, hl.Newton(), [0.0, 0.0])
    assert result.steps[0] == 1 and valley.hessian_calls == engine.CHUNK_STEPS
