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
import os
import time
import warnings
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from .data import Dataset, one_hot

__all__ = [
    "LOSSES",
    "loss_function",
    "dataset_loss",
    "accuracy",
    "evaluate",
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


def accuracy(model: nn.Module, data: Dataset) -> float:
    """The fraction of ``data`` whose largest output is the true class (:func:`evaluate`)."""
    return evaluate(model, data)[1]


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


@torch.no_grad()
def evaluate(
    model: nn.Module,
    data: Dataset,
    loss: str = "cross-entropy",
    batch_size: int = 1024,
    device: torch.device | str | None = None,
) -> tuple[float, float]:
    """``(mean loss, accuracy)`` of ``model`` on ``data``, in batches of ``batch_size`` moved
    to ``device`` (default: the model's), in eval mode (the model's modes are restored)."""
    from .hvp import evaluation_mode

    loss_fn = loss_function(loss)
    device = device or next(model.parameters()).device
    total, correct = 0.0, 0
    with evaluation_mode(model):
        for first in range(0, len(data), batch_size):
            inputs = data.inputs[first : first + batch_size].to(device)
            targets = data.targets[first : first + batch_size].to(device)
            outputs = model(inputs)
            total += float(loss_fn(outputs, targets)) * len(targets)
            correct += int((outputs.argmax(dim=1) == targets).sum())
    return total / len(data), correct / len(data)


def _record(history: History, model, train_set, test_set, loss, device) -> bool:
    train_loss, train_accuracy = evaluate(model, train_set, loss, device=device)
    history.train_loss.append(train_loss)
    history.train_accuracy.append(train_accuracy)
    history.test_accuracy.append(evaluate(model, test_set, loss, device=device)[1])
    return math.isfinite(history.train_loss[-1])


def _resume(checkpoint, model, optimizer, order, settings, device) -> tuple[History, int]:
    """Load a checkpoint written by :func:`train` if there is one: ``(history, epochs done)``."""
    if checkpoint is None or not os.path.isfile(checkpoint):
        return History(), 0
    shown = repr(str(checkpoint))
    try:
        saved = torch.load(checkpoint, map_location=device, weights_only=True)
        saved_settings = saved["settings"]
    except Exception as error:
        message = f"checkpoint {shown} is not a training checkpoint ({type(error).__name__})"
        raise ValueError(message) from None
    if saved_settings != settings:
        raise ValueError(
            f"checkpoint {shown} was written with {saved_settings}, not {settings}: "
            "resume with the same settings, or start afresh with another checkpoint path"
        )
    model.load_state_dict(saved["model"])
    optimizer.load_state_dict(saved["optimizer"])
    order.set_state(saved["order"].cpu())
    return History(**saved["history"]), int(saved["epoch"])


def _save(checkpoint, model, optimizer, order, settings, history: History, epoch: int) -> None:
    from ..files import atomic_write

    state = {
        "epoch": epoch,
        "settings": settings,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "order": order.get_state(),
        "history": asdict(history),
    }
    atomic_write(checkpoint, lambda handle: torch.save(state, handle), mode="wb")


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
    *,
    device: torch.device | str | None = None,
    checkpoint: str | os.PathLike | None = None,
    log: Callable[[str], None] | None = None,
) -> History:
    """Mini-batch training for ``epochs`` passes over ``train_set`` (order seeded by ``seed``).

    ``second_order``: build the graph of the gradient (``create_graph=True``) for optimizers
    that take Hessian-vector products in ``step`` (AdaHessian). Trains ``model`` (in train
    mode) in place; the sets stay where they are and each batch moves to ``device``
    (default: the model's). Stops at the first epoch whose training loss is not finite.

    ``checkpoint``: a file written (atomically) after every epoch with the model, the
    optimizer, the batch-order generator and the history; when it exists, training resumes
    after its last epoch, as if never interrupted (it must have been written with the same
    ``batch_size``, ``seed`` and ``loss``). ``log`` receives one line per epoch.
    """
    loss_fn = loss_function(loss)
    device = torch.device(device) if device is not None else next(model.parameters()).device
    order = torch.Generator().manual_seed(seed)
    settings = {"batch_size": batch_size, "seed": seed, "loss": loss}
    history, done = _resume(checkpoint, model, optimizer, order, settings, device)
    if done == 0:
        if not _record(history, model, train_set, test_set, loss, device):
            history.diverged_at = 0
            return history
    model.train()
    for epoch in range(done + 1, epochs + 1):
        if history.diverged_at is not None:
            break
        started = time.perf_counter()
        for batch in torch.randperm(len(train_set), generator=order).split(batch_size):
            inputs = train_set.inputs[batch].to(device)
            targets = train_set.targets[batch].to(device)

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
        if not _record(history, model, train_set, test_set, loss, device):
            history.diverged_at = epoch
        if checkpoint is not None:
            _save(checkpoint, model, optimizer, order, settings, history, epoch)
        if log is not None:
            log(
                f"epoch {epoch}/{epochs}: train loss {history.train_loss[-1]:.4g}, train "
                f"accuracy {history.train_accuracy[-1]:.3f}, test accuracy "
                f"{history.test_accuracy[-1]:.3f} ({time.perf_counter() - started:.1f} s)"
            )
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
