"""The CLI under hostile inputs: failing figures, mistyped configs, overflow, memory, files."""

from __future__ import annotations

import errno
import json
import os
import tracemalloc
import warnings

import numpy as np
import pytest
from typer.testing import CliRunner

from hessian_lab import files, memory, presets
from hessian_lab.cli import app
from hessian_lab.cli.common import EXIT_PLOT_FAILED

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args), env={"COLUMNS": "200"})


def one_error_line(result, *fragments: str, code: int = 2) -> str:
    assert result.exit_code == code, (result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


# --------------------------------------------------------------------------- figures
@pytest.mark.parametrize(
    ("figure", "args"),
    [
        ("sweep_line", ["sweep", "-o", "gd", "--grid", "lr=1e-3:0.03:6:log"]),
        ("contour_paths", ["run", "-o", "gd", "-o", "gd:lr=1.5*lr_max", "--bound", "1e200"]),
        ("loss_curves", ["run", "--dim", "3", "-o", "gd"]),
        ("hutchinson_error", ["hutchinson", "--dim", "3", "--probes", "16"]),
        ("rate_curves", ["theory", "--kappa", "10"]),
    ],
)
def test_a_failing_figure_keeps_the_results(tmp_path, monkeypatch, figure, args):
    """The JSON is printed in full first; the figure's failure is one line and exit 1."""
    from hessian_lab import plots

    def broken(*_args, **_kwargs):
        raise ValueError("no finite value to draw")

    monkeypatch.setattr(plots, figure, broken)
    target = tmp_path / "figure.png"
    result = invoke(*args, "--json", "--plot", str(target))
    assert json.loads(result.stdout)  # the whole document, parseable
    one_error_line(result, "--plot", "figure.png", "no finite value", code=EXIT_PLOT_FAILED)
    assert not target.exists()


def test_sweep_where_nothing_converges_still_prints_its_summary(tmp_path):
    result = invoke("sweep", "-o", "gd", "--grid", "lr=10:20:5", "--plot", str(tmp_path / "a.png"))
    assert "diverged 5" in result.stdout
    assert result.exit_code in (0, EXIT_PLOT_FAILED)
    assert "Traceback" not in result.stderr


# --------------------------------------------------------------------------- configs
@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("plot = 5\n", ["plot must be text", "got 5 (integer)"]),
        ('vars = ["x", 3]\nobjective = "x**2"\n', ["vars must be text or a list of texts"]),
        ("tol = true\n", ["tol must be a number", "(boolean)"]),
        ("max-steps = true\n", ["max-steps must be an integer", "(boolean)"]),
        ("dim = 2.5\n", ["dim must be an integer", "(float)"]),
        ("eigenvalues = [1, true]\n", ["eigenvalues must be a list of numbers"]),
        ("optimizer = 3\n", ["optimizer must be text or a list of texts"]),
        ("criterion = [1]\n", ["criterion must be text", "(array)"]),
        ("bound = {a = 1}\n", ["bound must be a number", "(table)"]),
    ],
)
def test_config_values_of_the_wrong_type_are_one_line_errors(tmp_path, text, fragments):
    config = tmp_path / "c.toml"
    config.write_text(text)
    one_error_line(invoke("run", "--config", str(config)), "--config", *fragments)


def test_config_with_a_byte_order_mark_is_read_and_a_binary_one_is_named(tmp_path):
    bom = tmp_path / "bom.toml"
    bom.write_bytes(b"\xef\xbb\xbftol = 1e-3\n")
    doc = json.loads(invoke("run", "-o", "gd", "--config", str(bom), "--json").stdout)
    assert doc["tol"] == 1e-3
    for name, payload in (("bin.toml", b"\x7fELF\x02\x01\x01\x00\xd0\xff"), ("nul.toml", b"a\x00")):
        path = tmp_path / name
        path.write_bytes(payload)
        one_error_line(invoke("run", "--config", str(path)), "--config", name, "text")


# --------------------------------------------------------------------------- memory
def _peak(*args: str) -> int:
    invoke(*args)  # imports and caches first: they are not the command's
    tracemalloc.start()
    try:
        result = invoke(*args)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return peak


@pytest.mark.parametrize("as_json", [False, True])
def test_the_sweep_estimate_bounds_the_measured_peak(as_json):
    n = 60
    args = ["sweep", "-o", "momentum", "--grid", f"lr=1e-3:0.05:{n}:log"]
    args += ["--grid", f"beta=0:0.9:{n}", "--max-steps", "30"]
    peak = _peak(*args, *(["--json"] if as_json else []))
    estimate = memory.sweep_bytes(n * n, 2, "none", as_json, newton=False)
    assert peak <= estimate <= 4 * peak, (peak, estimate)


def test_the_run_estimates_bound_the_measured_peak(tmp_path):
    dim = 30_000
    peak = _peak("run", "--dim", str(dim), "-o", "gd", "-o", "adam", "--max-steps", "3")
    estimate = memory.run_bytes(dim, "none", 2, 0, newton=False)
    assert peak <= estimate <= 4 * peak, (peak, estimate)
    steps = 10_000  # a recorded path drawn on the contour plot
    plot = str(tmp_path / "p.png")
    peak = _peak("run", "-o", "gd:lr=1e-6", "--max-steps", str(steps), "--plot", plot)
    estimate = memory.run_bytes(2, "none", 1, steps, newton=False)
    assert peak <= estimate <= 4 * peak, (peak, estimate)


def test_a_refused_size_allocates_nothing_large_first():
    tracemalloc.start()
    try:
        result = invoke("run", "--dim", "300000000")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    one_error_line(result, "300000000", "GB")
    assert peak < 50e6, peak


# --------------------------------------------------------------------------- warnings
@pytest.mark.parametrize(
    "args",
    [
        ["run", "-o", "gd:lr=1e308", "-o", "momentum:lr=1e300"],
        ["theory", "--kappa", "1e300"],
        ["hutchinson", "--kappa", "1e308"],
        ["sweep", "-o", "gd", "--grid", "lr=1e-3:1:8:log", "--grid", "weight_decay=0:1:3"]
        + ["--problem", "double-well", "--x0", "0,0", "--criterion", "grad", "--plot", "w.png"],
    ],
)
def test_no_python_warning_reaches_the_user(tmp_path, monkeypatch, args):
    monkeypatch.chdir(tmp_path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = invoke(*args)
    assert not caught, [str(w.message) for w in caught]
    assert "Warning:" not in result.stderr.replace("Warning: x0 = (0, 0)", "")
    assert "Traceback" not in result.stderr


# --------------------------------------------------------------------------- files
def test_an_empty_output_path_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    one_error_line(invoke("experiment", "steep-valley", "--out", "", "--quick"), "--out", "empty")
    one_error_line(invoke("sweep", "--csv", ""), "--csv", "empty")
    one_error_line(invoke("run", "--plot", " "), "--plot", "empty")
    one_error_line(invoke("run", "--config", ""), "--config", "empty")
    assert list(tmp_path.iterdir()) == []


def test_csv_through_a_link_replaces_the_linked_file_and_keeps_its_mode(tmp_path):
    private = tmp_path / "private.csv"
    private.write_text("old\n")
    private.chmod(0o600)
    link = tmp_path / "link.csv"
    link.symlink_to(private)
    result = invoke("sweep", "--csv", str(link), "--max-steps", "50")
    assert result.exit_code == 0, result.stderr
    assert link.is_symlink() and os.readlink(link) == str(private)
    assert private.read_text().startswith("lr,status")
    assert private.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.csv", "private.csv"]


def test_the_atomic_writer_keeps_a_replaced_files_mode(tmp_path):
    target = tmp_path / "f.txt"
    target.write_text("a")
    target.chmod(0o640)
    files.atomic_write(target, lambda h: h.write(b"b"))
    assert target.read_bytes() == b"b" and target.stat().st_mode & 0o777 == 0o640


def test_disk_errors_name_the_file(tmp_path, monkeypatch):
    def full(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(files, "_stage", full)
    csv = tmp_path / "s.csv"
    one_error_line(invoke("sweep", "--csv", str(csv), "--max-steps", "20"), "s.csv", "space")
    import hessian_lab.experiments

    class Written:  # an experiment's result, reduced to its files
        def write(self, folder, **figure_options):  # dpi=, format=
            return files.atomic_write_many(folder, {"table.csv": b"a,b\n"})

    monkeypatch.setattr(hessian_lab.experiments, "run_experiment", lambda *a, **k: Written())
    out = tmp_path / "res"
    one_error_line(invoke("experiment", "steep-valley", "--out", str(out)), "res", "space")


# --------------------------------------------------------------------------- wrong names
@pytest.mark.parametrize(
    ("args", "fragments", "absent"),
    [
        (["run", "--max-steps", str(10**23)], ["--max-steps", "<="], "Python int"),
        (["theory", "--max-steps", str(10**23)], ["--max-steps", "<="], "Python int"),
        (["theory", "--kappa", "1e300"], ["--kappa", "overflow"], "--eigenvalues"),
        (["theory", "--lambda-min", "0"], ["--lambda-min", "> 0"], "--eigenvalues"),
        (["run", "--lambda-min", "0"], ["--lambda-min", "> 0"], "--eigenvalues"),
        (["run", "--eigenvalues", "1,2", "--lambda-min", "2"], ["--lambda-min"], "Traceback"),
    ],
)
def test_errors_name_the_input_at_fault(args, fragments, absent):
    line = one_error_line(invoke(*args), *fragments)
    assert absent not in line
    assert "sqrt" not in line  # no internal formula


def test_a_config_float_for_max_steps_names_the_key(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text("max_steps = 1e23\n")
    one_error_line(invoke("run", "--config", str(config)), "max_steps must be an integer")


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_newton_on_a_non_smooth_point_is_a_row_status_like_the_others(backend):
    pytest.importorskip(backend)
    result = invoke(
        "run", "--objective", "sqrt(x**2 + y**2) + (x - 1)**2", "--vars", "x,y",
        "--x0", "0,0", "-o", "newton", "-o", "gd:lr=0.1", "--criterion", "grad",
        "--backend", backend, "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    runs = json.loads(result.stdout)["runs"]
    assert [r["status"] for r in runs] == ["diverged", "diverged"]


def test_newton_keeps_the_finite_rows_of_a_batch():
    import hessian_lab as hl
    from hessian_lab.problems.expression import ExpressionProblem

    problem = ExpressionProblem("sqrt(x**2 + y**2) + (x - 1)**2", "x y")
    x0 = np.array([[0.0, 0.0], [2.0, 0.0]])
    result = hl.run(problem, hl.Newton(), x0, criterion="grad", tol=1e-8, max_steps=200)
    assert list(result.status) == ["diverged", "converged"]


# --------------------------------------------------------------------------- presets
@pytest.mark.parametrize("name", list(presets.PRESETS))
def test_each_preset_starts_where_gradient_descent_has_work_to_do(name):
    from hessian_lab.studies import stationary_start

    found = presets.preset(name)
    problem = found.build()
    assert len(found.x0) == problem.dim
    gradient = np.asarray(problem.grad(np.asarray([found.x0])))[0]
    assert np.linalg.norm(gradient) > 1e-3
    assert stationary_start(problem, found.x0) is None
    result = invoke("run", "--problem", name, "-o", "gd:lr=1e-3", "--max-steps", "5", "--json")
    doc = json.loads(result.stdout)
    assert doc["x0"] == list(found.x0)
    assert doc["runs"][0]["status"] != "converged"  # it moves: 0 steps would mean stuck


def test_a_stationary_start_that_is_not_a_minimizer_gets_one_warning_line():
    result = invoke("run", "--problem", "double-well", "--x0", "0,0", "-o", "gd", "--json")
    warned = [line for line in result.stderr.splitlines() if line.startswith("Warning: ")]
    assert len(warned) == 1 and "stationary" in warned[0] and "--x0" in warned[0]
    assert json.loads(result.stdout)["runs"][0]["steps"] is None  # stuck, as warned
    quiet = invoke("run", "--problem", "double-well", "--x0", "1,0", "-o", "gd", "--json")
    assert "Warning" not in quiet.stderr  # a minimizer: nothing to warn about
    saddle = invoke("run", "--objective", "x**2 - y**2 + x**4 + y**4", "--vars", "x,y")
    assert "Hessian" in saddle.stderr and "stationary" in saddle.stderr


def test_the_x0_help_names_every_presets_start():
    text = " ".join(invoke("run", "--help").stdout.split())
    for found in presets.PRESETS.values():
        start = "(" + ",".join(f"{v:g}" for v in found.x0) + ")"
        assert f"{found.name} {start}" in text, (found.name, start)


# --------------------------------------------------------------------------- options
def test_a_config_is_the_commands_default_map(tmp_path):
    """Any flag can come from the file, under its own name; a flag given still wins."""
    config = tmp_path / "c.toml"
    config.write_text(
        'objective = "(w - 1)**2 + 10*(b + 2)**2"\nvars = ["w", "b"]\n'
        'optimizer = "gd:lr=0.05"\ncriterion = "grad"\njson = true\nmax_steps = 7\n'
    )
    doc = json.loads(invoke("run", "--config", str(config), "--max-steps", "900").stdout)
    assert doc["problem"]["vars"] == ["w", "b"] and doc["criterion"] == "grad"
    assert doc["max_steps"] == 900 and doc["runs"][0]["status"] == "converged"
    sweep_config = tmp_path / "s.toml"
    sweep_config.write_text('grid = "lr=1e-3:0.02:3:log"\nmax-steps = 300\n')
    doc = json.loads(invoke("sweep", "--config", str(sweep_config), "--json").stdout)
    assert len(doc["rows"]) == 3 and doc["max_steps"] == 300
    run_only = tmp_path / "r.toml"
    run_only.write_text('plot3d = "s.png"\n')
    line = one_error_line(invoke("sweep", "--config", str(run_only)), "unknown field 'plot3d'")
    assert "grid" in line  # the allowed names are the command's own flags


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["run", "--seed", "-1"], ["--seed", ">= 0"]),
        (["run", "--dim", "0"], ["--dim", ">= 1"]),
        (["hutchinson", "--probes", "0"], ["--probes", ">= 1"]),
        (["hutchinson", "--dim", "0"], ["--dim", ">= 1"]),
        (["sweep", "--spectrum", "cubic"], ["--spectrum", "geometric"]),
        (["theory", "--criterion", "fast"], ["--criterion", "loss"]),
    ],
)
def test_click_checks_ranges_and_choices_in_one_line(args, fragments):
    one_error_line(invoke(*args), *fragments)


def test_the_options_choices_are_the_librarys():
    """The CLI spells its choices out (its import must not load NumPy); they must stay
    the library's own tuples."""
    from hessian_lab.backend import BACKENDS, DTYPES
    from hessian_lab.cli import options
    from hessian_lab.engine import CRITERIA
    from hessian_lab.problems.quadratic import ROTATIONS, SPECTRA

    for enum, values in (
        (options.Criterion, CRITERIA),
        (options.Spectrum, SPECTRA),
        (options.Rotation, ROTATIONS),
        (options.BackendName, BACKENDS),
        (options.DType, DTYPES),
    ):
        assert tuple(e.value for e in enum) == values
