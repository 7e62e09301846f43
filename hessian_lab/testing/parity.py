"""``--like``: the optimizer against a reference at the same hyperparameters.

The reference is a built-in NAME or any target (``torch.optim:Adam``, ``pkg:Class``, a
function; see :func:`hessian_lab.testing.report.reference`). For a built-in NAME the
target's effective options (a torch optimizer's ``param_groups[0]``, its defaults filled
in; a step function's keyword defaults) are mapped onto NAME's fields: names torch.optim
spells differently are renamed (``momentum`` -> ``beta`` for the heavy ball and Nesterov),
and options NAME has no field for are left out. An option without a counterpart does not
block the comparison (``weight_decouple`` without weight decay changes nothing): it is
named only if parity fails. Fields the target does not have keep NAME's defaults.

Parity: the iterates agree to ``1e-10 * scale`` (or the calibrated rounding tolerance, if
larger) for 25 steps; a failure shows expected vs got at the first differing step.
torch's SGD(nesterov=True) runs on the look-ahead sequence, so for ``nesterov`` the
sandbox's ``y_t = x_t + beta (x_t - x_{t-1})`` is compared. For the linear methods the
measured distance to the minimizer, step by step, must match
:func:`hessian_lab.theory.predicted_path` to 1e-6 relative, and the detail gives the
measured and predicted rates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .invariants import FAIL, NA, PASS, Kit, Outcome
from .runs import Inconclusive, trajectory
from .strategies import cases

RENAMES: dict[str, dict[str, str]] = {
    "momentum": {"momentum": "beta"},
    "nesterov": {"momentum": "beta"},
}
#: options without a counterpart that must hold this value for NAME
REQUIRED: dict[str, dict[str, Any]] = {
    "gd": {"momentum": 0, "dampening": 0, "nesterov": False},
    "momentum": {"dampening": 0, "nesterov": False},
    "nesterov": {"dampening": 0, "nesterov": True},
}
NEUTRAL: dict[str, Any] = {"maximize": False, "differentiable": False, "capturable": False}
#: implementation switches that do not change the values
ANY_VALUE = ("foreach", "fused")

__all__ = ["Reference", "native_kwargs", "parity", "rate", "first_difference"]


def native_kwargs(name: str, cls, options: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """NAME's keyword arguments from the target's options, and the options without a
    counterpart (``key=value (why)``): named only if parity fails."""
    fields = set(cls.hyperparameter_names())
    renames = RENAMES.get(name, {})
    required = REQUIRED.get(name, {})
    out: dict[str, Any] = {}
    unmatched: list[str] = []
    for key, value in options.items():
        field = renames.get(key, key)
        if field in fields and key not in required:
            out[field] = list(value) if isinstance(value, list) else value
        elif key in required:
            if value != required[key]:
                unmatched.append(f"{key}={value!r} (needs {required[key]!r})")
        elif key in NEUTRAL:
            if value != NEUTRAL[key]:
                unmatched.append(f"{key}={value!r}")
        elif key not in ANY_VALUE:
            unmatched.append(f"{key}={value!r}")
    return out, unmatched


@dataclass
class Reference:
    """What ``--like`` compares with: ``optimizer`` (an engine optimizer; None with
    ``why``), its label, the built-in NAME (for the look-ahead and the closed-form rate;
    None for any other target) and the target's options without a counterpart."""

    label: str
    optimizer: Any = None
    builtin: str | None = None
    unmatched: list[str] = field(default_factory=list)
    why: str = ""


def _look_ahead(xs: np.ndarray, beta: float) -> np.ndarray:
    """Nesterov's ``y_t = x_t + beta (x_t - x_{t-1})`` with ``x_{-1} = x_0``."""
    previous = np.concatenate([xs[:1], xs[:-1]])
    return xs + beta * (xs - previous)


def _behind(ys: np.ndarray, beta: float) -> np.ndarray:
    """The inverse of :func:`_look_ahead`: ``x_t = (y_t + beta x_{t-1}) / (1 + beta)``."""
    xs = np.empty_like(ys)
    xs[0] = ys[0]
    for t in range(1, ys.shape[0]):
        xs[t] = (ys[t] + beta * xs[t - 1]) / (1 + beta)
    return xs


def first_difference(expected, got, scale: float, tol: float = 1e-10) -> str:
    """``expected`` vs ``got`` ``(T + 1, B, d)`` at the first step they differ by more than
    ``tol * scale``: "at step t: expected [...], got [...]"."""
    err = np.abs(np.asarray(expected) - np.asarray(got)).reshape(len(expected), -1).max(axis=1)
    bad = ~(err <= tol * scale)
    t = int(np.argmax(bad)) if bad.any() else len(err) - 1

    def row(x):
        return "[" + ", ".join(f"{v:.10g}" for v in np.ravel(x[t])[:6]) + "]"

    return f"at step {t}: expected {row(expected)}, got {row(got)}"


def parity(kit: Kit, ref: Reference) -> Outcome:
    """The iterates against the reference's (see :class:`Reference`), to 1e-10 relative."""
    label = f"parity with {ref.label}"
    if ref.optimizer is None:
        return Outcome(label, NA, ref.why)
    blocked, rotated, why = kit.aligned_gate(label)
    if blocked:
        return blocked
    native = ref.optimizer

    def body(case):
        problem = case.problem()
        reference = kit.run(problem, case.x0)
        theirs = trajectory(native, problem, case.x0, kit.steps)
        if ref.builtin == "nesterov":
            theirs = _look_ahead(theirs, float(native.beta))
        side = kit.side(problem, case.x0, case.scale, reference)
        message = kit.agree(theirs, reference, case.scale, [side], atol=1e-10 * case.scale)
        if message is None:
            return None
        return f"{message}; {first_difference(theirs, reference, case.scale)}"

    out = kit.search(label, kit.cases(rotated=rotated), body, held=why)
    if out.status == PASS:
        return Outcome(label, PASS, f"iterates agree to 1e-10 relative: {out.detail}")
    if out.status == FAIL and ref.unmatched and out.error is None:
        unmatched = ", ".join(ref.unmatched)
        return replace(out, detail=f"{out.detail} (options without a counterpart: {unmatched})")
    return out


def rate(kit: Kit, ref: Reference) -> Outcome:
    """Linear methods: the measured distance path against the closed-form prediction."""
    from ..theory import LINEAR_METHODS, predict, predicted_path

    label = "rate vs theory"
    name, native = ref.builtin, ref.optimizer
    if name not in LINEAR_METHODS:
        return Outcome(label, NA, f"{ref.label} is not a linear method: no closed-form rate")
    if native is None:
        return Outcome(label, NA, ref.why)
    if ref.unmatched:
        unmatched = ", ".join(ref.unmatched)
        return Outcome(label, NA, f"options without a counterpart in {name}: {unmatched}")
    if kit.decay:
        return Outcome(label, NA, "the closed-form rates assume no weight decay")
    skip = kit.needs_determinism(label)
    if skip:
        return skip
    steps = 3 * kit.steps
    seen: dict[str, float] = {}

    def body(case):
        problem = case.problem()
        xs = kit.run(problem, case.x0, steps=steps)[:, 0]
        if name == "nesterov":
            xs = _behind(xs, float(native.beta))
        measured = np.linalg.norm(xs - case.center, axis=1)
        predicted = predicted_path(problem, native, case.x0, "distance", np.arange(steps + 1))[:, 0]
        usable = predicted > 1e-8 * case.scale
        if usable.sum() < 3 or not np.all(np.isfinite(predicted[usable])):
            raise Inconclusive("converged or diverged at once")
        error = np.abs(measured[usable] - predicted[usable]) / predicted[usable]
        T = int(np.flatnonzero(usable)[-1])
        seen["measured"] = (measured[T] / measured[0]) ** (1 / max(T, 1))
        seen["predicted"] = (predicted[T] / predicted[0]) ** (1 / max(T, 1))
        seen["radius"] = float(predict(problem, native, case.x0[0]).rate[0])
        if np.all(error <= 1e-6):
            return None
        t = int(np.flatnonzero(usable)[np.argmax(error > 1e-6)])
        return (
            f"distance at step {t}: measured {measured[t]:.6g}, predicted {predicted[t]:.6g} "
            f"(mean rate {seen['measured']:.6g} vs {seen['predicted']:.6g})"
        )

    out = kit.search(label, cases(rotated=True), body)
    if out.status == PASS and seen:
        detail = (
            f"distance path matches the prediction to 1e-6 relative ({out.detail}); last: mean "
            f"rate {seen['measured']:.4g} measured, {seen['predicted']:.4g} predicted, "
            f"spectral radius {seen['radius']:.4g}"
        )
        return Outcome(label, PASS, detail)
    return out
