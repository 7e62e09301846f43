"""The torch.optim contracts catch a planted bug each, and the correct versions pass.

``Planted`` is AdamW as torch computes it (per-parameter state, decoupled weight decay,
``maximize``), with switches for believable mistakes; each mutant must fail the contract it
breaks, and the same class without the bug, torch.optim.Adam and torch.optim.SGD must
pass it. Problems are tiny (a few 2-9 entry tensors, 8 steps).
"""

from __future__ import annotations

import pytest
import torch

from hessian_lab.testing import FAIL, NA, PASS
from hessian_lab.testing.contracts import (
    CLOSURE,
    CONTRACTS,
    FLOAT32,
    FOREACH,
    FROZEN,
    GROUPS,
    MATRIX,
    MAXIMIZE,
    PRECISION,
    ROUND_TRIP,
    SCHEDULER,
    check_contracts,
)


def evaluate(closure):
    """The torch idiom: the closure's loss, with gradients enabled (None without one)."""
    if closure is None:
        return None
    with torch.enable_grad():
        return closure()


class Planted(torch.optim.Optimizer):
    """AdamW (torch's arithmetic) with a ``bug`` switch for each contract."""

    def __init__(
        self,
        params,
        lr=0.05,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0.0,
        maximize=False,
        foreach=False,
        bug=None,
    ):
        defaults = dict(
            lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize,
            foreach=foreach,
        )
        super().__init__(params, defaults)
        self.bug = bug
        self.lr_at_construction = lr
        self.count = 0  # the step-count bug keeps the count here, outside the state_dict

    def _update(self, p, group):
        g = p.grad
        if self.bug == "crash on a frozen parameter":
            g = g.clone()  # AttributeError on None: the None check is missing
        elif g is None:
            return
        if group["maximize"] and self.bug != "maximize ignored":
            g = -g
        options = self.param_groups[0] if self.bug == "group 0 options" else group
        lr, (beta1, beta2), eps = options["lr"], options["betas"], options["eps"]
        if self.bug == "lr cached at construction":
            lr = self.lr_at_construction
        state = self.state[p]
        kind = torch.float16 if self.bug == "float16 state" else p.dtype
        if self.bug == "float64 state through p.data":
            kind = torch.float64
        if not state:
            state["step"] = 0
            state["m"] = torch.zeros(p.shape, dtype=kind)
            state["v"] = torch.zeros(p.shape, dtype=kind)
        state["step"] += 1
        t = self.count if self.bug == "step count outside the state" else state["step"]
        state["m"].mul_(beta1).add_(g.to(kind), alpha=1 - beta1)
        state["v"].mul_(beta2).addcmul_(g.to(kind), g.to(kind), value=1 - beta2)
        m_hat = state["m"] / (1 - beta1**t)
        v_hat = state["v"] / (1 - beta2**t)
        update = m_hat / (v_hat.sqrt() + eps)
        if self.bug == "row-normalized update" and p.dim() == 2:
            update = update / update.norm(dim=1, keepdim=True)
        if self.bug == "float64 state through p.data":
            p.data = p.data * (1 - lr * options["weight_decay"]) - lr * update
        elif self.bug == "update through reshape":
            p.mul_(1 - lr * options["weight_decay"])
            p.reshape(-1).add_(update.reshape(-1).to(p.dtype), alpha=-lr)  # a copy if p is a view
        else:
            p.mul_(1 - lr * options["weight_decay"]).add_(update.to(p.dtype), alpha=-lr)

    @torch.no_grad()
    def step(self, closure=None):
        loss = evaluate(closure)
        self.count += 1
        for group in self.param_groups:
            params = group["params"]
            if group["foreach"] and self.bug == "foreach skips the last tensor":
                params = params[:-1]
            if group["foreach"] and self.bug == "foreach without weight decay":
                group = dict(group, weight_decay=0.0)
            for p in params:
                if self.bug == "decay without a gradient" and p.grad is None:
                    p.mul_(1 - group["lr"] * group["weight_decay"])
                self._update(p, group)
        return None if self.bug == "loss dropped" else loss


def outcome(target, contract, assume=(), **kwargs):
    (found,) = check_contracts(target, kwargs, assume=assume, only={contract})
    return found


PLANTED = [
    # (bug, the contract that catches it, kwargs)
    ("step count outside the state", ROUND_TRIP, {}),
    ("group 0 options", GROUPS, {}),
    ("crash on a frozen parameter", FROZEN, {}),
    ("decay without a gradient", FROZEN, {"weight_decay": 0.1}),
    ("loss dropped", CLOSURE, {}),
    ("maximize ignored", MAXIMIZE, {}),
    ("update through reshape", MATRIX, {}),
    ("row-normalized update", MATRIX, {}),
    ("float64 state through p.data", FLOAT32, {}),
    ("float16 state", PRECISION, {}),
    ("foreach skips the last tensor", FOREACH, {}),
    ("foreach without weight decay", FOREACH, {"weight_decay": 0.1}),
    ("lr cached at construction", SCHEDULER, {}),
]


@pytest.mark.parametrize("bug, contract, kwargs", PLANTED, ids=[p[0] for p in PLANTED])
def test_each_planted_bug_fails_its_contract_and_the_correct_class_passes(bug, contract, kwargs):
    bad = outcome(Planted, contract, bug=bug, **kwargs)
    assert bad.status == FAIL, bad
    good = outcome(Planted, contract, **kwargs)
    assert good.status == PASS, good


@pytest.mark.parametrize(
    "cls, kwargs",
    [
        (torch.optim.Adam, {"lr": 0.05}),
        (torch.optim.AdamW, {"lr": 0.05, "weight_decay": 0.1}),
        (torch.optim.SGD, {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01}),
    ],
    ids=["Adam", "AdamW", "SGD"],
)
def test_torch_optim_keeps_every_contract(cls, kwargs):
    outcomes = check_contracts(cls, kwargs)
    assert [o.name for o in outcomes] == list(CONTRACTS)
    assert all(o.status == PASS for o in outcomes), outcomes


def test_foreach_and_fused_apply_only_where_they_switch_something():
    class Swallowing(torch.optim.SGD):  # takes **kwargs: a foreach there switches nothing
        def __init__(self, params, lr=0.1, **kwargs):
            super().__init__(params, lr=lr)

    class Dropping(torch.optim.SGD):  # names foreach but does not keep it
        def __init__(self, params, lr=0.1, foreach=None):
            super().__init__(params, lr=lr)

    assert outcome(Swallowing, FOREACH).status == NA
    dropped = outcome(Dropping, FOREACH)
    assert dropped.status == NA and "not kept" in dropped.detail
    rmsprop = outcome(torch.optim.RMSprop, FOREACH, lr=0.01)
    assert rmsprop.status == PASS and rmsprop.detail.startswith("foreach=True equals")
    adam = outcome(torch.optim.Adam, FOREACH, lr=0.05)
    assert adam.detail.startswith("foreach=True and fused=True equal")


def test_a_scheduler_without_an_lr_to_set_is_not_applicable():
    class Fixed(torch.optim.Optimizer):  # a step size of its own, no lr in its groups
        def __init__(self, params):
            super().__init__(params, {"step_size": 0.1})

        @torch.no_grad()
        def step(self, closure=None):
            for p in self.param_groups[0]["params"]:
                p.add_(p.grad, alpha=-0.1)

    found = outcome(Fixed, SCHEDULER)
    assert found.status == NA and "no lr" in found.detail


def test_the_messages_say_what_broke():
    lost = outcome(Planted, MATRIX, bug="update through reshape")
    assert "transposed view" in lost.detail and "memory layout" in lost.detail
    assert "expected" in lost.detail and "got" in lost.detail
    skipped = outcome(Planted, FOREACH, bug="foreach skips the last tensor")
    assert "foreach=True parts from the for-loop run on the (5,) tensor" in skipped.detail
    crashed = outcome(Planted, FROZEN, bug="crash on a frozen parameter")
    assert "AttributeError" in crashed.detail and "step 0" in crashed.detail
    dropped = outcome(Planted, CLOSURE, bug="loss dropped")
    assert "returned None" in dropped.detail


def test_a_matrix_method_declared_matrix_is_held_to_layout_only():
    """Row normalization is not elementwise (fails without the declaration), but it does
    not depend on memory layout (passes under ``matrix``); a lost update fails both."""
    declared = {"matrix"}
    assert outcome(Planted, MATRIX, declared, bug="row-normalized update").status == PASS
    assert outcome(Planted, MATRIX, declared, bug="update through reshape").status == FAIL


def test_low_precision_state_is_accepted_once_declared():
    found = outcome(Planted, PRECISION, {"low-precision-state"}, bug="float16 state")
    assert found.status == NA and "float16 under float64" in found.detail


class GlobalNormSGD(torch.optim.Optimizer):
    """SGD on the gradient divided by its norm over every parameter (global clipping)."""

    def __init__(self, params, lr=0.1):
        super().__init__(params, {"lr": lr})

    @torch.no_grad()
    def step(self, closure=None):
        loss = evaluate(closure)
        live = [p for g in self.param_groups for p in g["params"] if p.grad is not None]
        norm = torch.sqrt(sum((p.grad**2).sum() for p in live))
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    p.sub_(group["lr"] * p.grad / norm)
        return loss


def test_shared_state_fails_groups_unless_declared():
    """A statistic over all parameters couples the groups; declared ``shared-state``,
    two equal groups must still run as one group holding both tensors."""
    assert outcome(GlobalNormSGD, GROUPS).status == FAIL
    declared = outcome(GlobalNormSGD, GROUPS, {"shared-state"})
    assert declared.status == PASS and "one group" in declared.detail


def test_what_is_not_applicable_says_why():
    refused = outcome(torch.optim.LBFGS, GROUPS)
    assert refused.status == NA and "parameter groups" in refused.detail
    assert outcome(torch.optim.LBFGS, MAXIMIZE).status == NA
    (step_function,) = check_contracts(None, only={ROUND_TRIP}, why_not="a step function")
    assert step_function.status == NA and step_function.detail == "a step function"


def test_the_global_random_stream_is_left_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    check_contracts(torch.optim.Adam, {"lr": 0.05}, only={ROUND_TRIP, MATRIX})
    assert torch.equal(torch.rand(3), expected)


def test_check_optimizer_reports_the_contracts_with_the_invariants():
    from hessian_lab.testing import check_optimizer

    report = check_optimizer(Planted, only={FROZEN, MAXIMIZE}, bug="maximize ignored")
    assert [(o.name, o.status) for o in report.invariants] == [(FROZEN, PASS), (MAXIMIZE, FAIL)]
    assert report.verdict == "fail"
    dumped = report.as_dict()["invariants"][1]
    assert dumped["name"] == MAXIMIZE and "differs" in dumped["detail"]


def test_a_step_function_has_no_torch_interface_to_hold_to_contracts():
    from hessian_lab.testing import check_optimizer

    def sgd(x, g, state, lr=0.1):
        return x - lr * g, state

    (outcome,) = check_optimizer(sgd, only={ROUND_TRIP}).invariants
    assert outcome.status == NA and "step(x, g, state)" in outcome.detail


def test_low_precision_state_is_a_declaration_of_the_kit_and_the_cli():
    from hessian_lab.cli.check_cmd import Property
    from hessian_lab.testing import PROPERTIES

    assert "low-precision-state" in PROPERTIES
    assert "low-precision-state" in {p.value for p in Property}


def test_a_refusal_of_parameter_groups_at_construction_is_not_a_failure():
    """LBFGS states it has no per-parameter options: the kit's one-group-per-row checks
    say so instead of failing (as the groups contract does)."""
    from hessian_lab.testing import check_optimizer

    for assume, name in (
        ((), "rows independent"),
        ({"shared-state"}, "parameters exchangeable (shared-state)"),
    ):
        report = check_optimizer(torch.optim.LBFGS, assume=assume, only={name}, lr=1.0, max_iter=1)
        (outcome,) = report.invariants
        assert outcome.status == NA and "per-parameter options" in outcome.detail, outcome
