"""hessian_lab: the convergence theory of optimizers, runnable, testable and visible.

The numeric layer is imported here; the symbolic layer (sympy), the plots (matplotlib)
and the CLI are imported only where they are used, so ``import hessian_lab`` stays cheap.

    >>> import hessian_lab as hl
    >>> result = hl.run(hl.steep_valley(), hl.GD(lr=2 / 101), x0=[0.0, 0.0])
    >>> str(result.status[0])
    'converged'
"""

from __future__ import annotations

from .backend import Backend, get_backend
from .engine import CRITERIA, RunResult, run
from .optimizers import (
    OPTIMIZERS,
    GD,
    AdaGrad,
    AdaHessian,
    Adam,
    AdamW,
    DiagonalNewton,
    Momentum,
    Nesterov,
    Newton,
    Optimizer,
    RMSProp,
    make_optimizer,
)
from .problems import Problem, Quadratic, steep_valley

__version__ = "0.1.0"

__all__ = [
    "Backend",
    "CRITERIA",
    "GD",
    "OPTIMIZERS",
    "AdaGrad",
    "AdaHessian",
    "Adam",
    "AdamW",
    "DiagonalNewton",
    "Momentum",
    "Nesterov",
    "Newton",
    "Optimizer",
    "Problem",
    "Quadratic",
    "RMSProp",
    "RunResult",
    "get_backend",
    "make_optimizer",
    "run",
    "steep_valley",
    "__version__",
]
