"""Linear centered kernel alignment (CKA): how alike two layers' representations are.

For representations ``X`` ``(n, p)`` and ``Y`` ``(n, q)`` of the same ``n`` examples, with
each column centered (``X <- X - 1 mean(X)``),

    CKA(X, Y) = ||Y^T X||_F^2 / (||X^T X||_F ||Y^T Y||_F)        (Kornblith et al. 2019)

which equals ``HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L))`` with the linear Gram matrices
``K = X X^T``, ``L = Y Y^T`` and ``HSIC(K, L) = tr(K H L H)``, ``H = I - 1 1^T / n``.
CKA lies in [0, 1], equals 1 for ``CKA(X, X)``, and does not change when ``X`` or ``Y``
is multiplied by an orthogonal matrix or a nonzero scalar; it does change under general
invertible linear maps.

    >>> x = torch.randn(50, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    >>> round(linear_cka(x, 3 * x), 12)
    1.0
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["linear_cka", "layer_representations", "cka_by_layer"]


def _centered(x: torch.Tensor) -> torch.Tensor:
    x = x.reshape(x.shape[0], -1).to(torch.float64)
    return x - x.mean(dim=0, keepdim=True)


def linear_cka(x: torch.Tensor, y: torch.Tensor) -> float:
    """Linear CKA of ``x`` ``(n, ...)`` and ``y`` ``(n, ...)`` (trailing dimensions flattened).

    Raises ``ValueError`` when the example counts differ or a representation is constant.
    """
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"x has {x.shape[0]} examples and y {y.shape[0]}: they must match")
    x, y = _centered(x), _centered(y)
    norm_x, norm_y = torch.linalg.norm(x.T @ x), torch.linalg.norm(y.T @ y)
    if norm_x == 0 or norm_y == 0:
        raise ValueError("a representation is constant over the examples: CKA is undefined")
    return float(torch.linalg.norm(y.T @ x) ** 2 / (norm_x * norm_y))


@torch.no_grad()
def layer_representations(model: nn.Sequential, inputs: torch.Tensor) -> dict[str, torch.Tensor]:
    """The output of every activation / pooling layer and of the last layer of a Sequential.

    Keys are ``"<index> <Layer>"`` (``"1 ReLU"``, ``"6 Linear"``); values ``(n, ...)``.
    """
    kept = (nn.ReLU, nn.Tanh, nn.ELU, nn.MaxPool2d)
    out: dict[str, torch.Tensor] = {}
    x = inputs
    last = len(model) - 1
    for index, layer in enumerate(model):
        x = layer(x)
        if isinstance(layer, kept) or index == last:
            out[f"{index} {type(layer).__name__}"] = x
    return out


def cka_by_layer(a: nn.Sequential, b: nn.Sequential, inputs: torch.Tensor) -> dict[str, float]:
    """Linear CKA between the same layers of two networks of one architecture, on ``inputs``."""
    ra, rb = layer_representations(a, inputs), layer_representations(b, inputs)
    return {name: linear_cka(ra[name], rb[name]) for name in ra}
