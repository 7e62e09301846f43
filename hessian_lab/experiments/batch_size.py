"""Which choices matter at which batch sizes: the noisy quadratic model, then a network.

The noisy quadratic model of Zhang, Li, Nado, Martens, Sachdeva, Dahl, Shallue & Grosse
(NeurIPS 2019): ``f(x) = 1/2 x^T diag(lambda) x`` with ``lambda_i = 1/i`` and gradient
noise ``S = H`` over a batch of ``B`` (``xi ~ N(0, H / B)``), from ``x0 = ones``. For each
batch size the fewest steps to ``E f - f* <= target`` at the best hyperparameters
(:func:`hessian_lab.studies.batch_size_scaling`: exact theory for the linear methods, Monte
Carlo rows for Adam). Its four findings:

(a) SGD: steps fall as ``1/B`` (perfect scaling) up to a critical batch size, then level
    off (diminishing returns);
(b) heavy-ball momentum (beta searched, 0 included) matches SGD at small batch sizes and
    needs fewer steps at large ones: a larger critical batch size;
(c) preconditioning by ``diag(H)^-p`` (p = 0.5, 1) raises the critical batch size
    further; Adam, measured by Monte Carlo, follows the preconditioned curves;
(d) an exponential moving average of the iterates (decay 0.9, 0.99) lowers the
    steady-state loss of SGD at a fixed lr (exact floors, checked by Monte Carlo rows).

Then the same curve measured on a real network: steps until the training loss of the
digits CNN (``hessian_lab.torch.models.small_cnn``, float64) reaches a target, against the
batch size, for SGD with momentum 0.9 and Adam (each at the better of two lrs).

The critical batch size is where steps x batch size first reaches twice its value at the
smallest batch size (log-interpolated).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import GD, Adam, GradientNoise, Momentum, PreconditionedGD, Quadratic
from .base import ExperimentResult

NAME = "batch-size"
TITLE = (
    "Batch size: perfect scaling, diminishing returns, and what momentum, preconditioning "
    "and averaging change"
)


@dataclass(frozen=True)
class Size:
    """The experiment's size: the quadratic, the studies' ranges and the network's."""

    dim: int
    batch_sizes: tuple[int, ...]
    target_fraction: float  # target = this * f(x0)
    max_steps: int
    adam_rows: int
    adam_lrs: tuple[float, ...]
    adam_max_steps: int
    ema_lr: float
    ema_decays: tuple[float, ...]
    ema_rows: int
    ema_steps: int
    ema_batch: int
    digits_train: int
    digits_batches: tuple[int, ...]
    digits_target: float
    digits_max_steps: int
    digits_lrs: dict


FULL = Size(
    dim=1000,
    batch_sizes=tuple(2**k for k in range(0, 15)),
    target_fraction=0.01,
    max_steps=200_000,
    adam_rows=6,
    adam_lrs=(0.003, 0.01, 0.03, 0.1),
    adam_max_steps=1_000,
    ema_lr=1.0,
    ema_decays=(0.9, 0.99),
    ema_rows=48,
    ema_steps=3_000,
    ema_batch=16,
    digits_train=512,
    digits_batches=(8, 32, 128, 512),
    digits_target=0.1,
    digits_max_steps=2_000,
    digits_lrs={
        "momentum (torch.optim.SGD)": (0.01, 0.05),
        "adam (torch.optim.Adam)": (1e-3, 3e-3),
    },
)
QUICK = Size(
    dim=100,
    batch_sizes=(1, 4, 16, 64, 256, 1024, 4096),
    target_fraction=0.01,
    max_steps=50_000,
    adam_rows=4,
    adam_lrs=(0.01, 0.1),
    adam_max_steps=300,
    ema_lr=1.0,
    ema_decays=(0.9,),
    ema_rows=200,
    ema_steps=600,
    ema_batch=16,
    digits_train=128,
    digits_batches=(16, 128),
    digits_target=0.5,
    digits_max_steps=300,
    digits_lrs={"momentum (torch.optim.SGD)": (0.05,), "adam (torch.optim.Adam)": (3e-3,)},
)


def nqm(dim: int) -> Quadratic:
    """The noisy quadratic model's spectrum: ``lambda_i = 1/i``, axis-aligned, ``c = 0``."""
    return Quadratic(1.0 / np.arange(1, dim + 1))


def run(quick: bool = False) -> ExperimentResult:
    from ..studies import batch_size_scaling

    size = QUICK if quick else FULL
    problem = nqm(size.dim)
    noise = GradientNoise("hessian", seed=0)
    x0 = np.ones(size.dim)
    f0 = float(np.sum(problem.spectrum) / 2)
    target = size.target_fraction * f0
    optimizers = [GD(), Momentum(), PreconditionedGD(power=0.5), PreconditionedGD(power=1.0)]
    study = batch_size_scaling(
        problem, optimizers, size.batch_sizes, target, noise, x0, max_steps=size.max_steps
    )
    adam_sizes = [b for b in size.batch_sizes if b >= 16]
    adam = batch_size_scaling(
        problem,
        [Adam()],
        adam_sizes,
        target,
        noise,
        x0,
        rows=size.adam_rows,
        lrs=size.adam_lrs,
        mc_max_steps=size.adam_max_steps,
    ).curves[0]
    curves = {c.label: c for c in study.curves}
    gd, momentum = curves["gd"], curves["momentum"]
    p_half, p_one = curves["precond-gd p=0.5"], curves["precond-gd p=1"]
    critical = {label: c.critical_batch_size for label, c in curves.items()}

    ema = _ema_study(problem, noise, size)
    digits = _digits_study(size)

    table = []
    adam_steps = dict(zip(adam_sizes, adam.steps, strict=True))
    for i, B in enumerate(size.batch_sizes):
        row = {"batch size": int(B)}
        for label, c in curves.items():
            row[f"{label} steps"] = c.steps[i]
        row["adam steps (measured)"] = adam_steps.get(int(B))
        table.append(row)
    data = {
        "problem": {"eigenvalues": "1/i", "dim": size.dim, "noise": "S = H", "x0": "ones"},
        "target": target,
        "f0": f0,
        "definition": study.definition,
        "batch_sizes": list(size.batch_sizes),
        "curves": {
            label: {
                "steps": c.steps,
                "best": c.best,
                "source": c.source,
                "critical_batch_size": critical[label],
            }
            for label, c in curves.items()
        },
        "adam": {
            "batch_sizes": adam_sizes,
            "steps": adam.steps,
            "best": adam.best,
            "source": adam.source,
            "critical_batch_size": adam.critical_batch_size,
        },
        "ema": ema,
        "digits": digits,
    }
    findings = _findings(gd, momentum, p_half, p_one, critical, ema, digits)
    data["findings"] = findings
    figures = _figures(size, curves, critical, adam, adam_sizes, ema, digits, target, problem)
    notes = [study.definition.capitalize() + "."] + [f["text"] for f in findings.values()]
    return ExperimentResult(NAME, TITLE, table, data, figures, notes)


def _ema_study(problem, noise, size: Size) -> dict:
    """Exact floors of GD at ``ema_lr`` with and without iterate averaging against batch
    size, and a Monte Carlo check at ``ema_batch`` (rows started at the minimum)."""
    from ..engine import run as engine_run
    from ..noisy_theory import ema_stationary_loss, stationary_loss

    opt = GD(lr=size.ema_lr)
    sizes = list(size.batch_sizes)
    floors = {"iterates": [stationary_loss(problem, opt, noise.with_batch_size(b)) for b in sizes]}
    for decay in size.ema_decays:
        floors[f"EMA {decay:g}"] = [
            ema_stationary_loss(problem, opt, noise.with_batch_size(b), decay) for b in sizes
        ]
    # Monte Carlo: GD has no state, so the run goes in chunks (each a new seed: fresh noise)
    # and the averages follow every recorded iterate
    batch_noise = noise.with_batch_size(size.ema_batch)
    X = np.zeros((size.ema_rows, problem.dim))
    averages = {decay: X.copy() for decay in size.ema_decays}
    chunk = 200
    for k in range(size.ema_steps // chunk):
        step_noise = GradientNoise("hessian", batch_noise.batch_size, seed=1000 + k)
        result = engine_run(problem, opt, X, tol=0, max_steps=chunk, noise=step_noise, record="x")
        for x in result.x_history[1:]:
            for decay in size.ema_decays:
                averages[decay] *= decay
                averages[decay] += (1 - decay) * x
        X = result.x
    lam = problem.spectrum

    def measured(points):
        f = 0.5 * np.sum(lam * points * points, axis=1)
        return float(f.mean()), float(f.std(ddof=1) / np.sqrt(f.size))

    monte_carlo = {"iterates": measured(X)}
    for decay in size.ema_decays:
        monte_carlo[f"EMA {decay:g}"] = measured(averages[decay])
    i = sizes.index(size.ema_batch)
    exact = {name: values[i] for name, values in floors.items()}
    return {
        "lr": size.ema_lr,
        "batch_sizes": sizes,
        "floors": floors,
        "monte_carlo_batch": size.ema_batch,
        "monte_carlo_steps": size.ema_steps,
        "monte_carlo_rows": size.ema_rows,
        "monte_carlo": monte_carlo,
        "exact": exact,
    }


def _digits_study(size: Size) -> dict:
    """Steps until the digits CNN's training loss reaches the target, per batch size."""
    import torch

    from ..torch.data import digits
    from ..torch.models import small_cnn
    from ..torch.to_target import steps_to_target
    from ..torch.train import one_thread

    train_set, _ = digits(size.digits_train, 0, seed=0)
    makers = {
        "momentum (torch.optim.SGD)": lambda params, lr: torch.optim.SGD(
            params, lr=lr, momentum=0.9
        ),
        "adam (torch.optim.Adam)": lambda params, lr: torch.optim.Adam(params, lr=lr),
    }
    out = {
        "target": size.digits_target,
        "max_steps": size.digits_max_steps,
        "n_train": size.digits_train,
        "batch_sizes": list(size.digits_batches),
        "optimizers": {},
    }
    with one_thread():
        for name, make in makers.items():
            steps, lrs = [], []
            for B in size.digits_batches:
                best, best_lr = None, None
                for lr in size.digits_lrs[name]:
                    model = small_cnn(seed=0)
                    found = steps_to_target(
                        model,
                        make(model.parameters(), lr),
                        train_set,
                        B,
                        size.digits_target,
                        size.digits_max_steps,
                    )
                    if found is not None and (best is None or found < best):
                        best, best_lr = found, lr
                steps.append(np.nan if best is None else float(best))
                lrs.append(best_lr)
            out["optimizers"][name] = {
                "steps": steps,
                "lr": lrs,
                "lrs_tried": list(size.digits_lrs[name]),
            }
    return out


def _findings(gd, momentum, p_half, p_one, critical, ema, digits) -> dict:
    """The four findings and the network's curve, each as numbers and a sentence."""
    B = gd.batch_sizes
    small_ratio = float(gd.steps[0] * B[0] / (gd.steps[1] * B[1]))
    out = {
        "a": {
            "small_batch_examples_ratio": small_ratio,
            "large_batch_steps_ratio": float(gd.steps[-2] / gd.steps[-1]),
            "critical_batch_size": critical["gd"],
            "text": f"(a) SGD: steps x B changes by a factor {small_ratio:.2f} from B = {B[0]} "
            f"to {B[1]} (perfect scaling), and the last {B[-1] // B[-2]}x larger batch saves "
            f"only {100 * (1 - gd.steps[-1] / gd.steps[-2]):.0f}% of the steps; critical batch "
            f"size {critical['gd']:.3g}.",
        },
        "b": {
            "small_batch_ratio": float(momentum.steps[0] / gd.steps[0]),
            "large_batch_ratio": float(momentum.steps[-1] / gd.steps[-1]),
            "critical_batch_size": critical["momentum"],
            "text": f"(b) Momentum: {momentum.steps[0] / gd.steps[0]:.2f} x SGD's steps at "
            f"B = {B[0]}, {momentum.steps[-1] / gd.steps[-1]:.2f} x at B = {B[-1]}; critical "
            f"batch size {critical['momentum']:.3g} (SGD {critical['gd']:.3g}).",
        },
        "c": {
            "critical": {k: critical[k] for k in ("gd", "precond-gd p=0.5", "precond-gd p=1")},
            "text": "(c) Preconditioning diag(H)^-p raises the critical batch size: "
            + ", ".join(
                f"p = {p}: {_fmt(critical[k])}"
                for p, k in (("0", "gd"), ("0.5", "precond-gd p=0.5"), ("1", "precond-gd p=1"))
            )
            + "; at the largest batch size p = 0.5 needs "
            f"{p_half.steps[-1] / gd.steps[-1]:.2f} x SGD's steps.",
        },
    }
    exact, mc = ema["exact"], ema["monte_carlo"]
    lowest = min((k for k in exact if k != "iterates"), key=lambda k: exact[k])
    out["d"] = {
        "floor_ratio": float(exact[lowest] / exact["iterates"]),
        "text": f"(d) Averaging: at lr {ema['lr']:g}, B = {ema['monte_carlo_batch']} the "
        f"{lowest} floor is {exact[lowest] / exact['iterates']:.3f} x the iterates' "
        f"({exact[lowest]:.3g} vs {exact['iterates']:.3g}; Monte Carlo "
        f"{mc[lowest][0]:.3g} +- {mc[lowest][1]:.2g} vs {mc['iterates'][0]:.3g} +- "
        f"{mc['iterates'][1]:.2g}).",
    }
    parts = []
    for name, d in digits["optimizers"].items():
        s = np.asarray(d["steps"], dtype=float)
        parts.append(f"{name} " + " -> ".join("-" if np.isnan(v) else f"{v:.0f}" for v in s))
    out["network"] = {
        "text": f"Digits CNN, steps to training loss {digits['target']:g} at B = "
        + ", ".join(str(b) for b in digits["batch_sizes"])
        + ": "
        + "; ".join(parts)
        + ".",
    }
    return out


def _fmt(value) -> str:
    return "beyond the study" if value is None else f"{value:.3g}"


def _figures(size, curves, critical, adam, adam_sizes, ema, digits, target, problem) -> dict:
    from .. import plots

    B = np.asarray(size.batch_sizes, dtype=float)
    what = f"steps to E f - f* <= {target:.3g}"
    first = plots.batch_size_curves(
        B,
        {"gd": curves["gd"].steps, "momentum": curves["momentum"].steps},
        f"(a, b) NQM (lambda_i = 1/i, d = {size.dim}, S = H): SGD scales perfectly, then "
        "levels off; momentum helps only at large batch sizes",
        critical={k: critical[k] for k in ("gd", "momentum")},
        ylabel=what,
    )
    second = plots.batch_size_curves(
        B,
        {
            "gd": curves["gd"].steps,
            "precond-gd p=0.5": curves["precond-gd p=0.5"].steps,
            "precond-gd p=1": curves["precond-gd p=1"].steps,
        },
        "(c) Preconditioning by diag(H)^-p raises the critical batch size (Adam: Monte "
        f"Carlo, {adam.source.removeprefix('monte carlo (').rstrip(')')} per lr)",
        critical={k: critical[k] for k in ("gd", "precond-gd p=0.5", "precond-gd p=1")},
        measured={"adam": (np.asarray(adam_sizes, float), adam.steps)},
        ylabel=what,
    )
    mc = ema["monte_carlo"]
    third = plots.floor_curves(
        ema["batch_sizes"],
        {("gd" if k == "iterates" else f"gd, {k}"): v for k, v in ema["floors"].items()},
        f"(d) Averaging the iterates lowers SGD's noise floor (lr {ema['lr']:g})",
        "batch size B",
        measured={
            ("gd" if k == "iterates" else f"gd, {k}"): ([ema["monte_carlo_batch"]], [m], [s])
            for k, (m, s) in mc.items()
        },
    )
    steps = {name: d["steps"] for name, d in digits["optimizers"].items()}
    fourth = plots.batch_size_curves(
        np.asarray(digits["batch_sizes"], float),
        steps,
        f"Digits CNN: steps to training loss {digits['target']:g} against batch size (measured)",
        critical={name: _critical(digits["batch_sizes"], s) for name, s in steps.items()},
        ylabel=f"steps to training loss <= {digits['target']:g}",
    )
    return {
        "nqm_sgd_momentum": first,
        "nqm_preconditioning": second,
        "nqm_averaging": third,
        "digits_steps": fourth,
    }


def _critical(batch_sizes, steps):
    from ..studies import critical_batch_size

    return critical_batch_size(batch_sizes, steps)


__all__ = ["run", "nqm", "NAME", "TITLE", "FULL", "QUICK"]
