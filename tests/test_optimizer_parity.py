"""Parity with torch.optim (and torch_optimizer.Adahessian) in float64 on random quadratics.

The reference is the ordinary torch training loop: a leaf tensor with ``requires_grad``,
``loss = 1/2 (x-c)^T H (x-c)``, ``loss.backward()``, ``opt.step()``. Our side runs the
same problem through the engine on both backends and records every iterate.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch_optimizer
from helpers import direct_iterates

import hessian_lab as hl
from hessian_lab.backend import Backend

STEPS = 60
RTOL = 1e-12


def random_spd(seed: int, d: int = 5, rotated: bool = True):
    """A random quadratic built here: Haar Q (QR of a Gaussian, signs fixed), random spectrum."""
    rng = np.random.default_rng(seed)
    lam = rng.uniform(0.5, 5.0, size=d)
    if rotated:
        Q, R = np.linalg.qr(rng.standard_normal((d, d)))
        Q = Q * np.sign(np.diag(R))
        H = Q @ np.diag(lam) @ Q.T
        H = (H + H.T) / 2
    else:
        Q, H = "none", np.diag(lam)
    c = rng.uniform(-1, 1, size=d)
    x0 = rng.uniform(-2, 2, size=d)
    return hl.Quadratic(lam, rotation=Q, center=c), H, c, x0


def torch_reference(H, c, x0, make_opt, steps=STEPS, create_graph=False):
    """Iterates ``(steps + 1, d)`` of a torch optimizer on ``1/2 (x-c)^T H (x-c)``."""
    Ht = torch.as_tensor(H, dtype=torch.float64)
    ct = torch.as_tensor(c, dtype=torch.float64)
    x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    opt = make_opt([x])
    out = [x.detach().clone()]
    for _ in range(steps):
        opt.zero_grad(set_to_none=True)
        e = x - ct
        loss = 0.5 * (e @ Ht @ e)
        loss.backward(create_graph=create_graph)
        opt.step()
        out.append(x.detach().clone())
    return torch.stack(out).numpy()


def our_iterates(problem, optimizer, x0, backend_name, steps=STEPS):
    """Our iterates ``(steps + 1, d)`` through the engine (runs all ``steps`` updates)."""
    result = hl.run(
        problem,
        optimizer,
        x0,
        criterion="grad",
        tol=1e-300,
        max_steps=steps,
        record="x",
        backend=Backend(backend_name),
    )
    assert result.status[0] == "max_steps" and result.steps[0] == steps
    assert result.x_history.shape == (steps + 1, 1, problem.dim)
    return result.x_history[:, 0, :]


def assert_parity(ours, ref, rtol=RTOL):
    scale = np.abs(ref).max()
    np.testing.assert_allclose(ours, ref, rtol=rtol, atol=rtol * scale)
    # the run moved: a parity on a frozen iterate would prove nothing
    assert np.abs(ref[-1] - ref[0]).max() > 1e-3 * scale


CASES = {
    "sgd": (hl.GD(lr=0.15), lambda p: torch.optim.SGD(p, lr=0.15)),
    "sgd-wd": (
        hl.GD(lr=0.15, weight_decay=0.1),
        lambda p: torch.optim.SGD(p, lr=0.15, weight_decay=0.1),
    ),
    "momentum": (
        hl.Momentum(lr=0.05, beta=0.8),
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.8),
    ),
    "momentum-wd": (
        hl.Momentum(lr=0.05, beta=0.8, weight_decay=0.2),
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.8, weight_decay=0.2),
    ),
    "adagrad": (hl.AdaGrad(lr=0.3), lambda p: torch.optim.Adagrad(p, lr=0.3)),
    "adagrad-full": (
        hl.AdaGrad(lr=0.5, lr_decay=0.05, initial_accumulator_value=0.3, weight_decay=0.1),
        lambda p: torch.optim.Adagrad(
            p, lr=0.5, lr_decay=0.05, initial_accumulator_value=0.3, weight_decay=0.1
        ),
    ),
    # RMSProp's step g / sqrt(s) is sign-like: once a coordinate reaches the rounding floor
    # near c it amplifies 1-ulp differences, so the lr keeps 60 steps in the transient.
    "rmsprop": (
        hl.RMSProp(lr=0.004, alpha=0.9),
        lambda p: torch.optim.RMSprop(p, lr=0.004, alpha=0.9),
    ),
    "rmsprop-momentum": (
        hl.RMSProp(lr=0.005, alpha=0.95, momentum=0.7),
        lambda p: torch.optim.RMSprop(p, lr=0.005, alpha=0.95, momentum=0.7),
    ),
    "rmsprop-centered": (
        hl.RMSProp(lr=0.004, alpha=0.9, centered=True),
        lambda p: torch.optim.RMSprop(p, lr=0.004, alpha=0.9, centered=True),
    ),
    "rmsprop-all": (
        hl.RMSProp(lr=0.005, alpha=0.9, eps=1e-6, weight_decay=0.1, momentum=0.5, centered=True),
        lambda p: torch.optim.RMSprop(
            p, lr=0.005, alpha=0.9, eps=1e-6, weight_decay=0.1, momentum=0.5, centered=True
        ),
    ),
    "adam": (
        hl.Adam(lr=0.05, betas=(0.9, 0.99)),
        lambda p: torch.optim.Adam(p, lr=0.05, betas=(0.9, 0.99)),
    ),
    "adam-wd": (
        hl.Adam(lr=0.05, betas=(0.8, 0.999), eps=1e-6, weight_decay=0.1),
        lambda p: torch.optim.Adam(p, lr=0.05, betas=(0.8, 0.999), eps=1e-6, weight_decay=0.1),
    ),
    "amsgrad": (
        hl.Adam(lr=0.05, betas=(0.9, 0.99), amsgrad=True),
        lambda p: torch.optim.Adam(p, lr=0.05, betas=(0.9, 0.99), amsgrad=True),
    ),
    "adamw": (
        hl.AdamW(lr=0.05, betas=(0.9, 0.99), weight_decay=0.1),
        lambda p: torch.optim.AdamW(p, lr=0.05, betas=(0.9, 0.99), weight_decay=0.1),
    ),
    "adamw-default-decay": (
        hl.AdamW(lr=0.05),
        lambda p: torch.optim.AdamW(p, lr=0.05),
    ),
    "adamw-amsgrad": (
        hl.AdamW(lr=0.05, weight_decay=0.3, amsgrad=True),
        lambda p: torch.optim.AdamW(p, lr=0.05, weight_decay=0.3, amsgrad=True),
    ),
}


@pytest.mark.parametrize("backend_name", ["numpy", "torch"])
@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("case", list(CASES))
def test_parity_with_torch_optim(case, seed, backend_name):
    ours_opt, make_ref = CASES[case]
    problem, H, c, x0 = random_spd(100 + seed)
    ref = torch_reference(H, c, x0, make_ref)
    ours = our_iterates(problem, ours_opt, x0, backend_name)
    assert_parity(ours, ref)


def test_torch_defaults_are_ours():
    """Our defaults are torch.optim's (so 'the same optimizer' means the same numbers)."""
    pairs = [
        (hl.AdaGrad(), torch.optim.Adagrad, ("lr", "lr_decay", "weight_decay", "eps")),
        (hl.RMSProp(), torch.optim.RMSprop, ("lr", "alpha", "eps", "weight_decay", "momentum")),
        (hl.Adam(), torch.optim.Adam, ("lr", "betas", "eps", "weight_decay", "amsgrad")),
        (hl.AdamW(), torch.optim.AdamW, ("lr", "betas", "eps", "weight_decay", "amsgrad")),
    ]
    x = torch.zeros(1, requires_grad=True)
    for ours, cls, names in pairs:
        group = cls([x]).defaults
        for name in names:
            assert getattr(ours, name) == pytest.approx(group[name]), (cls.__name__, name)


# ------------------------------------------------------------------------------- Nesterov


@pytest.mark.parametrize("backend_name", ["numpy", "torch"])
@pytest.mark.parametrize(("lr", "beta", "wd"), [(0.05, 0.8, 0.0), (0.1, 0.5, 0.1)])
def test_nesterov_is_torch_nesterov_after_change_of_variables(backend_name, lr, beta, wd):
    """torch's parameter p_t equals our look-ahead point y_t = x_t + beta (x_t - x_{t-1})."""
    problem, H, c, x0 = random_spd(7)
    opt = hl.Nesterov(lr=lr, beta=beta, weight_decay=wd)
    ref = torch_reference(
        H, c, x0, lambda p: torch.optim.SGD(p, lr=lr, momentum=beta, nesterov=True, weight_decay=wd)
    )
    x = direct_iterates(problem, opt, x0, STEPS, backend_name)
    y = x.copy()
    y[1:] = x[1:] + beta * (x[1:] - x[:-1])  # y_0 = x_0 (x_{-1} = x_0)
    assert_parity(y, ref)
    # the change of variables matters: the two sequences themselves differ
    assert np.abs(x[1:] - ref[1:]).max() > 1e-3
    # the engine records the same x sequence as the direct init/step loop
    engine_x = our_iterates(problem, opt, x0, backend_name)
    np.testing.assert_allclose(engine_x, x, rtol=1e-14, atol=1e-14)


def test_momentum_is_polyak_heavy_ball():
    """Heavy ball in torch's form equals x_{t+1} = x_t - lr g_t + beta (x_t - x_{t-1})."""
    problem, H, c, x0 = random_spd(8)
    lr, beta = 0.05, 0.8
    x = our_iterates(problem, hl.Momentum(lr=lr, beta=beta), x0, "numpy")
    polyak = [x0, x0 - lr * H @ (x0 - c)]
    for _ in range(STEPS - 1):
        xt, xp = polyak[-1], polyak[-2]
        polyak.append(xt - lr * H @ (xt - c) + beta * (xt - xp))
    assert_parity(x, np.array(polyak), rtol=1e-11)


# ----------------------------------------------------------------------------- AdaHessian


def adahessian_reference(lam, c, x0, steps=STEPS, **kwargs):
    """torch_optimizer.Adahessian on the axis-aligned quadratic 1/2 sum lam (x-c)^2."""
    lam_t = torch.as_tensor(lam, dtype=torch.float64)
    ct = torch.as_tensor(c, dtype=torch.float64)
    x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    opt = torch_optimizer.Adahessian([x], **kwargs)
    out = [x.detach().clone()]
    for _ in range(steps):
        opt.zero_grad(set_to_none=True)
        loss = 0.5 * (lam_t * (x - ct) ** 2).sum()
        loss.backward(create_graph=True)
        opt.step()
        out.append(x.detach().clone())
    return torch.stack(out).numpy()


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True:UserWarning")
@pytest.mark.parametrize("backend_name", ["numpy", "torch"])
@pytest.mark.parametrize(
    "kwargs",
    [
        {"lr": 0.15, "betas": (0.9, 0.999), "eps": 1e-4, "hessian_power": 1.0},
        {"lr": 0.15, "betas": (0.9, 0.999), "eps": 1e-4, "hessian_power": 0.5},
        {"lr": 0.1, "betas": (0.8, 0.99), "eps": 1e-6, "hessian_power": 1.0, "weight_decay": 0.1},
        {"lr": 0.2, "betas": (0.5, 0.9), "eps": 1e-3, "hessian_power": 0.5, "weight_decay": 0.05},
    ],
    ids=["k1", "k0.5", "k1-wd", "k0.5-wd"],
)
def test_adahessian_matches_torch_optimizer(backend_name, kwargs):
    """On a diagonal H every probe gives D = |diag H|, so the two runs are deterministic.

    torch_optimizer applies weight decay as ours does (inside the lr-scaled update, outside
    the gradient and the moments): ``p <- p - lr (m_hat / den + wd p)``.
    """
    problem, H, c, x0 = random_spd(21, d=6, rotated=False)
    lam = np.diag(H).copy()
    ref = adahessian_reference(lam, c, x0, **kwargs)
    ours = our_iterates(problem, hl.AdaHessian(seed=3, **kwargs), x0, backend_name)
    assert_parity(ours, ref)


def test_adahessian_default_power_differs_from_torch_optimizer():
    """Ours defaults to hessian_power = 1 (the paper); torch_optimizer's default is 0.5."""
    assert hl.AdaHessian().hessian_power == 1.0
    x = torch.zeros(1, requires_grad=True)
    assert torch_optimizer.Adahessian([x]).defaults["hessian_power"] == 0.5
    ours = hl.AdaHessian()
    assert ours.lr == 0.15 and ours.betas == (0.9, 0.999) and ours.eps == 1e-4


# --------------------------------------------------------------------------------- Newton


@pytest.mark.parametrize("backend_name", ["numpy", "torch"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_newton_solves_an_spd_quadratic_in_one_step(backend_name, seed):
    problem, H, c, x0 = random_spd(300 + seed, d=6)
    x = our_iterates(problem, hl.Newton(lr=1.0), x0, backend_name, steps=1)
    np.testing.assert_allclose(x[1], c, rtol=0, atol=1e-12 * (1 + np.abs(x0).max()))
    # and through the engine: one step to a tight distance tolerance
    result = hl.run(problem, hl.Newton(), x0, criterion="distance", tol=1e-10, backend=backend_name)
    assert result.status[0] == "converged" and result.steps[0] == 1
    # a damped step lands at x0 + lr (c - x0)
    x = our_iterates(problem, hl.Newton(lr=0.3), x0, backend_name, steps=1)
    np.testing.assert_allclose(x[1], x0 + 0.3 * (c - x0), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("backend_name", ["numpy", "torch"])
def test_diagonal_newton_solves_an_axis_aligned_quadratic_in_one_step(backend_name):
    problem, H, c, x0 = random_spd(400, d=6, rotated=False)
    x = our_iterates(problem, hl.DiagonalNewton(lr=1.0), x0, backend_name, steps=1)
    np.testing.assert_allclose(x[1], c, rtol=0, atol=1e-14 * (1 + np.abs(x0).max()))
    # on a rotated H it is only a preconditioner: one step does not reach c
    rotated, H, c, x0 = random_spd(401, d=6)
    x = our_iterates(rotated, hl.DiagonalNewton(lr=1.0), x0, backend_name, steps=1)
    np.testing.assert_allclose(x[1], x0 - (H @ (x0 - c)) / np.diag(H), rtol=1e-12, atol=1e-12)
    assert np.abs(x[1] - c).max() > 1e-3
