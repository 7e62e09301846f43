"""Optimizers: one small module per method, one implementation for every backend."""

from __future__ import annotations

from .adagrad import AdaGrad
from .adahessian import AdaHessian
from .adam import Adam, AdamW
from .base import Optimizer, Oracle
from .gd import GD
from .momentum import Momentum
from .nesterov import Nesterov
from .newton import DiagonalNewton, Newton
from .rmsprop import RMSProp

OPTIMIZERS: dict[str, type[Optimizer]] = {
    cls.name: cls
    for cls in (
        GD,
        Momentum,
        Nesterov,
        AdaGrad,
        RMSProp,
        Adam,
        AdamW,
        AdaHessian,
        Newton,
        DiagonalNewton,
    )
}


def make_optimizer(name: str, **hyperparameters) -> Optimizer:
    """The optimizer called ``name`` with the given hyperparameters.

    Raises ``ValueError`` naming the unknown optimizer or hyperparameter and what is allowed.
    """
    cls = OPTIMIZERS.get(name)
    if cls is None:
        raise ValueError(f"unknown optimizer {name!r}; allowed: {', '.join(OPTIMIZERS)}")
    allowed = cls.hyperparameter_names()
    for key in hyperparameters:
        if key not in allowed:
            raise ValueError(
                f"unknown hyperparameter {key!r} for {name}; allowed: {', '.join(allowed)}"
            )
    return cls(**hyperparameters)


__all__ = [
    "OPTIMIZERS",
    "AdaGrad",
    "AdaHessian",
    "Adam",
    "AdamW",
    "DiagonalNewton",
    "GD",
    "Momentum",
    "Nesterov",
    "Newton",
    "Optimizer",
    "Oracle",
    "RMSProp",
    "make_optimizer",
]
