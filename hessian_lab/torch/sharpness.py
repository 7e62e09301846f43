"""The bridge to the quadratic theory: a network's sharpness and the step size it allows.

Near its current weights ``w`` the training loss is the quadratic model
``L(w + d) ~ L(w) + g^T d + 1/2 d^T H d``. Gradient descent on that model is stable only for

    lr < lr_max = 2 / lambda_max(H)

(the quadratic lab's ``lr_max``). ``lambda_max``, the *sharpness*, comes from Lanczos on
Hessian-vector products (:func:`hessian_lab.torch.spectrum.lambda_max`). On real networks
full-batch GD at a fixed lr tends to drive the sharpness up to about ``2 / lr`` and hover
there: the *edge of stability* (Cohen et al., ICLR 2021).
"""

from __future__ import annotations

import math
import os
from typing import NamedTuple

import torch
from torch import nn

from .data import Dataset, digits
from .hvp import evaluation_mode, mean_loss
from .models import build, load_weights, n_parameters
from .spectrum import top_eigenvalues
from .train import gd_with_sharpness, loss_function, one_thread

__all__ = ["Sharpness", "sharpness", "lr_max", "network_sharpness"]


class Sharpness(NamedTuple):
    """``lambda_max`` of the loss's Hessian at the current weights, ``lr_max = 2 / lambda_max``
    (inf when ``lambda_max <= 0``), the loss, the Hessian-vector products spent and whether
    Lanczos met its tolerance."""

    lambda_max: float
    lr_max: float
    loss: float
    n_products: int
    converged: bool


def lr_max(lambda_max: float) -> float:
    """GD's stability bound on the quadratic model, ``2 / lambda_max`` (inf if not positive)."""
    return 2.0 / lambda_max if lambda_max > 0 else math.inf


def _batches(model: nn.Module, data, loss_fn):
    """``(batches, loss of a batch)`` for :func:`sharpness`'s accepted inputs."""
    batches = [(data.inputs, data.targets)] if isinstance(data, Dataset) else data
    if callable(loss_fn):
        return batches, loss_fn
    criterion = loss_function(loss_fn)

    def batch_loss(batch):
        inputs, targets = batch[0], batch[1]
        return criterion(model(inputs), targets)

    return batches, batch_loss


def sharpness(
    model: nn.Module,
    data,
    loss_fn="mse",
    tol: float = 1e-6,
    max_iter: int | None = None,
    seed: int = 0,
    progress: bool | None = None,
) -> Sharpness:
    """The sharpness of ``model``'s mean loss over all of ``data``, by Lanczos.

    ``data``: a :class:`~hessian_lab.torch.data.Dataset` (one full batch) or any
    re-iterable of batches (a ``DataLoader``, a list); ``loss_fn``: a callable
    ``loss_fn(batch)`` returning the batch's mean loss, or a loss name (``"mse"``,
    ``"cross-entropy"``) applied to ``model(batch[0])`` and ``batch[1]``. The Hessian is
    that of the whole data set's mean loss (batch products weighted by batch size, one
    batch in memory at a time; :mod:`~hessian_lab.torch.hvp`), in eval mode.
    ``tol`` is the relative residual target (the eigenvalue's error is below it);
    ``max_iter`` caps a Lanczos run's products; ``seed`` seeds the start vectors.
    """
    batches, batch_loss = _batches(model, data, loss_fn)
    top = top_eigenvalues(
        model, batch_loss, 1, data=batches, tol=tol, max_iter=max_iter, seed=seed,
        progress=progress,
    )
    value = float(top.values[0])
    with evaluation_mode(model):
        current = mean_loss(batch_loss, batches)
    return Sharpness(value, lr_max(value), current, top.n_products, top.converged)


def network_sharpness(
    model: str = "mlp",
    loss: str = "mse",
    examples: int = 256,
    seed: int = 0,
    weights: str | os.PathLike | None = None,
    gd_steps: int = 0,
    lr: float | None = None,
    tol: float = 1e-8,
) -> tuple[nn.Module, dict]:
    """The bridge in one call: build ``model`` (:func:`~hessian_lab.torch.models.build`,
    seeded by ``seed``) in float64, load ``weights`` if given, take ``gd_steps`` full-batch GD
    steps at ``lr`` on ``examples`` digits (split seeded by ``seed``), and measure.

    Returns the model and a report: ``model``, ``parameters``, ``examples``, ``loss_name``,
    ``gd_steps``, ``lr``, ``loss``, ``lambda_max``, ``lr_max`` (= 2 / lambda_max),
    ``lr_x_lambda_max`` (None without ``lr``; 2 is the quadratic model's stability edge),
    ``lanczos_products`` and ``converged``.
    """
    if gd_steps > 0 and lr is None:
        raise ValueError("gd_steps > 0 needs a learning rate lr")
    data, _ = digits(n_train=examples, n_test=0, seed=seed, dtype=torch.float64)
    net = build(model, seed=seed, dtype=torch.float64)
    if weights is not None:
        load_weights(net, weights)
    with one_thread():
        if gd_steps > 0:
            gd_with_sharpness(net, data, lr, gd_steps, None, loss=loss)
        measured = sharpness(net, data, loss, tol=tol, seed=seed)
    report = {
        "model": model,
        "parameters": n_parameters(net),
        "examples": examples,
        "loss_name": loss,
        "gd_steps": gd_steps,
        "lr": lr,
        "loss": measured.loss,
        "lambda_max": measured.lambda_max,
        "lr_max": measured.lr_max,
        "lr_x_lambda_max": None if lr is None else lr * measured.lambda_max,
        "lanczos_products": measured.n_products,
        "converged": measured.converged,
    }
    return net, report
