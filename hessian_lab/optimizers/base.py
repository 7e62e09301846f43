"""What every optimizer shares: hyperparameter fields, their validation and resolution.

An optimizer is a frozen dataclass of hyperparameters with two methods,

    state = opt.init(X, hp)                   X: (B, d)
    X, state = opt.step(X, state, hp, oracle)

``step`` never modifies ``X`` (it returns a fresh iterate: the engine keeps the iterates
of a chunk of steps and checks them together) but consumes ``state``: it may update the
state's arrays in place, as torch.optim does, so the state is not held twice in memory.
Pass each state to ``step`` once; ``init`` gives every state field its own array.

where ``hp = opt.hyperparameters(B, backend)`` holds every hyperparameter resolved for a
batch of B rows: a scalar stays a Python float (free to broadcast), a length-B sequence
becomes a ``(B, 1)`` column on the backend, so one engine call sweeps B configurations.
State is a small NamedTuple whose array fields have the batch as leading axis; the engine
drops finished rows from ``X``, ``state`` and ``hp`` alike.

Names and defaults follow torch.optim (``lr``, ``betas``, ``eps``, ``weight_decay``,
``alpha``); the heavy-ball and Nesterov coefficient is ``beta``, as in the theory.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from types import SimpleNamespace
from typing import Any, ClassVar

import numpy as np

from ..backend import Backend, is_array, namespace, to_numpy

__all__ = ["EVALUATIONS", "Optimizer", "Oracle", "hyper", "pair", "static", "take_rows"]


def hyper(default: float, low: float = -math.inf, high: float = math.inf, *, open_high=False):
    """A hyperparameter field: a scalar or one value per row, each in ``[low, high]``.

    ``open_high=True`` makes the upper end exclusive (``[low, high)``, as for betas).
    """
    return field(default=default, metadata={"kind": "hyper", "range": (low, high, open_high)})


def pair(default: tuple[float, float], low: float, high: float, *, open_high=False):
    """Two hyperparameters that travel together, like Adam's ``betas=(beta1, beta2)``."""
    return field(default=default, metadata={"kind": "pair", "range": (low, high, open_high)})


def static(default: Any, choices: Sequence | None = None, minimum: int | None = None):
    """A setting shared by every row (a flag or a count): it may change the code path."""
    return field(default=default, metadata={"kind": "static", "choices": choices, "min": minimum})


def _as_values(value: Any) -> np.ndarray:
    if is_array(value) or isinstance(value, (list, tuple)):
        return to_numpy(value).astype(np.float64).reshape(-1)
    return np.asarray([value], dtype=np.float64)


def _check_range(name: str, value: Any, spec: tuple[float, float, bool]) -> None:
    low, high, open_high = spec
    try:
        values = _as_values(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number or a list of numbers; got {value!r}") from None
    if values.size == 0:
        raise ValueError(f"{name} must not be empty")
    too_high = values >= high if open_high else values > high
    if not np.all(np.isfinite(values)) or np.any(values < low) or np.any(too_high):
        right = ")" if open_high else "]"
        shown = value if values.size == 1 else f"{values.size} values incl. an out-of-range one"
        raise ValueError(f"{name} must be finite and in [{low:g}, {high:g}{right}; got {shown}")


def take_rows(tree: Any, keep):
    """Index every batched array inside ``tree`` (NamedTuple, tuple, namespace) by ``keep``.

    ``keep`` is an integer index array of the tree's backend; ``take`` is several times
    faster than fancy indexing on short rows. Scalars and 0-d arrays pass through.
    """
    if isinstance(tree, np.ndarray):  # the method: no dispatch through Python wrappers
        return tree.take(keep, axis=0) if tree.ndim else tree
    if is_array(tree):
        return namespace(tree).take(tree, keep, axis=0) if tree.ndim else tree
    if isinstance(tree, SimpleNamespace):
        return SimpleNamespace(**{k: take_rows(v, keep) for k, v in vars(tree).items()})
    if isinstance(tree, tuple):
        items = [take_rows(v, keep) for v in tree]
        return type(tree)(*items) if hasattr(tree, "_fields") else tuple(items)
    return tree


@dataclass(frozen=True)
class Optimizer:
    """Base class. Subclasses declare fields with :func:`hyper`, :func:`pair`, :func:`static`."""

    name: ClassVar[str] = ""
    #: the state's NamedTuple type; subclasses set it
    State: ClassVar[type] = tuple

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            kind = f.metadata.get("kind")
            if kind == "hyper":
                _check_range(f.name, value, f.metadata["range"])
            elif kind == "pair":
                if not isinstance(value, (tuple, list)) or len(value) != 2:
                    raise ValueError(f"{f.name} must be a pair of values; got {value!r}")
                for i, part in enumerate(value):
                    _check_range(f"{f.name}[{i}]", part, f.metadata["range"])
                object.__setattr__(self, f.name, tuple(value))
            elif kind == "static":
                choices, minimum = f.metadata["choices"], f.metadata["min"]
                if choices is not None and value not in choices:
                    allowed = ", ".join(map(str, choices))
                    raise ValueError(f"{f.name} must be one of {allowed}; got {value!r}")
                if minimum is not None and (int(value) != value or value < minimum):
                    raise ValueError(f"{f.name} must be an integer >= {minimum}; got {value!r}")

    @classmethod
    def hyperparameter_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    def batch_size(self) -> int:
        """The number of rows the vector hyperparameters ask for (1 if all are scalars)."""
        sizes = {1}
        for f in fields(self):
            values = getattr(self, f.name)
            parts = values if f.metadata.get("kind") == "pair" else (values,)
            if f.metadata.get("kind") in ("hyper", "pair"):
                sizes.update(_as_values(p).size for p in parts)
        sizes.discard(1)
        if len(sizes) > 1:
            raise ValueError(f"vector hyperparameters have different lengths: {sorted(sizes)}")
        return sizes.pop() if sizes else 1

    def hyperparameters(self, batch: int, backend: Backend) -> SimpleNamespace:
        """Every field resolved for ``batch`` rows: floats, or ``(batch, 1)`` columns."""

        def resolve(name: str, value: Any):
            values = _as_values(value)
            if values.size == 1 and not (is_array(value) or isinstance(value, (list, tuple))):
                return float(values[0])
            if values.size != batch:
                raise ValueError(f"{name} has {values.size} values but the batch has {batch} rows")
            return backend.asarray(values.reshape(batch, 1))

        resolved = {}
        for f in fields(self):
            value = getattr(self, f.name)
            kind = f.metadata.get("kind")
            if kind == "hyper":
                resolved[f.name] = resolve(f.name, value)
            elif kind == "pair":
                resolved[f.name] = tuple(
                    resolve(f"{f.name}[{i}]", part) for i, part in enumerate(value)
                )
            else:
                resolved[f.name] = value
        return SimpleNamespace(**resolved)

    def work_per_step(self, d: int) -> float:
        """What one update asks of the problem per row, in gradients (a gradient, a
        Hessian-vector product or a Hessian diagonal ~ 1; a dense Hessian ~ d; a solve with
        it ~ d^2): for the engine's estimate of a run's work. Default: one gradient."""
        return 1.0

    def init(self, X, hp):
        raise NotImplementedError

    def step(self, X, state, hp, oracle):
        raise NotImplementedError


#: what :class:`Oracle` counts, in the order of :meth:`Oracle.tally`
EVALUATIONS = ("gradients", "hvps", "hessians", "hessian_diagonals")


class Oracle:
    """What a step may ask of the problem: gradients anywhere, Hessian products, Hessians.

    The engine hands over the gradient it already computed at the current iterate
    (``remember``), so a method that needs ``grad f(X)`` at the iterate pays no second
    product; a look-ahead point (Nesterov) is computed afresh.

    It counts what the steps ask for (:data:`EVALUATIONS`, see :meth:`tally`): one per call
    and per row, since every call evaluates all the active rows at once. A gradient the
    engine handed over counts when a step uses it (it is the method's evaluation, shared
    with the engine's check); the engine's own evaluations for the criterion do not count.

    With ``noise`` (a :class:`~hessian_lab.noise.NoiseSource`) every gradient it hands out
    is ``grad f(X) + xi``, ``xi`` keyed by the row and the query's number (the count of
    gradients before it); curvature (``hvp``, ``hessian``, ``hessian_diagonal``) is exact.
    """

    def __init__(self, problem, noise=None) -> None:
        self.problem = problem
        self.noise = noise
        self._x = None
        self._g = None
        self.gradients = self.hvps = self.hessians = self.hessian_diagonals = 0

    def remember(self, X, G) -> None:
        self._x, self._g = X, G

    def tally(self) -> tuple[int, int, int, int]:
        """The evaluations asked for so far, per row, in the order of :data:`EVALUATIONS`."""
        return self.gradients, self.hvps, self.hessians, self.hessian_diagonals

    def keep_rows(self, keep) -> None:
        """Follow the engine's active set (``keep``: a backend index array) in the noise."""
        if self.noise is not None:
            self.noise.keep(keep)

    def grad(self, X):
        query = self.gradients
        self.gradients += 1
        G = self._g if X is self._x else self.problem.grad(X)
        if self.noise is None:
            return G
        return self.noise.noisy(query, G)

    def hvp(self, X, V):
        self.hvps += 1
        return self.problem.hvp(X, V)

    def hessian(self, X):
        self.hessians += 1
        return self.problem.hessian(X)

    def hessian_diagonal(self, X):
        self.hessian_diagonals += 1
        return self.problem.hessian_diagonal(X)


def with_weight_decay(g, X, weight_decay):
    """``g + weight_decay * X`` (torch.optim's L2 form); free when the decay is a scalar 0."""
    if isinstance(weight_decay, float) and weight_decay == 0.0:
        return g
    return g + weight_decay * X


def is_zero(value) -> bool:
    """True for a scalar hyperparameter equal to 0 (a column is never assumed zero)."""
    return isinstance(value, float) and value == 0.0


def moments(m, v, g, signal, beta1, beta2):
    """Adam's moment averages, updated in place (``m`` and ``v`` are the consumed state's).

        m <- beta1 m + (1 - beta1) g,    v <- beta2 v + (1 - beta2) signal^2

    ``signal`` is the gradient for Adam and the Hessian-diagonal estimate D for AdaHessian.
    The operations and their order are torch.optim.Adam's, so the values agree exactly.
    """
    m *= beta1
    m += (1 - beta1) * g
    squared = signal * signal
    squared *= 1 - beta2
    v *= beta2
    v += squared
    return m, v
