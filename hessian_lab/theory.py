"""The theory bridge: a quadratic's spectrum and an optimizer -> predicted rate and steps.

The linear methods (GD, heavy ball, Nesterov, Newton, exact diagonal Newton) act on a
quadratic's error ``e = x - c`` mode by mode. In a basis of modes ``e = V w`` every
coordinate follows the two-term recurrence of its method's iteration matrix
(:mod:`hessian_lab.recurrence`, generated from :mod:`hessian_lab.symbolic.rates`)

    w_{t+1} = a w_t - b w_{t-1},      w_{-1} = w_0  (the methods start at rest),

at ``h = lr * mu`` (``mu`` the mode's eigenvalue: of H, or of ``diag(H)^-1 H`` for diagonal
Newton; Newton is GD's matrix at ``h = lr`` on every mode with ``mu != 0``). Its solution
is closed-form,

    w_t = w_0 (U_t - b U_{t-1}),    U_t = sum_{k=0}^{t} r1^k r2^(t-k),

with ``U_t`` evaluated continuously through both double roots (:func:`u_powers`).

The criteria
follow from ``w_t``: ``||e||``, ``1/2 e^T H e`` and ``||H e||``. Predicted steps are the
first t where the criterion holds — exact, not the bound ``log(tol/e0)/log(R)``. The
rate is the spectral radius ``max |r1|`` over the whole spectrum. Adaptive methods have no
closed form and are reported as such rather than guessed.

Under gradient noise, :func:`expected_loss` (``E f(x_t) - f*`` at given steps) and
:func:`stationary_loss` (its limit) live in :mod:`hessian_lab.noisy_theory` and are
reachable from here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import catalog
from .backend import to_numpy
from .optimizers import DiagonalNewton, Newton, Optimizer, PreconditionedGD
from .optimizers.newton import pinv_cutoff
from .recurrence import Recurrence, Roots, recurrence, u_powers

__all__ = [
    "Prediction",
    "predict",
    "predicted_path",
    "named_quantities",
    "optimum_predictions",
    "LINEAR_METHODS",
]
#: under gradient noise, ``theory.expected_loss`` and ``theory.stationary_loss``:
#: :mod:`hessian_lab.noisy_theory` (loaded on first use)
_NOISY = ("expected_loss", "stationary_loss")


def __getattr__(name: str):
    if name in _NOISY:
        from . import noisy_theory

        return getattr(noisy_theory, name)
    raise AttributeError(f"module 'hessian_lab.theory' has no attribute {name!r}")


LINEAR_METHODS = tuple(e.name for e in catalog.BUILTIN if e.iteration_matrix)
_CHUNK = 256
_MAX_WORK = 2e8


@dataclass(frozen=True)
class Prediction:
    """Predicted ``rate`` ``(B,)`` (per-step contraction) and ``steps`` ``(B,)`` float.

    ``steps`` is NaN where the criterion is never met within ``max_steps`` (or no closed form
    exists); ``note`` says which theory was used, or why there is none.
    """

    rate: np.ndarray
    steps: np.ndarray
    note: str

    @property
    def available(self) -> bool:
        return bool(np.any(np.isfinite(self.rate)))


def _column(value, batch: int) -> np.ndarray:
    """A hyperparameter (scalar or length-B) as a ``(B, 1)`` float array."""
    return np.broadcast_to(np.asarray(to_numpy(value), dtype=np.float64).reshape(-1, 1), (batch, 1))


def _unavailable(batch: int, note: str) -> Prediction:
    nan = np.full(batch, np.nan)
    return Prediction(nan, nan.copy(), note)


def _iteration_matrix(optimizer: Optimizer) -> str | None:
    """The catalog's name for the iteration matrix a method follows per mode (or None)."""
    try:
        return catalog.entry(optimizer.name).iteration_matrix
    except ValueError:  # not in the catalog
        return None


def _recurrence(optimizer: Optimizer, mu: np.ndarray, batch: int) -> Recurrence:
    """Every mode's recurrence ``(B, m)`` (see module doc)."""
    lr = _column(optimizer.lr, batch)
    beta = _column(getattr(optimizer, "beta", 0.0), batch)
    if isinstance(optimizer, Newton):  # x -= lr H^+ g: GD at h = lr on every mode H^+ keeps
        mu = np.where(_dropped_by_pinv(mu), 0.0, 1.0)
    return recurrence(_iteration_matrix(optimizer), lr, beta, mu)


def _dropped_by_pinv(mu: np.ndarray) -> np.ndarray:
    """The modes Newton's pseudo-inverse treats as null: ``|mu| <= d eps64 max|mu|``
    (:func:`~hessian_lab.optimizers.newton.pinv_cutoff`), exact zeros included."""
    size = np.abs(mu)
    return size <= pinv_cutoff(mu.shape[-1]) * size.max(axis=-1, keepdims=True)


def _newton_resolution_note(problem, optimizer) -> str | None:
    """Why Newton cannot converge where float64 cannot resolve H's spread, or None."""
    if not isinstance(optimizer, Newton) or not hasattr(problem, "spectrum"):
        return None
    mu = np.asarray(problem.spectrum, dtype=np.float64)
    lost = _dropped_by_pinv(mu) & (mu != 0)
    if not lost.any():
        return None
    cutoff = pinv_cutoff(mu.size)
    return (
        f"Newton's pseudo-inverse drops the {int(lost.sum())} eigenvalue(s) below "
        f"d*eps*lambda_max = {cutoff * np.abs(mu).max():.3g} (kappa >= 1/(d eps) = "
        f"{1 / cutoff:.3g} is beyond float64's resolution of H): those modes are never "
        "corrected, so no convergence is predicted unless the start has no error along them"
    )


def preconditioner_power(optimizer) -> float | None:
    """``p`` of a method preconditioned by ``diag(H)^-p`` (diagonal Newton: 1), else None.

    Raises ValueError for per-row powers: the modes would differ from row to row.
    """
    if isinstance(optimizer, DiagonalNewton):
        return 1.0
    if isinstance(optimizer, PreconditionedGD):
        power = np.asarray(to_numpy(optimizer.power), dtype=np.float64).reshape(-1)
        if power.size != 1:
            raise ValueError("no closed form for a per-row preconditioner power")
        return float(power[0])
    return None


def _modes(problem, optimizer):
    """Mode eigenvalues ``mu`` (m,), basis V (d, m) with ``e = V w``, and if V is orthonormal;
    or the reason there are none.

    A method preconditioned by ``P = diag(H)^-p`` moves ``e`` by ``I - lr P H``, which is
    ``P^(1/2) (I - lr M) P^(-1/2)`` with ``M = P^(1/2) H P^(1/2)`` symmetric: its modes are
    ``M = U diag(mu) U^T`` and ``V = P^(1/2) U`` (orthonormal only when ``p = 0``).
    """
    try:
        power = preconditioner_power(optimizer)
    except ValueError as error:
        return str(error)
    if power is not None and power != 0:
        if np.any(problem.hessian_matrix_diagonal <= 0):
            return "no closed form: diag(H) has a non-positive entry"
        if problem.axis_aligned:
            return problem.spectrum ** (1 - power), None, True
        H = problem.hessian_matrix
        scale = np.diag(H) ** (-power / 2)
        mu, U = np.linalg.eigh(scale[:, None] * H * scale[None, :])
        return mu, scale[:, None] * U, False
    if problem.axis_aligned:
        return problem.spectrum, None, True
    return problem.spectrum, problem.Q, True


def _criterion_values(W, problem, V, orthonormal, criterion):
    """Criterion ``(T, B)`` from mode coordinates ``W`` ``(T, B, m)``."""
    if orthonormal:
        lam = problem.spectrum
        weights = {"distance": 1.0, "loss": lam / 2, "grad": lam * lam}[criterion]
        total = np.sum(weights * W * W, axis=-1)
    else:
        E = W @ V.T
        if criterion == "distance":
            total = np.sum(E * E, axis=-1)
        else:
            HE = E @ problem.hessian_matrix
            total = np.sum(E * HE, axis=-1) / 2 if criterion == "loss" else np.sum(HE * HE, -1)
    return total if criterion == "loss" else np.sqrt(total)


@dataclass(frozen=True)
class _LinearModel:
    """A linear method on a quadratic, mode by mode: start coordinates and recurrence roots."""

    problem: object
    V: np.ndarray | None
    orthonormal: bool
    W0: np.ndarray  # (B, m) start error in mode coordinates
    a: np.ndarray  # (B, m)
    b: np.ndarray  # (B, m)
    roots: Roots

    @property
    def rate(self) -> np.ndarray:
        return np.max(self.roots.radius, axis=1)

    def modes(self, t: np.ndarray, rows=slice(None)) -> np.ndarray:
        """Mode coordinates ``w_t`` ``(T, B, m)`` in closed form at any steps ``t`` ``(T,)``."""
        U = u_powers(self.roots.take(rows), np.concatenate([t - 1, t]))
        return self.W0[rows] * (U[t.size :] - self.b[rows] * U[: t.size])

    def criterion(self, criterion: str, t: np.ndarray, rows=slice(None)) -> np.ndarray:
        """The criterion's value ``(T, B)`` at the steps ``t`` ``(T,)`` (rows selectable)."""
        return _criterion_values(
            self.modes(t, rows), self.problem, self.V, self.orthonormal, criterion
        )

    def stretch(self, criterion: str, start: int, count: int, rows) -> np.ndarray:
        """The criterion ``(count, B)`` at steps ``start, start + 1, ...``: anchored.

        The closed form gives ``w`` at ``start - 1`` and ``start``; the recurrence
        ``w_{t+1} = a w_t - b w_{t-1}`` carries it on for the rest of the stretch (a few
        multiply-adds per step instead of powers and sines), so rounding never runs for
        more than one stretch.
        """
        a, b = self.a[rows], self.b[rows]
        previous, current = self.modes(np.array([start - 1, start]), rows)
        if start == 0:
            previous = current  # the methods start at rest: w_{-1} = w_0
        W = np.empty((count, *current.shape))
        W[0] = current
        for k in range(1, count):
            previous, current = current, a * current - b * previous
            W[k] = current
        return _criterion_values(W, self.problem, self.V, self.orthonormal, criterion)


def _linear_model(problem, optimizer: Optimizer, x0) -> _LinearModel | str:
    """The mode model of this run, or the reason there is none."""
    X0 = np.atleast_2d(np.asarray(to_numpy(x0), dtype=np.float64))
    batch = max(optimizer.batch_size(), X0.shape[0])
    if not hasattr(problem, "spectrum"):
        return "no closed form: not a quadratic"
    if _iteration_matrix(optimizer) is None:
        return f"no closed form for {optimizer.name} (adaptive method)"
    if np.any(_column(getattr(optimizer, "weight_decay", 0.0), batch) != 0):
        return "no closed form with weight_decay"
    modes = _modes(problem, optimizer)
    if isinstance(modes, str):
        return modes
    mu, V, orthonormal = modes
    E0 = np.broadcast_to(X0 - problem.center, (batch, problem.dim))
    if V is None:
        W0 = E0
    elif orthonormal:
        W0 = E0 @ V
    else:
        W0 = np.linalg.solve(V, E0.T).T
    rec = _recurrence(optimizer, mu[None, :], batch)
    return _LinearModel(problem, V, orthonormal, W0, rec.a, rec.b, Roots.of(rec))


def predicted_path(problem, optimizer: Optimizer, x0, criterion: str, steps) -> np.ndarray:
    """The criterion's predicted value ``(T, B)`` at ``steps`` ``(T,)`` for a linear method.

    Raises ValueError (saying why) where there is no closed form.
    """
    model = _linear_model(problem, optimizer, x0)
    if isinstance(model, str):
        raise ValueError(model)
    with np.errstate(all="ignore"):
        return model.criterion(criterion, np.asarray(steps, dtype=np.int64).reshape(-1))


def predict(
    problem,
    optimizer: Optimizer,
    x0,
    criterion: str = "loss",
    tol: float = 1e-6,
    max_steps: int = 10_000,
    dtype: str = "float64",
) -> Prediction:
    """Predicted rate and steps to ``tol`` for every row of a run (see module doc).

    Args mirror :func:`hessian_lab.engine.run`; ``x0`` is ``(d,)`` or ``(B, d)``. The
    prediction is exact arithmetic; with ``dtype="float32"`` Newton gets none where
    rounding H moves its smallest eigenvalue by more than 0.1 % (``eps32 kappa >= 1e-3``):
    the measured steps then depend on rounding, not on the theory.
    """
    model = _linear_model(problem, optimizer, x0)
    if not isinstance(model, str) and dtype == "float32" and isinstance(optimizer, Newton):
        lam = np.abs(problem.spectrum)
        spread = np.finfo(np.float32).eps * lam.max() / lam.min() if lam.min() > 0 else np.inf
        if spread >= 1e-3:
            model = (
                f"no exact prediction in float32: H rounded to float32 moves its smallest"
                f" eigenvalue by about eps*kappa = {spread:.2g} of itself"
            )
    if isinstance(model, str):
        X0 = np.atleast_2d(np.asarray(to_numpy(x0)))
        return _unavailable(max(optimizer.batch_size(), X0.shape[0]), model)
    batch = model.W0.shape[0]
    steps = np.full(batch, np.nan)
    if batch * problem.dim * (max_steps + 1) > _MAX_WORK:
        return Prediction(model.rate, steps, "rate only: too large to predict steps")
    pending = np.ones(batch, dtype=bool)
    with np.errstate(all="ignore"):
        for start in range(0, max_steps + 1, _CHUNK):
            t = np.arange(start, min(start + _CHUNK, max_steps + 1))
            value = model.stretch(criterion, start, t.size, pending)
            hit = value <= tol
            found = hit.any(axis=0)
            rows = np.flatnonzero(pending)
            steps[rows[found]] = t[np.argmax(hit[:, found], axis=0)]
            pending[rows[found]] = False
            # an unstable row whose criterion has overflowed never comes back down
            lost = ~found & ~np.isfinite(value[-1]) & (model.rate[rows] > 1)
            pending[rows[lost]] = False
            if not pending.any():
                break
    note = "exact: closed-form linear recurrence on the eigen-decomposition of the start error"
    return Prediction(model.rate, steps, _newton_resolution_note(problem, optimizer) or note)


def named_quantities(problem) -> dict[str, float]:
    """The named theory quantities of a problem's spectrum (``lr_opt``, ``lr_max``, ...).

    Defined from the extreme eigenvalues ``lambda_min``, ``lambda_max``; these are the
    names a hyperparameter expression may use (``0.175*lr_opt``, ``1.01*lr_max``).
    """
    from .formulas import theory_quantities

    eigenvalues = getattr(problem, "eigenvalues", None)
    if eigenvalues is None:
        raise ValueError("theory quantities need a problem with a known spectrum (a quadratic)")
    low, high = float(eigenvalues[0]), float(eigenvalues[-1])
    if not (low > 0 and math.isfinite(high)):
        raise ValueError(
            f"theory quantities need a positive spectrum; lambda_min = {low:g} is not > 0"
        )
    return theory_quantities(low, high)


def optimum_predictions(
    problem, quantities, x0, criterion: str = "loss", tol: float = 1e-6, max_steps: int = 10_000
) -> dict[str, dict]:
    """The predicted rate and steps at every theory point of the catalog (each method's
    optimum, Nesterov's textbook tuning, ...; :func:`hessian_lab.catalog.predicted_points`)
    whose quantities ``quantities`` has: label -> ``{"optimizer", "hyperparameters",
    "sources", "predicted_rate", "predicted_steps"}`` (None where not finite)."""
    from .finite import float_or_none, int_or_none
    from .optimizers import make_optimizer

    out = {}
    for label, name, texts in catalog.predicted_points():
        if not all(t in quantities for t in texts.values()):
            continue
        hp = {key: quantities[text] for key, text in texts.items()}
        p = predict(problem, make_optimizer(name, **hp), x0, criterion, tol, max_steps)
        out[label] = {
            "optimizer": name,
            "hyperparameters": hp,
            "sources": dict(texts),
            "predicted_rate": float_or_none(p.rate[0]),
            "predicted_steps": int_or_none(p.steps[0]),
        }
    return out
