"""Hessian-vector products of a model's loss, on one graph or over a data set in batches.

The Hessian is that of the loss with respect to the model's trainable parameters
``theta`` (all of them, flattened in ``model.named_parameters()`` order: ``n`` numbers).
Two ways to give the loss:

- ``data=None``: ``loss_fn()`` is a closure of no arguments that evaluates the scalar loss
  at the current parameters. Its gradient graph is built once and kept for every product.
- ``data`` any re-iterable of batches (a ``DataLoader``, a list of ``(inputs, targets)``
  pairs): ``loss_fn(batch)`` returns the batch's **mean** loss ``L_b``. The loss is the
  whole data set's mean ``L = sum_b (n_b / N) L_b`` (``n_b`` the batch's example count,
  the leading dimension of its first tensor, ``N = sum_b n_b``), so

      H v = sum_b (n_b / N) H_b v

  Each product is one pass over the data: per batch a forward pass, the gradient with its
  graph and one backward pass through it; the batch's graph is dropped before the next,
  so memory is bounded by one batch's. :meth:`HessianOperator.matmat` takes several
  vectors in the same pass (one forward and gradient per batch for all of them).

A model in train mode (dropout, batch-norm batch statistics) gives a different loss on
every call and updates its running statistics on every forward pass. The spectrum
functions therefore switch an ``nn.Module`` to eval mode while they run and restore every
submodule's mode afterwards (:func:`evaluation_mode`): the Hessian is that of the
deterministic eval-mode loss. A list of parameter tensors gives no module to switch.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

import torch

__all__ = [
    "HessianOperator",
    "batch_size",
    "evaluation_mode",
    "mean_loss",
    "named_parameters",
    "unflatten",
]


def named_parameters(model) -> list[tuple[str, torch.Tensor]]:
    """The trainable parameters as ``(name, tensor)``: a module's ``named_parameters()``
    names, or ``"0", "1", ...`` for an iterable of tensors."""
    if isinstance(model, torch.nn.Module):
        pairs = list(model.named_parameters())
    else:
        pairs = [(str(i), p) for i, p in enumerate(model)]
    pairs = [(name, p) for name, p in pairs if p.requires_grad]
    if not pairs:
        raise ValueError("model has no parameter with requires_grad=True")
    return pairs


def unflatten(model, vectors: torch.Tensor) -> dict[str, torch.Tensor]:
    """A flat vector ``(n,)`` (or ``k`` of them, ``(k, n)``) in the spectrum functions'
    parameter order, split into the model's parameter shapes by name.

    Returns ``{name: tensor of shape p.shape}`` (or ``(k, *p.shape)``), e.g. the top
    eigenvector's part in each layer: ``unflatten(model, top.vectors[0])["0.weight"]``.
    """
    pairs = named_parameters(model)
    sizes = [p.numel() for _, p in pairs]
    if vectors.shape[-1] != sum(sizes) or vectors.dim() not in (1, 2):
        raise ValueError(
            f"vectors must have shape (n,) or (k, n) with n = {sum(sizes)} trainable "
            f"parameters; got {tuple(vectors.shape)}"
        )
    lead = tuple(vectors.shape[:-1])
    pieces = torch.split(vectors, sizes, dim=-1)
    return {
        name: piece.reshape(lead + tuple(p.shape))
        for (name, p), piece in zip(pairs, pieces, strict=True)
    }


def batch_size(batch) -> int:
    """The example count of a batch: the leading dimension of its first tensor (a tensor,
    or the first tensor inside a tuple, list or dict)."""
    if torch.is_tensor(batch):
        if batch.dim() == 0:
            raise ValueError("a batch's first tensor is a scalar: it has no example count")
        return int(batch.shape[0])
    if isinstance(batch, dict):
        batch = list(batch.values())
    if isinstance(batch, (tuple, list)) and batch:
        return batch_size(batch[0])
    raise ValueError(
        f"cannot count the examples of a batch of type {type(batch).__name__}: a batch must "
        "be a tensor, or a tuple, list or dict whose first entry is one"
    )


@contextmanager
def evaluation_mode(model):
    """Put an ``nn.Module`` in eval mode inside the block, then restore every submodule's
    own ``training`` flag (a no-op for a list of tensors)."""
    if not isinstance(model, torch.nn.Module):
        yield
        return
    modes = [(module, module.training) for module in model.modules()]
    model.eval()
    try:
        yield
    finally:
        for module, training in modes:
            module.training = training


@torch.no_grad()
def mean_loss(loss_fn: Callable, data: Iterable | None = None) -> float:
    """``loss_fn()``, or the data set's mean loss ``sum_b n_b loss_fn(batch_b) / N``."""
    if data is None:
        return float(loss_fn())
    value, total = 0.0, 0
    for batch in data:
        count = batch_size(batch)
        value += count * float(loss_fn(batch))
        total += count
    if total == 0:
        raise ValueError("data holds no batch (or only empty ones)")
    return value / total


class _BatchProgress:
    """A progress bar over batches (rich, on stderr, transient). ``show``: True, False, or
    None for automatic: shown once one pass over the data has taken over 2 seconds."""

    AUTO_AFTER_S = 2.0

    def __init__(self, show: bool | None, n_batches: int | None) -> None:
        self.show, self.n_batches, self.bar = show, n_batches, None
        self.started = time.perf_counter()

    def advance(self, passes: int) -> None:
        if self.bar is None:
            slow = time.perf_counter() - self.started > self.AUTO_AFTER_S and passes > 0
            if not (self.show or (self.show is None and slow and sys.stderr.isatty())):
                return
            from rich.console import Console
            from rich.progress import Progress

            self.bar = Progress(console=Console(stderr=True), transient=True)
            self.bar.start()
            self.task = self.bar.add_task("Hessian-vector products (batches)", total=None)
        self.bar.advance(self.task)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


class HessianOperator:
    """``V -> H V`` for the loss's Hessian at the current parameters (see the module doc).

    ``matvec(v)``: ``(n,) -> (n,)``; ``matmat(V)``: ``(k, n) -> (k, n)``, one pass over the
    data for all ``k``. ``n_products`` counts vectors multiplied, ``n_passes`` passes over
    the data. The parameters are never changed and no ``.grad`` is written.
    """

    def __init__(
        self,
        model,
        loss_fn: Callable,
        data: Iterable | None = None,
        progress: bool | None = None,
    ) -> None:
        pairs = named_parameters(model)
        self.names = [name for name, _ in pairs]
        self.params = [p for _, p in pairs]
        self.shapes = [p.shape for p in self.params]
        self.sizes = [p.numel() for p in self.params]
        self.size = sum(self.sizes)
        self.dtype = self.params[0].dtype
        self.device = self.params[0].device
        self.loss_fn, self.data = loss_fn, data
        self.n_products = self.n_passes = 0
        if data is not None and isinstance(data, Iterator):
            raise ValueError(
                "data must be re-iterable (a DataLoader, a list of batches), not a one-shot "
                "iterator: every Hessian-vector product makes a pass over it"
            )
        n_batches = len(data) if data is not None and hasattr(data, "__len__") else None
        self._progress = _BatchProgress(progress, n_batches)
        self._graph = None
        if data is None:
            self._graph = self._gradient(loss_fn())
        elif n_batches == 1:  # one batch: its graph is the whole data set's, kept
            (batch,) = list(data)
            self._graph = self._gradient(loss_fn(batch))

    def _gradient(self, loss: torch.Tensor):
        """The gradient's live pieces ``[(index, dL/dp_index)]``, with their graph."""
        if not torch.is_tensor(loss) or loss.dim() != 0:
            shape = tuple(loss.shape) if torch.is_tensor(loss) else type(loss).__name__
            raise ValueError(f"loss_fn must return a scalar tensor; got {shape}")
        grads = torch.autograd.grad(loss, self.params, create_graph=True, allow_unused=True)
        # a parameter the gradient does not depend on contributes zero rows to H
        return [(i, g) for i, g in enumerate(grads) if g is not None and g.requires_grad]

    def _products(self, graph, V: torch.Tensor) -> torch.Tensor:
        """``H V`` through one gradient graph: ``(k, n) -> (k, n)``."""
        out = torch.zeros_like(V)
        if not graph:
            return out
        live = [i for i, _ in graph]
        grads = [g for _, g in graph]
        offsets = [0]
        for size in self.sizes:
            offsets.append(offsets[-1] + size)
        for row, v in enumerate(V):
            products = torch.autograd.grad(
                grads,
                [self.params[i] for i in live],
                grad_outputs=[v[offsets[i] : offsets[i + 1]].reshape(self.shapes[i]) for i in live],
                retain_graph=True,
                allow_unused=True,
            )
            for i, hv in zip(live, products, strict=True):
                if hv is not None:
                    out[row, offsets[i] : offsets[i + 1]] = hv.reshape(-1)
        return out

    def matmat(self, V: torch.Tensor) -> torch.Tensor:
        """``H V`` for ``k`` flat vectors ``V`` ``(k, n)`` (same dtype and device)."""
        V = V.detach()
        self.n_products += V.shape[0]
        if self._graph is not None:
            return self._products(self._graph, V)
        out, total = torch.zeros_like(V), 0
        for batch in self.data:
            count = batch_size(batch)
            out += count * self._products(self._gradient(self.loss_fn(batch)), V)
            total += count
            self._progress.advance(self.n_passes)
        self.n_passes += 1
        if total == 0:
            raise ValueError("data holds no batch (or only empty ones)")
        return out / total

    def matvec(self, v: torch.Tensor) -> torch.Tensor:
        """``H v`` for a flat ``v`` of shape ``(n,)``."""
        return self.matmat(v[None])[0]

    def close(self) -> None:
        """Drop the kept graph and stop the progress bar."""
        self._graph = None
        self._progress.close()

    def rademacher(self, generator: torch.Generator) -> torch.Tensor:
        """A probe of +-1 entries ``(n,)`` drawn from ``generator`` (a CPU generator)."""
        signs = torch.randint(0, 2, (self.size,), generator=generator, dtype=torch.int64)
        return (2 * signs - 1).to(dtype=self.dtype, device=self.device)

    def gaussian(self, generator: torch.Generator) -> torch.Tensor:
        """A standard normal vector ``(n,)`` drawn from ``generator`` (a CPU generator)."""
        z = torch.randn(self.size, generator=generator, dtype=torch.float64)
        return z.to(dtype=self.dtype, device=self.device)
