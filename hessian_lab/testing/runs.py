"""The machinery under every invariant: fixed-length runs, calibrated comparison, search.

Two runs that should agree (a problem and its permuted copy, say) differ by rounding, and
rounding differences grow or shrink along the run as the method's own sensitivity does.
So a comparison is calibrated on the method itself: the allowed difference at step t is

    tol_t = 64 eps scale (t + 1)  +  8 |x_t(x0) - x_t(x0 + delta)|_inf,

``delta`` a nudge of ``1024 eps scale`` in every coordinate (random signs): the measured
response of the method to a perturbation far larger than the transformation's rounding
(a few eps per operation), never to a real difference (a bug moves iterates by a fraction
of a step). ``scale`` is the size of the numbers involved (``1 + max|c| + max|x0|``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from hypothesis import HealthCheck, Phase, given, reject, settings
from hypothesis import seed as hypothesis_seed
from hypothesis.errors import Unsatisfiable

from ..backend import Backend
from ..optimizers.base import Oracle

EPS = float(np.finfo(np.float64).eps)
NUDGE = 1024 * EPS
#: a trajectory this far out (times the scale) has left any region worth comparing
FAR = 1e8

__all__ = ["trajectory", "compare", "Inconclusive", "explore", "Found", "EPS"]


class Inconclusive(Exception):
    """The drawn example cannot decide the invariant (hypothesis draws another)."""


def trajectory(optimizer, problem, X0, steps: int, dtype: str = "float64") -> np.ndarray:
    """Iterates ``(steps + 1, B, d)`` from ``X0`` ``(B, d)``: the optimizer's own loop.

    Not the engine: no criterion stops a row (a row landing exactly on the minimizer
    stays in the comparison).
    """
    backend = Backend("numpy", dtype)
    X = backend.asarray(np.array(X0, dtype=np.float64).reshape(-1, problem.dim))
    hp = optimizer.hyperparameters(X.shape[0], backend)
    state = optimizer.init(X, hp)
    oracle = Oracle(problem)
    out = np.empty((steps + 1, *X.shape))
    out[0] = X
    with np.errstate(all="ignore"):
        for t in range(steps):
            oracle.remember(None, None)
            X, state = optimizer.step(X, state, hp, oracle)
            out[t + 1] = np.asarray(X, dtype=np.float64)
    return out


def nudged(X0: np.ndarray, scale: float, seed: int = 0) -> np.ndarray:
    """``X0 + NUDGE * scale * s`` with random signs ``s`` (see module doc)."""
    signs = np.random.default_rng(seed).choice([-1.0, 1.0], size=np.shape(X0))
    return np.asarray(X0) + NUDGE * scale * signs


def sensitivity(run: Callable[[np.ndarray], np.ndarray], X0, scale, reference=None):
    """``|x_t(x0) - x_t(x0 + delta)|_inf`` per step ``(T + 1,)`` (see module doc)."""
    base = run(X0) if reference is None else reference
    other = run(nudged(X0, scale))
    return _sup(base - other)


def _sup(diff: np.ndarray) -> np.ndarray:
    return np.max(np.abs(diff).reshape(diff.shape[0], -1), axis=1)


def compare(
    expected, got, scale: float, sens=None, floor: float = 64.0, atol: float = 0.0, what: str = "x"
):
    """None if ``got`` matches ``expected`` ``(T + 1, ...)`` within ``tol_t``; else why not.

    Steps after either run stops being finite or leaves ``FAR * scale`` are not compared
    (:class:`Inconclusive` if that leaves fewer than two steps). ``atol``: the least
    difference ever allowed.
    """
    expected, got = np.asarray(expected), np.asarray(got)
    T = expected.shape[0]
    ok = np.isfinite(expected).reshape(T, -1).all(axis=1)
    ok &= _sup(expected) < FAR * scale
    usable = int(np.argmin(ok)) if not ok.all() else T
    if usable < 2:
        raise Inconclusive("the run leaves the region worth comparing at once")
    t = np.arange(usable)
    tol = floor * EPS * scale * (t + 1)
    if sens is not None:
        tol = tol + 8 * np.nan_to_num(sens[:usable], nan=np.inf)
    tol = np.maximum(tol, atol)
    err = _sup(expected[:usable] - got[:usable])
    bad = ~(err <= tol)
    if not bad.any():
        return None
    k = int(np.argmax(bad))
    return (
        f"{what}_{k} differs by {err[k]:.3g} (allowed {tol[k]:.3g}: rounding, "
        f"calibrated on the method's response to a {NUDGE * scale:.1e} nudge of the start)"
    )


#: the most runs of the body while shrinking a failure (the counterexample found so far
#: is reported when the budget ends: small already, if not the smallest)
SHRINK_CALLS = 40
#: and the most seconds spent shrinking (long convergence runs make each call slow)
SHRINK_SECONDS = 20.0


class _ShrinkBudget(BaseException):
    """Ends hypothesis's shrinking early (a BaseException: hypothesis does not catch it)."""


class Found(Exception):
    """An example violates the invariant: ``case`` and ``message``."""

    def __init__(self, case, message: str) -> None:
        super().__init__(message)
        self.case, self.message = case, message


@dataclass
class Search:
    """What a search found: ``failure`` (a :class:`Found`, shrunk) and ``valid`` examples."""

    failure: Found | None
    valid: int


def explore(strategy, body: Callable, examples: int, seed: int) -> Search:
    """Run ``body(case)`` on ``examples`` drawn cases; on a failure, shrink to a minimal one.

    ``body`` returns None when the invariant holds, a one-line message when it does not,
    and raises :class:`Inconclusive` when the case cannot decide it. An exception from the
    optimizer counts as a failure. Hypothesis reruns the shrunk case last, so the last
    failure recorded is the minimal counterexample.
    """
    state = {"valid": 0, "last": None, "after": 0, "since": 0.0}

    def test(case):
        if state["last"] is not None:
            state["after"] += 1
            late = time.perf_counter() - state["since"] > SHRINK_SECONDS
            if state["after"] > SHRINK_CALLS or late:
                raise _ShrinkBudget
        try:
            message = body(case)
        except Inconclusive:
            reject()
        except Exception as error:  # the optimizer under test may raise anything
            message = f"raised {type(error).__name__}: {error}"
        if message is None:
            state["valid"] += 1
            return
        if state["last"] is None:
            state["since"] = time.perf_counter()
        state["last"] = Found(case, " ".join(str(message).split()))
        raise state["last"]

    run = settings(
        max_examples=examples,
        database=None,
        deadline=None,
        derandomize=False,
        phases=(Phase.generate, Phase.shrink),
        suppress_health_check=list(HealthCheck),
        print_blob=False,
        report_multiple_bugs=False,
    )(hypothesis_seed(seed)(given(strategy)(test)))
    try:
        run()
    except (Found, _ShrinkBudget):
        return Search(state["last"], state["valid"])
    except Unsatisfiable:
        return Search(None, 0)
    return Search(None, state["valid"])
