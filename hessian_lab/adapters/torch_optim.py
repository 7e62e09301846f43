"""Any ``torch.optim.Optimizer`` run through the engine, one parameter tensor per row.

    opt = TorchOptimizer(torch.optim.Adam, {"lr": 1e-2})
    result = hl.run(problem, opt, x0)                      # statuses, criteria, histories

Row ``b`` of the batch ``X`` ``(B, d)`` is the parameter tensor ``p_b`` ``(d,)``, so every
per-tensor operation of the optimizer (a norm, a trust ratio, per-parameter state) is per
row. Each step, for the rows still running:

    closure():  f_b = problem.loss(p_b)  (torch autograd through the problem's own code)
                p_b.grad = d f_b / d p_b   (with ``create_graph``: a graph for second order)
    optimizer.step(closure)

The closure is evaluated once before ``step`` (optimizers that read ``p.grad`` without
calling it see the gradient), and a call from inside ``step`` at unchanged parameters
returns that evaluation instead of recomputing it; at moved parameters (a line search)
it recomputes. ``create_graph=True`` (the default) makes the gradients differentiable, as
``loss.backward(create_graph=True)`` does, so Hessian-vector products work (e.g.
torch-optimizer's ``Adahessian``); with ``create_graph=False`` the gradient is the
problem's own formula (no autograd pass).

Under gradient noise (``run(..., noise=...)``) the closures see ``f_b(x) + xi_b . x`` with
the step's noise ``xi_b`` (the draw a built-in method's gradient query would get): the
gradient is ``grad f + xi``, by formula or autograd, the Hessian is unchanged, and every
closure call within a step sees the same ``xi`` (one mini-batch per step).

Layouts:

- ``"separate"`` (default): one optimizer instance per row, each with its own torch random
  stream started from ``seed``. Rows are independent by construction, also for stochastic
  methods, and every row draws the same random numbers (common random numbers).
- ``"groups"``: one optimizer, one parameter group per row (one torch random stream for
  all): what a user's training loop does with several tensors. The check kit uses it to
  test that the optimizer keeps its state per parameter.

The optimizer's random draws never touch torch's global stream: the stream of each
instance is swapped in around its ``step`` (randomness is state).

Hyperparameters: ``kwargs`` go to the optimizer's constructor; a list of B values makes
B rows (row b gets the b-th value; in ``groups`` layout as its group's option).

Performance: this runs the optimizer's own Python per row and per step plus a torch
autograd pass per row (about 0.1-0.3 ms each on a CPU), so it is meant for checks and
small sweeps, not for thousands of rows: the built-in optimizers run a whole batch at
once.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType, SimpleNamespace
from typing import Any, ClassVar, NamedTuple

import numpy as np

from ..backend import backend_of, is_array, to_numpy
from ..optimizers.base import Optimizer

LAYOUTS = ("separate", "groups")

__all__ = ["TorchOptimizer", "LAYOUTS", "is_torch_optimizer_class", "row_values"]


def is_torch_optimizer_class(obj: Any) -> bool:
    """True for a subclass of ``torch.optim.Optimizer`` (torch imported only if loaded)."""
    if not inspect.isclass(obj):
        return False
    import torch

    return issubclass(obj, torch.optim.Optimizer)


def row_values(kwargs: Mapping[str, Any]) -> tuple[int, list[dict[str, Any]] | None]:
    """The batch size the list-valued kwargs ask for and each row's kwargs (None: all equal).

    A list (not a tuple: ``betas=(0.9, 0.999)`` is one value) of length B gives row b its
    b-th entry; lists of different lengths are an error.
    """
    sizes = {len(v) for v in kwargs.values() if isinstance(v, list)}
    if not sizes:
        return 1, None
    if len(sizes) > 1:
        raise ValueError(f"list-valued kwargs have different lengths: {sorted(sizes)}")
    B = sizes.pop()
    rows = [{k: (v[b] if isinstance(v, list) else v) for k, v in kwargs.items()} for b in range(B)]
    return B, rows


class _Unit:
    """One torch optimizer, the rows it owns and its own random stream."""

    def __init__(self, optimizer, rows: list[int], rng_state) -> None:
        self.optimizer = optimizer
        self.rows = rows
        self.rng_state = rng_state
        self.takes_closure = _accepts_closure(optimizer)


def _in_stream(unit_state, fn):
    """``fn()`` with torch's global CPU stream set to ``unit_state``; -> (result, new state)."""
    import torch

    saved = torch.random.get_rng_state()
    torch.random.set_rng_state(unit_state)
    try:
        out = fn()
        return out, torch.random.get_rng_state()
    finally:
        torch.random.set_rng_state(saved)


def _accepts_closure(optimizer) -> bool:
    try:
        return len(inspect.signature(optimizer.step).parameters) >= 1
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        return True


class _Runner:
    """The torch side of an adapted run: parameters, optimizer instances, closures."""

    def __init__(self, adapter: TorchOptimizer, X) -> None:
        import torch

        self.adapter = adapter
        host = np.asarray(to_numpy(X))
        dtype = torch.float32 if host.dtype == np.float32 else torch.float64
        self.shape = tuple(adapter.shape) if adapter.shape is not None else (host.shape[1],)
        self.params = [
            torch.tensor(host[b].reshape(self.shape), dtype=dtype).requires_grad_(True)
            for b in range(host.shape[0])
        ]
        self.t = 0  # steps taken (the each_step hook's second argument)
        B = len(self.params)
        _, per_row = row_values(adapter.kwargs)
        scalar = {k: v for k, v in adapter.kwargs.items() if not isinstance(v, list)}
        start = torch.Generator().manual_seed(int(adapter.seed)).get_state()
        self.units: list[_Unit] = []
        if adapter.layout == "separate":
            for b in range(B):
                kwargs = per_row[b] if per_row is not None else dict(adapter.kwargs)
                opt, state = _in_stream(
                    start, lambda b=b, k=kwargs: self._build([self.params[b]], k)
                )
                self.units.append(_Unit(opt, [b], state))
        else:
            if per_row is None:
                groups = [{"params": [p]} for p in self.params]
            else:
                varying = [k for k, v in adapter.kwargs.items() if isinstance(v, list)]
                groups = [
                    {"params": [p], **{k: per_row[b][k] for k in varying}}
                    for b, p in enumerate(self.params)
                ]
            opt, state = _in_stream(start, lambda: self._build(groups, scalar))
            self.units.append(_Unit(opt, list(range(B)), state))
        self.closure_calls = 0

    def _build(self, params, kwargs):
        import torch

        opt = self.adapter.factory(params, **kwargs)
        if not isinstance(opt, torch.optim.Optimizer):
            raise TypeError(
                f"the factory returned {type(opt).__name__}, not a torch.optim.Optimizer"
            )
        return opt

    def closure_for(self, problem, params, known=None):
        """A closure over ``params`` (the unit's running rows) in the torch idiom.

        ``known``: ``(losses, grads)`` NumPy rows of ``params`` already evaluated (the
        batch's, one call for every row); their gradients become ``p.grad`` at once.
        """
        import torch

        create_graph = self.adapter.create_graph
        cache: dict[str, Any] = {}

        def stacked():
            return torch.stack(params).detach().reshape(len(params), -1)

        def evaluate(with_loss=True):
            self.closure_calls += 1
            loss = None
            if create_graph:
                with torch.enable_grad():
                    for p in params:
                        p.grad = None
                    losses = problem.loss(torch.stack(params).reshape(len(params), -1))
                    loss = losses.sum()
                    grads = torch.autograd.grad(loss, params, create_graph=True)
            else:  # the problem's own gradient formula: no autograd graph to build
                with torch.no_grad():
                    if with_loss:
                        losses, G = problem.value_and_grad(stacked())
                        loss = losses.sum()
                    else:  # the loss is computed if the closure is called
                        G = problem.grad(stacked())
                    grads = G.reshape(len(params), *params[0].shape)
            for p, g in zip(params, grads, strict=True):
                # a copy: autograd's gradients of a stack are views, which an in-place
                # detach_ inside the optimizer (as Adahessian does) refuses
                p.grad = g.clone() if create_graph else g.detach().clone()
            cache["versions"] = [p._version for p in params]
            cache["loss"] = None if loss is None else loss.detach()
            return cache["loss"]

        def closure():
            if cache.get("versions") == [p._version for p in params]:
                fresh = cache.pop("loss")
                cache.pop("versions")
                if fresh is None:
                    with torch.no_grad():
                        fresh = problem.loss(stacked()).sum()
                return fresh
            return evaluate()

        if known is None:
            evaluate(with_loss=False)
            return closure
        losses, grads = known
        self.closure_calls += 1
        for p, g in zip(params, grads, strict=True):
            p.grad = torch.from_numpy(g.reshape(p.shape))
        cache["versions"] = [p._version for p in params]
        cache["loss"] = torch.tensor(float(losses.sum()), dtype=params[0].dtype)
        return closure

    def step(self, X, rows: np.ndarray, problem):
        import torch

        active = {b: i for i, b in enumerate(rows.tolist())}
        host = np.asarray(to_numpy(X))
        with torch.no_grad():
            for i, b in enumerate(rows.tolist()):
                self.params[b].copy_(torch.as_tensor(host[i]).reshape(self.shape))
        batch = None
        tilted = isinstance(problem, _Tilted)
        if not self.adapter.create_graph:  # every row's loss and gradient in one call
            if tilted:
                problem.select(rows.tolist())
            with np.errstate(all="ignore"):
                batch = problem.value_and_grad(host.copy())
        for unit in self.units:
            running = [self.params[b] for b in unit.rows if b in active]
            if not running:
                continue
            for b in unit.rows:
                if b not in active:
                    self.params[b].grad = None
            known = None
            if batch is not None:
                at = [active[b] for b in unit.rows if b in active]
                known = (np.asarray(batch[0])[at], np.asarray(batch[1])[at])

            if tilted:  # the closure evaluates this unit's running rows
                problem.select([b for b in unit.rows if b in active])

            def one_step(unit=unit, running=running, known=known):
                closure = self.closure_for(problem, running, known)
                if self.adapter.each_step is not None:
                    self.adapter.each_step(unit.optimizer, self.t)
                if unit.takes_closure:
                    unit.optimizer.step(closure)
                else:
                    unit.optimizer.step()

            _, unit.rng_state = _in_stream(unit.rng_state, one_step)
            for p in running:
                p.grad = None  # drop the graph the gradient holds
        self.t += 1
        new = np.stack([self.params[b].detach().numpy().reshape(-1) for b in rows.tolist()])
        return backend_of(X).asarray(new) if not isinstance(X, np.ndarray) else new


@dataclass(frozen=True, eq=False)
class TorchOptimizer(Optimizer):
    """``factory(params, **kwargs)`` -> a ``torch.optim.Optimizer``, run row by row (see module).

    Args:
        factory: a ``torch.optim.Optimizer`` subclass, or any callable taking the parameter
            list (or list of parameter groups) and ``**kwargs`` and returning an optimizer.
        kwargs: the constructor's keyword arguments; a list of B values makes B rows.
        layout: ``"separate"`` (an optimizer per row) or ``"groups"`` (one, a group per row).
        create_graph: build differentiable gradients (needed by second-order methods);
            False: the problem's gradient formula, no autograd graph (several times faster).
        seed: the start of the random stream of every optimizer instance.
        each_step: ``function(optimizer, step)`` called before every step of every
            instance (e.g. SophiaG's ``update_hessian()``, schedule-free's ``train()``).
        shape: each row's parameter as a tensor of this shape (e.g. ``(2, 3)`` for d = 6:
            a matrix for Muon or Shampoo); None: a vector of the problem's dimension.
    """

    name: ClassVar[str] = "torch"
    factory: Callable[..., Any] = None
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    layout: str = "separate"
    create_graph: bool = True
    seed: int = 0
    each_step: Callable[[Any, int], Any] | None = None
    shape: tuple[int, ...] | None = None

    class State(NamedTuple):
        rows: object  # (B,) int: the batch row each current row of X is
        runner: object  # the _Runner (parameters and optimizers of every row)

    def __post_init__(self) -> None:
        if not callable(self.factory):
            raise ValueError(
                f"factory must be an optimizer class or callable; got {self.factory!r}"
            )
        if self.layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}; got {self.layout!r}")
        if int(self.seed) != self.seed or self.seed < 0:
            raise ValueError(f"seed must be an integer >= 0; got {self.seed!r}")
        object.__setattr__(self, "kwargs", MappingProxyType(dict(self.kwargs)))
        row_values(self.kwargs)  # one-line error for mismatched list lengths

    @property
    def label(self) -> str:
        return getattr(self.factory, "__qualname__", None) or repr(self.factory)

    def batch_size(self) -> int:
        return row_values(self.kwargs)[0]

    def hyperparameters(self, batch: int, backend) -> SimpleNamespace:
        B = self.batch_size()
        if B not in (1, batch):
            raise ValueError(f"kwargs have {B} values but the batch has {batch} rows")
        return SimpleNamespace()

    def init(self, X, hp):
        xp = backend_of(X).xp
        rows = xp.arange(X.shape[0])
        return self.State(rows, _Runner(self, X))

    def step(self, X, state, hp, oracle):
        rows = np.asarray(to_numpy(state.rows)) if is_array(state.rows) else state.rows
        problem = oracle.problem
        if getattr(oracle, "noise", None) is not None:
            # the closures evaluate the problem themselves (autograd or its gradient
            # formula), past the oracle's grad: they get the step's noise as a tilt instead
            query = oracle.gradients
            oracle.gradients += 1
            xi = np.asarray(to_numpy(oracle.noise.draw(query, X)))
            problem = _Tilted(problem, xi, rows)
        return state.runner.step(X, rows, problem), state


class _Tilted:
    """``f_b(x) + xi_b . x`` for the step's active rows: gradient ``grad f + xi`` (the noisy
    gradient of the step, whatever the closure evaluates it with: autograd or the
    problem's formula), Hessian unchanged. ``xi`` ``(n, d)`` in the order of ``rows``;
    a call with a subset of them (one unit's running rows) is told which by ``select``."""

    def __init__(self, problem, xi: np.ndarray, rows) -> None:
        self.problem = problem
        self.position = {int(b): i for i, b in enumerate(np.asarray(rows).tolist())}
        self.xi = xi
        self.picked = xi

    def select(self, rows) -> None:
        self.picked = self.xi[[self.position[int(b)] for b in rows]]

    def _noise_like(self, X):
        if isinstance(X, np.ndarray):
            return self.picked
        import torch

        return torch.as_tensor(self.picked, dtype=X.dtype, device=X.device)

    def loss(self, X):
        return self.problem.loss(X) + (self._noise_like(X) * X).sum(-1)

    def grad(self, X):
        return self.problem.grad(X) + self._noise_like(X)

    def value_and_grad(self, X):
        f, G = self.problem.value_and_grad(X)
        xi = self._noise_like(X)
        return f + (xi * X).sum(-1), G + xi
