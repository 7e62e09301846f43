"""Seed 002's setting: train one network with SGD and with AdaHessian, compare the solutions.

Both runs start from the same seeded initial weights and see the batches in the same
seeded order. After training, the layers of the two networks (and of each against the
shared initialization) are compared with linear CKA, SVCCA and the orthogonal Procrustes
distance (:mod:`hessian_lab.torch.similarity`) on test images.

Presets (``PRESETS``):

- ``seed002``: the seed's ResNet-18 / CIFAR-10 hyperparameters: ``SGD(lr=0.01,
  momentum=0.95)`` and ``AdaHessian(lr=0.15, betas=(0.9, 0.999), hessian_power=1)``, both
  with weight decay 5e-4, batches of 256;
- ``digits``: the digits studies' ``SGD(lr=0.05, momentum=0.9)`` and ``AdaHessian(lr=0.15)``,
  no weight decay, batches of 64.

Settings: ``digits`` with the small ``cnn`` (or ``mlp``), float64, on scikit-learn's copy
(offline); ``cifar10`` with ``resnet18`` (torchvision's, 10 classes), float32, read from a
local folder of the CIFAR-10 python batches (:func:`hessian_lab.torch.data.cifar10`).
With ``checkpoint_dir`` every epoch of each run is saved there, and a rerun with the same
arguments resumes after the last saved epoch (:func:`hessian_lab.torch.train.train`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from .adahessian import AdaHessian
from .data import cifar10, digits
from .models import COMPARED_LAYERS, build, n_parameters, resnet18_source
from .similarity import similarity_by_layer
from .train import train

__all__ = ["Preset", "PRESETS", "DATASETS", "resolve_device", "compare_solutions"]


@dataclass(frozen=True)
class Preset:
    """Hyperparameters of the two runs (keyword arguments of each optimizer)."""

    batch_size: int
    sgd: dict
    adahessian: dict


PRESETS = {
    "seed002": Preset(
        256,
        {"lr": 0.01, "momentum": 0.95, "weight_decay": 5e-4},
        {"lr": 0.15, "betas": (0.9, 0.999), "hessian_power": 1.0, "weight_decay": 5e-4},
    ),
    "digits": Preset(64, {"lr": 0.05, "momentum": 0.9}, {"lr": 0.15}),
}
#: data set -> the models it can train
DATASETS = {"digits": ("cnn", "mlp"), "cifar10": ("resnet18",)}


def resolve_device(name: str) -> torch.device:
    """``auto`` (CUDA when available, else CPU), ``cpu`` or ``cuda``."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "cuda":
        if not torch.cuda.is_available():
            raise ValueError("--device cuda: no CUDA device is available here; use cpu or auto")
        return torch.device("cuda")
    raise ValueError(f"device {name!r}; allowed: auto, cpu, cuda")


def _optimizers(preset: Preset, seed: int) -> dict[str, tuple[Callable, bool]]:
    """name -> (params -> optimizer, second order?)."""
    return {
        "SGD": (lambda params: torch.optim.SGD(params, **preset.sgd), False),
        "AdaHessian": (lambda params: AdaHessian(params, seed=seed, **preset.adahessian), True),
    }


def _data(dataset: str, data_root, n_train, n_test, seed: int):
    if dataset == "digits":
        return digits(n_train=n_train or 1000, n_test=n_test or 500, seed=seed)
    if data_root is None:
        raise ValueError("--dataset cifar10 needs --data-root, a folder of its python batches")
    return cifar10(data_root, n_train, n_test)


def compare_solutions(
    dataset: str = "digits",
    model: str = "cnn",
    *,
    data_root: str | os.PathLike | None = None,
    preset: str = "seed002",
    epochs: int = 1,
    seed: int = 0,
    device: str = "auto",
    n_train: int | None = None,
    n_test: int | None = None,
    similarity_examples: int = 500,
    checkpoint_dir: str | os.PathLike | None = None,
    log: Callable[[str], None] | None = None,
) -> dict:
    """Train ``model`` on ``dataset`` with SGD and AdaHessian (``preset``), then compare.

    Returns a report: ``settings``, per optimizer its ``history`` (per epoch: train loss and
    accuracy, test accuracy; epoch 0 is the initialization) and ``seconds``, and
    ``similarity`` ``{measure: {pair: {layer: value}}}`` on the first
    ``similarity_examples`` test images for the pairs SGD vs AdaHessian and each vs the
    initialization. ``log`` receives the per-epoch progress lines.
    """
    if dataset not in DATASETS:
        raise ValueError(f"dataset {dataset!r}; allowed: {', '.join(DATASETS)}")
    if model not in DATASETS[dataset]:
        raise ValueError(
            f"model {model!r} does not fit {dataset}; allowed: {', '.join(DATASETS[dataset])}"
        )
    if preset not in PRESETS:
        raise ValueError(f"preset {preset!r}; allowed: {', '.join(PRESETS)}")
    chosen = PRESETS[preset]
    where = resolve_device(device)
    dtype = torch.float32 if dataset == "cifar10" else torch.float64
    train_set, test_set = _data(dataset, data_root, n_train, n_test, seed)
    if checkpoint_dir is not None:
        Path(checkpoint_dir).mkdir(parents=True, exist_ok=True)
    nets = {"init": build(model, seed=seed, dtype=dtype).to(where)}
    report: dict = {
        "settings": {
            "dataset": dataset, "model": model, "parameters": n_parameters(nets["init"]),
            **({"resnet18_from": resnet18_source()} if model == "resnet18" else {}),
            "preset": preset, **asdict(chosen), "epochs": epochs, "seed": seed,
            "device": str(where), "dtype": str(dtype).removeprefix("torch."),
            "n_train": len(train_set), "n_test": len(test_set),
        },
        "runs": {},
    }
    for name, (make, second_order) in _optimizers(chosen, seed).items():
        net = build(model, seed=seed, dtype=dtype).to(where)
        checkpoint = None
        if checkpoint_dir is not None:
            checkpoint = Path(checkpoint_dir) / f"{dataset}-{model}-{preset}-{name}-seed{seed}.pt"
        started = time.perf_counter()
        history = train(
            net, make(list(net.parameters())), train_set, test_set, epochs,
            batch_size=chosen.batch_size, seed=seed, second_order=second_order,
            device=where, checkpoint=checkpoint,
            log=None if log is None else (lambda line, name=name: log(f"{name}: {line}")),
        )
        report["runs"][name] = {"history": asdict(history),
                                "seconds": time.perf_counter() - started}
        nets[name] = net
    inputs = test_set.inputs[:similarity_examples].to(where)
    layers = COMPARED_LAYERS[model]
    pairs = {
        "SGD vs AdaHessian": ("SGD", "AdaHessian"),
        "SGD vs init": ("SGD", "init"),
        "AdaHessian vs init": ("AdaHessian", "init"),
    }
    per_pair = {
        label: similarity_by_layer(nets[a], nets[b], inputs, layers)
        for label, (a, b) in pairs.items()
    }
    measures = next(iter(per_pair.values()))
    report["similarity"] = {m: {p: per_pair[p][m] for p in per_pair} for m in measures}
    return report
