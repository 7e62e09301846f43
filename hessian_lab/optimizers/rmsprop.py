"""RMSProp, with optional momentum and the centered variant."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, NamedTuple

from .base import Optimizer, hyper, is_zero, static, with_weight_decay


@dataclass(frozen=True)
class RMSProp(Optimizer):
    """RMSProp with torch.optim.RMSprop's semantics.

        g = grad f(x) + weight_decay * x,    s <- alpha * s + (1 - alpha) * g^2
        centered:  a <- alpha * a + (1 - alpha) * g,   den = sqrt(s - a^2) + eps
        otherwise: den = sqrt(s) + eps
        momentum:  u <- momentum * u + g / den,  x <- x - lr * u
        otherwise: x <- x - lr * g / den

    State: ``square_avg`` (B, d); ``grad_avg`` (B, d) when centered; ``buffer`` (B, d) when
    momentum is not the scalar 0.
    """

    name: ClassVar[str] = "rmsprop"
    lr: float = hyper(1e-2, 0.0)
    alpha: float = hyper(0.99, 0.0, 1.0)
    eps: float = hyper(1e-8, 0.0)
    weight_decay: float = hyper(0.0, 0.0)
    momentum: float = hyper(0.0, 0.0, 1.0, open_high=True)
    centered: bool = static(False, choices=(False, True))

    class State(NamedTuple):
        square_avg: object  # (B, d)
        grad_avg: object  # (B, d) or None
        buffer: object  # (B, d) or None

    def init(self, X, hp):
        return self.State(
            X * 0,
            X * 0 if self.centered else None,
            None if is_zero(hp.momentum) else X * 0,
        )

    def step(self, X, state, hp, oracle):
        g = with_weight_decay(oracle.grad(X), X, hp.weight_decay)
        square_avg = state.square_avg  # the state is consumed: updated in place
        square_avg *= hp.alpha
        square_avg += (1 - hp.alpha) * (g * g)
        grad_avg = None
        if self.centered:
            grad_avg = state.grad_avg
            grad_avg *= hp.alpha
            grad_avg += (1 - hp.alpha) * g
            den = (square_avg - grad_avg * grad_avg) ** 0.5 + hp.eps
        else:
            den = square_avg**0.5 + hp.eps
        if state.buffer is None:
            return X - hp.lr * (g / den), self.State(square_avg, grad_avg, None)
        buffer = state.buffer
        buffer *= hp.momentum
        buffer += g / den
        return X - hp.lr * buffer, self.State(square_avg, grad_avg, buffer)
