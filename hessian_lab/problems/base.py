"""The objective interface every optimizer and the engine see.

A problem evaluates a batch ``X`` of shape ``(B, d)`` (B independent points side by
side) on whatever backend ``X`` lives on:

- ``loss(X) -> (B,)``, ``grad(X) -> (B, d)``, ``value_and_grad(X)`` (both, sharing work);
- ``hvp(X, V) -> (B, d)``: row-wise Hessian-vector products ``H(x_b) v_b``;
- ``hessian(X) -> (B, d, d)`` and ``hessian_diagonal(X) -> (B, d)`` for the reference
  Newton methods.

Where known, ``minimizer`` (d,), ``min_value`` and ``eigenvalues`` (ascending) are exposed
as host NumPy values; the theory bridge and the engine's criteria need them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from array_api_compat import device

from ..backend import backend_of


class Problem:
    """Base class: subclasses implement ``loss``, ``grad`` and ``hvp`` at least."""

    dim: int
    minimizer: np.ndarray | None = None
    min_value: float | None = None
    eigenvalues: np.ndarray | None = None

    def __init__(self) -> None:
        self._constants_cache: dict[tuple, Any] = {}
        self._last_constants: tuple | None = None

    def loss(self, X):
        raise NotImplementedError

    def grad(self, X):
        raise NotImplementedError

    def hvp(self, X, V):
        raise NotImplementedError

    def value_and_grad(self, X):
        """``(loss(X), grad(X))``; problems override it where the two share work."""
        return self.loss(X), self.grad(X)

    def hessian(self, X):
        """Dense Hessians ``(B, d, d)``, one column per unit-vector Hessian-vector product."""
        xp = backend_of(X).xp
        B, d = X.shape
        eye = xp.eye(d, dtype=X.dtype, device=device(X))
        columns = [self.hvp(X, xp.broadcast_to(eye[i, :], (B, d))) for i in range(d)]
        return xp.stack(columns, axis=2)

    def hessian_diagonal(self, X):
        """``diag H(x_b)`` for every row, shape ``(B, d)``."""
        xp = backend_of(X).xp
        H = self.hessian(X)
        d = X.shape[1]
        idx = xp.arange(d, device=device(X))
        return H[:, idx, idx]

    def constants(self, X, build):
        """Per-backend constants (converted once per backend, dtype and device, then cached).

        ``build(backend)`` converts the problem's host data; the result is reused for every
        later call with arrays of the same kind. The last kind asked for is checked first,
        by identity: the engine asks with arrays of one kind at every step.
        """
        last = self._last_constants
        if last is not None and last[0] is type(X) and last[1] is X.dtype:
            if last[2] is None or last[2] == X.device:
                return last[3]
        device_ = getattr(X, "device", None)
        key = (type(X), X.dtype, device_)
        found = self._constants_cache.get(key)
        if found is None:
            found = build(backend_of(X))
            self._constants_cache[key] = found
        self._last_constants = (
            type(X),
            X.dtype,
            None if isinstance(X, np.ndarray) else device_,
            found,
        )
        return found
