"""What every figure shares: colours, presentation styles, the figure factory, titles,
legends and saving.

- :func:`palette` gives each run label its optimizer's colour from the catalog
  (:attr:`hessian_lab.catalog.Entry.color`); a second run of the same optimizer gets a
  darker, a third a lighter shade of the same hue, labels that name no optimizer get a
  spare colour. Red is never handed out: it marks the minimizer and divergence.
- :func:`style` is a context manager choosing the presentation: ``notebook`` (the default,
  ~900 px wide at 120 dpi), ``talk`` (16:9, 1920 x 1080 px, 18-pt text and thicker lines:
  legible from the back of a room) or ``paper`` (6.5 in wide, 9-pt text, 300 dpi). Figures
  built inside it take its size, fonts and dpi; nothing outside the ``with`` block changes.
- Every figure is landscape: :func:`figure_size` keeps width / height in
  ``[MIN_ASPECT, MAX_ASPECT]``.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..files import atomic_write

FORMATS = ("png", "svg", "pdf")

#: Spare colours for labels that name no catalog optimizer (tab10's gray and red left out).
PALETTE = (
    "teal",
    "darkmagenta",
    "slateblue",
    "sienna",
    "darkolivegreen",
    "steelblue",
    "orchid",
    "peru",
    "tab:blue",
    "tab:orange",
    "tab:green",
    "tab:purple",
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
MIN_ASPECT, MAX_ASPECT = 0.95, 2.4  # every figure's width / height lies in this range

# shades for further runs of one optimizer: (mix towards, share of the mix)
_SHADES = ((None, 0.0), ("black", 0.4), ("white", 0.45), ("black", 0.65), ("white", 0.65))


def _shade(colour: str, k: int) -> str:
    from matplotlib.colors import to_hex, to_rgb

    towards, share = _SHADES[k % len(_SHADES)]
    if towards is None:
        return colour
    a, b = to_rgb(colour), to_rgb(towards)
    return to_hex(tuple((1 - share) * x + share * y for x, y in zip(a, b, strict=True)))


def optimizer_color(label: str) -> str | None:
    """The catalog colour of the optimizer ``label`` names (``"GD lr=0.02"`` -> gd's)."""
    from .. import catalog

    entry = catalog.optimizer_of(label)
    return None if entry is None else entry.color


def palette(names: Sequence[str], colors: Mapping[str, str] | None = None) -> dict[str, str]:
    """``{name: colour}``: the given ``colors`` first, then each name's optimizer colour
    from the catalog (further runs of that optimizer in shades of it), then spare colours.

    Build it once per run or experiment and pass it to every figure, so one run keeps one
    colour in every figure; the catalog makes one optimizer keep one hue everywhere.
    """
    out = dict(colors or {})
    seen: dict[str, int] = {}
    for colour in out.values():
        seen[colour] = seen.get(colour, 0) + 1
    taken = set(out.values()) | {e.color for e in _entries() if e.color}
    spare = [c for c in PALETTE if c not in taken]
    for name in names:
        if name in out:
            continue
        base = optimizer_color(name)
        if base is None:
            base = spare.pop(0) if spare else PALETTE[len(out) % len(PALETTE)]
        out[name] = _shade(base, seen.get(base, 0))
        seen[base] = seen.get(base, 0) + 1
    return out


def palette_of(optimizers: Mapping[str, str]) -> dict[str, str]:
    """``{label: colour}`` for runs whose optimizer is known rather than read from the label
    (``{"optimal heavy ball": "momentum"}``): the catalog colour of each, shades for
    further runs of the same optimizer, a spare colour for a name not in the catalog."""
    keys = {label: f"{name} #{i}" for i, (label, name) in enumerate(optimizers.items())}
    shades = palette(list(keys.values()))
    return {label: shades[key] for label, key in keys.items()}


def _entries():
    from .. import catalog

    return catalog.entries()


# --- presentation styles -----------------------------------------------------------------


@dataclass(frozen=True)
class Style:
    """One presentation: ``width`` inches (``None``: each figure's own), a fixed ``aspect``
    (width / height, ``None``: the figure's own within the landscape bounds), the base
    font size in points, the line width and the dpi files are written at."""

    name: str
    width: float | None
    aspect: float | None
    font: float
    linewidth: float
    dpi: int

    def rc(self) -> dict:
        f = self.font
        return {
            "font.size": f,
            "axes.titlesize": f * 1.15,
            "axes.labelsize": f,
            "xtick.labelsize": f * 0.9,
            "ytick.labelsize": f * 0.9,
            "legend.fontsize": f * (0.8 if f > 12 else 0.9),
            "figure.titlesize": f * 1.25,
            "lines.linewidth": self.linewidth,
            "lines.markersize": 6 * self.linewidth / 1.5,
        }


STYLES = {
    "notebook": Style("notebook", None, None, 10.0, 1.5, 120),
    "talk": Style("talk", 12.8, 16 / 9, 18.0, 2.5, 150),
    "paper": Style("paper", 6.5, None, 9.0, 1.2, 300),
}
_CURRENT: contextvars.ContextVar[Style] = contextvars.ContextVar(
    "hessian_lab_plot_style", default=STYLES["notebook"]
)


@contextlib.contextmanager
def style(name: str = "notebook") -> Iterator[Style]:
    """Build the figures inside this block in presentation ``name`` (see :data:`STYLES`).

        with plots.style("talk"):
            fig = plots.loss_curves(histories)     # 1920 x 1080 px, 18-pt text
        plots.save_figure(fig, "loss.png")         # at the style's dpi

    ``ValueError`` naming the allowed styles for another name.
    """
    if name not in STYLES:
        raise ValueError(f"unknown figure style {name!r}; allowed: {', '.join(STYLES)}")
    import matplotlib

    chosen = STYLES[name]
    token = _CURRENT.set(chosen)
    try:
        with matplotlib.rc_context(chosen.rc()):
            yield chosen
    finally:
        _CURRENT.reset(token)


def current_style() -> Style:
    return _CURRENT.get()


def figure_size(width: float, height: float) -> tuple[float, float]:
    """``(width, height)`` in inches for a figure that would like this size, under the
    current style: landscape (width / height in ``[MIN_ASPECT, MAX_ASPECT]``), and the
    style's width and aspect where it fixes them."""
    s = current_style()
    aspect = s.aspect or min(max(width / height, MIN_ASPECT), MAX_ASPECT)
    width = s.width or width
    return width, width / aspect


def new_figure(figsize=(7.0, 5.0), projection: str | None = None, axes: bool = True):
    """A constrained-layout ``Figure`` on an Agg canvas sized by :func:`figure_size`, with
    one axes (``"3d"`` for surfaces; ``axes=False``: none, the caller adds its own)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figure_size(*figsize), layout="constrained", dpi=current_style().dpi)
    FigureCanvasAgg(fig)
    if not axes:
        return fig, None
    if projection == "3d":
        import mpl_toolkits.mplot3d  # noqa: F401  (registers the projection)

        ax = fig.add_subplot(projection="3d", computed_zorder=False)
    else:
        ax = fig.add_subplot()
    return fig, ax


def _font_points(key: str = "axes.titlesize") -> float:
    import matplotlib
    from matplotlib.font_manager import FontProperties

    return FontProperties(size=matplotlib.rcParams[key]).get_size_in_points()


_MATH = re.compile(r"\$[^$]*\$")


def _glue(text: str) -> str:
    """``text`` with the spaces that must not break a line made non-breaking: inside
    ``$...$``, inside parentheses (except after a comma), around ``=``, ``<``, ``>``,
    ``~``, ``/`` and before a number ("step 101")."""
    out, depth, math = [], 0, False
    for i, ch in enumerate(text):
        if ch == "$":
            math = not math
        elif ch == "(" and not math:
            depth += 1
        elif ch == ")" and not math:
            depth = max(0, depth - 1)
        if ch == " ":
            before, after = text[i - 1 : i], text[i + 1 : i + 2]
            glued = math or (depth and before != ",") or after[:1].isdigit()
            if glued or before in "=<>~/×≈≤≥" or after in "=<>~/×≈≤≥":
                ch = "\u00a0"
        out.append(ch)
    return "".join(out)


def _visible_len(text: str) -> int:
    """Characters a line shows (a mathtext symbol such as ``$\\kappa$`` counts as one)."""
    return len(_MATH.sub(lambda m: "x" * max(1, len(re.sub(r"\\[a-zA-Z]+", "x", m[0])) - 2),
                         text))


def _wrap(text: str, fig, fontsize_pt: float | None = None, share: float = 0.92) -> str:
    """``text`` broken into lines that fit ``share`` of the figure's width (a character is
    at most ~0.6 em wide), never inside a formula, parentheses or ``a = b``."""
    size = fontsize_pt or _font_points()
    return _balanced(text, max(16, int(fig.get_figwidth() * 72 * share / (0.6 * size))))


def _balanced(text: str, width: int) -> str:
    """:func:`_fill` in as few lines as ``width`` allows, each as short as that number of
    lines allows: the lines come out about equal, never a lone last word."""
    lines = _fill(text, width).count("\n")
    while width > 16 and _fill(text, width - 1).count("\n") == lines:
        width -= 1
    return _fill(text, width)


def _fill(text: str, width: int) -> str:
    """``text`` in lines of at most ``width`` visible characters, broken only at the spaces
    :func:`_glue` leaves breakable (a longer formula stays whole on its own line)."""
    lines: list[str] = []
    for word in _glue(text).split(" "):
        if lines and _visible_len(lines[-1]) + 1 + _visible_len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "\n".join(lines).replace("\u00a0", " ") or text


def _title(fig, ax, text: str) -> None:
    ax.set_title(_wrap(text, fig, share=0.7))


def _finish(fig, ax, title: str, n: int | None = None):
    """The common end of a one-axes figure: its wrapped title, a log-friendly grid, the
    legend below; returns ``fig``."""
    _title(fig, ax, title)
    ax.grid(True, which="both", alpha=0.3)
    _legend_below(fig, n=n)
    return fig


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
    labels = [_fill(label, LEGEND_CHARS) for label in labels]
    longest = max(_visible_len(line) for label in labels for line in label.splitlines())
    char = 0.55 * _font_points("legend.fontsize")
    per_row = max(1, int(fig.get_figwidth() * 72 * 0.95 / (char * longest + 4 * char)))
    fig.legend(
        handles,
        labels,
        loc="outside lower center",
        ncols=min(len(labels), per_row, n or len(labels)),
    )


def save_figure(fig, path: str | os.PathLike, dpi: int | None = None) -> Path:
    """Write ``fig`` to ``path`` (png, svg or pdf by extension) through a temporary file,
    at ``dpi`` (default: the dpi of the style the figure was built in).

    Raises ``ValueError`` for another extension; on failure ``path`` is left untouched.
    """
    p = Path(path)
    ext = p.suffix.lower().lstrip(".")
    if ext not in FORMATS:
        raise ValueError(
            f"plot path {str(path)!r}: unknown file type {p.suffix or '(none)'!r}; "
            f"allowed: {', '.join('.' + f for f in FORMATS)}"
        )
    atomic_write(p, lambda handle: fig.savefig(handle, format=ext, dpi=dpi or "figure"))
    return p
