"""Gradient descent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, NamedTuple

from .base import Optimizer, hyper, with_weight_decay


@dataclass(frozen=True)
class GD(Optimizer):
    """Gradient descent, torch.optim.SGD without momentum.

        x <- x - lr * (grad f(x) + weight_decay * x)

    On a quadratic each eigencomponent of the error contracts by ``1 - lr * lambda`` per
    step: stable for ``0 < lr < 2 / lambda_max``, fastest at ``lr = 2 / (lambda_min +
    lambda_max)``.
    """

    name: ClassVar[str] = "gd"
    lr: float = hyper(1e-3, 0.0)
    weight_decay: float = hyper(0.0, 0.0)

    class State(NamedTuple):
        pass

    def init(self, X, hp):
        return self.State()

    def step(self, X, state, hp, oracle):
        g = with_weight_decay(oracle.grad(X), X, hp.weight_decay)
        return X - hp.lr * g, state
