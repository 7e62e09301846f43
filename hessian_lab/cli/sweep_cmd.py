"""``hessian-lab sweep``: one optimizer over a grid of one or two hyperparameters, one call.

Parses the options, calls :func:`hessian_lab.studies.sweep`, renders the study (summary
or JSON, CSV rows, a line or heatmap).
"""

from __future__ import annotations

import csv
import math
from typing import Annotated

import typer

from .. import memory
from ..spec.grids import parse_grids, plan_sweep
from . import options as opt
from .common import (
    as_float,
    build_problem,
    draw_plots,
    echo_err,
    err_console,
    handle_errors,
    out_console,
    package_version,
    parse_specs,
    print_json,
    problem_choice,
    problem_title,
    settings,
)
from .figures import figure_title
from .parsing import CLIError, atomic_write, check_output_path

HELP = """Sweep one optimizer over a grid of one or two hyperparameters.

The whole grid is ONE batched engine call (every grid point is a row). Each --grid is
NAME=START:STOP:NUM[:log|lin]; START and STOP may be expressions in the theory quantities
(lr_opt, lr_max, ...). NAME is a hyperparameter of the optimizer (beta1/beta2 for the
two parts of betas). Other hyperparameters come from --optimizer 'NAME:key=value,...'.
Without --grid: lr from lr_opt/100 to 1.2*lr_max (log, 64 points), on a quadratic.

The plot is a line (one grid) or a heatmap (two grids) of the steps to tolerance, with the
theoretical optimum and the stability boundary (predicted rate = 1) drawn on it.

\b
Examples:
  hessian-lab sweep
  hessian-lab sweep -o gd --grid 'lr=1e-4:0.03:64:log' --plot gd.png --csv gd.csv
  hessian-lab sweep -o momentum --grid 'lr=1e-4:0.04:48:log' --grid 'beta=0:0.99:32' --plot hb.png
  hessian-lab sweep -o adam --grid 'lr=1e-3:1:32:log' --grid 'beta1=0:0.99:16' --json
"""

PROGRESS_WORK = 5e6  # rows x steps above which a progress display is shown


@handle_errors
@opt.problem_and_rule
def sweep(
    ctx: typer.Context,
    optimizer: Annotated[
        list[str] | None,
        typer.Option(
            "--optimizer", "-o", metavar="SPEC", help="NAME or 'NAME:key=value,...'; default gd."
        ),
    ] = None,
    grid: Annotated[
        list[str] | None,
        typer.Option(
            metavar="GRID", help="NAME=START:STOP:NUM[:log|lin]; one or two.", show_default=False
        ),
    ] = None,
    csv_path: Annotated[
        str | None,
        typer.Option("--csv", metavar="FILE", help="Write every grid point as a CSV row."),
    ] = None,
    json_output: opt.Json = False,
    plot: Annotated[
        str | None,
        typer.Option(metavar="FILE", help="Heatmap / line of steps: .png, .svg or .pdf."),
    ] = None,
    max_memory_gb: opt.MaxMemory = opt.DEFAULT_MAX_MEMORY_GB,
    style: opt.Style = opt.FigureStyle.notebook,
    dpi: opt.Dpi = None,
    **options,
) -> None:
    from ..plots import FORMATS

    limit = as_float(max_memory_gb, "--max-memory-gb", positive=True)
    if plot is not None:
        check_output_path(plot, "--plot", FORMATS)
    if csv_path is not None:
        check_output_path(csv_path, "--csv", ("csv",))
    if optimizer and len(optimizer) > 1:
        raise CLIError("sweep takes one --optimizer; give the others in separate sweeps")
    spec = parse_specs(optimizer or ["gd"])[0]
    grids = parse_grids(grid or ())
    built = build_problem(problem_choice(ctx.params), limit)
    s = settings(built, ctx.params)
    q = built.quantities
    plan = plan_sweep(spec, grids, q)
    grids, fixed, grid_keys = plan.grids, plan.fixed, {g.name for g in plan.grids}
    batch = math.prod(g.num for g in grids)
    rotation, as_text = built.config.get("rotation", "none"), json_output or csv_path is not None
    memory.check_sweep(batch, built.problem.dim, rotation, as_text, spec.name == "newton", limit)
    from ..studies import Axis
    from ..studies import sweep as sweep_study

    axes = [Axis(g.name, values, g.scale) for g, values in zip(grids, plan.values, strict=True)]
    with _progress(batch, s.max_steps) as progress:
        study = sweep_study(
            built.problem,
            spec.name,
            axes,
            s.x0,
            fixed=fixed,
            progress=progress,
            boundary=plot is not None,
            **s.engine_kwargs(),
        )
    rows = [study.row(i) for i in range(study.result.batch)] if json_output or csv_path else []
    document = {
        "command": "sweep",
        "version": package_version(),
        "problem": built.config,
        **s.describe(),
        "optimizer": spec.name,
        "fixed_hyperparameters": _shown_fixed(fixed, grid_keys),
        "grids": [
            {"name": g.name, "text": g.text, "scale": g.scale, "values": a.values}
            for g, a in zip(grids, axes, strict=True)
        ],
        "theory": q,
        "theoretical_optimum": study.optimum,
        "prediction_note": study.prediction_note,
        "best": None if study.best is None else study.row(study.best),
        "wall_time": float(study.result.wall_time),
        "rows": rows,
    }
    if csv_path is not None:
        _write_csv(csv_path, [a.name for a in axes], rows)
    if json_output:
        print_json(document)
    else:
        _summary(document, study, built)
    if csv_path is not None:
        echo_err(f"wrote {csv_path}")
    if plot is not None:
        draw_plots([("--plot", plot, lambda: _figure(study, built))], style.value, dpi)


def _shown_fixed(fixed: dict, grid_keys: set) -> dict:
    """The fixed hyperparameters as reported: of ``betas``, only the half not swept."""
    shown = dict(fixed)
    if "betas" in shown and grid_keys & {"beta1", "beta2"}:
        betas = shown.pop("betas")
        if not {"beta1", "beta2"} <= grid_keys:
            kept = "beta2" if "beta1" in grid_keys else "beta1"
            shown[kept] = betas[0 if kept == "beta1" else 1]
    return shown


class _progress:
    """A progress bar on a terminal for sweeps over PROGRESS_WORK row-steps (or ``work``
    over ``threshold``), else nothing; ``label`` names what runs."""

    def __init__(self, batch: int, max_steps: int, work=None, threshold=PROGRESS_WORK, label=None):
        self.batch, self.max_steps, self.bar = batch, max_steps, None
        self.work = batch * max_steps if work is None else work
        self.threshold = threshold
        self.label = label or f"sweeping {batch} runs"

    def __enter__(self):
        console = err_console()
        if self.work <= self.threshold or not console.is_terminal:
            return None
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn(
                "step {task.completed:,.0f}/{task.total:,.0f}, {task.fields[active]} running"
            ),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self.bar.__enter__()
        task = self.bar.add_task(self.label, total=self.max_steps, active=self.batch)

        def advance(step: int, active: int) -> None:
            self.bar.update(task, completed=step if active else self.max_steps, active=active)

        return advance

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)


def _write_csv(path, names, rows):
    columns = [*names, "status", "steps", "diverged_at", "final_loss"]
    columns += ["predicted_steps", "predicted_rate"]

    def write(handle):
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if row[k] is None else row[k] for k in columns})

    atomic_write(path, write)


#: axis labels of the hyperparameters the figures name with their symbols
SYMBOLS = {
    "lr": r"learning rate $\eta$ (lr)",
    "beta": r"momentum $\beta$ (beta)",
    "beta1": r"$\beta_1$ (beta1)",
    "beta2": r"$\beta_2$ (beta2)",
}


def _figure(study, built):
    """The steps to tolerance over the grid: a line (one axis) or a heatmap (two)."""
    import numpy as np

    from .. import plots

    steps = np.asarray(study.result.steps_to_tol, dtype=float)
    title = f"{study.optimizer_name}: steps to tolerance on {figure_title(built)}"
    optimum = study.optimum
    if len(study.axes) == 1:
        axis = study.axes[0]
        return plots.sweep_line(
            axis.values,
            steps,
            axis.name,
            log_x=axis.scale == "log",
            predicted=study.predicted_steps,
            optimum=None if optimum is None else optimum[axis.name],
            boundary=study.boundary,
            title=title,
            status=study.result.status,
            color=plots.optimizer_color(study.optimizer_name),
            xlabel=SYMBOLS.get(axis.name, axis.name),
        )
    ax, ay = study.axes
    rate = study.boundary
    if rate is None and study.predicted_rate is not None:
        rate = study.predicted_rate.reshape(study.shape)
    return plots.sweep_heatmap(
        ax.values,
        ay.values,
        steps.reshape(study.shape),
        SYMBOLS.get(ax.name, ax.name),
        SYMBOLS.get(ay.name, ay.name),
        log_x=ax.scale == "log",
        log_y=ay.scale == "log",
        optimum=None if optimum is None else (optimum[ax.name], optimum[ay.name]),
        rate=rate,
        title=title,
        status=np.asarray(study.result.status).reshape(study.shape),
    )


def _summary(document, study, built):
    from rich.table import Table

    result = study.result
    counts = {s: int((result.status == s).sum()) for s in ("converged", "diverged", "max_steps")}
    table = Table(
        title=f"sweep of {document['optimizer']} on {problem_title(built)}", show_header=False
    )
    table.add_column("what")
    table.add_column("value")
    for g in document["grids"]:
        values = g["values"]
        table.add_row(
            f"grid {g['name']}",
            f"{len(values)} points, {values[0]:.4g} .. {values[-1]:.4g} ({g['scale']})",
        )
    fixed = ", ".join(f"{k}={v}" for k, v in document["fixed_hyperparameters"].items())
    table.add_row("fixed", fixed or "-")
    table.add_row("runs", f"{result.batch} in one engine call, {result.wall_time:.3f} s")
    table.add_row("status", ", ".join(f"{k} {v}" for k, v in counts.items()))
    best = document["best"]
    if best:
        point = ", ".join(f"{a.name}={best[a.name]:.5g}" for a in study.axes)
        table.add_row("fastest", f"{point}: {best['steps']} steps")
    opt = document["theoretical_optimum"]
    if opt:
        table.add_row("theory optimum", ", ".join(f"{k}={v:.5g}" for k, v in opt.items()))
    table.add_row(
        "criterion",
        f"{document['criterion']} <= {document['tol']:g}, at most {document['max_steps']} steps",
    )
    out_console().print(table)
