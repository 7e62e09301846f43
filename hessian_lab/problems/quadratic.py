"""Quadratic objectives, the model every convergence theorem starts from.

    f(x) = 1/2 (x - c)^T H (x - c) + f*,    H = Q diag(lambda) Q^T,

so ``grad f(x) = H (x - c)`` and ``Hv`` is the Hessian-vector product. With rotation
``none`` (Q = I) H is diagonal and every product is an elementwise multiply: an
axis-aligned problem never builds or multiplies a dense matrix.

Spectra for ``from_condition``: ``lambda_i`` in ``[lambda_min, kappa * lambda_min]``,

- ``geometric``: ``lambda_min * kappa^(i/(d-1))`` (evenly spaced on a log scale);
- ``linear``: evenly spaced;
- ``two-cluster``: the first half at ``lambda_min``, the rest at ``kappa * lambda_min``;
- ``uniform``: the two ends, and the rest drawn uniformly between them from the seed.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from ..backend import backend_of, broadcast_copy, row_sums
from .base import Problem

#: Batches with at most this many dimensions use row-tiled constants (see ``_tiled``).
TILE_MAX_DIM = 64

SPECTRA = ("geometric", "linear", "two-cluster", "uniform")
ROTATIONS = ("none", "random")

__all__ = ["Quadratic", "SPECTRA", "ROTATIONS", "spectrum", "haar_orthogonal", "steep_valley"]


def spectrum(
    dim: int, kappa: float, kind: str = "geometric", lambda_min: float = 1.0, seed: int = 0
) -> np.ndarray:
    """Eigenvalues ``(dim,)`` spanning ``[lambda_min, kappa * lambda_min]`` (see module doc)."""
    if int(dim) != dim or dim < 1:
        raise ValueError(f"dim must be a positive integer; got {dim!r}")
    if not np.isfinite(kappa) or kappa < 1:
        raise ValueError(f"kappa must be a finite number >= 1; got {kappa!r}")
    if not np.isfinite(lambda_min) or lambda_min <= 0:
        raise ValueError(f"lambda_min must be a finite number > 0; got {lambda_min!r}")
    if kind not in SPECTRA:
        raise ValueError(f"spectrum must be one of {', '.join(SPECTRA)}; got {kind!r}")
    dim = int(dim)
    lambda_max = kappa * lambda_min
    if dim == 1:
        return np.array([lambda_min])
    if kind == "geometric":
        return lambda_min * kappa ** (np.arange(dim) / (dim - 1))
    if kind == "linear":
        return np.linspace(lambda_min, lambda_max, dim)
    if kind == "two-cluster":
        low = dim // 2
        return np.concatenate([np.full(low, lambda_min), np.full(dim - low, lambda_max)])
    inner = np.random.default_rng(seed).uniform(lambda_min, lambda_max, size=dim - 2)
    return np.concatenate([[lambda_min], np.sort(inner), [lambda_max]])


def haar_orthogonal(dim: int, seed: int = 0) -> np.ndarray:
    """A Haar-distributed random orthogonal ``(dim, dim)`` matrix (QR of a Gaussian, sign-fixed)."""
    G = np.random.default_rng(seed).standard_normal((dim, dim))
    Q, R = np.linalg.qr(G)
    return Q * np.sign(np.diag(R))


class Quadratic(Problem):
    """``f(x) = 1/2 (x-c)^T Q diag(lambda) Q^T (x-c) + f*`` on a batch ``X`` of shape ``(B, d)``.

    Args:
        eigenvalues: ``lambda``, one per coordinate of the eigenbasis (any sign; zeros and
            negatives are allowed for teaching: a subspace of minimizers, or a saddle).
        rotation: ``"none"`` (Q = I, axis-aligned), ``"random"`` (Haar Q from ``seed``) or
            an explicit orthogonal ``(d, d)`` matrix whose columns are the eigenvectors.
        center: ``c`` ``(d,)``, the stationary point (zeros by default).
        min_value: ``f*``, the value at ``c``.
        seed: seeds the random rotation.

    Example:
        >>> q = Quadratic([1.0, 100.0], center=[0.8, 0.6])
        >>> q.condition_number
        100.0
    """

    def __init__(self, eigenvalues, rotation="none", center=None, min_value=0.0, seed=0):
        super().__init__()
        if np.ndim(eigenvalues) > 1:
            raise ValueError(
                f"eigenvalues must be a 1-D list; got an array of shape {np.shape(eigenvalues)} "
                "(for a symmetric (d, d) matrix H use Quadratic.from_matrix(H, center=...))"
            )
        lam = np.asarray(eigenvalues, dtype=np.float64).reshape(-1)
        if lam.size == 0 or not np.all(np.isfinite(lam)):
            raise ValueError("eigenvalues must be a non-empty list of finite numbers")
        d = lam.size
        self.dim = d
        self.spectrum = lam
        self.eigenvalues = np.sort(lam)
        self.seed = seed
        if isinstance(rotation, str):
            if rotation not in ROTATIONS:
                raise ValueError(
                    f"rotation must be one of {', '.join(ROTATIONS)} or a matrix; got {rotation!r}"
                )
            self.rotation = rotation
            self.Q = None if rotation == "none" else haar_orthogonal(d, seed)
        else:
            Q = np.asarray(rotation, dtype=np.float64)
            if Q.shape != (d, d) or not np.allclose(Q.T @ Q, np.eye(d), atol=1e-10):
                raise ValueError(f"rotation matrix must be orthogonal with shape ({d}, {d})")
            self.rotation = "matrix"
            self.Q = Q
        c = np.zeros(d) if center is None else np.asarray(center, dtype=np.float64).reshape(-1)
        if c.shape != (d,) or not np.all(np.isfinite(c)):
            raise ValueError(f"center must be {d} finite numbers (one per dimension)")
        self.center = c
        if not np.isfinite(min_value):
            raise ValueError(f"min_value must be finite; got {min_value!r}")
        self.stationary_value = float(min_value)
        convex = bool(np.all(lam >= 0))
        self.minimizer = c if bool(np.all(lam > 0)) else None
        self.min_value = float(min_value) if convex else None

    @classmethod
    def from_condition(
        cls,
        dim: int,
        kappa: float,
        spectrum_kind: str = "geometric",
        lambda_min: float = 1.0,
        rotation="none",
        center=None,
        min_value: float = 0.0,
        seed: int = 0,
    ) -> Quadratic:
        """A ``dim``-dimensional quadratic of condition number ``kappa`` (see :func:`spectrum`)."""
        lam = spectrum(dim, kappa, spectrum_kind, lambda_min, seed)
        return cls(lam, rotation=rotation, center=center, min_value=min_value, seed=seed)

    @classmethod
    def from_matrix(cls, H, center=None, min_value: float = 0.0) -> Quadratic:
        """The quadratic ``1/2 (x-c)^T H (x-c) + f*`` of a symmetric ``(d, d)`` matrix ``H``.

        ``H = Q diag(lambda) Q^T`` by ``numpy.linalg.eigh`` (eigenvalues ascending, the
        columns of Q the eigenvectors); a diagonal ``H`` stays axis-aligned (no dense Q).

            >>> q = Quadratic.from_matrix([[2.0, 1.0], [1.0, 2.0]])
            >>> q.eigenvalues.round(12).tolist()
            [1.0, 3.0]
        """
        H = np.asarray(H, dtype=np.float64)
        if H.ndim != 2 or H.shape[0] != H.shape[1] or H.size == 0:
            raise ValueError(f"H must be a square (d, d) matrix; got shape {H.shape}")
        if not np.all(np.isfinite(H)):
            raise ValueError("H must have finite entries")
        scale = np.abs(H).max()
        if np.abs(H - H.T).max() > 1e-12 * scale:
            raise ValueError("H must be symmetric (H == H^T up to rounding)")
        if np.count_nonzero(H - np.diag(np.diag(H))) == 0:
            return cls(np.diag(H), center=center, min_value=min_value)
        lam, Q = np.linalg.eigh((H + H.T) / 2)
        return cls(lam, rotation=Q, center=center, min_value=min_value)

    @property
    def axis_aligned(self) -> bool:
        return self.Q is None

    @property
    def hessian_matrix(self) -> np.ndarray:
        """The dense ``H = Q diag(lambda) Q^T``, ``(d, d)``, on the host."""
        if self.Q is None:
            return np.diag(self.spectrum)
        H = (self.Q * self.spectrum) @ self.Q.T
        return (H + H.T) / 2

    @property
    def hessian_matrix_diagonal(self) -> np.ndarray:
        """``diag H`` ``(d,)`` on the host, without forming ``H``:

            H_ii = sum_j Q_ij^2 lambda_j      (lambda itself when axis-aligned)

        what diagonal Newton divides by and Hutchinson's estimator is unbiased for.
        ``hessian_diagonal(X)`` gives the same on a batch's backend, ``(B, d)``.
        """
        if self.Q is None:
            return self.spectrum
        return np.einsum("ij,j,ij->i", self.Q, self.spectrum, self.Q)

    @property
    def condition_number(self) -> float:
        """``lambda_max / lambda_min`` (inf when lambda_min <= 0)."""
        low, high = self.eigenvalues[0], self.eigenvalues[-1]
        return float(high / low) if low > 0 else float("inf")

    def _arrays(self, X):
        return self.constants(X, self._build_arrays)

    def _build_arrays(self, backend):
        """The problem's constants on ``backend``, with room for the row tiles."""
        lam = backend.asarray(self.spectrum)
        return SimpleNamespace(
            xp=backend.xp,
            lam=lam,
            c=backend.asarray(self.center),
            centered=not np.any(self.center),  # c = 0: the error X - c is X itself
            H=None if self.Q is None else backend.asarray(self.hessian_matrix),
            diag=backend.asarray(self.hessian_matrix_diagonal),
            dense=None,
            rows=0,
            lam_rows=None,
            c_rows=None,
            view_rows=0,
            views=None,
        )

    def _tiled(self, a, n: int):
        """``(lambda, c)`` as ``(n, d)`` row tiles (cached, sliced) for a small-d batch.

        NumPy broadcasts a ``(d,)`` row over many short rows far more slowly than it runs
        the same elementwise loop on two ``(n, d)`` arrays; the values are identical.
        """
        if n != a.view_rows:
            if n > a.rows:
                a.lam_rows = broadcast_copy(a.lam, (n, self.dim))
                a.c_rows = broadcast_copy(a.c, (n, self.dim))
                a.rows = n
            a.views = a.lam_rows[:n], a.c_rows[:n]
            a.view_rows = n
        return a.views

    @staticmethod
    def _error(a, X):
        """``X - c`` (``X`` itself when ``c = 0``)."""
        return X if a.centered else X - a.c

    def _apply(self, a, V):
        return V * a.lam if a.H is None else V @ a.H

    def value_and_grad(self, X):
        """``f(X)`` ``(B,)`` and ``H (X - c)`` ``(B, d)``, sharing the one product."""
        a = self._arrays(X)
        n, d = X.shape
        if d <= TILE_MAX_DIM:
            lam, c = a.views if n == a.view_rows else self._tiled(a, n)
            E = X if a.centered else X - c
            G = E * lam if a.H is None else E @ a.H
            if a.centered:
                E = X * G  # X itself is never written
            else:
                E *= G
        else:
            E = self._error(a, X)
            G = self._apply(a, E)
            E = E * G
        # a row's loss has the same bits in any batch layout (not so a BLAS product)
        f = row_sums(E)
        f *= 0.5  # in place: the sum is a fresh array
        return (f + self.stationary_value if self.stationary_value else f), G

    def loss(self, X):
        return self.value_and_grad(X)[0]

    def grad(self, X):
        a = self._arrays(X)
        return self._apply(a, self._error(a, X))

    def hvp(self, X, V):
        return self._apply(self._arrays(X), V)

    def hessian(self, X):
        """``H`` broadcast to ``(B, d, d)`` (built densely on first use, for small problems)."""
        a = self._arrays(X)
        if a.dense is None:
            a.dense = backend_of(X).asarray(self.hessian_matrix)
        return backend_of(X).xp.broadcast_to(a.dense, (X.shape[0], self.dim, self.dim))

    def hessian_diagonal(self, X):
        return X * 0 + self._arrays(X).diag

    def __repr__(self) -> str:
        lam = np.array2string(self.spectrum, precision=4, threshold=6)
        return f"Quadratic(eigenvalues={lam}, rotation={self.rotation!r}, dim={self.dim})"


def steep_valley() -> Quadratic:
    """The classic teaching valley: ``lambda = (1, 100)``, center ``(0.8, 0.6)``, axis-aligned."""
    return Quadratic([1.0, 100.0], center=[0.8, 0.6])
