"""Gradient noise: every gradient query returns ``grad f(x) + xi``, ``xi ~ N(0, S / B)``.

    noise = GradientNoise("hessian", batch_size=8, seed=0)
    result = run(problem, GD(lr=0.5), x0, tol=0, max_steps=1000, noise=noise)

``S`` is the one-example noise covariance ``(d, d)`` and ``B`` the batch size (a mean of B
independent one-example gradients has covariance ``S / B``). ``cov`` gives ``S`` as

- a float ``s``: isotropic, ``S = s I``;
- a vector ``(d,)``: diagonal ``S`` in the problem's coordinates (the axes of ``x``);
- ``"hessian"``: ``S = H`` (quadratics), the noisy quadratic model's choice (Zhang et al.
  2019): noise proportional to curvature;
- a symmetric positive semi-definite matrix ``(d, d)``.

**Counter-based.** The noise of row ``b`` at its ``q``-th gradient query is

    xi[b] = L z[b] / sqrt(B),   S = L L^T,
    z[b]  = counter_gaussian(seed=b, step=2**63 | seed, sample=q)[b]

(:func:`~hessian_lab.normals.counter_gaussian`, the generator of the Gaussian Hutchinson
probes): a pure function of ``(seed, row, query)``. Rows are independent samples, so a
batch of R rows is a Monte Carlo sample of size R; a row's noise is the same in any batch
it runs in and on NumPy and torch (the bits of ``z`` are equal; ``L z`` is a product).
``q`` counts the gradient queries of the run: for every built-in method it is the step
(``q = t`` for the update from ``x_t``; Nesterov queries at its look-ahead point). The
top bit of the step word keeps these keys apart from every optimizer's own probes.

Only gradients are noisy: Hessian-vector products, Hessians and Hessian diagonals stay
exact (AdaHessian's curvature, Newton's matrix). The engine's convergence check reads the
exact loss at the iterate.
"""

from __future__ import annotations

import numbers
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from .backend import _probe_key, array_device, namespace, to_numpy
from .normals import Scratch, gaussian_rows, row_keys

__all__ = ["GradientNoise", "NoiseSource"]

#: set in the step word of a noise key: optimizers' probes use steps below 2**63
NOISE_STREAM = 1 << 63
MAX_NOISE_SEED = 2**63 - 1


@dataclass(frozen=True, eq=False)
class GradientNoise:
    """Additive Gaussian gradient noise ``xi ~ N(0, S / batch_size)`` (see module doc).

    Args:
        cov: ``S``: a float >= 0, a vector of d variances >= 0, ``"hessian"``, or a
            symmetric positive semi-definite ``(d, d)`` matrix.
        batch_size: ``B >= 1``, the examples averaged per gradient.
        seed: a non-negative integer; with the row and the query it keys every draw.
    """

    cov: object
    batch_size: int = 1
    seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "cov", _checked_cov(self.cov))
        B = self.batch_size
        if isinstance(B, bool) or not isinstance(B, numbers.Integral) or B < 1:
            raise ValueError(f"batch_size must be an integer >= 1; got {B!r}")
        object.__setattr__(self, "batch_size", int(B))
        s = self.seed
        if (
            isinstance(s, bool)
            or not isinstance(s, numbers.Integral)
            or not 0 <= s <= MAX_NOISE_SEED
        ):
            raise ValueError(f"seed must be an integer in [0, 2**63 - 1]; got {s!r}")
        object.__setattr__(self, "seed", int(s))

    @property
    def kind(self) -> str:
        """``"isotropic"``, ``"diagonal"``, ``"hessian"`` or ``"matrix"``."""
        if isinstance(self.cov, str):
            return "hessian"
        if isinstance(self.cov, float):
            return "isotropic"
        return "diagonal" if self.cov.ndim == 1 else "matrix"

    def example_covariance(self, problem) -> np.ndarray:
        """The one-example covariance ``S`` ``(d, d)`` for ``problem`` (host float64)."""
        d = problem.dim
        kind = self.kind
        if kind == "isotropic":
            return self.cov * np.eye(d)
        if kind == "hessian":
            return _hessian_of(problem)
        _check_dim(self.cov, d)
        return np.diag(self.cov) if kind == "diagonal" else self.cov.copy()

    def covariance(self, problem) -> np.ndarray:
        """``S / B`` ``(d, d)``: the covariance of one noisy gradient's error."""
        return self.example_covariance(problem) / self.batch_size

    def with_batch_size(self, batch_size: int) -> GradientNoise:
        return GradientNoise(self.cov, batch_size, self.seed)

    def describe(self) -> str:
        kind = self.kind
        shown = f"{self.cov:g} I" if kind == "isotropic" else {"hessian": "H"}.get(kind, kind)
        return f"S = {shown}, batch size {self.batch_size}, seed {self.seed}"

    def source(self, problem, backend, rows: int) -> NoiseSource:
        """The draws for a run of ``rows`` rows on ``backend`` (the engine makes one)."""
        return NoiseSource(self, _factor(self, problem), backend, rows)


def _checked_cov(cov):
    """``cov`` as a float, ``"hessian"`` or a read-only float64 array (see GradientNoise)."""
    allowed = "a number >= 0, a vector of variances, 'hessian' or a symmetric PSD matrix"
    if isinstance(cov, str):
        if cov != "hessian":
            raise ValueError(f"noise cov must be {allowed}; got {cov!r}")
        return cov
    if isinstance(cov, numbers.Real) and not isinstance(cov, bool):
        value = float(cov)
        if not (np.isfinite(value) and value >= 0):
            raise ValueError(f"noise cov must be {allowed}; got {cov!r}")
        return value
    try:
        array = np.array(cov, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"noise cov must be {allowed}; got {cov!r}") from None
    if array.ndim == 0:
        return _checked_cov(float(array))
    if array.size == 0 or array.ndim > 2 or not np.all(np.isfinite(array)):
        raise ValueError(f"noise cov must be {allowed}; got an array of shape {array.shape}")
    if array.ndim == 1:
        if np.any(array < 0):
            raise ValueError("noise cov: the variances of a vector must be >= 0")
    else:
        n = array.shape[0]
        if array.shape != (n, n) or not np.allclose(array, array.T, rtol=1e-12, atol=0):
            raise ValueError(f"noise cov matrix must be square and symmetric; got {array.shape}")
        array = (array + array.T) / 2
        low = np.linalg.eigvalsh(array)[0]
        if low < -1e-12 * max(1.0, float(np.abs(array).max())):
            raise ValueError(f"noise cov matrix must be positive semi-definite; eigenvalue {low:g}")
    array.setflags(write=False)
    return array


def _check_dim(cov: np.ndarray, d: int) -> None:
    if cov.shape[0] != d:
        raise ValueError(f"noise cov has {cov.shape[0]} dimensions but the problem has {d}")


def _hessian_of(problem) -> np.ndarray:
    H = getattr(problem, "hessian_matrix", None)
    if H is None:
        raise ValueError(
            "noise 'hessian' needs a quadratic problem (S = H, a constant Hessian); "
            "give a number, a vector of variances or a matrix"
        )
    if np.min(problem.spectrum) < 0:
        raise ValueError("noise 'hessian' needs H positive semi-definite (S = H is a covariance)")
    return H


def _factor(noise: GradientNoise, problem):
    """``("scale", s)`` with ``xi = s * z`` (s a float or a ``(d,)`` vector), or
    ``("matrix", M)`` with ``xi = z @ M`` (``M = L^T / sqrt(B)``, ``(d, d)``)."""
    B = noise.batch_size
    kind = noise.kind
    if kind == "isotropic":
        return "scale", float(np.sqrt(noise.cov / B))
    if kind == "diagonal":
        _check_dim(noise.cov, problem.dim)
        return "scale", np.sqrt(noise.cov / B)
    if kind == "hessian":
        _hessian_of(problem)
        root = np.sqrt(problem.spectrum / B)
        if problem.Q is None:
            return "scale", root
        return "matrix", (problem.Q * root).T  # z @ (Q diag(root))^T
    _check_dim(noise.cov, problem.dim)
    S = noise.cov
    if np.count_nonzero(S - np.diag(np.diag(S))) == 0:
        return "scale", np.sqrt(np.diag(S) / B)
    w, V = np.linalg.eigh(S)
    return "matrix", (V * np.sqrt(np.maximum(w, 0.0) / B)).T


#: draws of at least this many numbers are made one query ahead on a worker thread
PREFETCH_MIN = 2**15


class NoiseSource:
    """The noise draws of one engine run: the active rows' indices and the factor of S/B.

    ``draw(query, like)`` is ``xi`` ``(n, d)`` for the n active rows at gradient query
    ``query`` and ``noisy(query, G)`` is ``G + xi``, both fresh arrays like their argument;
    :meth:`keep` follows the engine when finished rows leave the active set.

    The normals are drawn on the host (:mod:`~hessian_lab.normals`); on a NumPy float64 run
    ``xi`` is made there whole, elsewhere ``z`` is moved to the run's dtype and device and
    multiplied there. A large draw (:data:`PREFETCH_MIN` numbers) is made one query ahead
    on a worker thread while the optimizer steps: the next query of every built-in method
    is the current one plus one, and a draw that was not foreseen (another query, rows
    that changed) is made on the spot. A draw is a pure function of its rows and query, so
    where it is made changes no bit.
    """

    def __init__(self, noise: GradientNoise, factor, backend, rows: int) -> None:
        self.noise = noise
        kind, value = factor
        self.matrix = kind == "matrix"
        self.factor = value if isinstance(value, float) else backend.asarray(value)
        self.host_xi = backend.name == "numpy" and backend.dtype == "float64"
        self.step_word = NOISE_STREAM | noise.seed
        self.rows = np.arange(rows, dtype=np.int64).reshape(-1, 1)  # host: keys are hashed there
        self.scratch = Scratch()
        self._worker_scratch = Scratch()
        self._ahead = None  # (query, d, rows, future) of the draw made ahead

    def keep(self, keep) -> None:
        """Keep the rows at positions ``keep`` (an index array of the backend)."""
        self.rows = self.rows[to_numpy(keep)]

    def draw(self, query: int, like):
        """``xi`` ``(n, d)``: fresh, with ``like``'s shape, dtype and device."""
        return self._add(query, like, None)

    def noisy(self, query: int, G):
        """``G + xi`` ``(n, d)``: a fresh array (``G`` is left as it is)."""
        return self._add(query, G, G)

    def _add(self, query: int, like, G):
        d = like.shape[1]
        drawn = self._host(query, d)
        if self.matrix or not self.host_xi:  # the normals z, multiplied where the run is
            xp = namespace(like)
            z = xp.asarray(drawn, dtype=like.dtype, device=array_device(like))
            drawn = z @ self.factor if self.matrix else z * self.factor
        if G is not None:
            drawn += G
        return drawn

    def _host(self, query: int, d: int) -> np.ndarray:
        """This query's draw for the active rows (``xi`` or ``z``, see the class doc): a
        fresh host float64 array, and the next query's draw started on the worker."""
        ahead, self._ahead = self._ahead, None
        if ahead is not None and ahead[:2] == (query, d) and np.array_equal(ahead[2], self.rows):
            drawn = ahead[3].result()
        else:
            drawn = self._make(query, self.rows, d, self.scratch)
        if self.rows.size * d >= PREFETCH_MIN:
            rows = self.rows
            work = _worker().submit(self._make, query + 1, rows, d, self._worker_scratch)
            self._ahead = (query + 1, d, rows, work)
        return drawn

    def _make(self, query: int, rows: np.ndarray, d: int, scratch: Scratch) -> np.ndarray:
        """``xi = z * factor`` on a NumPy float64 run with a diagonal factor (made as drawn),
        else ``z`` (a matrix product is left to the calling thread, whose BLAS has the
        cores)."""
        keys = row_keys(_probe_key(rows, self.step_word, query))
        scale = self.factor if self.host_xi and not self.matrix else None
        return gaussian_rows(keys, np.empty((rows.shape[0], d)), scratch, scale)


_WORKER: dict[int, ThreadPoolExecutor] = {}


def _worker() -> ThreadPoolExecutor:
    """The one thread that makes draws ahead, started on first use and shared by every run
    of the process (a forked child starts its own: the parent's thread is not in it)."""
    pid = os.getpid()
    if pid not in _WORKER:
        _WORKER.clear()
        _WORKER[pid] = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hessian-lab-noise")
    return _WORKER[pid]
