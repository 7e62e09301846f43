"""Adam, AMSGrad and AdamW (decoupled weight decay)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, NamedTuple

from ..backend import namespace
from .base import Optimizer, hyper, is_zero, moments, pair, static, with_weight_decay


@dataclass(frozen=True)
class Adam(Optimizer):
    """Adam with torch.optim.Adam's semantics (eps outside the square root).

        g = grad f(x) [+ weight_decay * x unless decoupled]
        m <- beta1 m + (1 - beta1) g,    v <- beta2 v + (1 - beta2) g^2
        amsgrad: v_max <- max(v_max, v), used in place of v below
        x <- x - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    With ``decoupled_weight_decay`` (AdamW) the decay shrinks x first:
    ``x <- x * (1 - lr * weight_decay)``. State: ``m``, ``v`` (B, d), ``v_max`` (B, d) for
    AMSGrad, step count ``t``. Reference: Kingma & Ba (2015); Loshchilov & Hutter (2019).
    """

    name: ClassVar[str] = "adam"
    lr: float = hyper(1e-3, 0.0)
    betas: tuple[float, float] = pair((0.9, 0.999), 0.0, 1.0, open_high=True)
    eps: float = hyper(1e-8, 0.0)
    weight_decay: float = hyper(0.0, 0.0)
    amsgrad: bool = static(False, choices=(False, True))
    decoupled_weight_decay: bool = static(False, choices=(False, True))

    class State(NamedTuple):
        m: object  # (B, d)
        v: object  # (B, d)
        v_max: object  # (B, d) or None
        t: int

    def init(self, X, hp):
        return self.State(X * 0, X * 0, X * 0 if self.amsgrad else None, 0)

    def step(self, X, state, hp, oracle):
        beta1, beta2 = hp.betas
        t = state.t + 1
        g = oracle.grad(X)
        if self.decoupled_weight_decay:
            if not is_zero(hp.weight_decay):
                X = X * (1 - hp.lr * hp.weight_decay)
        else:
            g = with_weight_decay(g, X, hp.weight_decay)
        m, v = moments(state.m, state.v, g, g, beta1, beta2)
        v_max = None
        if self.amsgrad:
            v_max = namespace(v).maximum(state.v_max, v)  # starts at 0 <= v
            v_used = v_max
        else:
            v_used = v
        den = namespace(v_used).sqrt(v_used)
        den /= (1 - beta2**t) ** 0.5
        den += hp.eps
        update = m / den
        del den
        update *= hp.lr / (1 - beta1**t)
        return X - update, self.State(m, v, v_max, t)


@dataclass(frozen=True)
class AdamW(Adam):
    """Adam with decoupled weight decay, torch.optim.AdamW's defaults (weight_decay 1e-2)."""

    name: ClassVar[str] = "adamw"
    weight_decay: float = hyper(1e-2, 0.0)
    decoupled_weight_decay: bool = static(True, choices=(False, True))
