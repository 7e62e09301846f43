"""The normalization study: rescale one coordinate and watch who notices.

A well-conditioned problem ``f(y) = 1/2 (y1 - 1)^2 + (y2 - 1)^2`` (eigenvalues 1 and 2) is
written in rescaled coordinates ``x2 = y2 / sqrt(s)``: the same function, the same loss at
the start (the origin) and at the minimum, but curvature ``2 s`` along ``x2``. Scale
factors ``s`` span 1e-4 .. 1e3. Steps to the loss tolerance for

- GD at its best lr for each scaling (one batched engine call sweeps the lr grid, which
  also holds the theory's lr*),
- Adam at one fixed lr,
- AdaHessian with Hessian power k = 1 and k = 0.5 (both rows in one batched call).

With k = 1 the update ``m / |diag H|`` is invariant under any diagonal rescaling (up to
``eps``, kept tiny here): its steps do not change. GD's best steps grow like kappa; Adam
and k = 0.5 only partly normalize.
"""

from __future__ import annotations

import numpy as np

from .. import GD, AdaHessian, Adam, Quadratic
from ..engine import run as engine_run
from ..theory import predict
from .base import BACKEND, ExperimentResult, as_int_or_none, quantities

NAME = "scaling"
TITLE = "Rescaled coordinates: GD at its best lr, Adam and AdaHessian (k = 1, 0.5)"
BASE_EIGENVALUES = (1.0, 2.0)
BASE_CENTER = (1.0, 1.0)
X0 = (0.0, 0.0)
TOL = 1e-6
ADAM_LR = 0.05
ADAHESSIAN_LR = 0.3
ADAHESSIAN_EPS = 1e-10
POWERS = (1.0, 0.5)


def rescaled(scale: float) -> Quadratic:
    """The base problem with coordinate 2 rescaled: curvature ``2 * scale`` along ``x2``."""
    lam1, lam2 = BASE_EIGENVALUES
    c1, c2 = BASE_CENTER
    return Quadratic([lam1, lam2 * scale], center=[c1, c2 / np.sqrt(scale)])


def run(quick: bool = False) -> ExperimentResult:
    scales = np.array([1e-2, 1.0, 1e2]) if quick else np.logspace(-4, 3, 8)
    n_lr = 12 if quick else 32
    max_steps = 4_000 if quick else 50_000
    table = []
    series = {"GD (best lr)": [], "GD at lr* (predicted)": [], "Adam": []}
    series.update({f"AdaHessian k={k:g}": [] for k in POWERS})
    for scale in scales:
        problem = rescaled(float(scale))
        q = quantities(problem)
        lr = np.concatenate([q["lr_max"] * np.geomspace(0.05, 0.995, n_lr), [q["lr_opt"]]])
        sweep = engine_run(
            problem, GD(lr=list(lr)), X0, tol=TOL, max_steps=max_steps, backend=BACKEND
        )
        steps = sweep.steps_to_tol
        best = int(np.nanargmin(steps)) if np.isfinite(steps).any() else None
        predicted = predict(problem, GD(lr=q["lr_opt"]), X0, "loss", TOL, max_steps)
        adam = engine_run(
            problem, Adam(lr=ADAM_LR), X0, tol=TOL, max_steps=max_steps, backend=BACKEND
        )
        adahessian = engine_run(
            problem,
            AdaHessian(lr=ADAHESSIAN_LR, eps=ADAHESSIAN_EPS, hessian_power=list(POWERS)),
            X0,
            tol=TOL,
            max_steps=max_steps,
            backend=BACKEND,
        )
        row = {
            "scale": float(scale),
            "kappa": q["kappa"],
            "GD best lr": None if best is None else float(lr[best]),
            "GD best lr / lr*": None if best is None else float(lr[best] / q["lr_opt"]),
            "GD best steps": None if best is None else int(steps[best]),
            "GD at lr* predicted": as_int_or_none(float(predicted.steps[0])),
            "Adam steps": as_int_or_none(float(adam.steps_to_tol[0])),
        }
        series["GD (best lr)"].append(np.nan if best is None else float(steps[best]))
        series["GD at lr* (predicted)"].append(float(predicted.steps[0]))
        series["Adam"].append(float(adam.steps_to_tol[0]))
        for i, k in enumerate(POWERS):
            row[f"AdaHessian k={k:g} steps"] = as_int_or_none(float(adahessian.steps_to_tol[i]))
            series[f"AdaHessian k={k:g}"].append(float(adahessian.steps_to_tol[i]))
        table.append(row)
    data = {
        "scales": scales,
        "steps": series,
        "settings": {
            "base_eigenvalues": BASE_EIGENVALUES,
            "base_center": BASE_CENTER,
            "x0": X0,
            "tol": TOL,
            "max_steps": max_steps,
            "lr_grid_points": n_lr + 1,
            "adam_lr": ADAM_LR,
            "adahessian_lr": ADAHESSIAN_LR,
            "adahessian_eps": ADAHESSIAN_EPS,
        },
    }
    from .. import plots

    methods = {name: {"measured": v} for name, v in series.items() if "predicted" not in name}
    methods["GD (best lr)"]["predicted"] = series["GD at lr* (predicted)"]
    figure = plots.steps_curves(
        scales,
        methods,
        "scale factor s (curvature of x2 = 2 s)",
        f"steps to f - f* <= {TOL:g}",
        "The same problem in rescaled coordinates: who notices the scale? (GD predicted: at lr*)",
        budget=max_steps,
    )
    figures = {"steps_vs_scale": figure}
    spread = {name: _spread(values) for name, values in series.items()}
    data["spread"] = spread
    notes = [
        "spread = max/min steps over the scales (inf when a method ran out of steps): "
        + ", ".join(f"{name} {value:.3g}" for name, value in spread.items())
    ]
    return ExperimentResult(NAME, TITLE, table, data, figures, notes)


def _spread(values) -> float:
    v = np.asarray(values, dtype=float)
    if not np.all(np.isfinite(v)):
        return float("inf")
    return float(v.max() / v.min())


__all__ = ["run", "rescaled", "NAME", "TITLE"]
