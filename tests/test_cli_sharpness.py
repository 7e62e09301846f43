"""``hessian-lab sharpness``: the network's lambda_max and lr_max = 2 / lambda_max, weights
in and out, and one-line errors."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch
from typer.testing import CliRunner

from hessian_lab.cli import app
from hessian_lab.torch.data import digits
from hessian_lab.torch.models import mlp
from hessian_lab.torch.sharpness import network_sharpness, sharpness
from hessian_lab.torch.spectrum import power_iteration
from hessian_lab.torch.train import dataset_loss

runner = CliRunner()
SMALL = ["--examples", "48", "--tol", "1e-7"]


def invoke(*args):
    return runner.invoke(app, ["sharpness", *args])


def test_sharpness_json_reports_lambda_max_and_lr_max_of_the_seeded_model():
    result = invoke(*SMALL, "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["command"] == "sharpness" and doc["model"] == "mlp" and doc["examples"] == 48
    assert doc["converged"] is True
    assert doc["lr_max"] * doc["lambda_max"] == pytest.approx(2.0, rel=1e-12)
    # the same model and data measured by another method: power (subspace) iteration
    data, _ = digits(n_train=48, n_test=0, seed=0)
    model = mlp(seed=0)
    top = power_iteration(model, lambda: dataset_loss(model, data, "mse"), tol=1e-5)
    assert doc["lambda_max"] == pytest.approx(float(top.values[0]), rel=1e-6)
    loss = float(dataset_loss(model, data, "mse").detach())
    assert doc["loss"] == pytest.approx(loss, rel=1e-12)


def test_gd_steps_then_save_and_reload_gives_the_same_sharpness(tmp_path):
    path = tmp_path / "w.pt"
    trained = invoke(*SMALL, "--gd-steps", "30", "--lr", "0.2", "--save", str(path), "--json")
    assert trained.exit_code == 0, trained.output
    doc = json.loads(trained.stdout)
    assert doc["lr_x_lambda_max"] == pytest.approx(0.2 * doc["lambda_max"], rel=1e-12)
    reloaded = json.loads(invoke(*SMALL, "--weights", str(path), "--json").stdout)
    assert reloaded["lambda_max"] == pytest.approx(doc["lambda_max"], rel=1e-8)
    assert reloaded["loss"] == pytest.approx(doc["loss"], rel=1e-12)
    assert reloaded["loss"] < network_sharpness(examples=48, tol=1e-4)[1]["loss"]


def test_the_plain_table_names_lambda_max_and_lr_max():
    result = invoke(*SMALL)
    assert result.exit_code == 0, result.output
    assert "lambda_max" in result.stdout and "lr_max" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--examples", "0"], "--examples must be an integer in [1, 1797]; got 0"),
        (["--gd-steps", "5"], "--gd-steps needs --lr"),
        (["--lr", "-1"], "--lr must be a finite number > 0"),
        (["--tol", "2"], "--tol must be a number in (0, 1)"),
        (["--model", "vgg"], "'vgg' is not one of 'mlp', 'cnn'"),
        (["--weights", "missing.pt"], "weights file 'missing.pt' does not exist"),
        (["--save", "out.png"], "--save 'out.png': unknown file type '.png'"),
    ],
)
def test_bad_input_is_one_line_with_exit_code_two(args, message):
    result = invoke(*args)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0]


def test_weights_of_another_model_or_no_tensors_are_refused_and_nothing_is_saved(tmp_path):
    cnn_weights = tmp_path / "cnn.pt"
    torch.save({"0.weight": torch.zeros(8, 1, 3, 3)}, cnn_weights)
    junk = tmp_path / "junk.pt"
    junk.write_text("not a tensor file")
    out = tmp_path / "out.pt"
    for path, message in ((cnn_weights, "does not fit this model"), (junk, "not a saved torch")):
        result = invoke(*SMALL, "--weights", str(path), "--save", str(out))
        assert result.exit_code == 2 and message in result.stderr
        assert not out.exists()


def test_sharpness_of_a_quadratic_loss_is_its_curvature():
    # L = 1/(2n) sum ||W x_i||^2 on orthonormal inputs: H = (1/n) I per output row
    data, _ = digits(n_train=4, n_test=0, seed=0, flat=True)
    inputs = torch.eye(4, 64, dtype=torch.float64)
    model = torch.nn.Linear(64, 10, bias=False, dtype=torch.float64)
    measured = sharpness(model, dataclasses.replace(data, inputs=inputs), "mse", tol=1e-10)
    assert measured.lambda_max == pytest.approx(0.25, rel=1e-9)
    assert measured.lr_max == pytest.approx(8.0, rel=1e-9)
