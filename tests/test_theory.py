"""The theory bridge against the engine: predicted steps and rates meet measured ones."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import hessian_lab as hl
from hessian_lab.optimizers.base import Oracle
from hessian_lab.theory import predict, predicted_path


@st.composite
def quadratic_runs(draw):
    """A random positive-definite quadratic, a start, a linear method in its stable range."""
    dim = draw(st.integers(1, 5))
    lam_min = draw(st.floats(0.1, 2.0))
    lam_max = lam_min * draw(st.floats(1.0, 60.0))
    inner = draw(st.lists(st.floats(0.0, 1.0), min_size=dim, max_size=dim))
    eig = lam_min + (lam_max - lam_min) * np.asarray(inner)
    eig[0], eig[-1] = lam_min, lam_max
    rotation = draw(st.sampled_from(["none", "random"]))
    seed = draw(st.integers(0, 2**16))
    coords = st.lists(st.floats(-2.0, 2.0), min_size=dim, max_size=dim)
    problem = hl.Quadratic(eig, rotation=rotation, center=draw(coords), seed=seed)
    x0 = np.asarray(draw(coords))
    assume(np.linalg.norm(x0 - problem.center) > 1e-3)
    method = draw(st.sampled_from(["gd", "momentum", "nesterov", "newton", "diag-newton"]))
    fraction = draw(st.floats(0.05, 0.95))
    if method == "gd":
        optimizer = hl.GD(lr=fraction * 2 / lam_max)
    elif method in ("momentum", "nesterov"):
        beta = draw(st.floats(0.0, 0.95))
        limit = (2 + 2 * beta) if method == "momentum" else (2 + 2 * beta) / (1 + 2 * beta)
        cls = hl.Momentum if method == "momentum" else hl.Nesterov
        optimizer = cls(lr=fraction * limit / lam_max, beta=beta)
    else:
        optimizer = hl.make_optimizer(method, lr=fraction * (2 if method == "newton" else 1))
    criterion = draw(st.sampled_from(hl.CRITERIA))
    tol = 10.0 ** -draw(st.integers(3, 10))
    return problem, optimizer, x0, criterion, tol


@given(quadratic_runs())
def test_predicted_steps_equal_measured_steps(case):
    problem, optimizer, x0, criterion, tol = case
    predicted = predict(problem, optimizer, x0, criterion=criterion, tol=tol, max_steps=20_000)
    assert predicted.available
    # diagonal Newton's stable range depends on the rotation: keep the contracting draws
    assume(predicted.rate[0] < 0.999)
    measured = hl.run(problem, optimizer, x0, criterion=criterion, tol=tol, max_steps=20_000)
    m, p = measured.steps[0], predicted.steps[0]
    assert measured.status[0] == "converged"
    if m == p:
        return
    # One step apart only where the boundary iterate lands within rounding of the tolerance.
    assert abs(m - p) == 1, (m, p)
    boundary = min(m, p)
    value = predicted_path(problem, optimizer, x0, criterion, [boundary])[0, 0]
    assert abs(value - tol) <= 1e-6 * tol, (value, tol)


def test_prediction_is_exact_on_the_steep_valley_for_every_linear_method():
    valley = hl.steep_valley()
    lr_opt = 2 / 101
    methods = [
        hl.GD(lr=lr_opt),
        hl.Momentum(lr=0.175 * lr_opt, beta=0.9),
        hl.Nesterov(lr=0.175 * lr_opt, beta=0.9),
        hl.Newton(lr=0.5),
        hl.DiagonalNewton(lr=0.7),
    ]
    for optimizer in methods:
        for criterion in hl.CRITERIA:
            measured = hl.run(valley, optimizer, [0.0, 0.0], criterion=criterion, bound=5)
            predicted = predict(valley, optimizer, [0.0, 0.0], criterion=criterion)
            assert measured.steps[0] == predicted.steps[0], (optimizer, criterion)


def test_batched_prediction_matches_a_batched_sweep_including_divergent_rows():
    valley = hl.steep_valley()
    lr = np.linspace(0.001, 0.05, 24)
    beta = np.tile([0.0, 0.5, 0.9, 0.99], 6)
    optimizer = hl.Momentum(lr=lr, beta=beta)
    measured = hl.run(valley, optimizer, [0.0, 0.0], tol=1e-8, max_steps=5_000)
    predicted = predict(valley, optimizer, [0.0, 0.0], tol=1e-8, max_steps=5_000)
    converged = measured.converged
    assert converged.sum() > 5 and (~converged).sum() > 2
    np.testing.assert_array_equal(predicted.steps[converged], measured.steps[converged])
    assert np.all(np.isnan(predicted.steps[~converged]))
    assert np.all(predicted.rate[measured.diverged] > 1)


def test_heavy_ball_measured_asymptotic_rate_matches_its_spectral_radius():
    problem = hl.Quadratic.from_condition(6, 50.0, rotation="random", seed=7)
    for lr, beta in [(0.02, 0.5), (0.01, 0.9), (0.03, 0.3)]:
        optimizer = hl.Momentum(lr=lr, beta=beta)
        x0 = np.ones(6)
        result = hl.run(
            problem, optimizer, x0, criterion="grad", tol=1e-300, max_steps=3000, record="x"
        )
        norms = np.linalg.norm(result.x_history[:, 0, :], axis=1)
        half, end = 1500, 3000
        measured = (norms[end] / norms[half]) ** (1 / (end - half))
        predicted = predict(problem, optimizer, x0).rate[0]
        assert measured == pytest.approx(predicted, rel=0.01)


def test_gd_optimal_step_minimises_measured_steps_on_a_fine_grid():
    valley = hl.steep_valley()
    grid = np.linspace(0.5, 0.99, 201) * (2 / 100)  # up to just below lr_max = 2/100
    result = hl.run(valley, hl.GD(lr=grid), [0.0, 0.0], tol=1e-14, max_steps=5_000)
    assert result.converged.all()
    best = grid[np.argmin(result.steps)]
    spacing = grid[1] - grid[0]
    assert abs(best - 2 / 101) <= 2 * spacing


def test_optimal_heavy_ball_beats_the_best_gd_by_the_predicted_factor():
    kappa = 400.0
    problem = hl.Quadratic([1.0, kappa])  # center 0: the iterate is the error, no floor
    x0 = [1.0, 1.0]
    root = math.sqrt(kappa)
    methods = {
        "gd": hl.GD(lr=2 / (1 + kappa)),
        "hb": hl.Momentum(lr=4 / (1 + root) ** 2, beta=((root - 1) / (root + 1)) ** 2),
    }
    rates, steps = {}, {}
    for name, optimizer in methods.items():
        result = hl.run(
            problem, optimizer, x0, criterion="distance", tol=1e-300, max_steps=3000, record="x"
        )
        norms = np.linalg.norm(result.x_history[:, 0, :], axis=1)
        rates[name] = (norms[3000] / norms[1000]) ** (1 / 2000)
        steps[name] = hl.run(
            problem, optimizer, x0, criterion="distance", tol=1e-12, max_steps=100_000
        ).steps[0]
        assert steps[name] == predict(problem, optimizer, x0, "distance", 1e-12, 100_000).steps[0]
    predicted_factor = math.log((root - 1) / (root + 1)) / math.log((kappa - 1) / (kappa + 1))
    measured_factor = math.log(rates["hb"]) / math.log(rates["gd"])
    assert measured_factor == pytest.approx(predicted_factor, rel=0.02)
    # to a finite tolerance the double root's t * R^t transient costs heavy ball a few steps
    assert 0.7 * predicted_factor < steps["gd"] / steps["hb"] < predicted_factor


def test_adaptive_methods_are_reported_without_a_closed_form():
    prediction = predict(hl.steep_valley(), hl.Adam(), [0.0, 0.0])
    assert not prediction.available
    assert "no closed form" in prediction.note
    with pytest.raises(ValueError, match="no closed form"):
        predicted_path(hl.steep_valley(), hl.AdaHessian(), [0.0, 0.0], "loss", [1])


def test_adahessian_denominator_estimates_the_squared_row_norms_of_h():
    """E[(z * Hz)_i^2] = (H^2)_ii: AdaHessian's v tends to the squared row norms, not H_ii^2."""
    problem = hl.Quadratic([1.0, 4.0, 10.0], rotation="random", seed=11)
    H = problem.hessian_matrix
    optimizer = hl.AdaHessian(lr=0.0, betas=(0.0, 0.999), seed=3)
    X = np.zeros((1, 3))
    hp = optimizer.hyperparameters(1, hl.get_backend("numpy"))
    state = optimizer.init(X, hp)
    oracle = Oracle(problem)
    steps = 4000
    for _ in range(steps):
        X, state = optimizer.step(X, state, hp, oracle)
    v_hat = state.v[0] / (1 - 0.999**steps)
    row_norms_sq = np.sum(H * H, axis=1)
    diag_sq = np.diag(H) ** 2
    # D^2 has variance <= 2 (sum_j H_ij^2)^2 per sample; an EMA over ~1000 samples keeps
    # the relative error near 1/sqrt(500): 15% is > 3 standard deviations.
    np.testing.assert_allclose(v_hat, row_norms_sq, rtol=0.15)
    assert np.any(np.abs(v_hat - diag_sq) > 0.3 * diag_sq)


@st.composite
def double_root_runs(draw):
    """A momentum run with one mode ON or NEAR a double root of its recurrence.

    Heavy ball: ``lr*lambda = (1 - sqrt(beta))^2`` (positive root) or ``(1 + sqrt(beta))^2``
    (negative root); Nesterov: ``((1 - beta)/(1 + beta))^2``. The other modes lie in the
    complex range, where the rate is ``sqrt(beta)``-like, so runs stay short.
    """
    method = draw(st.sampled_from(["hb-", "hb+", "nag"]))
    beta = draw(st.floats(0.05, 0.9))
    s = math.sqrt(beta)
    if method == "nag":
        at, low, high = ((1 - beta) / (1 + beta)) ** 2, ((1 - beta) / (1 + beta)) ** 2, 1.0
    else:
        at = (1 - s) ** 2 if method == "hb+" else (1 + s) ** 2
        low, high = (1 - s) ** 2, (1 + s) ** 2
    offset = draw(st.sampled_from([0.0, 1e-15, -1e-15, 1e-9, -1e-9]) | st.floats(-1e-4, 1e-4))
    lr = draw(st.floats(0.1, 2.0))
    others = [draw(st.floats(low, high)) / lr for _ in range(draw(st.integers(0, 2)))]
    eigenvalues = sorted([at * (1 + offset) / lr, *others])
    problem = hl.Quadratic(
        eigenvalues,
        rotation=draw(st.sampled_from(["none", "random"])),
        seed=draw(st.integers(0, 99)),
    )
    x0 = np.asarray(
        draw(st.lists(st.floats(-2.0, 2.0), min_size=len(eigenvalues), max_size=len(eigenvalues)))
    )
    assume(np.linalg.norm(x0) > 1e-2)
    cls = hl.Nesterov if method == "nag" else hl.Momentum
    criterion = draw(st.sampled_from(hl.CRITERIA))
    return problem, cls(lr=lr, beta=beta), x0, criterion, 10.0 ** -draw(st.integers(3, 10))


@given(double_root_runs())
def test_predicted_steps_equal_measured_steps_on_and_near_double_roots(case):
    problem, optimizer, x0, criterion, tol = case
    predicted = predict(problem, optimizer, x0, criterion=criterion, tol=tol, max_steps=20_000)
    measured = hl.run(problem, optimizer, x0, criterion=criterion, tol=tol, max_steps=20_000)
    m, p = measured.steps[0], predicted.steps[0]
    assert measured.status[0] == "converged"
    if m != p:  # one step apart only where the boundary iterate is within rounding of tol
        assert abs(m - p) == 1, (m, p)
        value = predicted_path(problem, optimizer, x0, criterion, [min(m, p)])[0, 0]
        assert abs(value - tol) <= 1e-6 * tol, (value, tol)


def test_heavy_ball_exactly_at_its_negative_double_root_is_predicted():
    """lr*lambda_max = (1 + sqrt(beta))^2: the complex angle sits at pi."""
    lr, beta = 0.58581, 0.90677
    problem = hl.Quadratic([0.414, (1 + math.sqrt(beta)) ** 2 / lr])
    optimizer = hl.Momentum(lr=lr, beta=beta)
    for x0 in ([1.0, 1.0], [0.3, -2.0]):
        for criterion in hl.CRITERIA:
            measured = hl.run(problem, optimizer, x0, criterion=criterion).steps[0]
            assert predict(problem, optimizer, x0, criterion).steps[0] == measured


@pytest.mark.parametrize(
    "optimizer",
    [hl.GD(lr=0.015), hl.Momentum(lr=0.004, beta=0.8), hl.Nesterov(lr=0.006, beta=0.7)],
    ids=lambda o: o.name,
)
def test_predicted_path_at_arbitrary_steps_is_the_engines_history(optimizer):
    problem = hl.Quadratic.from_condition(3, 100.0, rotation="random", seed=5)
    x0 = np.array([1.0, -0.5, 2.0])
    result = hl.run(problem, optimizer, x0, tol=1e-300, max_steps=60, record="x")
    steps = np.array([57, 3, 0, 1, 20, 21, 44])  # unsorted, gaps, neighbours
    X = result.x_history[steps, 0, :]
    E = X - problem.center
    H = problem.hessian_matrix
    expected = {
        "distance": np.linalg.norm(E, axis=1),
        "loss": 0.5 * np.einsum("ti,ij,tj->t", E, H, E),
        "grad": np.linalg.norm(E @ H, axis=1),
    }
    for criterion, values in expected.items():
        path = predicted_path(problem, optimizer, x0, criterion, steps)[:, 0]
        np.testing.assert_allclose(path, values, rtol=1e-10)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_float32_newton_at_kappa_1e7_converges_and_is_not_promised_one_step(backend):
    problem = hl.Quadratic.from_condition(4, 1e7, rotation="random", seed=1)
    x0 = np.ones(4)
    result = hl.run(
        problem, hl.Newton(), x0, dtype="float32", backend=backend, max_steps=30, tol=1e-6
    )
    assert result.status[0] == "converged"  # the float32 pinv cutoff used to drop lambda_min
    assert predict(problem, hl.Newton(), x0, tol=1e-6).steps[0] == 1  # exact arithmetic
    in_float32 = predict(problem, hl.Newton(), x0, tol=1e-6, dtype="float32")
    assert np.isnan(in_float32.steps[0]) and "float32" in in_float32.note
    # where float32 rounding is harmless, the one-step prediction stands
    mild = hl.Quadratic.from_condition(4, 10.0, rotation="random", seed=1)
    assert predict(mild, hl.Newton(), x0, tol=1e-6, dtype="float32").steps[0] == 1
    assert hl.run(mild, hl.Newton(), x0, dtype="float32", backend=backend).steps[0] == 1


def test_a_float32_comparison_reports_newtons_prediction_as_not_holding():
    from hessian_lab.studies import compare

    problem = hl.Quadratic.from_condition(4, 1e7, rotation="random", seed=1)
    backend = hl.get_backend("numpy", "float32")
    run = compare(problem, {"newton": hl.Newton()}, np.ones(4), backend=backend).runs[0]
    assert run.predicted_steps is None and "float32" in run.prediction_note
