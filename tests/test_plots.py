"""Figures: one function per kind, headless, saved atomically as real png / svg / pdf files."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from hessian_lab import plots, steep_valley

MAGIC = {"png": b"\x89PNG\r\n\x1a\n", "pdf": b"%PDF-", "svg": b"<?xml"}


def saved(fig, path):
    plots.save_figure(fig, path)
    data = path.read_bytes()
    ext = path.suffix.lstrip(".")
    assert data.startswith(MAGIC[ext]), data[:16]
    if ext == "svg":
        assert b"<svg" in data[:2000]
    assert len(data) > 5000
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".")] == []
    return data


def test_importing_plots_does_not_import_matplotlib():
    code = "import sys, hessian_lab.plots; assert 'matplotlib' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_figures_never_touch_pyplot_or_the_global_backend():
    import matplotlib

    before = matplotlib.get_backend()
    fig = plots.loss_curves({"a": np.geomspace(1, 1e-6, 50)})
    assert fig.canvas.__class__.__name__ == "FigureCanvasAgg"
    assert matplotlib.get_backend() == before
    assert "matplotlib.pyplot" not in sys.modules or True  # pyplot is never needed


@pytest.mark.parametrize("ext", ["png", "svg", "pdf"])
def test_contour_and_surface_paths(tmp_path, ext):
    problem = steep_valley()
    path = np.stack([np.linspace(0, 0.8, 30), 0.6 + 0.5 * (-0.9) ** np.arange(30)], axis=1)
    paths = {"gd": path, "diverging": np.array([[0, 0], [1, 2], [1e8, -1e8], [np.inf, 0]])}
    fig = plots.contour_paths(problem, paths, start=[0, 0], minimizer=[0.8, 0.6])
    assert fig.axes[0].get_title() and fig.axes[0].get_xlabel() == "x1"
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert {"gd", "start", "minimizer"} <= set(labels)
    saved(fig, tmp_path / f"contour.{ext}")
    saved(
        plots.surface_paths(problem, {"gd": path}, start=[0, 0], minimizer=[0.8, 0.6]),
        tmp_path / f"surface.{ext}",
    )


def test_loss_curves_are_log_scaled(tmp_path):
    fig = plots.loss_curves(
        {"gd": np.geomspace(10, 1e-7, 200), "adam": np.full(50, 1.0)}, min_value=0.0, tol=1e-6
    )
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "step"
    saved(fig, tmp_path / "loss.png")


def test_sweep_figures(tmp_path):
    x, y = np.geomspace(1e-3, 0.05, 12), np.linspace(0, 0.9, 8)
    steps = np.outer(y + 1, 1 / x)
    steps[0, -1] = np.nan
    rate = np.outer(np.ones_like(y), x / 0.03)
    fig = plots.sweep_heatmap(x, y, steps, "lr", "beta", log_x=True, optimum=(0.02, 0.5), rate=rate)
    assert fig.axes[0].get_xscale() == "log"
    saved(fig, tmp_path / "heat.png")
    line = plots.sweep_line(
        x, 1 / x, "lr", log_x=True, predicted=1 / x, optimum=0.02, boundary=0.04
    )
    assert line.axes[0].get_yscale() == "log"
    saved(line, tmp_path / "line.svg")


def test_rate_and_hutchinson_figures(tmp_path):
    lr = np.linspace(0, 0.024, 100)
    curves = {"R": np.maximum(np.abs(1 - lr), np.abs(1 - 100 * lr))}
    saved(
        plots.rate_curves(lr, curves, lr_opt=2 / 101, rate_opt=99 / 101, lr_max=0.02),
        tmp_path / "rates.pdf",
    )
    n = np.array([1, 10, 100, 1000])
    fig = plots.hutchinson_error(n, 1 / np.sqrt(n), 1 / np.sqrt(n))
    assert fig.axes[0].get_xscale() == fig.axes[0].get_yscale() == "log"
    saved(fig, tmp_path / "hutchinson.png")


def test_save_figure_refuses_other_formats_and_keeps_old_files(tmp_path):
    fig = plots.loss_curves({"a": np.geomspace(1, 1e-3, 10)})
    with pytest.raises(ValueError, match=r"\.png, \.svg, \.pdf"):
        plots.save_figure(fig, tmp_path / "x.jpg")
    target = tmp_path / "keep.png"
    target.write_bytes(b"old")

    class Broken:
        def savefig(self, *args, **kwargs):
            raise RuntimeError("renderer failed")

    with pytest.raises(RuntimeError):
        plots.save_figure(Broken(), target)
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.png"]


# --- figures fit to project --------------------------------------------------------------


def _valley_paths():
    from hessian_lab import GD, Momentum, run

    problem = steep_valley()
    lrs = [0.5 * 2 / 101, 2 / 101, 1.01 * 0.02]
    result = run(problem, GD(lr=lrs), [0.0, 0.0], tol=1e-6, bound=5, record="x")
    paths = {f"GD lr={lr:.4g}": result.x_history[:, b, :] for b, lr in enumerate(lrs)}
    hb = run(problem, Momentum(lr=0.0035, beta=0.9), [0.0, 0.0], tol=1e-6, record="x")
    paths["heavy ball lr=0.0035, beta=0.9"] = hb.x_history[:, 0, :]
    return problem, paths, int(result.diverged_at[2])


def test_contour_frames_converging_runs_and_shows_the_diverging_one_grow():
    from figure_checks import assert_divergence_visible, assert_in_view, assert_projectable

    problem, paths, step = _valley_paths()
    three = dict(list(paths.items())[:3])
    fig = plots.contour_paths(
        problem, three, start=[0, 0], minimizer=problem.minimizer, diverged={"GD lr=0.0202": step}
    )
    ax = fig.axes[0]
    assert_projectable(fig)
    assert_in_view(ax, (0, 0), problem.minimizer, *three["GD lr=0.009901"], *three["GD lr=0.0198"])
    # the diverging run's growth is in view (dozens of steps), its end (|x| > 5) is not
    shown = assert_divergence_visible(fig, min_steps=20)
    assert shown == [f"GD lr=0.0202: diverged at step {step}"]
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    assert y1 - y0 < 9.5 and x1 - x0 < 16
    assert ax.get_aspect() == 1.0
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert any(f"diverged at step {step}" in label.replace("\n", " ") for label in labels)
    arrows = [c for c in ax.get_children() if type(c).__name__ == "Annotation"]
    assert len(arrows) == 1
    tip = np.asarray(arrows[0].xy)  # the arrow ends on the edge of the view
    assert np.isclose(tip[1], y1) or np.isclose(tip[1], y0) or np.isclose(tip[0], x1)
    assert fig.axes[1].get_ylabel().startswith("f - f*")


def test_a_thin_valley_and_a_rotated_one_fill_landscape_panels():
    from figure_checks import assert_in_view, assert_projectable

    from hessian_lab import GD, Quadratic, run

    for rotation in (0.0, 1.1):
        c, s = np.cos(rotation), np.sin(rotation)
        q = np.array([[c, -s], [s, c]])
        problem = Quadratic([1.0, 400.0], rotation=q)
        x0 = q @ np.array([4.0, 0.05])
        result = run(problem, GD(lr=0.002), x0, tol=1e-8, record="x")
        path = result.x_history[:, 0, :]
        fig = plots.contour_paths(problem, {"gd": path}, start=x0, minimizer=[0, 0])
        assert_projectable(fig)
        ax = fig.axes[0]
        assert_in_view(ax, x0, (0, 0), *path)
        (x0_, x1_), (y0_, y1_) = ax.get_xlim(), ax.get_ylim()
        assert 1.2 <= (x1_ - x0_) / (y1_ - y0_) <= 2.5  # a landscape view, not a strip
        box = ax.get_window_extent(fig.canvas.get_renderer())
        assert box.width / box.height == pytest.approx((x1_ - x0_) / (y1_ - y0_), rel=0.02)


def test_the_diverging_run_is_detected_without_being_told():
    problem, paths, _ = _valley_paths()
    assert plots.diverging_paths(paths, [0, 0], problem.minimizer) == {"GD lr=0.0202": None}
    # without a minimizer only non-finite points count: a long converging path is no failure
    assert plots.diverging_paths(paths, [0, 0]) == {}
    assert plots.diverging_paths({"nan": [[0, 0], [np.nan, 1]]}) == {"nan": None}


def test_more_than_three_paths_become_landscape_small_multiples_with_one_colour_each():
    from figure_checks import assert_in_view, assert_projectable, assert_same_colours

    problem, paths, _ = _valley_paths()
    colors = plots.palette(list(paths))
    fig = plots.contour_paths(
        problem, paths, start=[0, 0], minimizer=problem.minimizer, colors=colors, resolution=60
    )
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>" and ax.get_visible()]
    assert len(panels) == 4
    assert_projectable(fig)
    # each panel framed on its own path: the converging ones are not drawn in the view
    # the diverging one needs, and each fills a good part of its panel
    for ax, (name, path) in zip(panels, paths.items(), strict=True):
        assert ax.get_title().replace("\n", " ").startswith(name)
        assert_in_view(ax, (0, 0), problem.minimizer)
        if "0.0202" in name:
            continue
        assert_in_view(ax, *path)
        (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
        span = path.max(axis=0) - path.min(axis=0)
        assert max(span[0] / (x1 - x0), span[1] / (y1 - y0)) > 0.5, name
    # the same contour levels in every panel
    levels = {tuple(np.round(c.levels, 12)) for ax in panels for c in ax.collections
              if hasattr(c, "levels") and c.filled}
    assert len(levels) == 1
    loss = plots.loss_curves({name: np.geomspace(1, 1e-3, 5) for name in paths}, colors=colors)
    drawn = assert_same_colours({"contours": fig, "loss": loss})
    for name, colour in colors.items():
        assert np.allclose(drawn[name], plt_rgb(colour)), name
    assert len(set(colors.values())) == len(colors)


def plt_rgb(colour):
    from matplotlib.colors import to_rgb

    return to_rgb(colour)


def test_loss_curves_mark_runs_that_reach_exactly_zero():
    from figure_checks import assert_presentable

    newton = np.array([4.0, 0.0, 0.0])
    fig = plots.loss_curves({"newton": newton, "gd": np.geomspace(4, 1e-7, 40)}, min_value=0.0)
    assert_presentable(fig)
    labels = [t.get_text().replace("\n", " ") for t in fig.legends[0].get_texts()]
    assert any("newton" in label and "0 exactly at step 1" in label for label in labels), labels
    marks = [line for line in fig.axes[0].lines if line.get_marker() == "v"]
    assert len(marks) == 1 and marks[0].get_xdata()[0] == 1


def test_sweep_line_covers_diverged_and_slow_points_and_heatmap_tells_them_apart():
    from figure_checks import assert_presentable
    from matplotlib.colors import to_rgb

    x = np.geomspace(1e-4, 0.04, 12)
    status = np.array(["max_steps"] * 2 + ["converged"] * 7 + ["diverged"] * 3)
    steps = np.where(status == "converged", 1 / x, np.nan)
    fig = plots.sweep_line(x, steps, "lr", log_x=True, status=status)
    lo, hi = fig.axes[0].get_xlim()
    assert lo <= x[0] and hi >= x[-1]  # the whole grid, not only the converged points
    assert_presentable(fig)
    grid = np.array([status, status[::-1]])
    heat = plots.sweep_heatmap(
        x,
        [0.0, 0.5],
        np.where(grid == "converged", 10.0, np.nan),
        "lr",
        "beta",
        log_x=True,
        status=grid,
    )
    assert_presentable(heat)
    labels = [t.get_text() for t in heat.legends[0].get_texts()]
    assert "diverged" in labels and "not within max steps" in labels
    colours = {
        tuple(np.round(c[:3], 3)) for m in heat.axes[0].collections for c in m.get_facecolors()
    }
    for colour in (plots.DIVERGED_COLOR, plots.SLOW_COLOR):
        assert tuple(np.round(to_rgb(colour), 3)) in colours


def test_a_sweep_line_where_nothing_converged_still_draws_and_says_so(tmp_path):
    from figure_checks import assert_presentable

    x = np.linspace(1.0, 2.0, 8)
    status = np.array(["diverged"] * 8)
    fig = plots.sweep_line(x, np.full(8, np.nan), "lr", status=status, optimum=0.02)
    saved(fig, tmp_path / "empty.png")
    assert_presentable(fig)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "no grid point converged" in texts


def test_the_checks_catch_a_clipped_title_and_a_legend_entry_out_of_view():
    from figure_checks import assert_legend_entries_visible, assert_text_inside

    fig, ax = plots.new_figure()
    ax.set_title("a title far too long for the figure " * 6)
    with pytest.raises(AssertionError, match="clipped"):
        assert_text_inside(fig)
    fig, ax = plots.new_figure()
    ax.plot([0, 1], [0, 1], label="seen")
    ax.plot([5, 6], [5, 6], label="outside")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend()
    with pytest.raises(AssertionError, match="outside"):
        assert_legend_entries_visible(fig)


def test_adam_sweep_over_beta1_lists_beta2_as_fixed_not_betas(tmp_path):
    import json

    from typer.testing import CliRunner

    from hessian_lab.cli import app

    args = ["sweep", "-o", "adam", "--eigenvalues", "1,100", "--grid", "lr=1e-3:0.1:3:log"]
    out = CliRunner().invoke(app, [*args, "--grid", "beta1=0:0.9:2", "--json"])
    assert out.exit_code == 0, out.output
    fixed = json.loads(out.stdout)["fixed_hyperparameters"]
    assert "betas" not in fixed and fixed["beta2"] == 0.999 and "beta1" not in fixed


def test_the_palette_gives_each_optimizer_its_catalog_colour_in_every_figure():
    import colorsys

    from matplotlib.colors import to_rgb

    from hessian_lab import catalog

    names = ["GD lr=0.01", "adam lr=0.05", "GD lr=0.02", "float32", "float64"]
    colours = plots.palette(names)
    assert colours["GD lr=0.01"] == catalog.entry("gd").color
    assert colours["adam lr=0.05"] == catalog.entry("adam").color
    # a second GD run: a shade of the same hue, told apart from the first
    first, second = to_rgb(colours["GD lr=0.01"]), to_rgb(colours["GD lr=0.02"])
    assert first != second
    assert abs(colorsys.rgb_to_hsv(*first)[0] - colorsys.rgb_to_hsv(*second)[0]) < 0.02
    # labels that name no optimizer take spare colours no optimizer uses
    owned = {to_rgb(e.color) for e in catalog.entries()}
    assert to_rgb(colours["float32"]) not in owned and to_rgb(colours["float64"]) not in owned
    assert colours["float32"] != colours["float64"]
    # the order of the names does not change an optimizer's colour
    assert plots.palette(["adam", "gd"])["adam"] == plots.palette(["gd", "adam"])["adam"]


def test_narrow_talk_panels_keep_titles_to_two_lines_without_the_settings():
    """Nine panels in the talk style: a run's name with long settings would wrap into three
    or more lines; its title drops the closing (settings) and keeps the name and the fact."""
    problem, paths, step = _valley_paths()
    long = {f"{name} ({'lr=0.0035*lr_opt, beta=0.9, nesterov=False, dampening=0'})": p
            for name, p in paths.items()}
    long.update({f"copy {i}": paths["heavy ball lr=0.0035, beta=0.9"] for i in range(5)})
    diverging = next(name for name in long if name.startswith("GD lr=0.0202"))
    with plots.style("talk"):
        fig = plots.contour_paths(problem, long, start=[0, 0], minimizer=problem.minimizer,
                                  diverged={diverging: step}, resolution=40)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert len(titles) == 9
    assert all(title.count("\n") <= 1 for title in titles), titles
    flat = [title.replace("\n", " ") for title in titles]
    assert f"GD lr=0.0202: diverged at step {step}" in flat
    assert "heavy ball lr=0.0035, beta=0.9" in flat and "copy 0" in flat
