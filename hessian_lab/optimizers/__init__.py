"""Optimizers: one small module per method, one implementation for every backend.

To add one: write its module here (a frozen dataclass subclassing :class:`Optimizer`, see
``base.py``) and give it one entry in :mod:`hessian_lab.catalog`; :data:`OPTIMIZERS`,
:func:`make_optimizer`, the CLI and the test suite's optimizer list all read the catalog.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from .. import catalog
from .adagrad import AdaGrad
from .adahessian import AdaHessian
from .adam import Adam, AdamW
from .base import Optimizer, Oracle
from .gd import GD
from .momentum import Momentum
from .nesterov import Nesterov
from .newton import DiagonalNewton, Newton
from .preconditioned import PreconditionedGD
from .rmsprop import RMSProp


class _Registry(Mapping):
    """name -> optimizer class, read live from :mod:`hessian_lab.catalog` (so an optimizer
    added with :func:`hessian_lab.catalog.register` is here too)."""

    def __getitem__(self, name: str) -> type[Optimizer]:
        try:
            return catalog.entry(name).load()
        except ValueError:
            raise KeyError(name) from None

    def __iter__(self) -> Iterator[str]:
        return iter(catalog.names())

    def __len__(self) -> int:
        return len(catalog.names())

    def __repr__(self) -> str:
        return f"OPTIMIZERS({', '.join(catalog.names())})"


OPTIMIZERS: Mapping[str, type[Optimizer]] = _Registry()


def make_optimizer(name: str, **hyperparameters) -> Optimizer:
    """The optimizer called ``name`` with the given hyperparameters.

    Raises ``ValueError`` naming the unknown optimizer or hyperparameter and what is allowed.
    """
    cls = catalog.entry(name).load()
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
    "PreconditionedGD",
    "RMSProp",
    "make_optimizer",
]
