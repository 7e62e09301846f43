"""Checks that make a figure fit to project, shared by the figure and experiment tests.

    from figure_checks import assert_presentable
    assert_presentable(fig)                      # text inside, legends live, titles clear
    assert_projectable(fig)                      # ... and landscape, colour bars that fit
    assert_divergence_visible(fig)               # a diverging run grows in view
    assert_same_colours({"a": fig_a, "b": fig_b}) # one colour per run across figures

Each check renders the figure on its Agg canvas and compares renderer bounding boxes
(display pixels): a clipped label, a legend entry whose line lies outside the view or a
title under a legend fails with the offending text named.
"""

from __future__ import annotations

import re

import numpy as np
from matplotlib.collections import Collection
from matplotlib.colors import to_rgb
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.text import Text

PAD = 1.0  # pixels of tolerance on every box


def _renderer(fig):
    fig.canvas.draw()
    return fig.canvas.get_renderer()


def _axes_parts(ax):
    return [ax.xaxis, ax.yaxis] + ([ax.zaxis] if hasattr(ax, "zaxis") else [])


def _tick_label_ids(fig) -> set[int]:
    ids = set()
    for ax in fig.axes:
        for axis in _axes_parts(ax):
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                ids.update((id(tick.label1), id(tick.label2)))
    return ids


def _inside(ext, box) -> bool:
    return (
        ext.x0 >= box.x0 - PAD
        and ext.y0 >= box.y0 - PAD
        and ext.x1 <= box.x1 + PAD
        and ext.y1 <= box.y1 + PAD
    )


def assert_text_inside(fig, renderer=None) -> None:
    """Every visible, non-empty text (titles, labels, legends, drawn tick labels) lies
    inside the figure."""
    renderer = renderer or _renderer(fig)
    box = fig.bbox
    ticks = _tick_label_ids(fig)
    for text in fig.findobj(Text):
        if id(text) in ticks or not text.get_visible() or not text.get_text().strip():
            continue
        if text.axes is not None and not text.axes.get_visible():
            continue
        ext = text.get_window_extent(renderer)
        assert _inside(ext, box), f"text {text.get_text()!r} is clipped: {ext} outside {box}"
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        for axis in _axes_parts(ax):
            ext = axis.get_tightbbox(renderer)
            if ext is not None:
                assert _inside(ext, box), f"tick labels of {ax.get_title()!r} clipped: {ext}"


def _legends(fig):
    out = list(fig.legends)
    for ax in fig.axes:
        if ax.get_legend() is not None:
            out.append(ax.get_legend())
    return out


def _artists(fig):
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        for artist in [*ax.lines, *ax.collections, *ax.patches, *ax.texts]:
            yield ax, artist


def _points_in_view(ax, artist) -> bool:
    """Whether a line or scatter has at least one finite point inside its axes' box."""
    if isinstance(artist, Line2D):
        xy = np.asarray(artist.get_xydata(), dtype=float)
        transform = artist.get_transform()
    else:
        xy = np.asarray(artist.get_offsets(), dtype=float)
        transform = artist.get_offset_transform()
    if xy.size == 0:
        return False
    xy = xy[np.all(np.isfinite(xy), axis=1)]
    if xy.size == 0:
        return False
    if hasattr(ax, "get_zlim"):  # 3-D: check the x, y limits in data space
        (x0, x1), (y0, y1) = sorted(ax.get_xlim()), sorted(ax.get_ylim())
        return bool(
            np.any((xy[:, 0] >= x0) & (xy[:, 0] <= x1) & (xy[:, 1] >= y0) & (xy[:, 1] <= y1))
        )
    display = transform.transform(xy)
    b = ax.bbox
    ok = (
        (display[:, 0] >= b.x0 - PAD)
        & (display[:, 0] <= b.x1 + PAD)
        & (display[:, 1] >= b.y0 - PAD)
        & (display[:, 1] <= b.y1 + PAD)
    )
    return bool(ok.any())


def _colours_of(artist) -> list[tuple]:
    if isinstance(artist, Line2D):
        return [to_rgb(artist.get_color())]
    if isinstance(artist, Collection):
        out = []
        for colours in (artist.get_facecolors(), artist.get_edgecolors()):
            out += [tuple(c[:3]) for c in np.atleast_2d(colours) if len(c)]
        return out
    if isinstance(artist, Patch):
        return [to_rgb(artist.get_facecolor())]
    return []


def _handle_colour(handle):
    if isinstance(handle, Line2D):
        return to_rgb(handle.get_color())
    if isinstance(handle, Patch):
        return to_rgb(handle.get_facecolor())
    return None


def assert_legend_entries_visible(fig) -> None:
    """Every legend entry stands for something drawn and in view.

    An entry that names an artist of the axes (same label) needs that artist visible with a
    point inside the axes; a proxy entry (a colour swatch or line made for the legend) needs
    a visible artist of the same colour in some axes (a contour, a mesh of cells).
    """
    for legend in _legends(fig):
        for handle, text in zip(legend.legend_handles, legend.get_texts(), strict=True):
            label = text.get_text()
            named = [(ax, a) for ax, a in _artists(fig) if a.get_label() == label]
            if named:
                assert any(
                    a.get_visible() and (not isinstance(a, (Line2D,)) or _points_in_view(ax, a))
                    for ax, a in named
                ), f"legend entry {label!r}: its artist is hidden or outside the view"
                continue
            colour = _handle_colour(handle)
            assert colour is not None, f"legend entry {label!r} has no artist"
            drawn = any(
                a.get_visible() and any(np.allclose(colour, c, atol=0.02) for c in _colours_of(a))
                for _, a in _artists(fig)
            )
            assert drawn, f"legend entry {label!r}: nothing of its colour is drawn"


def assert_titles_clear(fig, renderer=None) -> None:
    """No axes title or suptitle overlaps a legend."""
    renderer = renderer or _renderer(fig)
    titles = [ax.title for ax in fig.axes if ax.get_visible()]
    if fig._suptitle is not None:
        titles.append(fig._suptitle)
    legends = [legend.get_window_extent(renderer) for legend in _legends(fig)]
    for title in titles:
        if not title.get_text().strip():
            continue
        ext = title.get_window_extent(renderer)
        for box in legends:
            assert not ext.overlaps(box), f"title {title.get_text()!r} lies under a legend"


def assert_presentable(fig) -> None:
    """Text inside the figure, every legend entry visible, titles clear of legends."""
    renderer = _renderer(fig)  # one layout pass serves every check
    assert_text_inside(fig, renderer)
    assert_legend_entries_visible(fig)
    assert_titles_clear(fig, renderer)


def assert_in_view(ax, *points) -> None:
    """Every point ``(x, y)`` lies inside the axes' limits."""
    (x0, x1), (y0, y1) = sorted(ax.get_xlim()), sorted(ax.get_ylim())
    for p in points:
        x, y = np.asarray(p, dtype=float)[:2]
        assert x0 <= x <= x1 and y0 <= y <= y1, f"{(x, y)} outside [{x0}, {x1}] x [{y0}, {y1}]"


def line_colours(fig) -> dict[str, tuple]:
    """``{label: rgb}`` of every labelled line in the figure (the legend's colours)."""
    out = {}
    for _, artist in _artists(fig):
        label = artist.get_label()
        if isinstance(artist, Line2D) and label and not label.startswith("_"):
            out[label] = to_rgb(artist.get_color())
    return out


# --- shape, colour bars, divergence, colours across figures ------------------------------


def assert_landscape(fig, low: float = 0.95, high: float = 2.4) -> None:
    """The figure's width / height lies in ``[low, high]``: never portrait, never a strip."""
    w, h = fig.get_size_inches()
    assert low <= w / h <= high, (
        f"figure {w:.2f} x {h:.2f} in: aspect {w / h:.2f} not in [{low}, {high}]"
    )


def _is_colour_bar(ax) -> bool:
    return ax.get_label() == "<colorbar>"


def assert_colour_bars_fit(fig, renderer=None) -> None:
    """No colour bar is taller than the block of axes it stands beside."""
    renderer = renderer or _renderer(fig)
    plain = [ax for ax in fig.axes if ax.get_visible() and not _is_colour_bar(ax)]
    if not plain:
        return
    top = max(ax.get_window_extent(renderer).y1 for ax in plain)
    bottom = min(ax.get_window_extent(renderer).y0 for ax in plain)
    for bar in (ax for ax in fig.axes if _is_colour_bar(ax)):
        box = bar.get_window_extent(renderer)
        assert box.height <= top - bottom + 2 * PAD, (
            f"colour bar {box.height:.0f} px tall beside axes {top - bottom:.0f} px"
        )


def _minimizer_mark(ax):
    for line in ax.lines:
        if line.get_label() == "minimizer":
            return np.asarray(line.get_xydata(), float)[0]
    return None


def assert_divergence_visible(fig, min_steps: int = 3) -> list[str]:
    """Every run labelled "diverged" shows at least ``min_steps`` steps of growth in view:
    on contours, in-view points farther from the minimizer than where the run began (and
    at least 1.5 times as far at the most); on a curve, values above its first one.
    Returns the labels checked (a caller asserts there were some)."""
    checked = []
    for ax in fig.axes:
        if not ax.get_visible() or _is_colour_bar(ax):
            continue
        star = _minimizer_mark(ax)
        for line in ax.lines:
            label = line.get_label()
            if "diverge" not in label:
                continue
            xy = np.asarray(line.get_xydata(), float)
            xy = xy[np.all(np.isfinite(xy), axis=1)]
            (x0, x1), (y0, y1) = sorted(ax.get_xlim()), sorted(ax.get_ylim())
            seen = xy[(xy[:, 0] >= x0) & (xy[:, 0] <= x1) & (xy[:, 1] >= y0) & (xy[:, 1] <= y1)]
            assert len(seen) > min_steps, f"{label!r}: only {len(seen)} points in view"
            if star is not None:
                d = np.linalg.norm(seen - star, axis=1)
            else:
                d = seen[:, 1]
            growing = int((d[1:] > d[0]).sum())
            assert growing >= min_steps and d.max() >= 1.5 * d[0], (
                f"{label!r}: {growing} steps beyond its start in view, at most "
                f"{d.max() / d[0]:.2f} times as far"
            )
            checked.append(label)
    return checked


_STATUS = re.compile(
    r"(: diverged.*|: converged.*| \((diverged|diverges|f( - f\*)? = 0 exactly)[^()]*\))$"
)


def run_name(label: str) -> str:
    """The run a label names, without the status the figures append to it."""
    return _STATUS.sub("", label.replace("\n", " "))


def assert_same_colours(figures) -> dict[str, tuple]:
    """A run drawn in several figures has one colour in all of them; ``{run: rgb}``."""
    seen: dict[str, tuple] = {}
    where: dict[str, str] = {}
    for name, fig in figures.items():
        for label, colour in line_colours(fig).items():
            key = run_name(label)
            if key in ("start", "minimizer"):
                continue
            first = seen.setdefault(key, colour)
            where.setdefault(key, name)
            assert np.allclose(first, colour), (
                f"{key!r} is {colour} in {name} but {first} in {where[key]}"
            )
    return seen


def assert_projectable(fig) -> None:
    """Everything a projected figure needs: presentable, landscape, colour bars that fit."""
    renderer = _renderer(fig)
    assert_text_inside(fig, renderer)
    assert_legend_entries_visible(fig)
    assert_titles_clear(fig, renderer)
    assert_landscape(fig)
    assert_colour_bars_fit(fig, renderer)
