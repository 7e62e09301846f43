"""Studies: the library calls behind the CLI's commands, each returning plain data.

Each study runs the engine (and the theory bridge where it applies) and returns a
dataclass; ``hessian-lab run | sweep | hutchinson`` render them, and experiments and
notebooks can call them as they are:

- :func:`compare`: several optimizers on one problem from one start -> each run's engine
  result next to the theory's predicted rate and steps;
- :func:`sweep`: one optimizer over a grid of one or two hyperparameters in ONE batched
  engine call -> per-point results and predictions, the fastest point, the theoretical
  optimum (from the catalog) and the stability boundary (predicted rate = 1);
- :func:`hutchinson_curve`: Hutchinson's estimate of ``diag H`` from N Rademacher probes,
  its error against N next to the derived standard deviation;
- :func:`stationary_start`: is a start point a stationary point that is not a minimizer?
- :func:`noisy_compare`: several optimizers under gradient noise, R noisy rows each -> the
  mean final loss and its standard error next to the exact expected loss;
- :func:`batch_size_scaling` (:mod:`hessian_lab.batch_scaling`): steps to a target
  expected loss against batch size, and the critical batch size.

    >>> import hessian_lab as hl
    >>> study = sweep(hl.steep_valley(), "gd", [Axis("lr", np.geomspace(1e-3, 0.03, 8), "log")],
    ...               x0=[0.0, 0.0])
    >>> round(study.boundary, 12), round(study.optimum["lr"], 6)   # lr_max = 2/100, lr* = 2/101
    (0.02, 0.019802)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from .batch_scaling import batch_size_scaling, critical_batch_size
from .finite import float_or_none, int_or_none

__all__ = [
    "Axis",
    "NoisyRun",
    "batch_size_scaling",
    "critical_batch_size",
    "noisy_compare",
    "ComparedRun",
    "Comparison",
    "EstimatorCurve",
    "SweepStudy",
    "compare",
    "hutchinson_curve",
    "stationary_start",
    "sweep",
    "theory_optimum",
]

#: points per axis of the fine grid on which a 2-D stability boundary is traced
BOUNDARY_POINTS = 240


# --------------------------------------------------------------------------- predictions
def _predict(problem, optimizer, x0, criterion, tol, max_steps, dtype="float64"):
    """``(steps (B,), rate (B,), note)`` from the theory bridge; NaN where it has none."""
    from .theory import predict

    try:
        p = predict(problem, optimizer, x0, criterion, tol, max_steps, dtype=dtype)
    except (ValueError, ArithmeticError, ImportError) as error:
        return None, None, f"no prediction: {error}"
    return np.asarray(p.steps, float), np.asarray(p.rate, float), p.note


def _quantities(problem) -> dict[str, float] | None:
    """The named theory quantities (``lr_opt``, ...) of a quadratic, else None."""
    if getattr(problem, "eigenvalues", None) is None:
        return None
    from .theory import named_quantities

    try:
        return {k: float(v) for k, v in named_quantities(problem).items()}
    except ValueError:
        return None


def _engine(problem, optimizer, x0, rule: Mapping[str, Any], **extra):
    """One engine call under the stopping ``rule`` (criterion, tol, max_steps, bound,
    backend; ``bound=None`` is the engine's default)."""
    from .engine import DEFAULT_BOUND
    from .engine import run as engine_run

    rule = dict(rule)
    if rule.get("bound") is None:
        rule["bound"] = DEFAULT_BOUND
    return engine_run(problem, optimizer, x0, **rule, **extra)


# --------------------------------------------------------------------------- compare
@dataclass
class ComparedRun:
    """One optimizer's run: the engine's one-row result and the theory's prediction."""

    label: str
    optimizer: Any
    result: Any  # RunResult with B = 1 (histories when recorded)
    predicted_steps: int | None  # None: no closed form, or not within max_steps
    predicted_rate: float | None
    prediction_note: str


@dataclass
class Comparison:
    """:func:`compare`'s result: ``runs`` in the order the optimizers were given."""

    x0: list[float]
    criterion: str
    tol: float
    max_steps: int
    runs: list[ComparedRun] = field(default_factory=list)


def compare(
    problem,
    optimizers: Mapping[str, Any],
    x0: Sequence[float],
    *,
    criterion: str = "loss",
    tol: float = 1e-6,
    max_steps: int = 10_000,
    bound: float | None = None,
    record: Sequence[str] = (),
    backend: Any = "numpy",
    progress: Callable[[str], Callable[[int, int], None] | None] | None = None,
) -> Comparison:
    """Run each of ``optimizers`` (label -> optimizer) on ``problem`` from ``x0``.

    ``progress(label)``, when given, returns the engine's progress callback for that run
    (or None): how a long run shows it is moving.

    Each run is its own engine call (B = 1) with the same stopping rule; where the theory
    bridge has a closed form (GD, heavy ball, Nesterov, Newton on a quadratic), the
    predicted steps and rate come with it.
    """
    out = Comparison([float(v) for v in x0], criterion, tol, max_steps)
    rule = dict(criterion=criterion, tol=tol, max_steps=max_steps, bound=bound, backend=backend)
    for label, optimizer in optimizers.items():
        report = None if progress is None else progress(label)
        result = _engine(problem, optimizer, x0, rule, record=record, progress=report)
        dtype = getattr(backend, "dtype", "float64")  # a Backend carries the run's dtype
        steps, rate, note = _predict(problem, optimizer, x0, criterion, tol, max_steps, dtype)
        out.runs.append(
            ComparedRun(
                label,
                optimizer,
                result,
                None if steps is None else int_or_none(steps[0]),
                None if rate is None else float_or_none(rate[0]),
                note,
            )
        )
    return out


# --------------------------------------------------------------------------- sweep
@dataclass
class Axis:
    """One swept hyperparameter: its ``name`` (``beta1``/``beta2`` for a part of ``betas``),
    its ``values`` and their ``scale`` (``"log"`` or ``"lin"``, for plots and boundaries)."""

    name: str
    values: Sequence[float]
    scale: str = "lin"

    def __post_init__(self) -> None:
        self.values = np.asarray(self.values, dtype=float)
        if self.values.ndim != 1 or self.values.size == 0:
            raise ValueError(f"axis {self.name!r}: values must be a non-empty 1-D sequence")
        if self.scale not in ("log", "lin"):
            raise ValueError(f"axis {self.name!r}: scale must be 'log' or 'lin'")


@dataclass
class SweepStudy:
    """:func:`sweep`'s result. Rows run over the grid with the first axis fastest.

    ``columns``: axis name -> ``(B,)`` values of each row; ``predicted_steps`` and
    ``predicted_rate``: ``(B,)`` (NaN where no prediction) or None when the theory has no
    closed form; ``best``: the fastest converged row (its index) or None; ``optimum``:
    axis name -> the theory's optimal value when every axis has one; ``boundary``: where
    the predicted rate crosses 1 - a value for one axis, ``(x, y, rate (ny, nx))`` on a
    fine grid for two - or None.
    """

    optimizer_name: str
    optimizer: Any  # the optimizer over the whole grid (vector hyperparameters)
    axes: list[Axis]
    columns: dict[str, np.ndarray]
    result: Any  # RunResult, one row per grid point
    predicted_steps: np.ndarray | None
    predicted_rate: np.ndarray | None
    prediction_note: str
    best: int | None
    optimum: dict[str, float] | None
    boundary: Any

    @property
    def shape(self) -> tuple[int, ...]:
        """``(n,)`` or ``(ny, nx)``: the grid as an array (second axis slowest)."""
        return tuple(a.values.size for a in reversed(self.axes))

    def row(self, i: int) -> dict[str, Any]:
        """Grid point ``i`` as plain values: axis values, the engine's row, predictions."""
        row = self.result.row(i)
        out: dict[str, Any] = {name: float(col[i]) for name, col in self.columns.items()}
        out.update(
            status=row["status"],
            steps=row["steps"],
            diverged_at=row["diverged_at"],
            final_loss=row["final_loss"],
            predicted_steps=None
            if self.predicted_steps is None
            else int_or_none(self.predicted_steps[i]),
            predicted_rate=None
            if self.predicted_rate is None
            else float_or_none(self.predicted_rate[i]),
        )
        return out


def grid_columns(axes: Sequence[Axis]) -> dict[str, np.ndarray]:
    """Each axis as a ``(B,)`` column of the grid, the first axis varying fastest."""
    mesh = np.meshgrid(*[a.values for a in axes], indexing="xy")
    return {a.name: m.ravel() for a, m in zip(axes, mesh, strict=True)}


def optimizer_over(name: str, fixed: Mapping[str, Any], columns: Mapping[str, Any]):
    """``name``'s optimizer with ``fixed`` hyperparameters and the swept ``columns``.

    A column named ``beta1`` or ``beta2`` sets one part of the pair ``betas``.
    """
    from .optimizers import make_optimizer

    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in fixed.items()}
    for key, column in columns.items():
        if key in ("beta1", "beta2"):
            betas = list(kwargs.get("betas", _default(name, "betas")))
            betas[0 if key == "beta1" else 1] = column
            kwargs["betas"] = tuple(betas)
        else:
            kwargs[key] = column
    return make_optimizer(name, **kwargs)


def _default(name: str, key: str):
    from . import catalog

    found = [f for f in fields(catalog.entry(name).load()) if f.name == key]
    if not found:
        raise ValueError(f"{name} has no hyperparameter {key!r}")
    return found[0].default


def theory_optimum(problem, name: str, axes: Sequence[Axis]) -> dict[str, float] | None:
    """Axis name -> the theory's optimal value (from the catalog's ``optimum``), when the
    problem is a quadratic and every axis has one; else None."""
    from . import catalog

    table = catalog.entry(name).optimum
    quantities = _quantities(problem)
    if not quantities or not all(a.name in table for a in axes):
        return None
    return {a.name: quantities[table[a.name]] for a in axes}


def _rate_of(problem, name, fixed, x0, columns) -> np.ndarray | None:
    _, rate, _ = _predict(problem, optimizer_over(name, fixed, columns), x0, "loss", 1.0, 0)
    return rate


def stability_boundary_1d(problem, name, fixed, axis: Axis, x0) -> float | None:
    """The axis value where the predicted rate first crosses 1, to float precision: the
    first sign change on the axis' points, then bisection on the predicted rate."""
    values = axis.values
    rate = _rate_of(problem, name, fixed, x0, {axis.name: values})
    if rate is None:
        return None
    above = np.isfinite(rate) & (rate >= 1)
    below = np.isfinite(rate) & (rate < 1)
    crossing = np.flatnonzero(below[:-1] & above[1:])
    if crossing.size == 0:
        return None
    low, high = float(values[crossing[0]]), float(values[crossing[0] + 1])
    for _ in range(80):
        middle = math.sqrt(low * high) if axis.scale == "log" and low > 0 else (low + high) / 2
        if middle in (low, high):
            break
        r = _rate_of(problem, name, fixed, x0, {axis.name: np.array([middle])})[0]
        low, high = (middle, high) if r < 1 else (low, middle)
    return high


def stability_map_2d(problem, name, fixed, axes: Sequence[Axis], x0, points=BOUNDARY_POINTS):
    """``(x, y, rate (ny, nx))``: the predicted rate on a fine grid over the axes' ranges
    (each on its own scale); its level 1 is the stability boundary. None without theory."""
    spaced = {"log": np.geomspace, "lin": np.linspace}
    fine = [Axis(a.name, spaced[a.scale](a.values[0], a.values[-1], points), a.scale) for a in axes]
    rate = _rate_of(problem, name, fixed, x0, grid_columns(fine))
    if rate is None or not np.any(np.isfinite(rate)):
        return None
    return fine[0].values, fine[1].values, rate.reshape(points, points)


def sweep(
    problem,
    name: str,
    axes: Sequence[Axis],
    x0: Sequence[float],
    *,
    fixed: Mapping[str, Any] | None = None,
    criterion: str = "loss",
    tol: float = 1e-6,
    max_steps: int = 10_000,
    bound: float | None = None,
    backend: Any = "numpy",
    progress: Callable[[int, int], None] | None = None,
    boundary: bool = True,
) -> SweepStudy:
    """Optimizer ``name`` over the grid of ``axes`` (one or two), in ONE engine call.

    ``fixed``: the other hyperparameters. ``boundary=False`` skips the stability
    boundary (it costs a fine grid of predictions for two axes).
    """
    axes = list(axes)
    if not 1 <= len(axes) <= 2:
        raise ValueError(f"a sweep takes one or two axes; got {len(axes)}")
    if len({a.name for a in axes}) != len(axes):
        raise ValueError("a sweep's axes need different names")
    fixed = dict(fixed or {})
    columns = grid_columns(axes)
    optimizer = optimizer_over(name, fixed, columns)
    rule = dict(criterion=criterion, tol=tol, max_steps=max_steps, bound=bound, backend=backend)
    result = _engine(problem, optimizer, x0, rule, progress=progress)
    steps, rate, note = _predict(problem, optimizer, x0, criterion, tol, max_steps)
    converged = np.flatnonzero(result.converged)
    best = int(converged[np.argmin(result.steps[converged])]) if converged.size else None
    edge = None
    if boundary and rate is not None:
        if len(axes) == 1:
            edge = stability_boundary_1d(problem, name, fixed, axes[0], x0)
        else:
            edge = stability_map_2d(problem, name, fixed, axes, x0)
    return SweepStudy(
        name,
        optimizer,
        axes,
        columns,
        result,
        steps,
        rate,
        note,
        best,
        theory_optimum(problem, name, axes),
        edge,
    )


# --------------------------------------------------------------------------- hutchinson
@dataclass
class EstimatorCurve:
    """:func:`hutchinson_curve`'s result, for a ``(d, d)`` matrix and N probes.

    ``truth``, ``estimate`` (the mean of all N probes), ``per_probe_std`` (the derived
    standard deviation of one probe's estimate, ``sqrt(sum_{j != i} H_ij^2)``),
    ``theoretical_std`` (of the N-probe mean, ``per_probe_std / sqrt(N)``) and
    ``empirical_std``: ``(d,)``. ``probes``: ``(k,)`` probe counts on a log scale up to N;
    ``rms``: the RMS error over the coordinates of the mean of the first n probes;
    ``reference``: its derived value ``sqrt(mean_i per_probe_std_i^2 / n)``.
    """

    truth: np.ndarray
    estimate: np.ndarray
    per_probe_std: np.ndarray
    theoretical_std: np.ndarray
    empirical_std: np.ndarray
    probes: np.ndarray
    rms: np.ndarray
    reference: np.ndarray


def hutchinson_curve(H, probes: int, seed: int = 0, points: int = 30) -> EstimatorCurve:
    """Hutchinson's diagonal estimate ``mean_s z_s * (H z_s)`` (Rademacher ``z``) of the
    symmetric ``H`` from ``probes`` probes, and its error against the number of probes.

    Probe ``s`` is the library's counter-based probe with seed ``s`` at step ``seed``: a
    larger ``probes`` extends the same sample.
    """
    from .hutchinson import diagonal_variance, hutchinson_diagonal
    from .optimizers.base import Oracle
    from .problems import Quadratic

    H = np.asarray(H, dtype=float)
    n = H.shape[0]
    eigenvalues, Q = np.linalg.eigh(H)
    oracle = Oracle(Quadratic(eigenvalues, rotation=Q))
    # one probe per row: the running means give the estimate for every N at once
    rows = hutchinson_diagonal(oracle, np.zeros((probes, n)), np.arange(probes), step=seed)
    samples = np.asarray(rows, dtype=float)
    truth = np.diag(H).copy()
    means = np.cumsum(samples, axis=0) / np.arange(1, probes + 1)[:, None]
    sigma = np.sqrt(diagonal_variance(H, "rademacher"))
    counts = np.unique(np.round(np.logspace(0, np.log10(probes), points)).astype(int))
    spread = samples.std(axis=0, ddof=1) / np.sqrt(probes) if probes > 1 else sigma * 0
    return EstimatorCurve(
        truth=truth,
        estimate=means[-1],
        per_probe_std=sigma,
        theoretical_std=sigma / np.sqrt(probes),
        empirical_std=spread,
        probes=counts,
        rms=np.sqrt(np.mean((means[counts - 1] - truth) ** 2, axis=1)),
        reference=np.sqrt(np.mean(sigma**2)) / np.sqrt(counts),
    )


# --------------------------------------------------------------------------- starts
def stationary_start(problem, x0: Sequence[float]) -> str | None:
    """Why ``x0`` is a trap, or None: a stationary point (``grad f(x0) = 0``) that is not a
    minimizer, where every gradient method takes zero steps and stays.

    "Not a minimizer" is decided from what the problem knows: its minima (``minima``,
    ``(m, d)``, or ``minimizer``), else its minimum value ``f*`` (``f(x0) > f*``), else the
    Hessian at ``x0`` (an eigenvalue ``< 0``: a saddle or a maximum). Undecided -> None.
    """
    X = np.asarray(x0, dtype=float)[None, :]
    value = float(problem.loss(X)[0])
    gradient = np.asarray(problem.grad(X), dtype=float)[0]
    if not (np.all(np.isfinite(gradient)) and np.isfinite(value)):
        return None
    if np.linalg.norm(gradient) > 1e-12 * (1.0 + abs(value)):
        return None
    scale = 1.0 + float(np.linalg.norm(X))
    from .engine import known_minimizers

    minima = known_minimizers(problem)
    if minima is not None:
        distance = np.linalg.norm(minima - X, axis=1).min()
        if distance <= 1e-9 * scale:
            return None
        why = f"the nearest minimizer is {distance:.3g} away"
    elif getattr(problem, "min_value", None) is not None:
        gap = value - float(problem.min_value)
        if gap <= 1e-12 * (1.0 + abs(value)):
            return None
        why = f"f(x0) is {gap:.3g} above the minimum"
    else:
        try:
            lowest = float(np.linalg.eigvalsh(np.asarray(problem.hessian(X), dtype=float)[0])[0])
        except (NotImplementedError, np.linalg.LinAlgError):
            return None
        if not lowest < 0:
            return None
        why = f"the Hessian there has the eigenvalue {lowest:.3g} < 0"
    shown = ", ".join(f"{v:g}" for v in X[0])
    return (
        f"x0 = ({shown}) is a stationary point (gradient 0) that is not a minimizer ({why}): "
        "gradient methods stay there"
    )


# --------------------------------------------------------------------------- noise
@dataclass
class NoisyRun:
    """One optimizer under gradient noise: ``rows`` runs of exactly ``max_steps`` steps.

    ``final`` ``(R,)``: each row's ``f(x_T) - f*``; ``mean`` and ``stderr`` (its standard
    error, ``std / sqrt(R)``) over the rows that stayed finite; ``diverged``: rows that left
    the box. ``expected`` and ``stationary``: the exact ``E f(x_T) - f*`` and its limit
    (linear methods on a quadratic; None otherwise, ``note`` says why). With ``record``:
    ``mean_curve``, ``stderr_curve`` ``(T + 1,)`` and ``expected_curve`` (or None).
    """

    label: str
    optimizer: Any
    final: np.ndarray
    mean: float | None
    stderr: float | None
    diverged: int
    expected: float | None
    stationary: float | None
    note: str
    mean_curve: np.ndarray | None = None
    stderr_curve: np.ndarray | None = None
    expected_curve: np.ndarray | None = None


def noisy_compare(
    problem,
    optimizers: Mapping[str, Any],
    x0: Sequence[float],
    noise,
    *,
    rows: int = 100,
    max_steps: int = 1_000,
    bound: float | None = None,
    record: bool = False,
    backend: Any = "numpy",
) -> list[NoisyRun]:
    """Each optimizer (label -> optimizer) from ``x0`` on ``rows`` noise realisations.

    Every row runs exactly ``max_steps`` steps (``tol = 0``); row r draws the noise of
    ``(noise.seed, r)``, so the rows are a Monte Carlo sample of ``f(x_T)``.
    """
    from .engine import run
    from .noisy_theory import expected_loss, stationary_loss

    if int(rows) < 1:
        raise ValueError(f"rows must be an integer >= 1; got {rows!r}")
    X0 = np.broadcast_to(np.asarray(x0, dtype=np.float64), (int(rows), problem.dim))
    f_star = getattr(problem, "min_value", None) or 0.0
    out = []
    for label, optimizer in optimizers.items():
        result = run(
            problem,
            optimizer,
            X0,
            tol=0,
            max_steps=max_steps,
            noise=noise,
            bound=1e12 if bound is None else bound,
            record=("loss",) if record else (),
            backend=backend,
        )
        final = result.final_loss - f_star
        ok = np.isfinite(final) & ~result.diverged
        n = int(ok.sum())
        mean = float(final[ok].mean()) if n else None
        stderr = float(final[ok].std(ddof=1) / np.sqrt(n)) if n > 1 else None
        entry = NoisyRun(
            label,
            optimizer,
            final,
            mean,
            stderr,
            int(result.diverged.sum()),
            None,
            None,
            "exact: mean and covariance recursions per eigen-mode",
        )
        try:
            entry.expected = float(expected_loss(problem, optimizer, x0, max_steps, noise))
            entry.stationary = float(stationary_loss(problem, optimizer, noise))
            if record:
                steps = np.arange(max_steps + 1)
                entry.expected_curve = expected_loss(problem, optimizer, x0, steps, noise)
        except ValueError as error:
            entry.note = str(error)  # "no exact expected loss for adam (...)", etc.
        if record:
            history = result.loss_history - f_star
            live = np.isfinite(history[-1]) & ~result.diverged
            if live.any():
                entry.mean_curve = history[:, live].mean(axis=1)
                if live.sum() > 1:
                    entry.stderr_curve = history[:, live].std(axis=1, ddof=1) / np.sqrt(live.sum())
        out.append(entry)
    return out
