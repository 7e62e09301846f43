"""Adapters: torch.optim optimizers and step functions run through the engine like built-ins."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch_optimizer

import hessian_lab as hl
from hessian_lab.adapters import (
    StepFunction,
    TargetError,
    TorchOptimizer,
    adapt,
    load_target,
    parse_kwargs,
    register,
)
from hessian_lab.testing.runs import trajectory

VALLEY = hl.steep_valley()


def test_torch_sgd_sweep_equals_the_engine_gd_row_by_row():
    """Three learning rates as three rows: statuses, steps and loss histories as GD's."""
    lrs = [0.015, 0.019, 0.0201]  # the last one is past lr_max = 0.02: diverges
    adapted = hl.run(
        VALLEY,
        TorchOptimizer(torch.optim.SGD, {"lr": lrs}),
        [0.0, 0.0],
        bound=5,
        max_steps=600,
        record="loss",
    )
    builtin = hl.run(VALLEY, hl.GD(lr=lrs), [0.0, 0.0], bound=5, max_steps=600, record="loss")
    assert (
        adapted.status.tolist() == builtin.status.tolist() == ["converged", "converged", "diverged"]
    )
    np.testing.assert_array_equal(adapted.steps, builtin.steps)
    np.testing.assert_allclose(adapted.loss_history, builtin.loss_history, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("layout", ["separate", "groups"])
def test_torch_adam_equals_the_builtin_adam_in_both_layouts(layout):
    starts = np.array([[0.0, 0.0], [1.5, -1.0], [0.3, 0.9]])
    opt = TorchOptimizer(torch.optim.Adam, {"lr": 0.05}, layout=layout)
    ours = trajectory(opt, VALLEY, starts, 40)
    theirs = trajectory(hl.Adam(lr=0.05), VALLEY, starts, 40)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-13)


def test_second_order_closure_adahessian_equals_the_builtin_on_a_diagonal_quadratic():
    """create_graph gradients reach torch-optimizer's Adahessian; on a diagonal Hessian
    its Hutchinson estimate is exact, so it must equal the engine's AdaHessian."""
    opt = TorchOptimizer(torch_optimizer.Adahessian, {"lr": 0.1, "hessian_power": 1.0})
    before = torch.random.get_rng_state()
    ours = trajectory(opt, VALLEY, [[0.0, 0.0]], 30)
    assert torch.equal(before, torch.random.get_rng_state())  # its draws are its own stream
    theirs = trajectory(hl.AdaHessian(lr=0.1, eps=1e-4), VALLEY, [[0.0, 0.0]], 30)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-13)


def test_rows_finish_independently_and_match_their_single_runs():
    opt = TorchOptimizer(torch.optim.RMSprop, {"lr": [0.01, 0.03]})
    both = hl.run(VALLEY, opt, [0.0, 0.0], tol=1e-8, max_steps=3000)
    for b, lr in enumerate([0.01, 0.03]):
        alone = hl.run(
            VALLEY,
            TorchOptimizer(torch.optim.RMSprop, {"lr": lr}),
            [0.0, 0.0],
            tol=1e-8,
            max_steps=3000,
        )
        assert both.status[b] == alone.status[0]
        assert both.steps[b] == alone.steps[0]
    assert both.steps[0] != both.steps[1]


def gd_step(x, g, state, lr=0.019):
    return x - lr * g, state


def test_step_function_per_row_and_vectorized_equal_gd():
    ours = hl.run(VALLEY, StepFunction(gd_step), [0.0, 0.0])
    batched = hl.run(VALLEY, StepFunction(gd_step, vectorized=True), np.zeros((3, 2)))
    builtin = hl.run(VALLEY, hl.GD(lr=0.019), [0.0, 0.0])
    assert ours.steps[0] == builtin.steps[0] and (batched.steps == builtin.steps[0]).all()
    np.testing.assert_allclose(ours.x, builtin.x, rtol=1e-14)


def test_register_puts_an_adapter_in_the_catalog():
    from hessian_lab import catalog

    register("test-torch-sgd", torch.optim.SGD, lr=0.019)
    try:
        assert "test-torch-sgd" in hl.OPTIMIZERS
        result = hl.run(VALLEY, hl.make_optimizer("test-torch-sgd"), [0.0, 0.0])
        assert result.steps[0] == hl.run(VALLEY, hl.GD(lr=0.019), [0.0, 0.0]).steps[0]
    finally:
        catalog.unregister("test-torch-sgd")


def test_targets_resolve_by_module_or_file(tmp_path):
    assert load_target("torch.optim:Adam") is torch.optim.Adam
    path = tmp_path / "mine.py"
    path.write_text("def step(x, g, state, lr=0.1):\n    return x - lr * g, state\n")
    assert isinstance(adapt(load_target(f"{path}:step")), StepFunction)
    assert isinstance(adapt(lambda params: torch.optim.SGD(params, lr=0.1)), TorchOptimizer)
    for bad in ("torch.optim", "no_such_module_x:A", f"{path}:missing", "torch.optim:Nope"):
        with pytest.raises(TargetError):
            load_target(bad)


def test_kwargs_are_literals_only():
    assert parse_kwargs("lr=1e-2, betas=(0.9,0.99), amsgrad=true, steps=[1,2]") == {
        "lr": 0.01,
        "betas": (0.9, 0.99),
        "amsgrad": True,
        "steps": [1, 2],
    }
    for bad in ("lr=__import__('os').getcwd()", "lr=1+1", "lr='a'", "lr", "lr=1,lr=2", "=3"):
        with pytest.raises(TargetError):
            parse_kwargs(bad)
