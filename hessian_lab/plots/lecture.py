"""The standard lecture plots of first-order methods on a quadratic.

- :func:`factors_vs_eigenvalue`: GD's per-mode factor ``r(lambda) = 1 - lr*lambda`` against
  ``lambda`` for several learning rates, with the stable band ``|r| <= 1`` shaded and the
  problem's eigenvalues marked on every line;
- :func:`heavy_ball_map`: heavy ball's ``(lr, beta)`` plane coloured by the kind of roots of
  its slowest mode's characteristic polynomial ``z^2 - (1 + beta - lr*lambda) z + beta``
  (real, complex; the double-root curves ``beta = (1 - sqrt(lr*lambda))^2`` drawn) and by
  stability, with measured steps to tolerance as labelled contour lines over it;
- :func:`side_by_side`: several methods' paths in panels over the very same contours and
  view (GD next to momentum).

The rate curves with ``R*`` beside 1 and the steps-against-kappa guide slopes live in
:mod:`.curves` (:func:`~hessian_lab.plots.rate_curves`, :func:`~hessian_lab.plots.steps_curves`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .base import DIVERGED_COLOR, _legend_below, _title, new_figure, palette

#: region colours of the heavy-ball map
REAL_COLOR = "#c6dbef"  # distinct real roots: no oscillation
COMPLEX_COLOR = "#fdd0a2"  # complex roots: the mode spirals (rings)


def factors_vs_eigenvalue(
    eigenvalues: Sequence[float],
    lrs: Sequence[float],
    title: str = r"GD's factor per mode: $r(\lambda) = 1 - \eta\lambda$",
    lr_names: Mapping[float, str] | None = None,
):
    """``r(lambda) = 1 - lr*lambda`` against ``lambda`` for each learning rate in ``lrs``.

    The band ``-1 <= r <= 1`` (a mode shrinks) is shaded, the problem's ``eigenvalues`` are
    marked on every line (a mode outside the band diverges: drawn as an open red circle).
    ``lr_names`` gives a line a name (``{0.0198: "lr*"}``) besides its value.
    """
    lam = np.asarray(eigenvalues, dtype=float).reshape(-1)
    lrs = np.asarray(lrs, dtype=float).reshape(-1)
    top = float(lam.max()) * 1.15
    grid = np.linspace(0.0, top, 200)
    fig, ax = new_figure(figsize=(8.0, 5.0))
    ax.axhspan(-1.0, 1.0, color="#e5f5e0", zorder=0, label=r"$|r| \leq 1$: the mode shrinks")
    ax.axhline(0.0, color="gray", linewidth=0.8)
    colours = palette([f"lr {i}" for i in range(len(lrs))])
    names = lr_names or {}
    outside_marked = False
    for i, lr in enumerate(lrs):
        colour = colours[f"lr {i}"]
        name = next((v for k, v in names.items() if np.isclose(k, lr, rtol=1e-9)), None)
        label = rf"$\eta$ = {lr:.4g}" + (f" ({name})" if name else "")
        ax.plot(grid, 1 - lr * grid, color=colour, label=label)
        r = 1 - lr * lam
        inside = np.abs(r) <= 1 + 1e-12
        ax.plot(lam[inside], r[inside], "o", color=colour, markersize=7, zorder=4)
        if (~inside).any():
            ax.plot(
                lam[~inside],
                r[~inside],
                "o",
                markerfacecolor="none",
                markeredgecolor="red",
                markeredgewidth=2,
                markersize=10,
                zorder=5,
                label=None if outside_marked else r"a mode with $|r| > 1$: diverges",
            )
            outside_marked = True
    for i, value in enumerate(lam):
        ax.axvline(value, color="black", linestyle=":", linewidth=0.8,
                   label=r"the eigenvalues $\lambda_i$" if i == 0 else None)
    low = min(-1.6, float(1 - lrs.max() * lam.max()) - 0.2)
    ax.set_ylim(max(low, -4.0), 1.35)
    ax.set_xlim(0, top)
    ax.set_xlabel(r"eigenvalue $\lambda$")
    ax.set_ylabel(r"factor per step $r(\lambda) = 1 - \eta\lambda$")
    _title(fig, ax, title)
    ax.grid(True, alpha=0.3)
    _legend_below(fig)
    return fig


def heavy_ball_roots(lr, beta, lam):
    """``(kind, radius)`` of the heavy-ball recurrence of one mode, broadcast over arrays:
    ``x_{t+1} = (1 + beta - lr*lam) x_t - beta x_{t-1}``, roots of ``z^2 - (1 + beta -
    lr*lam) z + beta``. ``kind`` is 1 for distinct real roots, 0 for a double root
    (discriminant within ``1e-9``), -1 for complex ones; ``radius`` the larger ``|z|``."""
    b = 1 + np.asarray(beta, float) - np.asarray(lr, float) * lam
    c = np.asarray(beta, float) * np.ones_like(b)
    disc = b * b - 4 * c
    kind = np.where(np.abs(disc) <= 1e-9, 0, np.sign(disc)).astype(int)
    root = np.sqrt(np.abs(disc))
    real_radius = np.maximum(np.abs(b + root), np.abs(b - root)) / 2
    radius = np.where(disc >= 0, real_radius, np.sqrt(np.abs(c)))
    return kind, radius


def heavy_ball_map(
    lr: np.ndarray,
    beta: np.ndarray,
    lambda_min: float,
    lambda_max: float,
    steps: np.ndarray | None = None,
    optimum: tuple[float, float] | None = None,
    title: str = "Heavy ball: roots of the slowest mode, stability, measured steps",
):
    """Heavy ball's ``(lr, beta)`` plane for a spectrum in ``[lambda_min, lambda_max]``.

    Each cell is coloured by the roots of the mode with the larger root modulus (the one
    that sets the rate): real (blue), complex (orange), or red where that modulus is at
    least 1 (diverges). The double-root curves ``beta = (1 - sqrt(lr*lambda))^2`` of both
    extreme modes are drawn; ``steps`` ``(len(beta), len(lr))`` (NaN: never) are drawn as
    labelled contour lines; ``optimum`` ``(lr, beta)`` (Polyak's) as a star, where the two
    double-root curves meet.
    """
    from matplotlib.colors import ListedColormap
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    lr, beta = np.asarray(lr, float), np.asarray(beta, float)
    # the theory on a fine grid, whatever grid the steps were measured on
    L, B = np.meshgrid(
        np.linspace(lr.min(), lr.max(), 300), np.linspace(beta.min(), beta.max(), 300)
    )
    kinds, radii = zip(*(heavy_ball_roots(L, B, lam) for lam in (lambda_min, lambda_max)),
                       strict=True)
    slow = np.where(radii[1] >= radii[0], 1, 0)
    kind = np.where(slow == 1, kinds[1], kinds[0])
    radius = np.maximum(*radii)
    region = np.where(radius >= 1, 2, np.where(kind < 0, 1, 0)).astype(float)
    fig, ax = new_figure(figsize=(8.5, 5.6))
    ax.pcolormesh(L[0], B[:, 0], region, shading="nearest", vmin=0, vmax=2,
                  cmap=ListedColormap([REAL_COLOR, COMPLEX_COLOR, DIVERGED_COLOR]))
    handles = [
        Patch(color=REAL_COLOR, label="real roots: the slowest mode decays without ringing"),
        Patch(color=COMPLEX_COLOR, label=r"complex roots: it rings, $|z| = \sqrt{\beta}$"),
        Patch(color=DIVERGED_COLOR, label=r"$|z| \geq 1$: diverges"),
    ]
    fine = np.linspace(lr.min(), lr.max(), 400)
    for lam, style in ((lambda_min, "--"), (lambda_max, "-")):
        curve = (1 - np.sqrt(np.clip(fine * lam, 0, None))) ** 2
        keep = (fine * lam <= 4) & (curve >= beta.min()) & (curve <= beta.max())
        ax.plot(fine[keep], curve[keep], style, color="black", linewidth=1.5,
                label=rf"double root of $\lambda$ = {lam:g}")
    if steps is not None:
        z = np.asarray(steps, dtype=float)
        finite = z[np.isfinite(z)]
        if finite.size > 1 and finite.max() > finite.min():
            levels = np.unique(np.round(np.geomspace(max(finite.min() * 1.3, 1),
                                                     finite.max(), 5), -1))
            cs = ax.contour(lr, beta, np.where(np.isfinite(z), z, np.nan), levels=levels,
                            colors="dimgray", linewidths=1.0)
            ax.clabel(cs, fmt="%d", fontsize="small", inline_spacing=2)
            handles.append(Line2D([], [], color="dimgray", label="measured steps to tolerance"))
            best = np.unravel_index(np.nanargmin(z), z.shape)
            ax.plot(lr[best[1]], beta[best[0]], "D", color="none", markeredgecolor="magenta",
                    markeredgewidth=2, markersize=10,
                    label=f"fewest measured steps ({int(z[best])})")
    if optimum is not None:
        ax.plot(*optimum, "*", color="white", markeredgecolor="black", markersize=16,
                label=rf"Polyak's optimum ($\eta$ = {optimum[0]:.3g}, $\beta$ = {optimum[1]:.3g})")
    ax.set_xlim(lr.min(), lr.max())
    ax.set_ylim(beta.min(), beta.max())
    ax.set_xlabel(r"learning rate $\eta$")
    ax.set_ylabel(r"momentum $\beta$")
    _title(fig, ax, title)
    own, labels = ax.get_legend_handles_labels()
    _legend_below(fig, handles + own, [h.get_label() for h in handles] + labels)
    return fig


def side_by_side(
    problem,
    paths: Mapping[str, np.ndarray],
    start=None,
    minimizer=None,
    title: str = "Gradient descent and momentum on the same contours",
    labels: Sequence[str] = ("x1", "x2"),
    colors: Mapping[str, str] | None = None,
    diverged: Mapping[str, int | None] | None = None,
    resolution: int = 120,
):
    """One panel per method over the very same contours and view (the view of all the
    paths together), so the paths compare at a glance: GD's zigzag next to momentum's
    spiral. Arguments as :func:`~hessian_lab.plots.contour_paths`."""
    from .paths import contour_panels, view_box

    view = view_box(paths, start, minimizer, diverged)
    return contour_panels(problem, paths, start, minimizer, title, labels, resolution,
                          bounds=view, colors=colors, diverged=diverged)
