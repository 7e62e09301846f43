"""``run --noise`` and ``theory --noise``: Monte Carlo rows beside the exact expected loss."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

import hessian_lab as hl
from hessian_lab.cli import app
from hessian_lab.noisy_theory import expected_loss, stationary_loss, steps_to_target

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args), env={"COLUMNS": "200"})


def as_json(*args: str) -> dict:
    result = invoke(*args, "--json")
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return json.loads(result.stdout)


def assert_bad_input(result, *fragments: str) -> None:
    assert result.exit_code == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0]
    assert "Traceback" not in result.stderr and not result.stdout


def test_run_noise_reports_the_mean_beside_the_exact_expected_loss():
    doc = as_json("run", "--eigenvalues", "1,0.5,0.1", "--noise", "hessian", "--batch-size",
                  "4", "--rows", "400", "--max-steps", "80", "-o", "gd:lr=1",
                  "-o", "momentum:lr=0.5,beta=0.5", "-o", "adam")
    assert doc["noise"] == {"cov": "hessian", "batch_size": 4, "seed": 0, "rows": 400}
    problem = hl.Quadratic([1.0, 0.5, 0.1])
    noise = hl.GradientNoise("hessian", batch_size=4)
    gd, momentum, adam = doc["runs"]
    for run, opt in ((gd, hl.GD(lr=1.0)), (momentum, hl.Momentum(lr=0.5, beta=0.5))):
        exact = expected_loss(problem, opt, np.ones(3), 80, noise)
        assert run["expected_loss"] == pytest.approx(float(exact), rel=1e-12)
        assert run["stationary_loss"] == pytest.approx(stationary_loss(problem, opt, noise))
        assert abs(run["mean_final_loss"] - exact) < 4 * run["stderr"]
        assert run["diverged_rows"] == 0
    assert adam["expected_loss"] is None and "adam" in adam["prediction_note"]
    assert adam["mean_final_loss"] > 0


def test_methods_without_an_exact_loss_are_named_in_one_note():
    result = invoke("run", "--noise", "0.5", "--rows", "5", "--max-steps", "5", "-o", "gd",
                    "-o", "adam", "-o", "rmsprop")
    assert result.exit_code == 0, result.stderr
    notes = [line for line in result.stdout.splitlines() if "no exact expected loss" in line]
    assert len(notes) == 1 and "for adam, rmsprop (only the linear methods" in notes[0]


def test_run_noise_table_and_plot(tmp_path):
    out = tmp_path / "noisy.png"
    result = invoke("run", "--noise", "0.5", "--rows", "20", "--max-steps", "30", "-o", "gd",
                    "--plot", str(out))
    assert result.exit_code == 0, result.stderr
    assert "mean f - f* +- s.e." in result.stdout and "E f - f* (exact)" in result.stdout
    assert out.stat().st_size > 0


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("--noise", "curvature"), "--noise"),
        (("--noise", "1,2,3"), "3 dimensions but the problem has 2"),
        (("--noise", "-1"), "--noise"),
        (("--batch-size", "4"), "need --noise"),
        (("--noise", "1", "--rows", "1"), "--rows"),
        (("--noise", "1", "--batch-size", "0"), "--batch-size"),
    ],
)
def test_run_noise_bad_inputs(args, fragment):
    assert_bad_input(invoke("run", "-o", "gd", *args), fragment)


def test_theory_noise_floor_and_steps():
    doc = as_json("theory", "--eigenvalues", "1,0.1", "--noise", "hessian", "--batch-size", "8",
                  "--tol", "0.05", "--max-steps", "5000")
    problem = hl.Quadratic([1.0, 0.1])
    noise = hl.GradientNoise("hessian", batch_size=8)
    rows = doc["noise"]["predictions"]
    gd = rows["gd"]
    opt = hl.GD(lr=gd["hyperparameters"]["lr"])
    assert gd["stationary_loss"] == pytest.approx(stationary_loss(problem, opt, noise))
    assert gd["steps"] == steps_to_target(problem, opt, np.ones(2), 0.05, noise, 5000)
    tuned = rows["gd (tuned for the target)"]
    assert tuned["steps"] is not None and tuned["steps"] <= 5000
    best = hl.GD(lr=tuned["hyperparameters"]["lr"])
    assert expected_loss(problem, best, np.ones(2), tuned["steps"], noise) <= 0.05
    assert expected_loss(problem, best, np.ones(2), tuned["steps"] - 1, noise) > 0.05


def test_theory_noise_needs_the_loss_criterion():
    assert_bad_input(invoke("theory", "--kappa", "10", "--noise", "1", "--criterion", "grad"),
                     "--criterion loss")
