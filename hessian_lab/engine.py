"""The batched loop: B runs side by side until each converges, diverges or runs out of steps.

    result = run(problem, optimizer, x0, criterion="loss", tol=1e-6, max_steps=10_000)

``x0`` is ``(d,)`` (shared by every row) or ``(B, d)``; B may also come from the length of
vector hyperparameters, so a whole sweep is one call. After every update the criterion is
checked at the new iterate:

- ``loss``: ``f(x) - f* <= tol``;
- ``distance``: ``||x - x*||_2 <= tol`` (needs a unique minimizer);
- ``grad``: ``||grad f(x)||_2 <= tol``.

``steps`` counts updates until the criterion first holds (0 if ``x0`` satisfies it). A row
whose iterate leaves the box ``|x_i| < bound`` or stops being finite is ``diverged`` at that
step. Finished rows are frozen and dropped from the active set, so the work follows the
rows still running. Histories are kept only when ``record`` asks for them.
"""

from __future__ import annotations

import math
import numbers
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
from array_api_compat import device as array_device

from .backend import Backend, backend_of, get_backend, is_array, to_numpy
from .optimizers.base import Optimizer, Oracle, take_rows

CRITERIA = ("loss", "distance", "grad")
RECORDABLE = ("loss", "x")
CONVERGED, DIVERGED, MAX_STEPS = "converged", "diverged", "max_steps"
DEFAULT_BOUND = 1e12
PROGRESS_EVERY = 100

__all__ = ["run", "RunResult", "CRITERIA", "CONVERGED", "DIVERGED", "MAX_STEPS"]


@dataclass
class RunResult:
    """The outcome of one batched run; per-row arrays are host NumPy, ``x`` stays on the backend.

    Attributes:
        status: ``(B,)`` str, ``converged`` / ``diverged`` / ``max_steps``.
        steps: ``(B,)`` int, the updates each row made: to tolerance when converged, up to
            and including the divergent one when diverged, ``max_steps`` otherwise.
        x: ``(B, d)`` final (frozen) iterates, on the backend of the run.
        final_loss: ``(B,)`` loss at ``x``.
        final_criterion: ``(B,)`` the criterion's value at ``x``.
        loss_history: ``(T + 1, B)`` losses from ``x0`` on (rows frozen after finishing),
            or None when not recorded. ``x_history``: ``(T + 1, B, d)`` likewise.
    """

    status: np.ndarray
    steps: np.ndarray
    x: object
    final_loss: np.ndarray
    final_criterion: np.ndarray
    criterion: str
    tol: float
    max_steps: int
    wall_time: float
    loss_history: np.ndarray | None = None
    x_history: np.ndarray | None = None
    backend: Backend | None = field(default=None, repr=False)

    @property
    def batch(self) -> int:
        return int(self.status.shape[0])

    @property
    def converged(self) -> np.ndarray:
        return self.status == CONVERGED

    @property
    def diverged(self) -> np.ndarray:
        return self.status == DIVERGED

    @property
    def steps_to_tol(self) -> np.ndarray:
        """``(B,)`` float: steps where converged, NaN elsewhere (handy for plots)."""
        return np.where(self.converged, self.steps, np.nan)

    @property
    def diverged_at(self) -> np.ndarray:
        """``(B,)`` float: the step of divergence where diverged, NaN elsewhere."""
        return np.where(self.diverged, self.steps, np.nan)

    def row(self, i: int) -> dict:
        """Row ``i`` as plain Python values (JSON-ready)."""

        def finite_or_none(value: float):
            return float(value) if math.isfinite(value) else None

        converged = self.status[i] == CONVERGED
        return {
            "status": str(self.status[i]),
            "steps": int(self.steps[i]) if converged else None,
            "diverged_at": int(self.steps[i]) if self.status[i] == DIVERGED else None,
            "final_loss": finite_or_none(float(self.final_loss[i])),
            "final_criterion": finite_or_none(float(self.final_criterion[i])),
        }


def _batch_x0(x0, batch: int, backend: Backend | None, dtype: str | None):
    if backend is None:
        backend = backend_of(x0) if is_array(x0) else get_backend("auto", dtype or "float64")
    if dtype is not None and backend.dtype != dtype:
        backend = Backend(backend.name, dtype, backend.device)
    X = backend.asarray(x0)
    if X.ndim == 1:
        X = backend.xp.reshape(X, (1, X.shape[0]))
    if X.ndim != 2:
        raise ValueError(f"x0 must have shape (d,) or (B, d); got {tuple(X.shape)}")
    if X.shape[0] == 1 and batch > 1:
        X = backend.xp.broadcast_to(X, (batch, X.shape[1]))
    elif batch not in (1, X.shape[0]):
        raise ValueError(f"x0 has {X.shape[0]} rows but the hyperparameters ask for {batch}")
    return backend.xp.asarray(X, copy=True), backend


def _criterion_needs(problem, criterion: str):
    if criterion not in CRITERIA:
        raise ValueError(f"criterion must be one of {', '.join(CRITERIA)}; got {criterion!r}")
    if criterion == "loss" and getattr(problem, "min_value", None) is None:
        raise ValueError(
            "criterion 'loss' needs the minimum value f*, which this problem does not have "
            "(not bounded below, or unknown): use criterion 'grad'"
        )
    if criterion == "distance" and getattr(problem, "minimizer", None) is None:
        raise ValueError(
            "criterion 'distance' needs a unique minimizer, which this problem does not have "
            "(a zero or negative eigenvalue, or unknown): use criterion 'loss' or 'grad'"
        )


def run(
    problem,
    optimizer: Optimizer,
    x0,
    criterion: str = "loss",
    tol: float = 1e-6,
    max_steps: int = 10_000,
    bound: float = DEFAULT_BOUND,
    record: Sequence[str] | str = (),
    backend: str | Backend | None = None,
    dtype: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RunResult:
    """Run ``optimizer`` on ``problem`` from every row of ``x0`` at once (see module doc).

    Args:
        problem: a :class:`~hessian_lab.problems.base.Problem`.
        optimizer: an :class:`~hessian_lab.optimizers.base.Optimizer`; vector hyperparameters
            of length B make B rows.
        x0: ``(d,)`` or ``(B, d)`` start, any array-like.
        criterion, tol: when a row has converged (``tol > 0``).
        max_steps: the most updates a row makes (``>= 0``).
        bound: divergence box, ``|x_i| < bound``.
        record: any of ``"loss"``, ``"x"``: histories to keep.
        backend: ``"numpy"``, ``"torch"``, ``"auto"`` or a Backend; default: the backend of
            ``x0`` if it is an array, else ``auto``.
        dtype: ``"float64"`` (default) or ``"float32"``.
        progress: called as ``progress(step, active_rows)`` every ``PROGRESS_EVERY`` steps
            and once at the end (for progress bars); None for no calls.
    """
    _criterion_needs(problem, criterion)
    if not (isinstance(tol, numbers.Real) and math.isfinite(tol) and tol > 0):
        raise ValueError(f"tol must be a finite number > 0; got {tol!r}")
    if not isinstance(max_steps, numbers.Integral) or max_steps < 0:
        raise ValueError(f"max_steps must be an integer >= 0; got {max_steps!r}")
    if not bound > 0:
        raise ValueError(f"bound must be > 0; got {bound!r}")
    record = (record,) if isinstance(record, str) else tuple(record)
    for name in record:
        if name not in RECORDABLE:
            raise ValueError(f"record must name some of {', '.join(RECORDABLE)}; got {name!r}")
    if isinstance(backend, str):
        backend = get_backend(backend, dtype or "float64")
    X, backend = _batch_x0(x0, optimizer.batch_size(), backend, dtype)
    if X.shape[1] != problem.dim:
        raise ValueError(f"x0 has dimension {X.shape[1]} but the problem has {problem.dim}")
    with np.errstate(all="ignore"):
        return _Loop(
            problem, optimizer, X, backend, criterion, tol, int(max_steps), bound, record
        ).run(progress)


#: Hyperparameter columns ``(B, 1)`` are materialised as ``(B, d)`` when ``d`` is at most
#: this: NumPy broadcasts a column over a short row much more slowly than it runs a flat
#: elementwise loop (values are identical, only the memory layout changes).
EXPAND_COLUMNS_MAX_DIM = 64


def _expand_columns(tree, B: int, d: int, xp):
    """Every ``(B, 1)`` array in the hyperparameter namespace made ``(B, d)`` (see above)."""
    if is_array(tree):
        if tree.ndim == 2 and tree.shape[1] == 1 and d > 1:
            return xp.asarray(xp.broadcast_to(tree, (B, d)), copy=True)
        return tree
    if isinstance(tree, SimpleNamespace):
        return SimpleNamespace(**{k: _expand_columns(v, B, d, xp) for k, v in vars(tree).items()})
    if isinstance(tree, tuple) and not hasattr(tree, "_fields"):
        return tuple(_expand_columns(v, B, d, xp) for v in tree)
    return tree


class _Loop:
    """One engine call's mutable bookkeeping (kept out of the optimizers)."""

    def __init__(self, problem, optimizer, X, backend, criterion, tol, max_steps, bound, record):
        self.problem, self.optimizer, self.X, self.backend = problem, optimizer, X, backend
        self.criterion, self.tol, self.max_steps, self.bound = criterion, tol, max_steps, bound
        self.xp = backend.xp
        B, d = X.shape
        self.hp = optimizer.hyperparameters(B, backend)
        if d <= EXPAND_COLUMNS_MAX_DIM:
            self.hp = _expand_columns(self.hp, B, d, self.xp)
        self.state = optimizer.init(X, self.hp)
        self.oracle = Oracle(problem)
        self.rows = np.arange(B)
        self.status = np.full(B, MAX_STEPS, dtype=object)
        self.steps = np.full(B, max_steps, dtype=np.int64)
        self.final_x = None  # allocated when the first rows retire before the others
        self.final_loss = np.full(B, np.nan)
        self.final_criterion = np.full(B, np.nan)
        self.record = record
        self.history = {name: [] for name in record}
        self.target = None
        if criterion == "distance":
            self.target = backend.asarray(problem.minimizer)
        self.min_value = getattr(problem, "min_value", None)
        self.on_torch = backend.name == "torch"
        self.ones = None

    def measure(self, X, f, G):
        """The criterion's value per active row, ``(B,)``."""
        xp = self.xp
        if self.criterion == "loss":
            return f if self.min_value == 0 else f - self.min_value
        R = G if self.criterion == "grad" else X - self.target
        return xp.sqrt(xp.vecdot(R, R))

    def check(self, t: int, f, G) -> None:
        """Measure the active rows at step t; retire those that converged or diverged.

        The common case (nothing finished) costs three reductions and no host work per
        row: ``min(value) > tol``, and ``max|x| + 0 * sum(f) < bound``, where the zero term
        turns any infinite or NaN loss into NaN (a loss can overflow while every ``|x_i|``
        is still inside the box). NaN fails both comparisons and takes the careful path.
        """
        value = self.measure(self.X, f, G)
        if self.record:
            self.remember(t, f)
        if t < self.max_steps and value.min() > self.tol:
            if abs(self.X).max() + f.sum() * 0 < self.bound:
                self.oracle.remember(self.X, G)
                return
            self.retire(t, f, G, value, boxed=False)
            return
        self.retire(t, f, G, value, boxed=abs(self.X).max() + f.sum() * 0 < self.bound)

    def _index(self, idx: np.ndarray):
        """Host integer indices as an index of the backend's arrays."""
        if self.on_torch:
            import torch

            return torch.as_tensor(idx, device=self.X.device)
        return idx

    def _inside(self, X, f, boxed: bool) -> np.ndarray:
        """Host ``(B,)`` bool: the row is inside the box and its loss is finite."""
        xp = self.xp
        finite = xp.isfinite(f)
        if boxed:  # every |x_i| < bound and every loss finite: no per-row work
            return np.ones(X.shape[0], dtype=bool)
        # rows with some |x_i| >= bound (or NaN), counted by a matrix-vector product:
        # NumPy reduces along a short axis slowly
        if self.ones is None:
            self.ones = xp.ones(X.shape[1], dtype=X.dtype, device=array_device(X))
        outside = xp.matmul(xp.astype(~(abs(X) < self.bound), X.dtype), self.ones)
        return to_numpy((outside == 0) & finite)

    def retire(self, t: int, f, G, value, boxed: bool = False) -> None:
        """Freeze the rows that finished at step t and drop them from the active set."""
        xp, X = self.xp, self.X
        inside = self._inside(X, f, bool(boxed))
        converged = inside & (to_numpy(value) <= self.tol)
        finished = ~inside | converged
        if t == self.max_steps:
            finished[:] = True
        done = np.flatnonzero(finished)
        if done.size == 0:
            self.oracle.remember(X, G)
            return
        rows = self.rows[done]
        self.steps[rows] = t
        self.status[rows[~inside[done]]] = DIVERGED
        self.status[rows[converged[done]]] = CONVERGED
        everything = done.size == self.rows.size
        if everything and self.final_x is None:
            # every row ends now: the iterates are the result, no copy needed
            self.final_x = X
            self.final_loss[rows] = to_numpy(f)
            self.final_criterion[rows] = to_numpy(value)
            self.rows = self.rows[:0]
            return
        if self.final_x is None:  # the first retirement: every row is still active
            self.final_x = xp.asarray(X, copy=True)
        picked = self._index(done)
        self.final_x[self._index(rows)] = xp.take(X, picked, axis=0)
        self.final_loss[rows] = to_numpy(xp.take(f, picked, axis=0))
        self.final_criterion[rows] = to_numpy(xp.take(value, picked, axis=0))
        if everything:
            self.rows = self.rows[:0]
            return
        keep_host = np.flatnonzero(~finished)
        keep = self._index(keep_host)
        self.rows = self.rows[keep_host]
        self.X = xp.take(X, keep, axis=0)
        self.state = take_rows(self.state, keep)
        self.hp = take_rows(self.hp, keep)
        self.oracle.remember(self.X, xp.take(G, keep, axis=0))

    def remember(self, t: int, f) -> None:
        if "loss" in self.history:
            self.history["loss"].append((self.rows, to_numpy(f)))
        if "x" in self.history:
            self.history["x"].append((self.rows, to_numpy(self.X)))

    def assemble(self, name: str, final: np.ndarray, last_step: int) -> np.ndarray:
        """Per-step records of the active rows -> ``(T + 1, B, ...)``, finished rows frozen."""
        records = self.history[name]
        out = np.empty((last_step + 1, *final.shape), dtype=np.float64)
        out[:] = final[None]
        for t, (rows, values) in enumerate(records):
            out[t, rows] = values
        return out

    def run(self, progress=None) -> RunResult:
        start = time.perf_counter()
        f, G = self.problem.value_and_grad(self.X)
        self.check(0, f, G)
        t = 0
        while t < self.max_steps and self.rows.size:
            t += 1
            self.X, self.state = self.optimizer.step(self.X, self.state, self.hp, self.oracle)
            f, G = self.problem.value_and_grad(self.X)
            self.check(t, f, G)
            if progress is not None and t % PROGRESS_EVERY == 0:
                progress(t, int(self.rows.size))
        if progress is not None:
            progress(t, 0)
        wall = time.perf_counter() - start
        result = RunResult(
            status=self.status.astype(str),
            steps=self.steps,
            x=self.final_x,
            final_loss=self.final_loss,
            final_criterion=self.final_criterion,
            criterion=self.criterion,
            tol=self.tol,
            max_steps=self.max_steps,
            wall_time=wall,
            backend=self.backend,
        )
        if "loss" in self.history:
            result.loss_history = self.assemble("loss", self.final_loss, t)
        if "x" in self.history:
            result.x_history = self.assemble("x", to_numpy(self.final_x), t)
        return result
