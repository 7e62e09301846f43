"""Array backends: NumPy or torch behind one array-API namespace.

Numeric code is written once against the array API: ``xp = namespace(X)`` and then
``xp.sum``, ``xp.sqrt``, ``xp.where``... The same lines run on NumPy arrays and on torch
tensors (CPU or CUDA). This module picks the backend, converts arrays to it, and draws
random signs with :func:`counter_rademacher`: a pure function of a seed, a step, a sample
index and the coordinate, identical on every backend and device (randomness is an input,
never a hidden stream).

``float64`` is the default dtype everywhere; ``float32`` is selectable.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from typing import Any

import numpy as np
from array_api_compat import array_namespace, is_torch_array
from array_api_compat import device as array_device

BACKENDS = ("auto", "numpy", "torch")
DTYPES = ("float64", "float32")

__all__ = [
    "BACKENDS",
    "DTYPES",
    "Backend",
    "get_backend",
    "namespace",
    "counter_rademacher",
    "as_seed",
    "seed_column",
    "to_numpy",
    "is_array",
    "backend_of",
    "broadcast_copy",
    "row_sums",
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


def is_array(x) -> bool:
    """True for a NumPy array or a torch tensor."""
    return isinstance(x, np.ndarray) or is_torch_array(x)


def broadcast_copy(x, shape: tuple[int, ...]):
    """``x`` broadcast to ``shape`` as a fresh, C-ordered array on ``x``'s backend.

    A plain copy of ``broadcast_to`` keeps the zero strides' order: a ``(d,)`` row spread
    over n rows comes back column-major, and NumPy then runs every elementwise operation
    that mixes it with a C-ordered array several times more slowly.
    """
    xp = namespace(x)
    out = xp.empty(shape, dtype=x.dtype, device=array_device(x))
    out[...] = x
    return out


def row_sums(P):
    """Sums over the last axis of ``P`` ``(..., d)``, in an order fixed by ``d`` alone.

    Columns are added pairwise (``j`` and ``j + d/2``, halving until one is left; an odd
    column is carried), each step an elementwise add. So a row's sum has the same bits
    whatever the batch's size, offset, memory layout or the CPU's vector width, which
    BLAS products (``E @ v``, ``vecdot``) and library reductions do not promise.
    """
    d = P.shape[-1]
    if d <= 2:  # the common small case without the loop's slicing (the same order)
        return P[..., 0] if d == 1 else P[..., 0] + P[..., 1]
    xp = namespace(P)
    while P.shape[-1] > 1:
        half = P.shape[-1] // 2
        head = P[..., :half] + P[..., half : 2 * half]
        P = head if P.shape[-1] == 2 * half else xp.concat([head, P[..., 2 * half :]], axis=-1)
    return P[..., 0]


def to_numpy(a) -> np.ndarray:
    """A host NumPy copy of any backend array (or scalar)."""
    if is_torch_array(a):
        return a.detach().cpu().numpy()
    return np.asarray(a)


# --- counter-based Rademacher probes -----------------------------------------------------

#: the largest seed: seeds are held as int64
MAX_SEED = 2**63 - 1
_MASK32 = 0xFFFFFFFF
#: lowbias32's multipliers (C. Wellons, hash-prospector): x ^= x >> 16; x *= M1;
#: x ^= x >> 15; x *= M2; x ^= x >> 16, all modulo 2**32
_LOWBIAS32_M1 = 0x7FEB352D
_LOWBIAS32_M2 = 0x846CA68B
#: the key chain's starting value (any fixed nonzero word: lowbias32(0) = 0)
_KEY_IV = 0x2545F491
#: the coordinate's odd multiplier (2**32 / golden ratio): j -> j * _WEYL + key spreads
#: consecutive coordinates over the 32-bit words before hashing; lowbias32 of j ^ key or
#: j + key alone leaves correlations of about -1e-3 between signs two coordinates apart
_WEYL = 0x9E3779B9


def _lowbias32(x, tmp=None):
    """lowbias32 of ``x``: a Python int, or a fresh int64 or uint32 array updated in place
    (``tmp``: an optional buffer of ``x``'s shape and dtype for the shifted words), in
    [0, 2**32).

    Written once for all three: in int64 a product of two 32-bit words may wrap around past
    2**63, which leaves its low 32 bits exact, and the mask keeps exactly those (NumPy does
    not warn about wrap-around in array arithmetic; Python ints never wrap); in uint32 the
    wrap-around is the reduction modulo 2**32 itself and the masks are skipped.
    """
    masked = not (isinstance(x, np.ndarray) and x.dtype == np.uint32)
    x = _xorshift(x, 16, tmp)
    x *= _LOWBIAS32_M1
    if masked:
        x &= _MASK32
    x = _xorshift(x, 15, tmp)
    x *= _LOWBIAS32_M2
    if masked:
        x &= _MASK32
    return _xorshift(x, 16, tmp)


def _xorshift(x, shift: int, tmp=None):
    """``x ^ (x >> shift)``: in place for an array (through ``tmp`` when given), new for an int."""
    if tmp is None:
        x ^= x >> shift
    else:
        np.right_shift(x, shift, out=tmp)
        x ^= tmp
    return x


def _probe_key(seed, step: int, sample: int):
    """The 32-bit key of ``(seed, step, sample)``: a Python int, or an int64 column like ``seed``.

    ``w = lowbias32(lowbias32(lowbias32(C ^ step_lo) ^ step_hi) ^ sample)`` (Python ints,
    shared by every row), then ``k = lowbias32(lowbias32(w ^ seed_lo) ^ seed_hi)`` per row;
    ``_lo`` and ``_hi`` are the low and high 32-bit words, ``C = 0x2545F491``.
    """
    step, sample = int(step), int(sample)
    w = _KEY_IV
    for word in (step & _MASK32, (step >> 32) & _MASK32, sample & _MASK32):
        w = _lowbias32(w ^ word)
    k = seed & _MASK32  # fresh: a new int, or a new array
    k ^= w
    k = _lowbias32(k)
    k ^= seed >> 32
    return _lowbias32(k)


def _seed_rows(seed, like, who: str):
    """``seed`` checked against the probe ``like`` ``(B, d)``: a validated Python int, or the
    first column of a ``(1 or B, k)`` integer array."""
    B, d = like.shape
    if d >= 2**32:
        raise ValueError(f"{who} indexes coordinates in 32 bits; got d = {d}")
    if not is_array(seed):
        return as_seed(seed)
    if seed.shape[0] not in (1, B):
        raise ValueError(f"seed has {seed.shape[0]} rows but the probe has {B}")
    return seed[:, :1]


def counter_rademacher(seed, step: int, sample: int, like):
    """Rademacher signs +-1 as a pure function of ``(seed_b, step, sample, j)``.

        z[b, j] = 2 * bit31(lowbias32((j * 0x9E3779B9 + key_b) mod 2**32)) - 1
        key_b   = key(seed_b, step, sample)

    for coordinate ``j < 2**32`` of row ``b``. ``lowbias32`` is the 32-bit integer
    finalizer ``x ^= x >> 16; x *= 0x7FEB352D; x ^= x >> 15; x *= 0x846CA68B; x ^= x >> 16``
    (products modulo 2**32; its last xor-shift leaves bit 31 as it is and is skipped here),
    ``bit31`` takes the top bit of the 32-bit result, and ``key`` chains lowbias32 over the
    32-bit words of the step, the sample and the seed: ``k = 0x2545F491``, then
    ``k = lowbias32(k ^ w)`` for ``w`` = step mod 2**32, (step >> 32) mod 2**32, sample mod
    2**32, seed mod 2**32, seed >> 32. The first three rounds are shared by every row (Python
    integers); only the last two run per row.

    Nothing is drawn from a stream: a row's signs do not depend on the rows around it, on
    the batch size or on the order of calls, and they are the same on NumPy and torch, on
    the CPU and on CUDA (the arithmetic is int64 with masks, written once against the array
    API). Steps, samples and seeds each give an independent-looking probe.

    Args:
        seed: a non-negative Python int (every row gets the same signs), or an integer
            array of shape ``(B, 1)`` on ``like``'s backend and device (one seed per row; a
            ``(B, k)`` array uses its first column), as :func:`seed_column` makes.
        step, sample: non-negative ints, e.g. the optimizer's step and the probe's index
            within the step (the step is mixed in as 64 bits, the sample as 32).
        like: a ``(B, d)`` array: the signs have its shape, float dtype and device.

    Returns:
        A fresh ``(B, d)`` array of ``+1.0`` and ``-1.0``.
    """
    xp = namespace(like)
    B, d = like.shape
    key = _probe_key(_seed_rows(seed, like, "counter_rademacher"), step, sample)
    x = xp.reshape(xp.arange(d, dtype=xp.int64, device=array_device(like)), (1, d))
    x *= _WEYL
    if is_array(key) and key.shape[0] != 1:
        x = x + key
    else:
        x += key
    x &= _MASK32
    # lowbias32 up to its last xor-shift (which does not change bit 31)
    x ^= x >> 16
    x *= _LOWBIAS32_M1
    x &= _MASK32
    x ^= x >> 15
    x *= _LOWBIAS32_M2
    x >>= 30  # bit 31 to bit 1 (the wrapped bits above it are masked next)
    x &= 2
    if x.shape[0] == B:
        x -= 1  # 2 * bit31 - 1
    else:  # one shared row of signs for the whole batch, made a fresh C-ordered (B, d)
        x = xp.broadcast_to(x, (B, d)) - 1
    return xp.astype(x, like.dtype)  # int64 to float: a fresh array


def as_seed(value, name: str = "seed"):
    """A validated seed: a Python int, or a 1-D int64 NumPy array of per-row seeds.

    Accepts a non-negative integer (Python or NumPy, not bool) or a non-empty list, tuple,
    NumPy array or torch tensor of them; every seed is at most ``2**63 - 1``. Anything else
    raises a one-line ``ValueError`` naming ``name``.
    """

    def bad(shown) -> ValueError:
        return ValueError(
            f"{name} must be a non-negative integer (at most 2**63 - 1) or a list of them; "
            f"got {shown}"
        )

    if isinstance(value, (bool, np.bool_)):
        raise bad(repr(value))
    if isinstance(value, (int, np.integer)):
        if not 0 <= int(value) <= MAX_SEED:
            raise bad(repr(value))
        return int(value)
    if not (is_array(value) or isinstance(value, (list, tuple))):
        raise bad(repr(value))
    if is_array(value):
        values = to_numpy(value).reshape(-1)
        if values.size == 0:
            raise bad("an empty array")
        if values.dtype.kind not in "iu":
            raise bad(f"an array of dtype {values.dtype}")
        if values.min() < 0 or values.max() > MAX_SEED:
            raise bad(f"{values.size} values incl. one outside [0, 2**63 - 1]")
        return values.astype(np.int64)
    items = list(value)
    if not items:
        raise bad("an empty list")
    for item in items:
        if isinstance(item, (bool, np.bool_)) or not isinstance(item, (int, np.integer)):
            raise bad(f"{len(items)} values incl. {item!r}")
        if not 0 <= int(item) <= MAX_SEED:
            raise bad(f"{len(items)} values incl. {int(item)}")
    return np.asarray([int(item) for item in items], dtype=np.int64)


def seed_column(seed, backend: Backend, batch: int | None = None, name: str = "seed"):
    """``seed`` validated (:func:`as_seed`) and placed: a Python int stays an int, per-row
    seeds become a ``(B, 1)`` int64 column on ``backend`` (``B`` must equal ``batch`` when
    given), so that they travel with their rows.
    """
    seed = as_seed(seed, name)
    if isinstance(seed, int):
        return seed
    if batch is not None and seed.size != batch:
        raise ValueError(f"{name} has {seed.size} values but the batch has {batch} rows")
    column = seed.reshape(-1, 1)
    if backend.name == "numpy":
        return column
    import torch

    return torch.as_tensor(column, dtype=torch.int64, device=backend.device)


def __getattr__(name: str):
    """``counter_gaussian`` lives in :mod:`hessian_lab.normals` (which builds on this module)
    and is still importable from here, where it was first."""
    if name == "counter_gaussian":
        from .normals import counter_gaussian

        return counter_gaussian
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
