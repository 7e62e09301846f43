"""Momentum explorer: what (lr, beta, kappa) do to a heavy ball or Nesterov run, recomputed
for any values — the data and figure behind the slider notebook (``notebooks/08``).

The problem is the quadratic ``f(x) = 1/2 x^T diag(1, kappa) x`` (minimizer 0, eigenvalues
``mu = 1`` and ``L = kappa``, axis-aligned, so each coordinate of ``x_t`` is the error
``w_i(t)`` along one eigenvector), started at rest from ``x0 = (1, 1)``. Every mode
``lambda`` follows its own two-term recurrence, for the heavy ball

    w_{t+1} = (1 + beta - lr lambda) w_t - beta w_{t-1},

whose 2x2 iteration matrix ``T(lambda)`` has spectral radius ``r(lambda)``: the mode
shrinks like ``r(lambda)^t`` and the run converges iff ``r < 1`` at both eigenvalues
(``beta = 0`` is gradient descent, ``r = |1 - lr lambda|``). The radius comes from
:mod:`hessian_lab.recurrence` (the theory bridge's own), the path from the engine.

:func:`momentum_view` is pure (parameters -> :class:`MomentumView`), :func:`momentum_figure`
draws a view, and :class:`MomentumExplorer` wires ipywidgets sliders to both (ipywidgets
is imported only there: ``pip install -e ".[notebooks]"``).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import numpy as np

from . import catalog
from .engine import run
from .optimizers import Momentum, Nesterov
from .problems import Quadratic
from .recurrence import recurrence

METHODS = {"momentum": (Momentum, "heavy_ball"), "nesterov": (Nesterov, "nesterov")}
X0 = (1.0, 1.0)
BOUND = 1e3  # a diverging run is stopped once |x_i| reaches this: three decades of growth
TOL = 1e-8  # converged: ||x_t - x*|| <= TOL
LAMBDA_POINTS = 400


@dataclass(frozen=True)
class MomentumView:
    """One (method, lr, beta, kappa) on the explorer's quadratic.

    ``path`` ``(T + 1, 2)``: the iterates ``x_0 .. x_T`` up to the run's last step (the
    errors ``w_i(t)`` along the eigenvectors ``e_1``, ``e_2``, since ``x* = 0``);
    ``lams`` ``(n,)`` a grid over ``[0, 1.25 max(kappa, lr_max)]`` and ``radius`` ``(n,)``
    the spectral radius ``r(lambda)`` there; ``mode_radius`` ``(2,)`` ``r`` at the two
    eigenvalues ``(1, kappa)``.
    """

    method: str
    lr: float
    beta: float
    kappa: float
    path: np.ndarray
    status: str
    steps: int
    lams: np.ndarray
    radius: np.ndarray
    mode_radius: np.ndarray

    @property
    def eigenvalues(self) -> np.ndarray:
        return np.array([1.0, self.kappa])

    @property
    def rate(self) -> float:
        """The run's asymptotic rate: the largest ``r`` over the problem's eigenvalues."""
        return float(self.mode_radius.max())

    @property
    def lr_max(self) -> float:
        """The largest stable ``lr`` on this problem: ``2(1 + beta)/L`` (heavy ball),
        ``2(1 + beta)/((1 + 2 beta) L)`` (Nesterov)."""
        boost = 1 + 2 * self.beta if self.method == "nesterov" else 1.0
        return 2 * (1 + self.beta) / (boost * self.kappa)

    def summary(self) -> str:
        name = "heavy ball" if self.method == "momentum" else "Nesterov"
        head = f"{name}, lr = {self.lr:.4g}, β = {self.beta:.2f}, κ = {self.kappa:.3g}: "
        if self.status == "converged":
            tail = f"converged after {self.steps} steps"
        elif self.status == "diverged":
            tail = f"diverged at step {self.steps}"
        else:
            tail = f"not converged after {self.steps} steps"
        return head + tail + f"; rate R = {self.rate:.4f}, largest stable lr {self.lr_max:.4g}"


def _check(lr: float, beta: float, kappa: float, method: str, steps: int) -> None:
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
    if not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a finite number > 0; got {lr!r}")
    if not (math.isfinite(beta) and 0 <= beta < 1):
        raise ValueError(f"beta must be in [0, 1); got {beta!r}")
    if not (math.isfinite(kappa) and kappa >= 1):
        raise ValueError(f"kappa must be a finite number >= 1; got {kappa!r}")
    if not (isinstance(steps, int) and steps >= 1):
        raise ValueError(f"steps must be an integer >= 1; got {steps!r}")


def momentum_view(
    lr: float, beta: float, kappa: float, method: str = "momentum", steps: int = 200
) -> MomentumView:
    """Run ``method`` (``"momentum"``: heavy ball, or ``"nesterov"``) for at most ``steps``
    updates on ``diag(1, kappa)`` from ``(1, 1)`` and compute ``r(lambda)`` (module doc).

    ``ValueError`` naming the input for ``lr <= 0``, ``beta`` outside ``[0, 1)``,
    ``kappa < 1`` or another method.

        >>> view = momentum_view(lr=0.1, beta=0.0, kappa=10.0)     # GD: r = |1 - lr lambda|
        >>> view.status, view.steps, [round(float(r), 6) for r in view.mode_radius]
        ('converged', 175, [0.9, 0.0])
    """
    lr, beta, kappa = float(lr), float(beta), float(kappa)
    _check(lr, beta, kappa, method, steps)
    cls, matrix = METHODS[method]
    problem = Quadratic([1.0, kappa])
    result = run(
        problem,
        cls(lr=lr, beta=beta),
        list(X0),
        criterion="distance",
        tol=TOL,
        max_steps=steps,
        bound=BOUND,
        record="x",
    )
    last = int(result.steps[0])
    view_top = 1.25 * max(kappa, 2 * (1 + beta) / lr)  # the grid reaches past lr_max's lambda
    lams = np.linspace(0.0, view_top, LAMBDA_POINTS)
    return MomentumView(
        method=method,
        lr=lr,
        beta=beta,
        kappa=kappa,
        path=np.array(result.x_history[: last + 1, 0, :]),
        status=str(result.status[0]),
        steps=last,
        lams=lams,
        radius=recurrence(matrix, lr, beta, lams).radius,
        mode_radius=recurrence(matrix, lr, beta, np.array([1.0, kappa])).radius,
    )


MODE_STYLE = ({"color": "0.25", "label": "flat mode, λ = 1"}, {"label": "steep mode"})


def momentum_figure(view: MomentumView):
    """Three panels: the path on the contours of ``f``, ``|w_i(t)|`` per eigen-direction
    (log scale, with the guides ``r(lambda_i)^t``), and ``r(lambda)`` with the ``|r| = 1``
    line, the problem's two eigenvalues marked on it. Landscape (2:1)."""
    from .plots import new_figure

    fig, _ = new_figure(figsize=(11.0, 5.5), axes=False)
    grid = fig.add_gridspec(2, 2, width_ratios=(1.0, 1.15))
    ax_path = fig.add_subplot(grid[:, 0])
    ax_modes = fig.add_subplot(grid[0, 1])
    ax_rate = fig.add_subplot(grid[1, 1])
    colour = catalog.entry(view.method).color
    styles = [dict(MODE_STYLE[0]), {**MODE_STYLE[1], "color": colour}]
    styles[1]["label"] = f"steep mode, λ = κ = {view.kappa:.3g}"
    _draw_path(ax_path, view, colour)
    _draw_modes(ax_modes, view, styles)
    _draw_rate(ax_rate, view, styles)
    fig.suptitle(view.summary())
    return fig


def _draw_path(ax, view: MomentumView, colour) -> None:
    """The square view ``[-h, h]^2`` (equal aspect) around the minimizer that holds the
    whole path of a converging run, or a diverging run's first steps up to ``|x_i| = 4``
    (its growth, before it leaves the view)."""
    size = np.abs(view.path).max(axis=1)
    shown = (
        view.path
        if view.status != "diverged"
        else view.path[: max(3, int(np.argmax(size > 4)) + 1)]
    )
    half = max(1.2, 1.1 * float(np.abs(shown).max()))
    grid = np.linspace(-half, half, 161)
    X, Y = np.meshgrid(grid, grid)
    F = 0.5 * (X**2 + view.kappa * Y**2)
    levels = np.geomspace(1e-3, F.max(), 12)
    ax.contour(X, Y, F, levels=levels, colors="0.75", linewidths=0.8)
    ax.plot(*view.path.T, "-o", color=colour, ms=2.5, lw=1.2, label="path x_t")
    ax.plot(*X0, "o", color="black", ms=7, label="start")
    ax.plot(0, 0, "*", color="red", ms=12, label="minimizer")
    ax.set_xlim(-half, half)
    ax.set_ylim(-half, half)
    ax.set_aspect("equal")
    ax.set_xlabel("x1 (eigenvalue 1)")
    ax.set_ylabel(f"x2 (eigenvalue κ = {view.kappa:.3g})")
    leaves = " (leaves the view)" if view.status == "diverged" else ""
    ax.set_title("Path on the contours of f" + leaves)
    ax.legend(loc="lower left", fontsize="small")


def _draw_modes(ax, view: MomentumView, styles) -> None:
    t = np.arange(view.path.shape[0])
    w = np.abs(view.path)
    floor = max(1e-12, 0.3 * float(w[w > 0].min())) if np.any(w > 0) else 1e-12
    for i, style in enumerate(styles):
        ax.semilogy(t, np.maximum(w[:, i], floor), lw=1.5, **style)
        guide = np.abs(X0[i]) * view.mode_radius[i] ** t
        ax.semilogy(t, np.maximum(guide, floor), "--", lw=0.9, color=style["color"])
    ax.plot([], [], "--", color="0.4", lw=0.9, label="guide r(λ_i)^t")
    ax.set_ylim(floor, max(10.0, float(w.max()) * 2))
    ax.set_xlabel("step t")
    ax.set_ylabel("|w_i(t)|")
    ax.set_title("Error along each eigenvector")
    ax.legend(loc="best", fontsize="small")


def _draw_rate(ax, view: MomentumView, styles) -> None:
    top = max(1.5, float(min(view.radius.max(), 3.0)) * 1.05)
    ax.axhspan(1.0, top, color="red", alpha=0.08, label="|r| > 1: diverges")
    ax.axhline(1.0, color="red", lw=1)
    ax.plot(view.lams, view.radius, color="black", lw=1.4, label="r(λ)")
    for lam, r, style in zip(view.eigenvalues, view.mode_radius, styles, strict=True):
        ax.plot(lam, min(r, top), "o", ms=8, color=style["color"], clip_on=False)
    if (
        view.beta > 0 and view.method == "momentum"
    ):  # heavy ball: complex roots have |z| = sqrt(beta)
        ax.axhline(math.sqrt(view.beta), color="0.5", ls=":", lw=1, label="√β: complex roots")
    ax.set_ylim(0, top)
    ax.set_xlim(0, view.lams[-1])
    ax.set_xlabel("eigenvalue λ")
    ax.set_ylabel("r(λ)")
    ax.set_title(f"Rate per mode; R = {view.rate:.4f} at the dots")
    ax.legend(loc="upper left", fontsize="small")


class MomentumExplorer:
    """ipywidgets sliders for ``lr`` (log scale), ``beta`` and ``kappa`` (log scale) and a
    heavy ball / Nesterov toggle; every change recomputes :func:`momentum_view` and redraws
    :func:`momentum_figure` into ``image`` (a PNG), so it works in any Jupyter front end.

        explorer = MomentumExplorer()
        display(explorer.widget)

    ``view`` and ``figure`` are the latest data and figure; :meth:`update` is the observer
    every control calls (tests call it by setting ``explorer.lr.value`` and so on).
    """

    def __init__(
        self,
        lr: float = 0.03,
        beta: float = 0.7,
        kappa: float = 100.0,
        method: str = "momentum",
        steps: int = 200,
    ):
        import ipywidgets as widgets

        _check(float(lr), float(beta), float(kappa), method, steps)
        self.steps = steps
        common = {"continuous_update": False, "layout": widgets.Layout(width="420px")}
        self.lr = widgets.FloatLogSlider(
            value=lr,
            base=10,
            min=-4,
            max=0,
            step=0.02,
            description="lr",
            readout_format=".4f",
            **common,
        )
        self.beta = widgets.FloatSlider(
            value=beta, min=0.0, max=0.99, step=0.01, description="β", **common
        )
        self.kappa = widgets.FloatLogSlider(
            value=kappa,
            base=10,
            min=0,
            max=3,
            step=0.05,
            description="κ",
            readout_format=".1f",
            **common,
        )
        self.method = widgets.ToggleButtons(
            options=[("heavy ball", "momentum"), ("Nesterov", "nesterov")], value=method
        )
        self.status = widgets.HTML()
        self.image = widgets.Image(format="png")
        for control in (self.lr, self.beta, self.kappa, self.method):
            control.observe(self.update, names="value")
        self.widget = widgets.VBox(
            [self.method, widgets.HBox([self.lr, self.beta, self.kappa]), self.status, self.image]
        )
        self.update()

    def update(self, change=None) -> MomentumView:
        """Recompute the view from the controls' values and redraw (the observer)."""
        self.view = momentum_view(
            self.lr.value, self.beta.value, self.kappa.value, self.method.value, self.steps
        )
        self.figure = momentum_figure(self.view)
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=90)
        self.image.value = buffer.getvalue()
        self.status.value = f"<b>{self.view.summary()}</b>"
        return self.view

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)
