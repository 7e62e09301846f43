"""What the digits seed studies share: the data, the small CNN, the two optimizers, a fit.

The studies train :func:`hessian_lab.torch.models.small_cnn` on scikit-learn's digits
(shipped offline), float64, with cross-entropy, mini-batches (64 by default) in a seeded order, with

- ``SGD``: ``torch.optim.SGD(lr=0.05, momentum=0.9)`` (heavy ball);
- ``AdaHessian``: :class:`hessian_lab.torch.AdaHessian` at the authors' defaults
  (lr 0.15, betas (0.9, 0.999), eps 1e-4, Hessian power 1, spatial averaging of the conv
  kernels), one Rademacher probe per step.

Neither was tuned beyond a working setting at input scale 1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from ..torch import AdaHessian
from ..torch.data import Dataset, digits
from ..torch.models import small_cnn
from ..torch.train import History, train

__all__ = ["Size", "OPTIMIZERS", "SECOND_ORDER", "SETTINGS", "data", "fit", "summary"]

BATCH = 64


@dataclass(frozen=True)
class Size:
    """A study's size: examples to train on and to test on, epochs per training phase, and
    the mini-batch size."""

    n_train: int
    n_test: int
    epochs: int
    batch: int = BATCH


OPTIMIZERS: dict[str, Callable[[list], torch.optim.Optimizer]] = {
    "SGD": lambda params: torch.optim.SGD(params, lr=0.05, momentum=0.9),
    "AdaHessian": lambda params: AdaHessian(params, lr=0.15, seed=0),
}
SECOND_ORDER = {"SGD": False, "AdaHessian": True}
SETTINGS = {
    "model": "small_cnn: conv3x3(1->8), ReLU, conv3x3(8->16), ReLU, maxpool 2, linear(256->10)",
    "loss": "cross-entropy",
    "dtype": "float64",
    "SGD": "torch.optim.SGD(lr=0.05, momentum=0.9)",
    "AdaHessian": "hessian_lab.torch.AdaHessian(lr=0.15, betas=(0.9, 0.999), eps=1e-4, k=1)",
}


def data(size: Size, seed: int = 0) -> tuple[Dataset, Dataset]:
    """The seeded train / test split of the digits for ``size``."""
    return digits(n_train=size.n_train, n_test=size.n_test, seed=seed)


def fit(
    model: torch.nn.Module,
    optimizer: str,
    train_set: Dataset,
    test_set: Dataset,
    size: Size,
    seed: int = 0,
) -> History:
    """Train ``model`` in place with the named optimizer (fresh state) for ``size.epochs``."""
    return train(
        model,
        OPTIMIZERS[optimizer](list(model.parameters())),
        train_set,
        test_set,
        size.epochs,
        batch_size=size.batch,
        seed=seed,
        second_order=SECOND_ORDER[optimizer],
    )


def summary(history: History) -> dict:
    """The final training loss and accuracies of a run, and where it diverged (or None)."""
    return {
        "final train loss": history.train_loss[-1],
        "final train accuracy": history.train_accuracy[-1],
        "final test accuracy": history.test_accuracy[-1],
        "diverged at epoch": history.diverged_at,
    }


def fresh_model(seed: int = 0) -> torch.nn.Module:
    """The studies' CNN with its seeded initial weights."""
    return small_cnn(seed=seed)
