"""A row's loss and criterion do not depend on how the batch around it is laid out."""

from __future__ import annotations

import numpy as np
import pytest

import hessian_lab as hl
from hessian_lab.backend import get_backend, row_sums, to_numpy

LAYOUTS = [(0, 4099), (0, 1), (1, 1), (3, 2), (5, 17), (2, 1000), (7, 3000)]


@pytest.mark.parametrize("name", ["numpy", "torch"])
@pytest.mark.parametrize("dim", [2, 3, 8, 13, 64, 65, 130])
def test_a_rows_loss_has_the_same_bits_in_every_batch_layout(name, dim):
    """Sub-batches at any offset and size, and a strided (non-contiguous) copy, give each
    row the bits it had in the full batch (a BLAS matrix-vector product does not)."""
    backend = get_backend(name)
    rng = np.random.default_rng(dim)
    problem = hl.Quadratic(np.geomspace(1.0, 100.0, dim), center=rng.uniform(-1, 1, dim))
    X = rng.uniform(-2, 2, (4099, dim))
    full = to_numpy(problem.loss(backend.asarray(X)))
    for start, size in LAYOUTS:
        part = to_numpy(problem.loss(backend.asarray(X[start : start + size])))
        np.testing.assert_array_equal(part, full[start : start + size])
    wide = backend.asarray(np.repeat(X[:64], 2, axis=1))[:, ::2]  # strided rows
    np.testing.assert_array_equal(to_numpy(problem.loss(wide)), full[:64])


@pytest.mark.parametrize("name", ["numpy", "torch"])
def test_row_sums_is_the_sum_and_layout_free(name):
    backend = get_backend(name)
    P = np.random.default_rng(0).standard_normal((300, 37))
    full = to_numpy(row_sums(backend.asarray(P)))
    np.testing.assert_allclose(full, P.sum(axis=1), rtol=1e-13, atol=1e-13)
    for start, size in [(0, 1), (3, 5), (11, 200)]:
        part = to_numpy(row_sums(backend.asarray(P[start : start + size])))
        np.testing.assert_array_equal(part, full[start : start + size])
    batch = to_numpy(row_sums(backend.asarray(P.reshape(3, 100, 37))))
    np.testing.assert_array_equal(batch.reshape(-1), full)
