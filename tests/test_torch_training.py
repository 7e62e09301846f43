"""The digits data, the seeded models and the training loops of the network studies."""

from __future__ import annotations

import math

import pytest
import torch

from hessian_lab.torch.data import N_DIGITS, digits, one_hot
from hessian_lab.torch.models import build, mlp, n_parameters, small_cnn
from hessian_lab.torch.train import (
    History,
    accuracy,
    dataset_loss,
    gd_with_sharpness,
    one_thread,
    train,
)


@pytest.fixture(scope="module")
def split():
    return digits(n_train=120, n_test=60, seed=3)


def test_digits_split_is_seeded_disjoint_and_scaled_to_the_unit_interval(split):
    train_set, test_set = split
    assert train_set.inputs.shape == (120, 1, 8, 8) and test_set.inputs.shape == (60, 1, 8, 8)
    assert train_set.inputs.dtype == torch.float64 and train_set.targets.dtype == torch.int64
    assert 0.0 <= float(train_set.inputs.min()) and float(train_set.inputs.max()) == 1.0
    again, _ = digits(n_train=120, n_test=60, seed=3)
    assert torch.equal(again.inputs, train_set.inputs)
    other, _ = digits(n_train=120, n_test=60, seed=4)
    assert not torch.equal(other.targets, train_set.targets)
    flat_train = {tuple(x.tolist()) for x in train_set.inputs.reshape(120, -1)}
    flat_test = {tuple(x.tolist()) for x in test_set.inputs.reshape(60, -1)}
    everything, _ = digits(n_train=N_DIGITS, n_test=0, seed=0, flat=True)
    assert everything.inputs.shape == (N_DIGITS, 64)
    assert set(everything.targets.tolist()) == set(range(10))
    # the UCI digits hold a few duplicate images; a random split shares at most a handful
    assert len(flat_train & flat_test) <= 3


def test_digits_rejects_sizes_beyond_the_data_set():
    with pytest.raises(ValueError, match="n_train \\+ n_test <= 1797"):
        digits(n_train=1700, n_test=200)


def test_one_hot_and_scaled_copies(split):
    train_set, _ = split
    rows = one_hot(train_set.targets)
    assert rows.shape == (120, 10) and torch.equal(rows.argmax(dim=1), train_set.targets)
    assert torch.equal(rows.sum(dim=1), torch.ones(120, dtype=torch.float64))
    assert torch.equal(train_set.scaled(1e3).inputs, train_set.inputs * 1e3)


def test_models_are_seeded_and_leave_the_global_random_state_alone():
    state = torch.random.get_rng_state()
    a, b, c = small_cnn(seed=5), small_cnn(seed=5), small_cnn(seed=6)
    assert torch.equal(torch.random.get_rng_state(), state)
    pa, pb, pc = (torch.cat([p.flatten() for p in m.parameters()]) for m in (a, b, c))
    assert torch.equal(pa, pb) and not torch.equal(pa, pc)
    # conv 1->8 (3x3), conv 8->16 (3x3), linear 256->10, with biases
    assert n_parameters(a) == (9 * 8 + 8) + (72 * 16 + 16) + (256 * 10 + 10)
    assert n_parameters(mlp((32,), "elu")) == 64 * 32 + 32 + 32 * 10 + 10
    with pytest.raises(ValueError, match="allowed: mlp, cnn"):
        build("resnet")
    with pytest.raises(ValueError, match="allowed: tanh, elu, relu"):
        mlp(activation="gelu")


def test_mse_loss_is_half_the_mean_squared_distance_to_one_hot_targets(split):
    train_set, _ = split
    model = mlp((16,), seed=0)
    outputs = model(train_set.inputs)
    expected = (
        0.5
        * sum(
            float(((outputs[i].detach() - one_hot(train_set.targets[i : i + 1])[0]) ** 2).sum())
            for i in range(120)
        )
        / 120
    )
    measured = float(dataset_loss(model, train_set, "mse").detach())
    assert measured == pytest.approx(expected, rel=1e-12)
    with pytest.raises(ValueError, match="allowed: mse, cross-entropy"):
        dataset_loss(model, train_set, "hinge")


def test_sgd_training_learns_the_digits_and_is_reproducible(split):
    train_set, test_set = split

    def fit():
        model = small_cnn(seed=0)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        with one_thread():
            return model, train(model, optimizer, train_set, test_set, epochs=6, batch_size=16)

    model, history = fit()
    _, again = fit()
    assert len(history.train_loss) == 7 and history.diverged_at is None
    assert history.train_loss[-1] < 0.5 * history.train_loss[0]
    assert history.test_accuracy[-1] > 0.5  # chance is 0.1
    assert history.test_accuracy[-1] == accuracy(model, test_set)
    assert again.train_loss == pytest.approx(history.train_loss, rel=1e-12)


def test_training_stops_at_the_first_epoch_whose_loss_is_not_finite(split):
    train_set, test_set = split
    model = mlp((16,), seed=0)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e6)
    history = train(model, optimizer, train_set.scaled(1e3), test_set, epochs=40, loss="mse")
    assert history.diverged_at is not None and history.diverged_at <= 40
    assert len(history.train_loss) == history.diverged_at + 1
    assert not math.isfinite(history.train_loss[-1])


def test_one_thread_restores_the_thread_count():
    before = torch.get_num_threads()
    with one_thread():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


def test_history_extend_continues_the_epoch_count():
    first = History([3.0, 2.0], [0.1, 0.5], [0.1, 0.4])
    second = History([2.0, 1.0, float("nan")], [0.5, 0.7, 0.1], [0.4, 0.6, 0.1], diverged_at=2)
    joined = first.extend(second)
    assert joined.train_loss[:3] == [3.0, 2.0, 1.0] and joined.test_accuracy == [0.1, 0.4, 0.6, 0.1]
    assert joined.diverged_at == 3


def test_gd_with_sharpness_measures_on_schedule_and_takes_plain_gd_steps(split):
    train_set, _ = split
    model = mlp((8,), seed=1)
    reference = mlp((8,), seed=1)
    calls = []
    trace = gd_with_sharpness(
        model, train_set, lr=0.1, steps=10, sharpness=lambda m: calls.append(1) or 7.0, every=4
    )
    assert trace.sharpness_steps == [0, 4, 8, 10] and trace.sharpness == [7.0] * 4
    assert len(calls) == 4 and len(trace.loss) == 11
    for _ in range(10):  # the same ten steps by hand: w <- w - lr grad
        reference.zero_grad()
        dataset_loss(reference, train_set, "mse").backward()
        with torch.no_grad():
            for p in reference.parameters():
                p -= 0.1 * p.grad
    for p, q in zip(model.parameters(), reference.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=1e-12, atol=1e-14)
