"""``hessian-lab sweep``: one optimizer over a grid of one or two hyperparameters, one call."""

from __future__ import annotations

import csv
import math
from typing import Annotated

import typer

from .. import catalog
from . import memory
from .common import (
    DEFAULT_MAX_MEMORY_GB,
    as_float,
    as_text_list,
    build_problem,
    draw_plots,
    echo_err,
    err_console,
    float_or_none,
    handle_errors,
    int_or_none,
    load_config,
    out_console,
    parse_specs,
    pick,
    print_json,
    resolve_optimizer,
)
from .parsing import CLIError, atomic_write, check_memory, check_output_path, parse_grid
from .run_cmd import (
    PROBLEM_FIELDS,
    BackendOpt,
    BoundOpt,
    CenterOpt,
    ConfigOpt,
    CriterionOpt,
    DimOpt,
    DTypeOpt,
    EigenvaluesOpt,
    KappaOpt,
    LambdaMinOpt,
    MaxStepsOpt,
    MemoryOpt,
    ObjectiveOpt,
    ProblemOpt,
    RotationOpt,
    SeedOpt,
    SpectrumOpt,
    TolOpt,
    VarsOpt,
    X0Opt,
    _title,
    _version,
    merge_problem,
    run_settings,
)

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

SWEEP_FIELDS = (
    *PROBLEM_FIELDS,
    "optimizer",
    "grid",
    "x0",
    "criterion",
    "tol",
    "max_steps",
    "bound",
    "backend",
    "dtype",
    "plot",
    "csv",
    "max_memory_gb",
)

PROGRESS_WORK = 5e6  # rows x steps above which a progress display is shown


def _field_kind(optimizer_name: str, name: str):
    from dataclasses import fields

    from .. import OPTIMIZERS

    kinds = {f.name: f.metadata.get("kind") for f in fields(OPTIMIZERS[optimizer_name])}
    if name in ("beta1", "beta2") and kinds.get("betas") == "pair":
        return "pair-part"
    if name not in kinds:
        allowed = [k for k, v in kinds.items() if v in ("hyper", "pair")]
        if "betas" in allowed:
            allowed += ["beta1", "beta2"]
        raise CLIError(
            f"--grid {name!r}: {optimizer_name} has no hyperparameter {name!r}; "
            f"allowed: {', '.join(a for a in allowed if a != 'betas')}"
        )
    if kinds[name] != "hyper":
        raise CLIError(
            f"--grid {name!r}: {name} cannot be swept (a fixed setting or a pair); "
            "sweep beta1 or beta2 for betas"
        )
    return "hyper"


@handle_errors
def sweep(
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
    eigenvalues: EigenvaluesOpt = None,
    dim: DimOpt = None,
    kappa: KappaOpt = None,
    spectrum: SpectrumOpt = None,
    lambda_min: LambdaMinOpt = None,
    rotation: RotationOpt = None,
    seed: SeedOpt = None,
    center: CenterOpt = None,
    x0: X0Opt = None,
    objective: ObjectiveOpt = None,
    vars: VarsOpt = None,
    problem: ProblemOpt = None,
    criterion: CriterionOpt = None,
    tol: TolOpt = None,
    max_steps: MaxStepsOpt = None,
    bound: BoundOpt = None,
    backend: BackendOpt = None,
    dtype: DTypeOpt = None,
    config: ConfigOpt = None,
    csv_path: Annotated[
        str | None, typer.Option("--csv", help="Write every grid point as a CSV row.")
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print one JSON document instead of the summary.")
    ] = False,
    plot: Annotated[
        str | None, typer.Option(help="Heatmap / line of steps: .png, .svg or .pdf.")
    ] = None,
    max_memory_gb: MemoryOpt = None,
) -> None:
    cfg = load_config(config, SWEEP_FIELDS)
    limit = as_float(
        pick(max_memory_gb, cfg, "max_memory_gb", DEFAULT_MAX_MEMORY_GB),
        "--max-memory-gb",
        positive=True,
    )
    from ..plots import FORMATS

    plot = pick(plot, cfg, "plot")
    csv_path = pick(csv_path, cfg, "csv")
    if plot is not None:
        check_output_path(plot, "--plot", FORMATS)
    if csv_path is not None:
        check_output_path(csv_path, "--csv", ("csv",))
    spec_texts = as_text_list(pick(optimizer, cfg, "optimizer"), "--optimizer")
    if len(spec_texts) > 1:
        raise CLIError("sweep takes one --optimizer; give the others in separate sweeps")
    spec = parse_specs(spec_texts or ["gd"])[0]
    grids = [parse_grid(g) for g in as_text_list(pick(grid, cfg, "grid"), "--grid")]
    if len(grids) > 2:
        raise CLIError(f"--grid is given {len(grids)} times; one or two grids are allowed")
    if len(grids) == 2 and grids[0].name == grids[1].name:
        raise CLIError(f"--grid names {grids[0].name!r} twice; give two different names")
    choice = merge_problem(
        cfg,
        eigenvalues=eigenvalues,
        dim=dim,
        kappa=kappa,
        spectrum=spectrum,
        lambda_min=lambda_min,
        rotation=rotation,
        seed=seed,
        center=center,
        objective=objective,
        vars=vars,
        problem=problem,
    )
    built = build_problem(choice, limit)
    start, criterion_, tol_, steps_, bound_, backend_ = run_settings(
        cfg, built, x0, criterion, tol, max_steps, bound, backend, dtype
    )
    q = built.quantities
    if not grids:
        if q is None:
            raise CLIError(
                "--grid is required here (the default lr grid needs a quadratic's theory "
                "quantities); e.g. --grid 'lr=1e-4:1:64:log'"
            )
        grids = [parse_grid("lr=lr_opt/100:1.2*lr_max:64:log")]
    kinds = [_field_kind(spec.name, g.name) for g in grids]
    batch = math.prod(g.num for g in grids)
    d = built.problem.dim
    newton = " and newton's dense Hessians" if spec.name == "newton" else ""
    check_memory(
        memory.sweep_bytes(
            batch,
            d,
            built.config.get("rotation", "none"),
            json_output or csv_path is not None,
            bool(newton),
        ),
        limit,
        f"a sweep of {batch} runs in dimension {d}{newton}",
        "use fewer grid points or a smaller --dim",
    )
    axes = [g.values(q) for g in grids]
    grid_keys = {g.name for g in grids}
    for key in list(spec.values):
        if key in grid_keys:
            raise CLIError(f"--optimizer sets {key} and --grid sweeps it; drop one")
    base = resolve_optimizer(spec, q)
    from ..engine import run as engine_run
    from ..theory import predict

    def optimizer_over(grid_axes):
        return _optimizer_over(spec.name, base, grids, kinds, grid_axes)

    opt = optimizer_over(axes)
    columns = _columns(axes)
    work = batch * steps_
    console = err_console()
    settings = dict(criterion=criterion_, tol=tol_, max_steps=steps_, bound=bound_)
    if work > PROGRESS_WORK and console.is_terminal:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn(
                "step {task.completed:,.0f}/{task.total:,.0f}, {task.fields[active]} running"
            ),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as bar:
            task = bar.add_task(f"sweeping {batch} runs", total=steps_, active=batch)

            def advance(step: int, active: int) -> None:
                bar.update(task, completed=step if active else steps_, active=active)

            result = engine_run(
                built.problem, opt, start, **settings, backend=backend_, progress=advance
            )
    else:
        result = engine_run(built.problem, opt, start, **settings, backend=backend_)
    try:
        prediction = predict(
            built.problem, opt, start, criterion=criterion_, tol=tol_, max_steps=steps_
        )
        rates, predicted, note = prediction.rate, prediction.steps, prediction.note
    except (ValueError, ArithmeticError, ImportError) as error:
        rates = predicted = None
        note = f"no prediction: {error}"

    rows = []
    for i in range(batch):
        row = result.row(i)
        entry = {g.name: float(columns[k][i]) for k, g in enumerate(grids)}
        entry.update(
            status=row["status"],
            steps=row["steps"],
            diverged_at=row["diverged_at"],
            final_loss=row["final_loss"],
            predicted_steps=None if predicted is None else int_or_none(predicted[i]),
            predicted_rate=None if rates is None else float_or_none(rates[i]),
        )
        rows.append(entry)
    optimum = _optimum(spec.name, grids, q)
    best = _best(rows)
    fixed = {k: v for k, v in base.values.items() if k not in grid_keys}
    if "betas" in fixed and grid_keys & {"beta1", "beta2"}:  # only the unswept half is fixed
        kept = "beta2" if "beta1" in grid_keys else "beta1"
        if not {"beta1", "beta2"} <= grid_keys:
            fixed[kept] = fixed["betas"][0 if kept == "beta1" else 1]
        del fixed["betas"]
    document = {
        "command": "sweep",
        "version": _version(),
        "problem": built.config,
        "x0": start,
        "criterion": criterion_,
        "tol": tol_,
        "max_steps": steps_,
        "bound": bound_,
        "backend": backend_.name,
        "device": backend_.device,
        "dtype": backend_.dtype,
        "optimizer": spec.name,
        "fixed_hyperparameters": fixed,
        "grids": [
            {"name": g.name, "text": g.text, "scale": g.scale, "values": a}
            for g, a in zip(grids, axes, strict=True)
        ],
        "theory": q,
        "theoretical_optimum": optimum,
        "prediction_note": note,
        "best": best,
        "wall_time": float(result.wall_time),
        "rows": rows,
    }
    if csv_path is not None:
        _write_csv(csv_path, grids, rows)
    if json_output:
        print_json(document)
    else:
        _summary(document, grids, result, built)
    if csv_path is not None:
        echo_err(f"wrote {csv_path}")
    if plot is not None:

        def build():
            boundary = None
            if rates is not None and len(grids) == 2:
                fine = _fine_axes(grids, axes)
                fine_rate = predict(built.problem, optimizer_over(fine), start, max_steps=0).rate
                boundary = (fine[0], fine[1], fine_rate.reshape(len(fine[1]), len(fine[0])))
            return _figure(
                spec.name, grids, axes, result, rates, predicted, optimum, q, built, boundary
            )

        draw_plots([("--plot", plot, build)])


def _optimizer_over(name, base, grids, kinds, axes):
    """The optimizer with the swept hyperparameters set to the grid's columns."""
    from .. import make_optimizer

    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in base.values.items()}
    for g, kind, column in zip(grids, kinds, _columns(axes), strict=True):
        if kind == "pair-part":
            betas = list(kwargs["betas"])
            betas[0 if g.name == "beta1" else 1] = column
            kwargs["betas"] = tuple(betas)
        else:
            kwargs[g.name] = column
    return make_optimizer(name, **kwargs)


def _fine_axes(grids, axes, points: int = 240):
    """The same ranges at ``points`` values each (on the grid's own scale)."""
    import numpy as np

    spaced = {"log": np.geomspace, "lin": np.linspace}
    return [spaced[g.scale](a[0], a[-1], points) for g, a in zip(grids, axes, strict=True)]


def _columns(axes):
    """Grid columns of length B: the first grid varies fastest (x), the second slowest (y)."""
    if len(axes) == 1:
        return [list(axes[0])]
    x, y = axes
    return [[v for _ in y for v in x], [w for w in y for _ in x]]


def _optimum(name, grids, q):
    table = catalog.entry(name).optimum
    if not q or not table:
        return None
    names = [g.name for g in grids]
    if not all(n in table for n in names):
        return None
    return {n: q.get(table[n]) for n in names}


def _best(rows):
    done = [r for r in rows if r["status"] == "converged"]
    if not done:
        return None
    return min(done, key=lambda r: r["steps"])


def _write_csv(path, grids, rows):
    columns = [g.name for g in grids] + [
        "status",
        "steps",
        "diverged_at",
        "final_loss",
        "predicted_steps",
        "predicted_rate",
    ]

    def write(handle):
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if row[k] is None else row[k] for k in columns})

    atomic_write(path, write)


def _boundary_1d(x, rates):
    """Where the predicted rate first crosses 1 (linear interpolation), or None."""
    import numpy as np

    if rates is None:
        return None
    r = np.asarray(rates, float)
    for i in range(1, len(r)):
        if np.isfinite(r[i - 1]) and np.isfinite(r[i]) and r[i - 1] < 1 <= r[i]:
            t = (1 - r[i - 1]) / (r[i] - r[i - 1])
            return float(x[i - 1] + t * (x[i] - x[i - 1]))
    return None


def _figure(name, grids, axes, result, rates, predicted, optimum, q, built, boundary=None):
    import numpy as np

    from .. import plots

    steps = np.asarray(result.steps_to_tol, dtype=float)
    title = f"{name}: steps to tolerance on {_title(built)}"
    if len(grids) == 1:
        g = grids[0]
        x = np.asarray(axes[0], float)
        boundary = _boundary_1d(x, rates)
        if name == "gd" and g.name == "lr" and q:
            boundary = q.get("lr_max", boundary)
        fig = plots.sweep_line(
            x,
            steps,
            g.name,
            log_x=g.scale == "log",
            predicted=predicted,
            optimum=None if optimum is None else optimum[g.name],
            boundary=boundary,
            title=title,
            status=result.status,
        )
    else:
        gx, gy = grids
        nx, ny = len(axes[0]), len(axes[1])
        rate = None if rates is None else np.asarray(rates, float).reshape(ny, nx)
        if boundary is not None:
            rate = boundary
        opt = None if optimum is None else (optimum[gx.name], optimum[gy.name])
        fig = plots.sweep_heatmap(
            axes[0],
            axes[1],
            steps.reshape(ny, nx),
            gx.name,
            gy.name,
            log_x=gx.scale == "log",
            log_y=gy.scale == "log",
            optimum=opt,
            rate=rate,
            title=title,
            status=np.asarray(result.status).reshape(ny, nx),
        )
    return fig


def _summary(document, grids, result, built):
    from rich.table import Table

    counts = {s: int((result.status == s).sum()) for s in ("converged", "diverged", "max_steps")}
    table = Table(title=f"sweep of {document['optimizer']} on {_title(built)}", show_header=False)
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
        point = ", ".join(f"{g.name}={best[g.name]:.5g}" for g in grids)
        table.add_row("fastest", f"{point}: {best['steps']} steps")
    opt = document["theoretical_optimum"]
    if opt:
        table.add_row("theory optimum", ", ".join(f"{k}={v:.5g}" for k, v in opt.items()))
    table.add_row(
        "criterion",
        f"{document['criterion']} <= {document['tol']:g}, at most {document['max_steps']} steps",
    )
    out_console().print(table)
