"""``hessian-lab similarity``: train with SGD and AdaHessian, compare the solutions by layer."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from .common import err_console, handle_errors, out_console, print_json
from .parsing import CLIError

HELP = """Train one network with SGD and with AdaHessian, then compare the solutions.

Both runs start from the same seeded weights and batch order. Afterwards each layer of
the two networks (and of each against the initialization) is compared on test images
with linear CKA, SVCCA (1 = alike) and the orthogonal Procrustes distance (0 = alike,
2 = orthogonal). --preset seed002 is the seed study's setting: SGD lr 0.01 momentum 0.95,
AdaHessian lr 0.15 betas (0.9, 0.999) hessian_power 1, weight decay 5e-4, batches of 256.
--dataset cifar10 reads the CIFAR-10 python batches (data_batch_1..5, test_batch) from
--data-root and never downloads; it trains --model resnet18 (torchvision's, 10 classes,
float32). The digits (offline, float64) train the small cnn or the mlp. One progress
line per epoch goes to stderr; with --checkpoint-dir every epoch is saved there and a
rerun of the same command resumes after the last saved epoch.

\b
Examples:
  hessian-lab similarity --epochs 4 --preset digits
  hessian-lab similarity --dataset cifar10 --data-root ~/data/cifar-10-batches-py \\
      --model resnet18 --epochs 30 --device auto --checkpoint-dir runs/seed002
"""


class DatasetName(str, Enum):
    digits = "digits"
    cifar10 = "cifar10"


class ModelName(str, Enum):
    cnn = "cnn"
    mlp = "mlp"
    resnet18 = "resnet18"


class DeviceName(str, Enum):
    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"


class PresetName(str, Enum):
    seed002 = "seed002"
    digits = "digits"


@handle_errors
def similarity(
    dataset: Annotated[DatasetName, typer.Option(help="digits (offline) or cifar10.")] = (
        DatasetName.digits
    ),
    data_root: Annotated[
        Path | None, typer.Option(help="Folder of the CIFAR-10 python batches.")
    ] = None,
    model: Annotated[
        ModelName | None, typer.Option(help="cnn / mlp (digits), resnet18 (cifar10).")
    ] = None,
    device: Annotated[DeviceName, typer.Option(help="auto: CUDA when available.")] = (
        DeviceName.auto
    ),
    preset: Annotated[PresetName, typer.Option(help="The optimizers' hyperparameters.")] = (
        PresetName.seed002
    ),
    epochs: Annotated[int, typer.Option(help="Epochs per optimizer.")] = 1,
    seed: Annotated[int, typer.Option(help="Seeds the weights, batch order, probes.")] = 0,
    train_examples: Annotated[
        int | None, typer.Option(help="Training examples (default: digits 1000, all CIFAR).")
    ] = None,
    test_examples: Annotated[
        int | None, typer.Option(help="Test examples (default: digits 500, all CIFAR).")
    ] = None,
    similarity_examples: Annotated[
        int, typer.Option(help="Test images the layers are compared on.")
    ] = 500,
    checkpoint_dir: Annotated[
        Path | None, typer.Option(help="Save every epoch here; a rerun resumes.")
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    for name, value, low in (
        ("--epochs", epochs, 1), ("--seed", seed, 0), ("--similarity-examples",
                                                       similarity_examples, 2),
        ("--train-examples", train_examples, 1), ("--test-examples", test_examples, 2),
    ):
        if value is not None and value < low:
            raise CLIError(f"{name} must be an integer >= {low}; got {value}")
    if dataset is DatasetName.cifar10 and data_root is None:
        raise CLIError("--dataset cifar10 needs --data-root DIR (the python batches; no download)")
    chosen = model or (ModelName.resnet18 if dataset is DatasetName.cifar10 else ModelName.cnn)
    from ..torch.solutions import compare_solutions

    report = compare_solutions(
        dataset.value, chosen.value, data_root=data_root, preset=preset.value, epochs=epochs,
        seed=seed, device=device.value, n_train=train_examples, n_test=test_examples,
        similarity_examples=similarity_examples, checkpoint_dir=checkpoint_dir,
        log=lambda line: err_console().print(line, highlight=False),
    )
    if json_output:
        print_json({"command": "similarity", **report})
        return
    from rich.table import Table

    console = out_console()
    for name, run in report["runs"].items():
        history = run["history"]
        console.print(
            f"{name}: test accuracy {history['test_accuracy'][-1]:.3f}, train loss "
            f"{history['train_loss'][-1]:.4g} after {len(history['train_loss']) - 1} epochs"
        )
    for measure, pairs in report["similarity"].items():
        table = Table(title=f"{measure} by layer ({chosen.value} on {dataset.value})")
        table.add_column("layer")
        for pair in pairs:
            table.add_column(pair, justify="right")
        for layer in next(iter(pairs.values())):
            table.add_row(layer, *(f"{pairs[p][layer]:.4f}" for p in pairs))
        console.print(table)
