"""Curves against the step or a problem parameter: loss, steps, rates, floors, probes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .base import ZERO_LABEL, _finish, _legend_below, _wrap, new_figure, palette

#: marker shapes of runs with only a few points (a one-step Newton run)
SHAPES = ("o", "s", "D", "^", "P", "X")


def finished(history) -> np.ndarray:
    """A recorded history up to the step its run finished: the engine freezes a finished
    run's row, so the trailing repeats of the last value (after its first occurrence) are
    cut. ``(T + 1, ...)`` in, ``(k + 1, ...)`` out."""
    h = np.asarray(history, dtype=float)
    if len(h) < 2:
        return h
    flat = h.reshape(len(h), -1)
    last = flat[-1]
    same = np.all((flat == last) | (np.isnan(flat) & np.isnan(last)), axis=1)
    moving = np.flatnonzero(~same)
    return h[: (moving[-1] + 2) if moving.size else 1]


def loss_curves(
    histories: Mapping[str, np.ndarray],
    min_value: float | None = None,
    tol: float | None = None,
    title: str = "Loss against step",
    ylabel: str | None = None,
    colors: Mapping[str, str] | None = None,
    diverged: Mapping[str, int | None] | None = None,
    xlabel: str = "step",
):
    """``f - f*`` (or ``f``) against the step for each run, on a log scale (``xlabel``:
    what a step is, e.g. an epoch).

    Each curve ends at the step its run finished (see :func:`finished`), never padded.
    A run that reaches exactly 0 (which a log axis cannot show) ends in a triangle on the
    bottom edge at that step, and its legend entry says so. A diverging run (``diverged``:
    ``{name: step}``, or a last value above 10 times its first) ends in an ``x`` and its
    entry says "diverged at step N"; above 1000 times the largest start it leaves
    through the top.
    """
    fig, ax = new_figure(figsize=(7.0, 5.4))
    colors = palette(list(histories), colors)
    diverged = {k: v for k, v in (diverged or {}).items() if v is not None}
    gaps = {}
    for name, history in histories.items():
        h = finished(np.asarray(history, dtype=float).reshape(-1))
        gaps[name] = h - min_value if min_value is not None else h
    starts = [g[0] for g in gaps.values() if g.size and np.isfinite(g[0]) and g[0] > 0]
    ceiling = 1e3 * max(starts) if starts else None
    what = "f - f*" if min_value is not None else "f"
    zero_marked = False
    short = 0  # runs of a few points get their own marker, larger first: overlaps show
    zeros = 0  # zero marks stack up from the bottom edge: one per run, none hidden
    for name, gap in gaps.items():
        zero = np.flatnonzero(gap <= 0)
        positive = np.where(gap > 0, gap, np.nan)
        label = name
        blew_up = gap.size and (~np.isfinite(gap[-1]) or gap[-1] > 10 * abs(gap[0]))
        if zero.size:
            label += f" ({what} = 0 exactly at step {zero[0]})"
        elif name in diverged:
            label += f" (diverged at step {diverged[name]})"
        elif blew_up:
            label += " (diverges)"
        few = np.isfinite(positive).sum() < 3
        ax.plot(
            np.arange(gap.size),
            positive,
            label=label,
            color=colors[name],
            marker=SHAPES[short % len(SHAPES)] if few else None,
            markersize=max(4.0, 13.0 - 2.5 * short) if few else 4,
            markerfacecolor="none" if few else None,
            markeredgewidth=2 if few else None,
        )
        short += few
        shown = np.flatnonzero(np.isfinite(positive))
        if (name in diverged or blew_up) and shown.size and not zero.size:
            end = shown[-1]
            ax.plot([end], [min(positive[end], ceiling or np.inf)], "x", color=colors[name],
                    markersize=10, markeredgewidth=2, clip_on=False)
        if zero.size:
            ax.plot(
                [zero[0]],
                [0.03 + 0.05 * zeros],
                "v",
                color=colors[name],
                markersize=9,
                transform=ax.get_xaxis_transform(),
                label=None if zero_marked else ZERO_LABEL.format(what=what),
                clip_on=False,
            )
            zero_marked = True
            zeros += 1
    if tol is not None:
        ax.axhline(tol, color="gray", linestyle=":", label=f"tolerance {tol:g}")
    ax.set_yscale("log")
    if ceiling is not None and any(
        (np.nan_to_num(g, nan=np.inf) > ceiling).any() for g in gaps.values()
    ):
        ax.set_ylim(top=ceiling)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel or ("loss - f*" if min_value is not None else "loss"))
    return _finish(fig, ax, title)


def rate_curves(
    lr: np.ndarray,
    curves: Mapping[str, np.ndarray],
    lr_opt: float | None = None,
    rate_opt: float | None = None,
    lr_max: float | None = None,
    title: str = "Contraction factors of gradient descent",
    measured=None,
):
    """Contraction factors against the learning rate, in two panels: the factors themselves
    (left, the stability line ``|r| = 1``) and their distance to 1, ``1 - |r|``, on a log
    axis (right), where ``R*`` stays apart from 1 however close to it it is
    (``1 - R* = 2/(kappa + 1)``). ``lr*``, ``R*`` and ``lr_max`` are marked in both.

    ``curves``: ``{label: (len(lr),)}``; the last is drawn black and thick (the overall
    rate ``R``). ``measured`` is ``(lr, rate, label)``: measured rates as black dots.
    """
    fig, _ = new_figure(figsize=(11.0, 5.2), axes=False)
    left, right = fig.subplots(1, 2)
    lr = np.asarray(lr, dtype=float)
    names = list(curves)
    colours = palette(names[:-1])
    values_all = []
    for i, name in enumerate(names):
        values = np.asarray(curves[name], float)
        values_all.append(values)
        last = i == len(names) - 1
        style = dict(color="black", linewidth=2.6) if last else dict(color=colours[name])
        left.plot(lr, values, label=name, **style)
        with np.errstate(invalid="ignore"):
            gap = np.where(values < 1, 1 - values, np.nan)
        right.plot(lr, gap, **style)
    left.axhline(1.0, color="gray", linestyle=":", label="stability limit |r| = 1")
    for ax in (left, right):
        if lr_max is not None:
            ax.axvline(lr_max, color="red", linestyle="--",
                       label=None if ax is right else rf"$\eta_{{\max}}$ = {lr_max:.4g}")
        ax.set_xlabel(r"learning rate $\eta$")
        ax.grid(True, which="both", alpha=0.3)
    if lr_opt is not None and rate_opt is not None:
        star = dict(marker="*", color="black", markeredgecolor="white", markersize=16,
                    linestyle="", zorder=5)
        left.plot(lr_opt, rate_opt, label=rf"$\eta^*$ = {lr_opt:.4g}, $R^*$ = {rate_opt:.4g}",
                  **star)
        right.plot(lr_opt, 1 - rate_opt, **star)
        right.annotate(rf"$1 - R^*$ = {1 - rate_opt:.3g}", (lr_opt, 1 - rate_opt),
                       xytext=(-12, -18), textcoords="offset points", ha="right",
                       bbox=dict(facecolor="white", edgecolor="none", alpha=0.6))
    if measured is not None:
        m_lr, m_rate, m_label = measured
        m_lr, m_rate = np.asarray(m_lr, float), np.asarray(m_rate, float)
        left.plot(m_lr, m_rate, "o", color="black", markersize=4, label=m_label)
        with np.errstate(invalid="ignore"):
            right.plot(m_lr, np.where(m_rate < 1, 1 - m_rate, np.nan), "o", color="black",
                       markersize=4)
    top = max(float(np.nanmax(v)) for v in values_all) if values_all else 2.0
    left.set_ylim(0, min(max(1.25, top * 1.05), 2.0))
    left.set_ylabel("contraction factor per step |r|")
    right.set_yscale("log")
    right.set_ylabel("distance to 1: 1 - |r| (log scale)")
    left.set_title("factors", fontsize="medium")
    right.set_title(r"how far below 1 ($R^*$ beside 1)", fontsize="medium")
    fig.suptitle(_wrap(title, fig))
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
    guides: Mapping[str, tuple[float, float, float]] | None = None,
):
    """Steps against a problem parameter (kappa, a scale), log-log, one colour per method.

    ``series`` is ``{method: {"measured": [...], "predicted": [...]}}`` (``predicted``
    optional, NaN where there is none): measured as dots on a line, predicted as crosses
    on a dashed line of the same colour. A measured NaN (not reached) is drawn as an open
    triangle on the ``budget`` line (drawn only then: it would stretch the log axis).
    ``guides`` ``{label: (slope, x, y)}`` draws gray guide lines ``y * (x'/x)^slope``
    through ``(x, y)`` (``"O(kappa)": (1, 10, 120)``).
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
    unreached = any(
        (~np.isfinite(np.asarray(v["measured"], dtype=float))).any() for v in series.values()
    )
    if budget is not None and unreached:
        ax.axhline(budget, color="gray", linestyle=":", label=f"step budget {budget:g}")
    for (label, (slope, gx, gy)), dash in zip(
        (guides or {}).items(), ((0, (6, 3)), (0, (1, 2)), (0, (4, 2, 1, 2))), strict=False
    ):
        ax.plot(x, gy * (x / gx) ** slope, color="gray", linewidth=2.2, linestyle=dash,
                label=label, zorder=1)
    if log_x:
        ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return _finish(fig, ax, title)


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
    ax.set_ylabel(r"distance to the minimizer $\|x - x^*\|$")
    return _finish(fig, ax, title)


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
                label=f"{prefix}theory" + ("" if name else r": $\sigma/\sqrt{N}$"),
            )
    ax.set_xscale("log", base=2 if n.min() >= 1 and np.allclose(np.log2(n) % 1, 0) else 10)
    ax.set_yscale("log")
    ax.set_xlabel("probes N per estimate")
    ax.set_ylabel(ylabel)
    return _finish(fig, ax, title, n=2)
