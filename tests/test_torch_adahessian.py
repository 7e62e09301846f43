"""hessian_lab.torch.AdaHessian: equal to the engine's AdaHessian on a quadratic model (same
counter-based probes), to the authors' reference semantics (torch_optimizer.Adahessian, the
authors' update) on a small CNN (same probe stream), seeded, and leak-free."""

from __future__ import annotations

import copy
import gc

import numpy as np
import pytest
import torch
import torch_optimizer
from torch_models import one_torch_thread  # noqa: F401

import hessian_lab as hl
from hessian_lab.optimizers.base import Oracle
from hessian_lab.problems.quadratic import Quadratic
from hessian_lab.torch import AdaHessian

pytestmark = pytest.mark.usefixtures("one_torch_thread")

ENGINE_SETTINGS = dict(
    lr=0.1,
    betas=(0.8, 0.99),
    eps=1e-6,
    weight_decay=0.01,
    hessian_power=0.5,
    n_samples=2,
    update_each=3,
    seed=11,
)


def closure_for(opt, loss_fn):
    def closure():
        opt.zero_grad()
        loss = loss_fn()
        loss.backward(create_graph=True)
        return loss

    return closure


def engine_path(problem, optimizer, x0, steps):
    """The engine optimizer's iterates, one step at a time: ``(steps, d)``."""
    backend = hl.get_backend("numpy")
    X = backend.asarray(np.asarray(x0)[None, :])
    hp = optimizer.hyperparameters(1, backend)
    state = optimizer.init(X, hp)
    oracle = Oracle(problem)
    path = []
    for _ in range(steps):
        X, state = optimizer.step(X, state, hp, oracle)
        path.append(X[0].copy())
    return np.array(path)


@pytest.mark.parametrize(("block_size", "split"), [(3, False), (1, True)])
def test_equals_the_engine_adahessian_on_a_quadratic(block_size, split):
    """A model whose loss is 1/2 (x-c)^T H (x-c) (rotated H: the probes' noise matters)."""
    c = np.linspace(-1, 1, 7)
    eigenvalues = [1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0]
    problem = Quadratic(eigenvalues, rotation="random", center=c, seed=3)
    H = torch.as_tensor(problem.hessian_matrix)
    x0 = np.full(7, 2.0)
    settings = dict(ENGINE_SETTINGS, block_size=block_size)
    want = engine_path(problem, hl.AdaHessian(**settings), x0, 30)

    parts = [torch.nn.Parameter(torch.tensor(x0[:4])), torch.nn.Parameter(torch.tensor(x0[4:]))]
    if not split:
        parts = [torch.nn.Parameter(torch.tensor(x0))]
    center = torch.as_tensor(c)

    def loss_fn():
        e = torch.cat(parts) - center
        return 0.5 * e @ H @ e

    opt = AdaHessian(parts, **settings, probes="counter")
    got = []
    for _ in range(30):
        opt.step(closure_for(opt, loss_fn))
        got.append(torch.cat([p.detach() for p in parts]).numpy().copy())
    np.testing.assert_allclose(np.array(got), want, rtol=1e-11, atol=1e-13)
    assert np.abs(want[-1] - x0).max() > 0.5  # the runs went somewhere


def small_cnn(seed=0):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 3, 3),
        torch.nn.Tanh(),
        torch.nn.Conv2d(3, 2, 3),
        torch.nn.Tanh(),
        torch.nn.Flatten(),
        torch.nn.Linear(2 * 4 * 4, 4),
    ).double()
    gen = torch.Generator().manual_seed(seed + 1)
    X = torch.randn(16, 1, 8, 8, generator=gen, dtype=torch.float64)
    y = torch.randint(0, 4, (16,), generator=gen)
    return model, (lambda m: torch.nn.functional.cross_entropy(m(X), y))


def global_rng_probes(params, t, s):
    """The reference implementations' probe stream: torch's global generator, per tensor."""
    return [2 * torch.randint_like(p, high=2) - 1 for p in params]


@pytest.mark.parametrize("hessian_power", [1.0, 0.5])
def test_equals_the_authors_reference_on_a_small_cnn(hessian_power):
    model, loss_of = small_cnn()
    reference = copy.deepcopy(model)
    settings = dict(lr=0.05, betas=(0.9, 0.99), eps=1e-4, weight_decay=1e-3)
    settings["hessian_power"] = hessian_power
    ref_opt = torch_optimizer.Adahessian(reference.parameters(), **settings)
    opt = AdaHessian(model.parameters(), **settings, probes=global_rng_probes)
    losses = []
    for run_opt, net in ((ref_opt, reference), (opt, model)):
        torch.manual_seed(1234)  # the same probe draws for both
        losses.append(
            [
                float(run_opt.step(closure_for(run_opt, lambda n=net: loss_of(n))).detach())
                for _ in range(20)
            ]
        )
    np.testing.assert_allclose(losses[1], losses[0], rtol=1e-12)
    for mine, theirs in zip(model.parameters(), reference.parameters(), strict=True):
        torch.testing.assert_close(mine, theirs, rtol=1e-10, atol=1e-12)
    assert losses[0][-1] < 0.8 * losses[0][0]


def test_conv_kernels_are_averaged_spatially_and_blocks_elsewhere():
    model, loss_of = small_cnn()
    opt = AdaHessian(model.parameters(), block_size=4)
    opt.step(closure_for(opt, lambda: loss_of(model)))
    conv = opt.state[model[0].weight]["hessian_diag"]  # (3, 1, 3, 3)
    assert torch.equal(conv, conv[:, :, :1, :1].expand_as(conv))
    assert len(torch.unique(conv)) == 3
    dense = opt.state[model[5].weight]["hessian_diag"].reshape(-1)  # 128 = 32 blocks of 4
    blocks = dense.reshape(32, 4)
    assert torch.equal(blocks, blocks[:, :1].expand_as(blocks))
    plain = AdaHessian(model.parameters(), average_conv_kernel=False)
    plain.step(closure_for(plain, lambda: loss_of(model)))
    assert len(torch.unique(plain.state[model[0].weight]["hessian_diag"])) > 3


def run_steps(model, opt, loss_of, steps):
    for _ in range(steps):
        opt.step(closure_for(opt, lambda: loss_of(model)))
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()])


def test_seeded_probes_repeat_and_survive_a_state_dict_round_trip():
    first, loss_of = small_cnn()
    second = copy.deepcopy(first)
    other = copy.deepcopy(first)
    a = run_steps(first, AdaHessian(first.parameters(), seed=5), loss_of, 6)
    b = run_steps(second, AdaHessian(second.parameters(), seed=5), loss_of, 6)
    c = run_steps(other, AdaHessian(other.parameters(), seed=6), loss_of, 6)
    assert torch.equal(a, b) and not torch.allclose(a, c)

    model, _ = small_cnn()
    opt = AdaHessian(model.parameters(), seed=9)
    run_steps(model, opt, loss_of, 3)
    saved_model, saved_opt = copy.deepcopy(model.state_dict()), copy.deepcopy(opt.state_dict())
    straight = run_steps(model, opt, loss_of, 3)
    resumed, _ = small_cnn(seed=42)
    resumed.load_state_dict(saved_model)
    resumed_opt = AdaHessian(resumed.parameters(), seed=0)
    resumed_opt.load_state_dict(saved_opt)
    torch.testing.assert_close(run_steps(resumed, resumed_opt, loss_of, 3), straight)


def test_no_graph_outlives_a_step_over_1000_steps():
    """After each step every ``p.grad`` is detached (no graph survives the step), and the
    process's resident memory and live tensors stay flat over 1,000 steps."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(16, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    model = model.double()
    X = torch.randn(8, 16, dtype=torch.float64)
    opt = AdaHessian(model.parameters(), lr=0.01)

    def loss_of(net):
        return (net(X) ** 2).mean()

    def resident_mb():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * 4096 / 2**20

    def live_tensors():
        gc.collect()
        return sum(type(o) in (torch.Tensor, torch.nn.Parameter) for o in gc.get_objects())

    run_steps(model, opt, loss_of, 50)
    rss, tensors = resident_mb(), live_tensors()
    run_steps(model, opt, loss_of, 1000)
    assert live_tensors() <= tensors
    assert resident_mb() - rss < 20
    assert all(p.grad.grad_fn is None for p in model.parameters())


def test_backward_without_create_graph_is_an_error():
    model, loss_of = small_cnn()
    opt = AdaHessian(model.parameters())

    def closure():
        opt.zero_grad()
        loss = loss_of(model)
        loss.backward()
        return loss

    with pytest.raises(RuntimeError, match="create_graph=True"):
        opt.step(closure)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (dict(lr=-1.0), "lr must be"),
        (dict(betas=(0.9, 1.0)), r"betas\[1\] must be"),
        (dict(hessian_power=2.0), "hessian_power must be"),
        (dict(n_samples=0), "n_samples must be"),
        (dict(update_each=1.5), "update_each must be"),
        (dict(block_size=0), "block_size must be"),
        (dict(seed=-3), "seed must be"),
        (dict(probes="gaussian"), "probes must be one of"),
        (dict(lr=[0.1, 0.2]), "lr must be a number"),
    ],
)
def test_bad_settings_name_themselves(options, message):
    model, _ = small_cnn()
    with pytest.raises(ValueError, match=message):
        AdaHessian(model.parameters(), **options)
