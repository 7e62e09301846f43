"""Network training figures: sharpness, training curves, CKA by layer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .base import new_figure, palette


def sharpness_curves(traces: Sequence, title: str = "Sharpness against step"):
    """Full-batch GD runs: the sharpness (top Hessian eigenvalue) against the step, with each
    run's stability line ``2 / lr`` dashed in its colour (top), and the loss (bottom, log).

    ``traces``: objects with ``lr``, ``sharpness_steps``, ``sharpness`` and ``loss`` (the
    loss at every step), e.g. :class:`hessian_lab.torch.train.SharpnessTrace`.
    """
    fig, _ = new_figure(figsize=(9.0, 6.5), axes=False)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    colours = palette([f"lr = {trace.lr:.3g}" for trace in traces])
    for trace in traces:
        colour = colours[f"lr = {trace.lr:.3g}"]
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
            label=rf"$2/\eta$ = {2 / trace.lr:.3g}",
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
    top.set_ylabel(r"sharpness $\lambda_{\max}$")
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
    share an optimizer name (the label's text before the first comma) share a colour (the
    optimizer's, from :func:`~hessian_lab.plots.palette`); the
    rest of the label picks the line style. ``switch_epoch`` draws a dotted vertical line
    where the optimizers were swapped.
    """
    fig, _ = new_figure(figsize=(11.0, 4.8), axes=False)
    left, right = fig.subplots(1, 2)
    colours = palette(list(dict.fromkeys(label.partition(",")[0] for label in histories)))
    styles: dict[str, str] = {}
    for label, history in histories.items():
        head, _, tail = label.partition(",")
        colour = colours[head]
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
    """Linear CKA (at most 1) against the layer, one line per pair of networks, coloured by
    the first optimizer the pair names.

    ``similarity``: pair label -> {layer name -> CKA}; ``layers`` gives the order. The
    y-axis spans the data (and 1, the most a CKA can be), not 0..1, so values crowded in
    0.85..1 stay apart.
    """
    fig, ax = new_figure(figsize=(8.5, 5.0))
    positions = np.arange(len(layers))
    colours = palette(list(similarity))
    values_all = []
    for pair, values in similarity.items():
        ys = [values[layer] for layer in layers]
        values_all += ys
        ax.plot(positions, ys, marker="o", color=colours[pair], label=pair)
    ax.set_xticks(positions, layers)
    low = min([1.0, *values_all])
    pad = 0.08 * (1.0 - low) + 0.005
    ax.set_ylim(max(0.0, low - pad), 1.0 + pad)
    ax.set_xlabel("layer (index and type in the network)")
    ax.set_ylabel("linear CKA on the test images")
    ax.set_title(title, fontsize="medium")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower left", fontsize="small")
    return fig
