"""Gradient noise in the engine: counter-based draws, rows as Monte Carlo samples."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import all_optimizer_classes

import hessian_lab as hl
from hessian_lab.backend import get_backend, to_numpy
from hessian_lab.noise import GradientNoise, NoiseSource
from hessian_lab.spec.noise import parse_noise

LAM = np.array([1.0, 0.5, 0.25, 0.125])
CENTER = np.array([0.5, -0.25, 1.0, 0.0])


def source(noise, problem, backend, rows):
    return noise.source(problem, backend, rows)


def test_draws_are_the_same_bits_on_numpy_and_torch():
    problem = hl.Quadratic(LAM, rotation="random", seed=3)
    for cov in ("hessian", 0.7, [0.1, 0.2, 0.3, 0.4]):
        noise = GradientNoise(cov, batch_size=3, seed=11)
        draws = []
        for name in ("numpy", "torch"):
            backend = get_backend(name)
            like = backend.asarray(np.zeros((5, 4)))
            draws.append(to_numpy(source(noise, problem, backend, 5).draw(7, like)))
        if cov == "hessian":  # a product z @ L^T: equal up to the order of the sums
            np.testing.assert_allclose(draws[0], draws[1], rtol=1e-14, atol=1e-15)
        else:  # elementwise scaling: the same bits
            assert np.array_equal(draws[0], draws[1])


def test_draws_have_the_asked_covariance():
    """Sample covariance of 20,000 draws of S/B for a full matrix S (3-sigma bounds)."""
    A = np.array([[2.0, 0.6, 0.0, 0.1], [0.6, 1.0, -0.3, 0.0], [0.0, -0.3, 0.5, 0.2]])
    S = A.T @ A
    problem = hl.Quadratic(LAM)
    noise = GradientNoise(S, batch_size=4, seed=2)
    backend = get_backend("numpy")
    n = 20_000
    xi = source(noise, problem, backend, n).draw(0, np.zeros((n, 4)))
    cov = np.cov(xi.T)
    target = S / 4
    # standard error of a sample covariance entry: sqrt((S_ii S_jj + S_ij^2) / n)
    se = np.sqrt((np.outer(np.diag(target), np.diag(target)) + target**2) / n)
    assert np.all(np.abs(cov - target) < 4 * se)
    assert np.all(np.abs(xi.mean(axis=0)) < 4 * np.sqrt(np.diag(target) / n))


def test_rows_steps_and_seeds_are_independent_streams():
    problem = hl.Quadratic(LAM)
    backend = get_backend("numpy")
    like = np.zeros((400, 4))
    a = source(GradientNoise(1.0, seed=0), problem, backend, 400)
    b = source(GradientNoise(1.0, seed=1), problem, backend, 400)
    z0, z1, w0 = a.draw(0, like), a.draw(1, like), b.draw(0, like)
    for x, y in ((z0, z1), (z0, w0), (z0[:-1], z0[1:])):
        corr = np.corrcoef(x.reshape(-1), y.reshape(-1))[0, 1]
        assert abs(corr) < 4 / np.sqrt(x.size)


def test_a_row_does_not_depend_on_its_batch():
    """Row b's path is the same bits in a batch of 3 and of 40, whatever the other rows do
    (rows that diverge or finish early leave the active set)."""
    problem = hl.Quadratic(LAM, center=CENTER)
    noise = GradientNoise("hessian", batch_size=5000, seed=5)
    rng = np.random.default_rng(0)
    lrs = rng.uniform(0.2, 1.5, 40)
    lrs[[0, 4, 9]] = 40.0  # unstable: leave early
    small = hl.run(
        problem,
        hl.Momentum(lr=lrs[:3], beta=0.5),
        np.zeros(4),
        tol=1e-3,
        max_steps=200,
        noise=noise,
        bound=1e3,
    )
    large = hl.run(
        problem,
        hl.Momentum(lr=lrs, beta=0.5),
        np.zeros(4),
        tol=1e-3,
        max_steps=200,
        noise=noise,
        bound=1e3,
    )
    assert set(large.status) >= {"diverged", "converged"}
    assert np.array_equal(small.steps, large.steps[:3])
    assert np.array_equal(to_numpy(small.x), to_numpy(large.x)[:3])


def test_numpy_and_torch_runs_agree():
    problem = hl.Quadratic(LAM, center=CENTER)
    noise = GradientNoise(0.3, batch_size=1, seed=9)
    results = [
        hl.run(
            problem,
            hl.Nesterov(lr=0.8, beta=0.6),
            np.zeros((6, 4)),
            tol=0,
            max_steps=60,
            noise=noise,
            backend=name,
        )
        for name in ("numpy", "torch")
    ]
    np.testing.assert_allclose(to_numpy(results[0].x), to_numpy(results[1].x), rtol=1e-12)


def test_tol_zero_runs_exactly_max_steps():
    problem = hl.Quadratic(LAM)  # x0 = c: the noiseless run would converge at step 0
    quiet = hl.run(problem, hl.GD(lr=0.5), np.zeros((2, 4)), tol=0, max_steps=17)
    assert np.all(quiet.status == "max_steps") and np.all(quiet.steps == 17)
    noisy = hl.run(
        problem, hl.GD(lr=0.5), np.zeros((2, 4)), tol=0, max_steps=17, noise=GradientNoise(1.0)
    )
    assert np.all(noisy.steps == 17) and np.all(noisy.final_loss > 0)
    assert quiet.tol == 0.0


@pytest.mark.parametrize("cls", all_optimizer_classes(), ids=lambda c: c.name)
def test_every_optimizer_runs_under_noise(cls):
    problem = hl.Quadratic([1.0, 4.0], center=[0.3, -0.2])
    noise = GradientNoise(0.5, batch_size=4, seed=1)
    opt = cls(lr=0.1) if "lr" in cls.hyperparameter_names() else cls()
    args = dict(tol=0, max_steps=12, bound=1e6)
    exact = hl.run(problem, opt, np.ones((3, 2)), **args)
    first = hl.run(problem, opt, np.ones((3, 2)), noise=noise, **args)
    again = hl.run(problem, opt, np.ones((3, 2)), noise=noise, **args)
    other = hl.run(problem, opt, np.ones((3, 2)), noise=GradientNoise(0.5, 4, seed=2), **args)
    x, x_again, x_other = (to_numpy(r.x) for r in (first, again, other))
    assert np.all(np.isfinite(x))
    assert np.array_equal(x, x_again)  # seeded: the same bits
    assert not np.allclose(x, to_numpy(exact.x))  # the noise reached the steps
    assert not np.allclose(x, x_other)
    assert not np.allclose(x[0], x[1])  # rows are independent samples


def test_curvature_stays_exact_under_noise():
    """Newton's Hessian is exact: from x0 = c + e with lr = 1 the step is -H^-1 xi only."""
    problem = hl.Quadratic([1.0, 4.0], center=[0.3, -0.2])
    noise = GradientNoise([1.0, 1.0], batch_size=1, seed=4)
    result = hl.run(problem, hl.Newton(lr=1.0), np.zeros((3, 2)), tol=0, max_steps=1, noise=noise)
    xi = source(noise, problem, get_backend("numpy"), 3).draw(0, np.zeros((3, 2)))
    np.testing.assert_allclose(result.x, problem.center - xi / [1.0, 4.0], rtol=1e-12)


@pytest.mark.parametrize(
    ("cov", "word"),
    [
        ("curvature", "noise cov"),
        (-1.0, "noise cov"),
        ([[1.0, 2.0], [0.0, 1.0]], "symmetric"),
        ([[1.0, 2.0], [2.0, 1.0]], "positive semi-definite"),
        ([1.0, float("nan")], "noise cov"),
    ],
)
def test_bad_covariances_are_one_line_errors(cov, word):
    with pytest.raises(ValueError, match=word) as info:
        GradientNoise(cov)
    assert "\n" not in str(info.value)


def test_bad_batch_size_seed_and_dimension():
    for kwargs, word in (
        ({"batch_size": 0}, "batch_size"),
        ({"seed": -1}, "seed"),
        ({"batch_size": 1.5}, "batch_size"),
    ):
        with pytest.raises(ValueError, match=word):
            GradientNoise(1.0, **kwargs)
    with pytest.raises(ValueError, match="3 dimensions but the problem has 4"):
        hl.run(hl.Quadratic(LAM), hl.GD(), np.zeros(4), noise=GradientNoise([1.0, 1.0, 1.0]))
    with pytest.raises(ValueError, match="positive semi-definite"):
        hl.run(
            hl.Quadratic([1.0, -1.0]),
            hl.GD(),
            np.ones(2),
            criterion="grad",
            noise=GradientNoise("hessian"),
        )


def test_parse_noise():
    assert parse_noise("hessian") == "hessian"
    assert parse_noise("0.5") == 0.5
    assert parse_noise("1, 2,3") == [1.0, 2.0, 3.0]
    for bad in ("H", "1,,2", "-1", "nan"):
        with pytest.raises(ValueError, match="--noise"):
            parse_noise(bad)


def test_noise_source_follows_the_active_rows():
    problem = hl.Quadratic(LAM)
    backend = get_backend("numpy")
    full = NoiseSource(GradientNoise(1.0, seed=3), ("scale", 1.0), backend, 6)
    like = np.zeros((6, 4))
    everything = full.draw(2, like)
    full.keep(np.array([1, 4]))
    np.testing.assert_array_equal(full.draw(2, like[:2]), everything[[1, 4]])
    assert problem.dim == 4


@pytest.mark.parametrize(
    "adapter_kwargs",
    [{"layout": "separate"}, {"layout": "groups"}, {"create_graph": True}],
    ids=["separate", "groups", "autograd"],
)
def test_adapters_get_the_same_noise(adapter_kwargs):
    """A step-function adapter and torch.optim.SGD through the torch adapter (its closures
    tilted by the step's noise: gradient + xi, by formula or by autograd) follow hl.GD's
    noisy path, row by row, with rows leaving early."""
    import torch

    from hessian_lab.adapters import StepFunction, TorchOptimizer

    def sgd(x, g, state, lr=0.1):
        return x - lr * g, state

    problem = hl.Quadratic([1.0, 4.0], center=[0.3, -0.2])
    noise = GradientNoise(0.5, batch_size=4, seed=1)
    args = dict(tol=0, max_steps=6, noise=noise, bound=2.0)
    x0 = np.array([[1.0, 1.0], [3.0, 0.0], [1.0, 1.0]])  # row 1 starts outside the box
    ours = hl.run(problem, hl.GD(lr=0.1), x0, **args)
    steps = StepFunction(sgd)
    torch_sgd = TorchOptimizer(torch.optim.SGD, {"lr": 0.1}, **adapter_kwargs)
    for other in (steps, torch_sgd):
        theirs = hl.run(problem, other, x0, **args)
        np.testing.assert_array_equal(theirs.status, ours.status)
        np.testing.assert_allclose(to_numpy(theirs.x), to_numpy(ours.x), rtol=1e-12)
    assert set(ours.status) == {"max_steps", "diverged"}


@pytest.mark.parametrize(
    "backend, dtype", [("numpy", "float64"), ("numpy", "float32"), ("torch", "float64")]
)
def test_draws_made_ahead_are_the_draws_made_on_the_spot(monkeypatch, backend, dtype):
    """Large draws are made one query ahead on a worker thread: the same bits as made on
    the spot, with rows leaving the active set (diverged and converged) along the way."""
    from hessian_lab import noise as noise_module

    rows, d = 64, 40
    assert rows * d >= noise_module.PREFETCH_MIN / 16  # scaled down below
    center = np.full(d, 0.5)
    problem = hl.Quadratic(np.linspace(0.1, 1.0, d), center=center, rotation="random", seed=2)
    lrs = np.full(rows, 0.05)  # too slow to converge in 60 steps
    lrs[:5] = 30.0  # diverge early
    lrs[5:9] = 1.0
    x0 = np.zeros((rows, d))
    x0[5:9] = center + 1e-3  # near the minimizer: within tol after a few steps
    args = dict(tol=1e-3, max_steps=60, bound=1e3, backend=backend, dtype=dtype)
    runs = {}
    for label, threshold in (("ahead", 16), ("on the spot", 2**62)):
        monkeypatch.setattr(noise_module, "PREFETCH_MIN", threshold)
        noise = GradientNoise("hessian", batch_size=10**6, seed=4)
        runs[label] = hl.run(problem, hl.GD(lr=lrs), x0, noise=noise, **args)
    ahead, spot = runs["ahead"], runs["on the spot"]
    assert {"diverged", "converged", "max_steps"} <= set(ahead.status)
    np.testing.assert_array_equal(ahead.steps, spot.steps)
    assert np.array_equal(to_numpy(ahead.x), to_numpy(spot.x), equal_nan=True)


def test_a_forked_child_draws_ahead_on_its_own_thread():
    """The worker thread is per process: a child forked after the parent used it still
    finishes its own large noisy run (the parent's thread does not exist in the child)."""
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("no fork on this platform")
    problem = hl.Quadratic(np.linspace(0.1, 1.0, 100))
    noise = GradientNoise("hessian", batch_size=8, seed=0)
    parent = hl.run(problem, hl.GD(lr=1.0), np.ones((512, 100)), tol=0, max_steps=5, noise=noise)
    context = multiprocessing.get_context("fork")
    with context.Pool(1) as pool:
        child = pool.apply_async(_noisy_final_x, (noise,)).get(timeout=60)
    np.testing.assert_array_equal(child, to_numpy(parent.x))


def _noisy_final_x(noise):
    problem = hl.Quadratic(np.linspace(0.1, 1.0, 100))
    result = hl.run(problem, hl.GD(lr=1.0), np.ones((512, 100)), tol=0, max_steps=5, noise=noise)
    return to_numpy(result.x)
