"""How alike are two layers' representations? Linear CKA, SVCCA, orthogonal Procrustes.

A representation is a matrix ``X`` ``(n, p)``: a layer's outputs (trailing dimensions
flattened) on the same ``n`` examples. Every measure first centres each column
(``X <- X - 1 mean(X)``); all three are unchanged when ``X`` or ``Y`` is multiplied by an
orthogonal matrix or a nonzero scalar, and they differ in what else they forgive.

- **Linear CKA** (Kornblith et al. 2019), a similarity in [0, 1]:

      CKA(X, Y) = ||Y^T X||_F^2 / (||X^T X||_F ||Y^T Y||_F)

  equal to ``HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L))`` for the Gram matrices ``K = X X^T``,
  ``L = Y Y^T``. It weights directions by their variance: the large ones dominate.
- **SVCCA** (Raghu et al. 2017), a similarity in [0, 1]: keep, for each representation,
  its top singular directions explaining ``keep`` (99%) of its variance, ``X' = U_r S_r``
  (``r`` the fewest with ``sum_{i<=r} s_i^2 >= keep sum_i s_i^2``); the canonical
  correlations of ``X'`` and ``Y'`` are the singular values ``rho_i`` of ``U_rx^T U_ry``
  (``U`` the orthonormal left singular vectors); SVCCA is their mean over
  ``min(r_x, r_y)``. Within the kept subspaces it is invariant to *any* invertible linear
  map, so it ignores how variance is spread once a direction is kept.
- **Orthogonal Procrustes distance** (Ding, Denain & Steinhardt 2021; Williams et al.
  2021), a distance in [0, 2]: with ``X, Y`` centred and scaled to ``||X||_F = ||Y||_F = 1``,

      d(X, Y) = min_{Q orthogonal} ||X - Y Q||_F^2 = 2 - 2 ||X^T Y||_*

  (``||.||_*`` the nuclear norm, the sum of singular values; ``p != q`` pads with zero
  columns). 0 when ``Y`` is ``X`` rotated and scaled, 2 when ``X^T Y = 0``.

Wide layers (``p > n``) are first reduced to ``U S`` ``(n, n)`` from their thin SVD,
which keeps ``X X^T`` and every quantity above unchanged.

    >>> x = torch.randn(50, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    >>> round(linear_cka(x, 3 * x), 12), round(svcca(x, x @ torch.randn(4, 4,
    ...     dtype=torch.float64, generator=torch.Generator().manual_seed(1))), 12)
    (1.0, 1.0)
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

__all__ = [
    "MEASURES",
    "linear_cka",
    "svcca",
    "procrustes_distance",
    "layer_representations",
    "similarity_by_layer",
]


def _centered(x: torch.Tensor, name: str) -> torch.Tensor:
    x = x.detach().reshape(x.shape[0], -1).to(torch.float64)
    x = x - x.mean(dim=0, keepdim=True)
    if not bool(x.abs().max() > 0):
        raise ValueError(f"{name} is constant over the examples: the similarity is undefined")
    if x.shape[1] > x.shape[0]:  # keep X X^T, drop the null directions: (n, n)
        U, S, _ = torch.linalg.svd(x, full_matrices=False)
        x = U * S
    return x


def _pair(x: torch.Tensor, y: torch.Tensor):
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"x has {x.shape[0]} examples and y {y.shape[0]}: they must match")
    return _centered(x, "x"), _centered(y, "y")


def linear_cka(x: torch.Tensor, y: torch.Tensor) -> float:
    """Linear CKA of ``x`` ``(n, ...)`` and ``y`` ``(n, ...)``, in [0, 1] (see the module)."""
    x, y = _pair(x, y)
    norm_x, norm_y = torch.linalg.norm(x.T @ x), torch.linalg.norm(y.T @ y)
    return float(torch.linalg.norm(y.T @ x) ** 2 / (norm_x * norm_y))


def _top_directions(x: torch.Tensor, keep: float) -> torch.Tensor:
    """The orthonormal left singular vectors ``(n, r)`` explaining ``keep`` of the variance."""
    U, S, _ = torch.linalg.svd(x, full_matrices=False)
    explained = torch.cumsum(S**2, 0) / (S**2).sum()
    r = int(torch.searchsorted(explained, torch.tensor(keep, dtype=S.dtype) - 1e-12)) + 1
    return U[:, : min(r, S.numel())]


def svcca(x: torch.Tensor, y: torch.Tensor, keep: float = 0.99) -> float:
    """SVCCA of ``x`` and ``y``: the mean canonical correlation of their top singular
    directions explaining ``keep`` of each one's variance, in [0, 1] (see the module)."""
    if not 0 < keep <= 1:
        raise ValueError(f"keep must be a fraction in (0, 1]; got {keep!r}")
    x, y = _pair(x, y)
    rho = torch.linalg.svdvals(_top_directions(x, keep).T @ _top_directions(y, keep))
    return float(rho.clamp(max=1.0).mean())


def procrustes_distance(x: torch.Tensor, y: torch.Tensor) -> float:
    """``2 - 2 ||X^T Y||_*`` for centred, unit-Frobenius ``X``, ``Y``: in [0, 2]."""
    x, y = _pair(x, y)
    x, y = x / torch.linalg.norm(x), y / torch.linalg.norm(y)
    nuclear = torch.linalg.svdvals(x.T @ y).sum()
    return float((2 - 2 * nuclear).clamp(min=0.0))


#: name -> (function, "similarity" or "distance")
MEASURES = {
    "linear CKA": (linear_cka, "similarity"),
    "SVCCA": (svcca, "similarity"),
    "Procrustes distance": (procrustes_distance, "distance"),
}


@torch.no_grad()
def layer_representations(
    model: nn.Module, inputs: torch.Tensor, layers: Sequence[str] | None = None
) -> dict[str, torch.Tensor]:
    """Layer outputs on ``inputs``, in eval mode (the model's modes are restored).

    ``layers=None`` and an ``nn.Sequential``: every activation / pooling layer and the last
    layer, keyed ``"<index> <Layer>"`` (``"1 ReLU"``, ``"6 Linear"``). Otherwise ``layers``
    names submodules (``model.named_modules()`` names, e.g. ``["layer1", "layer4", "fc"]``
    for a ResNet), captured by forward hooks. Values ``(n, ...)``.
    """
    from .hvp import evaluation_mode

    if layers is None:
        if not isinstance(model, nn.Sequential):
            raise ValueError("layers must name the submodules to compare for a non-Sequential")
        kept = (nn.ReLU, nn.Tanh, nn.ELU, nn.MaxPool2d)
        last = len(model) - 1
        layers = [
            name
            for name, layer in model.named_children()
            if isinstance(layer, kept) or int(name) == last
        ]
        label = {name: f"{name} {type(model[int(name)]).__name__}" for name in layers}
    else:
        label = {name: name for name in layers}
    modules = dict(model.named_modules())
    unknown = [name for name in layers if name not in modules]
    if unknown:
        raise ValueError(f"no submodule named {unknown}; the model has {list(modules)[1:8]}...")
    out: dict[str, torch.Tensor] = {}
    hooks = [
        modules[name].register_forward_hook(
            lambda _m, _i, output, name=name: out.__setitem__(label[name], output)
        )
        for name in layers
    ]
    try:
        with evaluation_mode(model):
            model(inputs)
    finally:
        for hook in hooks:
            hook.remove()
    return {label[name]: out[label[name]] for name in layers}


def similarity_by_layer(
    a: nn.Module,
    b: nn.Module,
    inputs: torch.Tensor,
    layers: Sequence[str] | None = None,
    measures: Sequence[str] = tuple(MEASURES),
) -> dict[str, dict[str, float]]:
    """Every measure between the same layers of two networks of one architecture, on
    ``inputs``: ``{measure: {layer: value}}`` (layers as in :func:`layer_representations`)."""
    unknown = [m for m in measures if m not in MEASURES]
    if unknown:
        raise ValueError(f"measures {unknown}; allowed: {', '.join(MEASURES)}")
    ra, rb = layer_representations(a, inputs, layers), layer_representations(b, inputs, layers)
    return {m: {name: MEASURES[m][0](ra[name], rb[name]) for name in ra} for m in measures}
