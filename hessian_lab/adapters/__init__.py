"""Optimizers brought by users, run through the same engine as the built-in ones.

- :class:`TorchOptimizer`: any ``torch.optim.Optimizer`` subclass or ``params -> Optimizer``
  callable, one parameter tensor per row (closures, ``create_graph`` for second order);
- :class:`StepFunction`: a plain ``step(x, g, state) -> (x, state)``;
- :func:`adapt`: whichever of the two (or a built-in optimizer class) fits an object;
- :func:`register`: an adapted optimizer into :mod:`hessian_lab.catalog` under a name, so
  ``make_optimizer(name)`` and every consumer of the catalog see it.

Both are :class:`~hessian_lab.optimizers.base.Optimizer`\\ s: ``hl.run``, its statuses,
criteria, histories and plots take them as they are.
"""

from __future__ import annotations

from .step_function import StepFunction
from .target import TargetError, adapt, load_target, parse_kwargs, register
from .torch_optim import LAYOUTS, TorchOptimizer

__all__ = [
    "LAYOUTS",
    "StepFunction",
    "TargetError",
    "TorchOptimizer",
    "adapt",
    "load_target",
    "parse_kwargs",
    "register",
]
