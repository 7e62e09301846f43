"""Hessian spectra of a torch model's loss, from Hessian-vector products only.

The Hessian ``H = d^2 L / dtheta^2`` of a scalar loss ``L(theta)`` with respect to the
model's trainable parameters ``theta`` (``n`` numbers, flattened in ``named_parameters()``
order; :func:`~hessian_lab.torch.hvp.unflatten` splits a flat vector back by name) is never
formed. Each method touches it through ``v -> H v``
(:class:`~hessian_lab.torch.hvp.HessianOperator`):

- :func:`top_eigenvalues`: the ``k`` largest **algebraic** eigenvalues ``lambda_1 >= ...
  >= lambda_k`` (``lambda_1`` is the sharpness), repeated ones as often as they occur, by
  Lanczos with locking and a completeness check, or by shifted subspace (power)
  iteration; :func:`lambda_max` is the one number;
- :func:`hutchinson_trace`: ``tr H = E[z^T H z]`` over Rademacher ``z``, with its standard
  error;
- :func:`spectral_density`: stochastic Lanczos quadrature, a Gaussian-broadened estimate
  of the eigenvalue density ``phi(t) = (1/n) sum_i delta(t - lambda_i)``.

Every function takes ``(model, loss_fn)`` and optionally ``data``: either ``loss_fn()`` a
closure of no arguments evaluating the loss at the current parameters (one graph, e.g.
``lambda: F.cross_entropy(model(X), y)``), or ``data`` a re-iterable of batches (a
``DataLoader``, a list) with ``loss_fn(batch)`` the batch's mean loss: then ``H`` is the
Hessian of the whole data set's mean loss, each product one pass over the batches,
memory bounded by one batch (``progress`` shows a bar over batches on long runs). An
``nn.Module`` is evaluated in eval mode and its modes restored afterwards. The parameters
are not changed. Randomness (starting vectors, probes) comes from a ``torch.Generator``
seeded by ``seed``: the same seed gives the same result.

    >>> import torch
    >>> from hessian_lab.torch.spectrum import lambda_max, top_eigenvalues
    >>> model = torch.nn.Linear(3, 1, dtype=torch.float64)
    >>> X = torch.eye(3, dtype=torch.float64)
    >>> loss_fn = lambda: 0.5 * (model(X) ** 2).sum()
    >>> round(lambda_max(model, loss_fn), 6)  # H = [[X^T X, X^T 1], [1^T X, 3]]
    4.0

References: Lanczos (1950) and Golub & Van Loan, *Matrix Computations*, ch. 10
(reorthogonalization, locking); Hutchinson (1990); Ghorbani, Krishnan & Xiao, "An
Investigation into Neural Net Optimization via Hessian Eigenvalue Density" (ICML 2019) for
stochastic Lanczos quadrature; Yao et al., "PyHessian" (2020).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from typing import NamedTuple

import torch

from .hvp import HessianOperator, evaluation_mode, unflatten

__all__ = [
    "HessianOperator",
    "LanczosResult",
    "SpectralDensity",
    "TopEigen",
    "TraceEstimate",
    "hutchinson_trace",
    "lambda_max",
    "lanczos",
    "power_iteration",
    "resolvable_tolerance",
    "spectral_density",
    "top_eigenvalues",
    "unflatten",
]

#: the smallest relative residual asked of a dtype, in units of its machine epsilon: a
#: product ``H u`` computed in that dtype carries rounding errors of about ``eps ||H||``
#: times a modest factor, so a residual target far below that cannot be certified
RESOLUTION_EPS = 100


def resolvable_tolerance(tol: float, dtype: torch.dtype) -> float:
    """``tol`` raised to ``RESOLUTION_EPS * eps(dtype)`` when below it, with a warning.

    float64: 2.2e-14; float32: 1.2e-5. A ``converged`` flag is a claim that the residual
    ``|H u - theta u| <= tol * |theta_max|`` was met in the model's own arithmetic.
    """
    if not (isinstance(tol, (int, float)) and 0 < tol < 1):
        raise ValueError(f"tol must be a number in (0, 1); got {tol!r}")
    floor = RESOLUTION_EPS * torch.finfo(dtype).eps
    if tol < floor:
        warnings.warn(
            f"tol={tol:g} is below what {dtype} arithmetic resolves; using tol={floor:.3g} "
            f"({RESOLUTION_EPS} x its machine epsilon)",
            stacklevel=3,
        )
        return floor
    return float(tol)


def _generator(seed: int) -> torch.Generator:
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer; got {seed!r}")
    return torch.Generator().manual_seed(seed)


def _positive_int(name: str, value, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}")


@contextmanager
def _operator(model, loss_fn, data, progress):
    """A :class:`HessianOperator` with the model in eval mode, closed afterwards."""
    with evaluation_mode(model):
        op = HessianOperator(model, loss_fn, data, progress)
        try:
            yield op
        finally:
            op.close()


class LanczosResult(NamedTuple):
    """``m`` Lanczos steps: ``Q^T H Q = T``, ``T`` tridiagonal with ``alpha`` on the
    diagonal and ``beta`` beside it; ``Q`` ``(m, n)`` has orthonormal rows, ``Q[0] = v0/|v0|``.
    ``residual`` is ``beta_m``, the norm of the next (unused) residual vector."""

    alpha: torch.Tensor  # (m,)
    beta: torch.Tensor  # (m - 1,)
    basis: torch.Tensor  # (m, n)
    residual: float

    def tridiagonal(self) -> torch.Tensor:
        """``T`` as a dense ``(m, m)`` matrix."""
        return torch.diag(self.alpha) + torch.diag(self.beta, 1) + torch.diag(self.beta, -1)


def _orthogonalized(w: torch.Tensor, *blocks: torch.Tensor) -> torch.Tensor:
    """``w`` minus its projection on the rows of each block, done twice ("twice is enough")."""
    for _ in range(2):
        for Q in blocks:
            if Q.shape[0]:
                w = w - Q.T @ (Q @ w)
    return w


def lanczos(
    matvec: Callable[[torch.Tensor], torch.Tensor],
    v0: torch.Tensor,
    steps: int,
    *,
    stop: Callable[[LanczosResult], bool] | None = None,
    restart: Callable[[], torch.Tensor] | None = None,
    locked: torch.Tensor | None = None,
) -> LanczosResult:
    """Lanczos tridiagonalization from ``v0`` with full reorthogonalization.

        q_1 = v0 / |v0|;   w = H q_j - beta_{j-1} q_{j-1};   alpha_j = q_j . w
        w <- w - Q_j (Q_j^T w) - L (L^T w)  (twice: "twice is enough")
        beta_j = |w|;   q_{j+1} = w / beta_j

    ``locked`` ``(l, n)``: orthonormal rows (converged eigenvectors) kept out of the Krylov
    space, so the run sees ``H`` restricted to their orthogonal complement (``v0`` should
    be orthogonal to them too). Runs ``steps`` steps (at most the free dimension), or fewer
    when ``stop(partial_result)`` returns True (asked after every step). When ``beta_j``
    vanishes the Krylov space is invariant (its Ritz values are exact eigenvalues): without
    ``restart`` the run ends there; with it, the run goes on from ``restart()``
    orthogonalized against ``Q`` and ``L`` with ``beta_j = 0`` (``T`` block diagonal).
    Cost: ``m`` products and ``O(m^2 n)`` for the reorthogonalization; the basis grows as
    needed (memory ``m n``).
    """
    n = v0.numel()
    locked = v0.new_zeros((0, n)) if locked is None else locked
    free = n - locked.shape[0]
    steps = min(int(steps), free)
    capacity = min(steps, 32)
    basis = v0.new_zeros((capacity, n))
    alpha, beta = v0.new_zeros(steps), v0.new_zeros(steps)
    basis[0] = v0 / torch.linalg.vector_norm(v0)
    tiny = 500 * torch.finfo(v0.dtype).eps
    scale = 0.0
    for j in range(steps):
        w = matvec(basis[j])
        if j > 0:
            w = w - beta[j - 1] * basis[j - 1]
        alpha[j] = torch.dot(basis[j], w)
        scale = max(scale, abs(float(alpha[j])), float(beta[j - 1]) if j else 0.0)
        w = _orthogonalized(w, basis[: j + 1], locked)
        beta[j] = torch.linalg.vector_norm(w)
        m = j + 1
        invariant = float(beta[j]) <= tiny * max(scale, 1e-300) or m == free
        if invariant:
            beta[j] = 0.0
        partial = LanczosResult(alpha[:m], beta[: m - 1], basis[:m], float(beta[j]))
        if m == steps or (invariant and restart is None) or (stop is not None and stop(partial)):
            return partial
        if m == capacity:
            capacity = min(2 * capacity, steps)
            basis = torch.cat([basis, basis.new_zeros((capacity - m, n))])
        if invariant:
            w = _orthogonalized(restart(), basis[:m], locked)
            basis[m] = w / torch.linalg.vector_norm(w)
        else:
            basis[m] = w / beta[j]
    raise AssertionError("unreachable")  # pragma: no cover


class TopEigen(NamedTuple):
    """The ``k`` top eigenvalues found (descending, repeated ones repeated), their unit
    eigenvectors (flat, in parameter order: :meth:`by_parameter` splits them), residual
    norms ``|H u - lambda u|`` computed with a product (each eigenvalue is within its
    residual of a true one), the Hessian-vector products spent, whether ``tol`` was met
    and the set checked complete, and the ``tol`` used (raised to the dtype's resolution)."""

    values: torch.Tensor  # (k,), descending
    vectors: torch.Tensor  # (k, n)
    residuals: torch.Tensor  # (k,)
    n_products: int
    converged: bool
    tol: float = 0.0

    def by_parameter(self, model) -> dict[str, torch.Tensor]:
        """The eigenvectors split per parameter: ``{name: (k, *p.shape)}``."""
        return unflatten(model, self.vectors)


def _ritz(result: LanczosResult, want: int):
    """The ``want`` largest Ritz values, their vectors ``(want, n)``, the Lanczos residual
    estimates ``|beta_m s_{m,i}|`` and the largest Ritz magnitude."""
    theta, S = torch.linalg.eigh(result.tridiagonal())
    spread = float(theta.abs().max())
    order = torch.argsort(theta, descending=True)[:want]
    theta, S = theta[order], S[:, order]
    estimates = (result.residual * S[-1, :]).abs()
    return theta, S.T @ result.basis, estimates, spread


def _lanczos_locked(op: HessianOperator, k: int, steps: int, tol: float, generator, check):
    """Top ``k`` by Lanczos runs on the complement of the pairs locked so far.

    Each run goes until the Lanczos estimates of its top ``want`` Ritz residuals meet
    ``tol``; the pairs whose residual, recomputed with a product, meets ``tol *
    |theta|_max`` are locked. A single Krylov space holds one copy of a repeated
    eigenvalue, so once ``k`` pairs are locked, a run on their complement is the
    completeness check: its top eigenvalue must not exceed the ``k``-th locked one (up to
    the residuals); if it does, it is locked and the check repeats.
    """
    n = op.size
    values, vectors, residuals = [], op.gaussian(generator).new_zeros((0, n)), []
    scale, complete, pending = 0.0, False, None
    for _ in range(2 * k + 2):
        free = n - vectors.shape[0]
        if free == 0:
            complete = True
            break
        kth = sorted(values, reverse=True)[k - 1] if len(values) >= k else None
        want = min(max(k - len(values), 1), free)

        def estimates_met(partial: LanczosResult, want=want, scale=scale) -> bool:
            if partial.alpha.numel() < want:
                return False
            _, _, estimates, spread = _ritz(partial, want)
            return bool(estimates.max() <= tol * max(scale, spread, 1e-300))

        start = _orthogonalized(op.gaussian(generator), vectors)
        result = lanczos(
            op.matvec,
            start,
            max(steps, want),
            stop=estimates_met,
            restart=lambda: op.gaussian(generator),
            locked=vectors,
        )
        theta, U, _, spread = _ritz(result, want)
        scale = max(scale, spread)
        true = torch.linalg.vector_norm(op.matmat(U) - theta[:, None] * U, dim=1)
        ok = true <= tol * max(scale, 1e-300)
        top = float(theta[0])
        if kth is not None and bool(ok[0]) and top <= kth + 2 * tol * scale:
            complete = True
            break
        if not bool(ok.any()):
            pending = (theta, U, true)
            break
        values += [float(t) for t in theta[ok]]
        vectors = torch.cat([vectors, U[ok]])
        residuals += [float(r) for r in true[ok]]
        if not check and len(values) >= k:
            complete = True
            break
    values_t = torch.tensor(values, dtype=op.dtype, device=op.device)
    residuals_t = torch.tensor(residuals, dtype=op.dtype, device=op.device)
    if pending is not None:
        values_t = torch.cat([values_t, pending[0]])
        vectors = torch.cat([vectors, pending[1]])
        residuals_t = torch.cat([residuals_t, pending[2]])
    order = torch.argsort(values_t, descending=True)[:k]
    chosen = residuals_t[order]
    converged = complete and order.numel() == k and bool((chosen <= tol * scale).all())
    return values_t[order], vectors[order], chosen, converged


def top_eigenvalues(
    model,
    loss_fn: Callable,
    k: int = 1,
    *,
    data: Iterable | None = None,
    method: str = "lanczos",
    max_iter: int | None = None,
    tol: float = 1e-8,
    seed: int = 0,
    progress: bool | None = None,
    check: bool | None = None,
) -> TopEigen:
    """The ``k`` largest **algebraic** eigenvalues ``lambda_1 >= ... >= lambda_k`` of the
    loss's Hessian at the model's current parameters, each repeated eigenvalue as many
    times as it occurs (``lambda_1`` is the sharpness: GD on the local quadratic model is
    stable for ``lr < 2 / lambda_1``). ``loss_fn``, ``data``, ``progress``: see the module.

    ``method="lanczos"`` (default): Lanczos with full reorthogonalization from seeded
    Gaussian starts, with locking: converged pairs are kept out of later runs, and a run on
    their complement checks that no eigenvalue above the ``k``-th was missed (one Krylov
    space holds one copy of a repeated eigenvalue). ``check`` (default: when ``k > 1``)
    runs that completeness check; for ``k = 1`` a repeated top eigenvalue does not change
    the answer, and ``check=True`` only guards against a start vector nearly orthogonal to
    the top eigenvector. ``max_iter`` (default ``min(n, 300)``) caps each run's products.

    ``method="power"``: subspace iteration ``V <- qr((H + s I) V)`` with a Rayleigh-Ritz
    step, ``k`` products per iteration. Unshifted (``s = 0``) it finds the largest
    *magnitudes*; when one of them is negative (a saddle), it runs again shifted by
    ``s = |theta|_max`` so that ``H + s I >= 0`` and the largest magnitudes are the largest
    algebraic eigenvalues. ``max_iter`` (default 1000) caps the iterations of each run.

    ``converged``: every returned pair has ``|H u - lambda u| <= tol * |lambda|_max``,
    recomputed with Hessian-vector products in the model's dtype (and, for Lanczos, the
    completeness check passed). A ``tol`` below the dtype's resolution is raised to it with
    a warning (:func:`resolvable_tolerance`). Returns :class:`TopEigen`.
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive integer; got {k!r}")
    if method not in ("lanczos", "power"):
        raise ValueError(f"method must be 'lanczos' or 'power'; got {method!r}")
    if max_iter is not None:
        _positive_int("max_iter", max_iter)
    generator = _generator(seed)
    with _operator(model, loss_fn, data, progress) as op:
        if k > op.size:
            raise ValueError(f"k must be at most the number of parameters ({op.size}); got {k}")
        tol = resolvable_tolerance(tol, op.dtype)
        if method == "power":
            values, vectors, residuals, done = _power(op, k, max_iter or 1000, tol, generator)
        else:
            steps = max_iter or min(op.size, 300)
            check = k > 1 if check is None else bool(check)
            values, vectors, residuals, done = _lanczos_locked(
                op, k, steps, tol, generator, check
            )
        return TopEigen(values, vectors, residuals, op.n_products, done, tol)


def power_iteration(model, loss_fn: Callable, k: int = 1, **options) -> TopEigen:
    """:func:`top_eigenvalues` with ``method="power"`` (shifted at a saddle)."""
    return top_eigenvalues(model, loss_fn, k, method="power", **options)


def _subspace_iteration(op: HessianOperator, k, max_iter, tol, generator, shift: float):
    """Subspace iteration on ``H + shift I``: the ``k`` eigenpairs of ``H`` whose
    ``|lambda + shift|`` is largest, with their residuals ``|H u - lambda u|``."""
    V, _ = torch.linalg.qr(torch.stack([op.gaussian(generator) for _ in range(k)], dim=1))
    for _ in range(max_iter):
        W = op.matmat(V.T).T  # H V, (n, k)
        theta, S = torch.linalg.eigh(V.T @ W)  # Rayleigh-Ritz on span(V)
        order = torch.argsort((theta + shift).abs(), descending=True)
        theta, S = theta[order], S[:, order]
        U = V @ S
        residuals = torch.linalg.vector_norm(W @ S - U * theta, dim=0)
        scale = max(float(theta.abs().max()), 1e-300)
        if residuals.max() <= tol * scale:
            break
        V, _ = torch.linalg.qr((W + shift * V) @ S)
    return theta, U, residuals, bool(residuals.max() <= tol * scale)


def _power(op: HessianOperator, k, max_iter, tol, generator):
    theta, U, residuals, done = _subspace_iteration(op, k, max_iter, tol, generator, 0.0)
    if float(theta.min()) < 0:  # a negative among the largest magnitudes: shift past it
        shift = float(theta.abs().max())
        theta, U, residuals, done = _subspace_iteration(op, k, max_iter, tol, generator, shift)
    order = torch.argsort(theta, descending=True)
    return theta[order], U[:, order].T, residuals[order], done


def lambda_max(model, loss_fn: Callable, **options) -> float:
    """The largest (algebraic) Hessian eigenvalue, the sharpness, by :func:`top_eigenvalues`."""
    return float(top_eigenvalues(model, loss_fn, 1, **options).values[0])


class TraceEstimate(NamedTuple):
    """Hutchinson's ``tr H`` estimate: the mean of ``z^T H z`` over ``n_samples`` Rademacher
    probes and its standard error ``std(samples, ddof=1) / sqrt(n_samples)``."""

    value: float
    stderr: float
    samples: torch.Tensor  # (n_samples,), each z^T H z


#: probes multiplied together in one pass over the data (bounded so that the probes and
#: their products stay near 2^24 numbers: 64 MiB in float32)
PROBE_NUMBERS = 2**24


def hutchinson_trace(
    model,
    loss_fn: Callable,
    n_samples: int = 100,
    *,
    data: Iterable | None = None,
    seed: int = 0,
    progress: bool | None = None,
) -> TraceEstimate:
    """``tr H`` by Hutchinson's estimator, ``(1/N) sum_s z_s^T H z_s`` with Rademacher ``z_s``.

    Unbiased (``E[z z^T] = I``) with variance ``2 (||H||_F^2 - sum_i H_ii^2) / N``: exact
    for a diagonal Hessian. With ``data``, several probes share each pass over the batches
    (one forward pass and gradient per batch for all of them). Returns
    :class:`TraceEstimate` (value, standard error, samples).
    """
    _positive_int("n_samples", n_samples, 2)
    generator = _generator(seed)
    with _operator(model, loss_fn, data, progress) as op:
        samples = torch.empty(n_samples, dtype=op.dtype)
        chunk = max(1, min(n_samples, PROBE_NUMBERS // op.size))
        for first in range(0, n_samples, chunk):
            count = min(chunk, n_samples - first)
            Z = torch.stack([op.rademacher(generator) for _ in range(count)])
            samples[first : first + count] = (Z * op.matmat(Z)).sum(dim=1).cpu()
    stderr = float(samples.std(correction=1)) / math.sqrt(n_samples)
    return TraceEstimate(float(samples.mean()), stderr, samples)


class SpectralDensity(NamedTuple):
    """Stochastic Lanczos quadrature of the Hessian's eigenvalue density.

    Probe ``p`` gives nodes ``theta_{p,i}`` (the eigenvalues of its Lanczos ``T``) and
    weights ``w_{p,i}`` (the squared first components of ``T``'s eigenvectors; they sum to
    1 per probe): a quadrature rule for the probe's spectral measure. Then

        density(t) = (1/P) sum_p sum_i w_{p,i} exp(-(t - theta_{p,i})^2 / 2 sigma^2)
                     / (sigma sqrt(2 pi))

    on ``grid``. Its moments ``sum w theta^j`` estimate ``tr(H^j) / n`` (exactly, in
    expectation, for ``j < 2 m``).
    """

    grid: torch.Tensor  # (g,)
    density: torch.Tensor  # (g,)
    nodes: torch.Tensor  # (P, m)
    weights: torch.Tensor  # (P, m)
    sigma: float

    def moment(self, j: int) -> float:
        """The quadrature's ``j``-th moment ``(1/P) sum_p sum_i w_{p,i} theta_{p,i}^j``."""
        return float((self.weights * self.nodes**j).sum(dim=1).mean())


def spectral_density(
    model,
    loss_fn: Callable,
    *,
    data: Iterable | None = None,
    n_probes: int = 10,
    n_steps: int = 80,
    sigma: float | None = None,
    grid: torch.Tensor | None = None,
    n_grid: int = 1000,
    seed: int = 0,
    progress: bool | None = None,
) -> SpectralDensity:
    """The Hessian's eigenvalue density by stochastic Lanczos quadrature.

    ``n_probes`` Rademacher probes, ``n_steps`` Lanczos steps each (full
    reorthogonalization; fewer when the probe's Krylov space closes). ``sigma`` is the
    Gaussian broadening (default: 1% of the span of the nodes, or 1e-3 when they coincide);
    ``grid`` defaults to ``n_grid`` points over ``[min node - 5 sigma, max node + 5 sigma]``,
    so the density integrates to 1 on it up to the grid's quadrature error.
    Returns :class:`SpectralDensity`.
    """
    for name, value in (("n_probes", n_probes), ("n_steps", n_steps), ("n_grid", n_grid)):
        _positive_int(name, value)
    generator = _generator(seed)
    with _operator(model, loss_fn, data, progress) as op:
        m = min(n_steps, op.size)
        nodes = torch.zeros((n_probes, m), dtype=op.dtype)
        weights = torch.zeros((n_probes, m), dtype=op.dtype)  # a closed space pads with 0
        for p in range(n_probes):
            result = lanczos(op.matvec, op.rademacher(generator), m)
            theta, S = torch.linalg.eigh(result.tridiagonal())
            used = theta.numel()
            nodes[p, :used] = theta.cpu()
            nodes[p, used:] = theta[-1].cpu()
            weights[p, :used] = (S[0, :] ** 2).cpu()
    span = float(nodes.max() - nodes.min())
    if sigma is None:
        sigma = 0.01 * span if span > 0 else 1e-3
    if not sigma > 0:
        raise ValueError(f"sigma must be positive; got {sigma!r}")
    if grid is None:
        grid = torch.linspace(
            float(nodes.min()) - 5 * sigma,
            float(nodes.max()) + 5 * sigma,
            n_grid,
            dtype=nodes.dtype,
        )
    grid = torch.as_tensor(grid, dtype=nodes.dtype)
    gaps = (grid[:, None, None] - nodes[None]) / sigma  # (g, P, m)
    kernel = torch.exp(-0.5 * gaps**2) / (sigma * math.sqrt(2 * math.pi))
    density = (kernel * weights[None]).sum(dim=2).mean(dim=1)
    return SpectralDensity(grid, density, nodes, weights, float(sigma))
