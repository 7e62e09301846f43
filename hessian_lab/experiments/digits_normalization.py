"""The normalization study on a real network: rescale the inputs and watch who notices.

The digits' pixel values (in [0, 1]) are multiplied by ``s`` in 1e-4, 1, 1e3 and the same
small CNN (same initial weights) is trained on them with SGD (heavy ball) and AdaHessian at
hyperparameters that work for ``s = 1``. Scaling the input by ``s`` is the same as scaling
the first layer's weights: its gradient scales like ``s`` and its Hessian diagonal like
``s^2``, so a method that divides by the exact diagonal (power k = 1) would take the
same steps in the rescaled coordinates. The quadratic experiment ``scaling`` shows that
ideal; this one measures what the stochastic estimate does on a network, where the
first layer's Hutchinson estimate ``z * H z`` also picks up the off-diagonal blocks
that couple it to the other layers (which scale like ``s``, not ``s^2``).
"""

from __future__ import annotations

from ..plots import training_curves
from ..torch.train import one_thread
from .base import ExperimentResult
from .digits_setup import OPTIMIZERS, SETTINGS, Size, data, fit, fresh_model, summary

NAME = "digits-normalization"
TITLE = "Digits, inputs rescaled by 1e-4, 1, 1e3: SGD (momentum) vs AdaHessian on a small CNN"
SCALES = (1e-4, 1.0, 1e3)
DEFAULT = Size(n_train=1000, n_test=500, epochs=8)
QUICK = Size(n_train=256, n_test=200, epochs=4, batch=32)


def run(quick: bool = False) -> ExperimentResult:
    size = QUICK if quick else DEFAULT
    train_set, test_set = data(size)
    table, histories = [], {}
    with one_thread():
        for scale in SCALES:
            for optimizer in OPTIMIZERS:
                history = fit(
                    fresh_model(), optimizer, train_set.scaled(scale), test_set.scaled(scale),
                    size,
                )
                histories[f"{optimizer}, s = {scale:g}"] = history
                table.append({"scale": scale, "optimizer": optimizer, **summary(history)})
    data_out = {
        "settings": {**SETTINGS, "n_train": size.n_train, "n_test": size.n_test,
                     "epochs": size.epochs, "batch_size": size.batch, "scales": SCALES},
        "histories": {name: vars(h) for name, h in histories.items()},
    }
    figures = {"training": training_curves(histories, title=TITLE)}
    notes = [
        f"s = {row['scale']:g}, {row['optimizer']}: test accuracy "
        f"{row['final test accuracy']:.3f}, training loss {row['final train loss']:.3g}"
        for row in table
    ]
    return ExperimentResult(NAME, TITLE, table, data_out, figures, notes)


__all__ = ["run", "NAME", "TITLE", "SCALES"]
