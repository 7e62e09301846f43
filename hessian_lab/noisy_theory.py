"""Exact expected loss of the linear methods under gradient noise (the noisy quadratic model).

Every gradient query returns ``H (x - c) + xi``, ``xi ~ N(0, Sigma)``, ``Sigma = S / B``
(:class:`~hessian_lab.noise.GradientNoise`). A linear method moves each mode ``w`` of the
error (:mod:`hessian_lab.theory`: ``e = V w``, eigenvalue ``mu``) by

    w_{t+1} = a w_t - b w_{t-1} + eta_t,     eta_t ~ N(0, q),   q = lr^2 sigma_w,

with the method's ``a``, ``b`` at ``h = lr * mu`` (GD: ``a = 1 - h, b = 0``; heavy ball
``v = beta v + g, x -= lr v``: ``a = 1 + beta - h, b = beta``; Nesterov, whose noise enters
with the gradient at the look-ahead point: ``a = (1 + beta)(1 - h), b = beta (1 - h)``) and
``sigma_w`` the mode's noise variance ``(K Sigma K^T)_ii``: ``K = V^T`` (GD, heavy ball,
Nesterov: ``V = Q``; GD preconditioned by ``P = diag(H)^-p``: ``V = P^(1/2) U``), ``K = P``
on an axis-aligned problem with a preconditioner, ``K = Lambda^+ Q^T`` for Newton.

**Mean and covariance.** ``E w_t`` follows the noiseless recurrence (closed form in
:mod:`hessian_lab.theory`); the variance ``p_t = Var w_t`` and the lag-one covariance
``r_t = Cov(w_t, w_{t-1})`` follow

    p_{t+1} = a^2 p_t - 2 a b r_t + b^2 p_{t-1} + q,    r_{t+1} = a p_t - b r_t,

from ``p_0 = p_{-1} = r_0 = 0`` (a deterministic start). So ``p_t = q sum_{k<t} U_k^2``
(``U_k`` the impulse response, :func:`~hessian_lab.recurrence.u_powers`), evaluated as

    p_t = p_inf (1 - U_t^2 - b^2 U_{t-1}^2) + 2 b U_t U_{t-1} r_inf          (closed form)

with the stationary (AR(2)) moments

    p_inf = (1 + b) q / ((1 - b) ((1 + b)^2 - a^2)),    r_inf = a p_inf / (1 + b),

where modes are clear of the unit circle (``|1 - radius| > 1e-6``: the rounding of
``1 - radius`` costs a relative ``eps / 1e-6``); the few others are
summed step by step. The loss is diagonal in the modes, ``1/2 e^T H e = sum_i
omega_i w_i^2`` (``omega = lambda / 2``, or ``mu / 2`` in a preconditioned basis), so

    E f(x_t) - f* = sum_i omega_i ((E w_{t,i})^2 + p_{t,i}),

exact whether or not ``S`` commutes with ``H``: the cross-covariances of the modes never
reach the loss, only the diagonal of ``K Sigma K^T`` does. ``method="full"`` runs the
full recursion of the ``2d``-dimensional state ``(e_t, e_{t-1})`` instead,

    m_{t+1} = A m_t,    C_{t+1} = A C_t A^T + N,    E f - f* = 1/2 (m^T H m + tr H C_ee),

``O(d^3)`` per step (a reference for small problems). The stationary loss is
``sum_i omega_i p_inf,i`` (the discrete Lyapunov equation ``C = A C A^T + N`` mode by mode,
or densely for ``method="full"``); ``inf`` when a mode with ``omega_i > 0`` is not strictly
inside the stability region (radius >= 1).
"""

from __future__ import annotations

import numpy as np

from .backend import to_numpy
from .optimizers import GD, DiagonalNewton, Momentum, Nesterov, Newton, PreconditionedGD
from .recurrence import Roots, u_powers
from .theory import _column, _linear_model, _modes, _recurrence, preconditioner_power

__all__ = [
    "expected_loss",
    "stationary_loss",
    "loss_parts",
    "mode_noise",
    "ema_stationary_loss",
    "ema_expected_loss",
    "steps_to_target",
    "METHODS",
]

METHODS = ("modes", "full")
#: modes this close to the unit circle are summed step by step (see module doc)
MARGIN = 1e-6
#: entries ``T x B x m`` evaluated at once
_BLOCK = 2**21
_SUPPORTED = (GD, Momentum, Nesterov, PreconditionedGD, DiagonalNewton, Newton)


def _check(problem, optimizer, noise) -> None:
    if not hasattr(problem, "spectrum"):
        raise ValueError("expected loss needs a quadratic problem")
    if not isinstance(optimizer, _SUPPORTED):
        names = "gd, momentum, nesterov, precond-gd, diag-newton, newton"
        raise ValueError(
            f"no exact expected loss for {optimizer.name} (only the linear methods: {names}); "
            "measure it with Monte Carlo rows: run(..., noise=noise)"
        )
    if np.any(_column(getattr(optimizer, "weight_decay", 0.0), 1) != 0):
        raise ValueError("no exact expected loss with weight_decay")
    if noise is not None and not hasattr(noise, "covariance"):
        raise ValueError(f"noise must be a GradientNoise or None; got {noise!r}")


def _gradient_variances(noise, problem, W: np.ndarray | None) -> np.ndarray:
    """``diag(W^T Sigma W)`` ``(m,)``, ``Sigma = S / B``; ``W`` ``(d, m)`` or None for ``I``."""
    if noise is None:
        return np.zeros(problem.dim)
    kind, B = noise.kind, noise.batch_size
    if W is None:
        if kind == "isotropic":
            return np.full(problem.dim, noise.cov / B)
        if kind == "hessian":
            noise.example_covariance(problem)  # checks S = H is a covariance
            return problem.hessian_matrix_diagonal / B
        S = noise.example_covariance(problem)
        return np.diag(S) / B
    if kind == "isotropic":
        return noise.cov / B * np.sum(W * W, axis=0)
    if kind == "diagonal":
        noise.example_covariance(problem)  # checks the dimension
        return (noise.cov / B) @ (W * W)
    S = noise.example_covariance(problem)
    return np.einsum("ji,ji->i", W, S @ W) / B


def mode_noise(problem, optimizer, noise):
    """Per mode: ``mu`` ``(m,)``, the noise variance per unit ``lr^2`` ``(m,)`` and the loss
    weight ``omega`` ``(m,)`` (see module doc)."""
    modes = _modes(problem, optimizer)
    if isinstance(modes, str):
        raise ValueError(modes)
    mu, V, orthonormal = modes
    lam = problem.spectrum
    power = preconditioner_power(optimizer)
    if V is None:  # axis-aligned: w = e
        variance = _gradient_variances(noise, problem, None)
        if power:
            variance = variance * lam ** (-2 * power)
    else:
        variance = _gradient_variances(noise, problem, V)
    if isinstance(optimizer, Newton):  # x -= lr H^+ (g + xi): K = Lambda^+ V^T
        inverse = np.divide(1.0, lam, out=np.zeros_like(lam), where=lam != 0)
        variance = variance * inverse**2
    omega = lam / 2 if orthonormal else mu / 2
    return mu, variance, omega


def _batch(optimizer, x0=None) -> int:
    rows = 1 if x0 is None else np.atleast_2d(np.asarray(to_numpy(x0))).shape[0]
    return max(optimizer.batch_size(), rows)


def _stationary_moments(a, b, q):
    """``p_inf``, ``r_inf`` of ``w_{t+1} = a w_t - b w_{t-1} + eta`` (module doc)."""
    with np.errstate(all="ignore"):
        p = (1 + b) * q / ((1 - b) * ((1 + b) ** 2 - a * a))
        return p, a * p / (1 + b)


def _noise_terms(problem, optimizer, noise, batch):
    """``a``, ``b``, roots ``(B, m)``, ``q`` ``(B, m)`` and ``omega`` ``(m,)``."""
    mu, variance, omega = mode_noise(problem, optimizer, noise)
    rec = _recurrence(optimizer, mu[None, :], batch)
    lr = _column(optimizer.lr, batch)
    q = lr * lr * variance[None, :]
    return rec, Roots.of(rec), np.broadcast_to(q, rec.a.shape), omega


def stationary_loss(problem, optimizer, noise, method: str = "modes"):
    """``lim_t E f(x_t) - f*`` under ``noise``: a float, or ``(B,)`` for B rows of
    hyperparameters; ``inf`` outside the stability region (see module doc)."""
    _check(problem, optimizer, noise)
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
    batch = _batch(optimizer)
    if method == "full":
        values = np.array([_full_stationary(problem, optimizer, noise, i) for i in range(batch)])
    else:
        rec, roots, q, omega = _noise_terms(problem, optimizer, noise, batch)
        p, _ = _stationary_moments(rec.a, rec.b, q)
        weighted = omega != 0
        unstable = np.any((roots.radius >= 1) & weighted, axis=1)
        with np.errstate(all="ignore"):
            values = np.sum(np.where(weighted, omega * np.where(q > 0, p, 0.0), 0.0), axis=1)
        values = np.where(unstable, np.inf, values)
    return float(values[0]) if batch == 1 else values


def expected_loss(problem, optimizer, x0, steps, noise, method: str = "modes"):
    """``E f(x_t) - f*`` at the steps ``t`` in ``steps`` (an int or a sequence of them).

    Returns an array shaped like ``steps`` (one value per step), with a trailing axis of
    B rows when the hyperparameters or ``x0`` ``(B, d)`` have several rows. ``noise``: a
    :class:`~hessian_lab.noise.GradientNoise` (None: the noiseless loss). Linear methods on a
    quadratic only (see module doc); a ValueError says why otherwise.
    """
    _check(problem, optimizer, noise)
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
    t = np.asarray(steps)
    if t.dtype.kind not in "iu" or np.any(t < 0):
        raise ValueError(f"steps must be integers >= 0; got {steps!r}")
    flat = t.reshape(-1).astype(np.int64)
    batch = _batch(optimizer, x0)
    if method == "full":
        X0 = np.broadcast_to(
            np.atleast_2d(np.asarray(to_numpy(x0), dtype=np.float64)), (batch, problem.dim)
        )
        values = np.stack(
            [_full_path(problem, optimizer, X0[i], flat, noise, i) for i in range(batch)], axis=1
        )
    else:
        values = _modes_path(problem, optimizer, x0, flat, noise, batch)
    shape = t.shape if batch == 1 else (*t.shape, batch)
    return values.reshape(shape)


def _modes_path(problem, optimizer, x0, t, noise, batch) -> np.ndarray:
    """``(T, B)``: the mean's loss from the closed form plus ``sum omega p_t``."""
    mean, spread = loss_parts(problem, optimizer, x0, t, noise, batch)
    return mean + spread


def loss_parts(problem, optimizer, x0, t, noise, batch=None):
    """``E f(x_t) - f*`` in two parts ``(T, B)`` each: the loss of the mean path and the
    noise's ``sum_i omega_i p_{t,i}`` (proportional to ``1 / batch_size``: the same
    optimizer under ``noise.with_batch_size(k B)`` has ``1/k`` of it). ``t``: ``(T,)`` ints.
    """
    batch = _batch(optimizer, x0) if batch is None else batch
    t = np.asarray(t, dtype=np.int64).reshape(-1)
    model = _linear_model(problem, optimizer, x0)
    if isinstance(model, str):
        raise ValueError(model)
    rec, roots, q, omega = _noise_terms(problem, optimizer, noise, batch)
    mean = np.empty((t.size, batch))
    spread = np.zeros((t.size, batch))
    m = rec.a.shape[1]
    size = max(1, _BLOCK // (batch * m))
    p_inf, r_inf = _stationary_moments(rec.a, rec.b, q)
    noisy = q > 0
    near = _near_unit_circle(rec, roots) & noisy
    far = noisy & ~near
    W0_sq = model.W0 * model.W0  # the mean's loss: sum_i omega_i (w0_i (U_t - b U_{t-1}))^2
    with np.errstate(all="ignore"):
        for start in range(0, t.size, size):
            part = t[start : start + size]
            U = u_powers(roots, np.concatenate([part - 1, part]))
            U_prev, U_now = U[: part.size], U[part.size :]
            b = rec.b
            mean[start : start + size] = np.sum(omega * W0_sq * (U_now - b * U_prev) ** 2, -1)
            if not far.any():
                continue
            p = p_inf * (1 - U_now**2 - b * b * U_prev**2) + 2 * b * U_now * U_prev * r_inf
            spread[start : start + size] = np.sum(np.where(far, omega * p, 0.0), axis=-1)
    if near.any():
        spread += _summed_variance(rec.a, rec.b, q, omega, near, t)
    return mean, spread


def _near_unit_circle(rec, roots) -> np.ndarray:
    """Modes where ``r1^2``, ``r1 r2 = b`` or ``r2^2`` is within ``MARGIN`` of 1: there the
    closed form would divide by (nearly) zero."""
    r2 = np.where(roots.oscillating, roots.radius, np.abs(roots.q) * roots.radius)
    return (
        (np.abs(1 - roots.radius) <= MARGIN)
        | (np.abs(1 - rec.b) <= MARGIN)
        | (np.abs(1 - r2) <= MARGIN)
    )


def _summed_variance(a, b, q, omega, near, t) -> np.ndarray:
    """``sum_i omega_i p_{t,i}`` over the ``near`` modes: ``(T, B)``.

    The moments ``x_t = (p_t, r_t, p_{t-1})`` move by ``x_{t+1} = M x_t + q e_0`` with
    ``M = [[a^2, -2ab, b^2], [a, -b, 0], [1, 0, 0]]``, so ``x_t = q (sum_{k<t} M^k) e_0``:
    summed by doubling (``S_2n = S_n + M^n S_n``) and the binary digits of ``t``, about
    ``2 log2 t`` 3x3 products per mode and step asked for, with no division by
    ``1 - radius``.
    """
    rows, cols = np.nonzero(near)
    a, b, q, w = a[rows, cols], b[rows, cols], q[rows, cols], omega[cols]
    zero = np.zeros_like(a)
    M = np.stack(
        [
            np.stack([a * a, -2 * a * b, b * b], -1),
            np.stack([a, -b, zero], -1),
            np.stack([np.ones_like(a), zero, zero], -1),
        ],
        -2,
    )  # (K, 3, 3)
    s = np.zeros((a.size, 3))
    s[:, 0] = 1.0  # S_1 e_0
    powers, sums = [], []
    top = int(t.max()) if t.size else 0
    with np.errstate(all="ignore"):
        while (1 << len(powers)) <= top:
            powers.append(M)
            sums.append(s)
            s = s + np.einsum("kij,kj->ki", M, s)
            M = M @ M
        out = np.zeros((t.size, near.shape[0]))
        for i, step in enumerate(t):
            vec = np.zeros((a.size, 3))
            P = None
            for j in range(len(powers)):
                if (int(step) >> j) & 1:
                    part = sums[j] if P is None else np.einsum("kij,kj->ki", P, sums[j])
                    vec += part
                    P = powers[j] if P is None else P @ powers[j]
            np.add.at(out[i], rows, w * q * vec[:, 0])
    return out


# ------------------------------------------------------------------- the full recursion
def _row_value(value, row: int) -> float:
    values = np.asarray(to_numpy(value), dtype=np.float64).reshape(-1)
    return float(values[row if values.size > 1 else 0])


def _full_system(problem, optimizer, noise, row: int):
    """``A`` ``(2d, 2d)``, ``N`` ``(2d, 2d)`` of the state ``(e_t, e_{t-1})`` for one row."""
    d = problem.dim
    H = problem.hessian_matrix
    lr = _row_value(optimizer.lr, row)
    beta = _row_value(getattr(optimizer, "beta", 0.0), row)
    identity = np.eye(d)
    if isinstance(optimizer, Newton):
        P = np.linalg.pinv(H)
    elif isinstance(optimizer, (PreconditionedGD, DiagonalNewton)):
        power = 1.0 if isinstance(optimizer, DiagonalNewton) else _row_value(optimizer.power, row)
        P = np.diag(np.diag(H) ** -power)
    else:
        P = identity
    step = identity - lr * P @ H
    if isinstance(optimizer, Momentum):
        first, second = (1 + beta) * identity - lr * H, -beta * identity
    elif isinstance(optimizer, Nesterov):
        first, second = (1 + beta) * step, -beta * step
    else:
        first, second = step, np.zeros((d, d))
    A = np.block([[first, second], [identity, np.zeros((d, d))]])
    N = np.zeros((2 * d, 2 * d))
    if noise is not None:
        N[:d, :d] = lr * lr * P @ noise.covariance(problem) @ P.T
    return A, N, H


def _full_path(problem, optimizer, x0, t, noise, row) -> np.ndarray:
    A, N, H = _full_system(problem, optimizer, noise, row)
    d = problem.dim
    e0 = x0 - problem.center
    m = np.concatenate([e0, e0])
    C = np.zeros_like(N)
    out = np.empty(t.size)
    for step in range(int(t.max()) + 1 if t.size else 0):
        hit = t == step
        if hit.any():
            e = m[:d]
            out[hit] = 0.5 * (e @ H @ e + np.trace(H @ C[:d, :d]))
        m = A @ m
        C = A @ C @ A.T + N
    return out


def _full_stationary(problem, optimizer, noise, row) -> float:
    A, N, H = _full_system(problem, optimizer, noise, row)
    d = problem.dim
    if np.max(np.abs(np.linalg.eigvals(A))) >= 1:
        return np.inf
    n = A.shape[0]
    C = np.linalg.solve(np.eye(n * n) - np.kron(A, A), N.reshape(-1)).reshape(n, n)
    return float(0.5 * np.trace(H @ C[:d, :d]))


# -------------------------------------------------------------- averaged iterates (EMA)
def _ema_system(rec, decay: float):
    """The per-mode transition ``A`` ``(B, m, 3, 3)`` of ``(w_t, w_{t-1}, u_t)`` and the
    noise direction ``n`` (see :func:`ema_stationary_loss`)."""
    a, b = rec.a, rec.b
    g = float(decay)
    zero, one = np.zeros_like(a), np.ones_like(a)
    A = np.stack(
        [
            np.stack([a, -b, zero], -1),
            np.stack([one, zero, zero], -1),
            np.stack([(1 - g) * a, -(1 - g) * b, g * one], -1),
        ],
        -2,
    )
    return A, np.array([1.0, 0.0, 1 - g])


def _checked_decay(decay) -> float:
    if not 0 <= decay < 1:
        raise ValueError(f"decay must be in [0, 1); got {decay!r}")
    return float(decay)


def ema_expected_loss(problem, optimizer, x0, steps, noise, decay: float):
    """``E f(u_t) - f*`` at the steps ``t`` in ``steps`` for the exponential moving average
    of the iterates, ``u_0 = x_0``, ``u_{t+1} = decay u_t + (1 - decay) x_{t+1}``.

    Per mode the mean and the covariance of ``(w_t, w_{t-1}, u_t)`` are run step by step,
    ``m_{t+1} = A m_t`` from ``m_0 = (w_0, w_0, w_0)`` and ``C_{t+1} = A C_t A^T + q n n^T``
    from ``C_0 = 0`` (``A``, ``n`` as in :func:`ema_stationary_loss`), and the loss is
    ``sum_i omega_i (m_u^2 + C_uu)``: ``O(max(steps) m)`` work. ``decay = 0`` is
    :func:`expected_loss`; the limit is :func:`ema_stationary_loss`. Shapes as
    :func:`expected_loss`.
    """
    _check(problem, optimizer, noise)
    g = _checked_decay(decay)
    t = np.asarray(steps)
    if t.dtype.kind not in "iu" or np.any(t < 0):
        raise ValueError(f"steps must be integers >= 0; got {steps!r}")
    flat = t.reshape(-1).astype(np.int64)
    batch = _batch(optimizer, x0)
    model = _linear_model(problem, optimizer, x0)
    if isinstance(model, str):
        raise ValueError(model)
    rec, _, q, omega = _noise_terms(problem, optimizer, noise, batch)
    A, n = _ema_system(rec, g)
    W0 = np.broadcast_to(model.W0, rec.a.shape)
    mean = np.stack([W0, W0, W0], -1)  # (B, m, 3)
    cov = np.zeros((*rec.a.shape, 3, 3))
    kick = q[..., None, None] * np.outer(n, n)
    wanted = {int(k) for k in flat}
    found = {}
    with np.errstate(all="ignore"):
        for step in range(int(flat.max(initial=0)) + 1):
            if step in wanted:
                loss = omega * (mean[..., 2] ** 2 + cov[..., 2, 2])
                found[step] = np.sum(np.where(omega != 0, loss, 0.0), axis=-1)
            mean = np.einsum("...ij,...j->...i", A, mean)
            cov = A @ cov @ np.swapaxes(A, -1, -2) + kick
    values = np.stack([found[int(k)] for k in flat])  # (T, B)
    shape = t.shape if batch == 1 else (*t.shape, batch)
    return values.reshape(shape)


def ema_stationary_loss(problem, optimizer, noise, decay: float):
    """``lim E f(u_t) - f*`` for the exponential moving average of the iterates,
    ``u_{t+1} = decay u_t + (1 - decay) x_{t+1}``: a float, or ``(B,)`` for B rows.

    Per mode the state ``(w_t, w_{t-1}, u_t)`` moves by ``A = [[a, -b, 0], [1, 0, 0],
    [(1-g) a, -(1-g) b, g]]`` (``g`` the decay) with noise ``q n n^T``, ``n = (1, 0, 1-g)``;
    the stationary covariance solves ``C = A C A^T + q n n^T`` (a 9x9 linear system per
    mode) and the loss is ``sum_i omega_i C_uu``. ``inf`` outside the stability region.
    """
    _check(problem, optimizer, noise)
    g = _checked_decay(decay)
    batch = _batch(optimizer)
    rec, roots, q, omega = _noise_terms(problem, optimizer, noise, batch)
    A, n = _ema_system(rec, g)  # (B, m, 3, 3)
    system = np.eye(9) - np.einsum("...ij,...kl->...ikjl", A, A).reshape(*A.shape[:-2], 9, 9)
    rhs = np.broadcast_to(np.outer(n, n).reshape(9), (*A.shape[:-2], 9))[..., None]
    weighted = omega != 0
    unstable = np.any((roots.radius >= 1) & weighted, axis=1)
    with np.errstate(all="ignore"):
        safe = np.where(((roots.radius >= 1) | (q == 0))[..., None, None], np.eye(9), system)
        C_uu = np.linalg.solve(safe, rhs)[..., 8, 0] * q
        values = np.sum(np.where(weighted & (q > 0), omega * C_uu, 0.0), axis=1)
    values = np.where(unstable, np.inf, values)
    return float(values[0]) if batch == 1 else values


def steps_to_target(problem, optimizer, x0, target: float, noise, max_steps: int = 100_000):
    """The first step ``t <= max_steps`` with ``E f(x_t) - f* <= target`` (None if none).

    Looked for on a log grid of 60 steps, then bisected to the exact step between the two
    grid points around the first crossing: exact where ``E f`` decreases through the target
    there (as it does from a start above the noise floor). One row of hyperparameters.
    """
    t = np.unique(np.concatenate([[0], np.round(np.geomspace(1, max_steps, 60))])).astype(int)
    values = np.asarray(expected_loss(problem, optimizer, x0, t, noise)).reshape(t.size, -1)
    if values.shape[1] != 1:
        raise ValueError("steps_to_target takes one row of hyperparameters")
    hit = np.flatnonzero(values[:, 0] <= target)
    if hit.size == 0:
        return None
    k = hit[0]
    if k == 0:
        return 0
    lo, hi = int(t[k - 1]), int(t[k])
    while hi - lo > 1:  # E f(lo) > target >= E f(hi)
        mid = (lo + hi) // 2
        if expected_loss(problem, optimizer, x0, mid, noise) <= target:
            hi = mid
        else:
            lo = mid
    return hi
