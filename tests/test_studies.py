"""Studies (hessian_lab.studies): compare, sweep and the Hutchinson error curve as data."""

from __future__ import annotations

import math

import numpy as np
import pytest

import hessian_lab as hl
from hessian_lab.studies import Axis, compare, hutchinson_curve, sweep


def test_a_gd_sweep_finds_lr_max_and_lr_opt_on_the_steep_valley():
    valley = hl.steep_valley()  # eigenvalues 1 and 100
    lrs = np.geomspace(1e-3, 0.03, 12)
    study = sweep(valley, "gd", [Axis("lr", lrs, "log")], x0=[0.0, 0.0], bound=5)
    assert study.boundary == pytest.approx(2 / 100, rel=1e-12)  # lr_max, bisected
    assert study.optimum == {"lr": pytest.approx(2 / 101)}
    below = lrs < study.boundary
    assert np.all(study.result.status[below] == "converged")
    assert np.all(study.result.status[~below] == "diverged")
    done = study.result.converged
    assert np.array_equal(study.result.steps[done], study.predicted_steps[done])
    assert study.best == int(np.argmin(np.where(done, study.result.steps, np.inf)))
    assert study.row(0)["lr"] == lrs[0] and study.row(0)["status"] == "converged"


def test_a_two_axis_sweep_is_the_grid_of_single_runs():
    valley = hl.steep_valley()
    axes = [Axis("lr", [0.005, 0.01, 0.02], "lin"), Axis("beta", [0.0, 0.5], "lin")]
    study = sweep(valley, "momentum", axes, x0=[0.0, 0.0], max_steps=3000, bound=5)
    assert study.shape == (2, 3)
    assert list(study.columns["lr"]) == [0.005, 0.01, 0.02] * 2  # first axis fastest
    assert list(study.columns["beta"]) == [0.0] * 3 + [0.5] * 3
    for i, (lr, beta) in enumerate(zip(study.columns["lr"], study.columns["beta"], strict=True)):
        alone = hl.run(valley, hl.Momentum(lr=lr, beta=beta), [0.0, 0.0], max_steps=3000, bound=5)
        assert alone.status[0] == study.result.status[i]
        assert alone.steps[0] == study.result.steps[i]
    kappa = 100.0
    beta_opt = ((math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1)) ** 2
    lr_opt = 4 / (math.sqrt(100) + 1) ** 2
    assert study.optimum == {"lr": pytest.approx(lr_opt), "beta": pytest.approx(beta_opt)}
    x, y, rate = study.boundary
    assert rate.shape == (y.size, x.size) and x[0] == 0.005 and y[-1] == 0.5
    # heavy ball is stable for lr < 2 (1 + beta) / lambda_max: the map crosses 1 there
    row = np.searchsorted(y, 0.5)
    inside = x < 2 * (1 + y[row]) / 100 * 0.99
    assert np.all(rate[row, inside] < 1) and np.all(rate[row, x > 2 * (1 + y[row]) / 100] >= 1)


def test_a_sweep_over_one_part_of_betas_and_without_theory():
    valley = hl.steep_valley()
    study = sweep(
        valley, "adam", [Axis("beta1", [0.0, 0.5, 0.9])], x0=[0.0, 0.0], fixed={"lr": 0.05},
        max_steps=2000, bound=5,
    )  # fmt: skip
    betas = study.optimizer.betas
    assert list(np.ravel(betas[0])) == [0.0, 0.5, 0.9] and float(betas[1]) == 0.999
    assert study.optimum is None and study.boundary is None
    assert study.predicted_steps is None or np.all(np.isnan(study.predicted_steps))
    with pytest.raises(ValueError, match="one or two"):
        sweep(valley, "gd", [], x0=[0.0, 0.0])


def test_compare_puts_measured_and_predicted_steps_side_by_side():
    valley = hl.steep_valley()
    optimizers = {
        "gd": hl.GD(lr=2 / 101),
        "heavy ball": hl.Momentum(lr=0.01, beta=0.5),
        "adam": hl.Adam(lr=0.05),
    }
    out = compare(valley, optimizers, [0.0, 0.0], bound=5, record=("loss",))
    assert [r.label for r in out.runs] == list(optimizers)
    gd, heavy, adam = out.runs
    assert gd.result.steps[0] == gd.predicted_steps == 419  # the README's tour
    assert heavy.result.steps[0] == heavy.predicted_steps
    assert adam.predicted_steps is None and adam.result.status[0] == "converged"
    assert gd.result.loss_history.shape == (gd.result.steps[0] + 1, 1)


def test_the_hutchinson_curve_is_exact_on_a_diagonal_and_falls_like_one_over_root_n():
    exact = hutchinson_curve(np.diag([2.0, 3.0, 5.0]), probes=4)
    assert np.array_equal(exact.estimate, [2.0, 3.0, 5.0]) and np.all(exact.rms == 0)
    H = hl.Quadratic.from_condition(6, 10.0, rotation="random", seed=1).hessian_matrix
    curve = hutchinson_curve(H, probes=4000, seed=2)
    off = H - np.diag(np.diag(H))
    assert curve.per_probe_std == pytest.approx(np.sqrt((off**2).sum(axis=1)))
    assert np.all(np.abs(curve.estimate - np.diag(H)) < 5 * curve.theoretical_std)
    # the error curve follows the derived reference within a small factor over 3 decades
    late = curve.probes >= 100
    assert np.all(curve.rms[late] < 3 * curve.reference[late])
    assert curve.probes[0] == 1 and curve.probes[-1] == 4000
    again = hutchinson_curve(H, probes=100, seed=2)  # the same probes, a shorter sample
    common, i, j = np.intersect1d(again.probes, curve.probes, return_indices=True)
    assert common.size >= 5 and np.allclose(again.rms[i], curve.rms[j])
