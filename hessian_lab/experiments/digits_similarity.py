"""How alike are the solutions? Linear CKA, SVCCA and the orthogonal Procrustes distance
between trained networks, layer by layer.

The small CNN is trained on the digits with SGD (momentum) and with AdaHessian, each from
two seeds (the seed sets the initial weights and the batch order). On the test images, the
representation after every ReLU, the pooling and the output layer are compared with the
three measures of :mod:`hessian_lab.torch.similarity` (linear CKA and SVCCA: 1 = alike;
Procrustes: 0 = the same up to a rotation and a scale, 2 = orthogonal). Pairs: two seeds
of one optimizer (the seed-to-seed baseline), the two optimizers from the same
initialization, the two optimizers from different ones, and each trained network against
its own initialization (how far training moved the layer). ``agreement`` says, per
measure pair, whether they rank the pairs of networks alike in each layer (Spearman's
rank correlation over the pairs, Procrustes negated so that all three point one way).
"""

from __future__ import annotations

from ..plots import cka_layers
from ..torch.similarity import MEASURES, similarity_by_layer
from ..torch.train import accuracy, one_thread
from .base import ExperimentResult
from .digits_setup import OPTIMIZERS, SETTINGS, Size, data, fit, fresh_model

NAME = "digits-similarity"
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


def _ranks(values: list[float]) -> list[float]:
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    for rank, index in enumerate(order):
        ranks[index] = float(rank)
    return ranks


def rank_agreement(a: list[float], b: list[float]) -> float:
    """Spearman's rank correlation of two equally long lists (no ties expected)."""
    ra, rb = _ranks(a), _ranks(b)
    n = len(a)
    return 1 - 6 * sum((x - y) ** 2 for x, y in zip(ra, rb, strict=True)) / (n * (n * n - 1))


def agreement(by_measure: dict[str, dict[str, dict[str, float]]]) -> dict[str, dict[str, float]]:
    """Per layer and measure pair, the rank correlation of the measures over the network
    pairs (similarities as given, distances negated). ``by_measure[m][pair][layer]``."""
    names = list(by_measure)
    pairs = list(by_measure[names[0]])
    layers = list(by_measure[names[0]][pairs[0]])
    sign = {m: -1.0 if MEASURES[m][1] == "distance" else 1.0 for m in names}
    out: dict[str, dict[str, float]] = {}
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            out[f"{first} ~ {second}"] = {
                layer: rank_agreement(
                    [sign[first] * by_measure[first][p][layer] for p in pairs],
                    [sign[second] * by_measure[second][p][layer] for p in pairs],
                )
                for layer in layers
            }
    return out


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
        per_pair = {
            f"{a} vs {b}": similarity_by_layer(nets[a], nets[b], test_set.inputs)
            for a, b in PAIRS
        }
    by_measure = {m: {pair: per_pair[pair][m] for pair in per_pair} for m in MEASURES}
    layers = list(next(iter(by_measure["linear CKA"].values())))
    table = [
        {"measure": m, "layer": layer, **{pair: by_measure[m][pair][layer] for pair in per_pair}}
        for m in MEASURES
        for layer in layers
    ]
    ranks = agreement(by_measure)
    data_out = {
        "settings": {**SETTINGS, "n_train": size.n_train, "n_test": size.n_test,
                     "epochs": size.epochs, "batch_size": size.batch, "seeds": SEEDS},
        "test_accuracy": scores,
        "similarity": by_measure,
        "rank_agreement": ranks,
    }
    figures = {"cka": cka_layers(layers, by_measure["linear CKA"], title=TITLE)}
    notes = [
        "test accuracy: " + ", ".join(f"{name} {value:.3f}" for name, value in scores.items()),
        "rank agreement over the network pairs (Spearman, per layer): "
        + "; ".join(
            f"{pair}: " + ", ".join(f"{v:.2f}" for v in values.values())
            for pair, values in ranks.items()
        ),
    ]
    return ExperimentResult(NAME, TITLE, table, data_out, figures, notes)


__all__ = ["run", "NAME", "TITLE", "PAIRS", "agreement", "rank_agreement"]
