"""Figures: one function per kind, each returning a matplotlib ``Figure``.

Headless by construction: figures are built with the object-oriented API on an Agg canvas
(``matplotlib.figure.Figure`` + ``FigureCanvasAgg``) with constrained layout, so nothing
here opens a window, touches pyplot's global state or changes styles at import.
matplotlib itself is imported inside the functions; importing this module is cheap.

    colors = palette(["gd", "momentum"])            # one colour per run, for every figure
    fig = contour_paths(problem, {"gd": xs_gd, "momentum": xs_hb}, colors=colors)
    save_figure(fig, "valley.png")                  # png / svg / pdf by extension, atomic

What the path figures promise (and ``tests/figure_checks.py`` verifies):

- the view is framed on the start, the minimizer and the paths that converge; a diverging
  path is drawn until it leaves the view, ends in an arrow on the edge and says in the
  legend where it diverged ("diverged at step N");
- the colour bar shows ``f - f*`` on a log scale (``f - min over the view`` when ``f*`` is
  unknown), the axes have equal aspect when both coordinates share units;
- more than three paths are drawn as small multiples (one panel per run, shared contours
  and axes) so no path hides another;
- legends sit outside the axes (below them), titles are wrapped to the figure width.

Inputs are plain arrays (NumPy or anything ``np.asarray`` accepts); no CLI logic lives here,
so the CLI, the canned experiments and the notebooks share the same figures.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from .files import atomic_write

__all__ = [
    "FORMATS",
    "PALETTE",
    "palette",
    "new_figure",
    "diverging_paths",
    "view_box",
    "contour_paths",
    "contour_panels",
    "surface_paths",
    "loss_curves",
    "sweep_heatmap",
    "sweep_line",
    "rate_curves",
    "steps_curves",
    "distance_floor",
    "hutchinson_error",
    "basin_maps",
    "sharpness_curves",
    "training_curves",
    "cka_layers",
    "save_figure",
]

FORMATS = ("png", "svg", "pdf")

#: Run colours: tab10 without red (kept for the minimizer and divergence) and gray.
PALETTE = (
    "tab:blue",
    "tab:orange",
    "tab:green",
    "tab:purple",
    "tab:brown",
    "tab:pink",
    "tab:olive",
    "tab:cyan",
    "navy",
    "darkgoldenrod",
    "teal",
    "darkmagenta",
)
DIVERGED_COLOR = "#f2a7a7"  # sweep cells that diverged
SLOW_COLOR = "#c8c8c8"  # sweep cells that ran out of steps
PANELS_ABOVE = 3  # more paths than this are drawn as small multiples
LEGEND_CHARS = 34  # legend labels wrap at this many characters
ZERO_LABEL = "{what} = 0 exactly (on the bottom edge)"
LAST_IN_LEGEND = (
    "start",
    "minimizer",
    ZERO_LABEL.format(what="f"),
    ZERO_LABEL.format(what="f - f*"),
)


def palette(names: Sequence[str], colors: Mapping[str, str] | None = None) -> dict[str, str]:
    """``{name: colour}``: the given ``colors`` first, then :data:`PALETTE` in order.

    Build it once per run or experiment and pass it to every figure, so one optimizer keeps
    one colour everywhere.
    """
    out = dict(colors or {})
    free = [c for c in PALETTE if c not in out.values()]
    for i, name in enumerate(n for n in names if n not in out):
        out[name] = free[i % len(free)] if free else PALETTE[i % len(PALETTE)]
    return out


def new_figure(figsize=(7.0, 5.0), projection: str | None = None):
    """A constrained-layout ``Figure`` on an Agg canvas with one axes (``"3d"`` for surfaces)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    if projection == "3d":
        import mpl_toolkits.mplot3d  # noqa: F401  (registers the projection)

        ax = fig.add_subplot(projection="3d", computed_zorder=False)
    else:
        ax = fig.add_subplot()
    return fig, ax


def _wrap(text: str, fig, fontsize_pt: float = 12.0, share: float = 0.92) -> str:
    """``text`` broken into lines that fit ``share`` of the figure's width (a character is
    at most ~0.6 em wide)."""
    width_pt = fig.get_figwidth() * 72 * share
    lines = textwrap.wrap(text, max(16, int(width_pt / (0.6 * fontsize_pt))))
    return "\n".join(lines) or text


def _title(fig, ax, text: str) -> None:
    ax.set_title(_wrap(text, fig, share=0.7))


def _legend_below(fig, handles=None, labels=None, n: int | None = None) -> None:
    """One figure legend under the axes, in as many columns as the labels allow."""
    if handles is None:
        handles, labels = [], []
        for ax in fig.axes:
            for h, label in zip(*ax.get_legend_handles_labels(), strict=True):
                if label not in labels:
                    handles.append(h)
                    labels.append(label)
        marks = [i for i, label in enumerate(labels) if label in LAST_IN_LEGEND]
        order = [i for i in range(len(labels)) if i not in marks] + marks
        handles, labels = [handles[i] for i in order], [labels[i] for i in order]
    if not handles:
        return
    labels = ["\n".join(textwrap.wrap(label, LEGEND_CHARS)) or label for label in labels]
    longest = max(len(line) for label in labels for line in label.splitlines())
    per_row = max(1, int(fig.get_figwidth() * 72 / (6.2 * longest + 40)))
    fig.legend(
        handles,
        labels,
        loc="outside lower center",
        ncols=min(len(labels), per_row, n or len(labels)),
        fontsize="small",
    )


# --- paths on a 2-D problem --------------------------------------------------------------


def _as_path(path) -> np.ndarray:
    return np.asarray(path, dtype=float).reshape(-1, 2)


def _point(p) -> np.ndarray | None:
    return None if p is None else np.asarray(p, dtype=float).reshape(-1)[:2]


def diverging_paths(paths, start=None, minimizer=None, diverged=None) -> dict[str, int | None]:
    """The diverging paths: ``{name: step it diverged at}`` (``None``: detected, step unknown).

    ``diverged`` (``{name: step or None}``, e.g. the engine's ``diverged_at``) is trusted; a
    path it does not name diverges if it holds a non-finite point or, when the minimizer is
    known, ends more than three times farther from it than it began (or than the start is).
    """
    out = {n: s for n, s in (diverged or {}).items() if n in paths and s is not None}
    start, minimizer = _point(start), _point(minimizer)
    anchor = minimizer
    reach = 1e-12
    if start is not None and minimizer is not None:
        reach = max(float(np.linalg.norm(start - minimizer)), reach)
    for name, path in paths.items():
        if name in out or (diverged and name in diverged):
            continue
        p = _as_path(path)
        if not np.isfinite(p).all():
            out[name] = None
        elif anchor is not None and len(p) > 1:
            d0, d_end = np.linalg.norm(p[0] - anchor), np.linalg.norm(p[-1] - anchor)
            if d_end > 3 * max(d0, reach):
                out[name] = None
    return out


def view_box(paths, start=None, minimizer=None, diverged=None, margin: float = 0.12):
    """The view ``(low, high)`` around the start, the minimizer and the converging paths.

    ``diverged`` as in :func:`diverging_paths`. Pass the result as ``bounds`` to give
    several figures of one experiment the same frame.
    """
    return _frame(
        paths, start, minimizer, diverging_paths(paths, start, minimizer, diverged), margin
    )


def _frame(paths, start, minimizer, diverging, margin: float = 0.12):
    pts = [p.reshape(1, 2) for p in (_point(start), _point(minimizer)) if p is not None]
    pts += [_as_path(p) for name, p in paths.items() if name not in diverging]
    if not pts:  # only diverging paths and nothing else to frame: their first points
        pts = [_as_path(p)[:1] for p in paths.values()]
    allpts = np.concatenate(pts, axis=0) if pts else np.zeros((1, 2))
    allpts = allpts[np.all(np.isfinite(allpts), axis=1)]
    if allpts.size == 0:
        allpts = np.zeros((1, 2))
    low, high = allpts.min(axis=0), allpts.max(axis=0)
    span = high - low
    span = np.maximum(
        span, max(0.1 * float(span.max()), 1e-3 * max(1.0, float(np.abs(allpts).max())))
    )
    return low - margin * span, high + margin * span


def _edge_point(a: np.ndarray, b: np.ndarray, low, high) -> np.ndarray:
    """Where the segment from ``a`` (inside the box) to ``b`` (outside) crosses the box."""
    d = b - a
    t = 1.0
    for i in range(2):
        if d[i] > 0:
            t = min(t, (high[i] - a[i]) / d[i])
        elif d[i] < 0:
            t = min(t, (low[i] - a[i]) / d[i])
    return a + max(t, 0.0) * d


class _PathScene:
    """Everything the contour figures share: the view, the loss grid, levels and colours."""

    def __init__(self, problem, paths, start, minimizer, bounds, resolution, colors, diverged):
        self.problem = problem
        self.paths = {name: _as_path(p) for name, p in paths.items()}
        self.start, self.minimizer = _point(start), _point(minimizer)
        self.diverging = diverging_paths(self.paths, start, minimizer, diverged)
        if bounds is None:
            self.low, self.high = _frame(self.paths, start, minimizer, self.diverging)
        else:
            self.low, self.high = (np.asarray(b, dtype=float) for b in bounds)
        self.colors = palette(list(self.paths), colors)
        self.grid = _loss_grid(problem, self.low, self.high, resolution)
        f_star = getattr(problem, "min_value", None)
        values = self.grid[2]
        finite = values[np.isfinite(values)]
        if f_star is None:
            f_star = float(finite.min()) if finite.size else 0.0
            self.bar_label = "f - min over the view (log scale)"
        else:
            self.bar_label = "f - f* (log scale)"
        self.gap = np.maximum(values - float(f_star), 0.0)
        positive = self.gap[np.isfinite(self.gap) & (self.gap > 0)]
        top = float(positive.max()) if positive.size else 1.0
        bottom = float(positive.min()) if positive.size else top * 1e-8
        high_exp = int(np.ceil(np.log10(top)))
        low_exp = max(high_exp - 8, int(np.floor(np.log10(bottom))))
        low_exp = min(low_exp, high_exp - 1)
        self.levels = np.logspace(low_exp, high_exp, 3 * (high_exp - low_exp) + 1)

    def contours(self, ax):
        from matplotlib.colors import LogNorm

        gx, gy, _ = self.grid
        shown = np.clip(self.gap, self.levels[0], self.levels[-1])
        cs = ax.contourf(
            gx,
            gy,
            shown,
            levels=self.levels,
            norm=LogNorm(self.levels[0], self.levels[-1] * 1e3),  # the top stays light
            cmap="Greys",
            alpha=0.6,
        )
        ax.contour(gx, gy, shown, levels=self.levels[::3], colors="white", linewidths=0.5)
        return cs

    def label(self, name: str, path: np.ndarray) -> str:
        if name not in self.diverging:
            return name
        step = self.diverging[name]
        return f"{name}: diverged" + ("" if step is None else f" at step {step}")

    def draw_path(self, ax, name: str) -> None:
        p, color = self.paths[name], self.colors[name]
        label = self.label(name, p)
        style = dict(marker=".", markersize=3, linewidth=1.3, color=color, zorder=3)
        if name not in self.diverging:
            ax.plot(p[:, 0], p[:, 1], label=label, **style)
            return
        inside = np.all(np.isfinite(p) & (p >= self.low) & (p <= self.high), axis=1)
        k = int(np.argmin(inside)) if not inside.all() else len(p)
        if k == 0:  # starts outside the view: nothing to draw but the legend entry
            ax.plot([], [], label=label, **style)
            return
        ax.plot(p[:k, 0], p[:k, 1], label=label, **style)
        if k < len(p) and np.isfinite(p[k]).all():
            edge = _edge_point(p[k - 1], p[k], self.low, self.high)
            ax.annotate(
                "",
                xy=edge,
                xytext=p[k - 1],
                arrowprops=dict(arrowstyle="-|>", color=color, lw=2.0, mutation_scale=24),
                annotation_clip=False,
                zorder=4,
            )

    def marks(self, ax) -> None:
        if self.start is not None:
            ax.plot(*self.start, "o", color="black", markersize=8, label="start", zorder=5)
        if self.minimizer is not None:
            ax.plot(
                *self.minimizer,
                "*",
                color="red",
                markeredgecolor="white",
                markersize=15,
                label="minimizer",
                zorder=5,
            )

    def figsize(self, ncols: int = 1, nrows: int = 1, equal_aspect: bool = True, panel=3.0):
        """A figure size whose panels match the view's aspect, with room for the colour
        bar, the titles and a legend line per path (the legend sets the least width)."""
        dx, dy = self.high - self.low
        ratio = float(np.clip(dx / dy, 0.45, 2.2)) if equal_aspect and dy > 0 else 1.25
        width = panel * 1.25 if ratio < 1 else panel
        height = width / ratio
        lines = sum(-(-len(self.label(n, p)) // LEGEND_CHARS) for n, p in self.paths.items())
        fig_w = max(ncols * (width + 0.7) + 1.3, 4.8)
        rows_of_legend = 2 + lines
        fig_h = nrows * (height + 0.8) + 0.9 + 0.2 * rows_of_legend
        return fig_w, fig_h

    def frame(self, ax, labels, equal_aspect: bool) -> None:
        ax.set_xlim(self.low[0], self.high[0])
        ax.set_ylim(self.low[1], self.high[1])
        if equal_aspect:
            ax.set_aspect("equal", adjustable="box")
        ax.set_xlabel(labels[0])
        ax.set_ylabel(labels[1])


def _loss_grid(problem, low, high, n: int):
    xs = np.linspace(low[0], high[0], n)
    ys = np.linspace(low[1], high[1], n)
    gx, gy = np.meshgrid(xs, ys)
    points = np.stack([gx.ravel(), gy.ravel()], axis=1)
    with np.errstate(all="ignore"):
        values = np.asarray(problem.loss(points), dtype=float).reshape(n, n)
    return gx, gy, values


def contour_paths(
    problem,
    paths: Mapping[str, np.ndarray],
    start=None,
    minimizer=None,
    title: str = "Loss contours and optimizer paths",
    labels: Sequence[str] = ("x1", "x2"),
    resolution: int = 200,
    bounds=None,
    colors: Mapping[str, str] | None = None,
    diverged: Mapping[str, int | None] | None = None,
    equal_aspect: bool = True,
    panels: bool | None = None,
):
    """Log-spaced contours of ``f - f*`` for a 2-D ``problem`` with every ``(T, 2)`` path on them.

    ``start`` and ``minimizer`` (``(2,)``) are marked. The view is ``bounds`` (``((x_lo,
    y_lo), (x_hi, y_hi))``) or a box around the start, the minimizer and the converging
    paths; diverging paths (``diverged``: ``{name: step}``, else detected) are cut where they
    leave the view and end in an arrow. ``panels`` (default: more than three paths) draws
    one panel per path instead (:func:`contour_panels`). Put hyperparameters in the names:
    they are the legend.
    """
    if panels is None:
        panels = len(paths) > PANELS_ABOVE
    if panels:
        return contour_panels(
            problem,
            paths,
            start,
            minimizer,
            title,
            labels,
            resolution,
            bounds,
            colors,
            diverged,
            equal_aspect,
        )
    scene = _PathScene(problem, paths, start, minimizer, bounds, resolution, colors, diverged)
    fig, ax = new_figure(figsize=scene.figsize(1, 1, equal_aspect, panel=4.4))
    cs = scene.contours(ax)
    fig.colorbar(cs, ax=ax, label=scene.bar_label, ticks=scene.levels[::3])
    for name in scene.paths:
        scene.draw_path(ax, name)
    scene.marks(ax)
    scene.frame(ax, labels, equal_aspect)
    _title(fig, ax, title)
    _legend_below(fig)
    return fig


def contour_panels(
    problem,
    paths: Mapping[str, np.ndarray],
    start=None,
    minimizer=None,
    title: str = "Loss contours and optimizer paths",
    labels: Sequence[str] = ("x1", "x2"),
    resolution: int = 160,
    bounds=None,
    colors: Mapping[str, str] | None = None,
    diverged: Mapping[str, int | None] | None = None,
    equal_aspect: bool = True,
):
    """Small multiples: one panel per path on the same contours, axes and colour bar.

    Arguments as :func:`contour_paths`; the panel titles are the path names.
    """
    scene = _PathScene(problem, paths, start, minimizer, bounds, resolution, colors, diverged)
    n = max(1, len(scene.paths))
    ncols = 2 if n == 4 else min(n, 3)
    nrows = -(-n // ncols)
    fig, _ = new_figure(figsize=scene.figsize(ncols, nrows, equal_aspect))
    fig.clear()
    axes = np.atleast_1d(fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False))
    flat = axes.ravel()
    cs = None
    for ax, name in zip(flat, scene.paths, strict=False):
        cs = scene.contours(ax)
        scene.draw_path(ax, name)
        scene.marks(ax)
        scene.frame(ax, labels, equal_aspect)
        ax.set_title(
            _wrap(scene.label(name, scene.paths[name]), fig, 12 * ncols), fontsize="medium"
        )
        ax.label_outer()
    for ax in flat[n:]:
        ax.set_visible(False)
    if cs is not None:
        fig.colorbar(cs, ax=flat[:n].tolist(), label=scene.bar_label, ticks=scene.levels[::3])
    fig.suptitle(_wrap(title, fig, 13))
    _legend_below(fig)
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
    colors: Mapping[str, str] | None = None,
    diverged: Mapping[str, int | None] | None = None,
):
    """The loss surface of a 2-D ``problem`` in 3-D (gray) with the paths lifted onto it.

    Framed and coloured as :func:`contour_paths`; the paths are drawn above the surface in
    their legend colours, diverging ones cut where they leave the view.
    """
    scene = _PathScene(problem, paths, start, minimizer, bounds, resolution, colors, diverged)
    fig, ax = new_figure(figsize=(8.0, 6.8), projection="3d")
    gx, gy, values = scene.grid
    top = float(np.nanmax(values)) if np.isfinite(values).any() else 1.0
    ax.plot_surface(gx, gy, values, cmap="Greys", alpha=0.45, linewidth=0, zorder=1)
    for name, p in scene.paths.items():
        inside = np.all(np.isfinite(p) & (p >= scene.low) & (p <= scene.high), axis=1)
        k = int(np.argmin(inside)) if not inside.all() else len(p)
        shown = p[: max(k, 1)]
        with np.errstate(all="ignore"):
            z = np.minimum(np.asarray(problem.loss(shown), dtype=float), top)
        ax.plot(
            shown[:, 0],
            shown[:, 1],
            z,
            color=scene.colors[name],
            marker=".",
            markersize=3,
            linewidth=2.0,
            label=scene.label(name, p),
            zorder=3,
        )
    for point, style, name in (
        (scene.start, dict(marker="o", color="black"), "start"),
        (scene.minimizer, dict(marker="*", color="red", markeredgecolor="white"), "minimizer"),
    ):
        if point is not None:
            z = np.asarray(problem.loss(point.reshape(1, 2)), dtype=float)
            ax.plot(
                [point[0]],
                [point[1]],
                z,
                linestyle="",
                markersize=10,
                label=name,
                zorder=4,
                **style,
            )
    ax.set_xlim(scene.low[0], scene.high[0])
    ax.set_ylim(scene.low[1], scene.high[1])
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    ax.set_zlabel("loss f")
    _title(fig, ax, title)
    _legend_below(fig)
    return fig


# --- curves against the step -------------------------------------------------------------


def loss_curves(
    histories: Mapping[str, np.ndarray],
    min_value: float | None = None,
    tol: float | None = None,
    title: str = "Loss against step",
    ylabel: str | None = None,
    colors: Mapping[str, str] | None = None,
):
    """``f - f*`` (or ``f``) against the step for each run, on a log scale.

    A run that reaches exactly 0 (which a log axis cannot show) ends in a triangle on the
    bottom edge at that step, and its legend entry says so. Runs that blow up beyond 1000
    times the largest starting value leave through the top; their entries say "diverges".
    """
    fig, ax = new_figure(figsize=(7.0, 5.4))
    colors = palette(list(histories), colors)
    gaps = {}
    for name, history in histories.items():
        h = np.asarray(history, dtype=float).reshape(-1)
        gaps[name] = h - min_value if min_value is not None else h
    starts = [g[0] for g in gaps.values() if g.size and np.isfinite(g[0]) and g[0] > 0]
    ceiling = 1e3 * max(starts) if starts else None
    what = "f - f*" if min_value is not None else "f"
    zero_marked = False
    for name, gap in gaps.items():
        zero = np.flatnonzero(gap <= 0)
        positive = np.where(gap > 0, gap, np.nan)
        label = name
        if zero.size:
            label += f" ({what} = 0 exactly at step {zero[0]})"
        elif gap.size and (~np.isfinite(gap[-1]) or gap[-1] > 10 * abs(gap[0])):
            label += " (diverges)"
        few = np.isfinite(positive).sum() < 3
        ax.plot(
            np.arange(gap.size),
            positive,
            label=label,
            color=colors[name],
            linewidth=1.4,
            marker="o" if few else None,
            markersize=4,
        )
        if zero.size:
            ax.plot(
                [zero[0]],
                [0.03],
                "v",
                color=colors[name],
                markersize=9,
                transform=ax.get_xaxis_transform(),
                label=None if zero_marked else ZERO_LABEL.format(what=what),
                clip_on=False,
            )
            zero_marked = True
    if tol is not None:
        ax.axhline(tol, color="gray", linestyle=":", label=f"tolerance {tol:g}")
    ax.set_yscale("log")
    if ceiling is not None and any(
        (np.nan_to_num(g, nan=np.inf) > ceiling).any() for g in gaps.values()
    ):
        ax.set_ylim(top=ceiling)
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel or ("loss - f*" if min_value is not None else "loss"))
    _title(fig, ax, title)
    ax.grid(True, which="both", alpha=0.3)
    _legend_below(fig)
    return fig


# --- sweeps ------------------------------------------------------------------------------


def _status_cells(status, shape):
    if status is None:
        return np.zeros(shape, bool), np.zeros(shape, bool)
    s = np.asarray(status).reshape(shape)
    return s == "diverged", s == "max_steps"


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
    status=None,
):
    """Steps to tolerance over a 2-D grid ``steps`` ``(len(y), len(x))`` (NaN: never).

    ``status`` (same shape, the engine's status strings) colours the cells that diverged
    and those that ran out of steps apart. ``optimum`` ``(x, y)`` is marked with a star;
    ``rate`` draws the stability boundary as the contour at 1 of the predicted contraction:
    an array on the same grid, or ``(x_fine, y_fine, rate_fine)`` on a finer one.
    """
    from matplotlib.colors import ListedColormap, LogNorm
    from matplotlib.patches import Patch

    fig, ax = new_figure(figsize=(7.0, 5.6))
    x, y = np.asarray(x, float), np.asarray(y, float)
    z = np.ma.masked_invalid(np.asarray(steps, dtype=float))
    finite = z.compressed()
    norm = LogNorm(vmin=max(finite.min(), 1), vmax=max(finite.max(), 2)) if finite.size else None
    mesh = ax.pcolormesh(
        x, y, np.ma.masked_less(z, 1) if norm else z, shading="nearest", cmap="viridis_r", norm=norm
    )
    fig.colorbar(mesh, ax=ax, label="steps to tolerance")
    diverged, slow = _status_cells(status, z.shape)
    kinds = np.where(diverged, 1.0, np.where(slow, 0.0, np.nan))
    handles = []
    if diverged.any() or slow.any():
        ax.pcolormesh(
            x,
            y,
            np.ma.masked_invalid(kinds),
            shading="nearest",
            cmap=ListedColormap([SLOW_COLOR, DIVERGED_COLOR]),
            vmin=0,
            vmax=1,
        )
        if diverged.any():
            handles.append(Patch(color=DIVERGED_COLOR, label="diverged"))
        if slow.any():
            handles.append(Patch(color=SLOW_COLOR, label="not within max steps"))
    if rate is not None:
        rx, ry, r = rate if isinstance(rate, tuple) else (x, y, rate)
        r = np.asarray(r, dtype=float)
        if np.isfinite(r).any() and np.nanmin(r) < 1 < np.nanmax(r):
            ax.contour(rx, ry, r, levels=[1.0], colors="red", linewidths=1.5)
            handles.append(_line_proxy("red", "stability boundary (rate = 1)"))
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
    if finite.size:
        best = np.unravel_index(np.nanargmin(np.ma.filled(z, np.nan)), z.shape)
        ax.plot(
            x[best[1]],
            y[best[0]],
            "D",
            color="none",
            markeredgecolor="magenta",
            markersize=10,
            markeredgewidth=2,
            label=f"fewest steps ({int(z[best])})",
        )
    if log_x:
        ax.set_xscale("log")
    if log_y:
        ax.set_yscale("log")
    ax.set_xlabel(x_name)
    ax.set_ylabel(y_name)
    _title(fig, ax, title)
    own, labels = ax.get_legend_handles_labels()
    _legend_below(fig, own + handles, labels + [h.get_label() for h in handles])
    return fig


def _line_proxy(color: str, label: str):
    from matplotlib.lines import Line2D

    return Line2D([], [], color=color, label=label)


def sweep_line(
    x: np.ndarray,
    steps: np.ndarray,
    x_name: str,
    log_x: bool = False,
    predicted: np.ndarray | None = None,
    optimum: float | None = None,
    boundary: float | None = None,
    title: str = "Steps to tolerance",
    status=None,
):
    """Measured (and predicted) steps to tolerance against one hyperparameter, log y-axis.

    The x-axis covers the whole grid; points that diverged (red x) or ran out of steps
    (gray bar) are marked along the top edge, from ``status`` (the engine's strings).
    """
    fig, ax = new_figure(figsize=(7.0, 5.2))
    x = np.asarray(x, dtype=float)
    measured = np.asarray(steps, float)
    if np.isfinite(measured).any():
        ax.plot(x, measured, "o-", markersize=3, label="measured")
    if predicted is not None and np.isfinite(np.asarray(predicted, float)).any():
        ax.plot(x, np.asarray(predicted, float), "--", color="black", label="predicted")
    diverged, slow = _status_cells(status, x.shape)
    edge = ax.get_xaxis_transform()
    if diverged.any():
        ax.plot(
            x[diverged],
            np.full(diverged.sum(), 0.96),
            "x",
            color="red",
            transform=edge,
            label=f"diverged ({int(diverged.sum())} points)",
        )
    if slow.any():
        ax.plot(
            x[slow],
            np.full(slow.sum(), 0.96),
            "|",
            color="gray",
            markersize=12,
            transform=edge,
            label=f"not within max steps ({int(slow.sum())} points)",
        )
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
    shown = [measured]
    if predicted is not None:
        shown.append(np.asarray(predicted, float))
    if not any((np.isfinite(y) & (y > 0)).any() for y in shown):
        # nothing to put on a log axis: keep a valid frame and say why it is empty
        ax.set_ylim(1, 10)
        ax.text(0.5, 0.5, "no grid point converged", transform=ax.transAxes, ha="center")
    # the whole grid, and the optimum and boundary lines where they fall outside it
    marked = [v for v in (optimum, boundary) if v is not None and np.isfinite(v)]
    span = np.concatenate([x, [v for v in marked if v > 0 or not log_x]])
    if span.size > 1 and np.ptp(span) > 0:
        pad = 0.03
        if log_x:
            lo, hi = np.log10(span.min()), np.log10(span.max())
            ax.set_xlim(10 ** (lo - pad * (hi - lo)), 10 ** (hi + pad * (hi - lo)))
        else:
            ax.set_xlim(span.min() - pad * np.ptp(span), span.max() + pad * np.ptp(span))
    ax.set_xlabel(x_name)
    ax.set_ylabel("steps to tolerance")
    _title(fig, ax, title)
    ax.grid(True, which="both", alpha=0.3)
    _legend_below(fig)
    return fig


# --- theory curves -----------------------------------------------------------------------


def rate_curves(
    lr: np.ndarray,
    curves: Mapping[str, np.ndarray],
    lr_opt: float | None = None,
    rate_opt: float | None = None,
    lr_max: float | None = None,
    title: str = "Contraction factors of gradient descent",
    measured=None,
):
    """Contraction factors against the learning rate with ``lr*``/``R*``/``lr_max`` marked.

    ``measured`` is ``(lr, rate, label)``: measured rates drawn as black dots.
    """
    fig, ax = new_figure(figsize=(7.0, 5.4))
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
    if measured is not None:
        m_lr, m_rate, m_label = measured
        ax.plot(m_lr, m_rate, "o", color="black", markersize=4, label=m_label)
    ax.set_xlabel("learning rate lr")
    ax.set_ylabel("contraction factor per step")
    ax.set_ylim(0, 2)
    _title(fig, ax, title)
    ax.grid(True, alpha=0.3)
    _legend_below(fig)
    return fig


def steps_curves(
    x: np.ndarray,
    series: Mapping[str, Mapping[str, Sequence[float]]],
    xlabel: str,
    ylabel: str,
    title: str,
    budget: float | None = None,
    log_x: bool = True,
    colors: Mapping[str, str] | None = None,
):
    """Steps against a problem parameter (kappa, a scale), log-log, one colour per method.

    ``series`` is ``{method: {"measured": [...], "predicted": [...]}}`` (``predicted``
    optional, NaN where there is none): measured as dots on a line, predicted as crosses
    on a dashed line of the same colour. A measured NaN (not reached) is drawn as an open
    triangle on the ``budget`` line.
    """
    fig, ax = new_figure(figsize=(7.0, 5.4))
    x = np.asarray(x, dtype=float)
    colors = palette(list(series), colors)
    for name, values in series.items():
        measured = np.asarray(values["measured"], dtype=float)
        ax.plot(x, measured, "o-", color=colors[name], label=f"{name}: measured")
        predicted = np.asarray(values.get("predicted", []), dtype=float)
        if predicted.size and np.isfinite(predicted).any():
            ax.plot(
                x, predicted, "x--", color=colors[name], markersize=9, label=f"{name}: predicted"
            )
        missing = ~np.isfinite(measured)
        if budget is not None and missing.any():
            ax.plot(
                x[missing],
                np.full(missing.sum(), budget),
                "^",
                markerfacecolor="none",
                color=colors[name],
                markersize=9,
                label=f"{name}: not within {budget:g} steps",
            )
    if budget is not None:
        ax.axhline(budget, color="gray", linestyle=":", label=f"step budget {budget:g}")
    if log_x:
        ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    _title(fig, ax, title)
    ax.grid(True, which="both", alpha=0.3)
    _legend_below(fig)
    return fig


def distance_floor(
    histories: Mapping[str, np.ndarray],
    exact: np.ndarray,
    floors: Mapping[str, float],
    tol: float | None = None,
    title: str = "Distance to the minimizer against step",
):
    """``||x_t - x*||`` per run (``{dtype: (T+1,)}``), the exact-arithmetic curve and each
    run's predicted rounding floor (a dotted line in the run's colour)."""
    fig, ax = new_figure(figsize=(7.0, 5.4))
    colors = palette(list(histories))
    for name, distance in histories.items():
        d = np.asarray(distance, dtype=float)
        ax.plot(
            np.arange(d.size),
            np.where(d > 0, d, np.nan),
            color=colors[name],
            label=f"{name} (engine)",
            linewidth=1.5,
        )
    exact = np.asarray(exact, dtype=float)
    ax.plot(
        np.arange(exact.size),
        np.where(exact > 0, exact, np.nan),
        "--",
        color="black",
        linewidth=1,
        label="exact arithmetic (theory)",
    )
    for name, floor in floors.items():
        ax.axhline(
            floor,
            color=colors.get(name, "gray"),
            linestyle=":",
            label=f"predicted {name} floor {floor:.2g}",
        )
    if tol is not None:
        ax.axhline(tol, color="gray", linestyle="-.", label=f"tolerance {tol:g}")
    ax.set_yscale("log")
    lowest = min([*floors.values(), *(tol,) * (tol is not None)])
    ax.set_ylim(bottom=lowest / 10)
    ax.set_xlabel("step")
    ax.set_ylabel("||x - x*||")
    _title(fig, ax, title)
    ax.grid(True, which="both", alpha=0.3)
    _legend_below(fig)
    return fig


def hutchinson_error(
    n_probes: np.ndarray,
    errors,
    reference: np.ndarray | None = None,
    title: str = "Hutchinson diagonal estimate: error against probes",
    ylabel: str = "RMS error of the diagonal estimate",
):
    """Measured error against the number of probes, log-log, with the theory beside it.

    ``errors`` is one curve (with ``reference``, the ``sigma / sqrt(N)`` line) or
    ``{name: {"measured": [...], "theory": [...]}}``: one colour per estimator.
    """
    fig, ax = new_figure(figsize=(7.0, 5.6))
    n = np.asarray(n_probes, dtype=float)
    if not isinstance(errors, Mapping):
        errors = {"": {"measured": errors, "theory": reference}}
    colors = palette(list(errors))
    for name, curve in errors.items():
        prefix = f"{name}: " if name else ""
        ax.plot(
            n,
            np.asarray(curve["measured"], float),
            "o-",
            color=colors[name],
            label=f"{prefix}measured",
        )
        if curve.get("theory") is not None:
            ax.plot(
                n,
                np.asarray(curve["theory"], float),
                "--",
                color=colors[name],
                label=f"{prefix}theory" + ("" if name else ": sigma / sqrt(N)"),
            )
    ax.set_xscale("log", base=2 if n.min() >= 1 and np.allclose(np.log2(n) % 1, 0) else 10)
    ax.set_yscale("log")
    ax.set_xlabel("probes N per estimate")
    ax.set_ylabel(ylabel)
    _title(fig, ax, title)
    ax.grid(True, which="both", alpha=0.3)
    _legend_below(fig, n=2)
    return fig


def basin_maps(
    xs: np.ndarray,
    ys: np.ndarray,
    basins: Mapping[str, np.ndarray],
    minima: np.ndarray,
    title: str = "Basins of attraction: which minimum each start reaches",
    labels: Sequence[str] = ("x", "y"),
):
    """One panel per optimizer: each start ``(len(ys), len(xs))`` coloured by the index of
    the minimum it reaches (-1: diverged or not converged); the minima as stars."""
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    minima = np.asarray(minima, dtype=float).reshape(-1, 2)
    colors = ["#d9d9d9", *("#9ecae1", "#fdd0a2", "#a1d99b", "#dadaeb", "#fcbba1", "#c7e9c0")]
    colors = colors[: len(minima) + 1]
    cmap = ListedColormap(colors)
    n = len(basins)
    ncols = 2 if n == 4 else min(n, 3)
    nrows = -(-n // ncols)
    fig, _ = new_figure(figsize=(3.7 * ncols + 0.6, 3.5 * nrows + 1.4))
    fig.clear()
    axes = fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False).ravel()
    for ax, (name, basin) in zip(axes, basins.items(), strict=False):
        ax.pcolormesh(
            xs,
            ys,
            np.asarray(basin) + 1,
            cmap=cmap,
            vmin=-0.5,
            vmax=len(colors) - 0.5,
            shading="nearest",
        )
        for m, color in zip(minima, colors[1:], strict=True):
            ax.plot(*m, "*", color=color, markeredgecolor="black", markersize=13)
        ax.set_title(_wrap(name, fig, 10, 0.7 / ncols), fontsize="medium")
        ax.set_aspect("equal", adjustable="box")
        ax.set_xlabel(labels[0])
        ax.set_ylabel(labels[1])
        ax.label_outer()
    for ax in axes[n:]:
        ax.set_visible(False)
    handles = [Patch(color=colors[0], label="diverged / not converged")] + [
        Patch(facecolor=c, edgecolor="black", label=f"minimum ({m[0]:.3g}, {m[1]:.3g})")
        for c, m in zip(colors[1:], minima, strict=True)
    ]
    fig.suptitle(_wrap(title, fig, 13))
    _legend_below(fig, handles, [h.get_label() for h in handles])
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
        top.plot(
            trace.sharpness_steps,
            trace.sharpness,
            color=colour,
            marker=".",
            label=f"lr = {trace.lr:.3g}",
        )
        top.axhline(
            2 / trace.lr,
            color=colour,
            linestyle="--",
            linewidth=1.0,
            label=f"2 / lr = {2 / trace.lr:.3g}",
        )
        bottom.plot(
            np.arange(len(trace.loss)),
            trace.loss,
            color=colour,
            linewidth=1.0,
            label=f"lr = {trace.lr:.3g}",
        )
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


def training_curves(histories: Mapping, title: str = "Training", switch_epoch: int | None = None):
    """Mini-batch training runs: training loss (log, left) and test accuracy (right) per epoch.

    ``histories``: label -> an object with ``train_loss`` and ``test_accuracy`` per epoch
    (epoch 0 = before training), e.g. :class:`hessian_lab.torch.train.History`. Runs that
    share an optimizer name (the label's text before the first comma) share a colour; the
    rest of the label picks the line style. ``switch_epoch`` draws a dotted vertical line
    where the optimizers were swapped.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11.0, 4.8), layout="constrained")
    FigureCanvasAgg(fig)
    left, right = fig.subplots(1, 2)
    colours: dict[str, str] = {}
    styles: dict[str, str] = {}
    for label, history in histories.items():
        head, _, tail = label.partition(",")
        colour = colours.setdefault(head, f"C{len(colours)}")
        style = styles.setdefault(tail, ("-", "--", ":", "-.")[len(styles) % 4])
        loss = np.asarray(history.train_loss, dtype=float)
        loss = np.where(np.isfinite(loss) & (loss > 0), loss, np.nan)
        epochs = np.arange(loss.size)
        left.plot(epochs, loss, color=colour, linestyle=style, marker=".", label=label)
        right.plot(epochs, history.test_accuracy, color=colour, linestyle=style, marker=".",
                   label=label)
    for ax in (left, right):
        if switch_epoch is not None:
            ax.axvline(switch_epoch, color="gray", linestyle=":", label="optimizer switch")
        ax.set_xlabel("epoch")
        ax.grid(True, which="both", alpha=0.3)
    left.set_yscale("log")
    left.set_ylabel("training loss (cross-entropy)")
    right.set_ylabel("test accuracy")
    right.set_ylim(0, 1.02)
    right.axhline(0.1, color="black", linewidth=0.8, linestyle=":", label="chance (0.1)")
    right.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize="small")
    fig.suptitle(title)
    return fig


def cka_layers(layers: Sequence[str], similarity: Mapping[str, Mapping[str, float]],
               title: str = "Linear CKA by layer"):
    """Linear CKA (0..1) against the layer, one line per pair of networks.

    ``similarity``: pair label -> {layer name -> CKA}; ``layers`` gives the order.
    """
    fig, ax = new_figure(figsize=(8.5, 5.0))
    positions = np.arange(len(layers))
    for index, (pair, values) in enumerate(similarity.items()):
        ax.plot(positions, [values[layer] for layer in layers], marker="o",
                color=f"C{index}", label=pair)
    ax.set_xticks(positions, layers)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("layer (index and type in the network)")
    ax.set_ylabel("linear CKA on the test images")
    ax.set_title(title, fontsize="medium")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower left", fontsize="small")
    return fig
