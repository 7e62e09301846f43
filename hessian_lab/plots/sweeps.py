"""Hyperparameter sweeps: steps to tolerance over a 1-D or 2-D grid."""

from __future__ import annotations

import math

import numpy as np

from .base import DIVERGED_COLOR, SLOW_COLOR, _legend_below, _title, new_figure


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
        _log_range(ax, "x", x, 0.5 / max(x.size - 1, 1))
    if log_y:
        ax.set_yscale("log")
        _log_range(ax, "y", y, 0.5 / max(y.size - 1, 1))
    ax.set_xlabel(x_name)
    ax.set_ylabel(y_name)
    _title(fig, ax, title)
    own, labels = ax.get_legend_handles_labels()
    _legend_below(fig, own + handles, labels + [h.get_label() for h in handles])
    return fig


WIDE_DECADES = 60  # log axes wider than this get fixed decade ticks (matplotlib's overflow)


def _log_range(ax, which: str, values: np.ndarray, pad: float) -> None:
    """Limit ``ax``'s ``which`` ("x" or "y") log axis to the positive ``values`` widened by
    ``pad`` of their width in decades, within float64's finite numbers. A grid may span
    1e-300..1e300: on axes that wide matplotlib's own log ticks overflow to inf, so those
    get one tick every few decades instead."""
    logs = np.log10(values[values > 0])
    lo, hi = logs.min(), logs.max()
    lo, hi = max(lo - pad * (hi - lo), -307.0), min(hi + pad * (hi - lo), 308.0)
    getattr(ax, f"set_{which}lim")(10.0**lo, 10.0**hi)
    if hi - lo > WIDE_DECADES or hi > 250:
        from matplotlib.ticker import FixedLocator, NullLocator

        stride = next(n for n in (10, 20, 25, 50, 100, 200) if (hi - lo) / n <= 8)
        first, last = math.ceil(lo / stride) * stride, math.floor(hi / stride) * stride
        axis = getattr(ax, f"{which}axis")
        axis.set_major_locator(FixedLocator(10.0 ** np.arange(first, last + 1, stride)))
        axis.set_minor_locator(NullLocator())


def _zoom(ax, x, measured, best, optimum, boundary, log_x, color) -> None:
    """An inset on the optimum, the boundary and the fastest point, when the two lines lie
    within 5% of the axis of each other (they would print as one)."""
    if optimum is None or boundary is None or not (optimum > 0 and boundary > 0):
        return
    scale = np.log10 if log_x else (lambda v: v)
    span = float(np.ptp(scale(x[x > 0] if log_x else x))) or 1.0
    if abs(float(scale(boundary) - scale(optimum))) > 0.05 * span:
        return
    lo = min(optimum, boundary, x[best])
    hi = max(optimum, boundary, x[best])
    pad = 0.25 * (hi - lo) or 0.05 * hi
    inset = ax.inset_axes((0.07, 0.08, 0.42, 0.38))
    keep = (x >= lo - pad) & (x <= hi + pad)
    inset.plot(x[keep], measured[keep], "o-", markersize=3, color=color)
    inset.plot(x[best], measured[best], "D", color="none", markeredgecolor="magenta",
               markeredgewidth=2, markersize=8)
    inset.axvline(optimum, color="green", linestyle=":", linewidth=1.8)
    inset.axvline(boundary, color="red", linestyle="--", linewidth=1.8)
    inset.set_xlim(lo - pad, hi + pad)
    inset.set_yscale("log")
    inset.set_title("zoom", fontsize="small")
    inset.tick_params(labelsize="x-small")
    inset.xaxis.get_major_formatter().set_useOffset(False)
    from matplotlib.ticker import MaxNLocator

    inset.xaxis.set_major_locator(MaxNLocator(3))


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
    color: str | None = None,
    xlabel: str | None = None,
):
    """Measured (and predicted) steps to tolerance against one hyperparameter, log y-axis.

    The x-axis covers the whole grid; points that diverged (red x) or ran out of steps
    (gray bar) are marked along the top edge, from ``status`` (the engine's strings). The
    fastest grid point is marked (a magenta diamond, its value and steps in the legend).
    When the optimum and the boundary lie too close to tell apart on the axis, an inset
    zooms on them and the fastest point. ``color``: the measured line's (the optimizer's);
    ``xlabel``: the axis label (default ``x_name``).
    """
    fig, ax = new_figure(figsize=(7.5, 5.2))
    x = np.asarray(x, dtype=float)
    measured = np.asarray(steps, float)
    if np.isfinite(measured).any():
        ax.plot(x, measured, "o-", markersize=3, label="measured", color=color)
        best = int(np.nanargmin(measured))
        ax.plot(x[best], measured[best], "D", color="none", markeredgecolor="magenta",
                markeredgewidth=2, markersize=10, zorder=5,
                label=f"fewest steps: {x_name} = {x[best]:.4g}, {int(measured[best])} steps")
        _zoom(ax, x, measured, best, optimum, boundary, log_x, color)
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
            _log_range(ax, "x", span, pad)
        else:
            ax.set_xlim(span.min() - pad * np.ptp(span), span.max() + pad * np.ptp(span))
    ax.set_xlabel(xlabel or x_name)
    ax.set_ylabel("steps to tolerance")
    _title(fig, ax, title)
    ax.grid(True, which="both", alpha=0.3)
    _legend_below(fig)
    return fig
