"""The batched engine: rows, backends, criteria, statuses, histories, errors."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from helpers import row_optimizer

import hessian_lab as hl
from hessian_lab.backend import Backend, to_numpy
from hessian_lab.optimizers import OPTIMIZERS

B = 4


def rotated_problem(seed=0, d=4):
    rng = np.random.default_rng(seed)
    Q, R = np.linalg.qr(rng.standard_normal((d, d)))
    Q = Q * np.sign(np.diag(R))
    lam = np.geomspace(1.0, 10.0, d)
    c = rng.uniform(-1, 1, size=d)
    H = Q @ np.diag(lam) @ Q.T
    return hl.Quadratic(lam, rotation=Q, center=c, min_value=0.5), (H + H.T) / 2, c


def f_dense(H, c, fstar, x):
    e = np.asarray(x) - c
    return 0.5 * e @ H @ e + fstar


def rotated(seed=0):
    return rotated_problem(seed)[0]


# Vector hyperparameters (B = 4 rows) chosen so the rows end in different statuses.
SWEEPS = {
    "gd": (rotated, hl.GD(lr=[0.05, 0.15, 0.199, 0.21])),
    "momentum": (rotated, hl.Momentum(lr=[0.01, 0.05, 0.1, 0.5], beta=[0.5, 0.9, 0, 0.9])),
    "nesterov": (rotated, hl.Nesterov(lr=[0.01, 0.05, 0.1, 0.5], beta=0.7)),
    "adagrad": (
        rotated,
        hl.AdaGrad(lr=[0.1, 0.5, 1.0, 3.0], lr_decay=[0, 0.01, 0, 0.1], weight_decay=0.0),
    ),
    "rmsprop": (
        rotated,
        hl.RMSProp(lr=[0.001, 0.01, 0.05, 0.02], momentum=[0.0, 0.5, 0.9, 0.0], centered=True),
    ),
    "adam": (
        rotated,
        hl.Adam(lr=[0.01, 0.05, 0.1, 0.3], betas=([0.8, 0.9, 0.9, 0.5], 0.999), amsgrad=True),
    ),
    "adamw": (rotated, hl.AdamW(lr=[0.01, 0.05, 0.1, 0.3], weight_decay=[0, 0.1, 0.2, 0])),
    # rotated: every probe is noisy, but counter-based, so a row sees the same probes
    # batched or alone (per-row seeds; then one seed shared by every row)
    "adahessian": (
        rotated,
        hl.AdaHessian(
            lr=[0.05, 0.15, 0.5, 1.0], hessian_power=[1.0, 0.5, 1.0, 0.7], seed=[3, 1, 4, 1]
        ),
    ),
    "adahessian-shared-seed": (
        rotated,
        hl.AdaHessian(lr=[0.05, 0.15, 0.5, 1.0], betas=([0.0, 0.5, 0.9, 0.9], 0.99), seed=11),
    ),
    "newton": (rotated, hl.Newton(lr=[0.5, 1.0, 1.5, 2.5])),
    "diag-newton": (rotated, hl.DiagonalNewton(lr=[0.1, 0.5, 1.0, 2.5])),
}


def sweep_x0(d, seed=1):
    return np.random.default_rng(seed).uniform(-2, 2, size=(B, d))


RUN = {"criterion": "loss", "tol": 1e-8, "max_steps": 300, "bound": 1e3}


@pytest.mark.parametrize("name", list(SWEEPS))
def test_batched_run_equals_its_rows(name, backend):
    make_problem, opt = SWEEPS[name]
    problem = make_problem()
    x0 = sweep_x0(problem.dim)
    batched = hl.run(problem, opt, x0, backend=backend, **RUN)
    assert batched.batch == B
    for i in range(B):
        single = hl.run(problem, row_optimizer(opt, i), x0[i], backend=backend, **RUN)
        assert single.batch == 1
        assert batched.status[i] == single.status[0], i
        assert batched.steps[i] == single.steps[0], i
        np.testing.assert_allclose(
            to_numpy(batched.x)[i], to_numpy(single.x)[0], rtol=1e-12, atol=1e-13
        )
        np.testing.assert_allclose(
            batched.final_loss[i], single.final_loss[0], rtol=1e-12, atol=1e-15
        )
    # a sweep that ends in one status only would not test the bookkeeping much
    if name in ("gd", "newton", "diag-newton", "adahessian", "adahessian-shared-seed"):
        assert len(set(batched.status)) >= 2, batched.status


@pytest.mark.parametrize("name", list(SWEEPS))
def test_numpy_backend_equals_torch_backend(name):
    make_problem, opt = SWEEPS[name]
    problem = make_problem()
    x0 = sweep_x0(problem.dim)
    a = hl.run(problem, opt, x0, backend="numpy", record="loss", **RUN)
    b = hl.run(problem, opt, x0, backend=Backend("torch"), record="loss", **RUN)
    assert type(to_numpy(a.x)) is np.ndarray and type(a.x) is np.ndarray
    assert type(b.x).__module__.startswith("torch")
    np.testing.assert_array_equal(a.status, b.status)
    np.testing.assert_array_equal(a.steps, b.steps)
    np.testing.assert_allclose(to_numpy(a.x), to_numpy(b.x), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(a.loss_history, b.loss_history, rtol=1e-12, atol=1e-12)


# -------------------------------------------------------------------------------- criteria


@pytest.mark.parametrize("criterion", ["loss", "distance", "grad"])
def test_zero_steps_when_x0_already_satisfies_the_criterion(criterion, backend):
    problem, H, c = rotated_problem()
    x0 = c + 1e-9
    result = hl.run(
        problem,
        hl.GD(lr=0.1),
        x0,
        criterion=criterion,
        tol=1e-6,
        backend=backend,
        record=("loss", "x"),
    )
    assert result.status[0] == "converged" and result.steps[0] == 0
    np.testing.assert_array_equal(to_numpy(result.x)[0], x0)
    assert result.loss_history.shape == (1, 1) and result.x_history.shape == (1, 1, 4)


def independent_criterion(criterion, H, c, fstar, x):
    if criterion == "loss":
        return f_dense(H, c, fstar, x) - fstar
    if criterion == "distance":
        return np.linalg.norm(np.asarray(x) - c)
    return np.linalg.norm(H @ (np.asarray(x) - c))


@pytest.mark.parametrize("criterion", ["loss", "distance", "grad"])
@pytest.mark.parametrize("tol", [1e-3, 1e-7])
def test_criteria_hold_at_the_end_and_not_one_step_before(criterion, tol, backend):
    problem, H, c = rotated_problem(seed=3)
    x0 = np.array([1.5, -2.0, 0.5, 1.0])
    result = hl.run(
        problem,
        hl.GD(lr=0.12),
        x0,
        criterion=criterion,
        tol=tol,
        backend=backend,
        record=("loss", "x"),
    )
    assert result.status[0] == "converged"
    t = int(result.steps[0])
    assert t >= 2
    x_final = to_numpy(result.x)[0]
    assert independent_criterion(criterion, H, c, 0.5, x_final) <= tol * (1 + 1e-9)
    assert result.final_criterion[0] == pytest.approx(
        independent_criterion(criterion, H, c, 0.5, x_final), rel=1e-8, abs=1e-15
    )
    assert result.x_history.shape == (t + 1, 1, 4)
    np.testing.assert_array_equal(result.x_history[t, 0], x_final)
    previous = result.x_history[t - 1, 0]
    assert independent_criterion(criterion, H, c, 0.5, previous) > tol
    if criterion == "loss":
        assert result.loss_history[t - 1, 0] - 0.5 > tol
        assert result.loss_history[t, 0] - 0.5 <= tol
    # every recorded loss is the loss of the recorded iterate
    expected = [f_dense(H, c, 0.5, x) for x in result.x_history[:, 0]]
    np.testing.assert_allclose(result.loss_history[:, 0], expected, rtol=1e-12)
    # and the recorded iterates are GD's, computed here
    x = x0.copy()
    for s in range(1, t + 1):
        x = x - 0.12 * H @ (x - c)
        np.testing.assert_allclose(result.x_history[s, 0], x, rtol=1e-12, atol=1e-13)


# ------------------------------------------------------------------------------- statuses


@pytest.mark.parametrize(("bound", "step"), [(1024.0, 10), (1000.0, 10), (1025.0, 11), (3.0, 2)])
def test_divergence_step_is_exact(bound, step, backend):
    """GD at lr = 3/lambda in 1-D: x_t = (-2)^t x_0, so |x_t| = 2^t leaves |x| < bound at
    the first t with 2^t >= bound."""
    problem = hl.Quadratic([2.0])
    result = hl.run(problem, hl.GD(lr=1.5), [1.0], bound=bound, record="x", backend=backend)
    assert result.status[0] == "diverged"
    assert result.steps[0] == step
    assert result.diverged_at[0] == step and np.isnan(result.steps_to_tol[0])
    assert abs(to_numpy(result.x)[0, 0]) == 2.0**step
    np.testing.assert_array_equal(result.x_history[:, 0, 0], (-2.0) ** np.arange(step + 1))
    assert result.row(0)["diverged_at"] == step and result.row(0)["steps"] is None


def test_overflow_is_divergence_and_no_warning_leaks(backend):
    """With no box, the loss 1/2 * 2 * x^2 = 2^(2t) overflows first at t = 512."""
    problem = hl.Quadratic([2.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = hl.run(
            problem, hl.GD(lr=1.5), [1.0], bound=math.inf, max_steps=5000, backend=backend
        )
        result.row(0)
        result.steps_to_tol, result.diverged_at  # noqa: B018
    assert result.status[0] == "diverged" and result.steps[0] == 512


@pytest.mark.parametrize("short", [0, 1, 100, 600])
def test_a_shorter_run_is_a_truncated_longer_run(short, backend):
    """run(max_steps=m) ends as run(max_steps=M > m) does if that ended by step m, else at m
    with status max_steps. Row 0 overflows its loss (f = 2^(2t)) long before its iterate
    leaves a box of 1e300; row 1 converges; row 2 stalls."""
    problem = hl.Quadratic([2.0])
    opt = hl.GD(lr=[1.5, 0.3, 1e-6])
    kwargs = {"bound": 1e300, "tol": 1e-8, "backend": backend}
    long = hl.run(problem, opt, [1.0], max_steps=5000, **kwargs)
    cut = hl.run(problem, opt, [1.0], max_steps=short, **kwargs)
    for i in range(3):
        if long.steps[i] <= short:
            assert (cut.status[i], cut.steps[i]) == (long.status[i], long.steps[i]), i
        else:
            assert (cut.status[i], cut.steps[i]) == ("max_steps", short), i


def test_no_floating_point_warning_leaks_from_nan_producing_steps():
    problem = hl.Quadratic([1.0, 100.0], center=[0.0, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # overflow in a 2-D run with every optimizer family
        for opt in [hl.GD(lr=10.0), hl.Momentum(lr=10.0), hl.Nesterov(lr=10.0)]:
            result = hl.run(problem, opt, [1.0, 0.0], bound=math.inf, backend="numpy")
            assert result.status[0] == "diverged"
        # eps = 0 and a zero gradient coordinate: 0/0 in the first step
        for opt in [hl.AdaGrad(eps=0.0), hl.RMSProp(eps=0.0), hl.Adam(eps=0.0)]:
            result = hl.run(problem, opt, [1.0, 1.0], criterion="grad", backend="numpy")
            assert result.status[0] == "diverged" and result.steps[0] == 1
        np.asarray(result.final_loss) + 1


def test_start_outside_the_box_is_diverged_at_step_zero(backend):
    result = hl.run(hl.Quadratic([1.0, 2.0]), hl.GD(lr=0.1), [10.0, 1.0], bound=5, backend=backend)
    assert result.status[0] == "diverged" and result.steps[0] == 0


def test_max_steps_status(backend):
    problem, H, c = rotated_problem()
    result = hl.run(
        problem, hl.GD(lr=1e-4), np.full(4, 2.0), max_steps=7, backend=backend, record="loss"
    )
    assert result.status[0] == "max_steps" and result.steps[0] == 7
    assert result.final_criterion[0] > 1e-6
    assert result.loss_history.shape == (8, 1)
    assert result.row(0)["steps"] is None and result.row(0)["diverged_at"] is None
    # max_steps = 0: only x0 is measured
    zero = hl.run(problem, hl.GD(lr=0.1), np.full(4, 2.0), max_steps=0, backend=backend)
    assert zero.status[0] == "max_steps" and zero.steps[0] == 0
    np.testing.assert_array_equal(to_numpy(zero.x)[0], np.full(4, 2.0))


def test_finished_rows_are_frozen_in_the_histories(backend):
    problem = hl.Quadratic([1.0, 10.0], center=[0.3, -0.2])
    lrs = [0.19, 0.02, 0.25, 1e-5]  # fast, slow, diverging, stalling
    result = hl.run(
        problem,
        hl.GD(lr=lrs),
        [1.0, 1.0],
        tol=1e-6,
        max_steps=400,
        bound=50,
        record=("loss", "x"),
        backend=backend,
    )
    np.testing.assert_array_equal(
        result.status, ["converged", "converged", "diverged", "max_steps"]
    )
    T = int(result.steps.max())
    assert T == 400
    assert result.loss_history.shape == (T + 1, B)
    assert result.x_history.shape == (T + 1, B, 2)
    x_final = to_numpy(result.x)
    for i in range(B):
        t = int(result.steps[i])
        np.testing.assert_array_equal(
            result.x_history[t:, i], np.broadcast_to(x_final[i], (T + 1 - t, 2))
        )
        np.testing.assert_array_equal(result.loss_history[t:, i], result.final_loss[i])
        if t > 0:  # it was still moving the step before
            assert np.any(result.x_history[t - 1, i] != x_final[i])
    # rows stopped at different steps
    assert result.steps[0] < result.steps[1] and result.steps[2] < result.steps[1]


# ------------------------------------------------------------------------- dtype and seeds


@pytest.mark.parametrize("name", ["numpy", "torch"])
def test_dtype_default_float64_and_float32_selectable(name):
    problem, H, c = rotated_problem()
    x0 = [1.0, 2.0, -1.0, 0.5]
    r64 = hl.run(problem, hl.Adam(lr=0.05), x0, backend=name)
    r32 = hl.run(problem, hl.Adam(lr=0.05), x0, backend=name, dtype="float32")
    assert str(r64.x.dtype).endswith("float64")
    assert str(r32.x.dtype).endswith("float32")
    assert r64.backend.dtype == "float64" and r32.backend.dtype == "float32"
    # float32 follows the same path to single precision only
    assert r32.status[0] == r64.status[0] == "converged"
    assert abs(int(r32.steps[0]) - int(r64.steps[0])) <= 0.05 * r64.steps[0] + 2
    np.testing.assert_allclose(to_numpy(r32.x), to_numpy(r64.x), atol=1e-3)
    # an array x0 keeps its dtype unless told otherwise
    r = hl.run(problem, hl.GD(lr=0.1), np.asarray(x0, dtype=np.float32))
    assert r.x.dtype == np.float32


@pytest.mark.parametrize("name", ["numpy", "torch"])
def test_dtype_applies_with_a_backend_object(name):
    """``dtype="float32"`` must not be dropped when the backend is given as a Backend."""
    problem = hl.Quadratic([1.0, 2.0])
    result = hl.run(problem, hl.GD(lr=0.1), [1.0, 1.0], backend=Backend(name), dtype="float32")
    assert str(result.x.dtype).endswith("float32")
    assert result.backend.dtype == "float32"


@pytest.mark.parametrize("name", ["numpy", "torch"])
def test_adahessian_seed_reproducible(name):
    problem, H, c = rotated_problem(seed=5, d=6)
    x0 = np.linspace(-1, 1, 6)
    kwargs = {"criterion": "loss", "tol": 1e-10, "max_steps": 40, "backend": name}
    a = hl.run(problem, hl.AdaHessian(seed=7), x0, **kwargs)
    b = hl.run(problem, hl.AdaHessian(seed=7), x0, **kwargs)
    c2 = hl.run(problem, hl.AdaHessian(seed=8), x0, **kwargs)
    np.testing.assert_array_equal(to_numpy(a.x), to_numpy(b.x))
    assert not np.array_equal(to_numpy(a.x), to_numpy(c2.x))


# ------------------------------------------------------------- degenerate and bad problems


def test_distance_refused_on_a_singular_quadratic():
    problem = hl.Quadratic([0.0, 1.0], rotation="random", seed=2)
    with pytest.raises(ValueError, match="distance") as info:
        hl.run(problem, hl.GD(lr=0.1), [1.0, 1.0], criterion="distance")
    assert "\n" not in str(info.value)
    # loss and grad are fine: the minimum value exists
    r = hl.run(problem, hl.GD(lr=0.5), [1.0, 1.0], criterion="loss", tol=1e-10)
    assert r.status[0] == "converged"


def test_loss_refused_on_an_indefinite_quadratic():
    problem = hl.Quadratic([-1.0, 1.0])
    with pytest.raises(ValueError, match="loss") as info:
        hl.run(problem, hl.GD(lr=0.1), [1.0, 1.0], criterion="loss")
    assert "\n" not in str(info.value)
    with pytest.raises(ValueError, match="distance"):
        hl.run(problem, hl.GD(lr=0.1), [1.0, 1.0], criterion="distance")


def test_saddle_run_reports_divergence(backend):
    problem = hl.Quadratic([-0.5, 2.0], rotation="random", seed=4, center=[0.1, 0.2])
    result = hl.run(
        problem, hl.GD(lr=0.2), [1.0, -1.0], criterion="grad", tol=1e-8, bound=1e6, backend=backend
    )
    assert result.status[0] == "diverged"
    # the unstable mode grows by 1 + 0.2 * 0.5 = 1.1 per step: about log(1e6)/log(1.1) steps
    assert 100 < result.steps[0] < 200


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [
        ({"tol": -1e-3}, "tol"),
        ({"tol": math.nan}, "tol"),
        ({"tol": math.inf}, "tol"),
        ({"tol": "1e-6"}, "tol"),
        ({"max_steps": -1}, "max_steps"),
        ({"max_steps": 2.5}, "max_steps"),
        ({"criterion": "gradient"}, "criterion"),
        ({"record": "y"}, "record"),
        ({"record": ("loss", "grad")}, "record"),
        ({"bound": 0.0}, "bound"),
        ({"bound": math.nan}, "bound"),
        ({"x0": np.zeros((2, 2, 2))}, "x0"),
        ({"x0": [1.0, 2.0, 3.0]}, "dimension"),
        ({"x0": np.zeros((3, 3))}, "dimension"),
        ({"backend": "jax"}, "backend"),
        ({"dtype": "float16"}, "dtype"),
    ],
)
def test_bad_arguments(kwargs, word):
    args = {"problem": hl.Quadratic([1.0, 2.0]), "optimizer": hl.GD(lr=0.1), "x0": [1.0, 1.0]}
    args.update(kwargs)
    with pytest.raises(ValueError, match=word) as info:
        hl.run(**args)
    assert "\n" not in str(info.value)


# ---------------------------------------------------------------------------- steep valley

VALLEY = {"criterion": "loss", "tol": 1e-6, "max_steps": 10_000, "bound": 5.0}


def test_steep_valley_runs_for_every_optimizer():
    problem = hl.steep_valley()
    H, c = np.diag([1.0, 100.0]), np.array([0.8, 0.6])
    table = {}
    for name, cls in OPTIMIZERS.items():
        result = hl.run(problem, cls(), [0.0, 0.0], **VALLEY)
        status, steps = str(result.status[0]), int(result.steps[0])
        table[name] = (status, steps)
        x = to_numpy(result.x)[0]
        assert status in ("converged", "diverged", "max_steps"), name
        assert 1 <= steps <= 10_000, name
        if status == "converged":
            assert f_dense(H, c, 0.0, x) <= 1e-6 * (1 + 1e-9), name
        elif status == "diverged":
            assert not (np.all(np.abs(x) < 5) and np.all(np.isfinite(x))), name
        else:
            assert steps == 10_000 and f_dense(H, c, 0.0, x) > 1e-6, name
    assert set(table) == set(OPTIMIZERS)
    # the exact methods solve it in one step
    assert table["newton"] == ("converged", 1)
    assert table["diag-newton"] == ("converged", 1)


def test_steep_valley_gd_stability_edge():
    problem = hl.steep_valley()
    unstable = hl.run(problem, hl.GD(lr=1.01 * 2 / 100), [0.0, 0.0], **VALLEY)
    assert unstable.status[0] == "diverged"
    stable = hl.run(problem, hl.GD(lr=2 / 101), [0.0, 0.0], **VALLEY)
    assert stable.status[0] == "converged"
    # both modes contract by 99/101: f_t = f_0 (99/101)^(2t), so t is the first with
    # f_0 (99/101)^(2t) <= 1e-6, up to rounding at the boundary
    f0 = 0.5 * (0.8**2 + 100 * 0.6**2)
    predicted = math.ceil(math.log(1e-6 / f0) / (2 * math.log(99 / 101)))
    assert abs(int(stable.steps[0]) - predicted) <= 1
    # one sweep call gives the same answer as the two separate runs
    both = hl.run(problem, hl.GD(lr=[1.01 * 2 / 100, 2 / 101]), [0.0, 0.0], **VALLEY)
    np.testing.assert_array_equal(both.status, ["diverged", "converged"])
    np.testing.assert_array_equal(both.steps, [unstable.steps[0], stable.steps[0]])


def test_progress_reports_steps_and_shrinking_active_rows():
    calls = []
    lr = np.array([1e-3, 1e-2, 1.9e-2])
    result = hl.run(
        hl.steep_valley(),
        hl.GD(lr=lr),
        [0.0, 0.0],
        max_steps=2_000,
        progress=lambda step, active: calls.append((step, active)),
    )
    steps = [step for step, _ in calls]
    assert steps[:-1] == list(range(100, steps[-1] + 1, 100))[: len(steps) - 1]
    assert calls[-1] == (int(result.steps.max()), 0)
    active = [a for _, a in calls]
    assert active == sorted(active, reverse=True) and active[0] == 3
