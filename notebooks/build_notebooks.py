"""Write the teaching notebooks of ``notebooks/`` with nbformat.

    python notebooks/build_notebooks.py          # rewrites notebooks/0*.ipynb

The cells live in ``notebooks/sources/``, one module per notebook (``nb01_ill_conditioning.py``,
...), each with a ``NOTEBOOKS`` table (file name -> function returning the cells); this
script finds every ``sources/nb*.py``, so adding a notebook is adding a module. Shared cell
constructors and snippets (the setup cell, the exercise pattern) are in ``sources/cells.py``.

The notebooks are stored without outputs (``execution_count`` None), so they review as
plain text and run top to bottom in the test suite (``tests/test_notebooks.py``, which also
checks that the stored files are what this script writes). Edit the cells in ``sources/``,
not in the ``.ipynb`` files, and regenerate.

Text follows measurement: where a sentence states a number or a qualitative result, the
cell that measures it asserts it, so a changed result stops the notebook instead of leaving
the text wrong.

Exercises follow one pattern (``cells.exercise``): a notebook with exercises is written
twice from the same cells, with the reference solutions and as ``*_student.ipynb`` with
every answer set to ``None``. The check cells are the same in both; each runs only once its
answers are set (``answered``), so the student version executes top to bottom, printing
"not answered yet" per exercise, and a filled-in wrong answer still fails with the check's
hint.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path

import nbformat
from nbformat.v4 import new_notebook

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "sources"
PACKAGE = "hessian_lab_notebook_sources"  # a private name: `sources` stays off sys.path


def _package():
    """Import ``sources/`` as a package under a private name (its modules import each other
    relatively), without putting the notebooks folder on ``sys.path``."""
    if PACKAGE not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            PACKAGE, SOURCES / "__init__.py", submodule_search_locations=[str(SOURCES)]
        )
        package = importlib.util.module_from_spec(spec)
        sys.modules[PACKAGE] = package
        spec.loader.exec_module(package)
    return sys.modules[PACKAGE]


def notebooks() -> dict[str, Callable[[], list]]:
    """File name -> cell function, from every ``sources/nb*.py``, in file-name order."""
    _package()
    table: dict[str, Callable[[], list]] = {}
    for path in sorted(SOURCES.glob("nb*.py")):
        module = importlib.import_module(f"{PACKAGE}.{path.stem}")
        for name, make in module.NOTEBOOKS.items():
            if name in table:
                raise ValueError(f"{path.name}: notebook {name} is also written by another module")
            table[name] = make
    return table


def build(folder: Path = HERE) -> list[Path]:
    """Write every notebook into ``folder`` (no outputs, no execution counts)."""
    written = []
    for name, make in notebooks().items():
        nb = new_notebook(
            cells=make(),
            metadata={
                "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                "language_info": {"name": "python"},
            },
        )
        stem = name.split("_")[0] + ("s" if "student" in name else "")
        for i, cell in enumerate(nb.cells):
            cell.id = f"nb{stem}-{i:02d}"  # stable ids: regenerating gives no spurious diff
        nbformat.validate(nb)
        path = folder / name
        nbformat.write(nb, path)
        written.append(path)
    return written


if __name__ == "__main__":
    for path in build():
        print("wrote", path.relative_to(HERE.parent))
