"""Counter-based Rademacher probes, and AdaHessian runs that use them.

``counter_rademacher(seed, step, sample, like)`` is a pure function of
``(seed_b, step, sample, j)``: checked against a pure-Python transcription of the documented
formula, across backends, devices and dtypes, and statistically (signs that look like fair,
independent coin flips). Then AdaHessian: a batched run on a rotated quadratic equals its
rows run one by one, NumPy equals torch, and seeds behave as documented.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from helpers import row_optimizer

import hessian_lab as hl
from hessian_lab.backend import Backend, counter_rademacher, seed_column, to_numpy
from hessian_lab.optimizers.adahessian import hutchinson_diagonal
from hessian_lab.optimizers.base import Oracle, take_rows

MASK = 0xFFFFFFFF


def lowbias32(x: int) -> int:
    x ^= x >> 16
    x = (x * 0x7FEB352D) & MASK
    x ^= x >> 15
    x = (x * 0x846CA68B) & MASK
    return x ^ (x >> 16)


def reference_sign(seed: int, step: int, sample: int, j: int) -> float:
    """The docstring's formula, in Python integers (no wrap-around anywhere)."""
    k = 0x2545F491
    for word in (step & MASK, (step >> 32) & MASK, sample & MASK, seed & MASK, seed >> 32):
        k = lowbias32(k ^ word)
    h = lowbias32((j * 0x9E3779B9 + k) & MASK)
    return 2.0 * (h >> 31) - 1.0


def probes(seeds, step, sample, d, backend=None):
    """Host ``(B, d)`` probes for a list of seeds (one row each)."""
    backend = backend or Backend("numpy")
    like = backend.asarray(np.zeros((len(seeds), d)))
    column = seed_column(list(seeds), backend)
    return to_numpy(counter_rademacher(column, step, sample, like))


def devices() -> list[Backend]:
    found = [Backend("torch", "float64", "cpu")]
    if torch.cuda.is_available():
        found.append(Backend("torch", "float64", "cuda"))
    return found


# ------------------------------------------------------------------------------ the formula


@pytest.mark.parametrize("seed", [0, 1, 7, 2**32 - 1, 2**32, 2**40 + 3, 2**63 - 1])
@pytest.mark.parametrize(("step", "sample"), [(0, 0), (1, 0), (1, 3), (2**32 + 5, 1), (10**6, 7)])
def test_probes_follow_the_documented_formula(seed, step, sample):
    d = 40
    expected = [reference_sign(seed, step, sample, j) for j in range(d)]
    got = to_numpy(counter_rademacher(seed, step, sample, np.zeros((1, d))))
    np.testing.assert_array_equal(got[0], expected)
    got = probes([seed], step, sample, d)  # the same through a (1, 1) seed column
    np.testing.assert_array_equal(got[0], expected)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_every_backend_device_and_dtype_draws_the_same_signs(dtype):
    seeds, d = [0, 5, 2**33 + 1, 5], 1000
    reference = probes(seeds, 17, 2, d)
    assert set(np.unique(reference)) == {-1.0, 1.0}
    for backend in [Backend("numpy"), *devices()]:
        backend = Backend(backend.name, dtype, backend.device)
        like = backend.asarray(np.zeros((len(seeds), d)))
        z = counter_rademacher(seed_column(seeds, backend), 17, 2, like)
        assert str(z.dtype).endswith(dtype) and tuple(z.shape) == (4, d)
        assert to_numpy(z).flags.c_contiguous or z.is_contiguous()
        np.testing.assert_array_equal(to_numpy(z), reference)
        # a shared seed: every row equals that seed's row
        shared = counter_rademacher(5, 17, 2, like)
        shared *= 1  # a fresh, writable array, even when every row shares the seed
        np.testing.assert_array_equal(to_numpy(shared), np.tile(reference[1], (4, 1)))
        if backend.name == "numpy":
            assert shared.flags.c_contiguous and shared.flags.owndata


def test_a_row_does_not_depend_on_the_rows_around_it():
    d = 300
    batch = probes([11, 12, 13, 14], 3, 0, d)
    for i, seed in enumerate([11, 12, 13, 14]):
        np.testing.assert_array_equal(batch[i], probes([seed], 3, 0, d)[0])
    np.testing.assert_array_equal(batch[[1, 3]], probes([12, 14], 3, 0, d))
    # a (B, k) column (the engine widens short rows' columns) uses its first column
    wide = np.repeat(np.array([[11], [12], [13], [14]]), 5, axis=1)
    np.testing.assert_array_equal(to_numpy(counter_rademacher(wide, 3, 0, np.zeros((4, d)))), batch)


def test_no_warnings_outside_the_engine():
    """The int64 products wrap past 2**63 by design: NumPy must stay silent about it."""
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        for seed in (2**63 - 1, [2**63 - 1, 0, 2**32]):
            column = seed if isinstance(seed, int) else seed_column(seed, Backend("numpy"))
            like = np.zeros((1 if isinstance(seed, int) else 3, 5000))
            z = counter_rademacher(column, 2**64 - 1, 2**32 - 1, like)
            assert np.all(np.abs(z) == 1.0)
        problem = hl.Quadratic([1.0, 3.0, 9.0], rotation="random", seed=1)
        hutchinson_diagonal(Oracle(problem), np.zeros((4, 3)), [1, 2, 3, 2**63 - 1], 3, step=9)


# ----------------------------------------------------------------------------- statistics

#: every statistic below is a mean of N products of signs: for fair independent signs its
#: standard deviation is 1/sqrt(N); the bound is 5 of them (a false alarm has probability
#: 6e-7 per statistic for truly random signs; these are deterministic, so it either holds
#: or points at structure in the hash)
SIGMAS = 5.0


class Means:
    """Running means of sign products, each checked against ``SIGMAS / sqrt(N)``."""

    def __init__(self):
        self.sums: dict[str, list] = {}

    def add(self, what, products):
        entry = self.sums.setdefault(what, [0.0, 0])
        entry[0] += float(np.sum(products))
        entry[1] += products.size

    def check(self):
        for what, (total, n) in self.sums.items():
            bound = SIGMAS / np.sqrt(n)
            assert abs(total / n) <= bound, (what, total / n, bound)


def test_probes_look_like_fair_independent_signs():
    """6.7e7 signs: 64 consecutive seeds x 64 consecutive steps x 16384 coordinates.

    5 sigma is then 6e-4: enough to see the -1e-3 correlation between coordinates two
    apart that lowbias32 of ``j + key`` (no Weyl multiplier) leaves.
    """
    seeds, steps, d = 64, 64, 16384
    means, previous = Means(), None
    for t in range(1, steps + 1):
        Z = probes(range(seeds), t, 0, d)  # (seeds, d)
        assert np.all(np.abs(Z) == 1.0)
        means.add("mean", Z)
        for lag in (1, 2, 3, 4, 5, 6, 8, 16, 256, 1024):
            means.add(f"coordinates {lag} apart", Z[:, :-lag] * Z[:, lag:])
        for lag in (1, 2, 7):
            means.add(f"seeds {lag} apart", Z[:-lag] * Z[lag:])
        means.add("three neighbours", Z[:, :-2] * Z[:, 1:-1] * Z[:, 2:])
        if previous is not None:
            means.add("consecutive steps", Z * previous)
            means.add("next step, previous coordinate", Z[:, 1:] * previous[:, :-1])
        previous = Z
    # the sample index, and seeds or steps that differ only in their high 32 bits
    base = probes(range(seeds), 1, 0, d)
    means.add("samples 0 and 1", base * probes(range(seeds), 1, 1, d))
    high = [s + 2**32 for s in range(seeds)]
    means.add("seeds 2**32 apart", base * probes(high, 1, 0, d))
    means.add("steps 2**32 apart", base * probes(range(seeds), 1 + 2**32, 0, d))
    means.check()


def test_every_pair_of_coordinates_seeds_and_steps_is_uncorrelated():
    """All 496 pairs among 32 coordinates, seeds and steps (the max of 496 |N(0, 1)| stays
    under 5 with probability 0.9997)."""
    Z = np.stack([probes(range(32), t, 0, 2048) for t in range(1, 33)])  # (step, seed, j)
    for axis, what in ((2, "coordinates"), (1, "seeds"), (0, "steps")):
        Y = np.moveaxis(Z, axis, -1)[..., :32].reshape(-1, 32)
        C = Y.T @ Y / Y.shape[0]
        worst = np.abs(C[~np.eye(32, dtype=bool)]).max()
        assert worst <= SIGMAS / np.sqrt(Y.shape[0]), (what, worst)


def test_hutchinson_is_unbiased_on_a_rotated_hessian():
    """Rows with seeds 0..N-1: the mean of z * Hz is diag H within 5 standard errors,
    ``sqrt(sum_{j != i} H_ij^2 / N)`` per coordinate; one shared seed gives N equal rows."""
    problem = hl.Quadratic(np.geomspace(1.0, 20.0, 6), rotation="random", seed=3)
    H = problem.hessian_matrix
    n = 20_000
    X = np.zeros((n, 6))
    samples = hutchinson_diagonal(Oracle(problem), X, np.arange(n), step=1)
    off = (H * H).sum(axis=1) - np.diag(H) ** 2
    error = np.abs(samples.mean(axis=0) - np.diag(H))
    assert np.all(error <= SIGMAS * np.sqrt(off / n)), error / np.sqrt(off / n)
    np.testing.assert_allclose(samples.var(axis=0), off, rtol=0.1)
    shared = hutchinson_diagonal(Oracle(problem), X[:3], 9, step=1)
    np.testing.assert_array_equal(shared, np.tile(samples[9], (3, 1)))


# ------------------------------------------------------------------- AdaHessian and seeds


def rotated(d, seed=0):
    rng = np.random.default_rng(seed)
    Q, R = np.linalg.qr(rng.standard_normal((d, d)))
    Q = Q * np.sign(np.diag(R))
    return hl.Quadratic(np.geomspace(1.0, 10.0, d), rotation=Q, center=rng.uniform(-1, 1, d))


#: B = 4 rows on a rotated quadratic, d = 80 (hyperparameter columns stay (B, 1)): several
#: probes per estimate, estimates every other step, blocks of 3 (80 is not a multiple)
SWEEP = hl.AdaHessian(
    lr=[0.02, 0.1, 0.3, 0.6],
    betas=([0.9, 0.5, 0.9, 0.0], 0.99),
    seed=[5, 6, 5, 2**40],
    n_samples=2,
    update_each=2,
    block_size=3,
)
RUN = {"criterion": "loss", "tol": 1e-6, "max_steps": 400, "bound": 1e3}


def test_batched_adahessian_equals_its_rows_on_a_rotated_quadratic(backend):
    problem = rotated(80)
    x0 = np.random.default_rng(1).uniform(-2, 2, size=(4, 80))
    batched = hl.run(problem, SWEEP, x0, backend=backend, **RUN)
    assert len(set(batched.steps)) >= 3, batched.steps  # rows retire at different steps
    for i in range(4):
        single = hl.run(problem, row_optimizer(SWEEP, i), x0[i], backend=backend, **RUN)
        assert (batched.status[i], batched.steps[i]) == (single.status[0], single.steps[0]), i
        np.testing.assert_allclose(
            to_numpy(batched.x)[i], to_numpy(single.x)[0], rtol=1e-12, atol=1e-12
        )


def test_numpy_and_torch_give_the_same_adahessian_iterates():
    problem = rotated(80, seed=2)
    x0 = np.random.default_rng(3).uniform(-2, 2, size=(4, 80))
    kwargs = dict(RUN, record="x", max_steps=150)
    a = hl.run(problem, SWEEP, x0, backend="numpy", **kwargs)
    b = hl.run(problem, SWEEP, x0, backend=Backend("torch"), **kwargs)
    np.testing.assert_array_equal(a.status, b.status)
    np.testing.assert_array_equal(a.steps, b.steps)
    np.testing.assert_allclose(a.x_history, b.x_history, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ["numpy", "torch"])
def test_same_seed_same_run_and_different_seed_different_run(name):
    """Exact equality between reruns; between a batch and a lone row the matrix products
    may round differently (BLAS blocks by batch size), hence 1e-12 there."""
    problem = rotated(6, seed=4)
    x0 = np.linspace(-1, 1, 6)
    kwargs = {"tol": 1e-10, "max_steps": 40, "backend": name}
    opt = hl.AdaHessian(seed=[7, 7, 8, 2**33 + 7])
    runs = hl.run(problem, opt, x0, **kwargs)
    x = to_numpy(runs.x)
    np.testing.assert_array_equal(to_numpy(hl.run(problem, opt, x0, **kwargs).x), x)
    np.testing.assert_allclose(x[1], x[0], rtol=1e-12, atol=1e-12)
    assert np.abs(x[2] - x[0]).max() > 1e-4 and np.abs(x[3] - x[0]).max() > 1e-4
    # a scalar seed is the same as that seed in every row
    alone = to_numpy(hl.run(problem, hl.AdaHessian(seed=7), x0, **kwargs).x)
    np.testing.assert_array_equal(
        to_numpy(hl.run(problem, hl.AdaHessian(seed=7), x0, **kwargs).x), alone
    )
    np.testing.assert_allclose(alone[0], x[0], rtol=1e-12, atol=1e-12)
    shared = hl.run(problem, hl.AdaHessian(lr=[0.15, 0.15], seed=7), x0, **kwargs)
    np.testing.assert_allclose(to_numpy(shared.x), np.tile(x[0], (2, 1)), rtol=1e-12, atol=1e-12)


def test_float32_runs_and_draws_the_float64_probes():
    problem = rotated(6, seed=5)
    x0 = np.linspace(-1, 1, 6)
    opt = hl.AdaHessian(lr=0.2, seed=[1, 2])
    r64 = hl.run(problem, opt, x0, tol=1e-6, max_steps=2000, backend="numpy")
    for name in ("numpy", "torch"):
        r32 = hl.run(problem, opt, x0, tol=1e-6, max_steps=2000, backend=name, dtype="float32")
        assert str(r32.x.dtype).endswith("float32")
        assert list(r32.status) == list(r64.status) == ["converged"] * 2
        np.testing.assert_allclose(to_numpy(r32.x), to_numpy(r64.x), atol=1e-3)


def test_seed_is_resolved_as_an_int_or_a_column_that_travels_with_its_rows(backend):
    hp = hl.AdaHessian(seed=3).hyperparameters(4, backend)
    assert hp.seed == 3 and type(hp.seed) is int
    hp = hl.AdaHessian(seed=[3, 4, 5, 6]).hyperparameters(4, backend)
    assert tuple(hp.seed.shape) == (4, 1) and "int64" in str(hp.seed.dtype)
    keep = backend.asarray(np.array([0, 2]))
    kept = take_rows(hp, backend.xp.astype(keep, backend.xp.int64))
    np.testing.assert_array_equal(to_numpy(kept.seed), [[3], [5]])
    assert hl.AdaHessian(seed=[1, 2, 3]).batch_size() == 3
    assert hl.AdaHessian(lr=[0.1, 0.2], seed=[1, 2]).batch_size() == 2
    assert hl.AdaHessian(seed=np.arange(5)).batch_size() == 5
    state = hl.AdaHessian().init(backend.asarray(np.zeros((2, 3))), hp)
    assert state._fields == ("m", "v", "D", "t") and state.t == 0


@pytest.mark.parametrize(
    "seed",
    [-1, 1.5, 2.0, True, "3", None, 2**63, [1, -2], [1.0, 2.0], [], [1, True], np.array([1.5])],
    ids=repr,
)
def test_bad_seeds_are_refused_in_one_line(seed):
    with pytest.raises(ValueError, match="seed") as info:
        hl.AdaHessian(seed=seed)
    assert "\n" not in str(info.value)


def test_good_seeds_and_mismatched_lengths():
    for seed in (0, 2**63 - 1, np.int64(5), [1, 2], (1, 2), np.arange(3), torch.tensor([4, 5])):
        hl.AdaHessian(seed=seed)
    with pytest.raises(ValueError, match="different lengths"):
        hl.AdaHessian(lr=[0.1, 0.2], seed=[1, 2, 3]).batch_size()
    with pytest.raises(ValueError, match="hyperparameters ask for 3"):
        hl.run(hl.Quadratic([1.0, 2.0]), hl.AdaHessian(seed=[1, 2, 3]), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="seed has 1 values but the batch has 2 rows"):
        hl.run(hl.Quadratic([1.0, 2.0]), hl.AdaHessian(seed=[1]), np.zeros((2, 2)))
