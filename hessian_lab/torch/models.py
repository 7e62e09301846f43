"""Small networks for the digits studies, built with seeded initial weights.

- :func:`mlp`: ``64 -> width -> ... -> 10`` fully connected, tanh / ELU / ReLU between.
- :func:`small_cnn`: two 3x3 convolutions (ReLU, 'same' padding, then one 2x2 max pool)
  and a linear read-out: ``(n, 1, 8, 8) -> (n, 10)``.
- :func:`resnet18`: torchvision's ResNet-18 with a 10-class head (11.2 M parameters),
  ``(n, 3, H, W) -> (n, 10)``, the network of the CIFAR-10 seed study.

Both draw their initial weights with PyTorch's default initializers inside
``torch.random.fork_rng``, seeded by ``seed``: the same seed gives the same network, and the
global random state is left as it was.

    >>> net = mlp(widths=(32,), seed=0)
    >>> net(torch.zeros(2, 64, dtype=torch.float64)).shape
    torch.Size([2, 10])
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import torch
from torch import nn

__all__ = [
    "mlp",
    "small_cnn",
    "resnet18",
    "resnet18_source",
    "build",
    "load_weights",
    "ACTIVATIONS",
    "COMPARED_LAYERS",
    "MODELS",
    "n_parameters",
]

ACTIVATIONS = {"tanh": nn.Tanh, "elu": nn.ELU, "relu": nn.ReLU}
MODELS = ("mlp", "cnn", "resnet18")
#: the layers compared by the similarity study, per model (None: a Sequential's own choice)
COMPARED_LAYERS = {"mlp": None, "cnn": None,
                   "resnet18": ("relu", "layer1", "layer2", "layer3", "layer4", "fc")}


def _seeded(seed: int, dtype: torch.dtype, make) -> nn.Module:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return make().to(dtype)


def mlp(
    widths: Sequence[int] = (32, 32),
    activation: str = "tanh",
    n_inputs: int = 64,
    n_outputs: int = 10,
    seed: int = 0,
    dtype: torch.dtype = torch.float64,
) -> nn.Sequential:
    """A fully connected network ``n_inputs -> widths... -> n_outputs``; flattens its input."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation {activation!r}; allowed: {', '.join(ACTIVATIONS)}")

    def make():
        layers: list[nn.Module] = [nn.Flatten()]
        sizes = [n_inputs, *widths]
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
            layers += [nn.Linear(fan_in, fan_out), ACTIVATIONS[activation]()]
        layers.append(nn.Linear(sizes[-1], n_outputs))
        return nn.Sequential(*layers)

    return _seeded(seed, dtype, make)


def small_cnn(
    channels: tuple[int, int] = (8, 16),
    n_outputs: int = 10,
    seed: int = 0,
    dtype: torch.dtype = torch.float64,
) -> nn.Sequential:
    """``conv3x3(1 -> c1), ReLU, conv3x3(c1 -> c2), ReLU, maxpool 2, linear(c2*4*4 -> 10)``."""
    c1, c2 = channels

    def make():
        return nn.Sequential(
            nn.Conv2d(1, c1, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(c1, c2, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(c2 * 4 * 4, n_outputs),
        )

    return _seeded(seed, dtype, make)


def resnet18(
    n_outputs: int = 10, seed: int = 0, dtype: torch.dtype = torch.float32
) -> nn.Module:
    """torchvision's ResNet-18 (``weights=None``: freshly initialized, nothing downloaded)
    with ``n_outputs`` classes: a 7x7 stride-2 stem, a max pool, four stages of two basic
    blocks (64, 128, 256, 512 channels, batch norm), global average pooling, a linear head.
    Where torchvision will not import, :class:`hessian_lab.torch.resnet.ResNet18`, the same
    architecture, names and initialization (:func:`resnet18_source` says which)."""
    make = _torchvision_resnet18()
    if make is None:
        from .resnet import ResNet18

        make = ResNet18
    return _seeded(seed, dtype, lambda: make(num_classes=n_outputs))


def _torchvision_resnet18():
    try:
        from torchvision.models import resnet18 as torchvision_resnet18
    except (ImportError, RuntimeError, OSError):  # e.g. a CUDA torchvision next to CPU torch
        return None
    return lambda num_classes: torchvision_resnet18(weights=None, num_classes=num_classes)


def resnet18_source() -> str:
    """``"torchvision"``, or ``"hessian_lab.torch.resnet"`` where torchvision won't import."""
    return "torchvision" if _torchvision_resnet18() is not None else "hessian_lab.torch.resnet"


def build(name: str, seed: int = 0, dtype: torch.dtype = torch.float64) -> nn.Module:
    """A model by name (``mlp``: tanh, widths 32 and 32; ``cnn``: :func:`small_cnn`;
    ``resnet18``: :func:`resnet18`, 10 classes)."""
    if name == "mlp":
        return mlp(seed=seed, dtype=dtype)
    if name == "cnn":
        return small_cnn(seed=seed, dtype=dtype)
    if name == "resnet18":
        return resnet18(seed=seed, dtype=dtype)
    raise ValueError(f"model {name!r}; allowed: {', '.join(MODELS)}")


def n_parameters(model: nn.Module) -> int:
    """The number of trainable scalars."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def load_weights(model: nn.Module, path: str | os.PathLike) -> nn.Module:
    """Load a state dict saved by ``torch.save(model.state_dict(), path)`` into ``model``.

    Read with ``weights_only=True`` (tensors only, no code runs). Raises ``ValueError`` with
    one line naming the file when it is missing, a directory, unreadable, or does not fit
    ``model``: other names or shapes, sparse or meta tensors, values that are not real
    floating point (int, bool and complex would be cast), or NaN / inf. Floating-point
    values are converted to the model's dtype (float32 -> float64 is exact).
    """
    shown = repr(str(path))
    if os.path.isdir(path):
        raise ValueError(f"weights file {shown} is a directory; give a .pt file")
    if not os.path.isfile(path):
        raise ValueError(f"weights file {shown} does not exist")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        message = f"weights file {shown} is not a saved torch state dict ({type(error).__name__})"
        raise ValueError(message) from None
    if not isinstance(state, dict) or not all(torch.is_tensor(v) for v in state.values()):
        raise ValueError(f"weights file {shown} holds no state dict of tensors")
    expected = model.state_dict()
    if set(state) != set(expected):
        missing, extra = sorted(set(expected) - set(state)), sorted(set(state) - set(expected))
        raise ValueError(
            f"weights file {shown} does not fit this model: missing {missing}, unexpected {extra}"
        )
    for key, value in state.items():
        why = _unusable(value, expected[key])
        if why:
            raise ValueError(f"weights file {shown}: {key!r} {why}")
    with torch.no_grad():
        model.load_state_dict({k: v.to(expected[k].dtype) for k, v in state.items()})
    return model


def _unusable(value: torch.Tensor, expected: torch.Tensor) -> str:
    """Why ``value`` cannot stand for the model's tensor ``expected`` ("" when it can)."""
    if value.layout != torch.strided:
        return f"is a sparse tensor ({value.layout}); save dense tensors (tensor.to_dense())"
    if value.is_meta:
        return "is a meta tensor (a shape without data); save the tensors' values"
    if value.shape != expected.shape:
        return (
            f"has shape {tuple(value.shape)}, the model's is {tuple(expected.shape)}: the "
            "file does not fit this model"
        )
    if value.is_complex() or not value.is_floating_point():
        return (
            f"holds {str(value.dtype).removeprefix('torch.')} values; the model's weights are "
            f"real floating point ({str(expected.dtype).removeprefix('torch.')}), not cast"
        )
    if not bool(torch.isfinite(value).all()):
        return "holds NaN or inf values"
    return ""
