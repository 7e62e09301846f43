"""Hutchinson's diagonal estimator: error against the number of probes.

``D = mean_s z_s * (H z_s)`` is unbiased for ``diag H``. Per coordinate its variance is

    Rademacher:  Var_i = sum_{j != i} H_ij^2              (z_i^2 = 1 exactly)
    Gaussian:    Var_i = sum_{j != i} H_ij^2 + 2 H_ii^2   (z_i^2 fluctuates too)

divided by N averaged probes, so the RMS error over coordinates is
``sqrt(mean_i Var_i / N)``: a line of slope -1/2 on log-log axes. Block averaging (as in
AdaHessian) replaces each block of b entries by its mean: lower variance, at the price of
the bias ``diag H - block_mean(diag H)`` (of these signed estimates; AdaHessian averages
``|z * Hz|``, whose mean is not ``|H_ii|``, and so carries a further bias). The estimates
come from the library's estimator (one batched call per N: a row per trial), the
variances from the symbolic layer.
"""

from __future__ import annotations

import numpy as np

from .. import Quadratic
from ..hutchinson import (
    block_average,
    combination_variance,
    diagonal_variance,
    hutchinson_diagonal,
)
from .base import ExperimentResult

NAME = "hutchinson"
TITLE = "Hutchinson diagonal estimates: error against probes, Rademacher vs Gaussian, blocks"
DIM = 16
KAPPA = 10.0
BLOCK = 4
SEED = 7
PROBES = ("rademacher", "gaussian")


def test_matrix() -> Quadratic:
    """A randomly rotated 16-D quadratic of condition 10: a dense, symmetric Hessian."""
    return Quadratic.from_condition(DIM, KAPPA, rotation="random", seed=SEED)


def estimates(problem, probe: str, n_probes: int, trials: int, seed: int) -> np.ndarray:
    """``trials`` independent estimates of ``diag H`` from ``n_probes`` probes each, ``(T, d)``.

    The library's :func:`hutchinson_diagonal` with a row per trial; the rows get the seeds
    0, 1, ..., trials - 1 (independent probes) and ``seed`` picks the probes' step word, so
    each call draws a fresh, reproducible set.
    """
    X = np.zeros((trials, problem.dim))
    return hutchinson_diagonal(problem, X, np.arange(trials), n_probes, step=seed, probe=probe)


def block_matrix(d: int, block: int) -> np.ndarray:
    """The ``(d, d)`` matrix of :func:`block_average` (row i averages i's block)."""
    return np.asarray(block_average(np.eye(d), block)).T


def run(quick: bool = False) -> ExperimentResult:
    problem = test_matrix()
    H = problem.hessian_matrix
    truth = np.diag(H)
    P = block_matrix(DIM, BLOCK)
    block_truth = P @ truth
    n_list = 2 ** np.arange(0, 7 if quick else 11)
    trials = 100 if quick else 400
    curves: dict[str, dict[str, list]] = {}
    for probe in PROBES:
        var = diagonal_variance(H, probe)
        var_block = combination_variance(H, P, probe)
        bias = float(np.sqrt(np.mean((block_truth - truth) ** 2)))
        plain = {"measured": [], "theory": []}
        blocked = {
            "measured": [],
            "theory": [],
            "measured_vs_block_mean": [],
            "theory_vs_block_mean": [],
        }
        for i, n in enumerate(n_list):
            D = estimates(problem, probe, int(n), trials, seed=SEED + 1000 * i)
            Db = np.asarray(block_average(D, BLOCK))
            plain["measured"].append(_rms(D - truth))
            plain["theory"].append(float(np.sqrt(np.mean(var) / n)))
            blocked["measured"].append(_rms(Db - truth))
            blocked["theory"].append(float(np.sqrt(bias**2 + np.mean(var_block) / n)))
            blocked["measured_vs_block_mean"].append(_rms(Db - block_truth))
            blocked["theory_vs_block_mean"].append(float(np.sqrt(np.mean(var_block) / n)))
        curves[probe] = plain
        curves[f"{probe} + blocks of {BLOCK}"] = blocked
        curves[probe]["variance_per_probe"] = var
        curves[f"{probe} + blocks of {BLOCK}"]["bias"] = bias
    slopes = {name: _slope(n_list, values["measured"]) for name, values in curves.items()}
    table = []
    for i, n in enumerate(n_list):
        row = {"probes": int(n)}
        for name, values in curves.items():
            row[f"{name} error"] = values["measured"][i]
            row[f"{name} theory"] = values["theory"][i]
        table.append(row)
    from .. import plots

    figure = plots.hutchinson_error(
        n_list,
        curves,
        title=f"Hutchinson: {DIM}-D rotated H ($\\kappa$ = {KAPPA:g}), {trials} trials per point",
        ylabel="RMS error of the diag(H) estimate",
    )
    data = {
        "dim": DIM,
        "kappa": KAPPA,
        "block_size": BLOCK,
        "trials": trials,
        "probes": n_list,
        "diag": truth,
        "curves": curves,
        "slopes": slopes,
    }
    notes = [
        "log-log slopes of the measured error against N: "
        + ", ".join(f"{name} {slope:.3f}" for name, slope in slopes.items())
        + " (theory: -0.5 without blocks; blocks flatten at the bias).",
        "Gaussian probes add 2 H_ii^2 to every coordinate's variance: Rademacher is preferred.",
    ]
    return ExperimentResult(NAME, TITLE, table, data, {"error_vs_probes": figure}, notes)


def _rms(E: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.asarray(E) ** 2)))


def _slope(n, values) -> float:
    return float(np.polyfit(np.log(np.asarray(n, float)), np.log(np.asarray(values)), 1)[0])


__all__ = ["run", "estimates", "block_matrix", "test_matrix", "NAME", "TITLE"]
