"""Counter-based standard normals: Gaussian Hutchinson probes and gradient noise.

Row ``b`` of a draw keyed ``key_b`` (:func:`~hessian_lab.backend.counter_rademacher`'s key
of ``(seed_b, step, sample)``) pairs its coordinates ``(2k, 2k + 1)`` on one Box-Muller
draw:

    z[b, 2k]     = r_k cos(theta_k),     r_k     = sqrt(-2 ln((w1_k + 1) / 2**32))
    z[b, 2k + 1] = r_k sin(theta_k),     theta_k = fl32(w2_k) * fl32(2 pi / 2**32)

    w1_k = lowbias32((k * 0x9E3779B9 + key_b) mod 2**32)
    w2_k = lowbias32((k * 0x9E3779B9 + lowbias32(key_b ^ 0x6A09E667)) mod 2**32)

(a last unpaired coordinate, when d is odd, takes the cosine; ``fl32`` rounds to float32).
The cosine and the sine of one uniform angle times one Rayleigh radius are two independent
standard normals, so one pair of hashed words, one logarithm and one square root serve two
coordinates, and a draw's first coordinates do not depend on how many follow. ``w1_k``'s
top bit is the Rademacher sign of coordinate k.

Precision: ``-2 ln((w1 + 1) / 2**32)`` is float64; its square root, the angle, its cosine
and sine and their products with the radius are float32 (NumPy's vectorised float32
functions are several times faster than its float64 ones, which were most of a draw's
cost): the angle is off by at most 4.3e-7 (the word and the product each rounded to 24
bits) and each factor by a few float32 roundings, so each normal by at most 6e-6 of the
float64 formula (2.4e-6 was the largest over 2e6 draws), which no average over probes or
noise draws can see. ``w1 + 1`` in ``(0, 2**32]`` keeps the logarithm finite: the tails
are cut at ``|z| <= 6.66`` (the 32-bit resolution).

Speed: the words are hashed in uint32 (NumPy multiplies 32-bit words with SIMD
instructions and 64-bit ones one at a time) on the host, for every backend, so NumPy and
torch (CPU or CUDA) get the same bits. Rows are drawn in blocks of :data:`BLOCK` numbers
into reusable buffers (:class:`Scratch`): a block stays in the core's cache, and a draw
allocates almost nothing, where fresh temporaries cost a page fault per 4 KiB touched. A
row is a function of its key alone, so blocks change no bit.
"""

from __future__ import annotations

import math

import numpy as np
from array_api_compat import device as array_device

from .backend import (
    _WEYL,
    _lowbias32,
    _probe_key,
    _seed_rows,
    namespace,
    to_numpy,
)

__all__ = ["counter_gaussian", "Scratch", "row_keys", "gaussian_rows", "BLOCK"]

#: numbers per block of rows: a block's words, radii, angles and normals (a few hundred
#: kilobytes) stay in a core's cache
BLOCK = 2**16
#: mixed into the key of the second word (any fixed word other than 0)
_SECOND_WORD = 0x6A09E667
#: fl32(2 pi / 2**32): a word to an angle in [0, 2 pi]
_ANGLE_PER_WORD = np.float32(2.0 * np.pi * 2.0**-32)


class Scratch:
    """Reusable host buffers, one per name, grown on demand (not thread-safe: one per run)."""

    def __init__(self) -> None:
        self._buffers: dict[str, np.ndarray] = {}
        self._weyl = np.zeros((1, 0), dtype=np.uint32)

    def take(self, name: str, shape: tuple[int, ...], dtype) -> np.ndarray:
        """A C-ordered buffer of ``shape`` and ``dtype`` (its old values are left in it)."""
        size = math.prod(shape)
        buffer = self._buffers.get(name)
        if buffer is None or buffer.size < size or buffer.dtype != dtype:
            buffer = self._buffers[name] = np.empty(size, dtype=dtype)
        return buffer[:size].reshape(shape)

    def weyl(self, pairs: int) -> np.ndarray:
        """``k * 0x9E3779B9 mod 2**32`` for ``k < pairs``: a ``(1, pairs)`` uint32 row."""
        if self._weyl.shape[1] < pairs:
            self._weyl = np.arange(pairs, dtype=np.uint32).reshape(1, -1)
            self._weyl *= np.uint32(_WEYL)  # wraps modulo 2**32
        return self._weyl[:, :pairs]


def _words_into(key: np.ndarray, out: np.ndarray, tmp: np.ndarray, weyl: np.ndarray) -> None:
    """``out[b, k] = lowbias32((k * 0x9E3779B9 + key_b) mod 2**32)``: uint32 ``(n, pairs)``
    from a uint32 ``(n, 1)`` key; every product and sum wraps modulo 2**32."""
    np.add(weyl, key, out=out)
    _lowbias32(out, tmp)


def row_keys(keys) -> tuple[np.ndarray, np.ndarray]:
    """The two uint32 key columns ``(n, 1)`` of rows keyed ``keys`` (an int or ``(n, 1)``
    integers in ``[0, 2**32)``): ``key_b`` and ``lowbias32(key_b ^ 0x6A09E667)``."""
    first = np.asarray(keys, dtype=np.int64).reshape(-1, 1).astype(np.uint32)
    second = first ^ np.uint32(_SECOND_WORD)
    return first, _lowbias32(second)


def gaussian_rows(keys, out: np.ndarray, scratch: Scratch, scale=None) -> np.ndarray:
    """Fill ``out`` ``(n, d)`` float64 with the normals of the rows ``keys`` (module doc), times
    ``scale`` when given (a float or a ``(d,)`` vector: the same bits as multiplying after).

    ``keys``: :func:`row_keys`. ``out`` is written in place, a block of rows at a time;
    returns it.
    """
    first, second = keys
    n, d = out.shape
    pairs, half = (d + 1) // 2, d // 2
    size = max(1, BLOCK // (2 * pairs))
    weyl = scratch.weyl(pairs)
    if scale is not None:  # float64 even for a Python float, which NumPy would take as float32
        scale = np.asarray(scale, dtype=np.float64)
        scale = (scale, scale) if scale.ndim == 0 else (scale[0::2], scale[1::2])
    for start in range(0, n, size):
        rows = slice(start, start + size)
        m = out[rows].shape[0]
        words = scratch.take("words", (m, pairs), np.uint32)
        tmp = scratch.take("tmp", (m, pairs), np.uint32)
        _words_into(first[rows], words, tmp, weyl)
        uniform = scratch.take("uniform", (m, pairs), np.float64)
        np.add(words, 1.0, out=uniform)  # exact: w1 + 1 <= 2**32
        uniform *= 2.0**-32
        np.log(uniform, out=uniform)
        uniform *= -2.0
        radius = scratch.take("radius", (m, pairs), np.float32)
        radius[...] = uniform
        np.sqrt(radius, out=radius)
        _words_into(second[rows], words, tmp, weyl)
        angle = scratch.take("angle", (m, pairs), np.float32)
        angle[...] = words  # fl32(w2)
        angle *= _ANGLE_PER_WORD
        trig = scratch.take("trig", (m, pairs), np.float32)
        for column, count, fn in ((0, pairs, np.cos), (1, half, np.sin)):
            fn(angle[:, :count], out=trig[:, :count])
            trig[:, :count] *= radius[:, :count]
            target = out[rows, column::2]
            if scale is None:
                target[...] = trig[:, :count]
            else:
                np.multiply(trig[:, :count], scale[column], out=target)
    return out


def counter_gaussian(seed, step: int, sample: int, like, scratch: Scratch | None = None):
    """Standard normal probes as a pure function of ``(seed_b, step, sample, j)`` (module doc).

    Arguments and result as :func:`~hessian_lab.backend.counter_rademacher`: a fresh
    ``(B, d)`` array with ``like``'s shape, float dtype and device; ``scratch`` (optional)
    lends reusable buffers to repeated draws.
    """
    xp = namespace(like)
    B, d = like.shape
    seed = _seed_rows(seed, like, "counter_gaussian")
    keys = row_keys(_probe_key(seed if isinstance(seed, int) else to_numpy(seed), step, sample))
    z = gaussian_rows(keys, np.empty((keys[0].shape[0], d)), scratch or Scratch())
    if z.shape[0] != B:  # one shared row of probes for the whole batch
        z = np.tile(z, (B, 1))
    return xp.asarray(z, dtype=like.dtype, device=array_device(like))
