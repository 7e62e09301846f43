"""The network experiments (quick mode): files, figures, and the science they show."""

from __future__ import annotations

import functools
import json

import pytest

from hessian_lab.experiments import EXPERIMENTS, ExperimentResult, run_experiment

NETWORK_NAMES = ["edge-of-stability"]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@functools.cache
def quick(name: str) -> ExperimentResult:
    return run_experiment(name, quick=True)


def test_the_network_experiments_follow_the_quadratic_ones_in_the_registry():
    assert list(EXPERIMENTS)[-len(NETWORK_NAMES) :] == NETWORK_NAMES


@pytest.mark.parametrize("name", NETWORK_NAMES)
def test_network_experiment_writes_table_json_and_png_figures(name, tmp_path):
    result = quick(name)
    written = {p.name for p in result.write(tmp_path)}
    expected = {"table.csv", "table.md", "result.json"} | {f"{f}.png" for f in result.figures}
    assert written == expected
    assert json.loads((tmp_path / "result.json").read_text())["name"] == name
    for figure in result.figures:
        assert (tmp_path / f"{figure}.png").read_bytes()[:8] == PNG_MAGIC


def test_edge_of_stability_sharpness_rises_from_below_to_about_two_over_lr():
    result = quick("edge-of-stability")
    (row,) = result.table
    edge = 2 / row["lr"]
    assert row["initial sharpness"] < 0.75 * edge  # it starts well inside the stable region
    assert 0.85 < row["plateau / (2/lr)"] < 1.25  # and ends hovering at the edge
    run = result.data["runs"][0]
    assert 0.8 * edge < run["sharpness"][-1] < 1.3 * edge
    assert run["loss"][-1] < 0.5 * run["loss"][0]  # while the loss keeps falling
    assert row["diverged at"] is None


def test_edge_of_stability_figure_shows_every_curve_and_its_two_over_lr_line():
    result = quick("edge-of-stability")
    top, bottom = result.figures["sharpness"].axes
    labels = [t.get_text() for t in top.get_legend().get_texts()]
    assert "lr = 0.2" in labels and "2 / lr = 10" in labels
    low, high = top.get_ylim()
    assert low <= min(result.data["runs"][0]["sharpness"]) and high > 10 * 1.05
    assert bottom.get_yscale() == "log" and bottom.get_legend() is not None
