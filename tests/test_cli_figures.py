"""The CLI's presentation options: --style, --dpi, --format, --animate, --problem himmelblau."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image, ImageSequence
from typer.testing import CliRunner

from hessian_lab.cli import app

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def size(path):
    with Image.open(path) as image:
        return image.size


def test_run_plot_styles_talk_is_16_by_9_and_wide_paper_is_dense(tmp_path):
    talk, notebook = tmp_path / "talk.png", tmp_path / "notebook.png"
    out = invoke("run", "-o", "gd", "-o", "momentum", "--plot", talk, "--style", "talk")
    assert out.exit_code == 0, out.output
    assert invoke("run", "-o", "gd", "-o", "momentum", "--plot", notebook).exit_code == 0
    w, h = size(talk)
    assert w >= 1600 and w / h == pytest.approx(16 / 9, rel=0.01)
    nw, nh = size(notebook)
    assert 0.95 <= nw / nh <= 2.4 and nw < w
    dense = tmp_path / "paper.png"
    out = invoke("run", "-o", "gd", "--plot", dense, "--style", "paper", "--dpi", "100")
    assert out.exit_code == 0, out.output
    assert size(dense)[0] == pytest.approx(6.5 * 100, abs=2)


def test_bad_style_and_dpi_are_one_line_errors(tmp_path):
    for args in (["--style", "poster"], ["--dpi", "5"]):
        out = invoke("run", "-o", "gd", "--plot", tmp_path / "x.png", *args)
        assert out.exit_code == 2 and "Traceback" not in out.output
    assert not (tmp_path / "x.png").exists()


def test_run_animate_writes_a_gif_of_the_paths_and_refuses_mp4_without_ffmpeg(tmp_path):
    from matplotlib import animation

    gif = tmp_path / "newton.gif"
    out = invoke("run", "-o", "newton", "-o", "gd:lr=0.2*lr_opt", "--max-steps", "6",
                 "--animate", gif, "--dpi", "30")
    assert out.exit_code == 0, out.output
    with Image.open(gif) as image:
        frames = [np.asarray(f.convert("RGB"), dtype=float) for f in ImageSequence.Iterator(image)]
    assert len(frames) == 7  # steps 0..6 (GD runs out of steps), one frame each
    assert np.abs(frames[0] - frames[-1]).mean() > 0.5  # the paths moved
    if not animation.writers.is_available("ffmpeg"):
        mp4 = tmp_path / "x.mp4"
        out = invoke("run", "-o", "gd", "--animate", mp4)
        assert out.exit_code == 2 and "ffmpeg" in out.output and not mp4.exists()
    out = invoke("run", "-o", "gd", "--dim", "3", "--animate", tmp_path / "y.gif")
    assert out.exit_code == 2 and "2-D" in out.output
    out = invoke("run", "-o", "gd", "--animate", tmp_path / "y.png")
    assert out.exit_code == 2 and ".gif" in out.output


def test_long_runs_are_subsampled_to_a_bounded_number_of_frames(tmp_path):
    from hessian_lab import GD, plots, run, steep_valley

    problem = steep_valley()
    # GD at lr* finishes at step 419; the slow row keeps the batch going, padding the first
    result = run(problem, GD(lr=[2 / 101, 0.001]), [0.0, 0.0], tol=1e-6, max_steps=500,
                 record=("loss", "x"))
    assert result.steps[0] == 419 and result.x_history.shape[0] == 501
    shown = plots.animate_paths(problem, {"gd": result.x_history[:, 0]},
                                {"gd": result.loss_history[:, 0]}, tmp_path / "gd.gif",
                                start=[0, 0], minimizer=problem.minimizer, max_frames=8, dpi=30,
                                resolution=30)
    assert shown["frames"] <= 8 and shown["steps"][0] == 0
    assert shown["steps"][-1] == result.steps[0]  # the run's last step, not the padding
    with Image.open(tmp_path / "gd.gif") as image:
        assert image.n_frames == shown["frames"]
    assert list(plots.frame_steps(5, 100)) == [0, 1, 2, 3, 4, 5]


def test_himmelblau_is_a_problem_of_the_cli(tmp_path):
    out = invoke("run", "--problem", "himmelblau", "-o", "gd:lr=0.005", "--json")
    assert out.exit_code == 0, out.output
    document = json.loads(out.stdout)
    assert document["runs"][0]["status"] == "converged"
    assert document["runs"][0]["final_loss"] < 1e-6  # every Himmelblau minimum has f = 0
    assert "himmelblau" in invoke("run", "--help").output


def test_sweep_line_marks_the_fastest_point_and_zooms_on_optimum_and_boundary(tmp_path):
    from hessian_lab import plots

    x = np.geomspace(1e-4, 0.03, 40)
    steps = np.where(x < 0.02, 6.6 / x, np.nan)
    status = np.where(x < 0.02, "converged", "diverged")
    fig = plots.sweep_line(x, steps, "lr", log_x=True, optimum=0.0198, boundary=0.02,
                           status=status, xlabel=r"learning rate $\eta$ (lr)")
    labels = [t.get_text().replace("\n", " ") for t in fig.legends[0].get_texts()]
    fastest = x[np.nanargmin(steps)]
    assert any(f"fewest steps: lr = {fastest:.4g}" in label for label in labels), labels
    def zooms(figure):
        return [c for ax in figure.axes for c in ax.child_axes if c.get_title() == "zoom"]

    insets = zooms(fig)
    assert len(insets) == 1
    lo, hi = insets[0].get_xlim()
    # the zoom tells the two lines apart: they are far apart in it
    assert lo < 0.0198 < 0.02 < hi and (0.02 - 0.0198) / (hi - lo) > 0.05
    apart = plots.sweep_line(x, steps, "lr", log_x=True, optimum=0.002, boundary=0.02)
    assert not zooms(apart)


def test_sweep_takes_the_style(tmp_path):
    talk = tmp_path / "s.png"
    out = invoke("sweep", "-o", "gd", "--grid", "lr=1e-3:0.03:8:log", "--plot", talk,
                 "--style", "talk", "--max-steps", "2000")
    assert out.exit_code == 0, out.output
    assert size(talk) == (1920, 1080)


def test_experiment_writes_vector_figures_in_the_talk_style(tmp_path):
    out = invoke("experiment", "precision", "--quick", "--style", "talk", "--format", "svg",
                 "--out", tmp_path / "p")
    assert out.exit_code == 0, out.output
    written = sorted(p.name for p in (tmp_path / "p").iterdir())
    figures = [name for name in written if name.endswith(".svg")]
    assert figures and not [name for name in written if name.endswith(".png")]
    text = (tmp_path / "p" / figures[0]).read_text()
    assert '<svg' in text and 'width="921.6pt" height="518.4pt"' in text  # 12.8 x 7.2 in
    out = invoke("experiment", "precision", "--quick", "--dpi", "50", "--out", tmp_path / "q")
    assert out.exit_code == 0, out.output
    w, h = size(next((tmp_path / "q").glob("*.png")))
    assert w <= 500 and 0.95 <= w / h <= 2.4
    out = invoke("experiment", "precision", "--format", "jpg", "--out", tmp_path / "r")
    assert out.exit_code == 2 and not (tmp_path / "r").exists()
