"""Steps to a target against batch size: perfect scaling, then diminishing returns.

For each batch size ``B`` and each optimizer, the fewest steps ``t`` with
``E f(x_t) - f* <= target`` over its hyperparameters (the best lr, and beta for the
momentum methods), under gradient noise ``S / B`` (:class:`~hessian_lab.noise.GradientNoise`):

- linear methods (GD, heavy ball, Nesterov, preconditioned GD, ...) from the exact theory
  (:mod:`hessian_lab.noisy_theory`): ``E f = mean(t) + spread(t) / B``, where both parts
  depend on the hyperparameters only, so one evaluation of the grid serves every batch
  size. The grid: ``lr = f * lr_stable(beta)`` for 25 factors ``f`` log-spaced in
  ``[1e-4, 0.999]`` (``lr_stable`` the edge of the stability region on the largest mode)
  and ``beta`` in :data:`BETAS`; the steps on a log grid of 60 points up to
  ``max_steps`` pick the winning point, whose step is then made exact by
  :func:`~hessian_lab.noisy_theory.steps_to_target`.
- adaptive methods (Adam, ...) by Monte Carlo: ``rows`` noisy runs per lr, ``E f``
  estimated by their mean at every step.

**Critical batch size.** With perfect scaling ``steps x B`` (the examples processed) stays
at its small-batch value; the critical batch size is where it first reaches **twice** the
value at the smallest batch size of the study (log-interpolated between the two batch
sizes around the crossing; None when it never does within the study).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "BETAS",
    "CRITICAL_DEFINITION",
    "BatchSizeScaling",
    "ScalingCurve",
    "batch_size_scaling",
    "critical_batch_size",
]

BETAS = (0.0, 0.5, 0.9, 0.95, 0.99)
LR_FACTORS = np.geomspace(1e-4, 0.999, 25)
STEP_POINTS = 60
CRITICAL_DEFINITION = (
    "the batch size at which steps x batch size first reaches twice its value at the "
    "smallest batch size (log-interpolated)"
)
#: the largest stable h = lr * mu per iteration matrix, as a function of beta
_H_MAX = {
    "gd": lambda beta: 2.0,
    "heavy_ball": lambda beta: 2.0 + 2.0 * beta,
    "nesterov": lambda beta: (2.0 + 2.0 * beta) / (1.0 + 2.0 * beta),
}


@dataclass
class ScalingCurve:
    """One optimizer's steps to the target per batch size.

    ``steps`` ``(n,)`` float (NaN: not reached within ``max_steps``); ``best``: the
    hyperparameters that reach it, per batch size; ``source``: ``"exact theory"`` or
    ``"monte carlo (R rows)"``.
    """

    label: str
    optimizer: str
    batch_sizes: np.ndarray
    steps: np.ndarray
    best: list[dict[str, float]]
    source: str

    @property
    def examples(self) -> np.ndarray:
        """``steps x batch size``: the examples processed to reach the target."""
        return self.steps * self.batch_sizes

    @property
    def critical_batch_size(self) -> float | None:
        return critical_batch_size(self.batch_sizes, self.steps)


@dataclass
class BatchSizeScaling:
    """:func:`batch_size_scaling`'s result: one curve per optimizer."""

    target: float
    noise: str
    max_steps: int
    curves: list[ScalingCurve] = field(default_factory=list)
    definition: str = CRITICAL_DEFINITION

    def curve(self, label: str) -> ScalingCurve:
        for c in self.curves:
            if c.label == label:
                return c
        raise KeyError(label)


def critical_batch_size(batch_sizes, steps) -> float | None:
    """The critical batch size of a curve (see the module doc), or None."""
    B = np.asarray(batch_sizes, dtype=np.float64)
    S = np.asarray(steps, dtype=np.float64)
    ok = np.isfinite(S) & (S > 0)
    if ok.sum() < 2:
        return None
    B, S = B[ok], S[ok]
    ratio = B * S / (B[0] * S[0])
    above = np.flatnonzero(ratio >= 2)
    if above.size == 0:
        return None
    k = above[0]
    lo, hi = np.log(ratio[k - 1]), np.log(ratio[k])
    frac = (np.log(2.0) - lo) / (hi - lo) if hi > lo else 1.0
    return float(np.exp(np.log(B[k - 1]) + frac * (np.log(B[k]) - np.log(B[k - 1]))))


def _label(optimizer) -> str:
    if optimizer.name == "precond-gd":
        return f"precond-gd p={float(np.asarray(optimizer.power).reshape(-1)[0]):g}"
    return optimizer.name


def batch_size_scaling(
    problem,
    optimizers: Sequence,
    batch_sizes: Sequence[int],
    target: float,
    noise,
    x0=None,
    max_steps: int = 100_000,
    rows: int = 16,
    lrs: Sequence[float] | None = None,
    mc_max_steps: int | None = None,
) -> BatchSizeScaling:
    """Steps to ``E f - f* <= target`` against batch size, per optimizer (module doc).

    Args:
        problem: a quadratic.
        optimizers: names or optimizer instances (an instance fixes what is not searched,
            e.g. ``PreconditionedGD(power=0.5)``); linear methods use the exact theory,
            the others Monte Carlo.
        batch_sizes: increasing batch sizes.
        target: the expected loss ``E f - f*`` to reach (> 0).
        noise: a :class:`~hessian_lab.noise.GradientNoise` (its batch size is replaced).
        x0: the start (default: ``c + 1`` in every coordinate).
        max_steps: the most steps the theory looks at.
        rows, lrs, mc_max_steps: Monte Carlo rows per lr, the lr grid (default 12 values
            log-spaced in ``[1e-3, 1]``) and the most steps (default ``max_steps``).
    """
    from . import make_optimizer
    from .noisy_theory import _SUPPORTED

    if not target > 0:
        raise ValueError(f"target must be > 0; got {target!r}")
    sizes = np.asarray(batch_sizes, dtype=np.int64)
    if sizes.ndim != 1 or sizes.size == 0 or np.any(sizes < 1) or np.any(np.diff(sizes) <= 0):
        raise ValueError(f"batch_sizes must be increasing integers >= 1; got {batch_sizes!r}")
    x0 = problem.center + 1.0 if x0 is None else np.asarray(x0, dtype=np.float64)
    study = BatchSizeScaling(float(target), noise.describe(), int(max_steps))
    for opt in optimizers:
        opt = make_optimizer(opt) if isinstance(opt, str) else opt
        if isinstance(opt, _SUPPORTED):
            curve = _theory_curve(problem, opt, x0, sizes, target, noise, max_steps)
        else:
            grid = np.geomspace(1e-3, 1.0, 12) if lrs is None else np.asarray(lrs, float)
            steps = max_steps if mc_max_steps is None else mc_max_steps
            curve = _monte_carlo_curve(problem, opt, x0, sizes, target, noise, steps, rows, grid)
        study.curves.append(curve)
    return study


def _step_grid(max_steps: int) -> np.ndarray:
    return np.unique(np.concatenate([[0], np.round(np.geomspace(1, max_steps, STEP_POINTS))]))


def _theory_curve(problem, opt, x0, sizes, target, noise, max_steps) -> ScalingCurve:
    from .noisy_theory import loss_parts, steps_to_target
    from .theory import _iteration_matrix, _modes

    modes = _modes(problem, opt)
    if isinstance(modes, str):
        raise ValueError(modes)
    mu = modes[0] if opt.name != "newton" else np.ones(1)
    has_beta = "beta" in opt.hyperparameter_names()
    betas = np.array(BETAS if has_beta else [0.0])
    h_max = _H_MAX[_iteration_matrix(opt)]
    lr = np.concatenate([LR_FACTORS * h_max(b) / mu.max() for b in betas])
    beta = np.repeat(betas, LR_FACTORS.size)
    grid = dataclasses.replace(opt, lr=lr, **({"beta": beta} if has_beta else {}))
    t = _step_grid(max_steps)
    unit = noise.with_batch_size(1)
    mean, spread = loss_parts(problem, grid, x0, t, unit)  # (T, G)
    steps, best = [], []
    for B in sizes:
        hit = (mean + spread / B) <= target
        reached = hit.any(axis=0)
        if not reached.any():
            steps.append(np.nan)
            best.append({})
            continue
        first = np.where(reached, hit.argmax(axis=0), t.size)
        g = int(np.argmin(first))
        point = {"lr": float(lr[g]), **({"beta": float(beta[g])} if has_beta else {})}
        one = dataclasses.replace(opt, **point)
        end = int(t[first[g]])  # the grid's first step at or below the target
        found = steps_to_target(problem, one, x0, target, noise.with_batch_size(int(B)), end)
        steps.append(float(end if found is None else found))
        best.append(point)
    return ScalingCurve(_label(opt), opt.name, sizes, np.array(steps), best, "exact theory")


def _monte_carlo_curve(problem, opt, x0, sizes, target, noise, max_steps, rows, lrs):
    from .engine import run

    G = lrs.size
    grid = dataclasses.replace(opt, lr=np.repeat(lrs, rows))
    f_star = problem.min_value or 0.0
    steps, best = [], []
    for B in sizes:
        result = run(
            problem,
            grid,
            x0,
            tol=0,
            max_steps=max_steps,
            bound=1e8,
            noise=noise.with_batch_size(int(B)),
            record="loss",
        )
        losses = result.loss_history - f_star  # (T + 1, G * rows)
        mean = losses.reshape(losses.shape[0], G, rows).mean(axis=2)
        hit = mean <= target
        reached = hit.any(axis=0)
        if not reached.any():
            steps.append(np.nan)
            best.append({})
            continue
        first = np.where(reached, hit.argmax(axis=0), mean.shape[0])
        g = int(np.argmin(first))
        steps.append(float(first[g]))
        best.append({"lr": float(lrs[g])})
    source = f"monte carlo ({rows} rows)"
    return ScalingCurve(_label(opt), opt.name, sizes, np.array(steps), best, source)
