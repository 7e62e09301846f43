"""``check_optimizer``: every invariant on one optimizer, as a report a test can assert on.

from hessian_lab.testing import check_optimizer

def test_my_optimizer():
    check_optimizer(MyOpt, lr=1e-2, assume={"elementwise"}).assert_ok()

The checks run in the order :func:`planned_checks` lists them, each a ``(name, run)`` pair
with ``run() -> Outcome``; that list is the one place a new family of checks joins.
Around them: the optimizer's own output (stdout, stderr, warnings) is captured and
summarised, an exception of the optimizer is reported once as itself (type, message,
step, check) and a second check meeting the same one ends the run instead of repeating
it, and a time limit ends a run that hangs.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import json
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from ..adapters.step_function import StepFunction
from ..adapters.target import adapt, describe, group_options, load_target, validate
from ..adapters.torch_optim import TorchOptimizer
from .invariants import DECAY_NAMES, FAIL, INVARIANTS, NA, PROPERTIES, Kit, Outcome
from .parity import Reference, native_kwargs, parity, rate
from .runs import TimeLimit, watched

__all__ = ["Report", "check_optimizer", "planned_checks"]

#: seconds a whole check of one target may take by default (a hang is a finding)
TIME_LIMIT = 600.0


@dataclass
class Report:
    """The outcome of every invariant; ``verdict`` is ``fail`` when any failed.

    ``output``: a summary of what the optimizer printed or warned (empty if nothing);
    ``stopped``: why the remaining checks were not run (empty if all ran).
    """

    target: str
    kwargs: dict[str, Any]
    invariants: list[Outcome] = field(default_factory=list)
    output: str = ""
    stopped: str = ""

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.invariants if o.status == FAIL]

    @property
    def verdict(self) -> str:
        return "fail" if self.failures or self.stopped else "pass"

    @property
    def ok(self) -> bool:
        return self.verdict == "pass"

    def status(self, name: str) -> str:
        """The status of the invariant called ``name`` (KeyError if there is none)."""
        for outcome in self.invariants:
            if outcome.name == name:
                return outcome.status
        raise KeyError(f"no invariant {name!r}; have: {', '.join(o.name for o in self.invariants)}")

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "kwargs": {k: list(v) if isinstance(v, tuple) else v for k, v in self.kwargs.items()},
            "verdict": self.verdict,
            "invariants": [o.as_dict() for o in self.invariants],
            "output": self.output,
            "stopped": self.stopped,
        }

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2)

    def __str__(self) -> str:
        lines = [f"{self.target} {self.kwargs or ''}: {self.verdict}".replace(" : ", ": ")]
        for o in self.invariants:
            lines.append(f"  {o.status:<15} {o.name}: {o.detail}")
            if o.counterexample:
                lines.append(f"  {'':<15} counterexample: {o.counterexample}")
        if self.stopped:
            lines.append(f"  stopped: {self.stopped}")
        if self.output:
            lines.append(f"  the optimizer's output: {self.output}")
        return "\n".join(lines)

    def assert_ok(self) -> None:
        """Raise AssertionError listing every failed invariant with its counterexample."""
        if not self.ok:
            raise AssertionError(str(self))


def _label(target: Any) -> str:
    if isinstance(target, str):
        return target
    module = getattr(target, "__module__", None)
    name = getattr(target, "__qualname__", None) or type(target).__name__
    return f"{module}:{name}" if module else name


def _options(optimizer, kwargs) -> dict[str, Any]:
    """The effective options: a torch optimizer's (defaults filled in), a step function's
    keyword defaults updated by the kwargs, else the kwargs."""
    if isinstance(optimizer, TorchOptimizer):
        return group_options(optimizer)
    if isinstance(optimizer, StepFunction):
        try:
            params = inspect.signature(optimizer.fn).parameters.values()
        except (TypeError, ValueError):
            params = []
        defaults = {
            p.name: p.default
            for p in params
            if p.default is not inspect.Parameter.empty
            and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        }
        return defaults | dict(kwargs)
    return dict(kwargs)


def _decays(optimizer, kwargs) -> bool:
    options = group_options(optimizer) if isinstance(optimizer, TorchOptimizer) else None
    if options is None:
        options = {f: getattr(optimizer, f, None) for f in DECAY_NAMES} | dict(kwargs)
    return any(isinstance(options.get(k), (int, float)) and options.get(k) for k in DECAY_NAMES)


def _accepted(obj, kwargs: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The kwargs ``obj``'s signature takes, and the names it does not (``**kwargs``: all)."""
    try:
        params = inspect.signature(obj).parameters
    except (TypeError, ValueError):
        return dict(kwargs), []
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return dict(kwargs), []
    taken = {k: v for k, v in kwargs.items() if k in params}
    return taken, [f"{k}={v!r}" for k, v in kwargs.items() if k not in params]


def reference(like: Any, first, kwargs, like_kwargs, seed: int) -> Reference:
    """The optimizer ``--like`` names: a built-in NAME (the target's options mapped onto
    its fields), or any target (``module:Attr``, a class, a function) built with
    ``like_kwargs`` or else the target's own kwargs (those it does not take are left out
    and named if parity fails)."""
    from .. import catalog

    if isinstance(like, str) and ":" not in like:
        cls = catalog.entry(like).load()
        if like_kwargs is not None:
            mapped, unmatched = dict(like_kwargs), []
        else:
            mapped, unmatched = native_kwargs(like, cls, _options(first, kwargs))
        if "seed" in cls.hyperparameter_names():
            mapped["seed"] = seed
        try:
            return Reference(like, cls(**mapped), like, unmatched)
        except (TypeError, ValueError) as error:
            return Reference(like, why=f"{like} does not take these values: {error}")
    label = _label(like)
    obj = load_target(like) if isinstance(like, str) else like
    describe(obj)
    if like_kwargs is not None:
        given, unmatched = dict(like_kwargs), []
    else:
        given, unmatched = _accepted(obj, kwargs)
    made = adapt(obj, given, seed=seed)
    validate(made)
    return Reference(label, made, None, unmatched)


def planned_checks(
    kit: Kit, ref: Reference | None = None, problems: Iterable[str] = (), contracts=()
) -> list[tuple[str, Callable[[], Outcome]]]:
    """Every check of a run, ``(name, run)`` in order: the invariants, convergence on the
    named non-quadratic problems, the torch.optim ``contracts`` (:func:`.contracts.planned`),
    parity and the rate with ``ref``."""
    from .problems import problem_convergence

    checks = [(check.title, partial(check, kit)) for check in INVARIANTS]
    checks += [(f"convergence on {p}", partial(problem_convergence, kit, p)) for p in problems]
    checks += list(contracts)
    if ref is not None:
        checks.append(("parity", partial(parity, kit, ref)))
        checks.append(("rate vs theory", partial(rate, kit, ref)))
    return checks


def _summary(stdout: str, stderr: str, caught: list) -> str:
    """One line on what the optimizer printed or warned: counts and the first of each."""
    parts = []
    for what, text in (("stdout", stdout), ("stderr", stderr)):
        lines = [line for line in text.splitlines() if line.strip()]
        if lines:
            first = " ".join(lines[0].split())[:120]
            parts.append(f"{len(lines)} line(s) on {what} (first: {first!r})")
    if caught:
        kinds = sorted({w.category.__name__ for w in caught})
        first = " ".join(str(caught[0].message).split())[:120]
        parts.append(f"{len(caught)} warning(s) ({', '.join(kinds)}; first: {first!r})")
    return "; ".join(parts)


def run_checks(report: Report, checks, time_limit: float | None) -> Report:
    """Run ``checks`` into ``report`` (see module doc); the optimizer's output captured."""
    out, err = io.StringIO(), io.StringIO()
    seen: dict[str, str] = {}  # an optimizer exception -> the check that reported it
    with (
        warnings.catch_warnings(record=True) as caught,
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
        watched(time_limit),
    ):
        warnings.simplefilter("always")
        for name, run in checks:
            try:
                outcome = run()
            except TimeLimit:
                report.invariants.append(
                    Outcome(
                        name,
                        FAIL,
                        f"still running after the time limit of {time_limit:g} s "
                        "(an endless loop in the optimizer?)",
                    )
                )
                report.stopped = f"the time limit ({time_limit:g} s) ended the check in {name}"
                break
            if outcome.error is not None and outcome.error in seen:
                first = seen[outcome.error]
                report.invariants.append(
                    Outcome(outcome.name, NA, f"the optimizer raised {outcome.error} again")
                )
                report.stopped = (
                    f"the optimizer raises {outcome.error} in {first} and {outcome.name}: "
                    "the remaining checks were not run"
                )
                break
            if outcome.error is not None:
                seen[outcome.error] = outcome.name
            report.invariants.append(outcome)
    report.output = _summary(out.getvalue(), err.getvalue(), caught)
    return report


def check_optimizer(
    target: Any,
    *,
    like: Any = None,
    like_kwargs: dict[str, Any] | None = None,
    assume: Iterable[str] = (),
    examples: int = 12,
    seed: int = 0,
    steps: int = 25,
    budget: int = 3000,
    only: Iterable[str] | None = None,
    problems: Iterable[str] = (),
    each_step: Callable[[Any, int], Any] | None = None,
    time_limit: float | None = TIME_LIMIT,
    **kwargs: Any,
) -> Report:
    """Run every invariant on ``target`` built with ``kwargs``; see :mod:`.invariants`.

    Args:
        target: a ``torch.optim.Optimizer`` subclass, a ``params -> Optimizer`` callable (a
            factory ``make``), a ``step(x, g, state)`` function, a built-in optimizer
            (class or instance), or the text ``module:Attr`` / ``file.py:Attr``.
        like: the reference for parity: a built-in optimizer's name (the target's options
            mapped onto it; for linear methods also the measured rate against the
            predicted one) or any target as above (e.g. ``"torch.optim:Adam"``).
        like_kwargs: the reference's hyperparameters (default: the target's ``kwargs``).
        assume: declared properties, any of :data:`~.invariants.PROPERTIES` (see
            :data:`~.invariants.DECLARATIONS` for the design choices).
        examples: drawn examples per invariant (fewer for the long-run ones).
        seed: seeds hypothesis and the optimizer's random stream.
        steps: the length of the compared runs; budget: the most steps of the long runs.
        only: names of the checks to run (all when None), e.g. in a focused test.
        problems: non-quadratic problems to converge on (``rosenbrock``, ``beale``).
        each_step: ``function(optimizer, step)`` called before every step of every torch
            optimizer instance (SophiaG's ``update_hessian``, schedule-free's ``train``).
        time_limit: seconds for the whole check (None: none); past it the check in
            progress fails and the rest are not run.
        kwargs: the optimizer's hyperparameters.

    Raises ValueError (a one-line message) for an unusable target, kwargs, ``like``,
    ``assume``, ``only`` or ``problems``.
    """
    from .problems import PROBLEMS

    assume = frozenset(assume)
    unknown = sorted(assume - set(PROPERTIES))
    if unknown:
        raise ValueError(
            f"assume: unknown property {unknown[0]!r}; allowed: {', '.join(PROPERTIES)}"
        )
    problems = tuple(problems)
    for p in problems:
        if p not in PROBLEMS:
            raise ValueError(f"problems: unknown problem {p!r}; allowed: {', '.join(PROBLEMS)}")
    if isinstance(like, str) and ":" not in like:
        from .. import catalog

        catalog.entry(like)  # ValueError naming the allowed optimizers
    if isinstance(examples, bool) or int(examples) != examples or examples < 1:
        raise ValueError(f"examples must be an integer >= 1; got {examples!r}")
    if isinstance(seed, bool) or int(seed) != seed or not 0 <= seed < 2**32:
        raise ValueError(f"seed must be an integer in [0, 2**32); got {seed!r}")
    if time_limit is not None and not time_limit > 0:
        raise ValueError(f"time_limit must be > 0 seconds or None; got {time_limit!r}")
    if each_step is not None and not callable(each_step):
        raise ValueError(
            f"each_step must be callable as function(optimizer, step); got {each_step!r}"
        )
    lists = sorted(k for k, v in kwargs.items() if isinstance(v, list))
    if lists:
        raise ValueError(
            f"--kwargs {lists[0]}: one value per hyperparameter (a list makes a sweep); "
            "a tuple is one value, e.g. betas=(0.9,0.999)"
        )
    # the target may print while it is imported or built (a banner): captured as in the
    # checks, so that --json stays one document
    early_out, early_err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(early_out), contextlib.redirect_stderr(early_err):
        label = _label(target)
        obj = load_target(target) if isinstance(target, str) else target
        describe(obj)
        first = adapt(obj, kwargs, seed=seed, each_step=each_step)
        validate(first)
        graph: list[bool] = []  # decided on the first build, inside the time limit

        def make(layout="separate", seed=seed, shape=None):
            if not graph:
                graph.append(needs_graph(obj, kwargs, seed, each_step))
            return adapt(
                obj,
                kwargs,
                layout=layout,
                seed=seed,
                create_graph=graph[0],
                each_step=each_step,
                shape=shape,
            )

        lr = kwargs.get("lr", _options(first, kwargs).get("lr"))
        kit = Kit(
            make,
            decay=_decays(first, kwargs),
            assume=assume,
            examples=examples,
            seed=seed,
            steps=steps,
            budget=budget,
            lr=lr if isinstance(lr, (int, float)) and not isinstance(lr, bool) else None,
        )
        ref = None if like is None else reference(like, first, kwargs, like_kwargs, seed)
        contracts = _contracts(obj, kwargs, assume, seed, each_step)
        checks = planned_checks(kit, ref, problems, contracts)
        if only is not None:
            wanted = list(only) if not isinstance(only, str) else [only]
            names = [name for name, _ in checks]
            for name in wanted:
                if name not in names:
                    raise ValueError(f"only: no check {name!r}; allowed: {', '.join(names)}")
            checks = [(name, run) for name, run in checks if name in wanted]
    report = run_checks(Report(label, dict(kwargs)), checks, time_limit)
    early = _summary(early_out.getvalue(), early_err.getvalue(), [])
    if early:
        report.output = "; ".join(filter(None, (f"while built: {early}", report.output)))
    return report


def _contracts(obj, kwargs, assume, seed: int, each_step):
    """The torch.optim contracts of a torch target; not applicable (why) for the others."""
    from .contracts import planned

    kind = describe(obj)
    if kind in ("torch", "factory"):
        return planned(obj, kwargs, assume=assume, seed=seed, each_step=each_step)
    why = {
        "step": "a step(x, g, state) function has no torch.optim interface",
        "native": "a built-in optimizer has no torch.optim interface",
    }[kind]
    return planned(None, why_not=why)


def needs_graph(obj, kwargs, seed: int, each_step=None) -> bool:
    """Does the optimizer need differentiable gradients (a Hessian-vector product)?

    Five steps on a small rotated quadratic with plain gradients (the problem's formula,
    no autograd graph: several times cheaper) and with a graph: plain suffices when it
    runs and gives the same iterates (to 1e-12 relative). Only torch optimizers ask.
    """
    import numpy as np

    from .runs import TargetRaised, trajectory
    from .strategies import Case

    if describe(obj) not in ("torch", "factory"):
        return True
    case = Case(np.array([0.5, 1.0, 2.0]), np.array([0.3, -0.2, 0.1]), np.ones((1, 3)), 3)
    runs = []
    for graph in (True, False):
        opt = adapt(obj, kwargs, seed=seed, create_graph=graph, each_step=each_step)
        try:
            with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
                warnings.simplefilter("ignore")
                runs.append(trajectory(opt, case.problem(), case.x0, 5))
        except TargetRaised:
            return True
    with np.errstate(all="ignore"):
        same = np.abs(runs[0] - runs[1]) <= 1e-12 * (1 + np.abs(runs[0]))
    return not bool(np.all(same))
