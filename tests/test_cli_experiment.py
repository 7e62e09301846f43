"""``hessian-lab experiment``: list, run one into a folder, and its error paths."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from hessian_lab.cli import app
from hessian_lab.experiments import EXPERIMENTS

runner = CliRunner()


def test_list_names_every_experiment():
    result = runner.invoke(app, ["experiment", "list", "--json"])
    assert result.exit_code == 0
    assert list(json.loads(result.stdout)) == list(EXPERIMENTS)


def test_an_experiment_writes_its_table_json_and_figures(tmp_path):
    out = tmp_path / "valley"
    result = runner.invoke(app, ["experiment", "steep-valley", "--quick", "--out", str(out)])
    assert result.exit_code == 0, result.output
    names = sorted(path.name for path in out.iterdir())
    assert {"table.csv", "table.md", "result.json"} <= set(names)
    pngs = [out / name for name in names if name.endswith(".png")]
    assert pngs and all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)
    document = json.loads((out / "result.json").read_text())
    gd = next(
        row
        for row in document["table"]
        if row["optimizer"] == "gd" and row["status"] == "converged"
    )
    assert gd["steps"] == gd["predicted_steps"]


def test_json_output_lists_the_files_it_wrote(tmp_path):
    result = runner.invoke(
        app, ["experiment", "hutchinson", "--quick", "--json", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document["name"] == "hutchinson"
    assert all((tmp_path / name.split("/")[-1]).exists() for name in document["files"])


def test_unknown_experiment_is_a_one_line_error():
    result = runner.invoke(app, ["experiment", "no-such-study"])
    assert result.exit_code == 2
    assert result.stderr.strip().startswith("Error: unknown experiment 'no-such-study'")
    assert len(result.stderr.strip().splitlines()) == 1


def test_unwritable_folder_fails_before_any_work(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = runner.invoke(app, ["experiment", "precision", "--out", str(blocker / "sub")])
    assert result.exit_code == 2
    assert "--out" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert blocker.read_text() == "not a folder"
