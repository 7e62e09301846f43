"""The network experiments (quick mode): files, figures, and the science they show."""

from __future__ import annotations

import functools
import json

import pytest

from hessian_lab.experiments import EXPERIMENTS, ExperimentResult, run_experiment

NETWORK_NAMES = [
    "edge-of-stability", "digits-normalization", "digits-cross-init", "digits-similarity"
]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@functools.cache
def quick(name: str) -> ExperimentResult:
    return run_experiment(name, quick=True)


def test_the_network_experiments_sit_together_in_the_registry():
    names = list(EXPERIMENTS)
    first = names.index(NETWORK_NAMES[0])
    assert names[first : first + len(NETWORK_NAMES)] == NETWORK_NAMES


@pytest.mark.parametrize("name", NETWORK_NAMES)
def test_network_experiment_writes_table_json_and_png_figures(name, tmp_path):
    result = quick(name)
    written = {p.name for p in result.write(tmp_path)}
    expected = {"table.csv", "table.md", "result.json"} | {f"{f}.png" for f in result.figures}
    assert written == expected
    assert json.loads((tmp_path / "result.json").read_text())["name"] == name
    for figure in result.figures:
        assert (tmp_path / f"{figure}.png").read_bytes()[:8] == PNG_MAGIC


def test_edge_of_stability_sharpness_rises_from_below_to_about_two_over_lr():
    result = quick("edge-of-stability")
    (row,) = result.table
    edge = 2 / row["lr"]
    assert row["initial sharpness"] < 0.75 * edge  # it starts well inside the stable region
    assert 0.85 < row["plateau / (2/lr)"] < 1.25  # and ends hovering at the edge
    run = result.data["runs"][0]
    assert 0.8 * edge < run["sharpness"][-1] < 1.3 * edge
    assert run["loss"][-1] < 0.5 * run["loss"][0]  # while the loss keeps falling
    assert row["diverged at"] is None


def test_edge_of_stability_figure_shows_every_curve_and_its_two_over_lr_line():
    result = quick("edge-of-stability")
    top, bottom = result.figures["sharpness"].axes
    labels = [t.get_text() for t in top.get_legend().get_texts()]
    plain = [label.replace("$", "").replace(" ", "").replace("\\eta", "lr") for label in labels]
    assert "lr=0.2" in plain and "2/lr=10" in plain  # the curve and its 2 / lr line
    low, high = top.get_ylim()
    assert low <= min(result.data["runs"][0]["sharpness"]) and high > 10 * 1.05
    assert bottom.get_yscale() == "log" and bottom.get_legend() is not None


def by(result: ExperimentResult, **keys) -> dict:
    (row,) = [r for r in result.table if all(r[k] == v for k, v in keys.items())]
    return row


def test_normalization_both_learn_at_scale_one_and_neither_at_scale_1e_minus_4():
    result = quick("digits-normalization")
    for optimizer in ("SGD", "AdaHessian"):
        assert by(result, scale=1.0, optimizer=optimizer)["final test accuracy"] > 0.5
        # inputs 1e-4 times smaller: the first layer barely sees them, at chance (0.1)
        assert by(result, scale=1e-4, optimizer=optimizer)["final test accuracy"] < 0.2
    # inputs 1e3 times larger: SGD's first steps kill the network, it stays at chance,
    # while AdaHessian's curvature-scaled steps keep it learning
    sgd_large = by(result, scale=1e3, optimizer="SGD")["final test accuracy"]
    assert sgd_large < 0.2
    assert by(result, scale=1e3, optimizer="AdaHessian")["final test accuracy"] > sgd_large + 0.2


def test_normalization_figure_has_a_curve_per_run_and_a_visible_legend():
    result = quick("digits-normalization")
    loss_axes, accuracy_axes = result.figures["training"].axes
    assert len(loss_axes.get_lines()) == 6
    labels = {t.get_text() for t in accuracy_axes.get_legend().get_texts()}
    assert {"SGD, s = 0.0001", "AdaHessian, s = 1000", "chance (0.1)"} <= labels


def test_cross_init_paths_continue_from_the_first_phase_and_keep_learning():
    result = quick("digits-cross-init")
    assert [(r["first (A)"], r["then (B)"]) for r in result.table] == [
        ("SGD", "SGD"), ("SGD", "AdaHessian"), ("AdaHessian", "SGD"),
        ("AdaHessian", "AdaHessian"),
    ]
    histories = result.data["histories"]
    epochs = result.data["settings"]["epochs_per_phase"]
    for row in result.table:
        history = histories[f"{row['first (A)']} then {row['then (B)']}"]
        assert len(history["train_loss"]) == 2 * epochs + 1
        assert history["train_loss"][epochs] == row["train loss after A"]
        assert row["final train loss"] < history["train_loss"][0]
    # both paths out of one first phase start from the same weights
    assert by(result, **{"first (A)": "SGD", "then (B)": "SGD"})["train loss after A"] == by(
        result, **{"first (A)": "SGD", "then (B)": "AdaHessian"}
    )["train loss after A"]


def test_similarity_study_reports_three_measures_in_range_and_training_moves_the_output():
    from hessian_lab.torch.similarity import MEASURES

    result = quick("digits-similarity")
    layers = ["1 ReLU", "3 ReLU", "4 MaxPool2d", "6 Linear"]
    assert [(row["measure"], row["layer"]) for row in result.table] == [
        (m, layer) for m in MEASURES for layer in layers
    ]
    for row in result.table:
        values = [v for k, v in row.items() if k not in ("measure", "layer")]
        top = 2.0 if row["measure"] == "Procrustes distance" else 1.0
        assert len(values) == 6 and all(0.0 <= v <= top + 1e-12 for v in values)
    for m in ("linear CKA", "SVCCA"):
        output = by(result, measure=m, layer="6 Linear")
        # the trained output layers agree with each other more than with the untrained one
        assert output["SGD seed 0 vs AdaHessian seed 0"] > output["SGD seed 0 vs init seed 0"]
    output = by(result, measure="Procrustes distance", layer="6 Linear")
    assert output["SGD seed 0 vs AdaHessian seed 0"] < output["SGD seed 0 vs init seed 0"]
    ranks = result.data["rank_agreement"]
    assert set(ranks) == {"linear CKA ~ SVCCA", "linear CKA ~ Procrustes distance",
                          "SVCCA ~ Procrustes distance"}
    assert all(-1.0 <= v <= 1.0 for values in ranks.values() for v in values.values())
    # the README's reading: CKA and Procrustes agree in every layer, SVCCA with neither in
    # the hidden layers, all three at the output layer
    hidden = layers[:-1]
    assert min(ranks["linear CKA ~ Procrustes distance"].values()) > 0.3
    for pair in ("linear CKA ~ SVCCA", "SVCCA ~ Procrustes distance"):
        assert max(ranks[pair][layer] for layer in hidden) < 0.3
    assert min(values["6 Linear"] for values in ranks.values()) > 0.6
    assert len(result.figures["cka"].axes[0].get_legend().get_texts()) == 6


def test_rank_agreement_is_spearmans():
    from hessian_lab.experiments.digits_similarity import agreement, rank_agreement

    assert rank_agreement([1.0, 2.0, 3.0], [10.0, 20.0, 30.0]) == 1.0
    assert rank_agreement([1.0, 2.0, 3.0, 4.0], [4.0, 3.0, 2.0, 1.0]) == -1.0
    assert rank_agreement([1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 4.0, 3.0]) == pytest.approx(0.8)
    # a distance is negated: a Procrustes distance that falls as CKA rises agrees fully
    by_measure = {"linear CKA": {"p": {"l": 0.9}, "q": {"l": 0.5}, "r": {"l": 0.1}},
                  "Procrustes distance": {"p": {"l": 0.1}, "q": {"l": 0.7}, "r": {"l": 1.5}}}
    assert agreement(by_measure) == {"linear CKA ~ Procrustes distance": {"l": 1.0}}


def test_normalization_curvature_exact_diagonal_scales_like_s_squared_the_probe_like_s():
    curvature = quick("digits-normalization").data["first_layer_curvature_at_init"]
    small, one = curvature["0.0001"], curvature["1"]
    assert 0.3e-8 < small["exact"] / one["exact"] < 3e-8  # H_ii ~ s^2
    assert 0.3e-4 < small["hutchinson"] / one["hutchinson"] < 3e-4  # z_i (Hz)_i ~ s
    assert 0.3e-4 < small["grad"] / one["grad"] < 3e-4  # g ~ s
    assert small["hutchinson"] / small["exact"] > 1e4


def test_first_layer_exact_diagonal_equals_the_autograd_hessian():
    import torch
    from torch.func import functional_call

    from hessian_lab.experiments.digits_normalization import first_layer_curvature
    from hessian_lab.torch.data import digits
    from hessian_lab.torch.models import small_cnn
    from hessian_lab.torch.train import dataset_loss

    data, _ = digits(n_train=16, n_test=0, seed=1)
    model = small_cnn(seed=2)
    params = dict(model.named_parameters())

    def loss_of(weight):
        outputs = functional_call(model, {**params, "0.weight": weight}, (data.inputs,))
        return torch.nn.functional.cross_entropy(outputs, data.targets)

    weight = params["0.weight"].detach()
    hessian = torch.autograd.functional.hessian(loss_of, weight).reshape(72, 72)
    measured = first_layer_curvature(model, data, probes=2)
    assert measured["exact"] == pytest.approx(float(hessian.diagonal().abs().mean()), rel=1e-6)
    loss = dataset_loss(model, data)
    grad = torch.autograd.grad(loss, params["0.weight"])[0]
    assert measured["grad"] == pytest.approx(float(grad.abs().mean()), rel=1e-12)
