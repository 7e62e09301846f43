"""hessian_lab: the convergence theory of optimizers, runnable, testable and visible.

The public names below are loaded on first use (PEP 562), so ``import hessian_lab`` and
``hessian-lab --help`` stay cheap; the symbolic layer (sympy), the plots (matplotlib) and
torch are imported only where they are used.

    >>> import hessian_lab as hl
    >>> result = hl.run(hl.steep_valley(), hl.GD(lr=2 / 101), x0=[0.0, 0.0])
    >>> str(result.status[0]), int(result.steps[0])
    ('converged', 419)
"""

from __future__ import annotations

from importlib import import_module

from .catalog import BUILTIN

__version__ = "0.1.0"

_WHERE = {
    "Backend": "backend",
    "get_backend": "backend",
    "GradientNoise": "noise",
    # under gradient noise: E f(x_t) - f* and its limit, exactly (linear methods, quadratics)
    "expected_loss": "noisy_theory",
    "stationary_loss": "noisy_theory",
    "CRITERIA": "engine",
    "RunResult": "engine",
    "run": "engine",
    "OPTIMIZERS": "optimizers",
    "Optimizer": "optimizers",
    "make_optimizer": "optimizers",
    "Problem": "problems",
    "Quadratic": "problems",
    "steep_valley": "problems",
    # the text forms users type: hl.optimizer("momentum:lr=0.5*lr_opt", problem), hl.problem(...)
    "SpecError": "spec",
    "optimizer": "spec",
    "problem": "spec",
    # every built-in optimizer class, by its name in the catalog
    **{e.class_name: "optimizers" for e in BUILTIN},
}

__all__ = [*_WHERE, "__version__"]
#: submodules reachable as attributes without an import of their own (``hl.theory``)
_SUBMODULES = ("theory", "noisy_theory", "studies", "noise", "engine", "plots", "experiments")


def __getattr__(name: str):
    if name in _SUBMODULES:
        return import_module(f".{name}", __name__)
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'hessian_lab' has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
