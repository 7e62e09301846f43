"""Array backends: NumPy or torch behind one array-API namespace.

Numeric code is written once against the array API: ``xp = namespace(X)`` and then
``xp.sum``, ``xp.sqrt``, ``xp.where``... The same lines run on NumPy arrays and on torch
tensors (CPU or CUDA). This module picks the backend, converts arrays to it, and makes
the seeded random generators that optimizers keep in their state.

``float64`` is the default dtype everywhere; ``float32`` is selectable.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from typing import Any

import numpy as np
from array_api_compat import array_namespace, is_torch_array

BACKENDS = ("auto", "numpy", "torch")
DTYPES = ("float64", "float32")

__all__ = [
    "BACKENDS",
    "DTYPES",
    "Backend",
    "get_backend",
    "namespace",
    "rademacher",
    "make_generator",
    "to_numpy",
    "is_array",
    "backend_of",
]


_NAMESPACES: dict[type, Any] = {}


def namespace(X: Any):
    """The array-API namespace of ``X`` (NumPy's or torch's), looked up once per array type."""
    kind = type(X)
    found = _NAMESPACES.get(kind)
    if found is None:
        found = _NAMESPACES[kind] = array_namespace(X)
    return found


def torch_available() -> bool:
    return importlib.util.find_spec("torch") is not None


def _nvidia_gpu_visible() -> bool:
    """A cheap look for an NVIDIA driver, so ``auto`` imports torch only where it may pay."""
    if os.environ.get("CUDA_VISIBLE_DEVICES", None) in ("", "-1"):
        return False
    return os.path.exists("/proc/driver/nvidia/version") or os.path.exists("/dev/nvidia0")


@dataclass(frozen=True)
class Backend:
    """Where arrays live: ``name`` in {numpy, torch}, ``dtype`` name, torch ``device``."""

    name: str
    dtype: str = "float64"
    device: str = "cpu"

    @property
    def xp(self):
        if self.name == "numpy":
            import array_api_compat.numpy as xp
        else:
            import array_api_compat.torch as xp
        return xp

    @property
    def native_dtype(self):
        if self.name == "numpy":
            return np.dtype(self.dtype)
        import torch

        return getattr(torch, self.dtype)

    def asarray(self, values: Any):
        """``values`` (nested lists, NumPy or torch arrays) as this backend's array."""
        if self.name == "numpy":
            if is_torch_array(values):
                values = values.detach().cpu().numpy()
            return np.asarray(values, dtype=self.native_dtype)
        import torch

        if isinstance(values, torch.Tensor):
            return values.to(device=self.device, dtype=self.native_dtype)
        return torch.as_tensor(np.asarray(values), dtype=self.native_dtype, device=self.device)

    def generator(self, seed: int):
        """A seeded random generator of this backend (same seed, same draws)."""
        if self.name == "numpy":
            return np.random.default_rng(seed)
        import torch

        gen = torch.Generator(device=self.device)
        gen.manual_seed(int(seed))
        return gen


def get_backend(name: str = "auto", dtype: str = "float64") -> Backend:
    """Resolve a backend name.

    ``numpy``: NumPy on the CPU. ``torch``: torch on CUDA when a GPU is present, else on the
    CPU. ``auto``: torch on a GPU when one is present, NumPy otherwise.
    """
    if name not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}; got {name!r}")
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(DTYPES)}; got {dtype!r}")
    if name == "numpy":
        return Backend("numpy", dtype)
    if not torch_available():
        if name == "torch":
            raise ValueError("backend 'torch' needs torch: pip install 'hessian_lab[torch]'")
        return Backend("numpy", dtype)
    if name == "auto" and not _nvidia_gpu_visible():
        return Backend("numpy", dtype)
    import torch

    cuda = torch.cuda.is_available()
    if name == "auto" and not cuda:
        return Backend("numpy", dtype)
    return Backend("torch", dtype, "cuda" if cuda else "cpu")


def backend_of(X) -> Backend:
    """The backend an existing array lives on."""
    if is_torch_array(X):
        return Backend("torch", str(X.dtype).removeprefix("torch."), str(X.device))
    return Backend("numpy", str(np.asarray(X).dtype))


def make_generator(X, seed: int):
    """A seeded generator on the backend and device of ``X``."""
    return backend_of(X).generator(seed)


def rademacher(generator, like):
    """Random signs +-1 with the shape, dtype and device of ``like`` (a Rademacher probe)."""
    if is_torch_array(like):
        import torch

        z = torch.randint(
            0, 2, tuple(like.shape), generator=generator, device=like.device, dtype=like.dtype
        )
    else:
        z = generator.integers(0, 2, size=like.shape).astype(like.dtype)
    # 0/1 -> -1/+1 in place: two passes over one fresh array (exact for small integers)
    z *= 2
    z -= 1
    return z


def is_array(x) -> bool:
    """True for a NumPy array or a torch tensor."""
    return isinstance(x, np.ndarray) or is_torch_array(x)


def to_numpy(a) -> np.ndarray:
    """A host NumPy copy of any backend array (or scalar)."""
    if is_torch_array(a):
        return a.detach().cpu().numpy()
    return np.asarray(a)
