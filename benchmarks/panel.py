# ruff: noqa: E501  (the table of subjects keeps one optimizer per line)
"""The panel of benchmarks/check_table.py: every optimizer it checks, how, and why.

Each :class:`Subject` is one row: the target (``module:Attr``), the hyperparameters, the
design choices it declares (``--assume``), the reference it is compared with
(``--like``, with ``like_kwargs`` where the reference spells them otherwise) and the hook
it needs (``--each-step``). The hooks below are the README's recipes: SophiaG refreshes
its Hessian estimate every 10 steps, schedule-free optimizers must be in train mode,
pytorch-optimizer's Muon takes its parameters as groups flagged ``use_muon``.

Third-party packages come from the ``panel`` extra (``pip install "torch==2.13.0" -e
".[panel]"``); a row whose package is missing is skipped and said so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["SUBJECTS", "Subject", "muon", "sophia_hessian", "train_mode"]


def sophia_hessian(optimizer, step: int) -> None:
    """SophiaG's usage: refresh the diagonal Hessian estimate every 10 steps."""
    if step % 10 == 0:
        optimizer.update_hessian()


def train_mode(optimizer, step: int) -> None:
    """Schedule-free optimizers step only in train mode (``.train()`` is idempotent)."""
    optimizer.train()


def muon(params, **kwargs):
    """pytorch-optimizer's Muon on every parameter (groups flagged ``use_muon=True``)."""
    from pytorch_optimizer import Muon

    params = list(params)
    if params and isinstance(params[0], dict):
        groups = [{**g, "use_muon": g.get("use_muon", True)} for g in params]
    else:
        groups = [{"params": params, "use_muon": True}]
    return Muon(groups, **kwargs)


E = frozenset({"elementwise"})


@dataclass(frozen=True)
class Subject:
    """One row of the table (see module doc)."""

    label: str
    package: str
    target: Any
    kwargs: dict[str, Any] = field(default_factory=dict)
    assume: frozenset[str] = E
    like: Any = None
    like_kwargs: dict[str, Any] | None = None
    each_step: Any = None


S = Subject
TORCH = "torch.optim"
TO = "torch-optimizer"
PO = "pytorch-optimizer"
ROT = E | {"rotation-equivariant"}
M, ORIGIN = frozenset({"matrix"}), frozenset({"origin-dependent"})
SIGN, SHARED = frozenset({"sign-descent"}), frozenset({"shared-state"})
LOW = frozenset({"low-precision-state"})

# fmt: off
SUBJECTS: list[Subject] = [
    S("SGD", TORCH, "torch.optim:SGD", {"lr": 0.1}, ROT, "gd"),
    S("SGD momentum", TORCH, "torch.optim:SGD", {"lr": 0.05, "momentum": 0.9}, ROT, "momentum"),
    S("SGD Nesterov", TORCH, "torch.optim:SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}, ROT, "nesterov"),
    S("Adagrad", TORCH, "torch.optim:Adagrad", {"lr": 0.1}, E, "adagrad"),
    S("RMSprop", TORCH, "torch.optim:RMSprop", {"lr": 0.01}, E, "rmsprop"),
    S("Adam", TORCH, "torch.optim:Adam", {"lr": 0.05}, E, "adam"),
    S("Adam eps=0", TORCH, "torch.optim:Adam", {"lr": 0.05, "eps": 0.0}, E | {"scale-invariant"}, "adam"),
    S("AdamW", TORCH, "torch.optim:AdamW", {"lr": 0.05}, E, "adamw"),
    S("NAdam", TORCH, "torch.optim:NAdam", {"lr": 0.05}, E),
    S("RAdam", TORCH, "torch.optim:RAdam", {"lr": 0.05}, E),
    S("Adamax", TORCH, "torch.optim:Adamax", {"lr": 0.05}, E),
    S("Adadelta", TORCH, "torch.optim:Adadelta", {"lr": 1.0}, E),
    S("Rprop", TORCH, "torch.optim:Rprop", {"lr": 0.01}, E | {"scale-invariant"}),
    S("ASGD", TORCH, "torch.optim:ASGD", {"lr": 0.1}, ROT),
    S("Adafactor", TORCH, "torch.optim:Adafactor", {"lr": 0.05}, M | ORIGIN),
    S("LBFGS", TORCH, "torch.optim:LBFGS", {"lr": 1.0, "max_iter": 1, "tolerance_grad": 0.0, "tolerance_change": 0.0}, SHARED),
    # torch-optimizer 0.3.0
    S("Adahessian", TO, "torch_optimizer:Adahessian", {"lr": 0.1, "hessian_power": 1.0}, E, "adahessian"),
    S("AdaBelief", TO, "torch_optimizer:AdaBelief", {"lr": 0.05}, E),
    S("Yogi", TO, "torch_optimizer:Yogi", {"lr": 0.05}, E),
    S("QHAdam", TO, "torch_optimizer:QHAdam", {"lr": 0.05}, E),
    S("DiffGrad", TO, "torch_optimizer:DiffGrad", {"lr": 0.05}, E),
    S("Lamb", TO, "torch_optimizer:Lamb", {"lr": 0.05}, ORIGIN),
    S("AdaBound", TO, "torch_optimizer:AdaBound", {"lr": 0.05}, E),
    S("AdaMod", TO, "torch_optimizer:AdaMod", {"lr": 0.05}, E),
    S("MADGRAD", TO, "torch_optimizer:MADGRAD", {"lr": 0.05}, E),
    S("AdamP", TO, "torch_optimizer:AdamP", {"lr": 0.05}, M | ORIGIN),
    S("NovoGrad", TO, "torch_optimizer:NovoGrad", {"lr": 0.05}, SIGN),
    S("RAdam (to)", TO, "torch_optimizer:RAdam", {"lr": 0.05}, E),
    S("SWATS", TO, "torch_optimizer:SWATS", {"lr": 0.05}, E),
    S("Shampoo (to)", TO, "torch_optimizer:Shampoo", {"lr": 0.5}, M),
    # pytorch-optimizer 4.1.0
    S("AdaBelief (po)", PO, "pytorch_optimizer:AdaBelief", {"lr": 0.05}, E),
    S("AdaBound (po)", PO, "pytorch_optimizer:AdaBound", {"lr": 0.05}, E),
    S("AdaFactor (po)", PO, "pytorch_optimizer:AdaFactor", {"lr": 0.05}, M | ORIGIN | LOW),
    S("AdaHessian (po)", PO, "pytorch_optimizer:AdaHessian", {"lr": 0.1}, E),
    S("AdaMod (po)", PO, "pytorch_optimizer:AdaMod", {"lr": 0.05}, E),
    S("AdamP (po)", PO, "pytorch_optimizer:AdamP", {"lr": 0.05}, M | ORIGIN),
    S("ADOPT", PO, "pytorch_optimizer:ADOPT", {"lr": 0.05}, E),
    S("AdEMAMix", PO, "pytorch_optimizer:AdEMAMix", {"lr": 0.05}, E),
    S("Adan (po)", PO, "pytorch_optimizer:Adan", {"lr": 0.05}, E),
    S("CAME (po)", PO, "pytorch_optimizer:CAME", {"lr": 0.05}, M),
    S("DAdaptAdam (po)", PO, "pytorch_optimizer:DAdaptAdam", {}, SHARED),
    S("DiffGrad (po)", PO, "pytorch_optimizer:DiffGrad", {"lr": 0.05}, E),
    S("Lamb (po)", PO, "pytorch_optimizer:Lamb", {"lr": 0.05}, ORIGIN),
    S("LaProp", PO, "pytorch_optimizer:LaProp", {"lr": 0.05}, E),
    S("Lion (po)", PO, "pytorch_optimizer:Lion", {"lr": 0.01}, E | SIGN),
    S("MADGRAD (po)", PO, "pytorch_optimizer:MADGRAD", {"lr": 0.05}, E),
    S("Muon (po)", PO, muon, {"lr": 0.02}, M | SIGN),
    S("NovoGrad (po)", PO, "pytorch_optimizer:NovoGrad", {"lr": 0.05}, frozenset()),
    S("Prodigy (po)", PO, "pytorch_optimizer:Prodigy", {}, SHARED),
    S("Ranger (po)", PO, "pytorch_optimizer:Ranger", {"lr": 0.05}, M),
    S("ScheduleFreeAdamW (po)", PO, "pytorch_optimizer:ScheduleFreeAdamW", {"lr": 0.05}, E),
    S("SignSGD", PO, "pytorch_optimizer:SignSGD", {"lr": 0.01}, E | SIGN),
    S("SOAP", PO, "pytorch_optimizer:SOAP", {"lr": 0.05, "weight_decay": 0.0}, M | SIGN),
    S("SophiaH", PO, "pytorch_optimizer:SophiaH", {"lr": 0.05}, E),
    S("StableAdamW", PO, "pytorch_optimizer:StableAdamW", {"lr": 0.05, "weight_decay": 0.0}, SHARED),
    S("Tiger", PO, "pytorch_optimizer:Tiger", {"lr": 0.01, "weight_decay": 0.0}, E | SIGN),
    S("Yogi (po)", PO, "pytorch_optimizer:Yogi", {"lr": 0.05}, E),
    # one package each
    S("Prodigy", "prodigyopt", "prodigyopt:Prodigy", {}, SHARED),
    S("DAdaptAdam", "dadaptation", "dadaptation:DAdaptAdam", {}, SHARED),
    S("DAdaptSGD", "dadaptation", "dadaptation:DAdaptSGD", {}, SHARED),
    S("AdamWScheduleFree", "schedulefree", "schedulefree:AdamWScheduleFree", {"lr": 0.05}, E, each_step=train_mode),
    S("SGDScheduleFree", "schedulefree", "schedulefree:SGDScheduleFree", {"lr": 0.05}, E, each_step=train_mode),
    S("Lion", "lion-pytorch", "lion_pytorch:Lion", {"lr": 0.01}, E | SIGN, "pytorch_optimizer:Lion"),
    S("CAME", "came-pytorch", "came_pytorch:CAME", {"lr": 0.05}, M),
    S("AdaBelief (abp)", "adabelief-pytorch", "adabelief_pytorch:AdaBelief", {"lr": 0.05}, E),
    S("Adan", "adan-pytorch", "adan_pytorch:Adan", {"lr": 0.05}, E, "pytorch_optimizer:Adan", {"lr": 0.05, "betas": (0.98, 0.92, 0.99)}),
    S("SophiaG", "sophia-opt", "sophia_opt:SophiaG", {"lr": 0.05, "rho": 2e-4, "weight_decay": 0.0}, E | SIGN, each_step=sophia_hessian),
]
# fmt: on


@dataclass(frozen=True)
class Why:
    """What a failure in the table is: ``kind`` one of :data:`KINDS`, the explanation, and
    (for a defect) a reproduction a maintainer can run."""

    kind: str
    text: str
    repro: str = ""


#: a defect of the optimizer; a property it lacks by design (and cannot declare); the
#: kit's own limitation (a false alarm or a misreport)
KINDS = ("defect", "by design", "kit limitation")

_VIEW = (
    "import torch, {module}\n"
    "w = torch.randn(2, 3).t().requires_grad_(); opt = {module}.{cls}([w])  # a transposed view\n"
    "((w - 1) ** 2).sum().backward(); opt.step()  # RuntimeError: view size is not compatible"
)
_YOGI = (
    "import torch, {module}\n"
    "x = torch.zeros(1, requires_grad=True); opt = {module}.Yogi([x], lr=0.05)\n"
    "x.grad = torch.zeros(1); opt.step(); print(x.item())  # -1.38e-05: moves at a zero gradient"
)
_SCALAR = (
    "import torch{extra}\n"
    "p = torch.zeros(2, dtype=torch.float64, requires_grad=True); opt = {cls}([p])\n"
    "p.grad = torch.ones_like(p); opt.step(); print(opt.state[p][{key!r}].dtype)  # float32"
)
_RADAM = Why(
    "defect",
    "torch-optimizer's RAdam computes every update in float32 (`p.data.float()`, float32 "
    "moments, then `p.data.copy_`), so float64 parameters are rounded to float32 each step: "
    "it drifts at the minimizer, is not translation-equivariant, and 4096 away stalls ~1e-4 "
    "from the minimizer; the state check sees the float32 moments. torch.optim.RAdam passes.",
    "import torch, torch_optimizer\n"
    "p = torch.tensor([4096 + 1 / 3], dtype=torch.float64, requires_grad=True)\n"
    "opt = torch_optimizer.RAdam([p], lr=1e-12); p.grad = torch.zeros_like(p); opt.step()\n"
    "print(p.item() - (4096 + 1 / 3))  # 1.6e-04, not 0: p went through float32",
)
_EXCHANGE = Why(
    "kit limitation",
    "the shared statistic (D-Adaptation's d) is a sum over the parameters in their order, so "
    "another order rounds differently and d, multiplied up step after step, carries the "
    "difference past the allowance, which is calibrated on a nudge of the start and does not "
    "see summation order. Not an order dependence of the method (dadaptation's own "
    "DAdaptAdam passes the same check).",
)

_YOGI_TO = Why(
    "defect",
    "Yogi starts its first moment at `initial_accumulator` = 1e-6 (not 0), a push in the "
    "+ direction: it moves where the gradient is 0 and breaks the symmetry f(x) -> f(-x).",
    _YOGI.format(module="torch_optimizer"),
)

_YOGI_PO = Why(
    "defect",
    "ported from torch-optimizer's Yogi with the same first moment starting at 1e-6.",
    _YOGI.format(module="pytorch_optimizer"),
)

_LAPROP = Why(
    "defect",
    "LaProp's foreach path rounds the per-parameter step sizes (1 / bias correction) to "
    "float32 (`_get_step_sizes` returns `torch.tensor(..., dtype=torch.float32)`), so "
    "foreach=True moves float64 parameters by a float32-rounded step: 9e-10 off the "
    "for-loop run after 2 steps here, where reordering alone stays near 1e-16.",
    "import torch, pytorch_optimizer\n"
    "def run(foreach):\n"
    "    p = torch.tensor([1 / 3, 2 / 3], dtype=torch.float64, requires_grad=True)\n"
    "    opt = pytorch_optimizer.LaProp([p], lr=0.1, foreach=foreach)\n"
    "    for _ in range(2):\n"
    "        p.grad = p.detach().clone(); opt.step()\n"
    "    return p.detach()\n"
    "print((run(False) - run(True)).abs().max().item())  # 9.1e-10, not ~1e-16",
)

_SCHEDULE_FREE = Why(
    "by design",
    "schedule-free averaging: x is averaged towards z with weights from the largest lr seen "
    "(lr_max), not the current one, so with lr = 0 z stops but x (and y, the parameters in "
    "train mode) keep moving towards it; the method is built to need no schedule.",
)
_DUAL_AVERAGE = Why(
    "by design",
    "MADGRAD is dual averaging with momentum: lr scales what enters the sum s, and x keeps "
    "moving towards the dual point x0 - s / v^(1/3) after lr = 0 stops s.",
)
_LR_IN_MOMENTUM = Why(
    "by design",
    "lr multiplies what enters the momentum buffer, so a scheduled lr reaches the step "
    "through the buffer, decaying as beta1^t after lr = 0, not at once (dadaptation's own "
    "DAdaptAdam skips the step when lr = 0 and passes).",
)
_ASGD_LAG = Why(
    "defect",
    "ASGD's step t uses eta computed at the end of step t - 1 from that step's lr, so a "
    "scheduler's lr reaches the parameters one step late: at lr = 0 it still takes one full "
    "step (then stops).",
    "import torch\n"
    "p = torch.ones(1, dtype=torch.float64, requires_grad=True)\n"
    "opt = torch.optim.ASGD([p], lr=0.1); p.grad = torch.ones_like(p); opt.step()\n"
    "opt.param_groups[0]['lr'] = 0.0; opt.step()\n"
    "print(p.item())  # 0.79998: one more full step at lr 0 (0.89999 if the lr reached it)",
)
_DADAPT_SGD_ZERO = Why(
    "defect",
    "DAdaptSGD crashes when lr is 0 (the end of a cosine schedule): `global_sk_sq` is set "
    "only under `if lr > 0.0` and read after it.",
    "import torch, dadaptation\n"
    "p = torch.ones(2, requires_grad=True); opt = dadaptation.DAdaptSGD([p])\n"
    "p.grad = torch.ones_like(p); opt.step()\n"
    "opt.param_groups[0]['lr'] = 0.0  # as a scheduler sets it\n"
    "opt.step()  # UnboundLocalError: global_sk_sq",
)

#: every failure of the table, by (row label, check name)
EXPLAINED: dict[tuple[str, str], Why] = {
    ("Rprop", "lr scheduler"): Why(
        "by design",
        "Rprop's lr is only the first step size: each coordinate's step size is state, grown "
        "and shrunk by the etas from then on, so a scheduled lr never reaches it.",
    ),
    ("ASGD", "lr scheduler"): _ASGD_LAG,
    ("MADGRAD", "lr scheduler"): _DUAL_AVERAGE,
    ("MADGRAD (po)", "lr scheduler"): _DUAL_AVERAGE,
    ("DAdaptAdam (po)", "lr scheduler"): _LR_IN_MOMENTUM,
    ("LaProp", "lr scheduler"): _LR_IN_MOMENTUM,
    ("Ranger (po)", "lr scheduler"): Why(
        "by design",
        "Lookahead: every 6 steps the parameters move to an interpolation of the fast and "
        "the slow weights, whatever the lr.",
    ),
    ("ScheduleFreeAdamW (po)", "lr scheduler"): _SCHEDULE_FREE,
    ("AdamWScheduleFree", "lr scheduler"): _SCHEDULE_FREE,
    ("SGDScheduleFree", "lr scheduler"): _SCHEDULE_FREE,
    ("DAdaptSGD", "lr scheduler"): _DADAPT_SGD_ZERO,
    ("LaProp", "foreach and fused"): _LAPROP,
    ("Adam eps=0", "fixed point at the minimizer"): Why(
        "by design",
        "with eps = 0 Adam's step at a zero gradient is 0/0: the exact loss-scale invariance "
        "eps = 0 buys (it passes both scale checks) costs the fixed point.",
    ),
    ("NAdam", "state precision"): Why(
        "defect",
        "minor: NAdam's `mu_product` is a 0-dim tensor made at torch's default dtype, so "
        "float64 parameters get a float32 momentum-schedule product (its bias correction "
        "rounds at 1e-7); the state is float64 only under torch.set_default_dtype(float64).",
        _SCALAR.format(extra="", cls="torch.optim.NAdam", key="mu_product"),
    ),
    ("ASGD", "state precision"): Why(
        "defect",
        "minor: ASGD's `eta` (the step size) and `mu` are 0-dim tensors at torch's default "
        "dtype: float64 parameters step with a float32-rounded learning rate.",
        _SCALAR.format(extra="", cls="torch.optim.ASGD", key="eta"),
    ),
    ("LBFGS", "matrix parameters"): Why(
        "defect",
        "torch.optim.LBFGS flattens each gradient with `p.grad.view(-1)`, which fails for a "
        "non-contiguous parameter (its gradient has the parameter's strides).",
        "import torch\n"
        "w = torch.randn(2, 3).t().requires_grad_(); opt = torch.optim.LBFGS([w])\n"
        "opt.step(lambda: (opt.zero_grad(), ((w - 1) ** 2).sum().backward(), "
        "((w - 1) ** 2).sum())[-1])  # RuntimeError: view size is not compatible",
    ),
    ("Yogi", "sign symmetry"): _YOGI_TO,
    ("Yogi", "fixed point at the minimizer"): _YOGI_TO,
    ("Lamb", "convergence on an easy quadratic"): Why(
        "by design",
        "LAMB's step is rescaled to lr ||x|| / ||update|| (the trust ratio), so it keeps "
        "taking steps of about lr ||x*|| and hovers that far from the minimizer (0.066 from a "
        "start 1.15 away at lr 0.05); no declaration fits a radius that scales with ||x*||.",
    ),
    ("AdamP", "matrix parameters"): Why(
        "defect",
        "AdamP's projection reshapes with `.view`, which fails for a non-contiguous "
        "(transposed) parameter.",
        _VIEW.format(module="torch_optimizer", cls="AdamP"),
    ),
    ("NovoGrad", "state precision"): Why(
        "defect",
        "minor: NovoGrad's per-layer second moment `exp_avg_sq` is `torch.zeros([])`, a "
        "float32 scalar under float64 parameters.",
        _SCALAR.format(extra=", torch_optimizer", cls="torch_optimizer.NovoGrad", key="exp_avg_sq"),
    ),
    ("RAdam (to)", "translation equivariance"): _RADAM,
    ("RAdam (to)", "fixed point at the minimizer"): _RADAM,
    ("RAdam (to)", "float64 floor (no hidden float32)"): _RADAM,
    ("RAdam (to)", "state precision"): _RADAM,
    ("SWATS", "matrix parameters"): Why(
        "defect",
        "SWATS takes `p.view(-1)` of the parameter, which fails for a non-contiguous one.",
        _VIEW.format(module="torch_optimizer", cls="SWATS"),
    ),
    ("Shampoo (to)", "float32 parameters"): Why(
        "kit limitation",
        "for a vector Shampoo inverts eps I + sum g g^T (eps = 1e-4) by an SVD at the "
        "parameters' precision; in float32 that inverse of a 1e4-conditioned matrix is good to "
        "~1e-3, so the float32 run parts from the float64 run by a few 1e-4 from the first "
        "step. The allowance, calibrated on a nudge of the start, cannot see it (the exact "
        "inverse is insensitive to the start): a numerical weakness of Shampoo's root at "
        "float32 (torch-optimizer takes it at the parameters' dtype) more than an interface "
        "defect.",
    ),
    ("AdamP (po)", "matrix parameters"): Why(
        "defect",
        "the same `.view` as torch-optimizer's AdamP, from which it is ported.",
        _VIEW.format(module="pytorch_optimizer", cls="AdamP"),
    ),
    ("AdEMAMix", "convergence on an easy quadratic"): Why(
        "by design",
        "AdEMAMix adds alpha = 5 times a slow momentum (beta3 = 0.9999, a memory of ~10^4 "
        "steps), which keeps pushing along old gradients: at lr 0.05 it is still 6e-4 from "
        "the minimizer after 3000 steps, short of 1e-4 of the start distance.",
    ),
    ("Adan (po)", "maximize"): Why(
        "defect",
        "pytorch-optimizer's Adan initializes `previous_grad` from the gradient before "
        "negating it for maximize, so the first gradient difference is -2g instead of 0 and "
        "maximize=True on -f parts from minimizing f from the first step on.",
        "import torch, pytorch_optimizer as po\n"
        "x, y = torch.ones(1, requires_grad=True), torch.ones(1, requires_grad=True)\n"
        "a, b = po.Adan([x], lr=0.05), po.Adan([y], lr=0.05, maximize=True)\n"
        "for _ in range(3): a.zero_grad(); b.zero_grad(); (x**2).sum().backward(); "
        "(-y**2).sum().backward(); a.step(); b.step()\n"
        "print(x.item(), y.item())  # 0.8503 vs 0.8649: should be equal",
    ),
    ("DAdaptAdam (po)", "parameters exchangeable (shared-state)"): _EXCHANGE,
    ("Prodigy (po)", "parameters exchangeable (shared-state)"): _EXCHANGE,
    ("Adafactor", "convergence on an easy quadratic"): Why(
        "by design",
        "the step is rho_t = min(lr, 1/sqrt(t)) times the parameter's RMS (at least eps2 = "
        "1e-3): a decaying schedule on a relative scale, so where the minimizer has small "
        "coordinates the last digits come sublinearly and 1e-4 of the start can take longer "
        "than the budget (0.000976 after 3000 steps on the drawn example).",
    ),
    ("SophiaH", "rows independent"): Why(
        "by design",
        "its Hutchinson probes come from torch's global generator, drawn parameter by "
        "parameter, so a row's probes depend on how many rows drew before it: rows are "
        "independent in distribution, not draw for draw (a rotated Hessian makes the probes "
        "matter; on an axis-aligned one the estimate is exact and the check passes).",
    ),
    ("Lamb (po)", "convergence on an easy quadratic"): Why(
        "by design", "the trust ratio, as torch-optimizer's Lamb above."
    ),
    ("Ranger (po)", "convergence on an easy quadratic"): Why(
        "by design",
        "Ranger centralizes the gradient of every matrix (subtracts each row's mean), so the "
        "row means of a parameter never move: declared matrix, its 2x2 parameters cannot "
        "reach a minimizer whose row means differ from the start's.",
    ),
    ("Yogi (po)", "sign symmetry"): _YOGI_PO,
    ("Yogi (po)", "fixed point at the minimizer"): _YOGI_PO,
    ("DAdaptSGD", "fixed point at the minimizer"): Why(
        "defect",
        "DAdaptSGD divides by the gradient's norm on its first step: a zero first gradient "
        "(a start at the minimizer) raises ZeroDivisionError.",
        "import torch, dadaptation\n"
        "x = torch.zeros(1, requires_grad=True); opt = dadaptation.DAdaptSGD([x])\n"
        "x.grad = torch.zeros(1); opt.step()  # ZeroDivisionError: float division by zero",
    ),
    ("Adan", "parity"): Why(
        "defect",
        "adan-pytorch's first step is a no-op: the moments start at 0 and are updated only "
        "from the second step on, while the step count (and so every later bias correction) "
        "advances. Parity with pytorch-optimizer's Adan at the same betas (its (0.98, 0.92, "
        "0.99) are adan-pytorch's (0.02, 0.08, 0.01) as 1 - beta) shows it at step 1: "
        "expected 0.95, got 1 (no move).",
        "import torch, adan_pytorch\n"
        "x = torch.ones(1, requires_grad=True); opt = adan_pytorch.Adan([x], lr=0.05)\n"
        "(x ** 2).sum().backward(); opt.step(); print(x.item(), opt.state[x]['step'])  # 1.0 1",
    ),
}
