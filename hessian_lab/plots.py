"""Figures: one function per kind, each returning a matplotlib ``Figure``.

Headless by construction: figures are built with the object-oriented API on an Agg canvas
(``matplotlib.figure.Figure`` + ``FigureCanvasAgg``), so nothing here opens a window,
touches pyplot's global state or changes styles at import. matplotlib itself is imported
inside the functions; importing this module is cheap.

    fig = contour_paths(problem, {"gd": xs_gd, "momentum": xs_hb})
    save_figure(fig, "valley.png")           # png / svg / pdf by extension, atomic

Inputs are plain arrays (NumPy or anything ``np.asarray`` accepts); no CLI logic lives here,
so the canned experiments and notebooks reuse the same figures.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from .files import atomic_write

__all__ = [
    "FORMATS",
    "new_figure",
    "contour_paths",
    "surface_paths",
    "loss_curves",
    "sweep_heatmap",
    "sweep_line",
    "rate_curves",
    "hutchinson_error",
    "sharpness_curves",
    "save_figure",
]

FORMATS = ("png", "svg", "pdf")


def new_figure(figsize=(7.0, 5.0), projection: str | None = None):
    """A ``Figure`` on an Agg canvas with one axes (``projection="3d"`` for surfaces)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    if projection == "3d":
        import mpl_toolkits.mplot3d  # noqa: F401  (registers the projection)

        ax = fig.add_subplot(projection="3d")
    else:
        ax = fig.add_subplot()
    return fig, ax


def _paths_box(paths: Mapping[str, np.ndarray], points: Sequence, margin: float = 0.15):
    pts = [np.asarray(p, dtype=float).reshape(-1, 2) for p in paths.values()]
    pts += [np.asarray(p, dtype=float).reshape(1, 2) for p in points if p is not None]
    allpts = np.concatenate(pts, axis=0) if pts else np.zeros((1, 2))
    allpts = allpts[np.all(np.isfinite(allpts), axis=1)]
    if allpts.size == 0:
        allpts = np.zeros((1, 2))
    low, high = allpts.min(axis=0), allpts.max(axis=0)
    span = np.maximum(high - low, 1e-3)
    return low - margin * span - 0.05, high + margin * span + 0.05


def _loss_grid(problem, low, high, n: int):
    xs = np.linspace(low[0], high[0], n)
    ys = np.linspace(low[1], high[1], n)
    gx, gy = np.meshgrid(xs, ys)
    points = np.stack([gx.ravel(), gy.ravel()], axis=1)
    with np.errstate(all="ignore"):
        values = np.asarray(problem.loss(points), dtype=float).reshape(n, n)
    return gx, gy, values


def _clip_paths(paths, low, high):
    """Paths that diverged are drawn up to where they leave the view box (x3)."""
    span = high - low
    out = {}
    for name, path in paths.items():
        p = np.asarray(path, dtype=float).reshape(-1, 2)
        inside = np.all(np.isfinite(p) & (np.abs(p - (low + high) / 2) <= 3 * span), axis=1)
        stop = int(np.argmin(inside)) if not inside.all() else len(p)
        out[name] = p[: max(stop, 1)]
    return out


def contour_paths(
    problem,
    paths: Mapping[str, np.ndarray],
    start=None,
    minimizer=None,
    title: str = "Loss contours and optimizer paths",
    labels: Sequence[str] = ("x1", "x2"),
    resolution: int = 200,
    bounds=None,
):
    """Log-spaced loss contours of a 2-D ``problem`` with every ``(T, 2)`` path drawn on them.

    ``start`` and ``minimizer`` (``(2,)``) are marked; ``bounds`` is ``((x_lo, y_lo), (x_hi,
    y_hi))``, by default a box around the paths.
    """
    from matplotlib.colors import LogNorm

    low, high = _paths_box(paths, [start, minimizer]) if bounds is None else map(np.asarray, bounds)
    fig, ax = new_figure()
    gx, gy, values = _loss_grid(problem, low, high, resolution)
    finite = values[np.isfinite(values)]
    floor = float(finite.min()) if finite.size else 0.0
    shifted = np.maximum(values - floor, 0) + 1e-300
    top = float(np.nanmax(shifted)) if finite.size else 1.0
    high_exp = int(np.ceil(np.log10(max(top, 1e-300))))
    levels = np.logspace(high_exp - 8, high_exp, 8 * 3 + 1)  # 3 levels a decade, 8 decades
    cs = ax.contourf(
        gx,
        gy,
        np.maximum(shifted, levels[0]),
        levels=levels,
        norm=LogNorm(),
        cmap="viridis",
        alpha=0.85,
    )
    ax.contour(gx, gy, shifted, levels=levels[::3], colors="white", linewidths=0.4, alpha=0.6)
    fig.colorbar(cs, ax=ax, label="loss - (min over view), log scale", ticks=levels[::3])
    for name, path in _clip_paths(paths, low, high).items():
        ax.plot(path[:, 0], path[:, 1], marker=".", markersize=3, linewidth=1.2, label=name)
    if start is not None:
        ax.plot(*np.asarray(start, float)[:2], "o", color="black", markersize=8, label="start")
    if minimizer is not None:
        ax.plot(
            *np.asarray(minimizer, float)[:2], "*", color="red", markersize=14, label="minimizer"
        )
    ax.set_xlim(low[0], high[0])
    ax.set_ylim(low[1], high[1])
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    ax.set_title(title)
    fig.legend(loc="outside right upper", fontsize="small")
    return fig


def surface_paths(
    problem,
    paths: Mapping[str, np.ndarray],
    start=None,
    minimizer=None,
    title: str = "Loss surface and optimizer paths",
    labels: Sequence[str] = ("x1", "x2"),
    resolution: int = 80,
    bounds=None,
):
    """The loss surface of a 2-D ``problem`` in 3-D with the paths lifted onto it."""
    low, high = _paths_box(paths, [start, minimizer]) if bounds is None else map(np.asarray, bounds)
    fig, ax = new_figure(figsize=(8.0, 6.0), projection="3d")
    gx, gy, values = _loss_grid(problem, low, high, resolution)
    ax.plot_surface(gx, gy, values, cmap="viridis", alpha=0.6, linewidth=0)
    for name, path in _clip_paths(paths, low, high).items():
        with np.errstate(all="ignore"):
            z = np.asarray(problem.loss(path), dtype=float)
        ax.plot(path[:, 0], path[:, 1], z, marker=".", markersize=2, linewidth=1.2, label=name)
    for point, style, name in ((start, "ko", "start"), (minimizer, "r*", "minimizer")):
        if point is not None:
            p = np.asarray(point, dtype=float).reshape(1, 2)
            ax.plot(
                p[:, 0],
                p[:, 1],
                np.asarray(problem.loss(p), float),
                style,
                markersize=9,
                label=name,
            )
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    ax.set_zlabel("loss")
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize="small")
    return fig


def loss_curves(
    histories: Mapping[str, np.ndarray],
    min_value: float | None = None,
    tol: float | None = None,
    title: str = "Loss against step",
    ylabel: str | None = None,
):
    """``f - f*`` (or ``f``) against the step for each run, on a log scale."""
    fig, ax = new_figure()
    for name, history in histories.items():
        h = np.asarray(history, dtype=float).reshape(-1)
        if min_value is not None:
            h = h - min_value
        h = np.where(h > 0, h, np.nan)
        ax.plot(np.arange(h.size), h, label=name, linewidth=1.3)
    if tol is not None:
        ax.axhline(tol, color="gray", linestyle=":", label=f"tolerance {tol:g}")
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel or ("loss - f*" if min_value is not None else "loss"))
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="best", fontsize="small")
    return fig


def sweep_heatmap(
    x: np.ndarray,
    y: np.ndarray,
    steps: np.ndarray,
    x_name: str,
    y_name: str,
    log_x: bool = False,
    log_y: bool = False,
    optimum=None,
    rate=None,
    title: str = "Steps to tolerance",
):
    """Steps to tolerance over a 2-D grid ``steps`` ``(len(y), len(x))`` (NaN: never).

    ``optimum`` ``(x, y)`` is marked with a star; ``rate`` draws the stability boundary as
    the contour at 1 of the predicted contraction: an array on the same grid, or
    ``(x_fine, y_fine, rate_fine)`` on a finer one (a smoother line).
    """
    from matplotlib.colors import LogNorm

    fig, ax = new_figure()
    x, y = np.asarray(x, float), np.asarray(y, float)
    z = np.ma.masked_invalid(np.asarray(steps, dtype=float))
    finite = z.compressed()
    norm = LogNorm(vmin=max(finite.min(), 1), vmax=max(finite.max(), 2)) if finite.size else None
    mesh = ax.pcolormesh(
        x, y, np.ma.masked_less(z, 1) if norm else z, shading="nearest", cmap="viridis_r", norm=norm
    )
    fig.colorbar(mesh, ax=ax, label="steps to tolerance (blank: not reached)")
    if rate is not None:
        rx, ry, r = rate if isinstance(rate, tuple) else (x, y, rate)
        r = np.asarray(r, dtype=float)
        if np.isfinite(r).any() and np.nanmin(r) < 1 < np.nanmax(r):
            ax.contour(rx, ry, r, levels=[1.0], colors="red", linewidths=1.5)
            ax.plot([], [], color="red", label="stability boundary (rate = 1)")
    if optimum is not None:
        ax.plot(
            optimum[0],
            optimum[1],
            "*",
            color="white",
            markeredgecolor="black",
            markersize=16,
            label="theoretical optimum",
        )
    if log_x:
        ax.set_xscale("log")
    if log_y:
        ax.set_yscale("log")
    ax.set_xlabel(x_name)
    ax.set_ylabel(y_name)
    ax.set_title(title)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="best", fontsize="small")
    return fig


def sweep_line(
    x: np.ndarray,
    steps: np.ndarray,
    x_name: str,
    log_x: bool = False,
    predicted: np.ndarray | None = None,
    optimum: float | None = None,
    boundary: float | None = None,
    title: str = "Steps to tolerance",
):
    """Measured (and predicted) steps to tolerance against one hyperparameter, log y-axis."""
    fig, ax = new_figure()
    x = np.asarray(x, dtype=float)
    ax.plot(x, np.asarray(steps, float), "o-", markersize=3, label="measured")
    if predicted is not None and np.isfinite(np.asarray(predicted, float)).any():
        ax.plot(x, np.asarray(predicted, float), "--", color="black", label="predicted")
    if optimum is not None:
        ax.axvline(
            optimum, color="green", linestyle=":", label=f"theoretical optimum {optimum:.4g}"
        )
    if boundary is not None:
        ax.axvline(
            boundary, color="red", linestyle="--", label=f"stability boundary {boundary:.4g}"
        )
    if log_x:
        ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(x_name)
    ax.set_ylabel("steps to tolerance")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="best", fontsize="small")
    return fig


def rate_curves(
    lr: np.ndarray,
    curves: Mapping[str, np.ndarray],
    lr_opt: float | None = None,
    rate_opt: float | None = None,
    lr_max: float | None = None,
    title: str = "Contraction factors of gradient descent",
):
    """Contraction factors against the learning rate with ``lr*``/``R*``/``lr_max`` marked."""
    fig, ax = new_figure()
    lr = np.asarray(lr, dtype=float)
    for name, values in curves.items():
        ax.plot(lr, np.asarray(values, float), label=name, linewidth=1.5)
    ax.axhline(1.0, color="gray", linestyle=":", label="stability limit |r| = 1")
    if lr_max is not None:
        ax.axvline(lr_max, color="red", linestyle="--", label=f"lr_max = {lr_max:.4g}")
    if lr_opt is not None and rate_opt is not None:
        ax.plot(
            lr_opt,
            rate_opt,
            "*",
            color="black",
            markersize=14,
            label=f"lr* = {lr_opt:.4g}, R* = {rate_opt:.4g}",
        )
    ax.set_xlabel("learning rate lr")
    ax.set_ylabel("contraction factor")
    ax.set_ylim(0, 2)
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best", fontsize="small")
    return fig


def hutchinson_error(
    n_probes: np.ndarray,
    errors: np.ndarray,
    reference: np.ndarray | None = None,
    title: str = "Hutchinson diagonal estimate: error against probes",
    ylabel: str = "RMS error of the diagonal estimate",
):
    """Measured error against the number of probes, log-log, with a ``1/sqrt(N)`` reference."""
    fig, ax = new_figure()
    n = np.asarray(n_probes, dtype=float)
    ax.plot(n, np.asarray(errors, float), "o-", label="measured")
    if reference is not None:
        ax.plot(
            n, np.asarray(reference, float), "--", color="black", label="theory: sigma / sqrt(N)"
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("probes N")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="best", fontsize="small")
    return fig


def save_figure(fig, path: str | os.PathLike, dpi: int = 120) -> Path:
    """Write ``fig`` to ``path`` (png, svg or pdf by extension) through a temporary file.

    Raises ``ValueError`` for another extension; on failure ``path`` is left untouched.
    """
    p = Path(path)
    ext = p.suffix.lower().lstrip(".")
    if ext not in FORMATS:
        raise ValueError(
            f"plot path {str(path)!r}: unknown file type {p.suffix or '(none)'!r}; "
            f"allowed: {', '.join('.' + f for f in FORMATS)}"
        )
    atomic_write(p, lambda handle: fig.savefig(handle, format=ext, dpi=dpi))
    return p


def sharpness_curves(traces: Sequence, title: str = "Sharpness against step"):
    """Full-batch GD runs: the sharpness (top Hessian eigenvalue) against the step, with each
    run's stability line ``2 / lr`` dashed in its colour (top), and the loss (bottom, log).

    ``traces``: objects with ``lr``, ``sharpness_steps``, ``sharpness`` and ``loss`` (the
    loss at every step), e.g. :class:`hessian_lab.torch.train.SharpnessTrace`.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.5, 7.0), layout="constrained")
    FigureCanvasAgg(fig)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    for index, trace in enumerate(traces):
        colour = f"C{index}"
        top.plot(trace.sharpness_steps, trace.sharpness, color=colour, marker=".",
                 label=f"lr = {trace.lr:.3g}")
        top.axhline(2 / trace.lr, color=colour, linestyle="--", linewidth=1.0,
                    label=f"2 / lr = {2 / trace.lr:.3g}")
        bottom.plot(np.arange(len(trace.loss)), trace.loss, color=colour, linewidth=1.0,
                    label=f"lr = {trace.lr:.3g}")
    edges = [2 / t.lr for t in traces] + [max(t.sharpness) for t in traces]
    top.set_ylim(0, 1.15 * max(edges))
    top.set_ylabel("sharpness lambda_max")
    top.set_title(title)
    top.grid(True, alpha=0.3)
    top.legend(loc="lower right", fontsize="small", ncols=2)
    bottom.set_yscale("log")
    bottom.set_xlabel("step (full-batch GD)")
    bottom.set_ylabel("training loss")
    bottom.grid(True, which="both", alpha=0.3)
    bottom.legend(loc="best", fontsize="small")
    return fig
