"""``--like NAME``: the optimizer against the sandbox's own NAME at the same hyperparameters.

The target's effective options (a torch optimizer's ``param_groups[0]``, its defaults
filled in) are mapped onto NAME's fields: names torch.optim spells differently are renamed
(``momentum`` -> ``beta`` for the heavy ball and Nesterov), options the sandbox has no
field for must sit at their neutral value (``maximize=False``, ``dampening=0``, ...), and
any other option makes the parity check not applicable (it names the option). Fields the
target does not have keep NAME's defaults.

Parity: the iterates agree to ``1e-10 * scale`` (or the calibrated rounding tolerance, if
larger) for 25 steps. torch's SGD(nesterov=True) runs on the look-ahead sequence, so for
``nesterov`` the sandbox's ``y_t = x_t + beta (x_t - x_{t-1})`` is compared.
For the linear methods the measured distance to the minimizer, step by step, must match
:func:`hessian_lab.theory.predicted_path` to 1e-6 relative, and the detail gives the
measured and predicted rates.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .invariants import NA, PASS, Kit, Outcome
from .runs import Inconclusive, compare
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

__all__ = ["native_kwargs", "parity", "rate"]


def native_kwargs(name: str, cls, options: Mapping[str, Any]) -> dict[str, Any] | str:
    """NAME's keyword arguments from the target's options, or why there are none."""
    fields = set(cls.hyperparameter_names())
    renames = RENAMES.get(name, {})
    required = REQUIRED.get(name, {})
    out: dict[str, Any] = {}
    for key, value in options.items():
        field = renames.get(key, key)
        if field in fields and key not in required:
            out[field] = list(value) if isinstance(value, list) else value
        elif key in required:
            if value != required[key]:
                return f"{key}={value!r} has no counterpart in {name} (needs {required[key]!r})"
        elif key in NEUTRAL:
            if value != NEUTRAL[key]:
                return f"{key}={value!r} has no counterpart in {name}"
        elif key not in ANY_VALUE:
            return f"option {key}={value!r} has no counterpart in {name}"
    return out


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


def parity(kit: Kit, name: str, native) -> Outcome:
    """The iterates against NAME's (``native``: the built-in optimizer, or why none)."""
    label = f"parity with {name}"
    if isinstance(native, str):
        return Outcome(label, NA, native)
    blocked, rotated, why = kit.aligned_gate(label)
    if blocked:
        return blocked

    def body(case):
        reference, sens = kit.calibrated(case)
        from .runs import trajectory

        theirs = trajectory(native, case.problem(), case.x0, kit.steps)
        if name == "nesterov":
            theirs = _look_ahead(theirs, float(native.beta))
        return compare(theirs, reference, case.scale, sens, atol=1e-10 * case.scale)

    out = kit.search(label, cases(rotated=rotated), body, held=why)
    if out.status == PASS:
        return Outcome(label, PASS, f"iterates agree to 1e-10 relative: {out.detail}")
    return out


def rate(kit: Kit, name: str, native) -> Outcome:
    """Linear methods: the measured distance path against the closed-form prediction."""
    from ..theory import LINEAR_METHODS, predict, predicted_path

    label = "rate vs theory"
    if name not in LINEAR_METHODS:
        return Outcome(label, NA, f"{name} is not a linear method: no closed-form rate")
    if isinstance(native, str):
        return Outcome(label, NA, native)
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
