"""``hessian-lab check`` on hostile and misbehaving targets: what the report says, the exit code.

An optimizer that raises, exits, hangs, prints or swallows Ctrl-C is reported as doing so
(exit 1, one JSON document) or stopped (exit 130), a module that raises on lookup is one
line with exit 2 (the other bad inputs are in test_cli_check.py), and nothing but the
target resolves in the current directory.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hessian_lab.cli import app
from hessian_lab.testing import FAIL, NA, PASS, check_optimizer

runner = CliRunner()
QUICK = ["--examples", "2", "--budget", "300"]
ROOT = Path(__file__).resolve().parents[1]


def invoke(*args):
    return runner.invoke(app, ["check", *args])


def write(tmp_path, name, body):
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return path


TRAIN_MODE = """
    import torch

    class NeedsTrain(torch.optim.SGD):
        '''SGD that refuses to step until .train() is called (as schedule-free does).'''

        def __init__(self, params, lr=0.1):
            super().__init__(params, lr=lr)
            self.training = False

        def train(self):
            self.training = True

        def step(self, closure=None):
            if not self.training:
                raise RuntimeError("not in train mode: call optimizer.train() first")
            return super().step(closure)

    def before_step(optimizer, step):
        optimizer.train()
"""


def test_an_exception_is_reported_as_itself_once_and_the_run_stops(tmp_path):
    path = write(tmp_path, "needs_train.py", TRAIN_MODE)
    result = invoke(f"{path}:NeedsTrain", "--json", *QUICK)
    assert result.exit_code == 1, result.output
    doc = json.loads(result.stdout)
    first = doc["invariants"][0]
    assert first["name"] == "determinism" and first["status"] == FAIL
    assert "RuntimeError: not in train mode" in first["detail"] and "at step 0" in first["detail"]
    assert "unseeded randomness" not in first["detail"]
    assert len(doc["invariants"]) == 2 and "not run" in doc["stopped"]


def test_the_each_step_hook_makes_the_same_optimizer_pass(tmp_path):
    path = write(tmp_path, "needs_train.py", TRAIN_MODE)
    result = invoke(f"{path}:NeedsTrain", "--each-step", f"{path}:before_step", "--json", *QUICK)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["verdict"] == "pass"


def test_a_factory_target_is_built_through_its_function(tmp_path):
    path = write(
        tmp_path,
        "factory.py",
        """
        import torch

        def make(params, lr=0.1):
            return torch.optim.SGD(params, lr=lr, momentum=0.5)
        """,
    )
    report = check_optimizer(f"{path}:make", like="momentum", examples=2, budget=300)
    assert report.status("parity with momentum") == PASS, report


def test_sys_exit_inside_the_optimizer_is_a_failure_not_all_hold(tmp_path):
    path = write(tmp_path, "exits.py", "import sys\ndef step(x, g, state):\n    sys.exit(0)\n")
    result = invoke(f"{path}:step", "--json", *QUICK)
    assert result.exit_code == 1, result.output
    doc = json.loads(result.stdout)
    assert doc["verdict"] == "fail" and "sys.exit(0)" in doc["invariants"][0]["detail"]


def test_a_hang_is_a_finding_after_the_time_limit(tmp_path):
    path = write(tmp_path, "hangs.py", "def step(x, g, state):\n    while True:\n        pass\n")
    result = invoke(f"{path}:step", "--json", "--timeout", "1", *QUICK)
    assert result.exit_code == 1, result.output
    doc = json.loads(result.stdout)
    assert doc["invariants"][-1]["status"] == FAIL and "time limit" in doc["stopped"]


def test_the_optimizers_printing_is_summarised_and_json_stays_one_document(tmp_path):
    path = write(
        tmp_path,
        "chatty.py",
        """
        import sys, warnings

        def step(x, g, state, lr=0.1):
            print("Welcome to the chatty optimizer")
            print("to stderr", file=sys.stderr)
            warnings.warn("a deprecated option")
            return x - lr * g, state
        """,
    )
    result = invoke(f"{path}:step", "--json", *QUICK)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)  # one document: nothing else on stdout
    assert "Welcome to the chatty optimizer" in doc["output"]
    assert "stderr" in doc["output"] and "UserWarning" in doc["output"]


def test_a_wrong_shape_from_a_step_function_is_a_failure_not_bad_input(tmp_path):
    path = write(tmp_path, "shape.py", "def step(x, g, state):\n    return x[:1], state\n")
    result = invoke(f"{path}:step", "--json", *QUICK)
    assert result.exit_code == 1, result.output
    detail = json.loads(result.stdout)["invariants"][0]["detail"]
    assert "returned x of shape" in detail


def test_an_optimizer_for_scalars_only_is_reported_not_a_traceback(tmp_path):
    path = write(
        tmp_path, "scalar.py", "def step(x, g, state):\n    return x - 0.1 * float(g), state\n"
    )
    result = invoke(f"{path}:step", "--json", "--examples", "1", "--budget", "300")
    assert result.exit_code == 1, result.output
    assert json.loads(result.stdout)["verdict"] == "fail"


def test_parity_uses_a_step_functions_own_defaults(tmp_path):
    path = write(
        tmp_path, "sgd.py", "def step(x, g, state, lr=0.1):\n    return x - lr * g, state\n"
    )
    result = invoke(f"{path}:step", "--like", "gd", "--json", *QUICK)
    assert result.exit_code == 0, result.output
    statuses = {i["name"]: i["status"] for i in json.loads(result.stdout)["invariants"]}
    assert statuses["parity with gd"] == PASS


def test_a_module_getattr_that_raises_is_one_line(tmp_path, monkeypatch):
    write(tmp_path, "weird_mod_q.py", "def __getattr__(name):\n    raise KeyError(name)\n")
    monkeypatch.chdir(tmp_path)
    result = invoke("weird_mod_q:Opt")
    assert result.exit_code == 2, result.output
    assert "KeyError" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_only_with_a_misspelt_check_is_an_error_naming_the_allowed():
    with pytest.raises(ValueError, match="determinism"):
        check_optimizer("torch.optim:SGD", only=["determinsm"], lr=0.1)


def test_nothing_but_the_target_resolves_in_the_current_directory(tmp_path):
    """torch imports sympy lazily during a check: a sympy.py there must not run, while a
    target that is a module of the current directory still resolves there."""
    for name in ("sympy.py", "numpy.py"):
        write(tmp_path, name, f"open({str(tmp_path / (name + '.ran'))!r}, 'w').close()\n")
    write(tmp_path, "local_opt_q.py", "import torch\nSGD = torch.optim.SGD\n")
    code = (
        "import sys; from hessian_lab.testing import check_optimizer; "
        "r = check_optimizer(sys.argv[1], only=['determinism'], examples=1, lr=0.1); "
        "print(r.verdict)"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for target in ("torch.optim:SGD", "local_opt_q:SGD"):
        done = subprocess.run(
            [sys.executable, "-P", "-c", code, target],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0 and done.stdout.strip() == "pass", done.stderr
    assert not list(tmp_path.glob("*.ran"))


def test_an_option_the_reference_lacks_is_named_only_when_parity_fails():
    """SGD's dampening has no counterpart in gd: at 0 it is harmless (compared, passes);
    with momentum the comparison fails and names the unmatched option."""
    same = check_optimizer(
        "torch.optim:SGD", like="gd", only=["parity"], examples=2, lr=0.1, dampening=0.5
    )
    assert same.invariants[0].status == PASS, same
    other = check_optimizer(
        "torch.optim:SGD", like="gd", only=["parity"], examples=2, lr=0.1, momentum=0.5
    )
    (outcome,) = other.invariants
    assert outcome.status == FAIL and "momentum=0.5" in outcome.detail
    assert "expected [" in outcome.detail and "got [" in outcome.detail


def test_like_takes_any_target_with_the_same_kwargs():
    report = check_optimizer(
        "torch.optim:AdamW",
        like="torch.optim:Adam",
        only=["parity"],
        examples=2,
        lr=0.05,
        weight_decay=0.0,
    )
    assert report.invariants[0].status == PASS, report
    assert report.invariants[0].name == "parity with torch.optim:Adam"
    differs = check_optimizer(
        "torch.optim:AdamW", like="torch.optim:Adam", only=["parity"], examples=2, lr=0.05
    )
    assert differs.invariants[0].status in (FAIL, NA), differs


def test_a_no_op_optimizer_is_decided_in_a_few_runs(tmp_path):
    """Non-converging targets: the floor is not applicable after three examples that do
    not converge (it used to draw ~460, each a full run); convergence fails."""
    path = write(tmp_path, "noop.py", "def step(x, g, state):\n    return x, state\n")
    report = check_optimizer(
        f"{path}:step",
        only=["convergence on an easy quadratic", "float64 floor (no hidden float32)"],
        examples=1,
        budget=3000,
    )
    converge, floor = report.invariants
    assert converge.status == FAIL and "3000 steps" in converge.detail
    assert floor.status == NA and floor.detail.startswith("3 runs reach only")


@pytest.mark.parametrize("interrupts", [1, 2])
def test_ctrl_c_stops_the_check_even_when_the_optimizer_swallows_it(tmp_path, interrupts):
    """Once: the check stops at the optimizer's next step. An optimizer that never
    returns: the second Ctrl-C ends the process. Exit 130 either way."""
    body = "pass" if interrupts == 1 else "continue"
    path = write(
        tmp_path,
        "deaf.py",
        f"""
        import time

        def step(x, g, state, lr=0.1):
            open({str(tmp_path / "stepping")!r}, "w").close()
            while True:
                try:
                    time.sleep(0.05)
                except KeyboardInterrupt:
                    {body}
                if {interrupts} == 1:
                    return x - lr * g, state
        """,
    )
    code = "import sys; from hessian_lab.cli import app; sys.argv[0] = 'hessian-lab'; app()"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    args = [sys.executable, "-P", "-c", code, "check", f"{path}:step", "--budget", "100000"]
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(1200):  # until the optimizer is stepping
            if (tmp_path / "stepping").exists():
                break
            time.sleep(0.05)
        for _ in range(interrupts):
            proc.send_signal(signal.SIGINT)
            time.sleep(1)
        assert proc.wait(timeout=60) == 130
        assert (tmp_path / "stepping").exists()
    finally:
        proc.kill()
        proc.wait()


def test_a_target_printing_when_built_leaves_stdout_to_the_report(capsys):
    """A banner printed by the constructor (adabelief-pytorch prints one) is summarised
    with the report, not written ahead of the JSON document."""
    import torch

    class Banner(torch.optim.SGD):
        def __init__(self, params, lr=0.1):
            print("Welcome: check your arguments")
            super().__init__(params, lr=lr)

    report = check_optimizer(Banner, only={"determinism"}, examples=2)
    assert capsys.readouterr().out == ""
    assert report.output.startswith("while built:") and "Welcome" in report.output



def test_a_seed_draws_the_same_examples_whatever_modules_the_caller_loaded(tmp_path, monkeypatch):
    """Hypothesis mixes the literals of the caller's own modules into its draws; the kit
    leaves them out, so loading one more module of one's own changes no drawn example."""
    from hypothesis import strategies as st

    from hessian_lab.testing.runs import explore

    def drawn():
        seen = []
        explore(st.floats(-1e3, 1e3), lambda x: seen.append(x), examples=300, seed=5)
        return seen

    before = drawn()
    values = ", ".join(repr(v) for v in (2.0, -1.0, 0.5, 3.25, 1e-3, 7.5, 11.0, 13.0, 123.456))
    (tmp_path / "lots_of_constants.py").write_text(f"VALUES = [{values}]\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import lots_of_constants  # noqa: F401

    assert drawn() == before
