"""The momentum explorer (slider notebook): its data against independent references, its
figure, and its ipywidgets callbacks driven headless (no browser, no kernel)."""

from __future__ import annotations

import numpy as np
import pytest

import hessian_lab as hl
from hessian_lab.explorer import MomentumExplorer, momentum_figure, momentum_view
from hessian_lab.plots import MAX_ASPECT, MIN_ASPECT
from hessian_lab.theory import predict


def _by_hand(lr, beta, kappa, steps, nesterov=False):
    """The definition, one mode at a time: heavy ball x+ = x - lr g + beta (x - x_prev);
    Nesterov y = x + beta (x - x_prev), x+ = y - lr grad f(y), from rest at (1, 1)."""
    lam = np.array([1.0, kappa])
    x_prev = x = np.array([1.0, 1.0])
    out = [x]
    for _ in range(steps):
        if nesterov:
            y = x + beta * (x - x_prev)
            x_prev, x = x, y - lr * lam * y
        else:
            x_prev, x = x, x - lr * lam * x + beta * (x - x_prev)
        out.append(x)
    return np.array(out)


@pytest.mark.parametrize("method", ["momentum", "nesterov"])
def test_path_is_the_method_step_by_step(method):
    view = momentum_view(0.012, 0.6, 50.0, method, steps=40)
    reference = _by_hand(0.012, 0.6, 50.0, view.steps, nesterov=method == "nesterov")
    np.testing.assert_allclose(view.path, reference, rtol=1e-12, atol=1e-14)


def test_beta_zero_is_gradient_descent_with_r_equal_one_minus_lr_lambda():
    view = momentum_view(0.15, 0.0, 10.0)
    np.testing.assert_allclose(view.radius, np.abs(1 - 0.15 * view.lams), atol=1e-12)
    np.testing.assert_allclose(view.mode_radius, [0.85, 0.5])
    gd = hl.run(
        hl.Quadratic([1.0, 10.0]),
        hl.GD(lr=0.15),
        [1.0, 1.0],
        criterion="distance",
        tol=1e-8,
        record="x",
    )
    assert view.steps == gd.steps[0]
    np.testing.assert_allclose(view.path, gd.x_history[:, 0, :], rtol=1e-12, atol=1e-15)


def test_at_polyaks_optimum_every_mode_has_rate_sqrt_beta_and_steps_match_the_theory():
    kappa = 64.0
    s = (np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1)
    lr, beta = 4 / (1 + np.sqrt(kappa)) ** 2, s * s  # Polyak's optimum for mu = 1, L = kappa
    view = momentum_view(lr, beta, kappa, steps=500)
    np.testing.assert_allclose(view.mode_radius, np.sqrt(beta), rtol=1e-6)
    # between the two eigenvalues the roots are complex: r = sqrt(beta) on the whole band
    inside = (view.lams > 1.01) & (view.lams < 0.99 * kappa)
    np.testing.assert_allclose(view.radius[inside], np.sqrt(beta), rtol=1e-9)
    problem = hl.Quadratic([1.0, kappa])
    expected = predict(
        problem,
        hl.Momentum(lr=lr, beta=beta),
        [1.0, 1.0],
        criterion="distance",
        tol=1e-8,
        max_steps=500,
    )
    assert view.status == "converged" and view.steps == expected.steps[0]
    assert view.rate == pytest.approx(expected.rate[0], rel=1e-9)


def test_past_the_stability_bound_the_run_diverges_and_grows_for_several_steps():
    view = momentum_view(1.2 * 2 * 1.5 / 100.0, 0.5, 100.0)  # 1.2 x lr_max = 2 (1 + beta) / L
    assert view.lr > view.lr_max and view.rate > 1
    assert view.status == "diverged" and "diverged at step" in view.summary()
    growth = np.linalg.norm(view.path, axis=1)
    assert view.steps >= 5 and np.all(np.diff(growth[-4:]) > 0)
    assert abs(view.path).max() >= 1e3  # stopped at the bound: three decades of growth


def test_nesterov_tolerates_a_smaller_step_than_the_heavy_ball():
    hb, nag = momentum_view(0.03, 0.7, 100.0), momentum_view(0.03, 0.7, 100.0, "nesterov")
    assert hb.lr_max == pytest.approx(2 * 1.7 / 100) and nag.lr_max == pytest.approx(3.4 / 240)
    assert hb.rate < 1 < nag.rate and hb.status == "converged" and nag.status == "diverged"


@pytest.mark.parametrize(
    "kwargs, word",
    [
        ({"lr": 0.0}, "lr"),
        ({"lr": float("nan")}, "lr"),
        ({"beta": 1.0}, "beta"),
        ({"beta": -0.1}, "beta"),
        ({"kappa": 0.5}, "kappa"),
        ({"method": "adam"}, "method"),
    ],
)
def test_bad_input_is_one_error_naming_it(kwargs, word):
    args = {"lr": 0.01, "beta": 0.5, "kappa": 10.0, **kwargs}
    with pytest.raises(ValueError, match=word):
        momentum_view(**args)


def test_figure_is_landscape_and_draws_the_view():
    view = momentum_view(0.03, 0.7, 100.0)
    fig = momentum_figure(view)
    width, height = fig.get_size_inches()
    assert MIN_ASPECT <= width / height <= MAX_ASPECT
    path_ax, modes_ax, rate_ax = fig.axes
    (path_line,) = [line for line in path_ax.lines if line.get_label() == "path x_t"]
    np.testing.assert_array_equal(path_line.get_xydata(), view.path)
    (curve,) = [line for line in rate_ax.lines if line.get_label() == "r(λ)"]
    np.testing.assert_array_equal(curve.get_ydata(), view.radius)
    assert hl.catalog.entry("momentum").color == path_line.get_color()


def test_sliders_redraw_path_modes_and_rate_when_moved():
    explorer = MomentumExplorer(lr=0.03, beta=0.7, kappa=100.0)
    first_png, first = bytes(explorer.image.value), explorer.view
    assert first_png.startswith(b"\x89PNG") and first.status == "converged"

    explorer.kappa.value = 10.0  # the observer runs on the change, as a click would
    assert explorer.view.kappa == pytest.approx(10.0) and explorer.view.eigenvalues[1] == 10.0
    assert bytes(explorer.image.value) != first_png
    assert explorer.view.steps != first.steps

    explorer.beta.value = 0.0
    np.testing.assert_allclose(
        explorer.view.radius, np.abs(1 - explorer.lr.value * explorer.view.lams), atol=1e-12
    )

    explorer.lr.value = 0.5  # past 2 / L = 0.2
    assert explorer.view.status == "diverged" and "diverged at step" in explorer.status.value
    (line,) = [ln for ln in explorer.figure.axes[0].lines if ln.get_label() == "path x_t"]
    np.testing.assert_array_equal(line.get_xydata(), explorer.view.path)

    explorer.method.value = "nesterov"
    assert explorer.view.method == "nesterov"
    assert explorer.figure.axes[0].lines[0].get_color() == hl.catalog.entry("nesterov").color
