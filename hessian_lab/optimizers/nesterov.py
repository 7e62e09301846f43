"""Nesterov's accelerated gradient, with the gradient taken at the look-ahead point."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, NamedTuple

from .base import Optimizer, hyper, with_weight_decay


@dataclass(frozen=True)
class Nesterov(Optimizer):
    """Nesterov's method as in the literature.

        y = x + beta * (x - x_prev),    x <- y - lr * (grad f(y) + weight_decay * y)

    The iterate ``x`` is what the engine measures. torch.optim.SGD(nesterov=True) runs the
    same method on the look-ahead sequence: its parameter after t steps equals our ``y``
    (``x_t + beta (x_t - x_{t-1})``). State: ``previous`` (B, d), the iterate before ``x``.
    """

    name: ClassVar[str] = "nesterov"
    lr: float = hyper(1e-3, 0.0)
    beta: float = hyper(0.9, 0.0, 1.0, open_high=True)
    weight_decay: float = hyper(0.0, 0.0)

    class State(NamedTuple):
        previous: object  # (B, d)

    def work_per_step(self, d: int) -> float:
        """A gradient at the look-ahead point besides the engine's at the iterate."""
        return 2.0

    def init(self, X, hp):
        return self.State(X)

    def step(self, X, state, hp, oracle):
        Y = X + hp.beta * (X - state.previous)
        g = with_weight_decay(oracle.grad(Y), Y, hp.weight_decay)
        return Y - hp.lr * g, self.State(X)
