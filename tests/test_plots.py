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
