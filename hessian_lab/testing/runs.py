"""The machinery under every invariant: fixed-length runs, calibrated comparison, search.

Two runs that should agree (a problem and its permuted copy, say) differ by rounding, and
rounding differences grow or shrink along the run as the method's own sensitivity does.
So a comparison is calibrated on the method itself: the allowed difference at step t is

    tol_t = 64 eps scale (t + 1)  +  8 max_runs |x_t - x~_t|_inf,

``x~`` the same run with its start nudged by ``delta`` and its first iterate kicked by
``delta'``, both of ``1024 eps scale`` to ``1.3 x`` that in every coordinate (random signs,
sizes off the float grid), and the maximum over both runs compared (the problem and its
permuted, translated, mirrored... copy). That is the measured response of the method to a
perturbation far larger than the transformation's rounding (a few eps per operation),
never to a real difference (a bug moves iterates by a fraction of a step). The kick
matters for methods that remember where they started (Prodigy's ``<g, x0 - x>``): a nudge
of the start moves ``x0`` and ``x`` together and never shows how rounding of ``x`` alone,
amplified step after step, moves the run. The calibration runs only when a comparison
exceeds the floor (64 eps scale (t + 1)). ``scale`` is the size of the numbers involved
(``1 + max|c| + max|x0|``).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable
from contextlib import contextmanager
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

__all__ = [
    "trajectory",
    "compare",
    "Inconclusive",
    "NotApplicable",
    "TargetRaised",
    "explore",
    "Found",
    "EPS",
]


class Inconclusive(Exception):
    """The drawn example cannot decide the invariant (hypothesis draws another)."""


class NotApplicable(Exception):
    """No example can decide the invariant (the search stops at once; ``str`` says why)."""


class TargetRaised(Exception):
    """The optimizer under test raised ``error`` (or called ``sys.exit``) at ``step``."""

    def __init__(self, error: BaseException, step: int | None) -> None:
        super().__init__(f"{type(error).__name__}: {error}")
        self.error, self.step = error, step

    @property
    def kind(self) -> str:
        """``Type: message``, the message cut to one line of at most 200 characters."""
        text = " ".join(str(self.error).split())
        if isinstance(self.error, SystemExit):
            text = f"sys.exit({self.error.code!r}) inside the optimizer"
        return f"{type(self.error).__name__}: {text[:200]}"

    def describe(self) -> str:
        where = "during a run" if self.step is None else f"at step {self.step} of a run"
        return f"the optimizer raised {self.kind} ({where})"


#: set by :func:`interruptible`'s handler: a Ctrl-C the optimizer swallowed still stops
#: the check at the next step
_interrupted = {"flag": False}


class TimeLimit(BaseException):
    """The check of one target ran past its time limit (a BaseException: it unwinds
    through the optimizer's and hypothesis's ``except Exception``)."""


@contextmanager
def watched(seconds: float | None):
    """Run the block under a time limit (:class:`TimeLimit` when it passes) and make
    Ctrl-C stick: an interrupt the optimizer swallows stops the check at its next step,
    and a second one, while the optimizer still runs, ends the process (exit 130).

    Signals are only installed in the main thread (elsewhere the block runs unwatched).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_alarm(signum, frame):
        raise TimeLimit

    def on_interrupt(signum, frame):
        if _interrupted["flag"]:  # a second Ctrl-C: the optimizer swallowed the first
            sys.stderr.write("Interrupted.\n")
            os._exit(130)
        _interrupted["flag"] = True
        raise KeyboardInterrupt

    previous_int = signal.signal(signal.SIGINT, on_interrupt)
    previous_alarm = None
    if seconds is not None:
        previous_alarm = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, float(seconds))
    try:
        yield
    finally:
        if seconds is not None:
            signal.setitimer(signal.ITIMER_REAL, 0.0)
            signal.signal(signal.SIGALRM, previous_alarm)
        signal.signal(signal.SIGINT, previous_int)
        _interrupted["flag"] = False


def _guard(call, step: int):
    """``call()``; an exception of the optimizer (or its ``sys.exit``) -> TargetRaised."""
    try:
        return call()
    except (Exception, SystemExit) as error:
        if _interrupted["flag"]:
            raise KeyboardInterrupt from None
        raise TargetRaised(error, step) from error
    finally:
        if _interrupted["flag"]:
            raise KeyboardInterrupt


def trajectory(optimizer, problem, X0, steps: int, dtype: str = "float64", kick=None) -> np.ndarray:
    """Iterates ``(steps + 1, B, d)`` from ``X0`` ``(B, d)``: the optimizer's own loop.

    Not the engine: no criterion stops a row (a row landing exactly on the minimizer
    stays in the comparison). An exception of the optimizer is raised as
    :class:`TargetRaised` with the step it happened at. ``kick`` ``(B, d)``: added to the
    first iterate before the second step (the optimizer's state untouched).
    """
    backend = Backend("numpy", dtype)
    X = backend.asarray(np.array(X0, dtype=np.float64).reshape(-1, problem.dim))
    hp = optimizer.hyperparameters(X.shape[0], backend)
    state = _guard(lambda: optimizer.init(X, hp), 0)
    oracle = Oracle(problem)
    out = np.empty((steps + 1, *X.shape))
    out[0] = X
    with np.errstate(all="ignore"):
        for t in range(steps):
            oracle.remember(None, None)
            X, state = _guard(lambda X=X, state=state: optimizer.step(X, state, hp, oracle), t)
            if t == 0 and kick is not None:
                X = backend.asarray(np.asarray(X, dtype=np.float64) + kick)
            out[t + 1] = np.asarray(X, dtype=np.float64)
    return out


def nudged(X0: np.ndarray, scale: float, seed: int = 0) -> np.ndarray:
    """``X0 + NUDGE * scale * s`` with random signs ``s`` (see module doc)."""
    rng = np.random.default_rng(seed)
    signs = rng.choice([-1.0, 1.0], size=np.shape(X0))
    # sizes off the float grid: a nudge of a whole number of ulps would round every
    # later operation exactly as the unnudged run does, and so never show rounding
    sizes = 1.0 + rng.uniform(0.0, 1.0, size=np.shape(X0)) / np.pi
    return np.asarray(X0) + NUDGE * scale * signs * sizes


def sensitivity(run: Callable[..., np.ndarray], X0, scale, reference=None):
    """``|x_t - x~_t|_inf`` per step ``(T + 1,)``: ``run(X0, kick=K)`` perturbed as the
    module doc says (``kick`` added to the first iterate)."""
    base = run(X0) if reference is None else reference
    kick = nudged(np.zeros(np.shape(X0)), scale, seed=1)
    other = run(nudged(X0, scale), kick=kick)
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
        f"calibrated on the method's response to a {NUDGE * scale:.1e} nudge)"
    )


#: the most runs of the body while shrinking a failure (the counterexample found so far
#: is reported when the budget ends: small already, if not the smallest). A count, not a
#: time: the same seed gives the same report on any machine.
SHRINK_CALLS = 40


class _ShrinkBudget(BaseException):
    """Ends hypothesis's shrinking early (a BaseException: hypothesis does not catch it)."""


class _Stop(BaseException):
    """Ends the search at once: :class:`NotApplicable` raised by the body."""


class Found(Exception):
    """An example violates the invariant: ``case``, ``message`` and the optimizer's
    exception if that was the violation (``raised``, a :class:`TargetRaised`)."""

    def __init__(self, case, message: str, raised: TargetRaised | None = None) -> None:
        super().__init__(message)
        self.case, self.message, self.raised = case, message, raised


@dataclass
class Search:
    """What a search found: ``failure`` (a :class:`Found`, shrunk), ``valid`` examples and
    ``why_not``: the reason no example could decide it (:class:`NotApplicable`)."""

    failure: Found | None
    valid: int
    why_not: str = ""


@contextmanager
def _draws_independent_of_loaded_modules():
    """Hypothesis mixes into its draws the literals of every non-library module loaded in
    the process (its "local constants"), so the same seed drew other examples once a
    caller had imported one more module of its own (a report that changed with the test
    order). For the duration of a search they are left out, and the cache that keeps them
    per choice type is a fresh one; without those internals (another hypothesis), nothing
    changes."""
    try:
        from hypothesis.internal.cache import LRUCache
        from hypothesis.internal.conjecture import providers

        local = providers._local_constants
        empty = type(local)(
            integers=type(local.integers)(),
            floats=type(local.floats)(key=local.floats.key),
            bytes=type(local.bytes)(),
            strings=type(local.strings)(),
        )
        saved = providers._get_local_constants, providers.CONSTANTS_CACHE
    except (ImportError, AttributeError, TypeError):
        yield
        return
    providers._get_local_constants = lambda: empty
    providers.CONSTANTS_CACHE = LRUCache(1024)
    try:
        yield
    finally:
        providers._get_local_constants, providers.CONSTANTS_CACHE = saved


def explore(strategy, body: Callable, examples: int, seed: int, shrink: int = SHRINK_CALLS):
    """Run ``body(case)`` on ``examples`` drawn cases; on a failure, shrink to a minimal one.

    ``body`` returns None when the invariant holds, a one-line message when it does not,
    raises :class:`Inconclusive` when the case cannot decide it (another is drawn) and
    :class:`NotApplicable` when no case can (the search ends). An exception of the
    optimizer (:class:`TargetRaised`) counts as a failure. Hypothesis reruns the shrunk
    case last, so the last failure recorded is the minimal counterexample; shrinking ends
    after ``shrink`` runs of the body.
    """
    state = {"valid": 0, "last": None, "after": 0, "why_not": ""}

    def test(case):
        if state["last"] is not None:
            state["after"] += 1
            if state["after"] > shrink:
                raise _ShrinkBudget
        raised = None
        try:
            message = body(case)
        except Inconclusive:
            reject()
        except NotApplicable as why:
            state["why_not"] = str(why)
            raise _Stop from None
        except TargetRaised as error:
            raised, message = error, error.describe()
        except Exception as error:  # raised outside a guarded call (the engine's run)
            raised = TargetRaised(error, None)
            message = raised.describe()
        if message is None:
            state["valid"] += 1
            return
        state["last"] = Found(case, " ".join(str(message).split()), raised)
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
        with _draws_independent_of_loaded_modules():
            run()
    except (Found, _ShrinkBudget):
        return Search(state["last"], state["valid"])
    except _Stop:
        return Search(state["last"], state["valid"], state["why_not"] or "not applicable")
    except Unsatisfiable:
        return Search(None, 0)
    return Search(None, state["valid"])
