"""The one Hutchinson estimator (``hessian_lab.hutchinson``): Rademacher and Gaussian
counter-based probes, the same on every backend, used by AdaHessian and on dense matrices."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import numpy as np
import pytest

import hessian_lab as hl
from hessian_lab import hutchinson as hn
from hessian_lab.backend import Backend, seed_column, to_numpy
from hessian_lab.normals import counter_gaussian

ROOT = Path(__file__).resolve().parents[1]


def _lowbias32_int(x: int) -> int:
    """lowbias32 as documented, on a Python int."""
    x ^= x >> 16
    x = (x * 0x7FEB352D) & 0xFFFFFFFF
    x ^= x >> 15
    x = (x * 0x846CA68B) & 0xFFFFFFFF
    return x ^ (x >> 16)


def test_gaussian_probes_follow_the_documented_formula():
    """Box-Muller on pairs of coordinates, recomputed here in Python ints and math's float64
    functions: within 6e-6 (the float32 angle and radius), and the first word's top bit is
    the Rademacher sign."""
    from hessian_lab.backend import _probe_key

    seed, step, sample, d = 2**40 + 3, 9, 2, 7
    key = _probe_key(seed, step, sample)
    second = _lowbias32_int(key ^ 0x6A09E667)
    expected, firsts = [], []
    for k in range((d + 1) // 2):
        w1 = _lowbias32_int((k * 0x9E3779B9 + key) % 2**32)
        w2 = _lowbias32_int((k * 0x9E3779B9 + second) % 2**32)
        radius = math.sqrt(-2 * math.log((w1 + 1) / 2**32))
        angle = 2 * math.pi * w2 / 2**32
        expected += [radius * math.cos(angle), radius * math.sin(angle)]
        firsts.append(w1)
    z = counter_gaussian(seed, step, sample, np.zeros((1, d)))[0]
    np.testing.assert_allclose(z, expected[:d], rtol=0, atol=6e-6)
    signs = hn.counter_probe(seed, step, sample, np.zeros((1, len(firsts))), "rademacher")[0]
    np.testing.assert_array_equal(signs, [1.0 if w >= 2**31 else -1.0 for w in firsts])
    from hessian_lab import backend

    assert backend.counter_gaussian is counter_gaussian  # where it was first, still
    # a draw's first coordinates do not depend on how many follow
    longer = counter_gaussian(seed, step, sample, np.zeros((1, 2 * d + 1)))[0]
    np.testing.assert_array_equal(longer[:d], z)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_gaussian_probes_are_the_same_on_numpy_and_torch_and_per_row(dtype):
    seeds, d = [0, 5, 2**33 + 1, 5], 500
    reference = None
    for backend in (Backend("numpy", dtype), Backend("torch", dtype)):
        like = backend.asarray(np.zeros((len(seeds), d)))
        z = counter_gaussian(seed_column(seeds, backend), 3, 1, like)
        assert str(z.dtype).endswith(dtype) and tuple(z.shape) == (4, d)
        z = to_numpy(z)
        reference = z if reference is None else reference
        np.testing.assert_array_equal(z, reference)
        shared = counter_gaussian(5, 3, 1, like)
        shared *= 1  # fresh and writable
        np.testing.assert_array_equal(to_numpy(shared), np.tile(reference[1], (4, 1)))
    np.testing.assert_array_equal(reference[1], reference[3])  # equal seeds, equal rows
    assert not np.array_equal(reference[0], reference[1])


def test_gaussian_probes_look_standard_normal_and_independent():
    like = np.zeros((200, 500))
    z = counter_gaussian(seed_column(np.arange(200), Backend("numpy")), 0, 0, like)
    n = z.size  # 1e5 draws: means within 5 standard errors
    assert abs(z.mean()) < 5 / np.sqrt(n)
    assert abs(z.var() - 1) < 5 * np.sqrt(2 / n)
    assert abs(np.mean(z**4) - 3) < 5 * np.sqrt(96 / n)
    other = counter_gaussian(seed_column(np.arange(200), Backend("numpy")), 0, 1, like)
    assert abs(np.mean(z * other)) < 5 / np.sqrt(n)  # another sample: uncorrelated
    assert abs(np.mean(z[:, 1:] * z[:, :-1])) < 5 / np.sqrt(n)  # neighbours too


@pytest.mark.parametrize("probe", hn.PROBES)
def test_one_estimator_for_problems_and_dense_matrices(probe):
    problem = hl.Quadratic.from_condition(7, 30.0, rotation="random", seed=4)
    seeds = np.arange(5)
    X = np.zeros((5, 7))
    from_problem = hn.hutchinson_diagonal(problem, X, seeds, 3, step=2, probe=probe)
    dense = hn.estimate_diagonal(problem.hessian_matrix, 3, seed=seeds, probe=probe, step=2)
    np.testing.assert_allclose(from_problem, dense, rtol=1e-12, atol=1e-12)
    one = hn.estimate_diagonal(problem.hessian_matrix, 3, seed=2, probe=probe, step=2)
    np.testing.assert_allclose(one, dense[2], rtol=1e-13, atol=1e-13)
    drawn = hn.estimate_diagonal(problem.hessian_matrix, 1, np.random.default_rng(0), probe)
    assert drawn.shape == (7,) and np.all(np.isfinite(drawn))
    with pytest.raises(ValueError, match="probe must be one of rademacher, gaussian"):
        hn.hutchinson_diagonal(problem, X, seeds, probe="uniform")


def test_adahessian_takes_gaussian_probes_on_every_backend():
    problem = hl.Quadratic.from_condition(5, 10.0, rotation="random", seed=1)
    opt = hl.AdaHessian(lr=0.2, probe="gaussian", seed=[1, 2], n_samples=2)
    kwargs = {"tol": 1e-8, "max_steps": 400}
    a = hl.run(problem, opt, np.ones(5), backend="numpy", **kwargs)
    b = hl.run(problem, opt, np.ones(5), backend=Backend("torch"), **kwargs)
    assert all(a.converged)
    np.testing.assert_array_equal(a.steps, b.steps)
    np.testing.assert_allclose(to_numpy(a.x), to_numpy(b.x), rtol=1e-12, atol=1e-14)
    rademacher = hl.run(problem, hl.AdaHessian(lr=0.2, seed=[1, 2], n_samples=2), np.ones(5))
    assert not np.array_equal(to_numpy(rademacher.x), to_numpy(a.x))
    with pytest.raises(ValueError, match="^probe must be one of rademacher, gaussian"):
        hl.AdaHessian(probe="normal")


def test_the_symbolic_hutchinson_module_is_sympy_only():
    tree = ast.parse((ROOT / "hessian_lab/symbolic/hutchinson.py").read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            imported.add(node.module.split(".")[0])
    assert "numpy" not in imported and "sympy" in imported
