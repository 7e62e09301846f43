"""The canned experiments: each runs in quick mode, writes real files, and reports numbers
that agree with the theory they illustrate."""

from __future__ import annotations

import functools
import io
import json
import subprocess
import sys

import numpy as np
import pytest
from figure_checks import (
    assert_divergence_visible,
    assert_in_view,
    assert_landscape,
    assert_projectable,
    assert_same_colours,
)

from hessian_lab.experiments import EXPERIMENTS, ExperimentResult, run_experiment

NAMES = [
    "steep-valley",
    "rate-curves",
    "sigmoid-neuron",
    "newton-vs-gd",
    "scaling",
    "cross-init",
    "precision",
    "hutchinson",
]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@functools.cache
def quick(name: str) -> ExperimentResult:
    """Each experiment runs once per test session (quick mode); the tests share the result."""
    return run_experiment(name, quick=True)


def rows(result: ExperimentResult, key: str, value) -> list[dict]:
    return [row for row in result.table if row.get(key) == value]


# --- registry ---------------------------------------------------------------------------


def test_registry_lists_the_eight_experiments_first_with_summaries():
    assert list(EXPERIMENTS)[: len(NAMES)] == NAMES  # the network studies follow them
    for name, entry in EXPERIMENTS.items():
        assert entry.name == name
        assert entry.summary and "\n" not in entry.summary


def test_unknown_experiment_is_a_one_line_error_naming_the_allowed_ones():
    with pytest.raises(ValueError, match=r"unknown experiment 'nope'; allowed: steep-valley, "):
        run_experiment("nope")


def test_importing_the_experiments_is_cheap():
    code = (
        "import sys, hessian_lab.experiments as e; e.EXPERIMENTS['steep-valley'].summary; "
        "print(sorted(m for m in ('sympy', 'matplotlib', 'torch') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- every experiment: files and JSON ---------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_experiment_writes_table_json_and_real_png_figures(name, tmp_path):
    result = quick(name)
    assert result.name == name
    assert result.table and result.figures
    written = result.write(tmp_path / "out")
    names = {p.name for p in written}
    assert {"table.csv", "table.md", "result.json"} <= names
    document = json.loads((tmp_path / "out" / "result.json").read_text())
    assert document["name"] == name
    assert len(document["table"]) == len(result.table)
    assert sorted(document["figures"]) == sorted(result.figures)
    for figure in result.figures:
        payload = (tmp_path / "out" / f"{figure}.png").read_bytes()
        assert payload[:8] == PNG_MAGIC
        assert len(payload) > 10_000, figure
    header = (tmp_path / "out" / "table.csv").read_text().splitlines()[0]
    assert header.split(",")[0] == result.columns[0]
    # nothing but the targets is left in the folder (the temporaries were renamed)
    assert {p.name for p in (tmp_path / "out").iterdir()} == names


def test_write_leaves_nothing_behind_when_a_figure_fails(tmp_path):
    class Broken:
        def savefig(self, *args, **kwargs):
            raise RuntimeError("cannot render")

    result = ExperimentResult("x", "x", [{"a": 1}], {"a": 1}, {"broken": Broken()})
    with pytest.raises(RuntimeError):
        result.write(tmp_path / "out")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_json_has_no_nan_and_missing_values_are_null():
    result = ExperimentResult("x", "t", [{"a": float("nan"), "b": np.int64(3)}], {"c": np.inf})
    document = json.loads(result.to_json())
    assert document["table"] == [{"a": None, "b": 3}]
    assert document["data"] == {"c": None}


# --- what each experiment shows ---------------------------------------------------------


def test_steep_valley_linear_methods_take_exactly_the_predicted_steps():
    result = quick("steep-valley")
    linear = [r for r in result.table if r["optimizer"] in ("gd", "momentum", "nesterov")]
    converged = [r for r in linear if r["status"] == "converged"]
    assert len(converged) == 4  # GD at lr*, heavy ball, Nesterov, optimal heavy ball
    for row in converged:
        assert row["steps"] == row["predicted_steps"], row
    (diverging,) = rows(result, "run", "GD at 1.01 lr_max")
    assert diverging["status"] == "diverged" and diverging["diverged_at"] > 0
    assert diverging["predicted_rate"] > 1
    q = result.data["quantities"]
    assert q["lr_opt"] == pytest.approx(2 / 101) and q["lr_max"] == pytest.approx(2 / 100)
    adaptive = [r for r in result.table if r["optimizer"] not in ("gd", "momentum", "nesterov")]
    assert all(r["predicted_steps"] is None and r["status"] == "converged" for r in adaptive)
    # one contour per run, the combined one, GD beside momentum, the losses
    assert len(result.figures) == 9 + 3
    # the combined figure is small multiples: one panel per run, none hidden by another
    panels = [ax for ax in result.figures["contour_all"].axes if ax.get_label() != "<colorbar>"]
    assert sum(ax.get_visible() for ax in panels) == 9


def test_rate_curves_optimum_comes_from_the_symbolic_layer():
    result = quick("rate-curves")
    lambda_min, lambda_max = 1.0, 5.0
    assert result.data["lr_opt"] == pytest.approx(2 / (lambda_min + lambda_max), rel=1e-12)
    assert result.data["rate_opt"] == pytest.approx(2 / 3, rel=1e-12)
    first = result.data["spectra"][0]
    assert first["measured_rate_at_lr_opt"] == pytest.approx(2 / 3, rel=1e-6)
    # the R(lr) curve (theory bridge) is smallest next to lr*
    lr, R = np.asarray(first["lr"]), np.asarray(first["curves"]["R(lr) = max |r|"])
    assert abs(lr[np.argmin(R)] - 1 / 3) <= lr[1] - lr[0]
    steps_table = result.tables["steps_vs_kappa"]
    for row in steps_table:
        assert row["GD at lr* steps"] == row["GD at lr* predicted"]
        assert row["optimal HB steps"] == row["optimal HB predicted"]
        assert "Adam predicted" not in row  # no closed form: no always-empty column
    assert all("kappa" in row and "lr_opt" in row for row in result.table)
    assert not any("GD at lr* steps" in row for row in result.table)  # one table per file
    steps = result.data["steps_vs_kappa"]["methods"]
    assert steps["optimal HB"]["measured"][-1] < steps["GD at lr*"]["measured"][-1] / 5


def test_scaling_adahessian_k1_is_insensitive_while_gd_is_not():
    result = quick("scaling")
    ah = [r["AdaHessian k=1 steps"] for r in result.table]
    gd = [r["GD best steps"] for r in result.table]
    assert None not in ah and None not in gd
    assert max(ah) - min(ah) <= max(1, 0.05 * min(ah))
    assert max(gd) / min(gd) > 10
    # the batched sweep's best lr is the theory's lr* (or beats it)
    for row in result.table:
        assert row["GD best steps"] <= row["GD at lr* predicted"]


def test_precision_float32_stalls_at_the_predicted_floor_above_float64():
    result = quick("precision")
    double, single = result.table
    assert double["dtype"] == "float64" and single["dtype"] == "float32"
    assert double["steps"] == double["predicted_steps"]
    assert single["steps"] is None  # float32 never reaches 1e-12
    assert single["final_distance"] > 1e3 * double["predicted_floor"]
    assert single["final_distance"] > 1e3 * double["final_distance"]
    # both floors are measured, not only drawn: each run stalls well before the end
    for row in (double, single):
        assert 0.5 <= row["final / floor"] <= 1.5, row
        assert row["stall_step"] < result.data["max_steps"] - 200, row


def test_hutchinson_error_falls_like_one_over_sqrt_n():
    result = quick("hutchinson")
    for probe in ("rademacher", "gaussian"):
        assert result.data["slopes"][probe] == pytest.approx(-0.5, abs=0.08)
        measured = np.asarray(result.data["curves"][probe]["measured"])
        theory = np.asarray(result.data["curves"][probe]["theory"])
        assert np.all(np.abs(measured / theory - 1) < 0.25)
    # Gaussian probes carry the extra 2 H_ii^2: larger error at every N
    r = np.asarray(result.data["curves"]["rademacher"]["measured"])
    g = np.asarray(result.data["curves"]["gaussian"]["measured"])
    assert np.all(g > r)


def test_newton_vs_gd_diagonal_is_exact_only_when_axis_aligned():
    result = quick("newton-vs-gd")
    aligned = rows(result, "problem", "axis-aligned")
    for row in aligned:
        if row["method"] != "GD at lr*":
            assert row["steps"] == 1, row
    rotated = [r for r in result.table if r["problem"] != "axis-aligned"]
    by_method = {r["method"]: r for r in rotated}
    assert by_method["Newton"]["steps"] == 1
    exact = by_method["diagonal Newton (exact diag)"]
    assert exact["steps"] > 1 and exact["steps"] == exact["predicted_steps"]


def test_sigmoid_neuron_adahessian_leaves_the_plateau_first():
    result = quick("sigmoid-neuron")
    final = {r["optimizer"]: r["final loss"] for r in result.table}
    assert final["AdaHessian"] < final["Adam"] < final["GD"]


def test_cross_init_hand_over_and_basins():
    result = quick("cross-init")
    handover = result.data["handover"]
    assert len(handover) == 4 and all(r["status"] == "converged" for r in handover)
    for name, share in result.data["shares"].items():
        total = sum(v for k, v in share.items() if k != "crossed")
        assert total == pytest.approx(1.0), name
    # GD stays in the basin nearest its start more often than the heavy ball
    shares = result.data["shares"]
    assert shares["GD"]["crossed"] <= shares["heavy ball"]["crossed"]
    # the basins depend on both coordinates: no map is a set of vertical stripes
    for name, basin in result.data["basins"].items():
        basin = np.asarray(basin)
        assert np.any(basin != basin[:1, :]), name  # some column changes basin along y
        assert np.any(basin != basin[:, :1]), name  # and some row along x
    assert len(result.data["minima"]) == 4


# --- the figures are fit to project ------------------------------------------------------


#: Where an experiment draws many figures of one kind, the checks look at one of each.
ONE_OF_EACH = {
    "steep-valley": ("contour_01_gd_at_1_01_lr_max", "contour_all", "gd_vs_momentum",
                     "loss_curves"),
    "rate-curves": ("rate_curves_1_1000", "steps_vs_kappa", "factors_vs_lambda",
                    "heavy_ball_map"),
}


@pytest.mark.parametrize("name", NAMES)
def test_every_figure_is_projectable(name):
    """Every figure landscape; one of each kind: no clipped text, every legend entry drawn
    and in view, no title under a legend, colour bars no taller than their axes."""
    figures = quick(name).figures
    for fig in figures.values():
        assert_landscape(fig)
    for figure in ONE_OF_EACH.get(name, figures):
        fig = figures[figure]
        # twice: a figure shown and then saved is drawn again, and must not move
        for drawing in ("first", "second"):
            try:
                assert_projectable(fig)
            except AssertionError as error:
                raise AssertionError(f"{name}/{figure} ({drawing} drawing): {error}") from None
            fig.savefig(io.BytesIO(), format="png")


@pytest.mark.parametrize("name", ["steep-valley", "newton-vs-gd", "sigmoid-neuron", "cross-init"])
def test_one_colour_per_run_across_the_figures_of_an_experiment(name):
    seen = assert_same_colours(quick(name).figures)
    assert len(set(seen.values())) >= 3


def test_one_colour_per_optimizer_from_the_catalog_across_experiments():
    from matplotlib.colors import to_rgb

    from hessian_lab import catalog

    gd = to_rgb(catalog.entry("gd").color)
    hb = to_rgb(catalog.entry("momentum").color)
    valley = assert_same_colours(quick("steep-valley").figures)
    assert valley["GD at 1.01 lr_max (lr=1.01*lr_max)"] == gd
    assert valley["heavy ball (lr=0.175*lr_opt, beta=0.9)"] == hb
    assert assert_same_colours(quick("cross-init").figures)["heavy ball alone"] == hb
    newton = assert_same_colours(quick("newton-vs-gd").figures)
    assert newton["GD at lr* (lr = 0.4)"] == gd
    assert newton["Newton (lr = 1)"] == to_rgb(catalog.entry("newton").color)


def test_the_diverging_run_grows_in_view_in_every_steep_valley_figure():
    figures = quick("steep-valley").figures
    for name in ("contour_01_gd_at_1_01_lr_max", "contour_all", "loss_curves"):
        assert assert_divergence_visible(figures[name], min_steps=5), name


def test_the_hand_over_step_is_marked_on_the_hand_over_paths():
    result = quick("cross-init")
    steps = result.data["handover_steps"]
    marked = 0
    for ax in result.figures["handover"].axes:
        marks = [line for line in ax.lines if line.get_label().startswith("hand-over after")]
        paths = [line for line in ax.lines if "then" in line.get_label()]
        if marks:  # the mark sits on the path, at the step where B takes over
            assert len(marks) == 1 and len(paths) == 1
            assert f"after {steps} steps" in marks[0].get_label()
            assert np.allclose(marks[0].get_xydata()[0], paths[0].get_xydata()[steps])
            marked += 1
    assert marked == 2


def test_steep_valley_frames_the_start_the_minimizer_and_every_converging_path():
    result = quick("steep-valley")
    runs = {r["run"]: r for r in result.table}
    for figure, fig in result.figures.items():
        if not figure.startswith("contour"):
            continue
        for ax in fig.axes:
            if ax.get_label() == "<colorbar>" or not ax.get_visible():
                continue
            assert_in_view(ax, (0.0, 0.0), (0.8, 0.6))
            assert ax.get_aspect() == 1.0  # both coordinates share units
            for line in ax.lines:
                run = line.get_label().split(" (")[0]
                if run in runs and runs[run]["status"] == "converged":
                    assert_in_view(ax, *line.get_xydata())
        assert any("f - f*" in ax.get_ylabel() for ax in fig.axes)  # the colour bar
    diverging = result.figures["contour_01_gd_at_1_01_lr_max"]
    labels = [
        t.get_text().replace("\n", " ") for legend in diverging.legends for t in legend.get_texts()
    ]
    assert any("diverged at step" in label for label in labels), labels
    assert (
        diverging.axes[0].texts
        or diverging.axes[0].patches
        or any(type(c).__name__ == "Annotation" for c in diverging.axes[0].get_children())
    )
