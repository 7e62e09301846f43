"""Reference second-order methods: full Newton and exact diagonal Newton."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, NamedTuple

from ..backend import namespace
from .base import Optimizer, hyper

_FLOAT64_EPS = 2.0**-52


def pinv_cutoff(d: int) -> float:
    """The pseudo-inverse's relative cutoff ``d * eps64``: singular values of H below
    ``d * eps64 * sigma_max`` count as zero, so their modes get no Newton correction (at
    ``kappa >= 1 / (d eps64)``, 2.3e15 for d = 2, the smallest eigenvalues are dropped)."""
    return d * _FLOAT64_EPS


class _NoState(NamedTuple):
    pass


@dataclass(frozen=True)
class Newton(Optimizer):
    """Damped Newton: ``x <- x - lr * H(x)^+ grad f(x)``.

    ``H^+`` is the pseudo-inverse (``H^-1`` whenever H is invertible), so a singular
    quadratic still gets the minimum-norm Newton step. ``lr = 1`` solves a quadratic in one
    step. Costs a dense ``(B, d, d)`` Hessian per step: a reference for small problems.
    """

    name: ClassVar[str] = "newton"
    lr: float = hyper(1.0, 0.0)
    State: ClassVar[type] = _NoState

    def work_per_step(self, d: int) -> float:
        """A gradient and a dense Hessian (~ d gradients); the pseudo-inverse's ~d^2 more is
        left out: on a quadratic Newton needs one step, far fewer than ``max_steps``."""
        return 1.0 + d

    def init(self, X, hp):
        return _NoState()

    def step(self, X, state, hp, oracle):
        xp = namespace(X)
        H = oracle.hessian(X)
        # a row whose Hessian is not finite (a non-smooth point, an overflow) gets a NaN
        # step, which the engine reports as that row diverging; the SVD behind pinv would
        # otherwise fail for the whole batch
        bad = ~xp.all(xp.isfinite(H), axis=(1, 2))
        # cutoff at float64's resolution in every dtype: float32's own (d * 1.2e-7) would drop
        # every mode below 1e-7 lambda_max, and Newton would never correct them
        cutoff = pinv_cutoff(H.shape[-1])
        H_pinv = xp.linalg.pinv(xp.where(bad[:, None, None], xp.zeros_like(H), H), rtol=cutoff)
        direction = xp.matmul(H_pinv, oracle.grad(X)[:, :, None])[:, :, 0]
        direction = xp.where(bad[:, None], xp.full_like(direction, float("nan")), direction)
        return X - hp.lr * direction, state


@dataclass(frozen=True)
class DiagonalNewton(Optimizer):
    """Exact diagonal Newton: ``x <- x - lr * grad f(x) / diag H(x)``.

    What AdaHessian approximates (with k = 1, no momentum): exact on an axis-aligned
    quadratic (one step with lr = 1), only a preconditioner when H is rotated.
    """

    name: ClassVar[str] = "diag-newton"
    lr: float = hyper(1.0, 0.0)
    State: ClassVar[type] = _NoState

    def work_per_step(self, d: int) -> float:
        """A gradient and a Hessian diagonal."""
        return 2.0

    def init(self, X, hp):
        return _NoState()

    def step(self, X, state, hp, oracle):
        return X - hp.lr * (oracle.grad(X) / oracle.hessian_diagonal(X)), state
