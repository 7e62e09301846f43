"""The steep valley: ill-conditioning, momentum and adaptive steps on lambda = (1, 100).

The classic teaching valley ``f(x) = 1/2 (x-c)^T diag(1, 100) (x-c)`` with ``c = (0.8, 0.6)``,
started at the origin, loss tolerance 1e-6, at most 10,000 steps, divergence box
``|x_i| < 5``. Every learning rate is a named theory quantity times a factor
(``1.01*lr_max``, ``lr_opt``, ``0.175*lr_opt``, the heavy-ball optimum), and the linear
methods' measured steps are set beside the theory bridge's exact prediction.
"""

from __future__ import annotations

from .. import GD, AdaGrad, AdaHessian, Adam, Momentum, Nesterov, RMSProp, steep_valley
from ..studies import compare
from .base import BACKEND, ExperimentResult, quantities

NAME = "steep-valley"
TITLE = "Steep valley (lambda = 1, 100): GD, momentum, Nesterov and adaptive methods"
X0 = (0.0, 0.0)
TOL = 1e-6
MAX_STEPS = 10_000
BOUND = 5.0


def runs(q: dict[str, float]) -> list[tuple[str, str, object]]:
    """``(label, hyperparameter text, optimizer)`` for every run, from the theory quantities."""
    lr_opt, lr_max = q["lr_opt"], q["lr_max"]
    return [
        ("GD at 1.01 lr_max", "lr=1.01*lr_max", GD(lr=1.01 * lr_max)),
        ("GD at lr*", "lr=lr_opt", GD(lr=lr_opt)),
        ("heavy ball", "lr=0.175*lr_opt, beta=0.9", Momentum(lr=0.175 * lr_opt, beta=0.9)),
        ("Nesterov", "lr=0.175*lr_opt, beta=0.9", Nesterov(lr=0.175 * lr_opt, beta=0.9)),
        ("Adam", "lr=lr_opt, betas=(0.9, 0.999)", Adam(lr=lr_opt, betas=(0.9, 0.999))),
        ("RMSProp", "lr=0.01, alpha=0.99", RMSProp(lr=0.01)),
        ("AdaGrad", "lr=0.1", AdaGrad(lr=0.1)),
        ("AdaHessian", "lr=0.15, betas=(0.9, 0.999), k=1", AdaHessian(lr=0.15)),
        (
            "optimal heavy ball",
            "lr=lr_hb_opt, beta=beta_hb_opt",
            Momentum(lr=q["lr_hb_opt"], beta=q["beta_hb_opt"]),
        ),
    ]


def run(quick: bool = False) -> ExperimentResult:
    from .. import plots

    problem = steep_valley()
    q = quantities(problem)
    listed = runs(q)
    comparison = compare(
        problem,
        {label: optimizer for label, _, optimizer in listed},
        X0,
        criterion="loss",
        tol=TOL,
        max_steps=MAX_STEPS,
        bound=BOUND,
        record=("loss", "x"),
        backend=BACKEND,
    )
    table, paths, losses = [], {}, {}
    for (label, text, optimizer), compared in zip(listed, comparison.runs, strict=True):
        result = compared.result
        row = result.row(0)
        predicted = compared.predicted_steps
        table.append(
            {
                "run": label,
                "optimizer": optimizer.name,
                "hyperparameters": text,
                "status": row["status"],
                "steps": row["steps"],
                "diverged_at": row["diverged_at"],
                "predicted_steps": predicted,
                "predicted_rate": compared.predicted_rate,
                "measured_equals_predicted": (
                    None if predicted is None else predicted == row["steps"]
                ),
                "final_loss": row["final_loss"],
            }
        )
        paths[label] = result.x_history[:, 0, :]
        losses[label] = result.loss_history[:, 0]

    resolution = 60 if quick else 200
    named = {f"{r['run']} ({r['hyperparameters']})": r for r in table}
    colors = plots.palette_of({name: r["optimizer"] for name, r in named.items()})
    diverged = {name: r["diverged_at"] for name, r in named.items()}
    figures = {}  # each figure and panel framed on its own run
    for i, (name, row) in enumerate(named.items()):
        status = row["status"]
        steps = row["steps"] if status == "converged" else row["diverged_at"]
        figures[f"contour_{i + 1:02d}_{_slug(row['run'])}"] = plots.contour_paths(
            problem,
            {name: paths[row["run"]]},
            start=X0,
            minimizer=problem.minimizer,
            title=f"Steep valley: {row['run']}, {status} after {steps} steps",
            resolution=resolution,
            colors=colors,
            diverged=diverged,
        )
    figures["contour_all"] = plots.contour_panels(
        problem,
        {name: paths[r["run"]] for name, r in named.items()},
        start=X0,
        minimizer=problem.minimizer,
        title="Steep valley: every optimizer from the origin, one panel each",
        resolution=resolution,
        colors=colors,
        diverged=diverged,
    )
    pair = [name for name, r in named.items() if r["run"] in ("GD at lr*", "heavy ball")]
    steps_of = {name: named[name]["steps"] for name in pair}
    figures["gd_vs_momentum"] = plots.side_by_side(
        problem,
        {f"{name}: {steps_of[name]} steps": paths[named[name]["run"]] for name in pair},
        start=X0,
        minimizer=problem.minimizer,
        title="Steep valley: GD zigzags across the valley, momentum rolls along it "
        "(same contours, same view)",
        colors={f"{name}: {steps_of[name]} steps": colors[name] for name in pair},
        resolution=resolution,
    )
    figures["loss_curves"] = plots.loss_curves(
        {name: losses[r["run"]] for name, r in named.items()},
        min_value=problem.min_value,
        tol=TOL,
        title="Steep valley: loss - f* against step",
        colors=colors,
        diverged=diverged,
    )
    linear = [r for r in table if r["predicted_steps"] is not None]
    notes = [
        f"lr* = 2/(lambda_min + lambda_max) = {q['lr_opt']:.6g}, lr_max = {q['lr_max']:.6g}; "
        f"optimal heavy ball lr = {q['lr_hb_opt']:.6g}, beta = {q['beta_hb_opt']:.6g}.",
        "Linear methods: measured steps equal the closed-form prediction in "
        f"{sum(bool(r['measured_equals_predicted']) for r in linear)} of {len(linear)} runs.",
        "Adaptive methods (Adam, RMSProp, AdaGrad, AdaHessian) have no closed form: "
        "predicted steps are blank.",
    ]
    data = {
        "problem": {
            "eigenvalues": problem.eigenvalues,
            "center": problem.center,
            "x0": X0,
            "tol": TOL,
            "max_steps": MAX_STEPS,
            "bound": BOUND,
        },
        "quantities": q,
        "runs": table,
    }
    return ExperimentResult(NAME, TITLE, table, data, figures, notes)


def _slug(label: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in label.lower()).strip("_").replace("__", "_")


__all__ = ["run", "runs", "NAME", "TITLE"]
