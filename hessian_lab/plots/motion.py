"""Motion: optimizer paths drawn step by step beside their loss curves (GIF or MP4).

    animate_paths(problem, paths, losses, "valley.gif", start=x0, minimizer=x_star)

Left, the paths grow over the loss contours (framed as :func:`~hessian_lab.plots.contour_paths`
frames them, a diverging run for its first growing steps); right, ``f - f*`` against the
step on a log axis, each curve growing with its path and ending where its run finished.
A long run is subsampled to at most ``max_frames`` frames: half of them spread evenly over
the run, half geometrically (the first steps, where most happens, get the most frames).
GIFs are written with Pillow (a dependency of matplotlib), MP4 with ffmpeg where it is on
the PATH; the file goes through a temporary name and appears complete or not at all.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from .base import _legend_below, _wrap, new_figure
from .curves import finished
from .paths import _PathScene, _settle

ANIMATION_FORMATS = ("gif", "mp4")
MAX_FRAMES = 100


def frame_steps(n_steps: int, max_frames: int = MAX_FRAMES) -> np.ndarray:
    """The steps shown, one per frame: every step ``0..n_steps`` when they fit in
    ``max_frames``, else half the frames evenly spread and half geometric; sorted, unique,
    always including the first and the last step."""
    if n_steps + 1 <= max_frames:
        return np.arange(n_steps + 1)
    even = np.linspace(0, n_steps, max_frames // 2)
    early = np.geomspace(1, n_steps + 1, max_frames - max_frames // 2) - 1
    return np.unique(np.round(np.concatenate([even, early])).astype(int))


def check_animation_path(path: str | os.PathLike) -> str:
    """The animation's format from its extension; ``ValueError`` naming the allowed ones, or
    saying that MP4 needs ffmpeg when it is not installed."""
    ext = Path(path).suffix.lower().lstrip(".")
    if ext not in ANIMATION_FORMATS:
        raise ValueError(
            f"animation path {str(path)!r}: unknown file type {Path(path).suffix or '(none)'!r};"
            f" allowed: {', '.join('.' + f for f in ANIMATION_FORMATS)}"
        )
    if ext == "mp4":
        from matplotlib import animation

        if not animation.writers.is_available("ffmpeg"):
            raise ValueError(
                f"animation path {str(path)!r}: .mp4 needs ffmpeg on the PATH, which is not "
                "installed here; write a .gif instead"
            )
    return ext


def animate_paths(
    problem,
    paths: Mapping[str, np.ndarray],
    losses: Mapping[str, np.ndarray],
    out: str | os.PathLike,
    start=None,
    minimizer=None,
    title: str = "Optimizer paths, step by step",
    labels: Sequence[str] = ("x1", "x2"),
    colors: Mapping[str, str] | None = None,
    diverged: Mapping[str, int | None] | None = None,
    max_frames: int = MAX_FRAMES,
    fps: int = 12,
    dpi: int | None = None,
    resolution: int = 90,
) -> dict:
    """Write an animation of the ``(T+1, 2)`` ``paths`` beside their ``(T+1,)`` ``losses``
    to ``out`` (``.gif``, or ``.mp4`` with ffmpeg); return ``{"frames": n, "steps": [...]}``.

    Histories padded after a run finished (the engine's frozen rows) are cut at the finish.
    ``dpi`` defaults to two thirds of the current style's (every frame is a full picture:
    the file and the time to write it grow with the square of the dpi).
    """
    from matplotlib import animation

    ext = check_animation_path(out)
    paths = {name: finished(np.asarray(p, dtype=float).reshape(-1, 2)) for name, p in paths.items()}
    losses = {name: finished(np.asarray(h, dtype=float).reshape(-1)) for name, h in losses.items()}
    scene = _PathScene(problem, paths, start, minimizer, None, resolution, colors, diverged)
    low, high = scene.view(scene.paths)
    scene.set_levels([(low, high)])
    fig, _ = new_figure(figsize=(12.0, 5.4), axes=False)
    ax, loss_ax = fig.subplots(1, 2, width_ratios=(1.25, 1.0))
    scene.prepare(ax, low, high, labels)
    f_star = getattr(problem, "min_value", None)
    gaps = {n: h - f_star if f_star is not None else h for n, h in losses.items()}
    longest = max([len(p) - 1 for p in scene.paths.values()] + [1])
    _loss_frame(loss_ax, gaps, longest, f_star is not None)
    fig.suptitle(_wrap(title, fig))
    _legend_below(fig, scene.handles(), [h.get_label() for h in scene.handles()])
    _settle(fig)
    scene.fill(ax, [])  # contours and the start / minimizer marks
    view_low, view_high = ax.get_xlim(), ax.get_ylim()
    lines, heads, curves = {}, {}, {}
    for name in scene.paths:
        colour = scene.colors[name]
        lines[name] = ax.plot([], [], marker=".", markersize=3, color=colour, zorder=3)[0]
        heads[name] = ax.plot([], [], "o", color=colour, markeredgecolor="black", zorder=6)[0]
        curves[name] = loss_ax.plot([], [], color=colour)[0]
    ax.set_xlim(view_low)
    ax.set_ylim(view_high)
    clock = ax.text(0.02, 0.96, "", transform=ax.transAxes, va="top", fontweight="bold",
                    bbox=dict(facecolor="white", edgecolor="none", alpha=0.8))
    steps = frame_steps(longest, max_frames)

    def draw(step: int):
        for name, p in scene.paths.items():
            shown = p[: min(step, len(p) - 1) + 1]
            lines[name].set_data(shown[:, 0], shown[:, 1])
            heads[name].set_data(shown[-1:, 0], shown[-1:, 1])
            gap = gaps[name][: min(step, len(gaps[name]) - 1) + 1]
            curves[name].set_data(np.arange(gap.size), np.where(gap > 0, gap, np.nan))
        clock.set_text(f"step {step}")
        return [*lines.values(), *heads.values(), *curves.values(), clock]

    movie = animation.FuncAnimation(fig, draw, frames=[int(s) for s in steps], blit=False)
    writer = (
        animation.PillowWriter(fps=fps) if ext == "gif" else animation.FFMpegWriter(fps=fps)
    )
    target = Path(out)
    handle, temporary = tempfile.mkstemp(suffix=f".{ext}", dir=target.parent or ".")
    os.close(handle)
    try:
        movie.save(temporary, writer=writer, dpi=dpi or round(fig.dpi * 2 / 3))
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    finally:
        fig.clear()
    return {"frames": len(steps), "steps": [int(s) for s in steps]}


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _loss_frame(ax, gaps: Mapping[str, np.ndarray], longest: int, has_f_star: bool) -> None:
    """The loss axes' fixed frame: every step, every finite positive value (capped at 1000
    times the largest start, where a diverging run leaves through the top)."""
    values = np.concatenate([g[np.isfinite(g) & (g > 0)] for g in gaps.values()] or [[1.0]])
    starts = [g[0] for g in gaps.values() if g.size and np.isfinite(g[0]) and g[0] > 0]
    top = float(values.max()) if values.size else 1.0
    if starts:
        top = min(top, 1e3 * max(starts))
    bottom = float(values.min()) if values.size else top * 1e-6
    ax.set_yscale("log")
    ax.set_xlim(0, longest)
    ax.set_ylim(bottom / 2, top * 2)
    ax.set_xlabel("step")
    ax.set_ylabel("loss - f* (log scale)" if has_f_star else "loss (log scale)")
    ax.grid(True, which="both", alpha=0.3)
