"""Small real data sets that ship offline: scikit-learn's handwritten digits.

``load_digits`` reads 1,797 greyscale 8x8 images (pixel values 0..16, ten classes) from a
file inside the scikit-learn package: nothing is downloaded. :func:`digits` returns them
as torch tensors, pixels scaled to [0, 1], split into a training and a test part by a
seeded permutation, e.g. ``train, test = digits(n_train=200, n_test=100, seed=0)`` gives
``train.inputs`` of shape ``(200, 1, 8, 8)`` and ``train.targets`` of shape ``(200,)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

__all__ = ["Dataset", "digits", "one_hot", "N_CLASSES", "N_DIGITS"]

N_CLASSES = 10
N_DIGITS = 1797  # images in scikit-learn's copy of the UCI digits


@dataclass(frozen=True)
class Dataset:
    """A labelled set: ``inputs`` ``(n, 1, 8, 8)`` (or ``(n, 64)`` flat), ``targets`` ``(n,)``
    int64 class indices."""

    inputs: torch.Tensor
    targets: torch.Tensor

    def __len__(self) -> int:
        return int(self.targets.shape[0])

    def scaled(self, factor: float) -> Dataset:
        """The same set with every input value multiplied by ``factor``."""
        return Dataset(self.inputs * factor, self.targets)


def _load() -> tuple[torch.Tensor, torch.Tensor]:
    try:
        from sklearn.datasets import load_digits
    except ImportError as error:  # pragma: no cover - the networks/test extras install it
        raise ImportError(
            "the digits data set needs scikit-learn: pip install 'hessian_lab[networks]'"
        ) from error
    bunch = load_digits()
    images = torch.as_tensor(bunch.images, dtype=torch.float64) / 16.0
    return images.unsqueeze(1), torch.as_tensor(bunch.target, dtype=torch.int64)


def digits(
    n_train: int = 1000,
    n_test: int = 500,
    seed: int = 0,
    dtype: torch.dtype = torch.float64,
    flat: bool = False,
) -> tuple[Dataset, Dataset]:
    """Disjoint training and test sets drawn from the digits by a permutation seeded by ``seed``.

    Args:
        n_train, n_test: sizes; ``n_train + n_test <= 1797``.
        seed: the permutation's seed (same seed, same split).
        dtype: floating dtype of the inputs (targets are int64 class indices 0..9).
        flat: inputs as ``(n, 64)`` vectors instead of ``(n, 1, 8, 8)`` images.
    """
    if n_train < 1 or n_test < 0 or n_train + n_test > N_DIGITS:
        raise ValueError(
            f"n_train={n_train}, n_test={n_test}: need n_train >= 1, n_test >= 0 and "
            f"n_train + n_test <= {N_DIGITS}"
        )
    images, labels = _load()
    order = torch.randperm(N_DIGITS, generator=torch.Generator().manual_seed(seed))
    images = images.to(dtype)
    if flat:
        images = images.reshape(N_DIGITS, -1)
    train, test = order[:n_train], order[n_train : n_train + n_test]
    return Dataset(images[train], labels[train]), Dataset(images[test], labels[test])


def one_hot(targets: torch.Tensor, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Class indices ``(n,)`` as one-hot rows ``(n, 10)`` (the targets of a squared loss)."""
    return torch.nn.functional.one_hot(targets, N_CLASSES).to(dtype)
