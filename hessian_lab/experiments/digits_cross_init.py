"""Cross-initialization on a real network: train with A, continue with B, and the reverse.

From one seeded initialization the small CNN is trained on the digits for ``E`` epochs with
SGD (momentum) and, separately, with AdaHessian. From each end point training continues for
another ``E`` epochs with each optimizer (fresh optimizer state, same batch order): four
paths, SGD -> SGD, SGD -> AdaHessian, AdaHessian -> AdaHessian and AdaHessian -> SGD. The
continuations with the same optimizer are the controls: a hand-over changes the outcome
only as far as its path differs from them.
"""

from __future__ import annotations

import copy

from ..plots import training_curves
from ..torch.train import one_thread
from .base import ExperimentResult
from .digits_setup import OPTIMIZERS, SETTINGS, Size, data, fit, fresh_model, summary

NAME = "digits-cross-init"
TITLE = "Digits, small CNN: train with A, continue with B from A's weights (and the reverse)"
DEFAULT = Size(n_train=1000, n_test=500, epochs=5)
QUICK = Size(n_train=256, n_test=200, epochs=2, batch=32)


def run(quick: bool = False) -> ExperimentResult:
    size = QUICK if quick else DEFAULT
    train_set, test_set = data(size)
    table, histories = [], {}
    with one_thread():
        for first in OPTIMIZERS:
            model = fresh_model()
            before = fit(model, first, train_set, test_set, size, seed=0)
            for second in OPTIMIZERS:
                continued = copy.deepcopy(model)
                after = fit(continued, second, train_set, test_set, size, seed=1)
                history = before.extend(after)
                histories[f"{first} then {second}"] = history
                table.append(
                    {
                        "first (A)": first,
                        "then (B)": second,
                        "train loss after A": before.train_loss[-1],
                        "test accuracy after A": before.test_accuracy[-1],
                        **summary(history),
                    }
                )
    data_out = {
        "settings": {**SETTINGS, "n_train": size.n_train, "n_test": size.n_test,
                     "epochs_per_phase": size.epochs},
        "histories": {name: vars(h) for name, h in histories.items()},
    }
    figures = {
        "training": training_curves(histories, title=TITLE, switch_epoch=size.epochs)
    }
    notes = [
        f"{row['first (A)']} then {row['then (B)']}: training loss "
        f"{row['train loss after A']:.3g} -> {row['final train loss']:.3g}, test accuracy "
        f"{row['test accuracy after A']:.3f} -> {row['final test accuracy']:.3f}"
        for row in table
    ]
    return ExperimentResult(NAME, TITLE, table, data_out, figures, notes)


__all__ = ["run", "NAME", "TITLE"]
