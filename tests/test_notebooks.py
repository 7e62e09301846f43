"""The teaching notebooks run top to bottom, are stored without outputs, and are exactly
what ``notebooks/build_notebooks.py`` writes from ``notebooks/sources/`` (the student
exercises included)."""

from __future__ import annotations

import functools
import importlib.util
import os
import tempfile
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

FOLDER = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(FOLDER.glob("*.ipynb"))


def _builder():
    spec = importlib.util.spec_from_file_location("build_notebooks", FOLDER / "build_notebooks.py")
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    return builder


def test_the_course_has_its_notebooks_and_the_student_exercises():
    names = [path.name for path in NOTEBOOKS]
    assert names[:8] == [
        "01_ill_conditioning.ipynb",
        "02_momentum_and_nesterov.ipynb",
        "03_adaptive_methods.ipynb",
        "04_hutchinson_and_adahessian.ipynb",
        "05_exercises.ipynb",
        "05_exercises_student.ipynb",
        "06_check_your_optimizer.ipynb",
        "06_check_your_optimizer_student.ipynb",
    ]
    assert "08_momentum_sliders.ipynb" in names
    for name in names:
        if name.endswith("_student.ipynb"):
            assert name.replace("_student", "") in names, f"{name} has no solved version"


def test_stored_notebooks_are_what_the_builder_writes(tmp_path):
    written = _builder().build(tmp_path)
    assert sorted(path.name for path in written) == [path.name for path in NOTEBOOKS], (
        "a stored notebook no source writes, or a source's notebook not stored: rebuild"
    )
    for path in written:
        assert path.read_text() == (FOLDER / path.name).read_text(), f"rebuild {path.name}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, path.name


@functools.cache
def executed(path: Path):
    """The notebook after running it in a fresh kernel (once per test session)."""
    os.environ["MPLBACKEND"] = "Agg"
    notebook = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory() as folder:
        client = NotebookClient(
            notebook, timeout=180, kernel_name="python3", resources={"metadata": {"path": folder}}
        )
        client.execute()
    return notebook


def _outputs(notebook, kind: str):
    return [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == kind
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_executes(path):
    assert not _outputs(executed(path), "error")


def _printed(notebook) -> str:
    return "".join(output.get("text", "") for output in _outputs(notebook, "stream"))


@pytest.mark.parametrize(
    ("stem", "answers", "hidden", "solved_text", "student_text"),
    [
        ("05_exercises", 6, ("Reference solution", "2 / (2 + 50)"), "", ""),
        ("06_check_your_optimizer", 1, ("Reference solution", "m_hat"), "correct: fixed_adam",
         "fixed_adam = None"),
        ("07_noise_and_batch_size", 3, ("Reference solution", "np.ceil(per_unit_batch"), "", ""),
    ],
)  # fmt: skip
def test_solutions_pass_every_check_and_the_student_version_waits_for_answers(
    stem, answers, hidden, solved_text, student_text
):
    solved = _printed(executed(FOLDER / f"{stem}.ipynb"))
    student = _printed(executed(FOLDER / f"{stem}_student.ipynb"))
    assert solved.count("correct") == answers and "not answered yet" not in solved
    assert student.count("not answered yet") == answers and "correct" not in student
    notebook = nbformat.read(FOLDER / f"{stem}_student.ipynb", as_version=4)
    sources = "\n".join(cell.source for cell in notebook.cells)
    assert not [text for text in hidden if text in sources]
    assert solved_text in solved and student_text in sources


def test_slider_notebook_drives_its_explorer_headless():
    notebook = executed(FOLDER / "08_momentum_sliders.ipynb")
    widgets = [
        output
        for output in _outputs(notebook, "display_data") + _outputs(notebook, "execute_result")
        if "application/vnd.jupyter.widget-view+json" in output.get("data", {})
    ]
    assert widgets, "the explorer's widget is displayed"
    printed = _printed(notebook)
    assert "κ = 30: converged" in printed and "Nesterov, lr = 0.03" in printed
