"""A plain step function run through the engine: ``step(x, g, state) -> (x, state)``.

    def sgd(x, g, state, lr=0.1):
        return x - lr * g, state

    result = hl.run(problem, StepFunction(sgd, kwargs={"lr": 0.1}), x0)

``x`` and ``g`` are NumPy float arrays of one row, ``(d,)``, copies the function may
modify; ``state`` starts as ``init(x)`` (None without ``init``) and is whatever the
function returned last time for that row. The gradient is the engine's, so the function
costs no extra evaluation. ``kwargs`` are passed to every call.

With ``vectorized=True`` the function gets the whole batch, ``x`` and ``g`` ``(B, d)``, and
its state must be an array, a tuple or a NamedTuple of arrays with the rows as leading
axis (the engine drops finished rows from it); the per-row loop (the default) is slow for
big batches but needs nothing of the function.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType, SimpleNamespace
from typing import Any, ClassVar, NamedTuple

import numpy as np

from ..backend import backend_of, is_array, to_numpy
from ..optimizers.base import Optimizer

__all__ = ["StepFunction"]


class _RowStates:
    """The state of every row, by batch row (not by position in the shrinking batch)."""

    def __init__(self, states: list) -> None:
        self.states = states


@dataclass(frozen=True, eq=False)
class StepFunction(Optimizer):
    """``fn(x, g, state, **kwargs) -> (x, state)`` as an engine optimizer (see module doc)."""

    name: ClassVar[str] = "step-function"
    fn: Callable[..., Any] = None
    init_state: Callable[[Any], Any] | None = None
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    vectorized: bool = False
    #: each row's ``x`` and ``g`` as an array of this shape (a matrix); None: ``(d,)``
    shape: tuple[int, ...] | None = None

    class State(NamedTuple):
        rows: object  # (B,) int: the batch row each current row of X is; None if vectorized
        inner: object  # _RowStates, or the function's own batched state

    def __post_init__(self) -> None:
        if not callable(self.fn):
            raise ValueError(f"fn must be callable; got {self.fn!r}")
        if self.init_state is not None and not callable(self.init_state):
            raise ValueError(f"init_state must be callable or None; got {self.init_state!r}")
        object.__setattr__(self, "kwargs", MappingProxyType(dict(self.kwargs)))

    @property
    def label(self) -> str:
        return getattr(self.fn, "__qualname__", None) or repr(self.fn)

    def batch_size(self) -> int:
        return 1

    def hyperparameters(self, batch: int, backend) -> SimpleNamespace:
        return SimpleNamespace()

    def _start(self, x):
        return None if self.init_state is None else self.init_state(x)

    def init(self, X, hp):
        host = np.array(to_numpy(X))
        if self.vectorized:
            return self.State(None, self._start(host))
        rows = backend_of(X).xp.arange(X.shape[0])
        return self.State(rows, _RowStates([self._start(host[b].copy()) for b in range(len(host))]))

    def step(self, X, state, hp, oracle):
        host = np.array(to_numpy(X))
        G = np.array(to_numpy(oracle.grad(X)))
        if self.vectorized:
            new, inner = self.fn(host, G, state.inner, **self.kwargs)
            out = np.asarray(new, dtype=host.dtype).reshape(host.shape)
            return self._like(X, out), self.State(None, inner)
        rows = np.asarray(to_numpy(state.rows)) if is_array(state.rows) else state.rows
        states = state.inner.states
        out = np.empty_like(host)
        shape = (host.shape[1],) if self.shape is None else tuple(self.shape)
        for i, b in enumerate(rows.tolist()):
            x, g = host[i].reshape(shape).copy(), G[i].reshape(shape).copy()
            x, states[b] = self.fn(x, g, states[b], **self.kwargs)
            x = np.asarray(x, dtype=host.dtype)
            if x.size != host.shape[1]:
                raise ValueError(
                    f"{self.label} returned x of shape {x.shape}; the parameter's is {shape}"
                )
            out[i] = x.reshape(-1)
        return self._like(X, out), state

    @staticmethod
    def _like(X, out: np.ndarray):
        return out if isinstance(X, np.ndarray) else backend_of(X).asarray(out)
