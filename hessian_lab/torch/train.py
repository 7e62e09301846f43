"""Training loops for the network studies: full-batch GD with sharpness tracking, and
seeded mini-batch training with any ``torch.optim`` optimizer (AdaHessian included).

Losses on a batch of ``n`` examples with outputs ``f(x_i)`` in R^10:

- ``"mse"``: ``L = 1/(2n) sum_i ||f(x_i) - e_{y_i}||^2`` (one-hot targets ``e_y``), the
  squared loss of the edge-of-stability studies (Cohen et al. 2021);
- ``"cross-entropy"``: ``L = -1/n sum_i log softmax(f(x_i))_{y_i}``.

Every optimizer steps through ``optimizer.step(closure)``; the closure zeroes the
gradients, evaluates the loss and calls ``loss.backward(create_graph=second_order)``, so a
second-order method (AdaHessian) can take Hessian-vector products through the graph.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch
from torch import nn

from .data import Dataset, one_hot

__all__ = [
    "LOSSES",
    "loss_function",
    "dataset_loss",
    "accuracy",
    "gd_with_sharpness",
    "train",
    "History",
    "SharpnessTrace",
    "one_thread",
]


def _mse(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return 0.5 * ((outputs - one_hot(targets, outputs.dtype)) ** 2).sum(dim=1).mean()


def _cross_entropy(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return nn.functional.cross_entropy(outputs, targets)


LOSSES: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "mse": _mse,
    "cross-entropy": _cross_entropy,
}


def loss_function(name: str) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """``(outputs (n, 10), targets (n,) int64) -> scalar loss`` by name."""
    if name not in LOSSES:
        raise ValueError(f"loss {name!r}; allowed: {', '.join(LOSSES)}")
    return LOSSES[name]


def dataset_loss(model: nn.Module, data: Dataset, loss: str = "cross-entropy") -> torch.Tensor:
    """The loss of ``model`` on the whole of ``data`` (a scalar tensor with its graph)."""
    return loss_function(loss)(model(data.inputs), data.targets)


@torch.no_grad()
def accuracy(model: nn.Module, data: Dataset) -> float:
    """The fraction of ``data`` whose largest output is the true class."""
    return float((model(data.inputs).argmax(dim=1) == data.targets).double().mean())


@dataclass
class SharpnessTrace:
    """Full-batch GD at one lr: the loss at every step, the sharpness every few steps.

    ``loss[t]`` is the loss before step ``t`` (``t = 0 .. steps``); ``sharpness[j]`` is the
    top Hessian eigenvalue at step ``sharpness_steps[j]``. ``diverged_at`` is the first
    step whose loss was not finite, else None.
    """

    lr: float
    loss: list[float] = field(default_factory=list)
    sharpness_steps: list[int] = field(default_factory=list)
    sharpness: list[float] = field(default_factory=list)
    diverged_at: int | None = None


def gd_with_sharpness(
    model: nn.Module,
    data: Dataset,
    lr: float,
    steps: int,
    sharpness: Callable[[nn.Module], float] | None,
    every: int = 25,
    loss: str = "mse",
) -> SharpnessTrace:
    """Full-batch gradient descent ``w <- w - lr grad L(w)``, measuring ``sharpness(model)``
    (the top eigenvalue of the training loss's Hessian) at steps ``0, every, 2 every, ...``
    and at the last step (``sharpness=None``: no measurement). Stops early if the loss stops
    being finite. Trains ``model`` in place.
    """
    trace = SharpnessTrace(lr=lr)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    for step in range(steps + 1):
        optimizer.zero_grad()
        value = dataset_loss(model, data, loss)
        trace.loss.append(float(value.detach()))
        if not math.isfinite(trace.loss[-1]):
            trace.diverged_at = step
            break
        if sharpness is not None and (step % every == 0 or step == steps):
            trace.sharpness_steps.append(step)
            trace.sharpness.append(float(sharpness(model)))
        if step < steps:
            value.backward()
            optimizer.step()
    return trace


@dataclass
class History:
    """Per-epoch record of one mini-batch training run (epoch 0 = before training).

    ``train_loss[e]`` and ``test_accuracy[e]`` after ``e`` epochs, measured on the whole
    sets; ``diverged_at`` is the first epoch whose loss was not finite (training stops).
    """

    train_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)
    diverged_at: int | None = None

    def extend(self, other: History) -> History:
        """This history followed by ``other``'s epochs after its epoch 0 (a continued run)."""
        offset = len(self.train_loss) - 1
        return History(
            self.train_loss + other.train_loss[1:],
            self.train_accuracy + other.train_accuracy[1:],
            self.test_accuracy + other.test_accuracy[1:],
            self.diverged_at
            if self.diverged_at is not None
            else (None if other.diverged_at is None else offset + other.diverged_at),
        )


def _record(history: History, model: nn.Module, train_set: Dataset, test_set: Dataset, loss):
    with torch.no_grad():
        history.train_loss.append(float(dataset_loss(model, train_set, loss)))
    history.train_accuracy.append(accuracy(model, train_set))
    history.test_accuracy.append(accuracy(model, test_set))
    return math.isfinite(history.train_loss[-1])


def train(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    train_set: Dataset,
    test_set: Dataset,
    epochs: int,
    batch_size: int = 64,
    seed: int = 0,
    loss: str = "cross-entropy",
    second_order: bool = False,
) -> History:
    """Mini-batch training for ``epochs`` passes over ``train_set`` (order seeded by ``seed``).

    ``second_order``: build the graph of the gradient (``create_graph=True``) for optimizers
    that take Hessian-vector products in ``step`` (AdaHessian). Trains ``model`` in place;
    stops at the first epoch whose training loss is not finite.
    """
    loss_fn = loss_function(loss)
    order = torch.Generator().manual_seed(seed)
    history = History()
    if not _record(history, model, train_set, test_set, loss):
        history.diverged_at = 0
        return history
    for epoch in range(1, epochs + 1):
        for batch in torch.randperm(len(train_set), generator=order).split(batch_size):
            inputs, targets = train_set.inputs[batch], train_set.targets[batch]

            def closure(inputs=inputs, targets=targets):
                optimizer.zero_grad()
                value = loss_fn(model(inputs), targets)
                value.backward(create_graph=second_order)
                return value

            with warnings.catch_warnings():
                # AdaHessian detaches every p.grad after its step, which breaks the
                # parameter -> grad -> graph cycle torch warns about on create_graph=True
                warnings.filterwarnings("ignore", "Using backward\\(\\) with create_graph")
                optimizer.step(closure)
        if not _record(history, model, train_set, test_set, loss):
            history.diverged_at = epoch
            break
    return history


@contextmanager
def one_thread():
    """Run torch on one intra-op thread inside the block, then restore the previous count.

    The studies' networks are tiny: splitting a 64 x 64 matrix product over threads costs
    more than it saves, and on a shared machine the extra threads only contend.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
