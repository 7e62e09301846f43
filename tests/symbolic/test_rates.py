"""Every rate formula against a numeric run of the recurrence it describes (plain numpy)."""

from __future__ import annotations

import numpy as np
import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

from hessian_lab import formulas as Q
from hessian_lab.symbolic import rates as R


@st.composite
def spectra(draw, max_kappa=200.0):
    """Ascending eigenvalues (n in 2..6) with lambda_min = mu, lambda_max = L."""
    n = draw(st.integers(2, 6))
    mu = draw(st.floats(0.05, 5.0))
    kappa = draw(st.floats(2.0, max_kappa))
    inner = draw(st.lists(st.floats(0.0, 1.0), min_size=n - 2, max_size=n - 2))
    L = mu * kappa
    return np.sort(np.array([mu, L, *(mu + t * (L - mu) for t in inner)]))


def measured_rate(step, state, n_steps=3000, window=500):
    """Asymptotic contraction per step of ``state -> step(state)``, renormalising each step."""
    log_norm = []
    total = 0.0
    for _ in range(n_steps):
        state = step(state)
        norm = np.linalg.norm(state)
        total += np.log(norm)
        state = state / norm
        log_norm.append(total)
    return np.exp((log_norm[-1] - log_norm[-1 - window]) / window)


def heavy_ball_step(lr, beta, lam):
    def step(state):
        x, x_prev = state
        return np.array([x - lr * lam * x + beta * (x - x_prev), x])

    return step


def nesterov_step(lr, beta, lam):
    def step(state):
        x, x_prev = state
        y = x + beta * (x - x_prev)
        return np.array([y - lr * lam * y, x])

    return step


def run_quadratic(step_for, eigenvalues, n_steps=400):
    """Norm of the error after ``n_steps`` of a per-eigencomponent recurrence from ones."""
    states = [np.array([1.0, 1.0]) for _ in eigenvalues]
    for _ in range(n_steps):
        states = [step_for(lam)(s) for lam, s in zip(eigenvalues, states, strict=True)]
    return max(np.abs(s).max() for s in states)


# --------------------------------------------------------------------------- GD
@given(eigenvalues=spectra(), fraction=st.floats(0.05, 1.95))
def test_gd_component_contraction_is_one_minus_lr_lambda(eigenvalues, fraction):
    lr = fraction / eigenvalues[-1]
    x = np.ones_like(eigenvalues)
    x_next = x - lr * (eigenvalues * x)  # gradient step on 1/2 sum lam_i x_i^2
    factor = sympy.lambdify((R.lr, R.lam), R.gd_factor, modules="numpy")
    np.testing.assert_allclose(x_next / x, factor(lr, eigenvalues), rtol=0, atol=1e-15)
    assert R.gd_rate(lr, eigenvalues) == pytest.approx(np.abs(x_next / x).max())


@given(eigenvalues=spectra())
def test_gd_optimum_minimises_the_rate_on_a_grid(eigenvalues):
    q = Q.theory_quantities(eigenvalues[0], eigenvalues[-1])
    grid = np.linspace(0.001, 1.999, 4001) / eigenvalues[-1]
    rates = R.gd_rate(grid, eigenvalues)
    assert rates.min() >= q["rate_opt"] - 1e-12
    assert abs(grid[rates.argmin()] - q["lr_opt"]) <= grid[1] - grid[0]
    assert R.gd_rate(q["lr_opt"], eigenvalues) == pytest.approx(q["rate_opt"], rel=1e-12)
    assert (
        R.gd_rate(q["lr_max"] * 0.999, eigenvalues)
        < 1
        < R.gd_rate(q["lr_max"] * 1.001, eigenvalues)
    )


def test_derived_optima_equal_the_closed_forms_from_the_literature():
    mu, L, kappa = R.mu, R.L, R.kappa
    s = sympy.sqrt(kappa)
    q = sympy.sqrt(3 * kappa + 1)
    literature = {
        "lr_max": 2 / L,
        "lr_opt": 2 / (mu + L),
        "rate_opt": (kappa - 1) / (kappa + 1),
        "lr_hb_opt": 4 / (sympy.sqrt(L) + sympy.sqrt(mu)) ** 2,
        "beta_hb_opt": ((s - 1) / (s + 1)) ** 2,
        "rate_hb_opt": (s - 1) / (s + 1),
        "lr_nag_opt": 4 / (3 * L + mu),
        "beta_nag_opt": (q - 2) / (q + 2),
        "rate_nag_opt": 1 - 2 / q,
        "lr_nag_textbook": 1 / L,
        "beta_nag_textbook": (s - 1) / (s + 1),
        "rate_nag_textbook": 1 - 1 / s,
    }
    formulas = R.formulas()
    for name, expected in literature.items():
        difference = sympy.simplify((formulas[name] - expected).subs(L, kappa * mu))
        assert difference == 0, name


# --------------------------------------------------------------------------- momentum
@pytest.mark.parametrize(
    ("method", "step", "radius"),
    [
        (R.heavy_ball, heavy_ball_step, R.heavy_ball_rate),
        (R.nesterov, nesterov_step, R.nesterov_rate),
    ],
)
@pytest.mark.parametrize(("lr", "beta", "lam"), [(0.5, 0.3, 1.0), (0.1, 0.9, 3.0), (1.5, 0.5, 1.0)])
def test_iteration_matrix_and_measured_rate(method, step, radius, lr, beta, lam):
    subs = {R.lr: lr, R.beta: beta, R.lam: lam}
    T = np.array(method.matrix.subs(subs), dtype=float)
    state = np.array([0.7, -0.2])
    np.testing.assert_allclose(T @ state, step(lr, beta, lam)(state), rtol=1e-14)
    poly = sympy.Poly(method.characteristic_polynomial.subs(subs), R.z)
    roots = np.roots(np.array(poly.all_coeffs(), dtype=float))
    np.testing.assert_allclose(np.sort_complex(roots), np.sort_complex(np.linalg.eigvals(T)))
    symbolic = float(method.spectral_radius.subs(subs))
    assert symbolic == pytest.approx(np.abs(roots).max(), rel=1e-12)
    assert radius(lr, beta, [lam]) == pytest.approx(symbolic, rel=1e-12)
    measured = measured_rate(step(lr, beta, lam), np.array([1.0, 0.3]))
    assert measured == pytest.approx(symbolic, rel=0.01)


@given(
    eigenvalues=spectra(max_kappa=100.0), beta=st.floats(0.0, 0.95), fraction=st.floats(0.1, 1.9)
)
def test_heavy_ball_measured_rate_within_one_percent(eigenvalues, beta, fraction):
    lr = fraction * (1 + beta) / eigenvalues[-1]  # inside the stability region
    predicted = R.heavy_ball_rate(lr, beta, eigenvalues)
    measured = max(
        measured_rate(heavy_ball_step(lr, beta, lam), np.array([1.0, 0.5]), 2000, 400)
        for lam in eigenvalues
    )
    assert measured == pytest.approx(predicted, rel=0.01)


@pytest.mark.parametrize("beta", [0.0, 0.5, 0.9])
def test_stability_bounds_just_inside_converge_and_just_outside_diverge(beta):
    for step, bound in (
        (heavy_ball_step, float(R.heavy_ball_stability.subs(R.beta, beta))),
        (nesterov_step, float(R.nesterov_stability.subs(R.beta, beta))),
    ):
        assert (
            run_quadratic(lambda lam, b=bound, s=step: s(b * 0.99, beta, lam), [1.0], 3000) < 1e-3
        )
        assert run_quadratic(lambda lam, b=bound, s=step: s(b * 1.01, beta, lam), [1.0], 3000) > 1e3
        assert run_quadratic(lambda lam, s=step: s(-0.01, beta, lam), [1.0], 3000) > 1  # h <= 0


def test_jury_conditions_match_the_closed_form_bounds():
    for method, bound in (
        (R.heavy_ball, R.heavy_ball_stability),
        (R.nesterov, R.nesterov_stability),
    ):
        for beta in (0.1, 0.6):
            h_edge = float(bound.subs(R.beta, beta))
            for h, stable in ((0.98 * h_edge, True), (1.02 * h_edge, False)):
                subs = {R.beta: beta, R.lr: h, R.lam: 1}
                assert all(bool(c.subs(subs)) for c in method.stability_conditions) is stable


@pytest.mark.parametrize("h", [0.01, 0.2, 0.6])
def test_critical_damping_gives_a_double_root_and_complex_roots_have_modulus_sqrt_beta(h):
    beta_c = float(R.heavy_ball_critical_beta().subs({R.lr: h, R.lam: 1}))
    roots = np.roots([1, -(1 + beta_c - h), beta_c])
    assert abs(roots[0] - roots[1]) < 1e-6  # a double root (sqrt of rounding error)
    beta = beta_c + 0.5 * (1 - beta_c)
    roots = np.roots([1, -(1 + beta - h), beta])
    assert np.iscomplex(roots).all()
    modulus = float(R.heavy_ball.complex_modulus.subs(R.beta, beta))
    np.testing.assert_allclose(np.abs(roots), modulus, rtol=1e-12)


@pytest.mark.parametrize("kappa", [10.0, 100.0])
def test_momentum_optima_minimise_the_spectral_radius_on_a_grid(kappa):
    mu, L = 1.0, kappa
    q = Q.theory_quantities(mu, L)
    dense = np.linspace(mu, L, 101)
    for radius, lr_name, beta_name, rate_name in (
        (R.heavy_ball_rate, "lr_hb_opt", "beta_hb_opt", "rate_hb_opt"),
        (R.nesterov_rate, "lr_nag_opt", "beta_nag_opt", "rate_nag_opt"),
    ):
        lr_opt, beta_opt = q[lr_name], q[beta_name]
        # the radius at the rounded optimum is sqrt-sensitive: sqrt(eps) from the ideal
        assert radius(lr_opt, beta_opt, dense) == pytest.approx(q[rate_name], rel=1e-6)
        lrs, betas = np.meshgrid(
            np.linspace(0.5, 1.5, 61) * lr_opt,
            np.linspace(max(0.0, beta_opt - 0.2), min(0.999, beta_opt + 0.2), 61),
        )
        grid = radius(lrs, betas, dense)
        assert grid.min() >= q[rate_name] - 1e-9
        assert grid.min() <= q[rate_name] + 0.05 * (1 - q[rate_name])  # grid resolution
    textbook = R.nesterov_rate(q["lr_nag_textbook"], q["beta_nag_textbook"], dense)
    assert textbook == pytest.approx(q["rate_nag_textbook"], rel=1e-6)
    assert q["rate_hb_opt"] < q["rate_nag_opt"] < q["rate_nag_textbook"] < q["rate_opt"]


def test_heavy_ball_optimum_beats_gd_by_the_predicted_factor():
    eigenvalues = np.array([1.0, 7.0, 50.0])
    q = Q.theory_quantities(1.0, 50.0)

    def slope(step_for):  # log-error per step between steps 200 and 400
        return (
            np.log(run_quadratic(step_for, eigenvalues, 400))
            - np.log(run_quadratic(step_for, eigenvalues, 200))
        ) / 200

    hb = slope(lambda lam: heavy_ball_step(q["lr_hb_opt"], q["beta_hb_opt"], lam))
    gd = slope(lambda lam: heavy_ball_step(q["lr_opt"], 0.0, lam))
    # the double roots add a factor t to the error: log(2)/200 per step, well inside 3 %
    assert hb / gd == pytest.approx(np.log(q["rate_hb_opt"]) / np.log(q["rate_opt"]), rel=0.03)
    assert hb == pytest.approx(np.log(q["rate_hb_opt"]), rel=0.03)


def test_vectorised_rates_equal_a_loop_of_scalars():
    eigenvalues = np.array([0.5, 2.0, 9.0])
    lrs = np.linspace(0.01, 0.3, 7)[:, None]
    betas = np.linspace(0.0, 0.9, 5)[None, :]
    for radius in (R.heavy_ball_rate, R.nesterov_rate):
        batched = radius(lrs, betas, eigenvalues)
        assert batched.shape == (7, 5)
        loop = [[radius(float(a), float(b), eigenvalues) for b in betas[0]] for a in lrs[:, 0]]
        np.testing.assert_allclose(batched, np.array(loop), rtol=1e-15)
    assert R.gd_rate(lrs[:, 0], eigenvalues).shape == (7,)


# --------------------------------------------------------------------------- Adam and others
def adam(grad_fn, x, lr, beta1, beta2, eps, n_steps):
    """Textbook Adam with bias correction (plain numpy), returning all iterates."""
    m = v = 0.0
    xs = [x]
    for t in range(1, n_steps + 1):
        g = grad_fn(x)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        x = x - lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps)
        xs.append(x)
    return np.array(xs)


def test_adam_without_averaging_is_sign_descent_with_a_two_cycle():
    lr, a = 0.3, 4.0
    step = sympy.lambdify((R.lr, R.g), R.adam_sign_descent_step(), modules="numpy")
    xs = adam(lambda x: a * (x - 1.0), 2.05, lr, 0.0, 0.0, 0.0, 40)
    np.testing.assert_allclose(np.diff(xs), step(lr, a * (xs[:-1] - 1.0)), rtol=1e-12)
    tail = xs[-10:]
    np.testing.assert_allclose(tail[2:], tail[:-2], atol=1e-12)  # a 2-cycle
    assert np.all(np.abs(tail - 1.0) < lr) and abs(tail[-1] - tail[-2]) == pytest.approx(lr)


@pytest.mark.parametrize("beta1", [0.0, 0.5, 0.9])
def test_adam_with_a_frozen_preconditioner_is_stable_below_the_bound(beta1):
    lr = 0.1
    bound = float(R.adam_frozen_stability_bound().subs({R.lr: lr, R.beta1: beta1}))
    H = np.diag([1.0, 3.0])
    P = np.diag([0.5, 2.0])  # frozen preconditioner; P^-1 H has eigenvalues 2 and 1.5

    def final_error(scale):
        Hs = H * scale * bound / 2.0  # lambda_max(P^-1 Hs) = scale * bound
        x, m = np.ones(2), np.zeros(2)
        for _ in range(4000):
            m = beta1 * m + (1 - beta1) * (Hs @ x)
            x = x - lr * np.linalg.solve(P, m)
        return np.abs(x).max()

    assert final_error(0.99) < 1e-3
    assert final_error(1.01) > 1e3


@pytest.mark.parametrize("k", [0.0, 0.5, 1.0, 1.5])
def test_hessian_power_preconditioning(k):
    eigenvalues = np.array([0.5, 2.0, 40.0])
    lr = 0.01
    x = np.ones(3)
    x_next = x - lr * eigenvalues * x / eigenvalues**k
    factor = sympy.lambdify((R.lr, R.lam, R.k), R.hessian_power_factor, modules="numpy")
    np.testing.assert_allclose(x_next / x, factor(lr, eigenvalues, k), rtol=1e-13)
    effective = eigenvalues ** (1 - k)
    kappa = eigenvalues.max() / eigenvalues.min()
    expected = float(R.hessian_power_kappa.subs({R.kappa: kappa, R.k: k}))
    assert effective.max() / effective.min() == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("beta", [0.0, 0.5, 0.9, 0.99])
def test_momentum_steady_state_gains(beta):
    gains = R.momentum_gains()
    v_const = v_alt = 0.0
    for t in range(5000):
        v_const = beta * v_const + 1.0
        v_alt = beta * v_alt + (-1.0) ** t
    assert v_const == pytest.approx(float(gains["gain_constant"].subs(R.beta, beta)), rel=1e-9)
    assert abs(v_alt) == pytest.approx(
        float(gains["gain_alternating"].subs(R.beta, beta)), rel=1e-9
    )


def test_each_recurrence_is_its_matrix_characteristic_polynomial():
    """z^2 - a z + b vanishes at the iteration matrix's eigenvalues (numerically, numpy)."""
    for name, matrix in R.ITERATION_MATRICES.items():
        rec = R.recurrence(name)
        for lr_, beta_, lam_ in [(0.1, 0.5, 3.0), (0.7, 0.9, 2.5), (1.3, 0.2, 1.0)]:
            values = {R.lr: lr_, R.beta: beta_, R.lam: lam_, R.h: lr_ * lam_}
            M = np.array(matrix.subs(values), dtype=float)
            a, b = (float(rec[key].subs(values)) for key in ("a", "b"))
            for root in np.linalg.eigvals(M):
                assert abs(root * root - a * root + b) < 1e-12, name
            if M.shape == (2, 2):
                assert a == pytest.approx(np.trace(M)) and b == pytest.approx(np.linalg.det(M))
