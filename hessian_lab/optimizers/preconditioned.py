"""Gradient descent with a diagonal preconditioner: a power of the Hessian's diagonal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, NamedTuple

from .base import Optimizer, hyper


@dataclass(frozen=True)
class PreconditionedGD(Optimizer):
    """Gradient descent preconditioned by ``P = diag(H)^-power``.

        x <- x - lr * P grad f(x),    P = diag(H(x))^-power   (elementwise power)

    On a quadratic ``diag H`` is constant, so ``P`` is a fixed diagonal preconditioner:
    the noisy quadratic model's stand-in for Adam (``power = 0.5``) and K-FAC/diagonal
    Newton (``power = 1``); ``power = 0`` is plain GD. Each mode of ``P^(1/2) H P^(1/2)``
    (eigenvalue ``mu``) contracts by ``1 - lr * mu``: stable for ``lr < 2 / mu_max``.
    ``diag H`` must be positive. No state.
    """

    name: ClassVar[str] = "precond-gd"
    lr: float = hyper(1e-3, 0.0)
    power: float = hyper(0.5, 0.0)

    class State(NamedTuple):
        pass

    def init(self, X, hp):
        return self.State()

    def step(self, X, state, hp, oracle):
        P = oracle.hessian_diagonal(X) ** -hp.power
        P *= oracle.grad(X)
        return X - hp.lr * P, state
