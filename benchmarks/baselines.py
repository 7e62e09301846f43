"""Reference implementations the engine is measured against (see README.md).

Each one runs the *same* arithmetic and the *same* stopping rule as the engine call it is
compared with, so the step counts agree and a time per step is a fair comparison:

- :func:`torch_sgd_loop`: one configuration at a time, ``torch.optim.SGD(momentum=beta)``,
  the loop a user writes (forward, check, backward, step);
- :func:`jax_heavy_ball`: ``jax.vmap`` over a jitted ``jax.lax.while_loop`` (float64, CPU);
- :func:`bare_numpy_heavy_ball`: a hand-written NumPy loop, in place, compacting finished
  rows, with no library layer at all;
- :func:`bare_adahessian_pass`: the AdaHessian step as a fixed sequence of NumPy kernels on
  preallocated buffers (``out=``), the same vector reads and writes and nothing else.
"""

from __future__ import annotations

import time

import numpy as np

# --- figure 1: heavy ball on the steep valley -------------------------------------------


def torch_sgd_loop(lr, beta, lam, c, tol, max_steps, bound):
    """One run, the way a user writes it; returns ``(steps, status)``.

    The loss is checked at the iterate before every update (step 0 included), exactly the
    engine's rule: converged when ``f <= tol`` (here f* = 0), diverged when ``|x_i| >=
    bound`` or ``f`` is not finite, ``max_steps`` otherwise.
    """
    import torch

    lam_t = torch.as_tensor(lam, dtype=torch.float64)
    c_t = torch.as_tensor(c, dtype=torch.float64)
    x = torch.zeros(lam_t.shape[0], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([x], lr=float(lr), momentum=float(beta))
    for step in range(max_steps + 1):
        opt.zero_grad()
        e = x - c_t
        loss = 0.5 * torch.dot(e, lam_t * e)
        value = loss.item()
        if not (value == value and abs(value) != float("inf")):
            return step, "diverged"
        if float(x.detach().abs().max()) >= bound:
            return step, "diverged"
        if value <= tol:
            return step, "converged"
        if step == max_steps:
            return step, "max_steps"
        loss.backward()
        opt.step()
    raise AssertionError("unreachable")


def make_jax_heavy_ball(lam, c, tol, max_steps, bound):
    """``jax.jit(jax.vmap(one_run))`` in float64; returns ``(fn, jax module)``."""
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    lam_j = jnp.asarray(lam, dtype=jnp.float64)
    c_j = jnp.asarray(c, dtype=jnp.float64)

    def loss_grad(x):
        e = x - c_j
        g = lam_j * e
        return 0.5 * jnp.dot(e, g), g

    def finished(x, f):
        return (f <= tol) | ~jnp.isfinite(f) | ~(jnp.max(jnp.abs(x)) < bound)

    def one(lr, beta):
        x0 = jnp.zeros_like(lam_j)
        f0, g0 = loss_grad(x0)

        def cond(s):
            t, _x, _v, _g, _f, done = s
            return (~done) & (t < max_steps)

        def body(s):
            t, x, v, g, _f, _done = s
            v = beta * v + g
            x = x - lr * v
            f, g = loss_grad(x)
            return t + 1, x, v, g, f, finished(x, f)

        state = (jnp.int64(0), x0, jnp.zeros_like(x0), g0, f0, finished(x0, f0))
        t, x, _v, _g, f, _done = jax.lax.while_loop(cond, body, state)
        return t, f

    return jax.jit(jax.vmap(one)), jax


def bare_numpy_heavy_ball(lr, beta, lam, c, tol, max_steps, bound):
    """Hand-written NumPy heavy ball over all rows, compacting finished rows.

    Returns ``(steps, active_row_steps)``. The arithmetic is the engine's: ``v = beta v +
    g``, ``x = x - lr v``, ``e = x - c``, ``g = lam e``, ``f = 1/2 e.g``, then the stopping
    rule; finished rows are dropped so the cost follows the active rows.
    """
    B, d = lr.size, lam.size
    lr = lr.reshape(B, 1).copy()
    beta = beta.reshape(B, 1).copy()
    X = np.zeros((B, d))
    V = np.zeros((B, d))
    rows = np.arange(B)
    steps = np.full(B, max_steps)
    E = X - c
    G = E * lam
    f = 0.5 * np.einsum("ij,ij->i", E, G)
    active = 0
    with np.errstate(all="ignore"):
        for t in range(max_steps + 1):
            if t:
                V *= beta
                V += G
                X -= lr * V
                E = X - c
                G = E * lam
                f = 0.5 * np.einsum("ij,ij->i", E, G)
            active += rows.size
            if t < max_steps and f.min() > tol and np.abs(X).max() < bound:
                continue
            done = (f <= tol) | ~np.isfinite(f) | ~(np.abs(X) < bound).all(axis=1)
            if t == max_steps:
                done[:] = True
            steps[rows[done]] = t
            keep = np.flatnonzero(~done)
            rows, X, V, G = rows[keep], X[keep], V[keep], G[keep]
            lr, beta = lr[keep], beta[keep]
            if not rows.size:
                break
    return steps, active


# --- figure 3: AdaHessian on a large axis-aligned quadratic -----------------------------

#: (reads, writes) of d-vectors per AdaHessian step in :func:`bare_adahessian_pass`.
ADAHESSIAN_TRAFFIC = (33, 22)


def bare_adahessian_pass(lam, c, steps, seed=0, lr=0.15, betas=(0.9, 0.999), eps=1e-4):
    """``steps`` AdaHessian steps (B = 1) as NumPy kernels on preallocated buffers.

    The same arithmetic as the engine's step (probe draws included) plus the loss and the
    divergence check; every kernel writes into a buffer allocated once. Returns the seconds
    per step. ``ADAHESSIAN_TRAFFIC`` counts the d-vector reads and writes of one step.
    """
    d = lam.size
    gen = np.random.default_rng(seed)
    x = np.zeros(d)
    e, g, z, hz, D, m, v, den, u = (np.zeros(d) for _ in range(9))
    np.subtract(x, c, out=e)  # r2 w1
    np.multiply(e, lam, out=g)  # r2 w1
    _f = 0.5 * np.dot(e, g)  # r2
    beta1, beta2 = betas
    start = time.perf_counter()
    for t in range(1, steps + 1):
        bits = gen.integers(0, 2, size=d)  # w1 (int64)
        np.multiply(bits, 2.0, out=z)  # r1 w1
        z -= 1.0  # r1 w1
        np.multiply(z, lam, out=hz)  # r2 w1  (H z)
        hz *= z  # r2 w1
        np.abs(hz, out=D)  # r1 w1
        m *= beta1  # r1 w1
        np.multiply(g, 1 - beta1, out=u)  # r1 w1
        m += u  # r2 w1
        v *= beta2  # r1 w1
        np.multiply(D, D, out=u)  # r2 w1
        u *= 1 - beta2  # r1 w1
        v += u  # r2 w1
        np.divide(v, 1 - beta2**t, out=den)  # r1 w1
        np.sqrt(den, out=den)  # r1 w1
        den += eps  # r1 w1
        np.divide(m, den, out=u)  # r2 w1
        u *= lr / (1 - beta1**t)  # r1 w1
        x -= u  # r2 w1
        np.subtract(x, c, out=e)  # r2 w1
        np.multiply(e, lam, out=g)  # r2 w1
        _f = 0.5 * np.dot(e, g)  # r2
        np.abs(x, out=u)  # r1 w1
        _ = u.max()  # r1
    return (time.perf_counter() - start) / steps
