"""Heavy-ball momentum (Polyak)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, NamedTuple

from .base import Optimizer, hyper, with_weight_decay


@dataclass(frozen=True)
class Momentum(Optimizer):
    """Heavy-ball momentum in torch.optim.SGD's form (``momentum=beta``, no dampening).

        v <- beta * v + g,    x <- x - lr * v,    g = grad f(x) + weight_decay * x

    For a constant lr this is Polyak's ``x_{t+1} = x_t - lr g_t + beta (x_t - x_{t-1})``.
    State: ``velocity`` (B, d), zero at the start.
    """

    name: ClassVar[str] = "momentum"
    lr: float = hyper(1e-3, 0.0)
    beta: float = hyper(0.9, 0.0, 1.0, open_high=True)
    weight_decay: float = hyper(0.0, 0.0)

    class State(NamedTuple):
        velocity: object  # (B, d)

    def init(self, X, hp):
        return self.State(X * 0)

    def step(self, X, state, hp, oracle):
        g = with_weight_decay(oracle.grad(X), X, hp.weight_decay)
        v = state.velocity  # consumed: updated in place
        v *= hp.beta
        v += g
        return X - hp.lr * v, state  # the same arrays, updated
