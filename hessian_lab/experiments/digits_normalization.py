"""The normalization study on a real network: rescale the inputs and watch who notices.

The digits' pixel values (in [0, 1]) are multiplied by ``s`` in 1e-4, 1, 1e3 and the same
small CNN (same initial weights) is trained on them with SGD (heavy ball) and AdaHessian at
hyperparameters that work for ``s = 1``. Scaling the input by ``s`` is the same as scaling
the first layer's weights: its gradient scales like ``s`` and its Hessian diagonal like
``s^2``, so a method that divides by the exact diagonal (power k = 1) would take the
same steps in the rescaled coordinates. The quadratic experiment ``scaling`` shows that
ideal; this one measures what the stochastic estimate does on a network, where the
first layer's Hutchinson estimate ``z * H z`` also picks up the off-diagonal blocks
that couple it to the other layers (which scale like ``s``, not ``s^2``):
:func:`first_layer_curvature` measures the gradient, the exact diagonal and one probe's
estimate for the first layer at the initial weights, per scale.
"""

from __future__ import annotations

import torch

from ..plots import training_curves
from ..torch.data import Dataset
from ..torch.train import dataset_loss, one_thread
from .base import ExperimentResult
from .digits_setup import OPTIMIZERS, SETTINGS, Size, data, fit, fresh_model, summary

NAME = "digits-normalization"
TITLE = "Digits, inputs rescaled by 1e-4, 1, 1e3: SGD (momentum) vs AdaHessian on a small CNN"
SCALES = (1e-4, 1.0, 1e3)
DEFAULT = Size(n_train=1000, n_test=500, epochs=8)
QUICK = Size(n_train=256, n_test=200, epochs=4, batch=32)
#: examples (default, quick) and Rademacher probes for the first layer's curvature at init
CURVATURE_EXAMPLES = (128, 32)
CURVATURE_PROBES = 8


def first_layer_curvature(model: torch.nn.Module, data: Dataset, probes: int, seed: int = 0):
    """At the current weights, for the first layer's weight ``W1`` (one HVP per entry or probe):

    ``grad``: mean ``|dL/dW1|``; ``exact``: mean ``|H_ii|`` over its entries (``e_i^T H e_i``);
    ``hutchinson``: mean ``|z_i (H z)_i|`` over its entries and ``probes`` Rademacher probes
    ``z`` over *all* parameters (one probe's AdaHessian estimate, before averaging).
    """
    params = [p for p in model.parameters() if p.requires_grad]
    weight = params[0]
    grads = torch.autograd.grad(dataset_loss(model, data), params, create_graph=True)
    exact = []
    for i in range(weight.numel()):
        unit = torch.zeros(weight.numel(), dtype=weight.dtype)
        unit[i] = 1.0
        row = torch.autograd.grad(grads[0], weight, unit.view_as(weight), retain_graph=True)[0]
        exact.append(float(row.reshape(-1)[i]))
    generator = torch.Generator().manual_seed(seed)
    estimates = []
    for _ in range(probes):
        z = [
            torch.randint(0, 2, p.shape, generator=generator).to(p.dtype) * 2 - 1
            for p in params
        ]
        hz = torch.autograd.grad(grads, params, z, retain_graph=True)
        estimates.append(float((z[0] * hz[0]).abs().mean()))
    return {
        "grad": float(grads[0].detach().abs().mean()),
        "exact": float(torch.tensor(exact).abs().mean()),
        "hutchinson": sum(estimates) / probes,
    }


def run(quick: bool = False) -> ExperimentResult:
    size = QUICK if quick else DEFAULT
    train_set, test_set = data(size)
    table, histories, curvature = [], {}, {}
    with one_thread():
        for scale in SCALES:
            for optimizer in OPTIMIZERS:
                history = fit(
                    fresh_model(), optimizer, train_set.scaled(scale), test_set.scaled(scale),
                    size,
                )
                histories[f"{optimizer}, s = {scale:g}"] = history
                table.append({"scale": scale, "optimizer": optimizer, **summary(history)})
            n = CURVATURE_EXAMPLES[quick]
            subset = Dataset(train_set.inputs[:n] * scale, train_set.targets[:n])
            curvature[scale] = first_layer_curvature(fresh_model(), subset, CURVATURE_PROBES)
    data_out = {
        "settings": {**SETTINGS, "n_train": size.n_train, "n_test": size.n_test,
                     "epochs": size.epochs, "batch_size": size.batch, "scales": SCALES},
        "histories": {name: vars(h) for name, h in histories.items()},
        "first_layer_curvature_at_init": {f"{k:g}": v for k, v in curvature.items()},
        "curvature_examples": CURVATURE_EXAMPLES[quick],
    }
    figures = {"training": training_curves(histories, title=TITLE)}
    notes = [
        f"s = {row['scale']:g}, {row['optimizer']}: test accuracy "
        f"{row['final test accuracy']:.3f}, training loss {row['final train loss']:.3g}"
        for row in table
    ] + [
        f"s = {scale:g}, first layer at the initial weights: mean |grad| {c['grad']:.3g}, "
        f"exact mean |H_ii| {c['exact']:.3g}, one probe's mean |z_i (Hz)_i| "
        f"{c['hutchinson']:.3g} ({c['hutchinson'] / c['exact']:.3g} x exact)"
        for scale, c in curvature.items()
    ]
    return ExperimentResult(NAME, TITLE, table, data_out, figures, notes)


__all__ = ["run", "NAME", "TITLE", "SCALES"]
