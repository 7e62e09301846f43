"""``hessian-lab run``: one problem, one or more optimizers, a table (or JSON) of results."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from .. import catalog, presets
from . import memory
from .common import (
    DEFAULT_MAX_MEMORY_GB,
    MAX_STEPS,
    PRESETS,
    PROBLEM_FIELDS,
    BackendName,
    Criterion,
    DType,
    ProblemChoice,
    Rotation,
    Spectrum,
    as_choice,
    as_float,
    as_int,
    as_text_list,
    build_problem,
    draw_plots,
    float_or_none,
    handle_errors,
    int_or_none,
    load_config,
    out_console,
    parse_specs,
    pick,
    print_json,
    resolve_optimizer,
    warn_if_stationary,
)
from .parsing import CLIError, check_memory, check_output_path, parse_list

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
"""

RUN_FIELDS = (
    *PROBLEM_FIELDS,
    "optimizer",
    "x0",
    "criterion",
    "tol",
    "max_steps",
    "bound",
    "backend",
    "dtype",
    "plot",
    "plot3d",
    "max_memory_gb",
)

STEEP_VALLEY_BOUND = 5.0


OptimizerOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--optimizer",
        "-o",
        metavar="SPEC",
        help="NAME or 'NAME:key=value,...' (repeatable); NAME one of "
        + ", ".join(catalog.names())
        + ". Default: every optimizer.",
        show_default=False,
    ),
]
EigenvaluesOpt = Annotated[
    str | None,
    typer.Option(metavar="LIST", help="Quadratic spectrum, e.g. '1,100'.", show_default=False),
]
DimOpt = Annotated[int | None, typer.Option(help="Dimension of a quadratic built from --kappa.")]
KappaOpt = Annotated[
    float | None, typer.Option(help="Condition number (>= 1) of a quadratic; default 100.")
]
SpectrumOpt = Annotated[
    Spectrum | None, typer.Option(help="How eigenvalues fill [lambda_min, kappa*lambda_min].")
]
LambdaMinOpt = Annotated[float | None, typer.Option(help="Smallest eigenvalue; default 1.")]
RotationOpt = Annotated[
    Rotation | None, typer.Option(help="none: axis-aligned; random: Haar eigenbasis.")
]
SeedOpt = Annotated[int | None, typer.Option(help="Seed of the rotation and spectra.")]
CenterOpt = Annotated[
    str | None, typer.Option(metavar="LIST", help="Minimizer c, e.g. '0.8,0.6'; default 0.")
]
X0Opt = Annotated[
    str | None,
    typer.Option(
        "--x0",
        metavar="LIST",
        help="Start point. Default: a preset's own start ("
        + ", ".join(
            f"{p.name} ({','.join(f'{v:g}' for v in p.x0)})" for p in presets.PRESETS.values()
        )
        + "); the origin for --objective and for a quadratic with --center; ones for a "
        "quadratic centred at 0. A start that is a stationary point but not a minimizer "
        "gets a one-line warning.",
    ),
]
ObjectiveOpt = Annotated[
    str | None, typer.Option(metavar="EXPR", help="An objective in --vars, e.g. 'sigmoid(w+b)**2'.")
]
VarsOpt = Annotated[
    str | None, typer.Option("--vars", metavar="NAMES", help="Variables of --objective: 'w,b'.")
]
ProblemOpt = Annotated[
    str | None,
    typer.Option("--problem", metavar="NAME", help="A preset: " + ", ".join(PRESETS) + "."),
]
CriterionOpt = Annotated[
    Criterion | None, typer.Option(help="Stop when loss-f*, ||x-x*|| or ||grad|| <= tol.")
]
TolOpt = Annotated[float | None, typer.Option(help="Tolerance (> 0); default 1e-6.")]
MaxStepsOpt = Annotated[int | None, typer.Option(help="Most steps per run (>= 1); default 10000.")]
BoundOpt = Annotated[
    float | None,
    typer.Option(help="Divergence box |x_i| < bound; default 5 (steep valley), else 1e12."),
]
BackendOpt = Annotated[BackendName | None, typer.Option(help="Array backend; default auto.")]
DTypeOpt = Annotated[DType | None, typer.Option(help="Floating point type; default float64.")]
ConfigOpt = Annotated[
    str | None, typer.Option(help="TOML file with the same fields as the flags (flags win).")
]
MemoryOpt = Annotated[
    float | None,
    typer.Option(help=f"Refuse problems estimated above this; default {DEFAULT_MAX_MEMORY_GB:g}."),
]


def merge_problem(config: dict, **flags) -> ProblemChoice:
    values = {}
    for name in PROBLEM_FIELDS:
        flag = flags.get(name)
        if hasattr(flag, "value"):
            flag = flag.value
        values[name] = pick(flag, config, name)
    return ProblemChoice(**values)


def run_settings(config: dict, built, x0, criterion, tol, max_steps, bound, backend, dtype):
    """Criterion, tolerance, steps, bound, backend: flags over config over defaults, checked."""
    from ..backend import get_backend

    x0 = pick(x0, config, "x0")
    start = built.x0 if x0 is None else parse_list(x0, "--x0", built.problem.dim)
    criterion = as_choice(
        pick(criterion.value if criterion else None, config, "criterion", "loss"),
        "--criterion",
        ("loss", "distance", "grad"),
    )
    tol = as_float(pick(tol, config, "tol", 1e-6), "--tol", positive=True)
    max_steps = as_int(
        pick(max_steps, config, "max_steps", 10_000), "--max-steps", minimum=1, maximum=MAX_STEPS
    )
    default_bound = STEEP_VALLEY_BOUND if built.config.get("name") == "steep-valley" else 1e12
    bound = as_float(pick(bound, config, "bound", default_bound), "--bound", positive=True)
    backend_name = as_choice(
        pick(backend.value if backend else None, config, "backend", "auto"),
        "--backend",
        ("auto", "numpy", "torch"),
    )
    dtype = as_choice(
        pick(dtype.value if dtype else None, config, "dtype", "float64"),
        "--dtype",
        ("float64", "float32"),
    )
    resolved_backend = get_backend(backend_name, dtype)
    warn_if_stationary(built.problem, start)
    return start, criterion, tol, max_steps, bound, resolved_backend


def check_run_memory(built, resolved, max_steps: int, record: bool, limit: float) -> None:
    d = built.problem.dim
    newton = any(r.name == "newton" for r in resolved)
    what = f"{len(resolved)} run(s) in dimension {d}"
    if newton:
        what += " with newton's dense Hessians"
    if record:
        what += f", recording paths of up to {max_steps} steps"
    check_memory(
        memory.run_bytes(
            d,
            built.config.get("rotation", "none"),
            len(resolved),
            max_steps if record else 0,
            newton,
        ),
        limit,
        what,
        "lower --max-steps, use a smaller --dim or drop newton",
    )


def prediction_for(problem, optimizer, x0, criterion, tol, max_steps):
    from ..theory import predict

    try:
        p = predict(problem, optimizer, x0, criterion=criterion, tol=tol, max_steps=max_steps)
    except (ValueError, ArithmeticError, ImportError) as error:
        return None, None, f"no prediction: {error}"
    return int_or_none(p.steps[0]), float_or_none(p.rate[0]), p.note


@handle_errors
def run(
    optimizer: OptimizerOpt = None,
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
    json_output: Annotated[
        bool, typer.Option("--json", help="Print one JSON document instead of the table.")
    ] = False,
    plot: Annotated[
        str | None,
        typer.Option(help="Contours with paths (2-D) or loss vs step: .png, .svg or .pdf."),
    ] = None,
    plot3d: Annotated[
        str | None, typer.Option("--plot3d", help="Loss surface with paths (2-D problems).")
    ] = None,
    max_memory_gb: MemoryOpt = None,
) -> None:
    cfg = load_config(config, RUN_FIELDS)
    limit = as_float(
        pick(max_memory_gb, cfg, "max_memory_gb", DEFAULT_MAX_MEMORY_GB),
        "--max-memory-gb",
        positive=True,
    )
    plot = pick(plot, cfg, "plot")
    plot3d = pick(plot3d, cfg, "plot3d")
    from ..plots import FORMATS

    if plot is not None:
        check_output_path(plot, "--plot", FORMATS)
    if plot3d is not None:
        check_output_path(plot3d, "--plot3d", FORMATS)
    specs = parse_specs(as_text_list(pick(optimizer, cfg, "optimizer"), "--optimizer"))
    if not specs:
        specs = parse_specs(catalog.names())
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
    two_d = built.problem.dim == 2
    if plot3d is not None and not two_d:
        raise CLIError(f"--plot3d needs a 2-D problem; this one has dimension {built.problem.dim}")
    resolved = [resolve_optimizer(s, built.quantities) for s in specs]
    record_x = two_d and (plot is not None or plot3d is not None)
    check_run_memory(built, resolved, steps_, plot is not None or plot3d is not None, limit)
    record = ("loss", "x") if record_x else (("loss",) if plot is not None else ())

    from ..engine import run as engine_run

    runs, histories, paths, diverged = [], {}, {}, {}
    for r in resolved:
        result = engine_run(
            built.problem,
            r.optimizer,
            start,
            criterion=criterion_,
            tol=tol_,
            max_steps=steps_,
            bound=bound_,
            record=record,
            backend=backend_,
        )
        row = result.row(0)
        predicted_steps, predicted_rate, note = prediction_for(
            built.problem, r.optimizer, start, criterion_, tol_, steps_
        )
        label = f"{r.name} {r.describe()}"  # hyperparameters in the figures' legends
        diverged[label] = row["diverged_at"]
        if result.loss_history is not None:
            histories[label] = result.loss_history[:, 0]
        if result.x_history is not None:
            paths[label] = result.x_history[:, 0, :]
        runs.append(
            {
                "optimizer": r.name,
                "spec": r.spec,
                "hyperparameters": r.values,
                "sources": r.sources,
                "status": row["status"],
                "steps": row["steps"],
                "diverged_at": row["diverged_at"],
                "final_loss": row["final_loss"],
                "final_criterion": row["final_criterion"],
                "evaluations": row["evaluations"],
                "predicted_steps": predicted_steps,
                "predicted_rate": predicted_rate,
                "prediction_note": note,
                "wall_time": float(result.wall_time),
                "_describe": r.describe(),
            }
        )
    document = {
        "command": "run",
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
        "optimizers": [r.spec for r in resolved],
        "theory": built.quantities,
        "runs": [{k: v for k, v in run.items() if not k.startswith("_")} for run in runs],
    }
    if json_output:
        print_json(document)
    else:
        _table(document, runs, built)
    draw_plots(_plots(built, start, histories, paths, plot, plot3d, tol_, criterion_, diverged))


def _version() -> str:
    from .. import __version__

    return __version__


def _plots(built, start, histories, paths, plot, plot3d, tol, criterion, diverged=None) -> list:
    """``(option, path, build)`` for each figure asked for (see ``draw_plots``)."""
    from .. import plots

    problem = built.problem
    labels = built.labels[:2] if len(built.labels) >= 2 else ("x1", "x2")
    on_paths = dict(
        start=start,
        minimizer=getattr(problem, "minimizer", None),
        labels=labels,
        title=_title(built),
        diverged=diverged,
    )
    jobs = []
    if plot is not None and paths:
        jobs.append(("--plot", plot, lambda: plots.contour_paths(problem, paths, **on_paths)))
    elif plot is not None:
        title = f"Loss against step: {_title(built)}"
        target = tol if criterion == "loss" else None
        min_value = getattr(problem, "min_value", None)
        jobs.append(
            (
                "--plot",
                plot,
                lambda: plots.loss_curves(histories, min_value=min_value, tol=target, title=title),
            )
        )
    if plot3d is not None:
        jobs.append(("--plot3d", plot3d, lambda: plots.surface_paths(problem, paths, **on_paths)))
    return jobs


def _title(built) -> str:
    c = built.config
    if c.get("name"):
        return str(c["name"])
    if c["kind"] == "quadratic":
        ev = c["eigenvalues"]
        shown = ", ".join(f"{v:g}" for v in ev[:4]) + (", ..." if len(ev) > 4 else "")
        return f"quadratic, eigenvalues ({shown})"
    if c["kind"] == "expression":
        return c["objective"]
    return str(c.get("name", "problem"))


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
        f"{_title(built)}: {criterion} <= {document['tol']:g}, at most "
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
