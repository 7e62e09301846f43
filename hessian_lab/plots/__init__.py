"""Figures: one function per kind, each returning a matplotlib ``Figure``.

Headless by construction: figures are built with the object-oriented API on an Agg canvas
(``matplotlib.figure.Figure`` + ``FigureCanvasAgg``) with constrained layout, so nothing
here opens a window, touches pyplot's global state or changes styles at import.
matplotlib itself is imported inside the functions; importing this package is cheap.

    colors = palette(["gd lr=0.02", "momentum"])     # catalog colours, one per run
    with style("talk"):                              # or "paper"; default "notebook"
        fig = contour_paths(problem, {"gd lr=0.02": xs_gd, "momentum": xs_hb}, colors=colors)
    save_figure(fig, "valley.png")                   # png / svg / pdf by extension, atomic

What the figures promise (and ``tests/figure_checks.py`` verifies):

- landscape: width / height in ``[0.95, 2.4]`` (the talk style: 16:9, 1920 x 1080 px);
- one colour per optimizer, from the catalog (:func:`palette`);
- the view is framed on the start, the minimizer and the paths that converge, and on the
  first steps of a diverging path, enough to see it grow; it then leaves the view in an
  arrow on the edge and its legend says where it diverged ("diverged at step N");
- the colour bar shows ``f - f*`` on a log scale (``f - min over the view`` when ``f*`` is
  unknown) and is no taller than its axes; equal aspect when both coordinates share units,
  the view widened along the short side so a thin valley still fills a landscape panel;
- more than three paths are drawn as small multiples, laid out landscape: one panel per
  run, each framed on its own path, over contours with the same levels;
- legends sit outside the axes (below them), titles are wrapped to the figure width, never
  inside a formula or ``a = b``.

Modules: :mod:`.base` (colours, styles, saving), :mod:`.paths` (contours, surface,
basins), :mod:`.curves` (against the step or a parameter), :mod:`.sweeps`, :mod:`.lecture`
(the standard lecture plots), :mod:`.motion` (animations), :mod:`.networks`, :mod:`.noise`
(noisy runs against the exact expected loss, steps against batch size, noise floors).

Inputs are plain arrays (NumPy or anything ``np.asarray`` accepts); no CLI logic lives here,
so the CLI, the canned experiments and the notebooks share the same figures.
"""

from __future__ import annotations

from .base import (
    DIVERGED_COLOR,
    FORMATS,
    MAX_ASPECT,
    MIN_ASPECT,
    PALETTE,
    SLOW_COLOR,
    STYLES,
    current_style,
    figure_size,
    new_figure,
    optimizer_color,
    palette,
    palette_of,
    save_figure,
    style,
)
from .curves import (
    distance_floor,
    finished,
    hutchinson_error,
    loss_curves,
    rate_curves,
    steps_curves,
)
from .lecture import factors_vs_eigenvalue, heavy_ball_map, heavy_ball_roots, side_by_side
from .motion import ANIMATION_FORMATS, animate_paths, check_animation_path, frame_steps
from .networks import cka_layers, sharpness_curves, training_curves
from .noise import batch_size_curves, floor_curves, noisy_loss_curves
from .paths import (
    basin_maps,
    contour_panels,
    contour_paths,
    diverging_paths,
    surface_paths,
    view_box,
)
from .sweeps import sweep_heatmap, sweep_line

__all__ = [
    "ANIMATION_FORMATS",
    "animate_paths",
    "check_animation_path",
    "frame_steps",
    "DIVERGED_COLOR",
    "FORMATS",
    "MAX_ASPECT",
    "MIN_ASPECT",
    "PALETTE",
    "SLOW_COLOR",
    "STYLES",
    "current_style",
    "figure_size",
    "new_figure",
    "optimizer_color",
    "palette",
    "palette_of",
    "save_figure",
    "style",
    "distance_floor",
    "hutchinson_error",
    "finished",
    "loss_curves",
    "batch_size_curves",
    "floor_curves",
    "noisy_loss_curves",
    "rate_curves",
    "steps_curves",
    "factors_vs_eigenvalue",
    "heavy_ball_map",
    "heavy_ball_roots",
    "side_by_side",
    "cka_layers",
    "sharpness_curves",
    "training_curves",
    "basin_maps",
    "contour_panels",
    "contour_paths",
    "diverging_paths",
    "surface_paths",
    "view_box",
    "sweep_heatmap",
    "sweep_line",
]
