"""Precision: GD at lr* on the steep valley in float64 and float32, distance criterion.

In exact arithmetic GD contracts mode i by ``|r_i| = |1 - lr*lambda_i|`` per step forever.
In floating point the iterate lives on a grid of spacing ``ulp(c_i) = eps * 2^floor(log2
|c_i|)`` near the minimizer c, and an update changes ``|e_i|`` by ``(1 - |r_i|) |e_i|``.
Once that change is below half a grid spacing the rounded iterate stops moving (or, for a
negative ``r_i``, locks into a 2-cycle), so the error stalls at

    floor_i = (ulp(c_i) / 2) / (1 - |r_i|),        floor = ||(floor_1, ..., floor_d)||,

machine epsilon over the contraction gap. The per-mode rates come from the theory bridge,
eps from the dtype; the runs come from the engine.
"""

from __future__ import annotations

import numpy as np

from .. import GD, Quadratic, steep_valley
from ..engine import run as engine_run
from ..theory import predict, predicted_path
from .base import BACKEND, ExperimentResult, as_int_or_none, first_index, quantities

NAME = "precision"
TITLE = "GD at lr* in float64 and float32: the rounding floor"
X0 = (0.0, 0.0)
TOL = 1e-12
DTYPES = ("float64", "float32")


def mode_rates(problem: Quadratic, optimizer) -> np.ndarray:
    """``|r_i|`` per eigenvalue of an axis-aligned quadratic, from the theory bridge."""
    return np.array(
        [
            predict(Quadratic([lam]), optimizer, [1.0], max_steps=0).rate[0]
            for lam in problem.spectrum
        ]
    )


def predicted_floor(problem: Quadratic, rates: np.ndarray, dtype: str) -> tuple[float, np.ndarray]:
    """The stalled distance ``||floor||`` and its per-coordinate parts (see module doc)."""
    eps = float(np.finfo(dtype).eps)
    c = np.abs(problem.center)
    ulp = eps * np.exp2(np.floor(np.log2(np.where(c > 0, c, 1.0))))
    parts = (ulp / 2) / (1.0 - rates)
    return float(np.linalg.norm(parts)), parts


def run(quick: bool = False) -> ExperimentResult:
    from .. import plots

    problem = steep_valley()
    q = quantities(problem)
    optimizer = GD(lr=q["lr_opt"])
    # long enough for float64 to reach its own floor too (about 1,700 steps at |r| = 0.98)
    max_steps = 2_400 if quick else 4_000
    rates = mode_rates(problem, optimizer)
    prediction = predict(problem, optimizer, X0, "distance", TOL, max_steps)
    table, histories, data = [], {}, {"runs": {}}
    for dtype in DTYPES:
        result = engine_run(  # no tolerance stops it: both runs go on to their floors
            problem,
            optimizer,
            X0,
            criterion="distance",
            tol=1e-300,
            max_steps=max_steps,
            record="x",
            backend=BACKEND,
            dtype=dtype,
        )
        distance = np.linalg.norm(result.x_history[:, 0, :] - problem.center, axis=1)
        histories[dtype] = distance
        floor, parts = predicted_floor(problem, rates, dtype)
        final = float(np.median(distance[-100:]))  # a 2-cycle at the floor: its median
        stall_step = first_index(distance <= 1.05 * float(np.max(distance[-100:])))
        row = {
            "dtype": dtype,
            "steps": first_index(distance <= TOL),
            "predicted_steps": as_int_or_none(float(prediction.steps[0])),
            "final_distance": final,
            "predicted_floor": floor,
            "final / floor": final / floor,
            "stall_step": stall_step,
            "machine_eps": float(np.finfo(dtype).eps),
        }
        table.append(row)
        data["runs"][dtype] = {**row, "floor_parts": parts, "distance": distance}
    data.update(
        {
            "lr": q["lr_opt"],
            "mode_rates": rates,
            "rate": float(prediction.rate[0]),
            "tol": TOL,
            "max_steps": max_steps,
            "center": problem.center,
        }
    )
    steps = np.arange(max_steps + 1)
    fig = plots.distance_floor(
        {dtype: histories[dtype] for dtype in DTYPES},
        predicted_path(problem, optimizer, X0, "distance", steps)[:, 0],
        {row["dtype"]: row["predicted_floor"] for row in table},
        tol=TOL,
        title=r"GD at $\eta^*$ on the steep valley: the error stalls at "
        r"$(\mathrm{ulp}(x^*)/2) / (1 - |r|)$, "
        f"|r| = {data['rate']:.4f}",
    )
    single, double = table[1], table[0]
    notes = [
        f"float32 stalls at ||x - x*|| = {single['final_distance']:.3g} from step "
        f"{single['stall_step']}; predicted floor {single['predicted_floor']:.3g} "
        f"(ratio {single['final / floor']:.3f}).",
        f"float64 reaches the tolerance {TOL:g} in {double['steps']} steps (predicted "
        f"{double['predicted_steps']}) and stalls at {double['final_distance']:.3g} from step "
        f"{double['stall_step']}; predicted floor {double['predicted_floor']:.3g} "
        f"(ratio {double['final / floor']:.3f}).",
    ]
    return ExperimentResult(NAME, TITLE, table, data, {"distance": fig}, notes)


__all__ = ["run", "mode_rates", "predicted_floor", "NAME", "TITLE"]
