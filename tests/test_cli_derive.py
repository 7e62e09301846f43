"""hessian-lab derive: bounded work, exact singularity, non-smooth notes, clean Ctrl-C."""

from __future__ import annotations

import json
import time

import pytest
from typer.testing import CliRunner

from hessian_lab.cli import app

runner = CliRunner()


def derive(*args: str):
    return runner.invoke(app, ["derive", *args], env={"COLUMNS": "200"})


def assert_one_line_error(result, *fragments: str, code: int = 2) -> None:
    assert result.exit_code == code, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert result.stdout == ""
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_a_tiny_scale_is_not_called_singular():
    result = derive("1e-7*(x**2 + y**2)", "--vars", "x,y", "--json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["parts"]["newton_step"] is not None
    assert "singular" not in result.stderr


def test_abs_derives_with_a_note_and_no_traceback():
    result = derive("abs(x) + y**2", "--vars", "x,y")
    assert result.exit_code == 0 and "Traceback" not in result.stderr
    assert "DiracDelta" not in result.stdout
    assert "almost everywhere" in result.stderr


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["x**4", "--vars", "x", "--hessian-power", "1e9"], ["--hessian-power", "[0, 1]"]),
        (["x**4", "--vars", "x", "--hessian-power", "-0.5"], ["--hessian-power", "[0, 1]"]),
        (["a0", "--vars", ",".join(f"a{i}" for i in range(10))], ["at most 6 variables"]),
        (["pi*x", "--vars", "pi,x"], ["'pi'", "constant"]),
        (["x**2", "--vars", "ｘ,x"], ["twice"]),
    ],
)
def test_unbounded_or_ambiguous_inputs_are_refused_in_one_line(args, fragments):
    start = time.perf_counter()
    assert_one_line_error(derive(*args), *fragments)
    assert time.perf_counter() - start < 10


def test_timeout_stops_with_a_message_naming_it():
    start = time.perf_counter()
    text = "a0**2*a1 + a1**2*a2 + a2**2*a3 + a3**2*a4 + a4**2*a5 + a5**2*a0 + exp(a0*a1)"
    result = derive(text, "--vars", "a0,a1,a2,a3,a4,a5", "--timeout", "0.3")
    assert_one_line_error(result, "--timeout 0.3")
    assert time.perf_counter() - start < 10


def test_ctrl_c_is_one_line_and_exit_130(monkeypatch):
    import hessian_lab.symbolic.newton as newton

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(newton, "derive", interrupted)
    result = derive("x**2", "--vars", "x")
    assert result.exit_code == 130
    assert result.stderr.strip().splitlines() == ["Interrupted."]
