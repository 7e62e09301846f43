"""The batched loop: B runs side by side until each converges, diverges or runs out of steps.

    result = run(problem, optimizer, x0, criterion="loss", tol=1e-6, max_steps=10_000)

``x0`` is ``(d,)`` (shared by every row) or ``(B, d)``; B may also come from the length of
vector hyperparameters, so a whole sweep is one call. After every update the criterion is
checked at the new iterate:

- ``loss``: ``f(x) - f* <= tol``;
- ``distance``: ``min_i ||x - x*_i||_2 <= tol``, the distance to the nearest known
  minimizer (``problem.minima`` ``(m, d)`` where the problem lists several, as the
  double well and Himmelblau do; else ``problem.minimizer``);
- ``grad``: ``||grad f(x)||_2 <= tol``.

``steps`` counts updates until the criterion first holds (0 if ``x0`` satisfies it). A row
whose iterate leaves the box ``|x_i| < bound`` or stops being finite is ``diverged`` at that
step. Finished rows are frozen and dropped from the active set, so the work follows the
rows still running. Histories are kept only when ``record`` asks for them.

Small batches are checked once per chunk of ``CHUNK_STEPS`` steps rather than after every
step (a finished row's result is still the one of its first finishing step, exactly), so
the host synchronises once per chunk; see ``CHUNK_STEPS``.
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

from .backend import (
    DTYPES,
    Backend,
    backend_of,
    broadcast_copy,
    get_backend,
    is_array,
    row_sums,
    to_numpy,
)
from .optimizers.base import EVALUATIONS, Optimizer, Oracle, take_rows

CRITERIA = ("loss", "distance", "grad")
RECORDABLE = ("loss", "x")
CONVERGED, DIVERGED, MAX_STEPS = "converged", "diverged", "max_steps"
DEFAULT_BOUND = 1e12
PROGRESS_EVERY = 100
#: ... or after this many seconds since the last report, whichever comes first
PROGRESS_SECONDS = 1.0
#: the most work one call may ask for, in entry evaluations (:func:`work_estimate`): on
#: one core a gradient entry costs ~3 ns (a quadratic at d = 1e6), so some 5 minutes to
#: an hour. ``run(max_work=math.inf)`` lifts it.
MAX_WORK = 1e11
#: the engine's status codes while it runs (the result holds the names)
_CODES = {MAX_STEPS: 0, CONVERGED: 1, DIVERGED: 2}

__all__ = [
    "run",
    "RunResult",
    "CRITERIA",
    "CONVERGED",
    "DIVERGED",
    "MAX_STEPS",
    "MAX_WORK",
    "work_estimate",
]


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
        evaluations: name -> ``(B,)`` int, what each row's updates asked of the problem up
            to its finishing step (as scipy's ``nfev``): ``gradients``, ``hvps`` (Hessian-
            vector products), ``hessians`` (dense), ``hessian_diagonals``. The engine's own
            evaluations at each iterate for the criterion are not counted (see
            :class:`~hessian_lab.optimizers.base.Oracle`): gradient descent that converged
            in ``s`` steps asked for ``s`` gradients.
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
    evaluations: dict[str, np.ndarray] = field(default_factory=dict)

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
            "evaluations": {name: int(v[i]) for name, v in self.evaluations.items()},
        }


def _real_start(x0):
    """``x0`` itself, or ValueError when it is not real numbers (complex, text, objects)."""
    if is_array(x0):
        kind = "c" if getattr(x0, "is_complex", lambda: False)() else getattr(x0.dtype, "kind", "f")
    else:
        try:
            kind = np.asarray(x0).dtype.kind
        except (TypeError, ValueError):  # ragged nesting
            kind = "O"
    if kind not in "biuf":
        shown = "complex" if kind == "c" else "not numbers"
        raise ValueError(f"x0 must be real numbers; got {shown} ({type(x0).__name__})")
    return x0


def _batch_x0(x0, batch: int, backend: Backend | None, dtype: str | None):
    """``x0`` as a fresh ``(B, d)`` array in the run's dtype and the backend it runs on.

    An integer, boolean or float16 start is cast to the run's dtype (``dtype``, or
    float64): the iterates must be floats of the precision the run reports. A float32 or
    float64 array keeps its dtype unless ``dtype`` says otherwise.
    """
    _real_start(x0)
    if backend is None:
        backend = backend_of(x0) if is_array(x0) else get_backend("auto", dtype or "float64")
    if dtype is None and backend.dtype not in DTYPES:  # int, bool, float16 arrays
        dtype = "float64"
    if dtype is not None and backend.dtype != dtype:
        backend = Backend(backend.name, dtype, backend.device)
    X = backend.asarray(x0)
    if X.ndim == 1:
        X = backend.xp.reshape(X, (1, X.shape[0]))
    if X.ndim != 2:
        raise ValueError(f"x0 must have shape (d,) or (B, d); got {tuple(X.shape)}")
    if batch not in (1, X.shape[0]) and X.shape[0] != 1:
        raise ValueError(f"x0 has {X.shape[0]} rows but the hyperparameters ask for {batch}")
    return broadcast_copy(X, (max(batch, X.shape[0]), X.shape[1])), backend


def work_estimate(rows: int, d: int, max_steps: int, optimizer: Optimizer) -> float:
    """The most work a run asks for, in entry evaluations (a gradient of one row = ``d``):

        rows x d x max_steps x optimizer.work_per_step(d)

    (a gradient, a Hessian-vector product ~ 1 per entry, a dense Hessian ~ d, a solve ~
    d^2). An upper bound: rows that finish early stop working."""
    return float(rows) * float(d) * float(max_steps) * float(optimizer.work_per_step(d))


def known_minimizers(problem):
    """Every minimizer the problem knows, ``(m, d)`` host floats, or None: ``minima`` where
    it lists several (``(m, d)``), else its one ``minimizer`` as ``(1, d)``."""
    minima = getattr(problem, "minima", None)
    if minima is not None:
        return np.asarray(minima, dtype=np.float64).reshape(-1, problem.dim)
    minimizer = getattr(problem, "minimizer", None)
    if minimizer is None:
        return None
    return np.asarray(minimizer, dtype=np.float64).reshape(1, problem.dim)


def _criterion_needs(problem, criterion: str):
    if criterion not in CRITERIA:
        raise ValueError(f"criterion must be one of {', '.join(CRITERIA)}; got {criterion!r}")
    if criterion == "loss" and getattr(problem, "min_value", None) is None:
        raise ValueError(
            "criterion 'loss' needs the minimum value f*, which this problem does not have "
            "(not bounded below, or unknown): use criterion 'grad'"
        )
    if criterion == "distance" and known_minimizers(problem) is None:
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
    noise=None,
    max_work: float = MAX_WORK,
) -> RunResult:
    """Run ``optimizer`` on ``problem`` from every row of ``x0`` at once (see module doc).

    Args:
        problem: a :class:`~hessian_lab.problems.base.Problem`.
        optimizer: an :class:`~hessian_lab.optimizers.base.Optimizer`; vector hyperparameters
            of length B make B rows.
        x0: ``(d,)`` or ``(B, d)`` start, any array-like.
        criterion, tol: when a row has converged (``tol >= 0``; ``tol = 0`` never: every
            row runs ``max_steps`` updates unless it diverges).
        max_steps: the most updates a row makes (``>= 0``).
        bound: divergence box, ``|x_i| < bound``.
        record: any of ``"loss"``, ``"x"``: histories to keep.
        backend: ``"numpy"``, ``"torch"``, ``"auto"`` or a Backend; default: the backend of
            ``x0`` if it is an array, else ``auto``.
        dtype: ``"float64"`` (default) or ``"float32"``.
        progress: called as ``progress(step, active_rows)`` every ``PROGRESS_EVERY`` steps
            or ``PROGRESS_SECONDS`` seconds, whichever is first, and once at the end (for
            progress bars); None for no calls.
        noise: a :class:`~hessian_lab.noise.GradientNoise`: the optimizer's gradients get
            counter-based Gaussian noise (each row a Monte Carlo sample); None: exact.
        max_work: a run whose :func:`work_estimate` exceeds this is refused (ValueError
            with the estimate) before it starts; default ``MAX_WORK``.
    """
    if not isinstance(optimizer, Optimizer):
        raise TypeError(
            "optimizer must be an Optimizer such as hl.GD(lr=0.1) or "
            f"hl.optimizer('momentum:lr=0.5*lr_opt', problem); got {type(optimizer).__name__}"
        )
    if not all(hasattr(problem, name) for name in ("dim", "value_and_grad", "grad")):
        raise TypeError(
            "problem must be a Problem such as hl.steep_valley() or hl.Quadratic([1, 100]); "
            f"got {type(problem).__name__}"
        )
    _criterion_needs(problem, criterion)
    if not (isinstance(tol, numbers.Real) and math.isfinite(tol) and tol >= 0):
        raise ValueError(f"tol must be a finite number >= 0; got {tol!r}")
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
    work = work_estimate(X.shape[0], X.shape[1], max_steps, optimizer)
    if work > max_work:
        raise ValueError(
            f"the run would evaluate up to {work:.2g} entries ({X.shape[0]} rows x "
            f"{X.shape[1]} dims x {max_steps} steps x {optimizer.work_per_step(X.shape[1]):g} "
            f"gradients' work per step for {optimizer.name or type(optimizer).__name__}), "
            f"over the limit of {max_work:.2g} (an hour or more): lower max_steps, the "
            "dimension, the rows or the work per step (n_samples)"
        )
    source = None if noise is None else noise.source(problem, backend, X.shape[0])
    with np.errstate(all="ignore"):
        loop = _Loop(problem, optimizer, X, backend, criterion, tol, int(max_steps), bound, record)
        loop.oracle.noise = source
        del X  # the loop holds the only reference: the start is not kept alive to the end
        return loop.run(progress)


#: Hyperparameter columns ``(B, 1)`` are materialised as ``(B, d)`` when ``d`` is at most
#: this: NumPy broadcasts a column over a short row much more slowly than it runs a flat
#: elementwise loop (values are identical, only the memory layout changes).
EXPAND_COLUMNS_MAX_DIM = 64


def _expand_columns(tree, B: int, d: int):
    """Every ``(B, 1)`` array in the hyperparameter namespace made ``(B, d)`` (see above)."""
    if is_array(tree):
        if tree.ndim == 2 and tree.shape[1] == 1 and d > 1:
            return broadcast_copy(tree, (B, d))
        return tree
    if isinstance(tree, SimpleNamespace):
        return SimpleNamespace(**{k: _expand_columns(v, B, d) for k, v in vars(tree).items()})
    if isinstance(tree, tuple) and not hasattr(tree, "_fields"):
        return tuple(_expand_columns(v, B, d) for v in tree)
    return tree


#: Steps run between two looks at the criterion when the batch is small (at most
#: ``CHUNK_MAX_ENTRIES`` entries in ``X``): the iterates of a chunk are kept (copied into
#: reused buffers, see ``_Loop.chunk_buffers``) and checked together, which takes
#: the per-step reductions and host synchronisation out of a loop whose cost is Python and
#: dispatch overhead. Larger batches are checked after every step: there the arithmetic
#: dominates and keeping iterates would only cost memory and cache.
CHUNK_STEPS = 25
CHUNK_MAX_ENTRIES = 2**14
#: On a GPU a check costs a host round trip that stalls the device's queue, not cache: there
#: every batch is chunked, with at most this many iterate entries kept per chunk (k B d).
#: (Not measured: no GPU was at hand when this was written; results do not depend on it.)
CHUNK_MAX_KEPT_GPU = 2**22


def chunk_steps(n: int, d: int, on_gpu: bool, weight: float = 1.0) -> int:
    """Steps per chunk for ``n`` active rows of ``d`` entries (see ``CHUNK_STEPS``).

    ``weight``: a step's work per iterate entry (:func:`step_weight`). A row finished in a
    chunk still runs to the chunk's end, so a step that costs much more than the check it
    would save (a dense Hessian and its solve) is checked more often: the limits apply to
    ``weight * n * d`` rather than to the entries alone.
    """
    if weight * n * d > CHUNK_MAX_ENTRIES:  # a costly step (on a GPU: heavier than a gradient)
        if weight > 1 or not on_gpu:
            return 1
    if on_gpu:
        return min(CHUNK_STEPS, max(1, CHUNK_MAX_KEPT_GPU // (n * d)))
    return CHUNK_STEPS


def step_weight(hessians_per_step: float, d: int) -> float:
    """A step's work per iterate entry, in units of a gradient: ``1 + d * hessians``.

    A gradient, a Hessian-vector product or a Hessian diagonal touch about ``d`` numbers per
    row (weight about 1), a dense Hessian ``d^2`` of them (and a solve with it ``d^3``,
    left out: the Hessian alone already tips the rule for large ``d``).
    """
    return 1.0 + d * hessians_per_step


class _Loop:
    """One engine call's mutable bookkeeping (kept out of the optimizers)."""

    def __init__(self, problem, optimizer, X, backend, criterion, tol, max_steps, bound, record):
        self.problem, self.optimizer, self.X, self.backend = problem, optimizer, X, backend
        self.criterion, self.tol, self.max_steps, self.bound = criterion, tol, max_steps, bound
        if tol == 0:  # no criterion: never converged (an exact hit of the minimum included)
            self.tol = -math.inf
        self.xp = backend.xp
        B, d = X.shape
        self.hp = optimizer.hyperparameters(B, backend)
        if d <= EXPAND_COLUMNS_MAX_DIM:
            self.hp = _expand_columns(self.hp, B, d)
        self.state = optimizer.init(X, self.hp)
        self.oracle = Oracle(problem)
        self.rows = np.arange(B)
        self.codes = np.full(B, _CODES[MAX_STEPS], dtype=np.int8)
        self.steps = np.full(B, max_steps, dtype=np.int64)
        self.final_x = None  # allocated when the first rows retire before the others
        self.final_loss = np.full(B, np.nan)
        self.final_criterion = np.full(B, np.nan)
        self.evaluations = np.zeros((B, len(EVALUATIONS)), dtype=np.int64)
        self.tallies = [0] * len(EVALUATIONS)  # see retire and run
        self.weight = None  # a step's work per entry, known after the first step
        self.history = {name: [] for name in record}
        self.buffers = None  # see chunk_buffers
        self.f_dtype = None
        self.target = None
        if criterion == "distance":  # (m, d): every known minimizer
            self.target = backend.asarray(known_minimizers(problem))
        self.min_value = getattr(problem, "min_value", None)
        self.on_torch = backend.name == "torch"
        self.on_gpu = self.on_torch and not str(backend.device).startswith("cpu")

    def chunk_length(self, t: int) -> int:
        """Steps in the next chunk (see ``CHUNK_STEPS``), cut at ``max_steps`` and at the next
        multiple of ``PROGRESS_EVERY`` (so progress reports fall on those steps)."""
        n, d = self.X.shape
        k = chunk_steps(n, d, self.on_gpu, self.weight or 1.0)
        return min(k, self.max_steps - t, PROGRESS_EVERY - t % PROGRESS_EVERY)

    def weigh_steps(self, t: int) -> None:
        """Update the steps' weight from the Hessians the ``t`` steps so far asked for."""
        self.weight = step_weight(self.oracle.hessians / t, self.problem.dim)

    def single(self, X, f, G):
        """A one-step chunk: views of the step's own arrays, no copies."""
        xp = self.xp
        return xp.expand_dims(X, axis=0), xp.expand_dims(f, axis=0), xp.expand_dims(G, axis=0)

    def chunk_buffers(self, k: int):
        """Where a chunk of ``k`` steps keeps its iterates ``(k, n, d)``, losses ``(k, n)`` and,
        for the ``grad`` criterion, gradients ``(k, n, d)`` (else None).

        Views of buffers kept from chunk to chunk (the active set only shrinks). Each step's
        arrays are copied in and then freed, so the allocator hands the same hot memory back
        at the next step; keeping k steps' fresh arrays alive instead made every allocation
        new memory (page faults), which cost more than the copies.
        """
        xp = self.xp
        n, d = self.X.shape
        size = k * n * d
        if self.buffers is None or self.buffers[0].shape[0] < size:
            self.buffers = None  # the old ones go before the new ones are made

            def new(count, dtype):
                return xp.empty((count,), dtype=dtype, device=array_device(self.X))

            grads = new(size, self.X.dtype) if self.criterion == "grad" else None
            self.buffers = (new(size, self.X.dtype), new(k * n, self.f_dtype), grads)
        X_buf, f_buf, G_buf = self.buffers
        G_chunk = None if G_buf is None else xp.reshape(G_buf[:size], (k, n, d))
        return xp.reshape(X_buf[:size], (k, n, d)), xp.reshape(f_buf[: k * n], (k, n)), G_chunk

    def measure(self, X_chunk, f_chunk, G_chunk):
        """The criterion's value ``(k, n)`` at the chunk's iterates ``X_chunk`` ``(k, n, d)``."""
        xp = self.xp
        if self.criterion == "loss":
            return f_chunk if self.min_value == 0 else f_chunk - self.min_value
        if self.criterion == "grad":
            return xp.sqrt(row_sums(G_chunk * G_chunk))  # the same bits in any batch layout
        nearest = None  # the distance to the nearest minimizer, elementwise
        for i in range(self.target.shape[0]):
            R = X_chunk - self.target[i]
            distance = xp.sqrt(row_sums(R * R))
            nearest = distance if nearest is None else xp.minimum(nearest, distance)
        return nearest

    def settle(self, t: int, X_chunk, f_chunk, G_chunk, X, G) -> None:
        """Check the chunk of iterates from step ``t`` on; retire the rows that finished.

        ``X_chunk`` ``(k, n, d)``, ``f_chunk`` ``(k, n)``, ``G_chunk`` (see
        :meth:`chunk_buffers`); ``X`` and ``G``: the chunk's last iterate and gradient.

        The common case (nothing finished) costs four reductions over the whole chunk and
        no host work per row: ``min(value) > tol``, and ``max(x) + 0 * sum(f) < bound``
        and ``-min(x) < bound``, where the zero term turns any infinite or NaN loss into
        NaN (a loss can overflow while every ``|x_i|`` is still inside the box); NaN fails
        every comparison. For the loss criterion ``0 * min(value) + 0 * max(f)`` does the
        same with a cheaper reduction (``min(value)`` is at hand). Otherwise per-row
        reductions flag the rows that may have finished (only for the test that failed) and
        :meth:`retire` follows those.
        """
        xp = self.xp
        k = X_chunk.shape[0]
        value = self.measure(X_chunk, f_chunk, G_chunk)
        ending = t + k - 1 == self.max_steps
        low = value.min()
        near = not low > self.tol
        if self.criterion == "loss":  # value is f - f*: its min and f's max bound every loss
            unbounded = low * 0 + f_chunk.max() * 0
        else:
            unbounded = f_chunk.sum() * 0
        boxed = bool(xp.max(X_chunk) + unbounded < self.bound and -xp.min(X_chunk) < self.bound)
        if not (near or ending) and boxed:
            self.remember(None, X_chunk, f_chunk)
            return
        found = [np.zeros(0, dtype=np.int64)]
        if near:  # rows whose smallest value in the chunk is not above tol
            found.append(np.flatnonzero(~(to_numpy(xp.min(value, axis=0)) > self.tol)))
        if not boxed:  # rows with an entry outside the box, or a loss that is not finite
            high = to_numpy(xp.max(abs(X_chunk), axis=0))  # (n, d)
            found.append(np.flatnonzero(~(high.reshape(-1) < self.bound)) // high.shape[1])
            found.append(np.flatnonzero(~np.isfinite(to_numpy(xp.sum(f_chunk, axis=0)))))
        flagged = found[-1] if len(found) == 2 else np.unique(np.concatenate(found))
        self.retire(t, X_chunk, f_chunk, value, X, G, flagged, ending, boxed)

    def _index(self, idx: np.ndarray):
        """Host integer indices as an index of the backend's arrays."""
        if self.on_torch:
            import torch

            return torch.as_tensor(idx, device=self.X.device)
        return idx

    def retire(self, t, X_chunk, f_chunk, value, X, G, flagged, ending, boxed) -> None:
        """Freeze the rows that finished in the chunk from step t; drop them from the active set.

        ``flagged`` rows may have finished: each is followed step by step on the host and
        finishes at its first step where it left the box (some ``|x_i| >= bound``, a NaN,
        or a loss that is not finite: diverged) or else met the criterion (converged). Its
        result is taken from that step; the steps it ran on after are discarded. When the
        chunk ends at ``max_steps`` every row still running finishes there. ``boxed``: the
        whole chunk is known to be inside the box with finite losses (nothing diverged).
        """
        xp = self.xp
        k, n, d = X_chunk.shape
        first = np.full(n, k)  # each row's finishing index in the chunk; k: still running
        if flagged.size:
            picked = self._index(flagged)
            value_host = to_numpy(xp.take(value, picked, axis=1))  # (k, m)
            converged = value_host <= self.tol
            if boxed:
                diverged = np.zeros_like(converged)
                finished = converged
            else:
                X_host = to_numpy(xp.take(X_chunk, picked, axis=1))  # (k, m, d)
                f_host = to_numpy(xp.take(f_chunk, picked, axis=1))
                # entries outside the box counted by a matrix-vector product: NumPy reduces
                # along a short axis slowly
                outside = (~(np.abs(X_host) < self.bound)).astype(np.float64) @ np.ones(d)
                diverged = (outside > 0) | ~np.isfinite(f_host)
                converged &= ~diverged
                finished = converged | diverged
            ended = finished.any(axis=0)
            which = np.flatnonzero(ended)  # among the flagged
            at = finished[:, which].argmax(axis=0)
            first[flagged[which]] = at
        if ending:
            first[first == k] = k - 1
        self.remember(first, X_chunk, f_chunk)
        done = np.flatnonzero(first < k)
        if done.size == 0:
            return
        if flagged.size and which.size:
            ended_rows = self.rows[flagged[which]]
            self.codes[ended_rows[converged[at, which]]] = _CODES[CONVERGED]
            self.codes[ended_rows[diverged[at, which]]] = _CODES[DIVERGED]
        at = first[done]
        rows = self.rows[done]
        self.steps[rows] = t + at
        tallies = np.array(self.tallies, dtype=np.int64).reshape(-1, len(EVALUATIONS))
        self.evaluations[rows] = tallies[at]
        flat = at * n + done  # (step, row) in the chunk, flattened
        everything = done.size == n
        if everything and self.final_x is None and np.all(at == k - 1):
            # every row ends at the chunk's last step: those iterates are the result
            self.final_x = X
        else:
            if self.final_x is None:
                shape = (self.steps.shape[0], d)
                self.final_x = xp.empty(shape, dtype=X_chunk.dtype, device=array_device(X_chunk))
            X_flat = xp.reshape(X_chunk, (k * n, d))
            self.final_x[self._index(rows)] = xp.take(X_flat, self._index(flat), axis=0)
        self.final_loss[rows] = to_numpy(f_chunk).reshape(-1)[flat]
        self.final_criterion[rows] = to_numpy(value).reshape(-1)[flat]
        if everything:
            self.rows = self.rows[:0]
            return
        keep_host = np.flatnonzero(first == k)
        keep = self._index(keep_host)
        self.rows = self.rows[keep_host]
        self.X = take_rows(self.X, keep)
        self.state = take_rows(self.state, keep)
        self.hp = take_rows(self.hp, keep)
        self.oracle.remember(self.X, take_rows(G, keep))
        self.oracle.keep_rows(keep)

    def remember(self, first, X_chunk, f_chunk) -> None:
        """Histories of a chunk: at each of its steps, the rows still running then
        (``first``: each row's finishing index in the chunk, or None when none finished)."""
        if not self.history:
            return
        # copies: the chunk's buffers are written again by the next chunk
        losses = np.array(to_numpy(f_chunk))
        points = np.array(to_numpy(X_chunk)) if "x" in self.history else None
        for j in range(losses.shape[0]):
            live = slice(None) if first is None else np.flatnonzero(first >= j)
            rows = self.rows[live]
            if rows.size == 0:
                break
            if "loss" in self.history:
                self.history["loss"].append((rows, losses[j, live]))
            if "x" in self.history:
                self.history["x"].append((rows, points[j, live]))

    def assemble(self, name: str, final: np.ndarray, last_step: int) -> np.ndarray:
        """Per-step records of the active rows -> ``(T + 1, B, ...)``, finished rows frozen."""
        records = self.history[name]
        out = np.empty((last_step + 1, *final.shape), dtype=np.float64)
        out[:] = final[None]
        for t, (rows, values) in enumerate(records):
            out[t, rows] = values
        return out

    def run(self, progress=None) -> RunResult:
        start = reported = time.perf_counter()
        step, value_and_grad, oracle = self.optimizer.step, self.problem.value_and_grad, self.oracle
        remember, tally = oracle.remember, oracle.tally  # bound once: the loop runs per step
        f, G = value_and_grad(self.X)
        oracle.remember(self.X, G)
        self.f_dtype = f.dtype
        self.settle(0, *self.single(self.X, f, G), self.X, G)
        t = 0
        while self.rows.size:
            k = self.chunk_length(t)
            X_chunk, f_chunk, G_chunk = self.chunk_buffers(k) if k > 1 else (None,) * 3
            X, state, hp = self.X, self.state, self.hp
            # only the loop holds the iterate and the state it consumes, so neither is kept
            # twice in memory
            self.X = self.state = f = G = None
            tallies = []  # the oracle's counts after each step of the chunk, flat (cheap)
            for j in range(k):
                X, state = step(X, state, hp, oracle)
                remember(None, None)  # the last gradient is not needed any more:
                f = G = None  # neither the oracle nor the loop keeps it while the next is made
                f, G = value_and_grad(X)
                remember(X, G)
                tallies += tally()
                if X_chunk is not None:
                    X_chunk[j] = X
                    f_chunk[j] = f
                    if G_chunk is not None:
                        G_chunk[j] = G
                if self.weight is None:  # the first step: now its cost is known
                    self.weigh_steps(1)
                    if chunk_steps(*X.shape, self.on_gpu, self.weight) == 1:  # too costly
                        k = 1
                        break
            if X_chunk is None or k == 1:
                X_chunk, f_chunk, G_chunk = self.single(X, f, G)
            self.X, self.state = X, state
            self.tallies = tallies
            self.settle(t + 1, X_chunk, f_chunk, G_chunk, X, G)
            t += k
            self.weigh_steps(t)
            if progress is not None and self.rows.size:
                now = time.perf_counter()
                if t % PROGRESS_EVERY == 0 or now - reported >= PROGRESS_SECONDS:
                    progress(t, int(self.rows.size))
                    reported = now
        last = int(self.steps.max()) if self.steps.size else 0
        if progress is not None:
            progress(last, 0)
        wall = time.perf_counter() - start
        result = RunResult(
            status=np.array(list(_CODES))[self.codes],
            steps=self.steps,
            x=self.final_x,
            final_loss=self.final_loss,
            final_criterion=self.final_criterion,
            criterion=self.criterion,
            tol=max(self.tol, 0.0),
            max_steps=self.max_steps,
            wall_time=wall,
            backend=self.backend,
            evaluations={n: v.copy() for n, v in zip(EVALUATIONS, self.evaluations.T, strict=True)},
        )
        if "loss" in self.history:
            result.loss_history = self.assemble("loss", self.final_loss, last)
        if "x" in self.history:
            result.x_history = self.assemble("x", to_numpy(self.final_x), last)
        return result
