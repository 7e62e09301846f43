"""AdaGrad."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, NamedTuple

from .base import Optimizer, hyper, with_weight_decay


@dataclass(frozen=True)
class AdaGrad(Optimizer):
    """AdaGrad with torch.optim.Adagrad's semantics.

        g = grad f(x) + weight_decay * x,    s <- s + g^2
        x <- x - lr / (1 + (t - 1) * lr_decay) * g / (sqrt(s) + eps)

    State: ``sum_sq`` (B, d) starting at ``initial_accumulator_value``; step count ``t``.
    """

    name: ClassVar[str] = "adagrad"
    lr: float = hyper(1e-2, 0.0)
    lr_decay: float = hyper(0.0, 0.0)
    weight_decay: float = hyper(0.0, 0.0)
    initial_accumulator_value: float = hyper(0.0, 0.0)
    eps: float = hyper(1e-10, 0.0)

    class State(NamedTuple):
        sum_sq: object  # (B, d)
        t: int

    def init(self, X, hp):
        return self.State(X * 0 + hp.initial_accumulator_value, 0)

    def step(self, X, state, hp, oracle):
        t = state.t + 1
        g = with_weight_decay(oracle.grad(X), X, hp.weight_decay)
        sum_sq = state.sum_sq  # consumed: updated in place
        sum_sq += g * g
        lr = hp.lr / (1 + (t - 1) * hp.lr_decay)
        return X - lr * (g / (sum_sq**0.5 + hp.eps)), self.State(sum_sq, t)
