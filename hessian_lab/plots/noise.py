"""Figures of noisy runs: Monte Carlo means with their bands beside the exact theory."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .base import _finish, _legend_below, _title, new_figure, palette

__all__ = ["noisy_loss_curves", "batch_size_curves", "floor_curves"]


def noisy_loss_curves(
    curves: Mapping[str, Mapping[str, np.ndarray | None]],
    title: str = "Loss under gradient noise",
    colors: Mapping[str, str] | None = None,
):
    """``E f - f*`` against the step: per optimizer the mean of the noisy rows with a band
    of two standard errors, and the exact expected loss as a dashed line where known.

    ``curves``: label -> ``{"mean": (T+1,), "stderr": (T+1,) or None, "expected": (T+1,)
    or None}``; log y axis.
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    fig, ax = new_figure(figsize=(8.0, 5.4))
    colors = palette(list(curves), colors)
    handles, labels = [], []
    for name, c in curves.items():
        mean = np.asarray(c["mean"], dtype=float)
        steps = np.arange(mean.size)
        ax.plot(steps, np.where(mean > 0, mean, np.nan), color=colors[name])
        se = c.get("stderr")
        if se is not None:
            low = np.maximum(mean - 2 * np.asarray(se), mean * 1e-3)
            ax.fill_between(
                steps, low, mean + 2 * np.asarray(se), color=colors[name], alpha=0.25, linewidth=0
            )
        expected = c.get("expected")
        if expected is not None:  # drawn over the mean, in black dashes edged by its colour
            ax.plot(steps, expected, color=colors[name], linewidth=3.0, zorder=3)
            ax.plot(steps, expected, color="black", linestyle="--", linewidth=1.2, zorder=4)
        handles.append(Line2D([], [], color=colors[name], linewidth=2))
        labels.append(name)
    handles += [
        Line2D([], [], color="gray"),
        Patch(color="gray", alpha=0.25),
        Line2D([], [], color="black", linestyle="--"),
    ]
    labels += ["mean of the noisy rows", "±2 standard errors", "exact E f - f* (theory)"]
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss - f*")
    ax.grid(True, which="both", alpha=0.3)
    _title(fig, ax, title)
    _legend_below(fig, handles, labels)
    return fig


def batch_size_curves(
    batch_sizes: Sequence[float],
    steps: Mapping[str, Sequence[float]],
    title: str,
    critical: Mapping[str, float | None] | None = None,
    measured: Mapping[str, tuple[Sequence[float], Sequence[float]]] | None = None,
    colors: Mapping[str, str] | None = None,
    ylabel: str = "steps to the target",
):
    """Steps to a target against batch size on log-log axes: one line per optimizer (the
    theory), its critical batch size as a dotted vertical line, a dotted grey slope of -1
    (perfect scaling) through the first point of the first curve, and optional measured
    points ``measured``: label -> (batch sizes, steps), drawn as markers.
    """
    fig, ax = new_figure(figsize=(7.5, 5.0))
    names = list(steps) + [m for m in (measured or {}) if m not in steps]
    colors = palette(names, colors)
    B = np.asarray(batch_sizes, dtype=float)
    for name, values in steps.items():
        v = np.asarray(values, dtype=float)
        ax.plot(B, v, color=colors[name], marker="o", markersize=4, label=name)
        where = (critical or {}).get(name)
        if where is not None:
            ax.axvline(
                where,
                color=colors[name],
                linestyle=":",
                linewidth=1.2,
                label=f"{name}: critical batch size {where:,.0f}",
            )
    for name, (b, s) in (measured or {}).items():
        ax.plot(
            b,
            s,
            color=colors[name],
            marker="s",
            linestyle="-.",
            markersize=6,
            label=f"{name} (measured)",
        )
    first = next(iter(steps.values()), None)
    if first is not None:
        v = np.asarray(first, dtype=float)
        ok = np.flatnonzero(np.isfinite(v))
        if ok.size:
            i = ok[0]
            ax.plot(
                B,
                v[i] * B[i] / B,
                color="gray",
                linestyle=":",
                linewidth=1,
                label="perfect scaling (steps x B constant)",
            )
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    finite = [x for vals in steps.values() for x in np.asarray(vals, float) if np.isfinite(x)]
    if finite:
        ax.set_ylim(max(0.5, min(finite) / 2), max(finite) * 2)
    ax.set_xlabel("batch size B")
    ax.set_ylabel(ylabel)
    return _finish(fig, ax, title)


def floor_curves(
    x: Sequence[float],
    floors: Mapping[str, Sequence[float]],
    title: str,
    xlabel: str,
    measured: Mapping[str, tuple[Sequence[float], Sequence[float], Sequence[float]]] | None = None,
    colors: Mapping[str, str] | None = None,
):
    """Stationary losses against ``x`` (log-log): theory lines, and measured Monte Carlo
    points with two-standard-error bars (``measured``: label -> (x, mean, stderr))."""
    fig, ax = new_figure(figsize=(7.5, 5.0))
    names = list(floors) + [m for m in (measured or {}) if m not in floors]
    colors = palette(names, colors)
    for name, values in floors.items():
        ax.plot(x, values, color=colors[name], label=f"{name} (exact)")
    for name, (xs, mean, se) in (measured or {}).items():
        ax.errorbar(
            xs,
            mean,
            yerr=2 * np.asarray(se),
            color=colors[name],
            fmt="o",
            markersize=5,
            capsize=3,
            label=f"{name} (Monte Carlo, ±2 s.e.)",
        )
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("stationary E f - f*")
    return _finish(fig, ax, title)
