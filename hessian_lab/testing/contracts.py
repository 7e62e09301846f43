"""The torch.optim contracts: what a library's own test suite checks of every optimizer.

The invariants (:mod:`.invariants`) ask what the *method* does on quadratics; these ask
whether the *class* keeps the promises of the ``torch.optim.Optimizer`` interface, the
ones the anchors' suites (torch's ``test_optim``, torch-optimizer, pytorch-optimizer,
schedulefree) test one way or another:

- **state_dict round trip**: save at step k (``torch.save``/``torch.load``), build a fresh
  optimizer on fresh parameter tensors, load, continue: the iterates equal the
  uninterrupted run's;
- **parameter groups**: two groups, the second with other hyperparameters (``lr`` halved,
  ``betas``/``momentum`` moved towards 1, ``eps`` x10, ``weight_decay`` x2, those the
  optimizer has), each equal to that optimizer alone with its group's values. Under
  ``shared-state`` (a statistic over all parameters) two equal groups equal one group
  holding both tensors;
- **frozen parameter**: a parameter whose ``p.grad`` is None stays bit-for-bit where it
  is, raises nothing and does not change the others; one frozen for the first k steps
  then trains;
- **step(closure) returns the loss**: ``opt.step(closure)`` from ``p.grad = None`` calls
  the closure and returns the loss it returned;
- **maximize**: ``maximize=True`` on ``g = -f`` equals minimizing ``f`` (where the class
  takes ``maximize``);
- **matrix parameters**: a non-square and a square matrix, each contiguous, as a
  transposed view and as a strided slice (two non-contiguous layouts), equal the same
  entries as a vector; under ``matrix`` (a method that acts on whole matrices: Muon,
  Shampoo, factored Adafactor) each layout equals the contiguous matrix instead;
- **float32 parameters**: run, stay float32 and finite, and follow the float64 run of the
  same problem to float32 rounding (``64 eps32 scale (t + 1)`` plus 8 times the method's
  response to a ``16 eps32 scale`` nudge of the start: an ill-conditioned inner solve,
  as Shampoo's inverse root, widens it by what rounding really does);
- **foreach and fused**: where the constructor names ``foreach`` or ``fused`` and keeps it
  in the group's options, ``foreach=True`` and ``fused=True`` (those it accepts here) equal
  the for-loop run (``foreach=False``) on three tensors of different shapes, as torch's own
  ``test_optim`` asks of its optimizers;
- **lr scheduler**: a ``torch.optim.lr_scheduler.LambdaLR`` that takes every group's ``lr``
  to 0 after step ``SCHEDULED_AT`` freezes the parameters from there (the scheduler's value
  reaches the step; a cosine schedule ends at exactly 0), with no NaN;
- **state precision**: no floating-point state tensor is less precise than its parameters
  (``low-precision-state`` declares that it may be; a 0-dimensional tensor holding a whole
  number is a step counter, not a statistic, and is not counted).

The problem is separable: ``f(p) = sum_j sum_i h_ji (p_ji - c_ji)^2 / 2`` with ``h`` in
``[0.5, 2]``, ``c`` in ``[-1, 1]`` and starts 0.5-1.5 from ``c`` (seeded by ``seed``), run
``STEPS`` steps. A diagonal Hessian makes a Hutchinson estimate exact, so Hessian-probing
methods are deterministic here; a method whose iterates still change with the seed is
compared only where both runs draw the same random numbers (round trip, maximize).

Iterates that should agree are compared to ``64 eps scale (t + 1)`` (``scale`` the size of
the numbers, ``eps`` the parameters' precision, or the state's where that is lower): the
rounding of a few reordered operations, while a bug moves an iterate by a fraction of a
step. Each run builds the optimizer inside its own torch random stream started from
``seed`` (the global stream is left as it was) and calls ``each_step(optimizer, t)``, when
given, after the gradients are in ``p.grad`` and before ``step`` (SophiaG's
``update_hessian()``, schedule-free's ``.train()``).
"""

from __future__ import annotations

import inspect
import io
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from typing import Any

import numpy as np

from .invariants import FAIL, NA, PASS, Outcome
from .torch_runs import (
    LAYOUTS,
    STEPS,
    Bowl,
    Raised,
    Subject,
    bowl,
    differs,
    dtype_name,
    low_precision_state,
    parameters,
    state_eps,
    stream,
    takes_closure,
)

__all__ = ["CONTRACTS", "STEPS", "Subject", "check_contracts", "planned"]

#: the step after which the round trip saves and resumes
RESUME_AT = 3
EPS32 = float(np.finfo(np.float32).eps)
#: the nudge of the start (times the scale) that calibrates the float32 comparison
NUDGE32 = 16 * EPS32

ROUND_TRIP = "state_dict round trip"
GROUPS = "parameter groups"
FROZEN = "frozen parameter"
CLOSURE = "step(closure) returns the loss"
MAXIMIZE = "maximize"
MATRIX = "matrix parameters"
FLOAT32 = "float32 parameters"
FOREACH = "foreach and fused"
SCHEDULER = "lr scheduler"
PRECISION = "state precision"
#: every contract in the order it runs
CONTRACTS = (
    ROUND_TRIP, GROUPS, FROZEN, CLOSURE, MAXIMIZE, MATRIX, FLOAT32, FOREACH, SCHEDULER,
    PRECISION,
)
#: the step from which the scheduler's lr is 0
SCHEDULED_AT = 3
#: the implementation switches of torch.optim, each compared with the for-loop
SWITCHES = ("foreach", "fused")


# -------------------------------------------------------------------------- contracts


class Context:
    """What the contracts share: the subject, declarations, and what was learnt."""

    def __init__(self, subject: Subject, assume: Iterable[str] = ()) -> None:
        self.subject = subject
        self.assume = frozenset(assume)
        self._stochastic: bool | None = None

    @property
    def stochastic(self) -> bool:
        """Does the seed change the iterates (on the separable problem)?"""
        if self._stochastic is None:
            problem = bowl([(3,)], self.subject.seed)
            _, _, a = self.subject.fresh(problem)
            other = self.subject.but(seed=self.subject.seed + 1)
            _, _, b = other.fresh(problem)
            self._stochastic = differs(a[0], b[0], problem.scale) is not None
        return self._stochastic


STOCHASTIC = (
    "stochastic (the seed changes the iterates even on a separable quadratic): the compared "
    "runs would draw misaligned random numbers"
)


def round_trip(ctx: Context) -> Outcome:
    """Save at step k, load into a fresh optimizer on fresh tensors, continue: the same
    iterates as the uninterrupted run."""
    import torch

    s = ctx.subject
    problem = bowl([(3,), (2,)], s.seed)
    _, _, whole = s.fresh(problem)
    note = ""
    with stream(s.seed):
        params = parameters(problem)
        opt, _ = s.run(problem, params, RESUME_AT)
        buffer = io.BytesIO()
        try:
            torch.save(opt.state_dict(), buffer)
        except Exception as error:
            return Outcome(
                ROUND_TRIP,
                FAIL,
                f"torch.save(optimizer.state_dict()) raised "
                f"{type(error).__name__}: {error} (after {RESUME_AT} steps)",
            )
        buffer.seek(0)
        try:
            saved = torch.load(buffer, weights_only=True)
        except Exception as error:
            buffer.seek(0)
            saved = torch.load(buffer, weights_only=False)  # our own bytes, just written
            note = (
                f"; its state_dict loads only with torch.load(weights_only=False) "
                f"({type(error).__name__})"
            )
        rng = torch.random.get_rng_state()
        resumed = [p.detach().clone().requires_grad_(True) for p in params]
        fresh = s.build(resumed)
        try:
            fresh.load_state_dict(saved)
        except Exception as error:
            raise Raised("in load_state_dict", error) from None
        torch.random.set_rng_state(rng)
        fresh, rest = s.run(problem, resumed, STEPS - RESUME_AT, optimizer=fresh, start=RESUME_AT)
    eps = max(state_eps(opt), state_eps(fresh))
    for j, (a, b) in enumerate(zip(whole, rest, strict=True)):
        message = differs(a[RESUME_AT:], b, problem.scale, eps, offset=RESUME_AT)
        if message:
            return Outcome(
                ROUND_TRIP,
                FAIL,
                f"saved after step {RESUME_AT} and loaded into a fresh optimizer, parameter "
                f"{j} parts from the uninterrupted run: {message} (state not in the "
                f"state_dict, e.g. a step count kept elsewhere?){note}",
                f"parameters of shapes (3,), (2,); torch.save/torch.load after step {RESUME_AT}",
            )
    return Outcome(
        ROUND_TRIP,
        PASS,
        f"saved after step {RESUME_AT}, loaded into a fresh optimizer on fresh tensors: "
        f"the same iterates to step {STEPS}{note}",
    )


#: how the second group's hyperparameters differ from the first's (those present)
def _moved_towards_one(b: float) -> float:
    return (1.0 + b) / 2.0


def _varied(options: Mapping[str, Any], subject: Subject) -> dict[str, Any]:
    """Other values, valid wherever the originals are, for the options the group has."""

    def number(v) -> bool:
        return isinstance(v, (int, float)) and not isinstance(v, bool)

    out: dict[str, Any] = {}
    for name, value in options.items():
        if not subject.takes(name):
            continue
        if name == "lr" and number(value) and value > 0:
            out[name] = value * 0.5
        elif name == "betas" and isinstance(value, (tuple, list)) and value:
            if all(number(b) and 0 <= b < 1 for b in value):
                out[name] = tuple(_moved_towards_one(b) for b in value)
        elif name == "momentum" and number(value) and 0 < value < 1:
            out[name] = _moved_towards_one(value)
        elif name in ("eps", "weight_decay") and number(value) and value > 0:
            out[name] = value * (10.0 if name == "eps" else 2.0)
    return out


def groups(ctx: Context) -> Outcome:
    """Two parameter groups with different hyperparameters each behave as the optimizer
    alone with that group's values (``shared-state``: two equal groups as one group)."""
    s = ctx.subject
    if ctx.stochastic:
        return Outcome(GROUPS, NA, STOCHASTIC)
    problem = bowl([(3,), (2,)], s.seed)
    shared = "shared-state" in ctx.assume
    varied = {} if shared else _varied(s.options(), s)
    if not shared and not varied:
        return Outcome(
            GROUPS,
            NA,
            "no option to vary between groups (lr, betas, momentum, eps, weight_decay)",
        )
    with stream(s.seed):
        params = parameters(problem)
        spec = [{"params": [params[0]]}, {"params": [params[1]], **varied}]
        try:
            opt = s.factory(spec, **s.kwargs)
        except Exception as error:  # a refusal at construction is a stated limit, not a bug
            return Outcome(
                GROUPS,
                NA,
                f"refuses two parameter groups ({type(error).__name__}: {error})",
            )
        _, together = s.run(problem, params, optimizer=opt)
    if shared:
        _, _, expected = s.fresh(problem)
        sens = [s.sensitivity(problem, reference=expected)] * 2
        what = "one group holding both tensors"
    else:
        expected, sens = [], []
        for j in range(2):
            alone = Bowl(problem.h[j : j + 1], problem.c[j : j + 1], problem.x0[j : j + 1])
            opts = varied if j == 1 else {}
            _, _, run = s.fresh(alone, **opts)
            expected.append(run[0])
            sens.append(s.sensitivity(alone, reference=run, **opts))
        what = "the optimizer alone with that group's values"
    for j in range(2):
        message = differs(expected[j], together[j], problem.scale, sensitivity=sens[j])
        if message:
            values = ", ".join(f"{k}={v}" for k, v in varied.items())
            return Outcome(
                GROUPS,
                FAIL,
                f"group {j} ({values if j == 1 and values else 'the constructor values'}) "
                f"differs from {what}: {message}",
                f"group 0: a (3,) tensor with {s.kwargs or 'the defaults'}; "
                f"group 1: a (2,) tensor{' with ' + values if values else ''}",
            )
    varied_text = ", ".join(f"{k}={v}" for k, v in varied.items())
    detail = (
        "declared shared-state: two groups with equal values run as one group of both"
        if shared
        else f"a second group with {varied_text} runs as the optimizer alone with those values"
    )
    return Outcome(GROUPS, PASS, detail)


def frozen(ctx: Context) -> Outcome:
    """A parameter with ``grad = None`` is untouched and changes nothing else; one frozen
    for the first steps then trains."""
    s = ctx.subject
    problem = bowl([(3,), (2,), (2,)], s.seed)
    with stream(s.seed):
        params = parameters(problem)
        _, traj = s.run(problem, params, live=lambda t: [0] if t < RESUME_AT else [0, 2])
    held = traj[1]
    if not np.array_equal(held, np.broadcast_to(held[0], held.shape)):
        t = int(np.argmax(np.any((held != held[0]).reshape(held.shape[0], -1), axis=1)))
        return Outcome(
            FROZEN,
            FAIL,
            f"a parameter whose grad is None moved at step {t - 1}: expected "
            f"{held[0].tolist()}, got {held[t].tolist()} (weight decay or momentum applied "
            "without a gradient?)",
            "three (3,), (2,), (2,) tensors; the second never has a gradient",
        )
    late, live = traj[2], traj[0]
    moves = not np.array_equal(live[-1], live[RESUME_AT])  # lr = 0 moves nothing
    if not np.all(np.isfinite(late)) or (moves and np.array_equal(late[-1], late[RESUME_AT])):
        return Outcome(
            FROZEN,
            FAIL,
            f"a parameter frozen for {RESUME_AT} steps and then trained did not move "
            f"(or left the finite numbers): {late[RESUME_AT].tolist()} -> {late[-1].tolist()}",
        )
    if not ctx.stochastic:
        problem1 = Bowl(problem.h[:1], problem.c[:1], problem.x0[:1])
        _, _, alone = s.fresh(problem1, steps=RESUME_AT)
        message = differs(alone[0], traj[0][: RESUME_AT + 1], problem.scale)
        if message:
            return Outcome(
                FROZEN,
                FAIL,
                f"a frozen parameter next to it changes another parameter's run: {message}",
            )
    return Outcome(
        FROZEN,
        PASS,
        f"untouched over {STEPS} steps, no error, the others run as without it"
        + ("" if not ctx.stochastic else " (not compared: stochastic)")
        + f"; one frozen for {RESUME_AT} steps then trains",
    )


def closure_loss(ctx: Context) -> Outcome:
    """``step(closure)`` from cleared gradients calls the closure and returns its loss."""
    s = ctx.subject
    problem = bowl([(3,)], s.seed)
    with stream(s.seed):
        params = parameters(problem)
        opt = s.build(params)
        if not takes_closure(opt):
            return Outcome(CLOSURE, NA, "step() takes no closure")
        for t in range(2):
            losses: list[float] = []
            for p in params:
                p.grad = None
            if s.each_step is not None:
                s.each_step(opt, t)
            try:
                got = opt.step(s.closure(problem, params, [0], record=losses))
            except Exception as error:
                raise Raised(f"in step(closure) at step {t}", error) from None
            if not losses:
                return Outcome(CLOSURE, FAIL, f"step(closure) never called the closure (step {t})")
            value = None if got is None else float(got)
            if value is None or not any(value == loss for loss in losses):
                return Outcome(
                    CLOSURE,
                    FAIL,
                    f"step(closure) returned {got!r}; the closure returned "
                    f"{', '.join(f'{v:.10g}' for v in losses)} (step {t})",
                )
    return Outcome(CLOSURE, PASS, "called the closure and returned its loss, 2 steps")


def maximize(ctx: Context) -> Outcome:
    """``maximize=True`` on ``-f`` equals minimizing ``f``."""
    import torch

    s = ctx.subject
    if not s.takes("maximize"):
        return Outcome(MAXIMIZE, NA, "the constructor has no maximize option")
    try:
        s.build([torch.zeros(2, dtype=torch.float64, requires_grad=True)], maximize=True)
    except Raised as error:
        return Outcome(MAXIMIZE, NA, f"maximize=True is not accepted: {error}")
    problem = bowl([(3,)], s.seed)
    _, _, down = s.fresh(problem, maximize=False)
    _, _, up = s.fresh(problem.flipped(), maximize=True)
    message = differs(down[0], up[0], problem.scale)
    if message:
        return Outcome(
            MAXIMIZE,
            FAIL,
            f"maximize=True on -f differs from minimizing f: {message}",
            "a (3,) tensor on a separable quadratic f and on -f",
        )
    return Outcome(MAXIMIZE, PASS, f"maximize=True on -f equals minimizing f over {STEPS} steps")


def matrices(ctx: Context) -> Outcome:
    """Matrix parameters (3x2 and 3x3, contiguous and in two non-contiguous layouts) equal
    the same entries as a vector; under ``matrix``, each layout equals the contiguous one."""
    s = ctx.subject
    whole = "matrix" in ctx.assume
    compared = not ctx.stochastic
    for shape in ((3, 2), (3, 3)):
        problem = bowl([shape], s.seed)
        runs = {}
        for layout in LAYOUTS:
            try:
                _, _, traj = s.fresh(problem, layout=layout)
            except Raised as error:
                shown = f"{shape[0]}x{shape[1]}"
                return Outcome(
                    MATRIX, FAIL, f"{error}, on a {shown} parameter ({layout})", error=error.error
                )
            if not np.all(np.isfinite(traj[0])):
                return Outcome(
                    MATRIX, FAIL, f"a {shape} parameter ({layout}) left the finite numbers"
                )
            runs[layout] = traj[0]
        if not compared:
            continue
        if whole:
            expected, what = runs["contiguous"], "the contiguous matrix"
            sens = s.sensitivity(problem, reference=[expected])
        else:
            _, _, vector = s.fresh(problem.flattened())
            expected = vector[0].reshape(runs["contiguous"].shape)
            what = "the same entries as a vector"
            sens = s.sensitivity(problem.flattened(), reference=vector)
        for layout in LAYOUTS:
            if whole and layout == "contiguous":
                continue
            message = differs(expected, runs[layout], problem.scale, sensitivity=sens)
            if message:
                hint = (
                    "an update that depends on the memory layout (a reshape that copies?)"
                    if whole or layout != "contiguous"
                    else "not elementwise on matrices: declare --assume matrix if it acts on "
                    "whole matrices"
                )
                return Outcome(
                    MATRIX,
                    FAIL,
                    f"a {shape[0]}x{shape[1]} parameter ({layout}) differs from {what}: "
                    f"{message}; {hint}",
                    f"one {shape} parameter, {layout}",
                )
    layouts = "contiguous, as a transposed view and as a strided slice"
    if not compared:
        return Outcome(MATRIX, NA, f"ran on every layout; not compared: {STOCHASTIC}")
    if whole:
        return Outcome(
            MATRIX,
            PASS,
            f"declared matrix: 3x2 and 3x3 parameters, {layouts}, run as the contiguous matrix",
        )
    return Outcome(
        MATRIX,
        PASS,
        f"3x2 and 3x3 parameters, {layouts}, run as the same entries in a vector",
    )


def float32(ctx: Context) -> Outcome:
    """float32 parameters run, stay float32 and finite, and follow the float64 run of the
    same (float32-rounded) problem within float32 rounding, calibrated on the method's own
    response to a nudge of the start the size of float32's resolution."""
    s = ctx.subject
    problem = bowl([(3,)], s.seed).rounded("float32")
    _, params, narrow = s.fresh(problem, dtype="float32")
    kinds = sorted({dtype_name(p) for p in params} - {"float32"})
    if kinds:
        return Outcome(FLOAT32, FAIL, f"float32 parameters became {', '.join(kinds)}")
    if not np.all(np.isfinite(narrow[0])):
        return Outcome(FLOAT32, FAIL, "float32 parameters left the finite numbers")
    _, _, wide = s.fresh(problem)
    sensitivity = s.sensitivity(problem, reference=wide, size=NUDGE32)
    message = differs(wide[0], narrow[0], problem.scale, EPS32, sensitivity=sensitivity)
    if message:
        return Outcome(
            FLOAT32,
            FAIL,
            f"the float32 run parts from the float64 run: {message} (float32 rounding, "
            f"calibrated on the method's response to a {NUDGE32 * problem.scale:.1e} nudge)",
            "a (3,) float32 tensor",
        )
    err = np.abs(wide[0] - narrow[0]).max()
    return Outcome(
        FLOAT32, PASS, f"stay float32 and follow the float64 run to {err:.1e} over {STEPS} steps"
    )


def implementations(ctx: Context) -> Outcome:
    """``foreach=True`` and ``fused=True`` equal the for-loop run (``foreach=False``) on three
    tensors of different shapes, where the constructor names the switch and keeps it in the
    group's options (a ``**kwargs`` that swallows it switches nothing)."""
    import torch

    s = ctx.subject
    named = [name for name in SWITCHES if _names(s.factory, name)]
    if not named:
        return Outcome(FOREACH, NA, "the constructor names neither foreach nor fused")
    if ctx.stochastic:
        return Outcome(FOREACH, NA, STOCHASTIC)
    probe = [torch.zeros(2, dtype=torch.float64, requires_grad=True)]
    switched, left = [], []
    for name in named:
        try:
            kept = s.build(probe, **{name: True}).param_groups[0].get(name)
        except Raised as error:
            left.append(f"{name}=True is refused here ({error.error})")
            continue
        if kept is True:
            switched.append(name)
        else:
            left.append(f"{name}=True is not kept in the group's options")
    if not switched:
        return Outcome(FOREACH, NA, "; ".join(left))
    problem = bowl([(3,), (2, 2), (5,)], s.seed)
    base = {"foreach": False} if "foreach" in named else {"fused": False}
    loop, _, expected = s.fresh(problem, **base)
    for name in switched:
        opt, _, got = s.fresh(problem, **{name: True})
        eps = max(state_eps(loop), state_eps(opt))
        for shape, a, b in zip((x.shape for x in problem.x0), expected, got, strict=True):
            message = differs(a, b, problem.scale, eps)
            if message:
                return Outcome(
                    FOREACH,
                    FAIL,
                    f"{name}=True parts from the for-loop run on the {shape} tensor: {message}",
                    "three tensors (3,), (2, 2), (5,) on a separable quadratic",
                )
    runs = " and ".join(f"{name}=True" for name in switched)
    verb = "equal" if len(switched) > 1 else "equals"
    note = f" ({'; '.join(left)})" if left else ""
    return Outcome(
        FOREACH, PASS, f"{runs} {verb} the for-loop run on three tensors over {STEPS} steps{note}"
    )


def scheduled(ctx: Context) -> Outcome:
    """A ``LambdaLR`` taking ``lr`` to 0 after step ``SCHEDULED_AT`` freezes the parameters
    (where the plain run still moves them), as any scheduler's value must reach the step."""
    import warnings

    import torch

    s = ctx.subject
    probe = s.build([torch.zeros(2, dtype=torch.float64, requires_grad=True)])
    if any("lr" not in group for group in probe.param_groups):
        return Outcome(SCHEDULER, NA, "its parameter groups have no lr for a scheduler to set")
    problem = bowl([(3,), (2,)], s.seed)
    _, _, plain = s.fresh(problem)
    k = SCHEDULED_AT
    moving = any(np.abs(a[k + 1 :] - a[k]).max() > 0 for a in plain)
    if not moving:
        return Outcome(SCHEDULER, NA, f"the plain run does not move after step {k}")
    with stream(s.seed), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the scheduler's notes on call order
        params = parameters(problem)
        opt = s.build(params)
        schedule = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: 1.0 if t < k else 0.0)

        def each_step(optimizer, t):
            if s.each_step is not None:
                s.each_step(optimizer, t)
            if t > 0:  # after the previous step, as a training loop calls it
                schedule.step()

        _, runs = s.but(each_step=each_step).run(problem, params, optimizer=opt)
    for j, run in enumerate(runs):
        frozen = np.broadcast_to(run[k], run[k:].shape)
        message = differs(frozen, run[k:], problem.scale, state_eps(opt), offset=k)
        if message or not np.all(np.isfinite(run)):
            return Outcome(
                SCHEDULER,
                FAIL,
                f"with the scheduler's lr = 0 from step {k}, parameter {j} still moves: "
                f"{message or 'it left the finite numbers'}",
                f"LambdaLR(optimizer, lambda t: 1 if t < {k} else 0), stepped after each step",
            )
    return Outcome(
        SCHEDULER, PASS, f"LambdaLR's lr = 0 from step {k} freezes the parameters to step {STEPS}"
    )


def _names(factory, name: str) -> bool:
    """Does the constructor's signature name ``name`` itself (not only through ``**kwargs``)?"""
    try:
        return name in inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return False


def precision(ctx: Context) -> Outcome:
    """No state tensor below its parameters' precision (float64 and float32 runs)."""
    s = ctx.subject
    problem = bowl([(3,), (2, 2)], s.seed)
    found = []
    for dtype in ("float64", "float32"):
        opt, params, _ = s.fresh(problem, steps=2, dtype=dtype)
        found += [f for f in low_precision_state(opt, params) if f not in found]
    if not found:
        return Outcome(PRECISION, PASS, "every state tensor at least as precise as its parameter")
    listed = "; ".join(found[:4]) + (f" (+{len(found) - 4} more)" if len(found) > 4 else "")
    if "low-precision-state" in ctx.assume:
        return Outcome(PRECISION, NA, f"declared low-precision-state ({listed})")
    scalars = all(" a scalar " in f for f in found)
    hint = (
        "scalars made at torch.get_default_dtype(), as torch.optim makes them, are lifted by "
        "torch.set_default_dtype(torch.float64); otherwise declare --assume low-precision-state"
        if scalars
        else "declare --assume low-precision-state if intended"
    )
    return Outcome(PRECISION, FAIL, f"state below the parameters' precision: {listed} ({hint})")


round_trip.title = ROUND_TRIP
groups.title = GROUPS
frozen.title = FROZEN
closure_loss.title = CLOSURE
maximize.title = MAXIMIZE
matrices.title = MATRIX
float32.title = FLOAT32
implementations.title = FOREACH
scheduled.title = SCHEDULER
precision.title = PRECISION

CHECKS: tuple[Callable[[Context], Outcome], ...] = (
    round_trip,
    groups,
    frozen,
    closure_loss,
    maximize,
    matrices,
    float32,
    implementations,
    scheduled,
    precision,
)


def _guarded(check, ctx: Context) -> Outcome:
    try:
        return check(ctx)
    except Raised as error:
        return Outcome(check.title, FAIL, str(error), error=error.error)
    except Exception as error:  # the optimizer (or its hook) may raise anything
        what = f"{type(error).__name__}: {error}"
        return Outcome(check.title, FAIL, f"raised {what}", error=what)


def planned(
    factory: Callable[..., Any] | None,
    kwargs: Mapping[str, Any] | None = None,
    *,
    assume: Iterable[str] = (),
    seed: int = 0,
    each_step: Callable[[Any, int], Any] | None = None,
    why_not: str = "",
) -> list[tuple[str, Callable[[], Outcome]]]:
    """Every contract as ``(name, run)``, ``run() -> Outcome``, sharing what they learn
    (see :func:`check_contracts`); the check kit runs them after the invariants."""
    if factory is None:
        reason = why_not or "not a torch.optim.Optimizer: no state_dict, groups or closure"
        return [(c.title, partial(Outcome, c.title, NA, reason)) for c in CHECKS]
    ctx = Context(Subject(factory, kwargs, seed=seed, each_step=each_step), assume)
    return [(c.title, partial(_guarded, c, ctx)) for c in CHECKS]


def check_contracts(
    factory: Callable[..., Any] | None,
    kwargs: Mapping[str, Any] | None = None,
    *,
    assume: Iterable[str] = (),
    seed: int = 0,
    each_step: Callable[[Any, int], Any] | None = None,
    only: Iterable[str] | None = None,
    why_not: str = "",
) -> list[Outcome]:
    """Every contract on ``factory(params, **kwargs)`` (see module doc), in order.

    ``factory`` None (a step function or a built-in optimizer: no torch.optim interface)
    makes each contract ``not applicable`` with ``why_not``. ``only``: the names to run.
    """
    wanted = None if only is None else set(only)
    checks = planned(
        factory, kwargs, assume=assume, seed=seed, each_step=each_step, why_not=why_not
    )
    return [run() for name, run in checks if wanted is None or name in wanted]
