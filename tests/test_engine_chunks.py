"""The engine's chunked checking is invisible, and the step contract it relies on holds.

Small batches run ``CHUNK_STEPS`` steps between two looks at the criterion and then find
each finished row's first finishing step in the chunk. Every result must equal the one
checked after every step (``CHUNK_STEPS = 1``): statuses, steps, final iterates, losses,
criterion values and histories, bit for bit.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from helpers import direct_iterates
from hypothesis import given
from hypothesis import strategies as st

import hessian_lab as hl
import hessian_lab.engine as engine
from hessian_lab.backend import Backend, broadcast_copy, to_numpy
from hessian_lab.optimizers import OPTIMIZERS
from hessian_lab.optimizers.base import Oracle


def run_both(*args, **kwargs):
    """The same run chunked (the default) and checked after every step."""
    chunked = hl.run(*args, **kwargs)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(engine, "CHUNK_STEPS", 1)
        stepwise = hl.run(*args, **kwargs)
    return chunked, stepwise


def assert_same(a, b):
    np.testing.assert_array_equal(a.status, b.status)
    np.testing.assert_array_equal(a.steps, b.steps)
    np.testing.assert_array_equal(to_numpy(a.x), to_numpy(b.x))
    np.testing.assert_array_equal(a.final_loss, b.final_loss)
    np.testing.assert_array_equal(a.final_criterion, b.final_criterion)
    for name in ("loss_history", "x_history"):
        left, right = getattr(a, name), getattr(b, name)
        assert (left is None) == (right is None)
        if left is not None:
            np.testing.assert_array_equal(left, right)


SWEEPS = {
    "momentum": lambda lr, beta: hl.Momentum(lr=lr, beta=beta),
    "nesterov": lambda lr, beta: hl.Nesterov(lr=lr, beta=beta),
    "adam": lambda lr, beta: hl.Adam(lr=lr, betas=(beta, 0.999)),
    "adahessian": lambda lr, beta: hl.AdaHessian(lr=lr, betas=(beta, 0.999)),
}


@given(
    name=st.sampled_from(sorted(SWEEPS)),
    rows=st.integers(1, 40),
    seed=st.integers(0, 2**16),
    criterion=st.sampled_from(engine.CRITERIA),
    bound=st.sampled_from([1.2, 3.0, 1e12]),
    max_steps=st.integers(0, 260),
    record=st.sampled_from([(), ("loss",), ("loss", "x")]),
    backend=st.sampled_from(["numpy", "torch"]),
)
def test_chunked_checking_equals_checking_every_step(
    name, rows, seed, criterion, bound, max_steps, record, backend
):
    """Rows that converge, diverge (also leaving the box and coming back within a chunk)
    or run out of steps at any step of a chunk get exactly the per-step results."""
    rng = np.random.default_rng(seed)
    lr = list(10 ** rng.uniform(-3.5, 0.0, rows))
    beta = list(rng.uniform(0.0, 0.99, rows))
    x0 = rng.uniform(-1.0, 1.0, (rows, 2))
    chunked, stepwise = run_both(
        hl.steep_valley(),
        SWEEPS[name](lr, beta),
        x0,
        criterion=criterion,
        tol=1e-4,
        max_steps=max_steps,
        bound=bound,
        record=record,
        backend=backend,
    )
    assert_same(chunked, stepwise)


@pytest.mark.parametrize("kept", [2**10, 2**18])
def test_the_gpu_chunk_rule_changes_no_result(monkeypatch, kept):
    """The rule used on a GPU (every batch chunked, up to a number of kept entries),
    exercised on the CPU with torch: 4,096 rows of 8 entries in chunks of 1 step (2**10
    kept) or 8 steps (2**18 kept), against checking every step."""
    torch = pytest.importorskip("torch")
    rule = engine.chunk_steps
    monkeypatch.setattr(engine, "chunk_steps", lambda n, d, on_gpu, w=1: rule(n, d, True, w))
    monkeypatch.setattr(engine, "CHUNK_MAX_KEPT_GPU", kept)
    assert engine.chunk_steps(4096, 8, False) == max(1, min(25, kept // (4096 * 8)))
    problem = hl.Quadratic(np.geomspace(1.0, 100.0, 8), center=np.full(8, 0.3))
    lr = list(np.linspace(0.001, 0.04, 4096))
    x0 = torch.as_tensor(np.random.default_rng(2).uniform(-1, 1, (4096, 8)))
    opt = hl.Momentum(lr=lr, beta=0.5)
    chunked, stepwise = run_both(problem, opt, x0, bound=10.0, max_steps=3000)
    assert set(chunked.status) == {"converged", "diverged", "max_steps"}
    assert_same(chunked, stepwise)


def test_a_row_that_leaves_the_box_and_comes_back_within_a_chunk_is_diverged_at_its_exit():
    """Heavy ball with beta = 0.9 overshoots the minimizer 0.8 and swings back: with the
    box at 1.2 the first exit is inside a chunk whose last iterate is inside again."""
    problem = hl.Quadratic([1.0], center=[0.8])
    opt = hl.Momentum(lr=0.5, beta=0.9)
    xs = direct_iterates(problem, opt, [0.0], 60)[:, 0]
    exit_step = int(np.flatnonzero(np.abs(xs) >= 1.2)[0])
    chunk_end = (exit_step // engine.CHUNK_STEPS + 1) * engine.CHUNK_STEPS
    assert 0 < exit_step < chunk_end and abs(xs[chunk_end]) < 1.2  # the case is exercised
    result = hl.run(problem, opt, [0.0], bound=1.2, max_steps=200)
    assert result.status[0] == "diverged" and result.steps[0] == exit_step
    assert to_numpy(result.x)[0, 0] == xs[exit_step]


def test_finished_rows_keep_the_iterate_of_their_finishing_step():
    """A row that converges in the middle of a chunk reports the iterate and loss of that
    step, not of the chunk's last step (which the row also computed)."""
    problem = hl.steep_valley()
    lr = [0.015, 0.019]
    result = hl.run(problem, hl.GD(lr=lr), [0.0, 0.0], tol=1e-6, max_steps=1000)
    for i, rate in enumerate(lr):
        xs = direct_iterates(problem, hl.GD(lr=rate), [0.0, 0.0], int(result.steps[i]))
        assert result.steps[i] % engine.CHUNK_STEPS != 0
        np.testing.assert_array_equal(to_numpy(result.x)[i], xs[-1])
        expected = problem.loss(xs[-1][None, :])[0]
        assert result.final_loss[i] == pytest.approx(expected, rel=1e-14)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_step_returns_a_fresh_iterate_and_init_gives_every_field_its_own_array(name, backend):
    """The contract the engine relies on: ``step`` never writes to ``X`` (the engine keeps
    a chunk's iterates by reference) and the state it may update in place shares no
    memory between fields (Adam's m and v must not be one array)."""
    if backend == "torch":
        pytest.importorskip("torch")
    be = Backend(backend)
    problem = hl.Quadratic([1.0, 4.0, 9.0], center=[0.5, -0.5, 1.0])
    opt = OPTIMIZERS[name]()
    if name in ("rmsprop",):
        opt = OPTIMIZERS[name](centered=True, momentum=0.5)
    if name in ("adam", "adamw"):
        opt = OPTIMIZERS[name](amsgrad=True)
    X = be.asarray(np.array([[0.1, 0.2, 0.3], [1.0, -1.0, 2.0]]))
    hp = opt.hyperparameters(2, be)
    state = opt.init(X, hp)
    arrays = [a for a in state if hasattr(a, "shape") and len(a.shape) == 2]
    pointers = [to_numpy(a).__array_interface__["data"][0] for a in arrays]
    if backend == "torch":
        pointers = [a.data_ptr() for a in arrays]
    assert len(set(pointers)) == len(pointers)
    oracle = Oracle(problem)
    for _ in range(3):
        before = to_numpy(X).copy()
        oracle.remember(X, problem.grad(X))
        X_next, state = opt.step(X, state, hp, oracle)
        np.testing.assert_array_equal(to_numpy(X), before)
        assert X_next is not X
        X = X_next


def test_consumed_state_keeps_peak_memory_within_three_states():
    """The engine holds one state at a time: AdaHessian's peak allocation stays within 3x
    its state (m, v, D) on a large axis-aligned problem; a pure step that keeps the old
    and the new state alive together needs about 3.7x."""
    d = 200_000
    problem = hl.Quadratic(np.linspace(1.0, 100.0, d), center=np.full(d, 0.5))
    opt = hl.AdaHessian()
    x0 = np.zeros(d)
    hl.run(problem, opt, x0, tol=1e-300, max_steps=2)  # constants cached outside the trace
    state_bytes = 3 * d * 8
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        result = hl.run(problem, opt, x0, tol=1e-300, max_steps=6)
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    assert result.status[0] == "max_steps"
    assert peak <= 3 * state_bytes, peak / state_bytes


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_broadcast_copy_is_a_fresh_c_ordered_array(backend):
    """A row spread over n rows comes back C-ordered (a plain copy of ``broadcast_to`` is
    column-major, and mixing layouts slows every elementwise operation)."""
    if backend == "torch":
        pytest.importorskip("torch")
    row = Backend(backend).asarray(np.array([1.0, -0.0, 3.0]))
    tiled = broadcast_copy(row, (4, 3))
    assert tuple(tiled.shape) == (4, 3)
    np.testing.assert_array_equal(to_numpy(tiled), np.tile([1.0, -0.0, 3.0], (4, 1)))
    assert np.signbit(to_numpy(tiled)[:, 1]).all()
    if backend == "numpy":
        assert tiled.flags.c_contiguous and tiled.flags.owndata
    else:
        assert tiled.is_contiguous()
    tiled[0, 0] = 7.0
    assert to_numpy(row)[0] == 1.0
