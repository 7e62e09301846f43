"""``hessian-lab experiment``: list the canned studies, or run one into a folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from . import options as opt
from .common import handle_errors, out_console, print_json
from .parsing import CLIError, as_path, check_output_folder

HELP = """Run a canned experiment (or `list` them) and write its table, JSON and figures.

Each experiment is a small study built from library calls: every number it reports comes
from the engine or the symbolic layer. Files written into --out: table.csv, table.md,
result.json and one figure per file, PNG by default (--format svg or pdf for vector
figures; each file written to a temporary name, then renamed). --style talk draws every
figure 16:9 at 1920 x 1080 with large text, for a projector; --style paper 6.5 in wide.

\b
Examples:
  hessian-lab experiment list
  hessian-lab experiment steep-valley --out results/valley
  hessian-lab experiment scaling --quick --json
  hessian-lab experiment rate-curves --style talk --out slides/rates
  hessian-lab experiment steep-valley --format pdf --out paper/valley
"""


@handle_errors
def experiment(
    name: Annotated[str, typer.Argument(help="An experiment's name, or 'list'.")],
    out: Annotated[
        str | None,
        typer.Option(
            metavar="DIR", help="Folder for the files [default: hessian-lab-results/NAME]."
        ),
    ] = None,
    quick: Annotated[
        bool, typer.Option("--quick", help="A reduced size that runs in seconds.")
    ] = False,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the result as one JSON document.")
    ] = False,
    style: opt.Style = opt.FigureStyle.notebook,
    figure_format: opt.Format = opt.FigureFormat.png,
    dpi: opt.Dpi = None,
) -> None:
    from ..experiments import EXPERIMENTS, run_experiment

    if name == "list":
        if json_output:
            print_json({key: entry.summary for key, entry in EXPERIMENTS.items()})
            return
        from rich.table import Table

        table = Table(title="hessian-lab experiments")
        table.add_column("name", style="bold")
        table.add_column("what it shows")
        for key, entry in EXPERIMENTS.items():
            table.add_row(key, entry.summary)
        out_console().print(table)
        return
    if name not in EXPERIMENTS:
        raise CLIError(f"unknown experiment {name!r}; allowed: list, {', '.join(EXPERIMENTS)}")
    folder = Path("hessian-lab-results") / name if out is None else as_path(out, "--out")
    check_output_folder(folder, "--out")
    result = run_experiment(name, quick=quick, style=style.value)
    try:
        written = result.write(folder, dpi=dpi, format=figure_format.value)
    except OSError as error:
        raise CLIError(
            f"--out {str(folder)!r}: cannot write the files ({error.strerror or error})"
        ) from None
    if json_output:
        print_json({**result.to_dict(), "files": [str(path) for path in written]})
        return
    from rich.table import Table

    console = out_console()
    table = Table(title=result.title)
    for column in result.columns:
        table.add_column(column)
    for row in result.to_dict()["table"]:
        table.add_row(*(_cell(row.get(column)) for column in result.columns))
    console.print(table)
    for note in result.notes:
        console.print(f"- {note}", markup=False, highlight=False)
    console.print(f"wrote {len(written)} files into {folder}", markup=False, highlight=False)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)
