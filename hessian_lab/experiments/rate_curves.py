"""Rate curves: GD's contraction factors against the learning rate, and steps against kappa.

For a spectrum in ``[lambda_min, lambda_max]`` gradient descent contracts the mode of
eigenvalue ``lambda`` by ``r(lambda) = 1 - lr*lambda`` per step; the overall rate is
``R(lr) = max(|r(lambda_min)|, |r(lambda_max)|)``, smallest at ``lr* = 2/(lambda_min +
lambda_max)`` where ``R* = (kappa - 1)/(kappa + 1)``. The curves come from the theory bridge
(the spectral radius of each one-mode problem, batched over lr), ``lr*`` and ``R*`` from the
symbolic layer, and the measured rates from batched engine runs.

The second part sets steps to tolerance against kappa for GD at lr*, the optimal heavy
ball and Adam: measured (engine) and predicted (theory bridge) on one log-log plot.
"""

from __future__ import annotations

import numpy as np

from .. import GD, Adam, Momentum, Quadratic
from ..engine import run as engine_run
from ..theory import predict
from .base import BACKEND, ExperimentResult, as_int_or_none, quantities

NAME = "rate-curves"
TITLE = "Contraction factors of GD against lr, and steps to tolerance against kappa"
SPECTRUM = (1.0, 5.0)
KAPPAS = (10.0, 100.0, 1000.0)
RATE_STEPS = 60  # steps over which the measured rate is taken
STEPS_DIM = 10  # dimension of the geometric-spectrum problems of the kappa study
TOL = 1e-6


def factor_curves(lambda_min: float, lambda_max: float, lr: np.ndarray) -> dict[str, np.ndarray]:
    """``|r(lambda_min)|``, ``|r(lambda_max)|`` and ``R`` against ``lr``, from the theory bridge."""
    sweep = GD(lr=list(lr))

    def radius(eigenvalues) -> np.ndarray:
        return predict(Quadratic(eigenvalues), sweep, np.ones(len(eigenvalues)), max_steps=0).rate

    return {
        f"|r(lambda_min)|, lambda_min = {lambda_min:g}": radius([lambda_min]),
        f"|r(lambda_max)|, lambda_max = {lambda_max:g}": radius([lambda_max]),
        "R(lr) = max |r|": radius([lambda_min, lambda_max]),
    }


def symbols(label: str) -> str:
    """A curve's label with mathtext symbols for a figure (lambda, lr -> eta)."""
    for plain, math in (
        ("R(lr) = max |r|", r"$R(\eta) = \max_i |r(\lambda_i)|$"),
        ("|r(lambda_min)|", r"$|r(\lambda_{\min})|$"),
        ("|r(lambda_max)|", r"$|r(\lambda_{\max})|$"),
        ("lambda_min", r"$\lambda_{\min}$"),
        ("lambda_max", r"$\lambda_{\max}$"),
    ):
        label = label.replace(plain, math)
    return label


def measured_rates(problem, lr: np.ndarray, steps: int) -> np.ndarray:
    """Per-step contraction of ``||x - x*||`` over the last half of ``steps`` GD steps, per lr."""
    x0 = np.ones(problem.dim)
    result = engine_run(
        problem,
        GD(lr=list(lr)),
        x0,
        criterion="distance",
        tol=1e-300,
        max_steps=steps,
        record="x",
        backend=BACKEND,
    )
    distance = np.linalg.norm(result.x_history - problem.minimizer, axis=-1)  # (T+1, B)
    half = steps // 2
    with np.errstate(all="ignore"):
        rate = (distance[steps] / distance[half]) ** (1.0 / (steps - half))
    return np.where(result.status == "diverged", np.nan, rate)


def run(quick: bool = False) -> ExperimentResult:
    from .. import plots

    n_lr = 61 if quick else 241
    figures, table, data = {}, [], {"spectra": []}

    # Part 1: rate curves for [1, 5] and for kappa = 10, 100, 1000.
    for lambda_min, lambda_max in [SPECTRUM, *((1.0, k) for k in KAPPAS)]:
        problem = Quadratic([lambda_min, lambda_max])
        q = quantities(problem)
        lr = np.linspace(0.0, 1.2 * q["lr_max"], n_lr)[1:]
        curves = factor_curves(lambda_min, lambda_max, lr)
        label = f"{lambda_min:g}_{lambda_max:g}"
        entry = {
            "lambda_min": lambda_min,
            "lambda_max": lambda_max,
            "kappa": q["kappa"],
            "lr_opt": q["lr_opt"],
            "rate_opt": q["rate_opt"],
            "lr_max": q["lr_max"],
            "lr": lr,
            "curves": curves,
        }
        # measured rates at a sample of learning rates and at lr* itself, for every spectrum
        sample = lr[:: max(1, n_lr // 20)]
        measured = measured_rates(problem, np.append(sample, q["lr_opt"]), RATE_STEPS)
        entry["measured"] = {"lr": sample, "rate": measured[:-1]}
        entry["measured_rate_at_lr_opt"] = float(measured[-1])
        shown = entry["measured"]
        figures[f"rate_curves_{label}"] = plots.rate_curves(
            lr,
            {symbols(k): v for k, v in curves.items()},
            lr_opt=q["lr_opt"],
            rate_opt=q["rate_opt"],
            lr_max=q["lr_max"],
            title=rf"GD contraction factors, $\lambda \in$ [{lambda_min:g}, {lambda_max:g}] "
            rf"($\kappa$ = {q['kappa']:g})",
            measured=(shown["lr"], shown["rate"], f"measured (engine, {RATE_STEPS} steps)"),
        )
        data["spectra"].append(entry)
        table.append(
            {
                "lambda_min": lambda_min,
                "lambda_max": lambda_max,
                "kappa": q["kappa"],
                "lr_opt": q["lr_opt"],
                "rate_opt": q["rate_opt"],
                "lr_max": q["lr_max"],
                "measured_rate_at_lr_opt": entry.get("measured_rate_at_lr_opt"),
            }
        )
    first = data["spectra"][0]
    data["lr_opt"], data["rate_opt"] = first["lr_opt"], first["rate_opt"]

    # Part 2: steps to tolerance against kappa.
    kappas = np.array(KAPPAS) if quick else np.logspace(1, 3, 9)
    max_steps = 10_000 if quick else 40_000
    steps = {
        name: {"measured": [], "predicted": []} for name in ("GD at lr*", "optimal HB", "Adam")
    }
    steps_table = []
    for kappa in kappas:
        problem = Quadratic.from_condition(STEPS_DIM, float(kappa))
        q = quantities(problem)
        x0 = np.ones(STEPS_DIM)
        methods = {
            "GD at lr*": GD(lr=q["lr_opt"]),
            "optimal HB": Momentum(lr=q["lr_hb_opt"], beta=q["beta_hb_opt"]),
            "Adam": Adam(lr=q["lr_opt"]),
        }
        row = {"kappa": float(kappa)}
        for name, optimizer in methods.items():
            result = engine_run(
                problem, optimizer, x0, tol=TOL, max_steps=max_steps, backend=BACKEND
            )
            predicted = predict(problem, optimizer, x0, "loss", TOL, max_steps)
            measured = float(result.steps_to_tol[0])
            steps[name]["measured"].append(measured)
            steps[name]["predicted"].append(float(predicted.steps[0]))
            row[f"{name} steps"] = as_int_or_none(measured)
            if np.isfinite(predicted.steps[0]):  # Adam has no closed form: no column
                row[f"{name} predicted"] = as_int_or_none(float(predicted.steps[0]))
        steps_table.append(row)
    data["steps_vs_kappa"] = {
        "kappa": kappas,
        "dim": STEPS_DIM,
        "tol": TOL,
        "max_steps": max_steps,
        "methods": steps,
    }
    gd0, hb0 = steps["GD at lr*"]["measured"][0], steps["optimal HB"]["measured"][0]
    figures["steps_vs_kappa"] = plots.steps_curves(
        kappas,
        steps,
        r"condition number $\kappa$",
        "steps to loss tolerance",
        rf"Steps to f - f* $\leq$ {TOL:g} against $\kappa$ ({STEPS_DIM}-D geometric spectrum)",
        budget=max_steps,
        colors=plots.palette_of({"GD at lr*": "gd", "optimal HB": "momentum", "Adam": "adam"}),
        guides={
            r"guide slope 1: O($\kappa$)": (1.0, kappas[0], gd0),
            r"guide slope 1/2: O($\sqrt{\kappa}$)": (0.5, kappas[0], hb0),
        },
    )
    figures.update(lecture_figures(quick))
    notes = [
        f"lambda in [1, 5]: lr* = {data['lr_opt']:.6g}, R* = {data['rate_opt']:.6g} "
        "(symbolic layer); measured rate at lr* "
        f"{first['measured_rate_at_lr_opt']:.6g}.",
        "GD needs O(kappa) steps, the optimal heavy ball O(sqrt(kappa)); Adam has no closed form.",
    ]
    return ExperimentResult(
        NAME, TITLE, table, data, figures, notes, tables={"steps_vs_kappa": steps_table}
    )


def lecture_figures(quick: bool) -> dict:
    """GD's factor ``r(lambda)`` per mode for several lr on [1, 5], and heavy ball's
    ``(lr, beta)`` map of root types and stability on [1, 100] with measured steps."""
    from .. import plots

    lam = np.array(SPECTRUM)
    q = quantities(Quadratic(list(lam)))
    lrs = [0.5 * q["lr_opt"], q["lr_opt"], q["lr_max"], 1.15 * q["lr_max"]]
    factors = plots.factors_vs_eigenvalue(
        lam,
        lrs,
        title=rf"GD's factor per mode $r(\lambda) = 1 - \eta\lambda$ on "
        rf"$\lambda \in$ [{lam[0]:g}, {lam[1]:g}]",
        lr_names={q["lr_opt"]: r"$\eta^*$", q["lr_max"]: r"$\eta_{\max}$"},
    )
    valley = Quadratic([1.0, 100.0])
    qv = quantities(valley)
    lr = np.linspace(0.0005, 0.045, 24 if quick else 70)
    beta = np.linspace(0.0, 0.95, 20 if quick else 60)
    L, B = np.meshgrid(lr, beta)
    result = engine_run(
        valley,
        Momentum(lr=list(L.ravel()), beta=list(B.ravel())),
        np.ones(2),
        tol=TOL,
        max_steps=1500,
        backend=BACKEND,
    )
    steps = np.asarray(result.steps_to_tol, dtype=float).reshape(B.shape)
    hb_map = plots.heavy_ball_map(
        lr,
        beta,
        1.0,
        100.0,
        steps=steps,
        optimum=(qv["lr_hb_opt"], qv["beta_hb_opt"]),
        title=r"Heavy ball on $\lambda \in$ [1, 100]: roots of the slowest mode, stability "
        "and measured steps",
    )
    return {"factors_vs_lambda": factors, "heavy_ball_map": hb_map}


__all__ = ["run", "factor_curves", "measured_rates", "lecture_figures", "NAME", "TITLE"]
