"""The check kit catches plausible optimizer bugs, each by the invariant it breaks.

Every mutant is a small, believable mistake in an otherwise correct optimizer; the test
asserts that the specific invariant fails (with a counterexample) and, for the correct
version, that the same invariant passes: the kit neither misses the bug nor raises a
false alarm. Examples per invariant are few (the kit's ``examples``), the problems tiny.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from hessian_lab.testing import FAIL, PASS, check_optimizer

EXAMPLES = 4


class MiniAdam(torch.optim.Optimizer):
    """Adam as torch.optim.Adam computes it, with switches for the classic mistakes."""

    def __init__(self, params, lr=1e-2, betas=(0.9, 0.999), eps=1e-8, bug=None):
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps})
        self.bug = bug
        self.shared: dict[str, torch.Tensor] = {}

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                # the shared-state bug: one buffer per shape, not per parameter
                state = self.shared if self.bug == "shared state" else self.state[p]
                if "m" not in state:
                    state["m"], state["v"], state["t"] = g * 0, g * 0, 0
                state["t"] += 1
                t = state["t"]
                state["m"].mul_(beta1).add_(g, alpha=1 - beta1)
                state["v"].mul_(beta2).addcmul_(g, g, value=1 - beta2)
                if self.bug == "no bias correction":
                    m_hat, v_hat = state["m"], state["v"]
                else:
                    m_hat, v_hat = state["m"] / (1 - beta1**t), state["v"] / (1 - beta2**t)
                if self.bug == "eps inside sqrt":
                    den = (v_hat + group["eps"]).sqrt()
                else:
                    den = v_hat.sqrt() + group["eps"]
                p.sub_(group["lr"] * m_hat / den)


class MiniSGD(torch.optim.Optimizer):
    """Heavy-ball SGD (torch's form) with switches for the classic mistakes."""

    def __init__(self, params, lr=0.1, momentum=0.0, bug=None):
        super().__init__(params, {"lr": lr, "momentum": momentum})
        self.bug = bug

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            lr, beta = group["lr"], group["momentum"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad.clone()
                if self.bug == "coordinate-dependent step":
                    g *= 1 + 0.1 * torch.arange(g.numel(), dtype=g.dtype)
                if self.bug == "sign-dependent step":
                    g = torch.where(g > 0, g, 0.9 * g)
                if self.bug == "origin-dependent step":
                    g /= 1 + p.abs()
                if self.bug == "global norm":
                    g /= g.norm() + 1e-12
                state = self.state[p]
                v = state.setdefault("v", torch.zeros_like(p))
                if self.bug == "momentum sign":
                    v.mul_(beta).sub_(g)
                else:
                    v.mul_(beta).add_(g)
                if self.bug == "hidden float32":
                    p.copy_((p.float() - (lr * v).float()).double())
                elif self.bug == "float32 step":
                    p.sub_((lr * v).float().double())
                elif self.bug == "drift":
                    p.sub_(lr * v + 1e-9)
                else:
                    p.sub_(lr * v)


def noisy_sgd(x, g, state, lr=0.1):
    """A step function with unseeded noise (a dropout-like jitter on the gradient)."""
    return x - lr * g * (1 + 1e-6 * np.random.default_rng().standard_normal(x.shape)), state


def sgd_step(x, g, state, lr=0.1):
    return x - lr * g, state


def verdict(target, invariant, like=None, **options):
    report = check_optimizer(
        target, like=like, only={invariant}, examples=EXAMPLES, budget=600, **options
    )
    (outcome,) = report.invariants
    return outcome


MUTANTS = [
    # (optimizer, kwargs of the mutant, the invariant that must catch it, like)
    (MiniAdam, {"lr": 0.05, "eps": 1e-6}, "eps inside sqrt", "parity", "adam"),
    (MiniAdam, {"lr": 0.05}, "no bias correction", "parity", "adam"),
    (MiniAdam, {"lr": 0.05}, "shared state", "rows independent", None),
    (MiniSGD, {"lr": 0.1}, "drift", "fixed point at the minimizer", None),
    (
        MiniSGD,
        {"lr": 0.05, "momentum": 0.5},
        "momentum sign",
        "convergence on an easy quadratic",
        None,
    ),
    (MiniSGD, {"lr": 0.3}, "hidden float32", "float64 floor (no hidden float32)", None),
    (MiniSGD, {"lr": 0.1}, "coordinate-dependent step", "permutation equivariance", None),
    (MiniSGD, {"lr": 0.1}, "sign-dependent step", "sign symmetry", None),
    (MiniSGD, {"lr": 0.1}, "origin-dependent step", "translation equivariance", None),
    (MiniSGD, {"lr": 0.1}, "global norm", "separability (elementwise)", None),
    (MiniSGD, {"lr": 0.1, "momentum": 0.5}, "coordinate-dependent step", "parity", "momentum"),
]


@pytest.mark.parametrize(
    "cls, kwargs, bug, invariant, like", MUTANTS, ids=[m[2] + "/" + m[3] for m in MUTANTS]
)
def test_each_mutant_is_caught_and_the_correct_version_is_not(cls, kwargs, bug, invariant, like):
    assume = {"elementwise"}
    bad = verdict(cls, invariant, like=like, assume=assume, bug=bug, **kwargs)
    assert bad.status == FAIL, bad
    assert bad.counterexample and "quadratic eigenvalues=" in bad.counterexample
    good = verdict(cls, invariant, like=like, assume=assume, **kwargs)
    assert good.status == PASS, good


def test_unseeded_noise_breaks_determinism():
    assert verdict(noisy_sgd, "determinism").status == FAIL
    assert verdict(sgd_step, "determinism").status == PASS


def test_a_non_scale_invariant_method_claiming_it_is_caught():
    """Adam with a large eps is not invariant to the loss scale; with eps = 0 it is."""
    args = dict(assume={"scale-invariant"}, betas=(0.9, 0.999), lr=0.05)
    assert verdict(torch.optim.Adam, "loss-scale invariance", eps=1e-2, **args).status == FAIL
    assert verdict(torch.optim.Adam, "loss-scale invariance", eps=0.0, **args).status == PASS


def test_sgd_is_not_rotation_equivariant_after_per_coordinate_clipping():
    def clipped(x, g, state, lr=0.1):
        return x - lr * np.clip(g, -0.2, 0.2), state

    assert verdict(clipped, "rotation equivariance", assume={"rotation-equivariant"}).status == FAIL
    assert (
        verdict(sgd_step, "rotation equivariance", assume={"rotation-equivariant"}).status == PASS
    )


def test_mini_adam_matches_torch_adam_to_1e10():
    """The reference the mutants start from is Adam itself (and so not a false alarm)."""
    outcome = verdict(MiniAdam, "parity", like="adam", lr=0.05)
    assert outcome.status == PASS, outcome
    assert math.isfinite(EXAMPLES)


def test_a_property_the_method_lacks_by_design_is_not_applicable_not_a_failure():
    """Weight decay, or a declared origin-dependence, rule translation out: no false alarm."""
    from hessian_lab.testing import NA

    lamb_like = verdict(
        MiniSGD,
        "translation equivariance",
        assume={"origin-dependent"},
        bug="origin-dependent step",
    )
    assert lamb_like.status == NA and "origin-dependent" in lamb_like.detail
    decayed = verdict(torch.optim.AdamW, "translation equivariance", lr=0.05)
    assert decayed.status == NA and "weight decay" in decayed.detail


def test_the_floor_sees_a_float32_iterate_not_a_float32_step():
    """What the README says of the float64 floor: an iterate kept in float32 is stuck
    ~1e-4 from a minimizer 4096 away; a step rounded to float32 (relative 6e-8) still
    converges there, so the floor passes it."""
    floor = "float64 floor (no hidden float32)"
    assert verdict(MiniSGD, floor, lr=0.3, bug="hidden float32").status == FAIL
    assert verdict(MiniSGD, floor, lr=0.3, bug="float32 step").status == PASS
