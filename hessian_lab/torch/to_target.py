"""Mini-batch training until the training loss reaches a target: steps against batch size.

    steps = steps_to_target(model, optimizer, train_set, batch_size=64, target=0.1)

Each step draws ``batch_size`` examples without replacement within an epoch (a seeded
permutation, reshuffled every epoch), takes one ``optimizer.step``, and every
``check_every`` steps the loss on the whole training set is compared with ``target``.
The result is the first checked step at which it is at or below the target (so it is
exact up to ``check_every``), or None within ``max_steps``. This is the measurement of
Shallue et al. (2018) and of the noisy quadratic model's paper on a real network.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .data import Dataset
from .train import dataset_loss, loss_function

__all__ = ["steps_to_target"]


def steps_to_target(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    train_set: Dataset,
    batch_size: int,
    target: float,
    max_steps: int = 5_000,
    check_every: int = 10,
    seed: int = 0,
    loss: str = "cross-entropy",
) -> int | None:
    """Steps of ``optimizer`` on mini-batches of ``train_set`` until its full training loss
    is ``<= target`` (checked every ``check_every`` steps); None if not within
    ``max_steps`` or when the loss stops being finite. Trains ``model`` in place."""
    if batch_size < 1 or batch_size > len(train_set):
        raise ValueError(f"batch_size must be in [1, {len(train_set)}]; got {batch_size}")
    generator = torch.Generator().manual_seed(seed)
    criterion = loss_function(loss)
    n = len(train_set)
    order = torch.randperm(n, generator=generator)
    position = 0
    for step in range(1, max_steps + 1):
        if position + batch_size > n:
            order, position = torch.randperm(n, generator=generator), 0
        index = order[position : position + batch_size]
        position += batch_size
        optimizer.zero_grad(set_to_none=True)
        criterion(model(train_set.inputs[index]), train_set.targets[index]).backward()
        optimizer.step()
        if step % check_every == 0:
            with torch.no_grad():
                value = float(dataset_loss(model, train_set, loss))
            if not math.isfinite(value):
                return None
            if value <= target:
                return step
    return None
