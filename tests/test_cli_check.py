"""``hessian-lab check``: exit codes, the JSON document, one-line errors, help."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from hessian_lab.cli import app
from hessian_lab.cli.check_cmd import Property
from hessian_lab.testing import PROPERTIES

runner = CliRunner()
QUICK = ["--examples", "2", "--budget", "400"]


def invoke(*args):
    return runner.invoke(app, ["check", *args])


def test_a_sound_optimizer_exits_0_with_the_documented_json():
    result = invoke("torch.optim:SGD", "--kwargs", "lr=0.1", "--like", "gd", "--json", *QUICK)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["target"] == "torch.optim:SGD" and doc["kwargs"] == {"lr": 0.1}
    assert doc["verdict"] == "pass"
    statuses = {i["name"]: i["status"] for i in doc["invariants"]}
    assert set(doc["invariants"][0]) == {"name", "status", "detail", "counterexample"}
    assert statuses["parity with gd"] == statuses["rate vs theory"] == "pass"
    assert statuses["rotation equivariance"] == "not applicable"  # not declared


def test_a_drifting_step_function_in_a_file_exits_1_with_a_counterexample(tmp_path):
    path = tmp_path / "drift.py"
    path.write_text("def step(x, g, state, lr=0.1):\n    return x - lr * g + 1e-9, state\n")
    result = invoke(f"{path}:step", "--json", *QUICK)
    assert result.exit_code == 1, result.output
    doc = json.loads(result.stdout)
    failed = {i["name"]: i for i in doc["invariants"] if i["status"] == "fail"}
    assert doc["verdict"] == "fail"
    assert "fixed point at the minimizer" in failed
    assert failed["fixed point at the minimizer"]["counterexample"].startswith("quadratic")


def test_the_table_names_the_failure(tmp_path):
    path = tmp_path / "ascent.py"
    path.write_text("def step(x, g, state, lr=0.1):\n    return x + lr * g, state\n")
    result = invoke(f"{path}:step", "--examples", "1", "--budget", "50")
    assert result.exit_code == 1
    assert "convergence on an easy" in result.stdout and "verdict: fail" in result.stdout


@pytest.mark.parametrize(
    "args, words",
    [
        (["torch.optim"], "module:Attr"),
        (["torch.optim:Nope"], "no attribute"),
        (["no_such_module_q:X"], "cannot import"),
        (["json:JSONDecoder"], "not an optimizer"),
        (["torch.optim:Adam", "--kwargs", "lr=__import__('os')"], "only numbers"),
        (["torch.optim:Adam", "--kwargs", "lr=-1"], "Invalid learning rate"),
        (["torch.optim:Adam", "--like", "lion"], "unknown optimizer"),
        (["torch.optim:Adam", "--assume", "convex"], "convex"),
        (["torch.optim:Adam", "--examples", "0"], "--examples"),
        (["torch.optim:SGD", "--kwargs", "lr=[0.1,0.2]"], "one value per hyperparameter"),
        (["torch.optim:SGD", "--kwargs", "lr=[]"], "one value per hyperparameter"),
        (["torch.optim:SGD", "--kwargs", "lr=" + "-" * 1500 + "1"], "--kwargs lr="),
        (["torch.optim:SGD", "--seed", str(2**64)], "--seed"),
        (["torch.optim:SGD", "--problems", "himmelblau"], "rosenbrock"),
        (["torch.optim:SGD", "--like-kwargs", "lr=x"], "--like-kwargs"),
        (["torch.optim:SGD", "--each-step", "json:nope"], "no attribute"),
    ],
)
def test_bad_input_is_one_line_exit_2(args, words):
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:") and words in lines[0]


def test_help_has_examples_and_the_property_choices_match_the_library():
    result = runner.invoke(app, ["check", "--help"])
    assert result.exit_code == 0 and "torch.optim:Adam" in result.stdout
    assert tuple(p.value for p in Property) == PROPERTIES
