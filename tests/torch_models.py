"""Small float64 torch models and their exact Hessians, for the hessian_lab.torch tests."""

from __future__ import annotations

import pytest
import torch
from torch.func import functional_call

from hessian_lab.torch.train import one_thread


@pytest.fixture(scope="module")
def one_torch_thread():
    """Run a module's tests on one torch thread: on the shared 2-core machine, torch's
    intra-op threads spin against the other processes and small products slow down
    by 10-20x."""
    with one_thread():
        yield


def mlp_problem(seed: int = 0, loss: str = "cross_entropy"):
    """An 8-16-3 tanh MLP (195 parameters) on 40 random points: ``(model, loss_fn, loss_of)``.

    ``loss_fn()`` is the loss at the model's parameters; ``loss_of(theta)`` the same loss as
    a function of a flat parameter vector (for ``torch.autograd.functional.hessian``).
    """
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = torch.nn.Sequential(
        torch.nn.Linear(8, 16), torch.nn.Tanh(), torch.nn.Linear(16, 3)
    ).double()
    X = torch.randn(40, 8, generator=gen, dtype=torch.float64)
    if loss == "cross_entropy":
        y = torch.randint(0, 3, (40,), generator=gen)

        def criterion(out):
            return torch.nn.functional.cross_entropy(out, y)
    else:
        y = torch.randn(40, 3, generator=gen, dtype=torch.float64)

        def criterion(out):
            return 0.5 * ((out - y) ** 2).sum(dim=1).mean()

    names = [name for name, _ in model.named_parameters()]
    shapes = [p.shape for p in model.parameters()]

    def loss_of(theta):
        pieces = torch.split(theta, [s.numel() for s in shapes])
        params = {n: t.reshape(s) for n, t, s in zip(names, pieces, shapes, strict=True)}
        return criterion(functional_call(model, params, (X,)))

    return model, (lambda: criterion(model(X))), loss_of


def flat_parameters(model) -> torch.Tensor:
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()])


def exact_hessian(model, loss_of) -> torch.Tensor:
    """``(n, n)`` Hessian at the model's current parameters, by torch.autograd.functional."""
    return torch.autograd.functional.hessian(loss_of, flat_parameters(model))
