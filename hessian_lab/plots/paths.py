"""Optimizer paths on a 2-D problem: contours, small multiples, the 3-D surface, basins.

A contour figure is built in two passes: the axes, colour bar, titles and legend first, then
one layout pass (:func:`_settle`) fixes every axes' final limits (equal aspect widens the
short side of the view to fill its panel: ``adjustable="datalim"``), and only then are the
loss grid, the contours and the paths drawn on exactly those limits. So a thin valley fills
a landscape panel, the colour bar is as tall as its axes, and a diverging path is cut where
it really leaves the view.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np

from .base import (
    LEGEND_CHARS,
    PANELS_ABOVE,
    _font_points,
    _legend_below,
    _title,
    _wrap,
    new_figure,
    palette,
)

#: a diverging path is framed until it is this many times farther from the minimizer than
#: it started (or than the start is), so a few steps of its growth are in view
GROWTH = 2.5
#: the view's width / height once its short side is widened (equal-aspect figures)
BOX_ASPECT = (1.3, 2.0)
#: how a marked event on a path (the hand-over step) is drawn
EVENT_STYLE = dict(marker="s", markersize=11, markerfacecolor="white", markeredgecolor="black",
                   markeredgewidth=2.5)
#: widest small-multiples figure, inches (the talk style fixes its own width)
MAX_WIDTH = 15.0
#: ``n`` panels -> ``(rows, columns)``, laid out landscape
_GRIDS = {1: (1, 1), 2: (1, 2), 3: (1, 3), 4: (2, 2), 5: (2, 3), 6: (2, 3), 7: (2, 4), 8: (2, 4),
          9: (3, 3), 10: (2, 5)}


def panel_grid(n: int) -> tuple[int, int]:
    """``(rows, columns)`` for ``n`` small multiples: never more rows than columns."""
    if n in _GRIDS:
        return _GRIDS[n]
    ncols = int(np.ceil(np.sqrt(1.6 * n)))
    return -(-n // ncols), ncols


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
    """The view ``(low, high)`` around the start, the minimizer, the converging paths and
    the first growing steps of the diverging ones (see :func:`growth_part`).

    ``diverged`` as in :func:`diverging_paths`. Pass the result as ``bounds`` to give
    several figures of one experiment the same frame.
    """
    return _frame(
        paths, start, minimizer, diverging_paths(paths, start, minimizer, diverged), margin
    )


def growth_part(path, start=None, minimizer=None) -> np.ndarray:
    """The first points of a diverging ``path``: up to (not including) the first that is
    more than :data:`GROWTH` times farther from the minimizer (else the start) than the
    path began, or than the start is from the minimizer; the whole path if none is."""
    p = _as_path(path)
    anchor = _point(minimizer)
    anchor = _point(start) if anchor is None else anchor
    anchor = p[0] if anchor is None or not np.isfinite(p[0]).all() else anchor
    with np.errstate(all="ignore"):
        d = np.linalg.norm(p - anchor, axis=1)
    reach = float(d[0]) if np.isfinite(d[0]) else 0.0
    if start is not None and minimizer is not None:
        reach = max(reach, float(np.linalg.norm(_point(start) - _point(minimizer))))
    beyond = np.flatnonzero(~np.isfinite(d) | (d > GROWTH * max(reach, 1e-12)))
    if not beyond.size:
        return p
    finite = np.flatnonzero(~np.isfinite(d))
    at_least = min(3, int(finite[0]) if finite.size else len(p))  # two steps, if finite
    return p[: max(int(beyond[0]), at_least)]


def _frame(paths, start, minimizer, diverging, margin: float = 0.12):
    pts = [p.reshape(1, 2) for p in (_point(start), _point(minimizer)) if p is not None]
    pts += [
        growth_part(p, start, minimizer) if name in diverging else _as_path(p)
        for name, p in paths.items()
    ]
    if not any(len(p) for p in pts):  # nothing finite to frame: the paths' first points
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


def _landscape(low, high):
    """``(low, high)`` with the short side widened about its centre so that width / height
    lies in :data:`BOX_ASPECT`."""
    low, high = np.array(low, dtype=float), np.array(high, dtype=float)
    centre, span = (low + high) / 2, high - low
    ratio = span[0] / span[1]
    if ratio < BOX_ASPECT[0]:
        span[0] = span[1] * BOX_ASPECT[0]
    elif ratio > BOX_ASPECT[1]:
        span[1] = span[0] / BOX_ASPECT[1]
    return centre - span / 2, centre + span / 2


def _settle(fig) -> None:
    """Run the layout once and apply every axes' aspect, so their final limits are known."""
    engine = fig.get_layout_engine()
    if engine is not None:
        engine.execute(fig)
    for ax in fig.axes:
        ax.apply_aspect()


def _freeze_layout(fig) -> None:
    """Lay the finished figure out once more, then keep that layout: constrained layout on
    equal-aspect panels is not a fixed point (each draw moved the first column ~0.5% to the
    left until its axis label left the canvas), so a figure drawn twice (shown, then saved)
    must not lay itself out again."""
    _settle(fig)
    fig.set_layout_engine("none")


def _limits(ax):
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    return np.array([x0, y0]), np.array([x1, y1])


class _PathScene:
    """What the contour figures share: the paths, their colours and labels, the contour
    levels and colour scale (the same for every panel), and the drawing of one panel."""

    def __init__(self, problem, paths, start, minimizer, bounds, resolution, colors, diverged,
                 equal_aspect=True, events=None):
        self.problem = problem
        self.events = {name: dict(marks) for name, marks in (events or {}).items()}
        self.paths = {name: _as_path(p) for name, p in paths.items()}
        self.start, self.minimizer = _point(start), _point(minimizer)
        self.diverging = diverging_paths(self.paths, start, minimizer, diverged)
        self.bounds = None if bounds is None else tuple(np.asarray(b, float) for b in bounds)
        self.resolution = resolution
        self.equal = equal_aspect
        self.colors = palette(list(self.paths), colors)
        self.f_star = getattr(problem, "min_value", None)
        self.bar_label = "f - f* (log scale)" if self.f_star is not None else (
            "f - min over the view (log scale)"
        )

    def view(self, names) -> tuple[np.ndarray, np.ndarray]:
        """The frame of a panel showing ``names``: ``bounds`` if given, else the start, the
        minimizer, those converging paths and the growth of those diverging ones; widened
        to a landscape box when the aspect is equal."""
        if self.bounds is not None:
            low, high = self.bounds
        else:
            chosen = {n: self.paths[n] for n in names}
            low, high = _frame(chosen, self.start, self.minimizer, self.diverging)
        return _landscape(low, high) if self.equal else (low, high)

    def set_levels(self, boxes) -> None:
        """Log-spaced levels of ``f - f*`` over the union of the panels' ``boxes``."""
        low = np.min([b[0] for b in boxes], axis=0)
        high = np.max([b[1] for b in boxes], axis=0)
        values = _loss_grid(self.problem, low, high, 90)[2]
        finite = values[np.isfinite(values)]
        if self.f_star is None:
            self.f_star = float(finite.min()) if finite.size else 0.0
        gap = np.maximum(finite - float(self.f_star), 0.0)
        positive = gap[gap > 0]
        top = float(positive.max()) if positive.size else 1.0
        bottom = float(positive.min()) if positive.size else top * 1e-8
        high_exp = int(np.ceil(np.log10(top)))
        low_exp = max(high_exp - 8, int(np.floor(np.log10(bottom))))
        low_exp = min(low_exp, high_exp - 1)
        self.levels = np.logspace(low_exp, high_exp, 3 * (high_exp - low_exp) + 1)

    def colour_scale(self):
        """``(cmap, norm)``: light grays (the top of the scale stays light), no alpha, so
        the colour bar shows exactly the colours of the contours."""
        from matplotlib import colormaps
        from matplotlib.colors import ListedColormap, LogNorm

        greys = colormaps["Greys"](np.linspace(0.0, 0.75, 256))[:, :3]
        cmap = ListedColormap(1 - 0.6 * (1 - greys))
        return cmap, LogNorm(self.levels[0], self.levels[-1])

    def colour_bar(self, fig, axes) -> None:
        from matplotlib.cm import ScalarMappable

        cmap, norm = self.colour_scale()
        bar = fig.colorbar(
            ScalarMappable(norm=norm, cmap=cmap), ax=axes, label=self.bar_label, aspect=25
        )
        bar.set_ticks(self.levels[::3])

    def label(self, name: str, short: bool = False) -> str:
        """The run's name (``short``: without a closing ``(settings)``), and where it diverged."""
        shown = re.sub(r"\s*\([^()]*\)$", "", name) if short else name
        if name not in self.diverging:
            return shown or name
        step = self.diverging[name]
        return f"{shown or name}: diverged" + ("" if step is None else f" at step {step}")

    def handles(self) -> list:
        """Legend entries (made before the paths are drawn: the layout needs the legend)."""
        from matplotlib.lines import Line2D

        out = [
            Line2D([], [], color=self.colors[n], marker=".", label=self.label(n))
            for n in self.paths
        ]
        if self.start is not None:
            out.append(Line2D([], [], color="black", marker="o", linestyle="", label="start"))
        if self.minimizer is not None:
            out.append(
                Line2D([], [], color="red", marker="*", markersize=12, linestyle="",
                       label="minimizer")
            )
        texts = dict.fromkeys(t for marks in self.events.values() for t in marks.values())
        out += [Line2D([], [], linestyle="", label=t, **EVENT_STYLE) for t in texts]
        return out

    def prepare(self, ax, low, high, labels) -> None:
        # the view as data limits with autoscaling on: the equal aspect may widen them
        ax.update_datalim(np.array([low, high]))
        ax.margins(0)
        ax.set_xlim(low[0], high[0], auto=True)
        ax.set_ylim(low[1], high[1], auto=True)
        if self.equal:
            ax.set_aspect("equal", adjustable="datalim")
        ax.set_xlabel(labels[0])
        ax.set_ylabel(labels[1])

    def fill(self, ax, names) -> None:
        """Contours over the axes' final limits, the ``names`` paths and the marks."""
        low, high = _limits(ax)
        pad = 0.02 * (high - low)
        gx, gy, values = _loss_grid(self.problem, low - pad, high + pad, self.resolution)
        gap = np.clip(np.maximum(values - float(self.f_star), 0.0), self.levels[0],
                      self.levels[-1])
        gap = np.where(np.isfinite(values), gap, self.levels[-1])
        cmap, norm = self.colour_scale()
        ax.contourf(gx, gy, gap, levels=self.levels, cmap=cmap, norm=norm)
        ax.contour(gx, gy, gap, levels=self.levels[::3], colors="white", linewidths=0.5)
        ax.set_xlim(low[0], high[0])  # fixed from now on; the box already has their aspect
        ax.set_ylim(low[1], high[1])
        if self.equal:
            ax.set_aspect("equal", adjustable="box")
        for name in names:
            self.draw_path(ax, name, low, high)
        self.marks(ax)

    def draw_events(self, ax, name: str) -> None:
        p = self.paths[name]
        for index, text in self.events.get(name, {}).items():
            if 0 <= index < len(p):
                style = dict(EVENT_STYLE, markeredgecolor=self.colors[name])
                ax.plot(*p[index], linestyle="", label=text, zorder=6, **style)

    def draw_path(self, ax, name: str, low, high) -> None:
        self.draw_events(ax, name)
        p, color = self.paths[name], self.colors[name]
        label = self.label(name)
        style = dict(marker=".", markersize=3, linewidth=1.3, color=color, zorder=3)
        if name not in self.diverging:
            ax.plot(p[:, 0], p[:, 1], label=label, **style)
            return
        style.update(linewidth=0.9, zorder=2)  # under the converging paths it may cross
        inside = np.all(np.isfinite(p) & (p >= low) & (p <= high), axis=1)
        k = int(np.argmin(inside)) if not inside.all() else len(p)
        if k == 0:  # starts outside the view: nothing to draw but the legend entry
            ax.plot([], [], label=label, **style)
            return
        ax.plot(p[:k, 0], p[:k, 1], label=label, **style)
        if k < len(p) and np.isfinite(p[k]).all():
            edge = _edge_point(p[k - 1], p[k], low, high)
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

    def legend_rows(self) -> int:
        return sum(-(-len(self.label(n)) // LEGEND_CHARS) for n in self.paths)


def _loss_grid(problem, low, high, n: int):
    xs = np.linspace(low[0], high[0], n)
    ys = np.linspace(low[1], high[1], n)
    gx, gy = np.meshgrid(xs, ys)
    points = np.stack([gx.ravel(), gy.ravel()], axis=1)
    with np.errstate(all="ignore"):
        values = np.asarray(problem.loss(points), dtype=float).reshape(n, n)
    return gx, gy, values


def _box_ratio(low, high, equal: bool) -> float:
    span = np.asarray(high) - np.asarray(low)
    return float(np.clip(span[0] / span[1], *BOX_ASPECT)) if equal and span[1] > 0 else 1.4


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
    events: Mapping[str, Mapping[int, str]] | None = None,
):
    """Log-spaced contours of ``f - f*`` for a 2-D ``problem`` with every ``(T, 2)`` path on them.

    ``start`` and ``minimizer`` (``(2,)``) are marked. The view is ``bounds`` (``((x_lo,
    y_lo), (x_hi, y_hi))``) or a box around the start, the minimizer, the converging paths
    and the first growing steps of the diverging ones (``diverged``: ``{name: step}``, else
    detected), widened along its short side to a landscape panel; a diverging path is cut
    where it leaves the view and ends in an arrow. ``panels`` (default: more than three
    paths) draws one panel per path instead (:func:`contour_panels`). Put hyperparameters
    in the names: they are the legend. ``events`` ``{name: {step: text}}`` marks steps of a
    path (a white square in the path's colour; the text is its legend entry), e.g.
    ``{"A then B": {8: "hand-over after 8 steps"}}``.
    """
    if panels is None:
        panels = len(paths) > PANELS_ABOVE
    if panels:
        return contour_panels(
            problem, paths, start, minimizer, title, labels, resolution, bounds, colors,
            diverged, equal_aspect, events,
        )
    scene = _PathScene(problem, paths, start, minimizer, bounds, resolution, colors, diverged,
                       equal_aspect, events)
    low, high = scene.view(scene.paths)
    scene.set_levels([(low, high)])
    ratio = _box_ratio(low, high, equal_aspect)
    height = 4.6
    fig, ax = new_figure(figsize=(height * ratio + 1.8, height + 1.0 + 0.2 * scene.legend_rows()))
    scene.prepare(ax, low, high, labels)
    scene.colour_bar(fig, ax)
    _title(fig, ax, title)
    _legend_below(fig, scene.handles(), [h.get_label() for h in scene.handles()])
    _settle(fig)
    scene.fill(ax, list(scene.paths))
    _freeze_layout(fig)
    return fig


def contour_panels(
    problem,
    paths: Mapping[str, np.ndarray],
    start=None,
    minimizer=None,
    title: str = "Loss contours and optimizer paths",
    labels: Sequence[str] = ("x1", "x2"),
    resolution: int = 120,
    bounds=None,
    colors: Mapping[str, str] | None = None,
    diverged: Mapping[str, int | None] | None = None,
    equal_aspect: bool = True,
    events: Mapping[str, Mapping[int, str]] | None = None,
):
    """Small multiples, laid out landscape: one panel per path, each framed on its own path
    (with the start and the minimizer), over contours with the same levels and colour bar.

    Arguments as :func:`contour_paths` (``bounds`` gives every panel that one frame); the
    panel titles are the path names.
    """
    from matplotlib.ticker import MaxNLocator

    scene = _PathScene(problem, paths, start, minimizer, bounds, resolution, colors, diverged,
                       equal_aspect, events)
    names = list(scene.paths)
    n = max(1, len(names))
    nrows, ncols = panel_grid(n)
    boxes = [scene.view([name]) for name in names] or [scene.view([])]
    scene.set_levels(boxes)
    ratio = float(np.median([_box_ratio(*b, equal_aspect) for b in boxes]))
    height = min(3.0, (MAX_WIDTH - 1.2) / ncols / ratio - 0.8 / ratio)
    fig, _ = new_figure(
        figsize=(ncols * (height * ratio + 0.8) + 1.2, nrows * (height + 0.9) + 1.2), axes=False
    )
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for i, (ax, name, (low, high)) in enumerate(zip(axes, names, boxes, strict=False)):
        scene.prepare(ax, low, high, labels)
        ax.xaxis.set_major_locator(MaxNLocator(4))
        ax.yaxis.set_major_locator(MaxNLocator(4))
        # axis names on the outer panels only (every panel keeps its own ticks): room for
        # the panels themselves
        if i + ncols < n:
            ax.set_xlabel("")
        if i % ncols:
            ax.set_ylabel("")
        if ncols >= 3:
            ax.tick_params(labelsize="small")
        size = "medium" if ncols < 3 else "small"
        points = _font_points() * (1.0 if ncols < 3 else 0.83)
        text = _wrap(scene.label(name), fig, points, 0.85 / ncols)
        if text.count("\n") >= 2:  # a narrow panel: the name without its settings
            text = _wrap(scene.label(name, short=True), fig, points, 0.85 / ncols)
        ax.set_title(text, fontsize=size)
    for ax in axes[n:]:
        ax.set_visible(False)
    if names:
        scene.colour_bar(fig, axes[:n].tolist())
    fig.suptitle(_wrap(title, fig))
    marks = scene.handles()[len(names) :]  # the panel titles name the runs
    _legend_below(fig, marks, [h.get_label() for h in marks])
    _settle(fig)
    for ax, name in zip(axes, names, strict=False):
        scene.fill(ax, [name])
    _freeze_layout(fig)
    return fig


def surface_paths(
    problem,
    paths: Mapping[str, np.ndarray],
    start=None,
    minimizer=None,
    title: str = "Loss surface and optimizer paths",
    labels: Sequence[str] = ("x1", "x2"),
    resolution: int = 50,
    bounds=None,
    colors: Mapping[str, str] | None = None,
    diverged: Mapping[str, int | None] | None = None,
):
    """The loss surface of a 2-D ``problem`` in 3-D (gray) with the paths lifted onto it.

    Framed and coloured as :func:`contour_paths`; the paths are drawn above the surface in
    their legend colours, diverging ones cut where they leave the view.
    """
    scene = _PathScene(problem, paths, start, minimizer, bounds, resolution, colors, diverged,
                       equal_aspect=False)
    low, high = scene.view(scene.paths)
    fig, ax = new_figure(figsize=(8.4, 6.6), projection="3d")
    gx, gy, values = _loss_grid(problem, low, high, resolution)
    top = float(np.nanmax(values)) if np.isfinite(values).any() else 1.0
    # one face per grid cell: every face has four corners (uneven strides pad faces with
    # uninitialised corners, which overflow in the projection)
    ax.plot_surface(gx, gy, values, rstride=1, cstride=1, cmap="Greys", alpha=0.45,
                    linewidth=0, zorder=1)
    for name, p in scene.paths.items():
        inside = np.all(np.isfinite(p) & (p >= low) & (p <= high), axis=1)
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
            label=scene.label(name),
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
    ax.set_xlim(low[0], high[0])
    ax.set_ylim(low[1], high[1])
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
    nrows, ncols = (1, n) if n <= 4 else panel_grid(n)  # up to four maps in one row
    fig, _ = new_figure(figsize=(3.4 * ncols + 0.6, 3.4 * nrows + 1.6), axes=False)
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
