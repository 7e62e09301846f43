"""Helpers shared by several test modules (imported as ``helpers``: pytest puts tests/ first)."""

from __future__ import annotations

import dataclasses

import numpy as np

from hessian_lab import catalog
from hessian_lab.backend import Backend, to_numpy
from hessian_lab.optimizers.base import Oracle


def direct_iterates(problem, opt, x0, steps, backend="numpy"):
    """All iterates ``(steps + 1, d)`` from the optimizer's own ``init``/``step`` loop.

    Not the engine: no criterion can stop the run (e.g. one that lands exactly on c).
    """
    be = Backend(backend)
    X = be.asarray(np.asarray(x0, dtype=np.float64)[None, :])
    hp = opt.hyperparameters(1, be)
    state = opt.init(X, hp)
    oracle = Oracle(problem)
    xs = [to_numpy(X)[0]]
    for _ in range(steps):
        X, state = opt.step(X, state, hp, oracle)
        xs.append(to_numpy(X)[0])
    return np.array(xs)


def row_optimizer(opt, i):
    """The scalar optimizer of row ``i`` of a sweep given by list-valued hyperparameters."""

    def pick(value):
        if isinstance(value, list):
            return value[i]
        if isinstance(value, tuple):
            return tuple(pick(v) for v in value)
        return value

    return dataclasses.replace(
        opt, **{f.name: pick(getattr(opt, f.name)) for f in dataclasses.fields(opt)}
    )


def all_optimizer_classes() -> list[type]:
    """Every optimizer class in the catalog, in catalog order: the list the per-optimizer
    tests are parametrized over (a new catalog entry is tested without editing them)."""
    return [entry.load() for entry in catalog.entries()]
