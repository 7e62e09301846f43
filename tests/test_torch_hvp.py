"""Spectra over a data set in batches, models in train mode, eigenvectors per parameter."""

from __future__ import annotations

import pytest
import torch
from torch_models import exact_hessian, mlp_problem, one_torch_thread  # noqa: F401

from hessian_lab.torch.hvp import batch_size, unflatten
from hessian_lab.torch.sharpness import sharpness
from hessian_lab.torch.spectrum import (
    hutchinson_trace,
    lambda_max,
    spectral_density,
    top_eigenvalues,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _data(n=40, seed=3):
    gen = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 8, generator=gen, dtype=torch.float64)
    return X, torch.randn(n, 3, generator=gen, dtype=torch.float64)


def _squares(model, X, y):
    return 0.5 * ((model(X) - y) ** 2).sum(dim=1).mean()


@pytest.fixture(scope="module")
def setting():
    """mlp_problem's model and data (squares), its exact Hessian, uneven batches 16/16/8."""
    model, loss_fn, loss_of = mlp_problem(seed=3, loss="squares")
    X, y = _data()
    batches = [(X[i : i + 16], y[i : i + 16]) for i in range(0, 40, 16)]
    H = exact_hessian(model, loss_of)
    return model, loss_fn, batches, H


def batch_loss(model):
    return lambda batch: _squares(model, *batch)


def test_batched_hessian_is_the_data_sets_mean_loss_hessian(setting):
    model, loss_fn, batches, H = setting
    assert [batch_size(b) for b in batches] == [16, 16, 8]  # unequal: weights matter
    exact = torch.linalg.eigvalsh(H).flip(0)
    found = top_eigenvalues(model, batch_loss(model), k=3, data=batches, tol=1e-10)
    assert found.converged
    torch.testing.assert_close(found.values, exact[:3], rtol=1e-9, atol=0)
    # an unweighted mean of the batch Hessians would be a different matrix
    assert abs(float(exact[0]) - lambda_max(model, batch_loss(model), data=batches[:1])) > 1e-3
    # a DataLoader is re-iterable data too
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(*_data()), batch_size=16, shuffle=False
    )
    assert lambda_max(model, batch_loss(model), data=loader, tol=1e-10) == pytest.approx(
        float(exact[0]), rel=1e-9
    )


def test_batched_trace_and_density_equal_the_full_batch_ones(setting):
    model, loss_fn, batches, H = setting
    full = hutchinson_trace(model, loss_fn, n_samples=6, seed=4)
    batched = hutchinson_trace(model, batch_loss(model), n_samples=6, data=batches, seed=4)
    torch.testing.assert_close(batched.samples, full.samples, rtol=1e-10, atol=0)
    slq_full = spectral_density(model, loss_fn, n_probes=2, n_steps=12, seed=1)
    slq = spectral_density(model, batch_loss(model), data=batches, n_probes=2, n_steps=12, seed=1)
    torch.testing.assert_close(slq.nodes, slq_full.nodes, rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(slq.weights, slq_full.weights, rtol=1e-7, atol=1e-12)


def test_sharpness_takes_any_model_data_and_loss_callable(setting):
    model, _, batches, H = setting
    measured = sharpness(model, batches, batch_loss(model), tol=1e-10)
    assert measured.lambda_max == pytest.approx(float(torch.linalg.eigvalsh(H)[-1]), rel=1e-9)
    X, y = _data()
    assert measured.loss == pytest.approx(float(_squares(model, X, y).detach()), rel=1e-12)
    assert measured.converged


def test_train_mode_model_is_measured_in_eval_mode_and_restored():
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(8, 6), torch.nn.BatchNorm1d(6), torch.nn.Tanh(),
        torch.nn.Dropout(0.5), torch.nn.Linear(6, 3),
    ).double()
    X, y = _data()
    batches = [(X[:20], y[:20]), (X[20:], y[20:])]
    model.train()
    stats = model[1].running_mean.clone()
    first = lambda_max(model, batch_loss(model), data=batches, tol=1e-10)
    again = lambda_max(model, batch_loss(model), data=batches, tol=1e-10)
    assert first == again  # no dropout masks or batch statistics: one answer
    assert model.training and all(m.training for m in model.modules())
    assert torch.equal(model[1].running_mean, stats)
    model.eval()
    assert lambda_max(model, batch_loss(model), data=batches, tol=1e-10) == first
    assert not model.training  # an eval-mode model stays in eval mode


def test_eigenvectors_split_per_parameter_by_name(setting):
    model, loss_fn, _, _ = setting
    top = top_eigenvalues(model, loss_fn, k=2, tol=1e-10)
    parts = top.by_parameter(model)
    assert list(parts) == [name for name, _ in model.named_parameters()]
    for name, p in model.named_parameters():
        assert parts[name].shape == (2, *p.shape)
    flat = torch.cat([parts[name].reshape(2, -1) for name in parts], dim=1)
    assert torch.equal(flat, top.vectors)
    assert unflatten(model, top.vectors[0])["2.bias"].shape == (3,)
    with pytest.raises(ValueError, match="vectors must have shape"):
        unflatten(model, torch.zeros(5))


def test_bad_data_names_itself(setting):
    model, _, batches, _ = setting
    with pytest.raises(ValueError, match="re-iterable"):
        lambda_max(model, batch_loss(model), data=iter(batches))
    with pytest.raises(ValueError, match="cannot count the examples"):
        lambda_max(model, lambda b: b["x"].sum(), data=[{"x": 1.0}, {"x": 2.0}])
    with pytest.raises(ValueError, match="holds no batch"):
        hutchinson_trace(model, batch_loss(model), data=[], n_samples=2)


def test_a_progress_bar_over_batches_changes_nothing(setting, capsys):
    model, _, batches, _ = setting
    quiet = hutchinson_trace(model, batch_loss(model), n_samples=3, data=batches)
    shown = hutchinson_trace(model, batch_loss(model), n_samples=3, data=batches, progress=True)
    assert torch.equal(quiet.samples, shown.samples)
    assert capsys.readouterr().out == ""  # the bar goes to stderr, never to stdout
