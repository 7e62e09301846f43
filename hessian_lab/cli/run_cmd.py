"""``hessian-lab run``: one problem, one or more optimizers, a table (or JSON) of results.

Parses the options, calls :func:`hessian_lab.studies.compare`, renders the result.
"""

from __future__ import annotations

import contextlib
import math
import re
from typing import Annotated, Any

import typer

from .. import memory
from ..spec.optimizers import default_specs
from . import options as opt
from .common import (
    build_noise,
    build_problem,
    draw_plots,
    handle_errors,
    out_console,
    package_version,
    parse_specs,
    print_json,
    problem_choice,
    problem_title,
    resolve_optimizer,
    settings,
)
from .figures import figure_title
from .parsing import CLIError, check_output_path

HELP = """Run optimizers on one problem and compare them with the theory.

With no options at all: the steep valley f = 1/2 (x1-0.8)^2 + 50 (x2-0.6)^2 (eigenvalues
1 and 100), from the origin, loss tolerance 1e-6, 10,000 steps, divergence box |x_i| < 5,
with every optimizer at the CLI's defaults:

\b
  gd          lr = lr_opt = 2/(lambda_min+lambda_max)
  momentum    lr = lr_hb_opt, beta = beta_hb_opt  (heavy-ball optimum)
  nesterov    lr = lr_nag_opt, beta = beta_nag_opt (Nesterov's quadratic optimum)
  adagrad     lr = 0.1;   rmsprop lr = 0.01;   adam, adamw lr = 0.05
  adahessian, newton, diag-newton: the library defaults (lr 0.15, 1, 1)

The theory defaults apply on any quadratic with a positive spectrum (elsewhere the library
defaults); a hyperparameter you give always wins. Values are numbers or expressions in
the theory quantities (lr_opt, lr_max, lambda_min, lambda_max, kappa, lr_hb_opt,
beta_hb_opt, lr_nag_opt, beta_nag_opt, ...).

\b
Examples:
  hessian-lab run
  hessian-lab run -o 'momentum:lr=0.175*lr_opt,beta=0.9' -o 'gd:lr=1.01*lr_max'
  hessian-lab run --eigenvalues 1,10,100 --rotation random -o 'adam:lr=lr_opt,betas=(0.9,0.999)'
  hessian-lab run --dim 1000 --kappa 1e4 --spectrum uniform --criterion distance --json
  hessian-lab run --objective '(w*2+b-1)**2 + (w-b)**2/10' --vars w,b --criterion grad
  hessian-lab run --plot valley.png --plot3d surface.pdf
  hessian-lab run --config experiment.toml --tol 1e-8
  hessian-lab run --noise hessian --batch-size 8 --rows 200 --max-steps 500 -o gd -o adam

With --noise every gradient the optimizers ask for gets Gaussian noise xi ~ N(0, S/B)
(S = H for 'hessian', s I for a number, diag(v1,v2,...) for a list; B = --batch-size);
curvature (Hessians, Hessian-vector products) stays exact. Each optimizer then runs
--rows noise realisations for exactly --max-steps steps (no tolerance), and the table
shows their mean final loss f - f* with its standard error beside the exact expected loss
E f(x_T) - f* and its stationary limit (linear methods on a quadratic).
"""


def _labels(resolved) -> list[str]:
    """An optimizer's name and hyperparameters (the figures' legends)."""
    return [f"{r.name} {r.describe()}" for r in resolved]


@handle_errors
@opt.problem_and_rule
def run(
    ctx: typer.Context,
    optimizer: opt.Optimizers = None,
    json_output: opt.Json = False,
    plot: Annotated[
        str | None,
        typer.Option(
            metavar="FILE", help="Contours with paths (2-D) or loss vs step: .png, .svg, .pdf."
        ),
    ] = None,
    plot3d: Annotated[
        str | None,
        typer.Option("--plot3d", metavar="FILE", help="Loss surface with paths (2-D problems)."),
    ] = None,
    max_memory_gb: opt.MaxMemory = opt.DEFAULT_MAX_MEMORY_GB,
    noise: opt.Noise = None,
    batch_size: opt.BatchSize = 1,
    rows: Annotated[
        int, typer.Option(min=2, help="With --noise: noise realisations per optimizer.")
    ] = 100,
    noise_seed: opt.NoiseSeed = 0,
    animate: Annotated[
        str | None,
        typer.Option(
            metavar="FILE",
            help="The paths drawn step by step beside the loss curves (2-D problems): .gif, "
            "or .mp4 where ffmpeg is installed. Long runs are subsampled to at most "
            "100 frames.",
        ),
    ] = None,
    style: opt.Style = opt.FigureStyle.notebook,
    dpi: opt.Dpi = None,
    **options,
) -> None:
    from ..plots import ANIMATION_FORMATS, FORMATS, check_animation_path
    from .common import as_float

    limit = as_float(max_memory_gb, "--max-memory-gb", positive=True)
    if plot is not None:
        check_output_path(plot, "--plot", FORMATS)
    if plot3d is not None:
        check_output_path(plot3d, "--plot3d", FORMATS)
    if animate is not None:
        check_output_path(animate, "--animate", ANIMATION_FORMATS)
        try:
            check_animation_path(animate)
        except ValueError as error:
            raise CLIError(f"--animate: {error}") from None
    specs = parse_specs(optimizer) if optimizer else default_specs()
    built = build_problem(
        problem_choice(ctx.params),
        limit,
    )
    s = settings(built, ctx.params)
    two_d = built.problem.dim == 2
    if plot3d is not None and not two_d:
        raise CLIError(f"--plot3d needs a 2-D problem; this one has dimension {built.problem.dim}")
    if animate is not None and not two_d:
        raise CLIError(f"--animate needs a 2-D problem; this one has dimension {built.problem.dim}")
    resolved = [resolve_optimizer(spec, built.quantities) for spec in specs]
    if noise is not None:
        if plot3d is not None or animate is not None:
            raise CLIError(
                "--plot3d and --animate draw one path each; with --noise use --plot (mean and band)"
            )
        gradient_noise = build_noise(noise, batch_size, noise_seed, built.problem)
        memory.check_run(
            built.problem.dim,
            built.config.get("rotation", "none"),
            len(resolved) * rows,
            s.max_steps * (plot is not None),
            False,
            limit,
        )
        _noisy(built, s, resolved, gradient_noise, rows, json_output, plot, style.value, dpi)
        return
    if batch_size != 1 or noise_seed != 0:
        raise CLIError("--batch-size and --noise-seed need --noise (the gradient noise S)")
    drawing = plot is not None or plot3d is not None or animate is not None
    newton = any(r.name == "newton" for r in resolved)
    rotation, recorded = built.config.get("rotation", "none"), s.max_steps * drawing
    memory.check_run(built.problem.dim, rotation, len(resolved), recorded, newton, limit)
    record = ("loss", "x") if two_d and drawing else (("loss",) if plot is not None else ())
    if animate is not None:
        record = ("loss", "x")

    from ..studies import compare

    labels = _labels(resolved)
    with contextlib.ExitStack() as bars:
        study = compare(
            built.problem,
            dict(zip(labels, (r.optimizer for r in resolved), strict=True)),
            s.x0,
            record=record,
            progress=lambda label: bars.enter_context(_run_progress(built, s, resolved, label)),
            **s.engine_kwargs(),
        )
    runs = [_run_entry(r, c) for r, c in zip(resolved, study.runs, strict=True)]
    document = {
        "command": "run",
        "version": package_version(),
        "problem": built.config,
        **s.describe(),
        "optimizers": [r.spec for r in resolved],
        "theory": built.quantities,
        "runs": [{k: v for k, v in run.items() if not k.startswith("_")} for run in runs],
    }
    if json_output:
        print_json(document)
    else:
        _table(document, runs, built)
    histories = {
        c.label: c.result.loss_history[:, 0]
        for c in study.runs
        if c.result.loss_history is not None
    }
    paths = {
        c.label: c.result.x_history[:, 0, :] for c in study.runs if c.result.x_history is not None
    }
    diverged = {c.label: c.result.row(0)["diverged_at"] for c in study.runs}
    jobs = _plots(built, s.x0, histories, paths, plot, plot3d, s.tol, s.criterion, diverged)
    if animate is not None:
        jobs.append(_animation(built, s.x0, histories, paths, animate, diverged, dpi))
    draw_plots(jobs, style.value, dpi)


def _animation(built, start, histories, paths, out, diverged, dpi):
    """The ``--animate`` job: writes its file itself (``draw_plots`` saves nothing)."""
    from .. import plots

    problem = built.problem

    def build():
        plots.animate_paths(
            problem,
            paths,
            histories,
            out,
            start=start,
            minimizer=getattr(problem, "minimizer", None),
            title=f"{figure_title(built)}: the paths step by step",
            labels=built.labels[:2] if len(built.labels) >= 2 else ("x1", "x2"),
            diverged=diverged,
            dpi=dpi,
        )

    return ("--animate", out, build)


#: entry evaluations (engine.work_estimate) above which a run shows a progress bar (~1 s)
PROGRESS_WORK = 1e9


def _run_progress(built, s, resolved, label):
    """A progress bar on stderr for a long run (see ``PROGRESS_WORK``), else nothing."""
    from ..engine import work_estimate
    from .sweep_cmd import _progress

    optimizer = next(
        r.optimizer for r, name in zip(resolved, _labels(resolved), strict=True) if name == label
    )
    work = work_estimate(1, built.problem.dim, s.max_steps, optimizer)
    return _progress(1, s.max_steps, work=work, threshold=PROGRESS_WORK, label=f"running {label}")


def _run_entry(resolved, compared) -> dict[str, Any]:
    """One run of the JSON document (keys starting with ``_`` are for the table only)."""
    row = compared.result.row(0)
    return {
        "optimizer": resolved.name,
        "spec": resolved.spec,
        "hyperparameters": resolved.values,
        "sources": resolved.sources,
        "status": row["status"],
        "steps": row["steps"],
        "diverged_at": row["diverged_at"],
        "final_loss": row["final_loss"],
        "final_criterion": row["final_criterion"],
        "evaluations": row["evaluations"],
        "predicted_steps": compared.predicted_steps,
        "predicted_rate": compared.predicted_rate,
        "prediction_note": compared.prediction_note,
        "wall_time": float(compared.result.wall_time),
        "_describe": resolved.describe(),
    }


def _plots(built, start, histories, paths, plot, plot3d, tol, criterion, diverged=None) -> list:
    """``(option, path, build)`` for each figure asked for (see ``draw_plots``)."""
    from .. import plots

    problem = built.problem
    labels = built.labels[:2] if len(built.labels) >= 2 else ("x1", "x2")
    on_paths = dict(
        start=start,
        minimizer=getattr(problem, "minimizer", None),
        labels=labels,
        title=figure_title(built),
        diverged=diverged,
    )
    jobs = []
    if plot is not None and paths:
        jobs.append(("--plot", plot, lambda: plots.contour_paths(problem, paths, **on_paths)))
    elif plot is not None:
        title = f"Loss against step: {figure_title(built)}"
        target = tol if criterion == "loss" else None
        min_value = getattr(problem, "min_value", None)
        jobs.append(
            (
                "--plot",
                plot,
                lambda: plots.loss_curves(
                    histories, min_value=min_value, tol=target, title=title, diverged=diverged
                ),
            )
        )
    if plot3d is not None:
        jobs.append(("--plot3d", plot3d, lambda: plots.surface_paths(problem, paths, **on_paths)))
    return jobs


def _fmt(value: Any, spec: str = ".4g") -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return format(value, spec)
    return str(value)


#: short names of the evaluation counts in the table (gradients, Hessian-vector products,
#: dense Hessians, Hessian diagonals)
EVALUATION_LABELS = {"gradients": "g", "hvps": "Hv", "hessians": "H", "hessian_diagonals": "diag H"}


def _evaluations(counts: dict[str, int]) -> str:
    """``{"gradients": 86, "hvps": 66, ...}`` -> ``"86 g + 66 Hv"`` (zero counts left out)."""
    parts = [f"{n} {EVALUATION_LABELS.get(k, k)}" for k, n in counts.items() if n]
    return " + ".join(parts) or "0"


def _table(document: dict, runs: list[dict], built) -> None:
    from rich.table import Table

    criterion = document["criterion"]
    title = (
        f"{problem_title(built)}: {criterion} <= {document['tol']:g}, at most "
        f"{document['max_steps']} steps, |x_i| < {document['bound']:g}"
    )
    from rich import box

    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False)
    for name, justify, no_wrap in (
        ("optimizer", "left", True),
        ("hyperparameters (source)", "left", False),
        ("status", "left", True),
        ("steps", "right", True),
        ("final loss", "right", True),
        ("evaluations", "right", True),
        ("pred. steps", "right", True),
        ("pred. rate", "right", True),
        ("time", "right", True),
    ):
        table.add_column(name, justify=justify, no_wrap=no_wrap, min_width=None if no_wrap else 16)
    styles = {"converged": "green", "diverged": "red", "max_steps": "yellow"}
    for run in runs:
        status = run["status"]
        steps = run["steps"] if status == "converged" else run["diverged_at"]
        shown_steps = _fmt(steps) if status != "max_steps" else f">{document['max_steps']}"
        table.add_row(
            run["optimizer"],
            run["_describe"],
            f"[{styles.get(status, 'white')}]{status}[/]",
            shown_steps,
            _fmt(run["final_loss"], ".2e"),
            _evaluations(run["evaluations"]),
            _fmt(run["predicted_steps"]),
            _fmt(run["predicted_rate"], ".4f"),
            f"{run['wall_time'] * 1e3:.1f}ms",
        )
    console = out_console()
    console.print(table)
    if built.quantities is None:
        console.print(f"[dim]no predictions: {built.quantity_note}[/dim]")
    for run in runs:  # a prediction that is not the exact recurrence says why beside the table
        note, rate = run["prediction_note"], run["predicted_rate"]
        if note and not note.startswith("exact") and rate is not None and math.isfinite(rate):
            console.print(f"[dim]{run['optimizer']}: {note}[/dim]", soft_wrap=True)


def _noisy(
    built, s, resolved, noise, rows, json_output, plot, style="notebook", dpi=None
) -> None:
    """``run --noise``: R noisy rows per optimizer beside the exact expected loss."""
    from ..studies import noisy_compare

    labels = _labels(resolved)
    study = noisy_compare(
        built.problem,
        dict(zip(labels, (r.optimizer for r in resolved), strict=True)),
        s.x0,
        noise,
        rows=rows,
        max_steps=s.max_steps,
        bound=s.bound,
        record=plot is not None,
        backend=s.backend,
    )
    described = s.describe()
    described.pop("tol")
    document = {
        "command": "run",
        "version": package_version(),
        "problem": built.config,
        **described,
        "noise": {
            "cov": noise.cov if isinstance(noise.cov, (str, float)) else noise.cov.tolist(),
            "batch_size": noise.batch_size,
            "seed": noise.seed,
            "rows": rows,
        },
        "optimizers": [r.spec for r in resolved],
        "theory": built.quantities,
        "runs": [
            {
                "optimizer": r.name,
                "spec": r.spec,
                "hyperparameters": r.values,
                "mean_final_loss": e.mean,
                "stderr": e.stderr,
                "diverged_rows": e.diverged,
                "expected_loss": e.expected,
                "stationary_loss": e.stationary,
                "prediction_note": e.note,
            }
            for r, e in zip(resolved, study, strict=True)
        ],
    }
    if json_output:
        print_json(document)
    else:
        _noisy_table(document, resolved, study, built, noise, rows)
    if plot is not None:
        from .. import plots

        curves = {
            e.label: {"mean": e.mean_curve, "stderr": e.stderr_curve, "expected": e.expected_curve}
            for e in study
            if e.mean_curve is not None
        }
        title = f"{problem_title(built)}, noisy gradients ({noise.describe()}), {rows} rows"
        draw_plots(
            [("--plot", plot, lambda: plots.noisy_loss_curves(curves, title=title))], style, dpi
        )


def _noisy_table(document, resolved, study, built, noise, rows) -> None:
    from rich import box
    from rich.table import Table

    title = (
        f"{problem_title(built)} under gradient noise ({noise.describe()}): {rows} rows of "
        f"exactly {document['max_steps']} steps each"
    )
    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False)
    for name in (
        "optimizer",
        "hyperparameters",
        "mean f - f* +- s.e.",
        "E f - f* (exact)",
        "stationary",
        "diverged",
    ):
        table.add_column(
            name, justify="left" if name in ("optimizer", "hyperparameters") else "right"
        )
    for r, e in zip(resolved, study, strict=True):
        measured = "-" if e.mean is None else f"{e.mean:.4g}"
        if e.stderr is not None:
            measured += f" +- {e.stderr:.2g}"
        table.add_row(
            r.name,
            r.describe(),
            measured,
            _fmt(e.expected, ".4g"),
            _fmt(e.stationary, ".4g"),
            f"{e.diverged}/{rows}",
        )
    console = out_console()
    console.print(table)
    for note in _grouped_notes(e.note for e in study if e.expected is None):
        console.print(f"[dim]{note}[/dim]")


def _grouped_notes(notes) -> list[str]:
    """The notes once each; "... for adam (why)" and "... for rmsprop (why)" become one
    "... for adam, rmsprop (why)"."""
    names: dict[tuple[str, str], list[str]] = {}
    for note in notes:
        match = re.match(r"(.* for )(\S+)( \(.*)", note)
        head, name, tail = match.groups() if match else (note, "", "")
        if name not in names.setdefault((head, tail), []):
            names[(head, tail)].append(name)
    return sorted(head + ", ".join(sorted(n)) + tail for (head, tail), n in names.items())
