"""Real data sets, read offline: scikit-learn's handwritten digits, and CIFAR-10 from a
local folder (:func:`cifar10`, the python batches; never downloaded).

``load_digits`` reads 1,797 greyscale 8x8 images (pixel values 0..16, ten classes) from a
file inside the scikit-learn package: nothing is downloaded. :func:`digits` returns them
as torch tensors, pixels scaled to [0, 1], split into a training and a test part by a
seeded permutation, e.g. ``train, test = digits(n_train=200, n_test=100, seed=0)`` gives
``train.inputs`` of shape ``(200, 1, 8, 8)`` and ``train.targets`` of shape ``(200,)``.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path

import torch

__all__ = [
    "Dataset",
    "digits",
    "cifar10",
    "write_cifar10_like",
    "one_hot",
    "N_CLASSES",
    "N_DIGITS",
]

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


#: the CIFAR-10 python version's files (each a pickled dict of b"data" (10000, 3072)
#: uint8 rows, channel-major 3 x 32 x 32, and b"labels", 10,000 ints 0..9)
CIFAR10_TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR10_TEST = "test_batch"
CIFAR10_FOLDER = "cifar-10-batches-py"
#: per-channel mean and standard deviation of the CIFAR-10 training images (pixels in [0, 1])
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)


class _ArraysOnly(pickle.Unpickler):
    """An unpickler that rebuilds dicts, lists, bytes and NumPy arrays and nothing else:
    a data folder cannot run code through it."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),  # how protocol 2 writes Python 3 bytes
    }

    def find_class(self, module: str, name: str):
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a CIFAR-10 batch")


def _cifar_folder(root) -> Path:
    root = Path(root)
    for folder in (root, root / CIFAR10_FOLDER):
        if all((folder / name).is_file() for name in (*CIFAR10_TRAIN, CIFAR10_TEST)):
            return folder
    raise ValueError(
        f"data root {str(root)!r} holds no CIFAR-10 python batches: expected "
        f"data_batch_1..5 and test_batch in it or in {CIFAR10_FOLDER}/ (the python version "
        "from https://www.cs.toronto.edu/~kriz/cifar.html; nothing is downloaded)"
    )


def _cifar_file(path: Path) -> tuple[torch.Tensor, torch.Tensor]:
    import numpy as np

    try:
        with open(path, "rb") as handle:
            batch = _ArraysOnly(handle, encoding="bytes").load()
        images = np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
        labels = np.asarray(batch[b"labels"], dtype=np.int64)
    except Exception as error:
        message = f"{str(path)!r} is not a CIFAR-10 python batch ({type(error).__name__})"
        raise ValueError(message) from None
    if labels.shape != (images.shape[0],) or labels.min() < 0 or labels.max() >= N_CLASSES:
        raise ValueError(f"{str(path)!r}: labels must be one int 0..9 per image")
    return torch.from_numpy(images.copy()), torch.from_numpy(labels)


def _normalized(images: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    mean = torch.tensor(CIFAR10_MEAN, dtype=dtype).reshape(1, 3, 1, 1)
    std = torch.tensor(CIFAR10_STD, dtype=dtype).reshape(1, 3, 1, 1)
    return (images.to(dtype) / 255.0 - mean) / std


def cifar10(
    root,
    n_train: int | None = None,
    n_test: int | None = None,
    dtype: torch.dtype = torch.float32,
) -> tuple[Dataset, Dataset]:
    """CIFAR-10 from the python batches in a local folder ``root`` (never downloads).

    ``root`` holds ``data_batch_1`` .. ``data_batch_5`` and ``test_batch`` (or a
    ``cifar-10-batches-py`` folder that does). Returns the training and test sets,
    ``inputs`` ``(n, 3, 32, 32)`` scaled to [0, 1] and standardized per channel
    (``CIFAR10_MEAN``, ``CIFAR10_STD``), ``targets`` ``(n,)`` int64; ``n_train`` /
    ``n_test`` keep the first that many (default: all, 50,000 and 10,000). The files are
    read with an unpickler that accepts arrays and containers only.
    """
    folder = _cifar_folder(root)
    parts = [_cifar_file(folder / name) for name in CIFAR10_TRAIN]
    train_images = torch.cat([images for images, _ in parts])
    train_labels = torch.cat([labels for _, labels in parts])
    test_images, test_labels = _cifar_file(folder / CIFAR10_TEST)
    for name, wanted, available in (
        ("n_train", n_train, len(train_labels)),
        ("n_test", n_test, len(test_labels)),
    ):
        if wanted is not None and not 1 <= wanted <= available:
            raise ValueError(f"{name} must be in [1, {available}] for this folder; got {wanted}")
    train = slice(0, n_train)
    test = slice(0, n_test)
    return (
        Dataset(_normalized(train_images[train], dtype), train_labels[train]),
        Dataset(_normalized(test_images[test], dtype), test_labels[test]),
    )


def write_cifar10_like(root, n_per_batch: int = 4, seed: int = 0) -> Path:
    """Write a tiny folder in the CIFAR-10 python format (random images and labels,
    ``n_per_batch`` per file): for tests and for trying the pipeline without the data."""
    import numpy as np

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for name in (*CIFAR10_TRAIN, CIFAR10_TEST):
        batch = {
            b"batch_label": name.encode(),
            b"labels": [int(v) for v in rng.integers(0, N_CLASSES, n_per_batch)],
            b"data": rng.integers(0, 256, (n_per_batch, 3072), dtype=np.uint8),
            b"filenames": [f"{name}_{i}.png".encode() for i in range(n_per_batch)],
        }
        with open(root / name, "wb") as handle:
            pickle.dump(batch, handle, protocol=2)
    return root
