"""The torch side of the contracts: a separable problem, the optimizer under test, and
how two runs are compared.

    problem = bowl([(3,), (2, 2)], seed=0)           # f = sum h (p - c)^2 / 2, seeded
    subject = Subject(torch.optim.Adam, {"lr": 0.05})
    opt, params, trajectories = subject.fresh(problem)  # 8 steps, (9, *shape) each
    differs(trajectories[0], other[0], problem.scale)    # None, or where they part

Every run builds its optimizer inside a torch random stream started from the subject's
seed (torch's global stream is restored afterwards), sets the gradients as a training loop
does (``p.grad`` in the parameter's memory layout, differentiable for second-order
methods), calls the hook ``each_step(optimizer, t)`` and then ``step(closure)``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "Bowl",
    "Raised",
    "Subject",
    "bowl",
    "differs",
    "dtype_name",
    "low_precision_state",
    "parameters",
    "state_eps",
    "stream",
    "takes_closure",
    "LAYOUTS",
]

#: the length of every run
STEPS = 8
EPS64 = float(np.finfo(np.float64).eps)
#: the nudge of the start (times the scale) that measures a method's sensitivity
NUDGE = 1024 * EPS64


class Raised(Exception):
    """The optimizer raised: where (what the contract was doing, at which step)."""

    def __init__(self, where: str, error: BaseException) -> None:
        #: ``Type: message``, as the kit's report keys an optimizer's exception
        self.error = f"{type(error).__name__}: {error}"
        super().__init__(f"raised {self.error} ({where})")


# ------------------------------------------------------------------------------ problem


@dataclass(frozen=True)
class Bowl:
    """``f(p) = sign * sum_j sum_i h_j (p_j - c_j)^2 / 2`` over the parameters it covers.

    ``h``, ``c`` and ``x0`` are NumPy arrays of each parameter's shape; ``sign = -1``
    is the concave ``-f`` that ``maximize=True`` climbs.
    """

    h: tuple[np.ndarray, ...]
    c: tuple[np.ndarray, ...]
    x0: tuple[np.ndarray, ...]
    sign: float = 1.0

    @property
    def scale(self) -> float:
        """``1 + max|c| + max|x0|``: the size of the numbers involved."""
        return 1.0 + max(np.abs(a).max() for a in self.c + self.x0)

    def loss(self, params, live: Sequence[int]):
        import torch

        total = 0.0
        for j in live:
            p = params[j]
            h = torch.as_tensor(self.h[j], dtype=p.dtype)
            c = torch.as_tensor(self.c[j], dtype=p.dtype)
            total = total + 0.5 * (h * (p - c) ** 2).sum()
        return self.sign * total

    def flipped(self) -> Bowl:
        return Bowl(self.h, self.c, self.x0, -self.sign)

    def rounded(self, dtype: str) -> Bowl:
        """Every number rounded to ``dtype`` (kept as float64)."""
        return Bowl(
            *(tuple(a.astype(dtype).astype(np.float64) for a in arrays) for arrays in self[:3]),
            self.sign,
        )

    def nudged(self, size: float, seed: int = 0) -> Bowl:
        """The start moved by ``size`` in every entry, with random signs."""
        rng = np.random.default_rng(seed)
        x0 = tuple(x + size * rng.choice([-1.0, 1.0], x.shape) for x in self.x0)
        return Bowl(self.h, self.c, x0, self.sign)

    def __getitem__(self, k):
        return (self.h, self.c, self.x0, self.sign)[k]

    def flattened(self) -> Bowl:
        """The same entries as vectors (row-major)."""
        return Bowl(*(tuple(a.reshape(-1) for a in arrays) for arrays in (self.h, self.c, self.x0)))


def bowl(shapes: Iterable[tuple[int, ...]], seed: int) -> Bowl:
    """A seeded :class:`Bowl` with parameters of ``shapes`` (see module doc)."""
    rng = np.random.default_rng(seed)
    h, c, x0 = [], [], []
    for shape in shapes:
        h.append(rng.uniform(0.5, 2.0, shape))
        c.append(rng.uniform(-1.0, 1.0, shape))
        x0.append(c[-1] + rng.uniform(0.5, 1.5, shape) * rng.choice([-1.0, 1.0], shape))
    return Bowl(tuple(h), tuple(c), tuple(x0))


#: the memory layouts of a 2-D parameter: one contiguous, two not
LAYOUTS = ("contiguous", "transposed view", "strided slice")


def parameters(problem: Bowl, dtype: str = "float64", layout: str = "contiguous") -> list:
    """Fresh leaf tensors at the problem's start; 2-D ones in ``layout``: ``"transposed
    view"`` is ``.t()`` of a contiguous transpose, ``"strided slice"`` is ``[..., 0]`` of a
    contiguous ``(m, n, 2)`` tensor (the same values, non-contiguous memory)."""
    import torch

    kind = getattr(torch, dtype)
    out = []
    for x in problem.x0:
        if layout == "transposed view" and x.ndim == 2:
            p = torch.tensor(x.T.copy(), dtype=kind).t()
        elif layout == "strided slice" and x.ndim == 2:
            p = torch.tensor(np.stack([x, np.zeros_like(x)], axis=-1), dtype=kind)[..., 0]
        else:
            p = torch.tensor(x, dtype=kind)
        out.append(p.requires_grad_(True))
    return out


@contextmanager
def stream(seed: int):
    """Torch's global CPU random stream started from ``seed``, restored afterwards."""
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


# ------------------------------------------------------------------------------ subject


class Subject:
    """The optimizer under contract: ``factory(params, **kwargs)``, its seed and hook.

    ``factory`` is a ``torch.optim.Optimizer`` subclass or a ``params -> Optimizer``
    callable; ``each_step(optimizer, t)`` (optional) runs after the gradients are set and
    before each ``step``. ``create_graph`` makes the gradients differentiable (second-order
    methods read Hessian-vector products through them).
    """

    def __init__(
        self,
        factory: Callable[..., Any],
        kwargs: Mapping[str, Any] | None = None,
        *,
        seed: int = 0,
        each_step: Callable[[Any, int], Any] | None = None,
        create_graph: bool = True,
    ) -> None:
        self.factory = factory
        self.kwargs = dict(kwargs or {})
        self.seed = int(seed)
        self.each_step = each_step
        self.create_graph = create_graph

    def but(self, **changes) -> Subject:
        """The same subject with ``changes`` (``seed``, ``each_step``...)."""
        fields = dict(seed=self.seed, each_step=self.each_step, create_graph=self.create_graph)
        return Subject(self.factory, self.kwargs, **(fields | changes))

    def build(self, params, **overrides):
        try:
            return self.factory(params, **(self.kwargs | overrides))
        except Exception as error:
            raise Raised("building the optimizer", error) from None

    def takes(self, name: str) -> bool:
        """Does the constructor name ``name`` (or take ``**kwargs``)?"""
        try:
            params = inspect.signature(self.factory).parameters
        except (TypeError, ValueError):
            return True
        return name in params or any(p.kind is p.VAR_KEYWORD for p in params.values())

    def options(self) -> dict[str, Any]:
        """The first group's options with the defaults filled in (a dummy parameter)."""
        import torch

        with stream(self.seed):
            made = self.build([torch.zeros(2, dtype=torch.float64, requires_grad=True)])
        return {k: v for k, v in made.param_groups[0].items() if k != "params"}

    # -------------------------------------------------------------------------- runs
    def closure(self, problem: Bowl, params, live: Sequence[int], record=None):
        """The torch idiom: clear the gradients, evaluate, differentiate, return the loss.

        Gradients take their parameter's memory layout (torch's gradient layout contract).
        """
        import torch

        def closure():
            with torch.enable_grad():
                for p in params:
                    p.grad = None
                loss = problem.loss(params, live)
                chosen = [params[j] for j in live]
                grads = torch.autograd.grad(loss, chosen, create_graph=self.create_graph)
                for p, g in zip(chosen, grads, strict=True):
                    g = g if self.create_graph else g.detach()
                    p.grad = torch.empty_like(p).copy_(g)
            if record is not None:
                record.append(float(loss.detach()))
            return loss.detach()

        return closure

    def run(
        self,
        problem: Bowl,
        params,
        steps: int = STEPS,
        optimizer=None,
        start: int = 0,
        live: Callable[[int], Sequence[int]] | None = None,
    ):
        """``steps`` steps from ``start``: ``(optimizer, [trajectory per parameter])``,
        each trajectory ``(steps + 1, *shape)`` float64. ``live(t)``: the parameters that
        get a gradient at step t (all by default; the others keep ``grad = None``)."""
        opt = self.build(params) if optimizer is None else optimizer
        trajectories = [[p.detach().double().numpy().copy()] for p in params]
        closure_arg = takes_closure(opt)
        for t in range(start, start + steps):
            chosen = range(len(params)) if live is None else live(t)
            closure = self.closure(problem, params, chosen)
            try:
                closure()
                if self.each_step is not None:
                    self.each_step(opt, t)
                opt.step(closure) if closure_arg else opt.step()
            except Exception as error:
                raise Raised(f"at step {t}", error) from None
            for trajectory, p in zip(trajectories, params, strict=True):
                trajectory.append(p.detach().double().numpy().copy())
        return opt, [np.stack(t) for t in trajectories]

    def fresh(
        self, problem: Bowl, steps: int = STEPS, dtype="float64", layout="contiguous", **opts
    ):
        """A seeded run from the problem's start on new parameters: (optimizer, params,
        trajectories)."""
        with stream(self.seed):
            params = parameters(problem, dtype, layout)
            opt = self.build(params, **opts)
            opt, trajectories = self.run(problem, params, steps, optimizer=opt)
        return opt, params, trajectories

    def sensitivity(self, problem: Bowl, reference=None, size=NUDGE, **opts) -> np.ndarray:
        """The method's response to a ``size * scale`` nudge of the start (``1024 eps``):
        per step, the largest change over every parameter ``(STEPS + 1,)``. It calibrates
        comparisons whose runs round differently (another memory layout, another summation
        order). ``reference``: the run from the start, when already made."""
        if reference is None:
            reference = self.fresh(problem, **opts)[2]
        nudged = self.fresh(problem.nudged(size * problem.scale, self.seed), **opts)[2]
        return np.max([sup_per_step(a - b) for a, b in zip(reference, nudged, strict=True)], axis=0)


def sup_per_step(diff: np.ndarray) -> np.ndarray:
    """``max |diff_t|`` for each step t of a ``(T + 1, ...)`` difference (NaN: inf)."""
    flat = np.abs(np.asarray(diff)).reshape(diff.shape[0], -1)
    return np.where(np.isnan(flat), np.inf, flat).max(axis=1)


def takes_closure(optimizer) -> bool:
    try:
        return len(inspect.signature(optimizer.step).parameters) >= 1
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        return True


# ------------------------------------------------------------------------ comparison


def _tolerance(steps: int, scale: float, eps: float = EPS64) -> np.ndarray:
    return 64 * eps * scale * (np.arange(steps) + 1)


def differs(expected, got, scale: float, eps=EPS64, offset=0, sensitivity=None):
    """None if the trajectories agree within ``64 eps scale (t + 1)`` (plus 8 times the
    ``sensitivity`` per step, when given); else where they part, with expected and got.
    ``offset``: the step index of row 0."""
    expected, got = np.asarray(expected), np.asarray(got)
    T = expected.shape[0]
    err = sup_per_step(expected - got)
    tol = _tolerance(T, scale, eps)
    if sensitivity is not None:
        tol = tol + 8 * np.nan_to_num(np.asarray(sensitivity), nan=np.inf)
    bad = ~(err <= tol)
    if not bad.any():
        return None
    t = int(np.argmax(bad))
    diff = np.abs(expected[t] - got[t]).reshape(-1)
    i = int(np.argmax(np.where(np.isnan(diff), np.inf, diff)))
    want, have = _distinct(expected[t].reshape(-1)[i], got[t].reshape(-1)[i])
    return (
        f"x_{t + offset} differs by {err[t]:.3g} (allowed {tol[t]:.3g}); entry {i}: "
        f"expected {want}, got {have}"
    )


def _distinct(a: float, b: float) -> tuple[str, str]:
    """``a`` and ``b`` to 10 significant digits, or as many more (up to 17) as it takes to
    tell them apart."""
    for digits in range(10, 18):
        shown = f"{a:.{digits}g}", f"{b:.{digits}g}"
        if shown[0] != shown[1]:
            break
    return shown


# ------------------------------------------------------------------------------ state


def _walk(value, path: str):
    """Every tensor inside nested dicts, lists and tuples, with its path."""
    import torch

    if isinstance(value, torch.Tensor):
        yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _walk(item, f"{path}[{key!r}]")
    elif isinstance(value, (list, tuple)):
        for k, item in enumerate(value):
            yield from _walk(item, f"{path}[{k}]")


def low_precision_state(optimizer, params) -> list[str]:
    """State tensors less precise than their parameter (a 0-dim whole number is a step
    counter and does not count), as ``"state['exp_avg'] float16 under float32"``."""
    import torch

    found = []
    by_id = {id(p): p for p in params}
    for key, state in optimizer.state.items():
        p = by_id.get(id(key), key)
        if not isinstance(p, torch.Tensor) or not p.is_floating_point():
            continue
        precision = torch.finfo(p.dtype).eps
        for path, tensor in _walk(state, "state"):
            if not tensor.is_floating_point():
                continue
            if _counter(tensor):
                continue
            if torch.finfo(tensor.dtype).eps > precision:
                shape = "a scalar " if tensor.dim() == 0 else ""
                entry = f"{path} {shape}{dtype_name(tensor)} under {dtype_name(p)}"
                if entry not in found:
                    found.append(entry)
    return found


def dtype_name(tensor) -> str:
    return str(tensor.dtype).removeprefix("torch.")


def _counter(tensor) -> bool:
    """A 0-dim tensor holding a whole number: a step count, not a statistic."""
    return tensor.dim() == 0 and float(tensor) == round(float(tensor))


def state_eps(optimizer) -> float:
    """The largest eps among the state's floating tensors (float64's when none)."""
    import torch

    eps = EPS64
    for state in optimizer.state.values():
        for _, tensor in _walk(state, ""):
            if tensor.is_floating_point() and not _counter(tensor):
                eps = max(eps, torch.finfo(tensor.dtype).eps)
    return eps
