"""``hessian-lab theory``: the derived formulas, their values and predicted steps for a spectrum."""

from __future__ import annotations

from typing import Annotated

import typer

from ..spec.problems import theory_spectrum
from . import options as opt
from .common import (
    as_float,
    as_int,
    build_noise,
    draw_plots,
    handle_errors,
    out_console,
    print_json,
)
from .parsing import CLIError, check_output_path

HELP = """The convergence theory of a quadratic's spectrum: formulas and values.

lr_max = 2/lambda_max, lr* = 2/(lambda_min+lambda_max), R* = (kappa-1)/(kappa+1), the
heavy-ball and Nesterov optima and rates, and the steps each method needs at its optimum
(from x0 = ones to a minimizer at 0, exact closed-form prediction).

\b
Examples:
  hessian-lab theory --eigenvalues 1,100
  hessian-lab theory --kappa 1e4 --latex
  hessian-lab theory --kappa 100 --json
  hessian-lab theory --eigenvalues 1,10,100 --plot rates.png
  hessian-lab theory --kappa 100 --noise hessian --batch-size 16 --tol 1e-2

With --noise (gradient noise xi ~ N(0, S / B), see `run --noise`) it adds, for every
theory point and for each linear method tuned for the target (the best lr, and beta,
found by the exact theory), the stationary expected loss E f - f* (the noise floor) and the
steps until the expected loss first reaches --tol.
"""


def _gd_curve(rates, lr, eigenvalues):
    """``max_i |1 - lr lambda_i|`` over ``eigenvalues`` for every ``lr`` (the library's)."""
    import numpy as np

    return np.asarray(rates.gd_rate(lr, np.asarray(eigenvalues, float)), dtype=float)


@handle_errors
def theory(
    eigenvalues: Annotated[
        str | None, typer.Option(help="The spectrum, e.g. '1,100'.", show_default=False)
    ] = None,
    kappa: Annotated[
        float | None,
        typer.Option(help="Condition number (>= 1): eigenvalues lambda_min, kappa*lambda_min."),
    ] = None,
    lambda_min: Annotated[float | None, typer.Option(help="With --kappa; default 1.")] = None,
    criterion: opt.CriterionKind = opt.Criterion.loss,
    tol: opt.Tol = 1e-6,
    max_steps: opt.MaxSteps = 100_000,
    latex: Annotated[bool, typer.Option("--latex", help="Formulas in LaTeX.")] = False,
    json_output: Annotated[
        bool, typer.Option("--json", help="Every named quantity with value and formula.")
    ] = False,
    plot: Annotated[
        str | None,
        typer.Option(help="|r(lambda_min)|, |r(lambda_max)| and R against lr (.png/.svg/.pdf)."),
    ] = None,
    noise: opt.Noise = None,
    batch_size: opt.BatchSize = 1,
) -> None:
    from ..plots import FORMATS

    if plot is not None:
        check_output_path(plot, "--plot", FORMATS)
    spectrum, given = theory_spectrum(eigenvalues, kappa, lambda_min)
    as_float(tol, "--tol", positive=True)
    as_int(max_steps, "--max-steps", minimum=1, maximum=opt.MAX_STEPS)

    from .. import Quadratic
    from ..symbolic import rates
    from ..theory import optimum_predictions
    from .common import theory_quantities

    problem = Quadratic(spectrum)
    quantities, why = theory_quantities(problem)
    if quantities is None:
        raise CLIError(f"{given}: {why}")
    formulas = dict(rates.printed_formulas())  # simplest forms, shipped with the package
    x0 = [1.0] * problem.dim
    predictions = optimum_predictions(problem, quantities, x0, criterion.value, tol, max_steps)
    noisy = None
    if noise is not None:
        if criterion.value != "loss":
            raise CLIError("--noise predicts the expected loss: use --criterion loss")
        gradient_noise = build_noise(noise, batch_size, 0, problem)
        noisy = _noise_predictions(problem, predictions, x0, tol, max_steps, gradient_noise)
    elif batch_size != 1:
        raise CLIError("--batch-size needs --noise (the gradient noise S)")
    import sympy

    names = list(quantities) + [n for n in formulas if n not in quantities]
    if json_output:
        doc = {
            "command": "theory",
            "eigenvalues": [float(v) for v in problem.spectrum],
            "x0": x0,
            "criterion": criterion.value,
            "tol": tol,
            "max_steps": max_steps,
            "quantities": {
                n: {
                    "value": quantities.get(n),
                    "formula": str(formulas[n]) if n in formulas else None,
                    "latex": sympy.latex(formulas[n]) if n in formulas else None,
                }
                for n in names
            },
            "predictions": predictions,
        }
        if noisy is not None:
            doc["noise"] = {"cov": noise, "batch_size": batch_size, "predictions": noisy}
        print_json(doc)
    else:
        _render(names, quantities, formulas, predictions, spectrum, latex, criterion.value, tol)
        if noisy is not None:
            _render_noisy(noisy, gradient_noise, tol)
    if plot is not None:
        draw_plots([("--plot", plot, lambda: _figure(rates, spectrum, quantities))])


def _render(names, quantities, formulas, predictions, spectrum, latex, criterion, tol):
    import sympy
    from rich.table import Table

    shown = ", ".join(f"{v:g}" for v in spectrum[:6]) + (", ..." if len(spectrum) > 6 else "")
    table = Table(title=f"Theory for eigenvalues ({shown})")
    table.add_column("quantity")
    table.add_column("formula" + (" (LaTeX)" if latex else ""))
    table.add_column("value", justify="right")
    for name in names:
        expr = formulas.get(name)
        if expr is None:
            text = "-"
        elif latex:
            text = sympy.latex(expr)
        else:
            text = sympy.pretty(expr, use_unicode=False)
        value = quantities.get(name)
        table.add_row(name, text, "-" if value is None else f"{value:.6g}")
    console = out_console()
    console.print(table)
    steps = Table(title=f"Predicted at the optimum ({criterion} <= {tol:g}, from x0 = ones)")
    for col in ("method", "hyperparameters", "rate", "steps"):
        steps.add_column(col, justify="left" if col in ("method", "hyperparameters") else "right")
    for name, p in predictions.items():
        hp = ", ".join(f"{k}={v:.4g} ({p['sources'][k]})" for k, v in p["hyperparameters"].items())
        rate = p["predicted_rate"]
        steps.add_row(
            name,
            hp,
            "-" if rate is None else f"{rate:.6f}",
            str(p["predicted_steps"] if p["predicted_steps"] is not None else "-"),
        )
    console.print(steps)


def _figure(rates, spectrum, quantities):
    import numpy as np

    from .. import plots

    lam_min, lam_max = min(spectrum), max(spectrum)
    lr_max = quantities.get("lr_max", 2.0 / lam_max)
    lr = np.linspace(0.0, 1.2 * lr_max, 400)
    curves = {
        r"$|r(\lambda_{\min})| = |1 - \eta\lambda_{\min}|$": _gd_curve(rates, lr, [lam_min]),
        r"$|r(\lambda_{\max})| = |1 - \eta\lambda_{\max}|$": _gd_curve(rates, lr, [lam_max]),
        r"$R(\eta) = \max_i |1 - \eta\lambda_i|$": _gd_curve(rates, lr, spectrum),
    }
    return plots.rate_curves(
        lr,
        curves,
        lr_opt=quantities.get("lr_opt"),
        rate_opt=quantities.get("rate_opt"),
        lr_max=lr_max,
    )


def _noise_predictions(problem, predictions, x0, tol, max_steps, noise) -> dict[str, dict]:
    """label -> stationary loss and steps to ``E f - f* <= tol`` under ``noise``: at each
    theory point, and for GD, heavy ball and Nesterov tuned for the target at this batch
    size (:func:`hessian_lab.studies.batch_size_scaling`)."""
    import math

    from ..finite import float_or_none
    from ..noisy_theory import stationary_loss, steps_to_target
    from ..optimizers import make_optimizer
    from ..studies import batch_size_scaling

    out = {}
    for label, p in predictions.items():
        optimizer = make_optimizer(p["optimizer"], **p["hyperparameters"])
        out[label] = {
            "hyperparameters": p["hyperparameters"],
            "stationary_loss": float_or_none(stationary_loss(problem, optimizer, noise)),
            "steps": steps_to_target(problem, optimizer, x0, tol, noise, max_steps),
        }
    study = batch_size_scaling(
        problem, ["gd", "momentum", "nesterov"], [noise.batch_size], tol, noise, x0, max_steps
    )
    for curve in study.curves:
        hp = curve.best[0]
        steps = curve.steps[0]
        floor = None
        if hp:
            optimizer = make_optimizer(curve.optimizer, **hp)
            floor = float_or_none(stationary_loss(problem, optimizer, noise))
        out[f"{curve.label} (tuned for the target)"] = {
            "hyperparameters": hp,
            "stationary_loss": floor,
            "steps": None if math.isnan(steps) else int(steps),
        }
    return out


def _render_noisy(noisy, noise, tol) -> None:
    from rich.table import Table

    table = Table(
        title=f"Under gradient noise ({noise.describe()}): the noise floor and the steps to "
        f"E f - f* <= {tol:g} (from x0 = ones)"
    )
    for col in ("method", "hyperparameters", "stationary E f - f*", "steps"):
        table.add_column(col, justify="left" if col in ("method", "hyperparameters") else "right")
    for label, p in noisy.items():
        hp = ", ".join(f"{k}={v:.4g}" for k, v in p["hyperparameters"].items()) or "-"
        floor = p["stationary_loss"]
        steps = p["steps"]
        table.add_row(
            label,
            hp,
            "inf (unstable)" if floor is None else f"{floor:.4g}",
            "never (floor above the target)" if steps is None else str(steps),
        )
    out_console().print(table)
