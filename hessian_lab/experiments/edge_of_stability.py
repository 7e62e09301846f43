"""The edge of stability: full-batch GD on a small network drives its sharpness to 2 / lr.

The quadratic theory says GD with step ``lr`` is stable only where the loss's sharpness
``lambda_max`` (top Hessian eigenvalue) is below ``2 / lr``. On a real network the sharpness
is not fixed: full-batch GD raises it during training (*progressive sharpening*) until it
reaches about ``2 / lr``, then hovers there while the loss keeps falling, non-monotonically
(Cohen, Kaur, Li, Kolter & Talwalkar, "Gradient Descent on Neural Networks Typically Occurs
at the Edge of Stability", ICLR 2021).

Setup (their well-known reproducible setting, scaled down): a tanh MLP ``64 -> 64 -> 64 ->
10`` with the squared loss ``1/(2n) sum_i ||f(x_i) - e_{y_i}||^2`` on ``n`` digits images,
float64, full-batch GD at several lr, each for the same training time ``lr * steps``. The
sharpness is measured by Lanczos (:func:`hessian_lab.torch.sharpness.sharpness`) every
``steps / 50`` steps. The table compares the plateau (median sharpness over the last
quarter of the run) with ``2 / lr``.
"""

from __future__ import annotations

import numpy as np
import torch

from ..plots import sharpness_curves
from ..torch.data import digits
from ..torch.models import mlp
from ..torch.sharpness import sharpness
from ..torch.train import gd_with_sharpness, one_thread
from .base import ExperimentResult

NAME = "edge-of-stability"
TITLE = "Edge of stability: full-batch GD on a tanh MLP, sharpness against 2 / lr"
WIDTHS = (64, 64)
ACTIVATION = "tanh"
LOSS = "mse"
SEED = 0
#: (examples, learning rates, training time lr * steps, sharpness checks per run)
DEFAULT = (256, (2 / 30, 0.1, 0.2), 200.0, 50)
QUICK = (128, (0.2,), 80.0, 16)
#: Lanczos's relative residual for the tracked sharpness (enough for a curve)
TRACKING_TOL = 1e-4


def run(quick: bool = False) -> ExperimentResult:
    """The default size or the quick one (one lr, fewer examples, a shorter run)."""
    with one_thread():
        return _run(*(QUICK if quick else DEFAULT))


def _run(n: int, lrs, duration: float, checks: int) -> ExperimentResult:
    train_set, _ = digits(n_train=n, n_test=0, seed=SEED, dtype=torch.float64, flat=True)

    def measure(model) -> float:
        return sharpness(model, train_set, LOSS, tol=TRACKING_TOL).lambda_max

    traces, table = [], []
    for lr in lrs:
        steps = int(round(duration / lr))
        model = mlp(WIDTHS, ACTIVATION, seed=SEED, dtype=torch.float64)
        trace = gd_with_sharpness(
            model, train_set, lr, steps, measure, every=max(1, steps // checks), loss=LOSS
        )
        traces.append(trace)
        table.append(_row(trace, steps))
    data = {
        "settings": {
            "examples": n,
            "widths": WIDTHS,
            "activation": ACTIVATION,
            "loss": LOSS,
            "dtype": "float64",
            "seed": SEED,
            "training_time_lr_x_steps": duration,
            "tracking_tol": TRACKING_TOL,
        },
        "runs": [
            {
                "lr": t.lr,
                "two_over_lr": 2 / t.lr,
                "loss": t.loss,
                "sharpness_steps": t.sharpness_steps,
                "sharpness": t.sharpness,
                "diverged_at": t.diverged_at,
            }
            for t in traces
        ],
    }
    figures = {"sharpness": sharpness_curves(traces, title=TITLE)}
    notes = [
        f"lr = {row['lr']:.4g}: sharpness {row['initial sharpness']:.3g} at the start, "
        f"plateau {row['plateau sharpness']:.3g} = {row['plateau / (2/lr)']:.3f} x 2/lr"
        for row in table
    ]
    return ExperimentResult(NAME, TITLE, table, data, figures, notes)


def plateau(trace) -> float:
    """The median sharpness over the last quarter of the run's checks."""
    values = np.asarray(trace.sharpness, dtype=float)
    return float(np.median(values[-max(1, len(values) // 4) :]))


def _row(trace, steps: int) -> dict:
    values = np.asarray(trace.sharpness, dtype=float)
    edge = 2 / trace.lr
    reached = np.flatnonzero(values >= 0.9 * edge)
    level = plateau(trace)
    return {
        "lr": trace.lr,
        "2/lr": edge,
        "steps": steps,
        "initial sharpness": float(values[0]),
        "max sharpness": float(values.max()),
        "plateau sharpness": level,
        "plateau / (2/lr)": level / edge,
        "step reaching 0.9 x 2/lr": (
            int(trace.sharpness_steps[reached[0]]) if reached.size else None
        ),
        "final loss": trace.loss[-1],
        "diverged at": trace.diverged_at,
    }


__all__ = ["run", "plateau", "NAME", "TITLE"]
