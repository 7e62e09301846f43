"""The batch-size experiment (quick): the noisy quadratic model's four findings, asserted on
the data that the figures and notes report, and the network measurement."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hessian_lab.experiments import run_experiment


@pytest.fixture(scope="module")
def result():
    return run_experiment("batch-size", quick=True)


def test_writes_table_json_and_figures(result, tmp_path):
    written = {p.name for p in result.write(tmp_path)}
    assert {"table.csv", "table.md", "result.json"} <= written
    assert {f"{name}.png" for name in result.figures} <= written
    document = json.loads((tmp_path / "result.json").read_text())
    assert document["data"]["definition"].startswith("the batch size at which steps x batch")


def test_a_sgd_scales_perfectly_then_levels_off(result):
    a = result.data["findings"]["a"]
    assert 0.8 < a["small_batch_examples_ratio"] < 1.25
    assert a["large_batch_steps_ratio"] < 1.2
    sizes = result.data["batch_sizes"]
    assert a["critical_batch_size"] is not None and sizes[0] < a["critical_batch_size"] < sizes[-1]


def test_b_momentum_helps_only_at_large_batch_sizes(result):
    b = result.data["findings"]["b"]
    assert 0.95 <= b["small_batch_ratio"] <= 1.0  # beta = 0 is in its search
    assert b["large_batch_ratio"] < 0.6
    assert b["critical_batch_size"] > result.data["findings"]["a"]["critical_batch_size"]


def test_c_preconditioning_raises_the_critical_batch_size(result):
    critical = result.data["findings"]["c"]["critical"]
    assert critical["precond-gd p=0.5"] > critical["gd"]
    p_one = critical["precond-gd p=1"]
    assert p_one is None or p_one > critical["precond-gd p=0.5"]
    adam = np.array(result.data["adam"]["steps"], dtype=float)
    assert np.isfinite(adam[-1])


def test_d_averaging_lowers_the_floor_and_monte_carlo_agrees(result):
    ema = result.data["ema"]
    assert result.data["findings"]["d"]["floor_ratio"] < 0.6
    for name, exact in ema["exact"].items():
        mean, se = ema["monte_carlo"][name]
        assert abs(mean - exact) < 4 * se, name


def test_the_network_is_measured(result):
    digits = result.data["digits"]
    for name in ("momentum (torch.optim.SGD)", "adam (torch.optim.Adam)"):
        steps = digits["optimizers"][name]["steps"]
        assert len(steps) == len(digits["batch_sizes"]) and all(s > 0 for s in steps), name
