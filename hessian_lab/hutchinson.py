"""Hutchinson's estimators, numerically: the one implementation every caller uses.

For a symmetric ``H`` and probes ``z`` with independent entries, ``E z_i = 0`` and
``E z_i^2 = 1``:

    D = mean_s z_s * (H z_s)        unbiased for diag H (elementwise product)
    T = mean_s z_s^T H z_s          unbiased for tr H

``probe="rademacher"`` draws ``z_i = +-1`` (:func:`~hessian_lab.backend.counter_rademacher`),
``probe="gaussian"`` standard normal entries (:func:`~hessian_lab.normals.counter_gaussian`).
Both are counter-based: probe ``s`` of row ``b`` at step ``t`` is a pure function of
``(seed_b, t, s, coordinate)``, the same on NumPy and torch, so a batched estimate equals
its rows estimated one by one. :func:`hutchinson_diagonal` needs only Hessian-vector
products (AdaHessian, the ``hutchinson`` experiment and command);
:func:`estimate_diagonal` is the same estimator on a dense matrix. The variances below are
the closed forms that :mod:`hessian_lab.symbolic.hutchinson` derives (and its tests check
against these functions):

    Var D_i = sum_{j != i} H_ij^2 (Rademacher),  H_ii^2 + sum_j H_ij^2 (Gaussian), over m
    Var T   = 2 sum_{i != j} H_ij^2 (Rademacher), 2 ||H||_F^2 (Gaussian), over m
"""

from __future__ import annotations

import itertools

import numpy as np

from .backend import (
    backend_of,
    counter_rademacher,
    get_backend,
    is_array,
    namespace,
    seed_column,
)
from .normals import counter_gaussian

PROBES = ("rademacher", "gaussian")
_DRAW = {"rademacher": counter_rademacher, "gaussian": counter_gaussian}

__all__ = [
    "PROBES",
    "block_average",
    "combination_variance",
    "counter_probe",
    "diagonal_variance",
    "estimate_diagonal",
    "exact_enumeration_diagonal",
    "hutchinson_diagonal",
    "second_moment",
    "sign_vectors",
    "trace_variance",
]


def check_probe(probe: str) -> None:
    if probe not in PROBES:
        raise ValueError(f"probe must be one of {', '.join(PROBES)}; got {probe!r}")


def counter_probe(seed, step: int, sample: int, like, probe: str = "rademacher"):
    """Probe ``sample`` at ``step``: a fresh ``(B, d)`` array shaped like ``like`` (see the
    module doc; ``seed`` is an int or a ``(B, 1)`` integer column on ``like``'s backend)."""
    check_probe(probe)
    return _DRAW[probe](seed, step, sample, like)


def hutchinson_diagonal(
    oracle, X, seed=0, n_samples: int = 1, step: int = 0, probe: str = "rademacher"
):
    """``mean_s z_s * (H(X) z_s)`` over ``n_samples`` probes ``z_s`` ``(B, d)``, row by row.

    Unbiased for ``diag H(x)``: ``E[z * Hz]_i = sum_j H_ij E[z_i z_j] = H_ii``. ``oracle``
    is anything with ``hvp(X, V)`` (an :class:`~hessian_lab.optimizers.base.Oracle`, a
    problem). Probe ``s`` of row ``b`` is ``counter_probe(seed_b, step, s)``: ``seed`` is
    one non-negative integer (every row sees the same probes: common random numbers) or
    one per row (a sequence of B integers, or a ``(B, 1)`` int64 column on ``X``'s backend
    as :func:`~hessian_lab.backend.seed_column` makes) for independent rows. ``step`` is
    the counter's step word (AdaHessian passes its step number; a caller may use it to pick
    an independent set of probes for the same seeds).
    """
    check_probe(probe)
    if not (type(seed) is int or (is_array(seed) and seed.ndim == 2)):
        seed = seed_column(seed, backend_of(X), X.shape[0])  # else checked when drawn
    draw = _DRAW[probe]
    total = None
    for s in range(n_samples):
        z = draw(seed, step, s, X)
        z *= oracle.hvp(X, z)  # z is fresh: the sample z * Hz takes its place
        total = z if total is None else total + z
    return total if n_samples == 1 else total / n_samples


def block_average(D, block_size: int):
    """Replace each run of ``block_size`` consecutive entries of every row by its mean.

    ``D`` is ``(B, d)``; when ``d`` is not a multiple of the block size, the last, shorter
    block is averaged over its own length. ``block_size = 1`` returns ``D`` itself.
    """
    if block_size == 1:
        return D
    xp = namespace(D)
    B, d = D.shape
    full = (d // block_size) * block_size
    parts = []
    if full:
        blocks = xp.reshape(D[:, :full], (B, full // block_size, block_size))
        means = xp.mean(blocks, axis=2, keepdims=True)
        parts.append(xp.reshape(xp.broadcast_to(means, blocks.shape), (B, full)))
    if full < d:
        tail = xp.mean(D[:, full:], axis=1, keepdims=True)
        parts.append(xp.broadcast_to(tail, (B, d - full)))
    return parts[0] if len(parts) == 1 else xp.concat(parts, axis=1)


class _DenseHessian:
    """A fixed symmetric matrix as an oracle: ``hvp(X, V) = V H`` (rows of V times H)."""

    def __init__(self, H: np.ndarray) -> None:
        self.H = H

    def hvp(self, X, V):
        return V @ self.H


def estimate_diagonal(
    H, n_probes: int = 1, seed=0, probe: str = "rademacher", step: int = 0
) -> np.ndarray:
    """:func:`hutchinson_diagonal` on a dense symmetric ``H`` ``(n, n)``, in NumPy.

    ``seed``: an int gives one estimate ``(n,)``; a sequence of T seeds gives T independent
    estimates ``(T, n)``, one per seed (a whole Monte Carlo study in one call); a
    ``numpy.random.Generator`` draws the seed from it (one estimate, fresh at each call).
    """
    H = np.asarray(H, dtype=np.float64)
    if isinstance(seed, np.random.Generator):
        seed = int(seed.integers(0, 2**63 - 1))
    rows = 1 if isinstance(seed, (int, np.integer)) else len(seed)
    X = get_backend("numpy").asarray(np.zeros((rows, H.shape[0])))
    D = hutchinson_diagonal(_DenseHessian(H), X, seed, n_probes, step=step, probe=probe)
    return D[0] if isinstance(seed, (int, np.integer)) else D


def diagonal_variance(H, probe: str = "rademacher") -> np.ndarray:
    """``Var (z * Hz)_i`` for one probe; ``H`` symmetric ``(n, n)`` -> ``(n,)``."""
    check_probe(probe)
    H = np.asarray(H, dtype=float)
    diag_sq = np.diag(H) ** 2
    rows = np.sum(H**2, axis=1)
    return rows - diag_sq if probe == "rademacher" else rows + diag_sq


def combination_variance(H, weights, probe: str = "rademacher") -> np.ndarray:
    """``Var a_k . (z * Hz)`` for one probe and each row ``a_k`` of ``weights`` ``(K, n)``.

    ``a . (z * Hz) = z^T A z`` with ``A = (diag(a) H + H diag(a)) / 2``, whose variance is
    ``2 sum_{k != l} A_kl^2`` (Rademacher) or ``2 sum_{k, l} A_kl^2`` (Gaussian). With
    ``weights = I`` this is :func:`diagonal_variance`; a block-averaging matrix gives the
    variance of AdaHessian's block means.
    """
    check_probe(probe)
    H = np.asarray(H, dtype=float)
    W = np.asarray(weights, dtype=float)
    A = (W[:, :, None] * H[None] + H[None] * W[:, None, :]) / 2  # (K, n, n)
    squares = A * A
    if probe == "rademacher":
        squares = squares * (1 - np.eye(H.shape[0]))[None]
    return 2 * squares.sum(axis=(1, 2))


def trace_variance(H, probe: str = "rademacher") -> float:
    """``Var z^T H z`` for one probe; ``H`` symmetric ``(n, n)``."""
    check_probe(probe)
    H = np.asarray(H, dtype=float)
    frobenius_sq = float(np.sum(H**2))
    if probe == "gaussian":
        return 2 * frobenius_sq
    return 2 * (frobenius_sq - float(np.sum(np.diag(H) ** 2)))


def second_moment(H) -> np.ndarray:
    """``E (z * Hz)_i^2 = sum_j H_ij^2`` (Rademacher): AdaHessian's denominator, ``(n,)``."""
    H = np.asarray(H, dtype=float)
    return np.sum(H**2, axis=1)


def sign_vectors(n: int) -> np.ndarray:
    """All ``2^n`` sign vectors as rows, shape ``(2^n, n)``."""
    return np.array(list(itertools.product((-1.0, 1.0), repeat=n)))


def exact_enumeration_diagonal(H) -> np.ndarray:
    """``mean over all z in {-1, 1}^n of z * (H z)`` (``n <= 12``): exactly ``diag(H)``."""
    H = np.asarray(H, dtype=float)
    n = H.shape[0]
    if n > 12:
        raise ValueError(f"enumeration needs n <= 12 (2^n probes); got n={n}")
    Z = sign_vectors(n)
    return np.mean(Z * (Z @ H.T), axis=0)
