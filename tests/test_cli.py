"""The hessian-lab command line: every command, its outputs, and every bad-input path."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import hessian_lab
from hessian_lab.catalog import names as optimizer_names
from hessian_lab.cli import app
from hessian_lab.cli.parsing import (
    CLIError,
    atomic_write,
    parse_grid,
    parse_list,
    parse_optimizer_spec,
    split_top_level,
)

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args), env={"COLUMNS": "200"})


def ok(*args: str):
    result = invoke(*args)
    assert result.exit_code == 0, (result.output, result.stderr)
    return result


def run_json(*args: str) -> dict:
    return json.loads(ok(*args, "--json").stdout)


def assert_bad_input(result, *fragments: str) -> None:
    """Exit 2, one ``Error: ...`` line on stderr naming the input, nothing on stdout."""
    assert result.exit_code == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def assert_image(path: Path, kind: str) -> None:
    data = path.read_bytes()
    assert len(data) > 5000, f"{path} is only {len(data)} bytes"
    if kind == "png":
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
    elif kind == "pdf":
        assert data[:5] == b"%PDF-"
    else:
        assert b"<svg" in data[:2000] and data.lstrip().startswith(b"<?xml")


# --------------------------------------------------------------------------- start-up
def test_import_and_help_stay_light():
    """The CLI module and --help import neither sympy, matplotlib nor torch."""
    code = (
        "import sys\n"
        "from hessian_lab.cli import app\n"
        "from typer.testing import CliRunner\n"
        "r = CliRunner().invoke(app, ['--help'])\n"
        "assert r.exit_code == 0, r.output\n"
        "for c in ('run', 'sweep', 'theory', 'derive', 'hutchinson'):\n"
        "    assert CliRunner().invoke(app, [c, '--help']).exit_code == 0\n"
        "heavy = [m for m in ('sympy', 'matplotlib', 'torch') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, timeout=60)


@pytest.mark.parametrize("command", ["run", "sweep", "theory", "derive", "hutchinson"])
def test_every_command_has_help_with_examples(command):
    result = ok(command, "--help")
    assert "Examples" in result.stdout
    assert "hessian-lab " + command in result.stdout


def test_version_and_top_level_help():
    assert ok("--version").stdout.strip() == f"hessian-lab {hessian_lab.__version__}"
    out = ok("--help").stdout
    for command in ("run", "sweep", "theory", "derive", "hutchinson"):
        assert command in out


def test_module_and_launcher_run_the_same_app():
    for argv in (
        [sys.executable, "-m", "hessian_lab", "--version"],
        [sys.executable, "cli.py", "--version"],
    ):
        out = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == f"hessian-lab {hessian_lab.__version__}"


def test_console_script_end_to_end(tmp_path):
    """The installed ``hessian-lab`` script, in a subprocess, prints parseable JSON."""
    exe = Path(sys.executable).with_name("hessian-lab")
    argv = [str(exe)] if exe.exists() else [sys.executable, "-m", "hessian_lab"]
    out = subprocess.run(
        [*argv, "run", "-o", "gd", "-o", "gd:lr=1.01*lr_max", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert [r["status"] for r in doc["runs"]] == ["converged", "diverged"]


# --------------------------------------------------------------------------- run
def test_run_default_is_the_steep_valley_with_every_optimizer():
    out = ok("run").stdout
    for name in optimizer_names():
        assert name in out
    assert "lr_opt" in out and "steep-valley" in out


def test_run_json_schema_and_defaults():
    doc = run_json("run")
    assert doc["problem"]["eigenvalues"] == [1.0, 100.0]
    assert doc["problem"]["center"] == [0.8, 0.6]
    assert doc["x0"] == [0.0, 0.0]
    assert (doc["criterion"], doc["tol"], doc["max_steps"], doc["bound"]) == (
        "loss",
        1e-6,
        10_000,
        5.0,
    )
    assert [r["optimizer"] for r in doc["runs"]] == list(optimizer_names())
    assert len(doc["optimizers"]) == len(doc["runs"])
    keys = {
        "optimizer",
        "hyperparameters",
        "status",
        "steps",
        "diverged_at",
        "final_loss",
        "predicted_steps",
        "predicted_rate",
    }
    for run in doc["runs"]:
        assert keys <= set(run)
        assert run["status"] == "converged"  # the defaults converge on the valley
        assert isinstance(run["steps"], int) and run["diverged_at"] is None
        assert run["predicted_steps"] is None or isinstance(run["predicted_steps"], int)
    by_name = {r["optimizer"]: r for r in doc["runs"]}
    q = doc["theory"]
    assert by_name["gd"]["hyperparameters"]["lr"] == pytest.approx(q["lr_opt"])
    assert by_name["momentum"]["hyperparameters"]["beta"] == pytest.approx(q["beta_hb_opt"])
    for name in ("gd", "momentum", "nesterov", "newton", "diag-newton"):
        assert by_name[name]["predicted_steps"] == by_name[name]["steps"]
        assert by_name[name]["predicted_rate"] is not None
    assert by_name["adam"]["predicted_steps"] is None
    # evaluation counts: one gradient per step, plus what the second-order methods ask for
    for name in ("gd", "momentum", "adam", "adahessian", "newton"):
        assert by_name[name]["evaluations"]["gradients"] == by_name[name]["steps"]
    assert by_name["gd"]["evaluations"]["hessians"] == 0
    assert by_name["adahessian"]["evaluations"]["hvps"] == by_name["adahessian"]["steps"]
    assert by_name["newton"]["evaluations"]["hessians"] == 1
    assert by_name["diag-newton"]["evaluations"]["hessian_diagonals"] == 1


def test_run_table_shows_the_evaluations():
    out = ok("run", "-o", "newton", "-o", "adahessian:n_samples=2").stdout
    assert "evaluations" in out and "1 g + 1 H" in out
    assert re.search(r"(\d+) g \+ (\d+) Hv", out)
    steps, hvps = map(int, re.search(r"(\d+) g \+ (\d+) Hv", out).groups())
    assert hvps == 2 * steps


def test_run_expressions_order_and_divergence():
    doc = run_json(
        "run",
        "-o",
        "momentum:lr=0.175*lr_opt,beta=0.9",
        "-o",
        "gd:lr=1.01*lr_max",
        "-o",
        "adam:lr=lr_opt,betas=(0.9,0.999)",
    )
    momentum, gd, adam = doc["runs"]
    assert [momentum["optimizer"], gd["optimizer"], adam["optimizer"]] == [
        "momentum",
        "gd",
        "adam",
    ]
    q = doc["theory"]
    assert momentum["hyperparameters"]["lr"] == pytest.approx(0.175 * q["lr_opt"])
    assert momentum["sources"]["lr"] == "0.175*lr_opt"
    assert gd["status"] == "diverged" and gd["steps"] is None
    assert isinstance(gd["diverged_at"], int) and gd["predicted_rate"] > 1
    assert adam["hyperparameters"]["betas"] == [0.9, 0.999]


def test_run_json_rebuilds_exactly():
    """The resolved optimizer specs and problem re-run to the same result."""
    first = run_json(
        "run",
        "-o",
        "nesterov:lr=0.5*lr_opt",
        "--eigenvalues",
        "1,10,50",
        "--rotation",
        "random",
        "--seed",
        "3",
    )
    p = first["problem"]
    again = run_json(
        "run",
        "-o",
        first["optimizers"][0],
        "--eigenvalues",
        ",".join(repr(v) for v in p["eigenvalues"]),
        "--rotation",
        p["rotation"],
        "--seed",
        str(p["seed"]),
    )
    assert again["runs"][0]["steps"] == first["runs"][0]["steps"]
    assert again["runs"][0]["final_loss"] == first["runs"][0]["final_loss"]


def test_run_kappa_spectrum_and_criteria():
    doc = run_json(
        "run",
        "--dim",
        "20",
        "--kappa",
        "50",
        "--spectrum",
        "linear",
        "-o",
        "gd",
        "--criterion",
        "distance",
        "--tol",
        "1e-4",
    )
    assert doc["problem"]["dim"] == 20 and doc["x0"] == [1.0] * 20
    assert doc["runs"][0]["status"] == "converged"
    assert doc["runs"][0]["steps"] == doc["runs"][0]["predicted_steps"]
    grad = run_json("run", "-o", "gd", "--criterion", "grad", "--max-steps", "5")
    assert grad["runs"][0]["status"] == "max_steps" and grad["runs"][0]["steps"] is None


def test_run_config_file_and_flags_override(tmp_path):
    config = tmp_path / "exp.toml"
    config.write_text(
        'eigenvalues = [1, 10]\ncenter = "1,1"\noptimizer = ["gd:lr=lr_opt", "momentum"]\n'
        "tol = 1e-3\nmax-steps = 500\n"
    )
    doc = run_json("run", "--config", str(config), "--tol", "1e-8")
    assert doc["problem"]["eigenvalues"] == [1.0, 10.0]
    assert doc["tol"] == 1e-8 and doc["max_steps"] == 500
    assert [r["optimizer"] for r in doc["runs"]] == ["gd", "momentum"]


@pytest.mark.parametrize("ext", ["png", "svg", "pdf"])
def test_run_plots_contours_and_surface(tmp_path, ext):
    plot, plot3d = tmp_path / f"paths.{ext}", tmp_path / f"surface.{ext}"
    ok("run", "-o", "gd", "-o", "momentum", "--plot", str(plot), "--plot3d", str(plot3d))
    assert_image(plot, ext)
    assert_image(plot3d, ext)


def test_run_plot_loss_curves_beyond_two_dimensions(tmp_path):
    plot = tmp_path / "loss.png"
    ok("run", "--dim", "5", "--kappa", "10", "-o", "gd", "-o", "adam", "--plot", str(plot))
    assert_image(plot, "png")


# --------------------------------------------------------------------------- errors
BAD_RUN = [
    (["-o", "sgd"], ["'sgd'", "allowed: gd, momentum"]),
    (["-o", "gd:foo=1"], ["'foo'", "allowed: lr, weight_decay"]),
    (["-o", "gd:lr"], ["key=value"]),
    (["-o", "gd:lr=1e-2,lr=2"], ["given twice"]),
    (["-o", "gd:lr=abc"], ["unknown name 'abc'", "lr_opt"]),
    (["-o", "gd:lr=1.2.3"], ["cannot parse"]),
    (["-o", "gd:lr=__import__('os').getcwd()"], ["not allowed"]),
    (["-o", "gd:lr=(1).__class__"], ["not allowed"]),
    (["-o", "adam:betas=(0.9"], ["unbalanced"]),
    (["-o", "adam:betas=0.9"], ["betas", "pair"]),
    (["-o", "gd:lr=-1"], ["lr", "[0, inf]"]),
    (["-o", "momentum:beta=1.5"], ["beta", "[0, 1)"]),
    (["-o", "adam:amsgrad=maybe"], ["amsgrad", "true or false"]),
    (["--eigenvalues", "1,x"], ["--eigenvalues", "unknown name 'x'"]),
    (["--eigenvalues", "1,,3"], ["--eigenvalues", "comma-separated"]),
    (["--eigenvalues", "1,100", "--center", "1,2,3"], ["--center", "dimension 2"]),
    (["--eigenvalues", "1,100", "--x0", "1"], ["--x0", "dimension 2"]),
    (["--eigenvalues", "1,100", "--dim", "3"], ["either --eigenvalues or --dim"]),
    (["--dim", "3", "--kappa", "0.5"], ["--kappa", ">= 1"]),
    (["--dim", "0"], ["--dim", ">= 1"]),
    (["--tol", "0"], ["--tol", "> 0"]),
    (["--tol", "-1e-3"], ["--tol", "> 0"]),
    (["--tol", "abc"], ["--tol"]),
    (["--max-steps", "0"], ["--max-steps", ">= 1"]),
    (["--max-steps", "-5"], ["--max-steps", ">= 1"]),
    (["--bound", "0"], ["--bound", "> 0"]),
    (["--criterion", "fast"], ["--criterion"]),
    (["--backend", "tpu"], ["--backend"]),
    (["--dim", "100000", "--rotation", "random"], ["100000", "GB", "--rotation none"]),
    (["--dim", "20000", "-o", "newton"], ["newton", "GB"]),
    (["--plot", "paths.gif"], ["--plot", ".png, .svg, .pdf"]),
    (["--plot", "/no/such/folder/p.png"], ["--plot", "does not exist"]),
    (["--dim", "3", "--plot3d", "s.png"], ["--plot3d", "2-D"]),
    (["--eigenvalues", "1,-1", "--criterion", "distance", "-o", "gd:lr=0.1"], ["distance"]),
    (["--config", "/no/such.toml"], ["--config", "cannot read"]),
    (["--bogus"], ["--bogus"]),
    (["--objective", "x**2"], ["--vars"]),
    (["--vars", "x"], ["--objective"]),
    (["--problem", "nope"], ["--problem", "steep-valley"]),
]


@pytest.mark.parametrize(("args", "fragments"), BAD_RUN, ids=lambda v: " ".join(map(str, v)))
def test_run_bad_inputs_give_one_line_errors(tmp_path, monkeypatch, args, fragments):
    monkeypatch.chdir(tmp_path)
    assert_bad_input(invoke("run", *args), *fragments)
    assert list(tmp_path.iterdir()) == []  # nothing written, not even half


def test_bad_config_files(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("tol = [")
    assert_bad_input(invoke("run", "--config", str(bad)), "not valid TOML")
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("speed = 3\n")
    assert_bad_input(invoke("run", "--config", str(unknown)), "unknown field 'speed'", "tol")
    wrong = tmp_path / "wrong.toml"
    wrong.write_text("tol = -1\n")
    assert_bad_input(invoke("run", "--config", str(wrong)), "--tol", "> 0")


def test_unknown_command():
    assert_bad_input(invoke("fly"), "fly")


def test_unwritable_output_path(tmp_path):
    """Refused before any work: a read-only folder, /proc or /sys, a directory."""
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        if os.geteuid() != 0:  # root writes into read-only folders
            assert_bad_input(invoke("run", "--plot", str(folder / "p.png")), "--plot")
            assert_bad_input(invoke("sweep", "--csv", str(folder / "s.csv")), "--csv")
    finally:
        folder.chmod(0o700)
    for system in ("/proc", "/sys"):
        if Path(system).is_dir():
            assert_bad_input(invoke("run", "--plot", f"{system}/p.png"), "--plot", "write")
    (tmp_path / "d.png").mkdir()
    assert_bad_input(invoke("run", "--plot", str(tmp_path / "d.png")), "directory")


def test_atomic_write_leaves_nothing_half_written(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old\n")

    def explode(handle):
        handle.write("partial")
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        atomic_write(target, explode)
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]
    atomic_write(target, lambda h: h.write("new\n"))
    assert target.read_text() == "new\n"


# --------------------------------------------------------------------------- parsing
def test_parsing_helpers():
    assert split_top_level("lr=1,betas=(0.9,0.99)") == ["lr=1", "betas=(0.9,0.99)"]
    spec = parse_optimizer_spec("Adam: lr=lr_opt , betas=(0.9,0.999)", optimizer_names())
    assert spec.name == "adam" and spec.values == {"lr": "lr_opt", "betas": "(0.9,0.999)"}
    assert parse_list("1, 2**3, 1e2", "--x") == [1.0, 8.0, 100.0]
    grid = parse_grid("lr=1e-4:1:5:log")
    assert grid.values() == pytest.approx([1e-4, 1e-3, 1e-2, 1e-1, 1.0])
    assert parse_grid("beta=0:1:3").values() == [0.0, 0.5, 1.0]
    assert parse_grid("lr=0:2*lr_max:3").values({"lr_max": 0.5}) == [0.0, 0.5, 1.0]
    for bad in ("lr", "lr=1:2", "lr=1:2:x", "lr=1:2:3:cubic", "lr=1:2:0", "=1:2:3"):
        with pytest.raises(CLIError):
            parse_grid(bad)
    with pytest.raises(CLIError, match="log grid"):
        parse_grid("lr=0:1:3:log").values()


# --------------------------------------------------------------------------- sweep
def test_sweep_one_grid_csv_json_and_line_plot(tmp_path):
    csv_path, plot = tmp_path / "gd.csv", tmp_path / "gd.svg"
    doc = run_json(
        "sweep",
        "-o",
        "gd",
        "--grid",
        "lr=1e-3:0.03:12:log",
        "--csv",
        str(csv_path),
        "--plot",
        str(plot),
    )
    assert len(doc["rows"]) == 12 and doc["grids"][0]["name"] == "lr"
    assert doc["theoretical_optimum"]["lr"] == pytest.approx(2 / 101)
    statuses = [r["status"] for r in doc["rows"]]
    assert statuses[-1] == "diverged" and "converged" in statuses
    for row in doc["rows"]:
        if row["status"] == "converged":
            assert row["steps"] == row["predicted_steps"]
    lines = csv_path.read_text().splitlines()
    assert lines[0].startswith("lr,status,steps") and len(lines) == 13
    assert_image(plot, "svg")


def test_sweep_two_grids_heatmap(tmp_path):
    plot = tmp_path / "hb.png"
    result = ok(
        "sweep",
        "-o",
        "momentum",
        "--grid",
        "lr=1e-3:0.05:10:log",
        "--grid",
        "beta=0:0.9:6",
        "--max-steps",
        "2000",
        "--plot",
        str(plot),
    )
    assert "60 in one engine call" in result.stdout
    assert "theory optimum" in result.stdout
    assert_image(plot, "png")


def test_sweep_default_and_pair_parts():
    doc = run_json("sweep", "--max-steps", "3000")
    assert doc["optimizer"] == "gd" and len(doc["rows"]) == 64
    adam = run_json("sweep", "-o", "adam:lr=0.05", "--grid", "beta1=0:0.9:4", "--max-steps", "2000")
    assert [r["beta1"] for r in adam["rows"]] == pytest.approx([0.0, 0.3, 0.6, 0.9])
    assert adam["fixed_hyperparameters"]["lr"] == 0.05


BAD_SWEEP = [
    (["--grid", "lr=1:2"], ["--grid", "NAME=START:STOP:NUM"]),
    (["--grid", "foo=1:2:3"], ["foo", "allowed: lr"]),
    (["-o", "adam", "--grid", "betas=0:1:3"], ["beta1 or beta2"]),
    (["--grid", "lr=1:2:3", "--grid", "lr=1:2:3"], ["twice"]),
    (["--grid", "lr=1:2:3", "--grid", "weight_decay=0:1:2", "--grid", "lr=0:1:2"], ["one or two"]),
    (["-o", "gd:lr=0.1", "--grid", "lr=0:1:3"], ["drop one"]),
    (["-o", "gd", "-o", "adam"], ["one --optimizer"]),
    (["--grid", "lr=0:1:3:log"], ["log grid"]),
    (["--csv", "out.txt"], ["--csv", ".csv"]),
    (["--dim", "10000", "--grid", "lr=0:1:100000"], ["GB"]),
]


@pytest.mark.parametrize(("args", "fragments"), BAD_SWEEP, ids=lambda v: " ".join(map(str, v)))
def test_sweep_bad_inputs(tmp_path, monkeypatch, args, fragments):
    monkeypatch.chdir(tmp_path)
    assert_bad_input(invoke("sweep", *args), *fragments)
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- theory
def test_theory_table_json_latex_and_plot(tmp_path):
    out = ok("theory", "--eigenvalues", "1,100").stdout
    assert "lr_opt" in out and "0.019802" in out and "lr_hb_opt" in out
    doc = run_json("theory", "--kappa", "100")
    q = doc["quantities"]
    for name in (
        "lr_opt",
        "lr_max",
        "kappa",
        "lr_hb_opt",
        "beta_hb_opt",
        "lr_nag_opt",
        "beta_nag_opt",
        "lambda_min",
        "lambda_max",
    ):
        assert name in q and {"value", "formula"} <= set(q[name])
    assert q["lr_opt"]["value"] == pytest.approx(2 / 101)
    assert q["lr_max"]["value"] == pytest.approx(0.02)
    assert q["kappa"]["value"] == pytest.approx(100)
    assert (
        doc["predictions"]["momentum"]["predicted_steps"]
        < doc["predictions"]["gd"]["predicted_steps"]
    )
    try:
        import hessian_lab.symbolic.rates  # noqa: F401
    except ImportError:
        pass
    else:
        assert q["lr_opt"]["formula"] is not None
        assert "\\frac" in ok("theory", "--kappa", "10", "--latex").stdout
    plot = tmp_path / "rates.pdf"
    ok("theory", "--kappa", "10", "--plot", str(plot))
    assert_image(plot, "pdf")


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--kappa", "0.5"], ["--kappa", ">= 1"]),
        (["--eigenvalues", "1,0"], ["> 0"]),
        (["--eigenvalues", "1,10", "--kappa", "3"], ["either"]),
        (["--tol", "0"], ["--tol"]),
        (["--max-steps", "0"], ["--max-steps"]),
        (["--plot", "r.bmp"], [".png"]),
    ],
)
def test_theory_bad_inputs(tmp_path, monkeypatch, args, fragments):
    monkeypatch.chdir(tmp_path)
    assert_bad_input(invoke("theory", *args), *fragments)


# --------------------------------------------------------------------------- derive
def test_derive_pretty_latex_and_json():
    out = ok("derive", "x**2 + 3*x*y + 5*y**2", "--vars", "x,y").stdout
    assert "Newton step" in out and "2*x + 3*y" in out
    assert "\\left[" in ok("derive", "x**2 + y**2", "--vars", "x,y", "--latex").stdout
    doc = run_json("derive", "x**4 + y**2", "--vars", "x,y", "--hessian-power", "0.5")
    assert doc["parts"]["hessian"]["latex"]
    assert doc["parts"]["hessian_power_step"] is not None
    singular = invoke("derive", "(x + y)**2", "--vars", "x,y")
    assert singular.exit_code == 0 and "singular" in singular.stdout


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["x**2"], ["--vars"]),
        (["x.__class__", "--vars", "x"], ["attribute access", "not allowed"]),
        (["__import__('os')", "--vars", "x"], ["not allowed"]),
        (["x + z", "--vars", "x"], ["unknown name 'z'"]),
        (["x**99999", "--vars", "x"], ["exponent"]),
        (["x" * 2000, "--vars", "x"], ["characters long"]),
        (["x**2", "--vars", "x,x"], ["twice"]),
        (["x**2", "--vars", "x", "--hessian-power", "k"], ["--hessian-power"]),
    ],
)
def test_derive_bad_inputs(args, fragments):
    assert_bad_input(invoke("derive", *args), *fragments)


# --------------------------------------------------------------------------- hutchinson
def test_hutchinson_table_json_and_plot(tmp_path):
    out = ok("hutchinson", "--matrix", "2,1;1,3", "--probes", "500").stdout
    assert "H_ii" in out and "theory std" in out
    doc = run_json("hutchinson", "--dim", "5", "--probes", "4000", "--seed", "1")
    truth, estimate = doc["diagonal"], doc["estimate"]
    for t, e, s in zip(truth, estimate, doc["theoretical_std"], strict=True):
        assert abs(e - t) < 5 * s + 1e-12
    plot = tmp_path / "h.png"
    ok("hutchinson", "--dim", "4", "--probes", "256", "--plot", str(plot))
    assert_image(plot, "png")
    diagonal = run_json("hutchinson", "--matrix", "2,0;0,3", "--probes", "3")
    assert diagonal["estimate"] == [2.0, 3.0]  # exact when H is diagonal


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--matrix", "1,2;3,4"], ["symmetric"]),
        (["--matrix", "1,2;2"], ["square"]),
        (["--matrix", "1,a;a,1"], ["--matrix"]),
        (["--probes", "0"], ["--probes"]),
        (["--dim", "3", "--kappa", "0.1"], ["--kappa"]),
        (["--dim", "100000"], ["GB"]),
        (["--matrix", "1", "--dim", "2"], ["either"]),
    ],
)
def test_hutchinson_bad_inputs(args, fragments):
    assert_bad_input(invoke("hutchinson", *args), *fragments)


def test_sweep_config_and_progress_display(tmp_path, monkeypatch):
    """A TOML config drives a sweep; long sweeps show a progress display on a terminal."""
    from rich.console import Console

    from hessian_lab.cli import sweep_cmd

    config = tmp_path / "sweep.toml"
    config.write_text('optimizer = "nesterov"\ngrid = ["lr=1e-3:0.02:5:log"]\nmax_steps = 400\n')
    shown = Console(file=open(os.devnull, "w"), force_terminal=True)  # noqa: SIM115
    monkeypatch.setattr(sweep_cmd, "err_console", lambda: shown)
    monkeypatch.setattr(sweep_cmd, "PROGRESS_WORK", 0)
    doc = run_json("sweep", "--config", str(config))
    shown.file.close()
    assert doc["optimizer"] == "nesterov" and doc["max_steps"] == 400
    assert [g["text"] for g in doc["grids"]] == ["lr=1e-3:0.02:5:log"]


def test_run_presets_without_theory(tmp_path):
    plot = tmp_path / "neuron.png"
    doc = run_json(
        "run",
        "--problem",
        "neuron",
        "-o",
        "adam:lr=0.05",
        "-o",
        "gd:lr=0.5",
        "--criterion",
        "grad",
        "--plot",
        str(plot),
    )
    assert doc["problem"] == {"kind": "preset", "name": "neuron"} and doc["theory"] is None
    assert [r["status"] for r in doc["runs"]] == ["converged", "converged"]
    assert all(r["predicted_steps"] is None for r in doc["runs"])
    assert_image(plot, "png")
    well = run_json(
        "run",
        "--problem",
        "double-well",
        "--x0",
        "0.5,0.5",
        "-o",
        "gd:lr=0.05",
        "--criterion",
        "grad",
    )
    assert well["runs"][0]["status"] == "converged"
    assert_bad_input(
        invoke("run", "--problem", "neuron", "-o", "gd:lr=lr_opt"), "lr_opt", "quadratic"
    )


def test_run_objective_expression():
    doc = run_json(
        "run",
        "--objective",
        "(w - 1)**2 + 10*(b + 2)**2",
        "--vars",
        "w,b",
        "-o",
        "gd:lr=0.05",
        "--criterion",
        "grad",
    )
    assert doc["problem"]["kind"] == "expression" and doc["runs"][0]["status"] == "converged"
    assert_bad_input(invoke("run", "--objective", "w.real", "--vars", "w"), "not allowed")


def test_the_table_says_why_newton_is_predicted_to_stall_beyond_float64s_resolution():
    """kappa = 1e17: Newton's pseudo-inverse drops lambda_min, the run stalls at max_steps and
    the table's predicted rate 1 comes with the reason, not alone."""
    out = ok("run", "--kappa", "1e17", "-o", "newton", "--max-steps", "50").stdout
    assert "max_steps" in out and "1.0000" in out
    assert "newton: Newton's pseudo-inverse drops the 1 eigenvalue(s)" in " ".join(out.split())
    assert "pseudo-inverse" not in ok("run", "-o", "newton", "--max-steps", "50").stdout
