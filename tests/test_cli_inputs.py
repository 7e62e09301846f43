"""Adversarial inputs to the CLI's text, config files and weights files: each is one line
``Error: ...`` naming the input (exit 2), a working feature, or a one-line warning."""

from __future__ import annotations

import errno
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from hessian_lab import catalog, files
from hessian_lab.cli import app
from hessian_lab.torch.models import build, load_weights

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()
TINY = ["--examples", "16", "--tol", "1e-6"]


def invoke(*args: str):
    return runner.invoke(app, list(args), env={"COLUMNS": "200"})


def one_error_line(result, *fragments: str) -> str:
    """Exit 2, exactly one line on stderr, ``Error: ...`` naming every fragment."""
    assert result.exit_code == 2, (result.stdout, result.stderr, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


# --------------------------------------------------------------------------- config files
def test_config_nested_thousands_deep_is_one_line(tmp_path):
    config = tmp_path / "deep.toml"
    config.write_text("x0 = " + "[" * 3000 + "]" * 3000 + "\n")
    one_error_line(invoke("run", "--config", str(config)), "deep.toml", "nested too deeply")


def test_config_that_is_a_device_or_too_large_is_refused(tmp_path):
    link = tmp_path / "zero.toml"
    link.symlink_to("/dev/zero")
    one_error_line(invoke("run", "--config", str(link)), "zero.toml", "a device")
    huge = tmp_path / "huge.toml"
    huge.write_text("# " + "x" * 2_000_000 + "\n")
    one_error_line(invoke("run", "--config", str(huge)), "huge.toml", "larger than")


def test_config_that_is_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    done = subprocess.run(
        [sys.executable, "-m", "hessian_lab", "run", "--config", str(fifo)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("Error: ") and "FIFO" in done.stderr


def test_config_vars_as_text_names_the_variables(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text(
        'objective = "(x - 1)**2 + (y + 2)**2"\nvars = "x,y"\ncriterion = "grad"\nmax-steps = 50\n'
    )
    result = invoke("run", "--config", str(config), "-o", "gd:lr=0.5", "--json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["problem"]["vars"] == ["x", "y"] and doc["runs"][0]["status"] == "converged"


# --------------------------------------------------------------------------- optimizer specs
def test_every_spec_run_json_prints_runs_again_to_the_same_result():
    """Each catalog optimizer (adahessian with gaussian probes) reported by ``run --json``:
    its ``spec`` given back as ``-o`` rebuilds the same optimizer and the same run."""
    texts = [n if n != "adahessian" else "adahessian:probe=gaussian" for n in catalog.names()]
    args = ["run", "--max-steps", "30", "--json"]
    first = invoke(*args, *(f"-o{t}" for t in texts))
    assert first.exit_code == 0, first.stderr
    runs = json.loads(first.stdout)["runs"]
    assert "probe=gaussian" in runs[texts.index("adahessian:probe=gaussian")]["spec"]
    again = invoke(*args, *(f"-o{run['spec']}" for run in runs))
    assert again.exit_code == 0, again.stderr
    for run0, run1 in zip(runs, json.loads(again.stdout)["runs"], strict=True):
        assert run1["spec"] == run0["spec"] and run1["final_loss"] == run0["final_loss"]


def test_a_default_optimizer_broken_by_the_problem_is_blamed_on_its_default():
    """--kappa 1e33: beta_hb_opt rounds to 1.0; no -o was given, so none is blamed."""
    line = one_error_line(invoke("run", "--kappa", "1e33"), "momentum", "beta_hb_opt")
    assert "--optimizer" not in line and "-o 'momentum:beta=" in line
    given = one_error_line(invoke("run", "--kappa", "1e33", "-o", "momentum"))
    assert "--optimizer 'momentum'" in given and "beta_hb_opt" in given


# --------------------------------------------------------------------------- sweep, derive
@pytest.mark.parametrize("second", [[], ["--grid", "beta=0:0.9:3"]], ids=["line", "heatmap"])
def test_sweep_plot_over_six_hundred_decades(tmp_path, second):
    plot = tmp_path / "wide.png"
    args = ["sweep", "-o", "momentum", "--grid", "lr=1e-300:1e300:6:log", *second]
    result = invoke(*args, "--max-steps", "20", "--plot", str(plot))
    assert result.exit_code == 0, result.stderr
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_derive_timeout_inf_means_no_limit():
    result = invoke("derive", "x**2 + y**4", "--vars", "x,y", "--timeout", "inf", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["parts"]["gradient"]["text"] == "[[2*x], [4*y**3]]"


# --------------------------------------------------------------------------- experiments
def test_a_failed_experiment_write_leaves_no_folder(tmp_path, monkeypatch):
    import hessian_lab.experiments

    def full(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    class Written:  # an experiment's result, reduced to its files
        def write(self, folder, **_figure_options):
            return files.atomic_write_many(folder, {"table.csv": b"a,b\n", "t.md": b"|a|\n"})

    monkeypatch.setattr(files, "_stage", full)
    monkeypatch.setattr(hessian_lab.experiments, "run_experiment", lambda *a, **k: Written())
    out = tmp_path / "results" / "valley"
    one_error_line(invoke("experiment", "steep-valley", "--out", str(out)), "valley", "space")
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- weights files
def _saved(tmp_path, name: str, change) -> str:
    model = build("mlp", dtype=torch.float64)
    state = {k: change(v.clone()) for k, v in model.state_dict().items()}
    path = tmp_path / f"{name}.pt"
    torch.save(state, path)
    return str(path)


@pytest.mark.parametrize(
    ("name", "change", "fragment"),
    [
        ("nan", lambda v: v.fill_(float("nan")), "NaN or inf"),
        ("inf", lambda v: v.fill_(float("inf")), "NaN or inf"),
        ("int", lambda v: v.to(torch.int64), "int64"),
        ("bool", lambda v: v.to(torch.bool), "bool"),
        ("complex", lambda v: v.to(torch.complex128), "complex128"),
        ("sparse", lambda v: v.to_sparse() if v.ndim == 2 else v, "sparse"),
        ("meta", lambda v: torch.empty_like(v, device="meta"), "meta"),
    ],
)
def test_weights_that_would_be_cast_or_cannot_be_read_are_refused(tmp_path, name, change, fragment):
    path = _saved(tmp_path, name, change)
    with pytest.raises(ValueError, match=fragment) as error:
        load_weights(build("mlp", dtype=torch.float64), path)
    assert path in str(error.value) and "\n" not in str(error.value)


def test_weights_that_are_a_directory_say_so(tmp_path):
    folder = tmp_path / "dir.pt"
    folder.mkdir()
    one_error_line(invoke("sharpness", *TINY, "--weights", str(folder)), "dir.pt", "a directory")


def test_weights_with_nan_reach_the_cli_as_one_line(tmp_path):
    path = _saved(tmp_path, "nan", lambda v: v.fill_(float("nan")))
    one_error_line(invoke("sharpness", *TINY, "--weights", path), "nan.pt", "NaN or inf")


def test_huge_weights_and_a_diverging_warm_up_are_one_line(tmp_path):
    path = _saved(tmp_path, "huge", lambda v: v.fill_(1e300))
    one_error_line(invoke("sharpness", *TINY, "--weights", path), "huge.pt", "not finite")
    warm = invoke("sharpness", *TINY, "--gd-steps", "5", "--lr", "1e300")
    one_error_line(warm, "--gd-steps 5 --lr 1e+300", "diverged")


def test_absurd_warm_up_is_refused_with_its_estimate():
    line = one_error_line(invoke("sharpness", *TINY, "--gd-steps", str(10**12), "--lr", "0.1"))
    assert "--gd-steps" in line and "estimated" in line and "hours" in line


def test_library_warnings_become_one_warning_line():
    result = invoke("sharpness", *TINY, "--tol", "1e-20", "--json")
    assert result.exit_code == 0, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Warning: tol=1e-20"), result.stderr
    assert "UserWarning" not in result.stderr


def test_save_on_a_full_disk_is_one_line_and_leaves_nothing(tmp_path, monkeypatch):
    real = os.fdopen

    class Full(io.FileIO):
        def write(self, data):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def fdopen(fd, mode="r", **kwargs):
        return io.BufferedWriter(Full(fd, "w")) if "b" in mode else real(fd, mode, **kwargs)

    monkeypatch.setattr(files.os, "fdopen", fdopen)
    target = tmp_path / "w.pt"
    result = invoke("sharpness", *TINY, "--save", str(target))
    one_error_line(result, "--save", "w.pt", "No space left")
    assert list(tmp_path.iterdir()) == []
