"""One sigmoid neuron: AdaHessian against Adam (and GD) from a poor start.

``sigma(w x + b)`` with one weight and one bias, squared error on a two-point data set
(inputs 0.5 and 2.5, targets 0.2 and 0.9), started at ``(w, b) = (-2, -2)`` on the
saturated plateau where the gradient is tiny. Full-batch, so an epoch is a step: 200
epochs each. Curvature-scaled steps (AdaHessian) leave the plateau faster than
gradient-scaled ones (Adam) and plain GD.
"""

from __future__ import annotations

import numpy as np

from .. import GD, AdaHessian, Adam
from ..engine import run as engine_run
from ..problems.expression import sigmoid_neuron
from .base import BACKEND, ExperimentResult, first_index

NAME = "sigmoid-neuron"
TITLE = "One sigmoid neuron from (w, b) = (-2, -2): AdaHessian vs Adam vs GD"
INPUTS = (0.5, 2.5)
TARGETS = (0.2, 0.9)
X0 = (-2.0, -2.0)
EPOCHS = 200
THRESHOLDS = (1e-2, 1e-4)


def optimizers() -> dict[str, tuple[str, object]]:
    return {
        "AdaHessian": ("lr=0.3, betas=(0.9, 0.999), k=1", AdaHessian(lr=0.3)),
        "Adam": ("lr=0.1, betas=(0.9, 0.999)", Adam(lr=0.1)),
        "GD": ("lr=1.0", GD(lr=1.0)),
    }


def run(quick: bool = False) -> ExperimentResult:
    from .. import plots

    problem = sigmoid_neuron(INPUTS, TARGETS)
    epochs = 60 if quick else EPOCHS
    criterion = "loss" if getattr(problem, "min_value", None) is not None else "grad"
    paths, losses, table = {}, {}, []
    for name, (text, optimizer) in optimizers().items():
        # a tolerance far below reach: every run trains for the full number of epochs
        result = engine_run(
            problem,
            optimizer,
            X0,
            criterion=criterion,
            tol=1e-30,
            max_steps=epochs,
            record=("loss", "x"),
            backend=BACKEND,
        )
        loss = result.loss_history[:, 0]
        paths[name] = result.x_history[:, 0, :]
        losses[name] = loss
        row = {"optimizer": name, "hyperparameters": text, "epochs": epochs}
        for t in (10, 50):
            if t <= epochs:
                row[f"loss after {t}"] = float(loss[t])
        row["final loss"] = float(loss[-1])
        for threshold in THRESHOLDS:
            row[f"epochs to loss {threshold:g}"] = first_index(loss <= threshold)
        row["final w"], row["final b"] = (float(v) for v in paths[name][-1])
        table.append(row)
    minimizer = getattr(problem, "minimizer", None)
    resolution = 60 if quick else 160
    bounds = ((-3.0, -4.0), (4.0, 1.0))
    named = {f"{name} ({optimizers()[name][0]})": name for name in paths}
    colors = plots.palette(list(named))
    paths = {label: paths[name] for label, name in named.items()}
    figures = {
        "loss_curves": plots.loss_curves(
            {label: losses[name] for label, name in named.items()},
            min_value=getattr(problem, "min_value", None),
            title=f"Sigmoid neuron: training loss over {epochs} epochs",
            colors=colors,
            xlabel="epoch (one full-batch step on both points)",
        ),
        "contour": plots.contour_paths(
            problem,
            paths,
            start=X0,
            minimizer=minimizer,
            title="Sigmoid neuron: loss contours over (w, b) and the paths",
            labels=("weight w", "bias b"),
            resolution=resolution,
            bounds=bounds,
            colors=colors,
            equal_aspect=False,
        ),
        "surface": plots.surface_paths(
            problem,
            paths,
            start=X0,
            minimizer=minimizer,
            title="Sigmoid neuron: the loss surface and the paths",
            labels=("weight w", "bias b"),
            resolution=40 if quick else 80,
            bounds=bounds,
            colors=colors,
        ),
    }
    data = {
        "inputs": INPUTS,
        "targets": TARGETS,
        "x0": X0,
        "epochs": epochs,
        "minimizer": None if minimizer is None else np.asarray(minimizer),
        "runs": table,
        "loss_histories": losses,
    }
    best = min(table, key=lambda r: r["final loss"])
    notes = [
        f"Lowest final loss after {epochs} epochs: {best['optimizer']} ({best['final loss']:.3g}).",
        "The start sits on a saturated plateau (tiny gradient, tiny curvature): dividing by "
        "the curvature (AdaHessian) or the gradient scale (Adam) rescales the step there.",
    ]
    return ExperimentResult(NAME, TITLE, table, data, figures, notes)


__all__ = ["run", "optimizers", "NAME", "TITLE"]
