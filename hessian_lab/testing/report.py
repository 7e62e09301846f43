"""``check_optimizer``: every invariant on one optimizer, as a report a test can assert on.

from hessian_lab.testing import check_optimizer

def test_my_optimizer():
    check_optimizer(MyOpt, lr=1e-2, assume={"elementwise"}).assert_ok()
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..adapters.target import adapt, describe, group_options, load_target, validate
from ..adapters.torch_optim import TorchOptimizer
from .invariants import DECAY_NAMES, FAIL, INVARIANTS, PROPERTIES, Kit, Outcome
from .parity import native_kwargs, parity, rate

__all__ = ["Report", "check_optimizer"]


@dataclass
class Report:
    """The outcome of every invariant; ``verdict`` is ``fail`` when any failed."""

    target: str
    kwargs: dict[str, Any]
    invariants: list[Outcome] = field(default_factory=list)

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.invariants if o.status == FAIL]

    @property
    def verdict(self) -> str:
        return "fail" if self.failures else "pass"

    @property
    def ok(self) -> bool:
        return not self.failures

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
        }

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2)

    def __str__(self) -> str:
        lines = [f"{self.target} {self.kwargs or ''}: {self.verdict}".replace(" : ", ": ")]
        for o in self.invariants:
            lines.append(f"  {o.status:<15} {o.name}: {o.detail}")
            if o.counterexample:
                lines.append(f"  {'':<15} counterexample: {o.counterexample}")
        return "\n".join(lines)

    def assert_ok(self) -> None:
        """Raise AssertionError listing every failed invariant with its counterexample."""
        if self.failures:
            raise AssertionError(str(self))


def _label(target: Any) -> str:
    if isinstance(target, str):
        return target
    module = getattr(target, "__module__", None)
    name = getattr(target, "__qualname__", None) or type(target).__name__
    return f"{module}:{name}" if module else name


def _decays(optimizer, kwargs) -> bool:
    options = group_options(optimizer) if isinstance(optimizer, TorchOptimizer) else None
    if options is None:
        options = {f: getattr(optimizer, f, None) for f in DECAY_NAMES} | dict(kwargs)
    return any(isinstance(options.get(k), (int, float)) and options.get(k) for k in DECAY_NAMES)


def _native(like: str, optimizer, kwargs, seed: int):
    """The built-in optimizer NAME at the target's hyperparameters, or why there is none."""
    from .. import catalog

    cls = catalog.entry(like).load()
    options = group_options(optimizer) if isinstance(optimizer, TorchOptimizer) else None
    if options is None:
        options = dict(kwargs)
    mapped = native_kwargs(like, cls, options)
    if isinstance(mapped, str):
        return mapped
    if "seed" in cls.hyperparameter_names():
        mapped["seed"] = seed
    try:
        return cls(**mapped)
    except (TypeError, ValueError) as error:
        return f"{like} does not take these values: {error}"


def check_optimizer(
    target: Any,
    *,
    like: str | None = None,
    assume: Iterable[str] = (),
    examples: int = 20,
    seed: int = 0,
    steps: int = 25,
    budget: int = 3000,
    only: Iterable[str] | None = None,
    **kwargs: Any,
) -> Report:
    """Run every invariant on ``target`` built with ``kwargs``; see :mod:`.invariants`.

    Args:
        target: a ``torch.optim.Optimizer`` subclass, a ``params -> Optimizer`` callable, a
            ``step(x, g, state)`` function, a built-in optimizer (class or instance), or the
            text ``module:Attr`` / ``file.py:Attr``.
        like: a built-in optimizer's name: add parity with it (and, for linear methods,
            the measured rate against the predicted one).
        assume: declared properties, any of ``elementwise``, ``rotation-equivariant``,
            ``scale-invariant``.
        examples: drawn examples per invariant (fewer for the long-run ones).
        seed: seeds hypothesis and the optimizer's random stream.
        steps: the length of the compared runs; budget: the most steps of the long runs.
        only: names of the invariants to run (all when None), e.g. in a focused test.
        kwargs: the optimizer's hyperparameters.

    Raises ValueError (a one-line message) for an unusable target, kwargs, ``like`` or
    ``assume``.
    """
    from .. import catalog

    assume = frozenset(assume)
    unknown = sorted(assume - set(PROPERTIES))
    if unknown:
        raise ValueError(
            f"assume: unknown property {unknown[0]!r}; allowed: {', '.join(PROPERTIES)}"
        )
    if like is not None:
        catalog.entry(like)  # ValueError naming the allowed optimizers
    if int(examples) != examples or examples < 1:
        raise ValueError(f"examples must be an integer >= 1; got {examples!r}")
    label = _label(target)
    obj = load_target(target) if isinstance(target, str) else target
    describe(obj)
    first = adapt(obj, kwargs, seed=seed)
    validate(first)

    def make(layout="separate", seed=seed):
        return adapt(obj, kwargs, layout=layout, seed=seed)

    kit = Kit(
        make,
        decay=_decays(first, kwargs),
        assume=assume,
        examples=examples,
        seed=seed,
        steps=steps,
        budget=budget,
    )
    report = Report(label, dict(kwargs))
    wanted = None if only is None else set(only)

    def keep(name: str) -> bool:
        return wanted is None or name in wanted

    for check in INVARIANTS:
        if keep(check.title):
            report.invariants.append(check(kit))
    if like is not None:
        native = _native(like, first, kwargs, seed)
        if keep("parity"):
            report.invariants.append(parity(kit, like, native))
        if keep("rate vs theory"):
            report.invariants.append(rate(kit, like, native))
    return report
