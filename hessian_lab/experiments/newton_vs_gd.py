"""Newton against GD: where the diagonal approximation of the Hessian is exact, and where not.

The same spectrum (1, 4) twice: axis-aligned, where ``diag(H)`` *is* the Hessian, and
rotated by 30 degrees, where it is only a preconditioner. On both: GD at lr*, diagonal
Newton from the exact diagonal, diagonal Newton from Hutchinson estimates (AdaHessian with
``betas = (0, 0)``, i.e. without momentum, ``k = 1``; 1 and 8 probes per step) and full
Newton. Axis-aligned, every Newton-type method lands on the minimizer in one step (a
Rademacher probe recovers a diagonal H exactly); rotated, only full Newton does.
"""

from __future__ import annotations

import math

import numpy as np

from .. import GD, AdaHessian, DiagonalNewton, Newton, Quadratic
from ..engine import run as engine_run
from ..theory import predict
from .base import BACKEND, ExperimentResult, as_int_or_none, quantities

NAME = "newton-vs-gd"
TITLE = "GD, diagonal Newton (exact and Hutchinson) and Newton: axis-aligned vs rotated"
EIGENVALUES = (1.0, 4.0)
ANGLE_DEG = 30.0
CENTER = (1.0, 0.5)
X0 = (-1.0, -1.0)
TOL = 1e-8
MAX_STEPS = 2_000
BOUND = 1e6
SEED = 0


def problems() -> dict[str, Quadratic]:
    """The axis-aligned and the rotated quadratic (same spectrum, same minimizer)."""
    a = math.radians(ANGLE_DEG)
    rotation = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    return {
        "axis-aligned": Quadratic(EIGENVALUES, center=CENTER),
        f"rotated {ANGLE_DEG:g} deg": Quadratic(EIGENVALUES, rotation=rotation, center=CENTER),
    }


def methods(q: dict[str, float]) -> dict[str, object]:
    def hutchinson(n_samples: int) -> AdaHessian:
        return AdaHessian(
            lr=1.0, betas=(0.0, 0.0), eps=1e-12, hessian_power=1.0, n_samples=n_samples, seed=SEED
        )

    return {
        "GD at lr*": GD(lr=q["lr_opt"]),
        "diagonal Newton (exact diag)": DiagonalNewton(lr=1.0),
        "diagonal Newton (Hutchinson, 1 probe)": hutchinson(1),
        "diagonal Newton (Hutchinson, 8 probes)": hutchinson(8),
        "Newton": Newton(lr=1.0),
    }


def run(quick: bool = False) -> ExperimentResult:
    from .. import plots

    shown = 6 if quick else 12
    resolution = 60 if quick else 200
    table, figures, data = [], {}, {"problems": {}}
    listed = methods(quantities(next(iter(problems().values()))))
    colors = _colours([_legend_label(n, o) for n, o in listed.items()])
    for label, problem in problems().items():
        q = quantities(problem)
        paths, losses = {}, {}
        entry = {"hessian": problem.hessian_matrix, "diag": np.diag(problem.hessian_matrix)}
        for name, optimizer in methods(q).items():
            result = engine_run(
                problem,
                optimizer,
                X0,
                tol=TOL,
                max_steps=MAX_STEPS,
                bound=BOUND,
                record=("loss", "x"),
                backend=BACKEND,
            )
            prediction = predict(problem, optimizer, X0, "loss", TOL, MAX_STEPS)
            row = result.row(0)
            x_hist = result.x_history[:, 0, :]
            legend = _legend_label(name, optimizer)
            paths[legend] = x_hist[: shown + 1]
            losses[legend] = result.loss_history[:, 0]
            first = x_hist[min(1, len(x_hist) - 1)]
            table.append(
                {
                    "problem": label,
                    "method": name,
                    "status": row["status"],
                    "steps": row["steps"],
                    "diverged_at": row["diverged_at"],
                    "predicted_steps": as_int_or_none(float(prediction.steps[0])),
                    "predicted_rate": float(prediction.rate[0]),
                    "distance_after_1_step": float(np.linalg.norm(first - problem.minimizer)),
                    "final_loss": row["final_loss"],
                    "peak_over_start": float(
                        np.max(result.loss_history[:, 0] - problem.min_value)
                        / (result.loss_history[0, 0] - problem.min_value)
                    ),
                }
            )
        data["problems"][label] = entry
        slug = "aligned" if label == "axis-aligned" else "rotated"
        figures[f"contour_{slug}"] = plots.contour_paths(
            problem,
            paths,
            start=X0,
            minimizer=problem.minimizer,
            title=rf"{label} quadratic, $\lambda$ = {EIGENVALUES}: the first {shown} steps",
            resolution=resolution,
            colors=colors,
        )
        figures[f"loss_{slug}"] = plots.loss_curves(
            losses,
            min_value=problem.min_value,
            tol=TOL,
            title=_loss_title(label, table),
            colors=colors,
        )
    data["runs"] = table
    data["settings"] = {
        "eigenvalues": EIGENVALUES,
        "angle_deg": ANGLE_DEG,
        "center": CENTER,
        "x0": X0,
        "tol": TOL,
        "max_steps": MAX_STEPS,
        "shown_steps": shown,
    }
    notes = [
        "Axis-aligned: diag(H) = H, so exact and Hutchinson diagonal Newton are Newton (one step).",
        "Rotated: diagonal Newton only preconditions (rate from the theory bridge below 1 but "
        "above 0); Hutchinson's estimate of diag(H) is noisy when |H_12| is comparable to H_ii.",
    ]
    return ExperimentResult(NAME, TITLE, table, data, figures, notes)


#: the catalog optimizer whose colour each method takes (Hutchinson's diagonal Newton is
#: AdaHessian without moments)
COLOUR_OF = {
    "GD at lr*": "gd",
    "diagonal Newton (exact diag)": "diag-newton",
    "diagonal Newton (Hutchinson, 1 probe)": "adahessian",
    "diagonal Newton (Hutchinson, 8 probes)": "adahessian",
    "Newton": "newton",
}


def _colours(labels: list[str]) -> dict[str, str]:
    """``{legend label: colour}``: each method its optimizer's catalog colour."""
    from .. import plots

    return plots.palette_of({label: COLOUR_OF[label.split(" (lr")[0]] for label in labels})


def _loss_title(label: str, table: list[dict]) -> str:
    """The loss figure's title, saying what its data show: how many methods land on the
    minimizer in one step, and how high the one-probe run climbs (a single Hutchinson
    probe estimates ``H_ii +- H_12``, which can be near 0: a huge step)."""
    rows = [r for r in table if r["problem"] == label]
    one_step = [r["method"] for r in rows if r["steps"] == 1]
    text = f"{label} quadratic: loss - f* against step"
    if len(one_step) > 1:
        text += f"; {len(one_step)} Newton-type methods reach the minimizer in one step"
    probe = next(r for r in rows if r["method"] == "diagonal Newton (Hutchinson, 1 probe)")
    if probe.get("peak_over_start", 0) > 1:
        text += (
            f"; one Hutchinson probe misjudges diag(H) and climbs to {probe['peak_over_start']:.0f}"
            " times its start before it converges"
        )
    return text


def _legend_label(name: str, optimizer) -> str:
    """The method's name with its step size: the hyperparameter a reader needs."""
    return f"{name} (lr = {float(optimizer.lr):.3g})"


__all__ = ["run", "problems", "methods", "NAME", "TITLE"]
