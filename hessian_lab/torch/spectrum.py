"""Hessian spectra of a torch model's loss, from Hessian-vector products only.

The Hessian ``H = d^2 L / dtheta^2`` of a scalar loss ``L(theta)`` with respect to the
model's trainable parameters ``theta`` (all of them, flattened in ``model.parameters()``
order: ``n`` numbers) is never formed. Each method touches it through ``v -> H v``
(one backward pass through the gradient's graph, built once per call):

- :func:`top_eigenvalues`: the ``k`` largest eigenvalues (algebraic: the sharpness
  ``lambda_max`` first) by Lanczos with full reorthogonalization, or the ``k`` largest in
  magnitude by power (subspace) iteration; :func:`lambda_max` is the one number;
- :func:`hutchinson_trace`: ``tr H = E[z^T H z]`` over Rademacher ``z``, with its standard
  error;
- :func:`spectral_density`: stochastic Lanczos quadrature, a Gaussian-broadened estimate
  of the eigenvalue density ``phi(t) = (1/n) sum_i delta(t - lambda_i)``.

Every function takes ``(model, loss_fn)``: ``model`` an ``nn.Module`` (or an iterable of
parameter tensors), ``loss_fn`` a closure of no arguments that evaluates the scalar loss
at the model's current parameters, e.g. ``lambda: F.cross_entropy(model(X), y)``. The
parameters are not changed. Randomness (starting vectors, probes) comes from a
``torch.Generator`` seeded by ``seed``: the same seed gives the same result.

    >>> import torch
    >>> from hessian_lab.torch.spectrum import lambda_max, top_eigenvalues
    >>> model = torch.nn.Linear(3, 1, dtype=torch.float64)
    >>> X = torch.eye(3, dtype=torch.float64)
    >>> loss_fn = lambda: 0.5 * (model(X) ** 2).sum()
    >>> round(lambda_max(model, loss_fn), 6)  # H = [[X^T X, X^T 1], [1^T X, 3]]
    4.0

References: Lanczos (1950) and Golub & Van Loan, *Matrix Computations*, ch. 10;
Hutchinson (1990); Ghorbani, Krishnan & Xiao, "An Investigation into Neural Net
Optimization via Hessian Eigenvalue Density" (ICML 2019) for stochastic Lanczos quadrature;
Yao et al., "PyHessian" (2020).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import torch

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
    "spectral_density",
    "top_eigenvalues",
]

LossFn = Callable[[], torch.Tensor]


def _parameters(model) -> list[torch.Tensor]:
    params = model.parameters() if isinstance(model, torch.nn.Module) else model
    params = [p for p in params if p.requires_grad]
    if not params:
        raise ValueError("model has no parameter with requires_grad=True")
    return params


class HessianOperator:
    """``v -> H v`` for the loss's Hessian at the current parameters: ``(n,) -> (n,)``.

    The gradient ``g = dL/dtheta`` is computed once with ``create_graph=True``; each
    :meth:`matvec` is ``d(g . v)/dtheta``, one backward pass through that graph (which the
    operator keeps alive: drop the operator to free it). ``n_products`` counts the products.
    """

    def __init__(self, model, loss_fn: LossFn) -> None:
        self.params = _parameters(model)
        loss = loss_fn()
        if loss.dim() != 0:
            raise ValueError(f"loss_fn must return a scalar; got shape {tuple(loss.shape)}")
        grads = torch.autograd.grad(loss, self.params, create_graph=True, allow_unused=True)
        # a parameter the gradient does not depend on contributes zero rows to H
        self._live = [i for i, g in enumerate(grads) if g is not None and g.requires_grad]
        self._grads = [grads[i] for i in self._live]
        self.shapes = [p.shape for p in self.params]
        self.sizes = [p.numel() for p in self.params]
        self.size = sum(self.sizes)
        self.dtype = self.params[0].dtype
        self.device = self.params[0].device
        self.n_products = 0

    def matvec(self, v: torch.Tensor) -> torch.Tensor:
        """``H v`` for a flat ``v`` of shape ``(n,)`` (detached, same dtype and device)."""
        self.n_products += 1
        out = torch.zeros(self.size, dtype=self.dtype, device=self.device)
        if not self._grads:
            return out
        pieces = torch.split(v, self.sizes)
        products = torch.autograd.grad(
            self._grads,
            self.params,
            grad_outputs=[pieces[i].reshape(self.shapes[i]) for i in self._live],
            retain_graph=True,
            allow_unused=True,
        )
        start = 0
        for size, hv in zip(self.sizes, products, strict=True):
            if hv is not None:
                out[start : start + size] = hv.reshape(-1)
            start += size
        return out

    def rademacher(self, generator: torch.Generator) -> torch.Tensor:
        """A probe of +-1 entries ``(n,)`` drawn from ``generator`` (a CPU generator)."""
        signs = torch.randint(0, 2, (self.size,), generator=generator, dtype=torch.int64)
        return (2 * signs - 1).to(dtype=self.dtype, device=self.device)

    def gaussian(self, generator: torch.Generator) -> torch.Tensor:
        """A standard normal vector ``(n,)`` drawn from ``generator`` (a CPU generator)."""
        z = torch.randn(self.size, generator=generator, dtype=torch.float64)
        return z.to(dtype=self.dtype, device=self.device)


def _generator(seed: int) -> torch.Generator:
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer; got {seed!r}")
    return torch.Generator().manual_seed(seed)


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


def lanczos(
    matvec: Callable[[torch.Tensor], torch.Tensor],
    v0: torch.Tensor,
    steps: int,
    *,
    stop: Callable[[LanczosResult], bool] | None = None,
    restart: Callable[[], torch.Tensor] | None = None,
) -> LanczosResult:
    """Lanczos tridiagonalization from ``v0`` with full reorthogonalization.

        q_1 = v0 / |v0|;   w = H q_j - beta_{j-1} q_{j-1};   alpha_j = q_j . w
        w <- w - Q_j (Q_j^T w)  (twice: "twice is enough")
        beta_j = |w|;   q_{j+1} = w / beta_j

    Runs ``steps`` steps, or fewer when ``stop(partial_result)`` returns True (it is asked
    after every step). When ``beta_j`` vanishes the Krylov space is invariant (its Ritz
    values are exact eigenvalues): without ``restart`` the run ends there; with it, the run
    goes on from ``restart()`` orthogonalized against ``Q`` and ``beta_j = 0`` (``T`` is
    then block diagonal), so a Hessian with few distinct eigenvalues still yields ``k``
    of them. Cost: ``m`` products and ``O(m^2 n)`` for the reorthogonalization, which keeps
    the Ritz values free of spurious copies.
    """
    n = v0.numel()
    steps = min(int(steps), n)
    basis = torch.zeros((steps, n), dtype=v0.dtype, device=v0.device)
    alpha = torch.zeros(steps, dtype=v0.dtype, device=v0.device)
    beta = torch.zeros(steps, dtype=v0.dtype, device=v0.device)
    basis[0] = v0 / torch.linalg.vector_norm(v0)
    scale = 0.0
    for j in range(steps):
        w = matvec(basis[j])
        if j > 0:
            w = w - beta[j - 1] * basis[j - 1]
        alpha[j] = torch.dot(basis[j], w)
        scale = max(scale, abs(float(alpha[j])), float(beta[j - 1]) if j else 0.0)
        w = _orthogonalized(w, basis[: j + 1])
        beta[j] = torch.linalg.vector_norm(w)
        m = j + 1
        invariant = float(beta[j]) <= 1e-13 * max(scale, 1e-300) or m == n
        if invariant:
            beta[j] = 0.0
        partial = LanczosResult(alpha[:m], beta[: m - 1], basis[:m], float(beta[j]))
        if m == steps or (invariant and restart is None) or (stop is not None and stop(partial)):
            return partial
        if invariant:
            w = _orthogonalized(restart(), basis[:m])
            basis[m] = w / torch.linalg.vector_norm(w)
        else:
            basis[m] = w / beta[j]
    raise AssertionError("unreachable")  # pragma: no cover


def _orthogonalized(w: torch.Tensor, Q: torch.Tensor) -> torch.Tensor:
    """``w`` minus its projection on the rows of ``Q``, done twice ("twice is enough")."""
    for _ in range(2):
        w = w - Q.T @ (Q @ w)
    return w


class TopEigen(NamedTuple):
    """The ``k`` eigenvalues found, their unit eigenvectors (flat, ``model.parameters()``
    order) and residual norms ``|H u - lambda u|`` (each eigenvalue is within its residual
    of a true one), the Hessian-vector products spent, and whether ``tol`` was met."""

    values: torch.Tensor  # (k,), descending
    vectors: torch.Tensor  # (k, n)
    residuals: torch.Tensor  # (k,)
    n_products: int
    converged: bool


def _ritz_top(result: LanczosResult, k: int):
    """The ``k`` largest Ritz values, their vectors ``(k, n)`` and residual norms."""
    theta, S = torch.linalg.eigh(result.tridiagonal())
    order = torch.argsort(theta, descending=True)[:k]
    theta, S = theta[order], S[:, order]
    residuals = (result.residual * S[-1, :]).abs()
    return theta, S.T @ result.basis, residuals


def top_eigenvalues(
    model,
    loss_fn: LossFn,
    k: int = 1,
    *,
    method: str = "lanczos",
    max_iter: int | None = None,
    tol: float = 1e-8,
    seed: int = 0,
) -> TopEigen:
    """The ``k`` top eigenvalues of the loss's Hessian at the model's current parameters.

    ``method="lanczos"`` (default): the ``k`` largest **algebraic** eigenvalues
    ``lambda_1 >= ... >= lambda_k`` (``lambda_1`` is the sharpness; GD on the local
    quadratic model is stable for ``lr < 2 / lambda_1``) by Lanczos with full
    reorthogonalization from a seeded Gaussian start, stopped when every residual
    ``|beta_m s_{m,i}| <= tol * max(|theta_1|, tiny)`` (the eigenvalue error is below the
    residual, and in practice near its square over the spectral gap). ``max_iter`` (default
    ``min(n, 300)``) caps the products.

    ``method="power"``: subspace iteration with a Rayleigh-Ritz step, ``V <- qr(H V)``:
    the ``k`` eigenvalues largest in **magnitude** (the same as Lanczos's when the Hessian
    has no large negative eigenvalues), ``k`` products per iteration, stopped on the same
    relative residual; ``max_iter`` (default 1000) caps the iterations. Slower, simpler.

    Returns :class:`TopEigen` (``values`` descending).
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive integer; got {k!r}")
    if method not in ("lanczos", "power"):
        raise ValueError(f"method must be 'lanczos' or 'power'; got {method!r}")
    generator = _generator(seed)
    op = HessianOperator(model, loss_fn)
    if k > op.size:
        raise ValueError(f"k must be at most the number of parameters ({op.size}); got {k}")
    if method == "power":
        return _subspace_iteration(op, k, max_iter or 1000, tol, generator)
    steps = max(max_iter or min(op.size, 300), k)

    def converged(partial: LanczosResult) -> bool:
        if partial.alpha.numel() < k:
            return False
        theta, _, residuals = _ritz_top(partial, k)
        return bool(residuals.max() <= tol * max(float(theta.abs().max()), 1e-300))

    start = op.gaussian(generator)
    result = lanczos(
        op.matvec, start, steps, stop=converged, restart=lambda: op.gaussian(generator)
    )
    theta, vectors, residuals = _ritz_top(result, k)
    done = bool(residuals.max() <= tol * max(float(theta.abs().max()), 1e-300))
    return TopEigen(theta, vectors, residuals, op.n_products, done)


def power_iteration(model, loss_fn: LossFn, k: int = 1, **options) -> TopEigen:
    """:func:`top_eigenvalues` with ``method="power"`` (largest in magnitude)."""
    return top_eigenvalues(model, loss_fn, k, method="power", **options)


def _subspace_iteration(op: HessianOperator, k, max_iter, tol, generator) -> TopEigen:
    V = torch.stack([op.gaussian(generator) for _ in range(k)], dim=1)  # (n, k)
    V, _ = torch.linalg.qr(V)
    for _ in range(max_iter):
        W = torch.stack([op.matvec(V[:, i]) for i in range(k)], dim=1)  # H V, (n, k)
        theta, S = torch.linalg.eigh(V.T @ W)  # Rayleigh-Ritz on span(V)
        order = torch.argsort(theta.abs(), descending=True)
        theta, S = theta[order], S[:, order]
        U = V @ S
        residuals = torch.linalg.vector_norm(W @ S - U * theta, dim=0)
        if residuals.max() <= tol * max(float(theta.abs().max()), 1e-300):
            break
        V, _ = torch.linalg.qr(W @ S)
    order = torch.argsort(theta, descending=True)
    done = bool(residuals.max() <= tol * max(float(theta.abs().max()), 1e-300))
    return TopEigen(theta[order], U[:, order].T, residuals[order], op.n_products, done)


def lambda_max(model, loss_fn: LossFn, **options) -> float:
    """The largest Hessian eigenvalue (the sharpness), by :func:`top_eigenvalues`."""
    return float(top_eigenvalues(model, loss_fn, 1, **options).values[0])


class TraceEstimate(NamedTuple):
    """Hutchinson's ``tr H`` estimate: the mean of ``z^T H z`` over ``n_samples`` Rademacher
    probes and its standard error ``std(samples, ddof=1) / sqrt(n_samples)``."""

    value: float
    stderr: float
    samples: torch.Tensor  # (n_samples,), each z^T H z


def hutchinson_trace(model, loss_fn: LossFn, n_samples: int = 100, *, seed: int = 0):
    """``tr H`` by Hutchinson's estimator, ``(1/N) sum_s z_s^T H z_s`` with Rademacher ``z_s``.

    Unbiased (``E[z z^T] = I``) with variance ``2 (||H||_F^2 - sum_i H_ii^2) / N``: exact
    for a diagonal Hessian. Returns :class:`TraceEstimate` (value, standard error, samples).
    """
    if isinstance(n_samples, bool) or not isinstance(n_samples, int) or n_samples < 2:
        raise ValueError(f"n_samples must be an integer >= 2; got {n_samples!r}")
    generator = _generator(seed)
    op = HessianOperator(model, loss_fn)
    samples = torch.empty(n_samples, dtype=op.dtype)
    for s in range(n_samples):
        z = op.rademacher(generator)
        samples[s] = torch.dot(z, op.matvec(z))
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
    loss_fn: LossFn,
    *,
    n_probes: int = 10,
    n_steps: int = 80,
    sigma: float | None = None,
    grid: torch.Tensor | None = None,
    n_grid: int = 1000,
    seed: int = 0,
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
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer; got {value!r}")
    generator = _generator(seed)
    op = HessianOperator(model, loss_fn)
    m = min(n_steps, op.size)
    nodes = torch.zeros((n_probes, m), dtype=op.dtype)
    weights = torch.zeros((n_probes, m), dtype=op.dtype)  # a closed Krylov space pads with 0
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
            dtype=op.dtype,
        )
    grid = torch.as_tensor(grid, dtype=op.dtype)
    gaps = (grid[:, None, None] - nodes[None]) / sigma  # (g, P, m)
    kernel = torch.exp(-0.5 * gaps**2) / (sigma * math.sqrt(2 * math.pi))
    density = (kernel * weights[None]).sum(dim=2).mean(dim=1)
    return SpectralDensity(grid, density, nodes, weights, float(sigma))
