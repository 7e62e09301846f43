"""How alike are the solutions? Layer-by-layer linear CKA between trained networks.

The small CNN is trained on the digits with SGD (momentum) and with AdaHessian, each from
two seeds (the seed sets the initial weights and the batch order). On the test images, the
representation after every ReLU, the pooling and the output layer are compared with
linear CKA (:func:`hessian_lab.torch.cka.linear_cka`; 1 = the same up to a rotation and a
scale). Pairs: two seeds of one optimizer (the seed-to-seed baseline), the two optimizers
from the same initialization, the two optimizers from different ones, and each trained
network against its own initialization (how far training moved the layer).
"""

from __future__ import annotations

from ..plots import cka_layers
from ..torch.cka import cka_by_layer
from ..torch.train import accuracy, one_thread
from .base import ExperimentResult
from .digits_setup import OPTIMIZERS, SETTINGS, Size, data, fit, fresh_model

NAME = "digits-cka"
TITLE = "Digits, small CNN: linear CKA between SGD and AdaHessian solutions, layer by layer"
DEFAULT = Size(n_train=1000, n_test=500, epochs=8)
QUICK = Size(n_train=256, n_test=200, epochs=4, batch=32)
SEEDS = (0, 1)
PAIRS = (
    ("SGD seed 0", "SGD seed 1"),
    ("AdaHessian seed 0", "AdaHessian seed 1"),
    ("SGD seed 0", "AdaHessian seed 0"),
    ("SGD seed 1", "AdaHessian seed 0"),
    ("SGD seed 0", "init seed 0"),
    ("AdaHessian seed 0", "init seed 0"),
)


def run(quick: bool = False) -> ExperimentResult:
    size = QUICK if quick else DEFAULT
    train_set, test_set = data(size)
    nets, scores = {}, {}
    with one_thread():
        for seed in SEEDS:
            nets[f"init seed {seed}"] = fresh_model(seed)
            for optimizer in OPTIMIZERS:
                model = fresh_model(seed)
                fit(model, optimizer, train_set, test_set, size, seed=seed)
                nets[f"{optimizer} seed {seed}"] = model
                scores[f"{optimizer} seed {seed}"] = accuracy(model, test_set)
        similarity = {
            f"{a} vs {b}": cka_by_layer(nets[a], nets[b], test_set.inputs) for a, b in PAIRS
        }
    layers = list(next(iter(similarity.values())))
    table = [
        {"layer": layer, **{pair: values[layer] for pair, values in similarity.items()}}
        for layer in layers
    ]
    data_out = {
        "settings": {**SETTINGS, "n_train": size.n_train, "n_test": size.n_test,
                     "epochs": size.epochs, "batch_size": size.batch, "seeds": SEEDS},
        "test_accuracy": scores,
        "cka": similarity,
    }
    figures = {"cka": cka_layers(layers, similarity, title=TITLE)}
    notes = [
        "test accuracy: " + ", ".join(f"{name} {value:.3f}" for name, value in scores.items())
    ]
    return ExperimentResult(NAME, TITLE, table, data_out, figures, notes)


__all__ = ["run", "NAME", "TITLE", "PAIRS"]
