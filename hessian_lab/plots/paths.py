"""Optimizer paths on a 2-D problem: contours, small multiples, the 3-D surface, basins."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .base import LEGEND_CHARS, PANELS_ABOVE, _legend_below, _title, _wrap, new_figure, palette


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
