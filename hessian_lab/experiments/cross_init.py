"""Cross initialization on Himmelblau's function: A then B, B then A, and basin maps.

``f(x, y) = (x^2 + y - 11)^2 + (x + y^2 - 7)^2`` has four minima whose basins are curved
regions that depend on both coordinates (a separable double well would only ever show
vertical stripes). Two experiments:

- hand-over: optimizer A runs a few steps, then B continues from A's end point (fresh
  state), and the other way round; which minimum each order ends in;
- basin maps: a grid of starting points (one batched engine call per optimizer, a row per
  start) coloured by the minimum each optimizer reaches. Momentum and curvature-scaled
  steps redraw the basin boundaries that plain GD respects.
"""

from __future__ import annotations

import numpy as np

from .. import GD, AdaHessian, Adam, Momentum
from ..engine import run as engine_run
from ..problems.himmelblau import himmelblau
from .base import BACKEND, ExperimentResult

NAME = "cross-init"
TITLE = "Himmelblau's function: optimizer hand-over (A then B, B then A) and basin maps"
X0 = (0.0, 0.5)
HANDOVER_STEPS = 8
TOL = 1e-6
BOUND = 50.0
BOX = ((-5.0, -5.0), (5.0, 5.0))


def optimizers() -> dict[str, tuple[str, object]]:
    return {
        "GD": ("lr=0.005", GD(lr=0.005)),
        "heavy ball": ("lr=0.002, beta=0.9", Momentum(lr=0.002, beta=0.9)),
        "Adam": ("lr=0.1", Adam(lr=0.1)),
        "AdaHessian": ("lr=0.3, k=1", AdaHessian(lr=0.3)),
    }


def minima_of(problem, points: np.ndarray, converged: np.ndarray) -> np.ndarray:
    """The minima, ``(m, 2)``: the problem's own list, else the distinct converged end points."""
    known = getattr(problem, "minima", None)
    if known is not None:
        return np.asarray(known, dtype=float)
    ends = np.round(points[converged], 3)
    return np.unique(ends, axis=0) if ends.size else np.zeros((0, points.shape[1]))


def classify(points: np.ndarray, converged: np.ndarray, minima: np.ndarray) -> np.ndarray:
    """Index of the nearest minimum per point (within 1e-2), -1 where none / not converged."""
    if minima.size == 0:
        return np.full(points.shape[0], -1)
    d = np.linalg.norm(points[:, None, :] - minima[None, :, :], axis=-1)
    nearest = np.argmin(d, axis=1)
    ok = converged & (np.min(d, axis=1) < 1e-2)
    return np.where(ok, nearest, -1)


def _run(problem, optimizer, x0, max_steps, record=()):
    return engine_run(
        problem,
        optimizer,
        x0,
        criterion="grad",
        tol=TOL,
        max_steps=max_steps,
        bound=BOUND,
        record=record,
        backend=BACKEND,
    )


def run(quick: bool = False) -> ExperimentResult:
    from .. import plots

    problem = himmelblau()
    max_steps = 400 if quick else 2_000
    n_grid = 21 if quick else 81
    opts = optimizers()
    names = list(opts)

    # Basin maps: one batched call per optimizer, one row per start.
    xs = np.linspace(BOX[0][0], BOX[1][0], n_grid)
    ys = np.linspace(BOX[0][1], BOX[1][1], n_grid)
    gx, gy = np.meshgrid(xs, ys)
    starts = np.stack([gx.ravel(), gy.ravel()], axis=1)
    ends = {}
    for name in names:
        result = _run(problem, opts[name][1], starts, max_steps)
        ends[name] = (np.asarray(result.x, dtype=float), result.converged)
    minima = minima_of(problem, *ends["GD"])
    basins = {name: classify(p, c, minima).reshape(n_grid, n_grid) for name, (p, c) in ends.items()}

    # Hand-over: A for a few steps, then B to convergence; and B then A.
    a_name, b_name = "heavy ball", "AdaHessian"
    table, paths = [], {}
    plans = {
        f"{a_name} alone": [(a_name, max_steps)],
        f"{b_name} alone": [(b_name, max_steps)],
        f"{a_name} ({HANDOVER_STEPS} steps) then {b_name}": [
            (a_name, HANDOVER_STEPS),
            (b_name, max_steps),
        ],
        f"{b_name} ({HANDOVER_STEPS} steps) then {a_name}": [
            (b_name, HANDOVER_STEPS),
            (a_name, max_steps),
        ],
    }
    for label, plan in plans.items():
        x, pieces, total, status = np.asarray(X0, dtype=float), [], 0, ""
        for name, budget in plan:
            result = _run(problem, opts[name][1], x, budget, record="x")
            pieces.append(result.x_history[:, 0, :] if not pieces else result.x_history[1:, 0, :])
            x = np.asarray(result.x, dtype=float)[0]
            total += int(result.steps[0])
            status = str(result.status[0])
        reached = int(classify(x[None], np.array([status == "converged"]), minima)[0])
        paths[label] = np.concatenate(pieces, axis=0)
        table.append(
            {
                "run": label,
                "status": status,
                "total_steps": total,
                "end_x": float(x[0]),
                "end_y": float(x[1]),
                "minimum": None if reached < 0 else minima[reached],
                "final_loss": float(np.asarray(problem.loss(x[None]), dtype=float)[0]),
            }
        )
    # the minimum nearest to each start: leaving it means crossing a basin boundary
    nearest = np.argmin(np.linalg.norm(starts[:, None, :] - minima[None], axis=-1), axis=1).reshape(
        n_grid, n_grid
    )
    shares = {
        name: {
            f"share at ({m[0]:g}, {m[1]:g})": float(np.mean(b == i)) for i, m in enumerate(minima)
        }
        | {
            "none": float(np.mean(b < 0)),
            "crossed": float(np.mean((b >= 0) & (b != nearest))),
        }
        for name, b in basins.items()
    }
    for name, share in shares.items():
        table.append({"run": f"basin map: {name} ({opts[name][0]})", **share})
    resolution = 60 if quick else 160
    colors = plots.palette(list(paths))
    figures = {
        "handover": plots.contour_paths(
            problem,
            paths,
            start=X0,
            title=f"Himmelblau: {a_name} and {b_name}, alone and handing over",
            labels=("x", "y"),
            resolution=resolution,
            bounds=BOX,
            colors=colors,
            events={
                label: {HANDOVER_STEPS: f"hand-over after {HANDOVER_STEPS} steps"}
                for label in plans
                if len(plans[label]) > 1
            },
        ),
        "basins": plots.basin_maps(
            xs,
            ys,
            {f"{name} ({opts[name][0]})": basin for name, basin in basins.items()},
            minima,
            title="Himmelblau: the minimum each start reaches, per optimizer",
        ),
    }
    data = {
        "x0": X0,
        "minima": minima,
        "handover_steps": HANDOVER_STEPS,
        "max_steps": max_steps,
        "grid": {"x": xs, "y": ys},
        "basins": basins,
        "shares": shares,
        "handover": table[: len(plans)],
    }
    notes = [
        "Basin shares (fraction of grid starts reaching each minimum; none: diverged or not "
        "converged; crossed: ended in a minimum other than the one nearest the start): "
        + "; ".join(
            f"{n}: " + ", ".join(f"{v:.2f}" for v in s.values()) for n, s in shares.items()
        ),
    ]
    return ExperimentResult(NAME, TITLE, table, data, figures, notes)


__all__ = ["run", "optimizers", "classify", "minima_of", "NAME", "TITLE"]
