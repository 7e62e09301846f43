"""The options several commands share, declared once (Typer ``Annotated`` aliases).

Typer/click validate what they can here: integer ranges (``min=``/``max=``), fixed choices
(Enums), types; what needs the problem (a list's length, an expression) is checked when
the problem is built. Standard library and typer only: ``--help`` imports nothing else.
"""

from __future__ import annotations

import inspect
from enum import Enum
from typing import Annotated

import typer

from .. import catalog, presets
from ..memory import DEFAULT_LIMIT_GB as DEFAULT_MAX_MEMORY_GB
from ..spec.runs import MAX_STEPS

__all__ = [
    "DEFAULT_MAX_MEMORY_GB",
    "MAX_STEPS",
    "BackendName",
    "Criterion",
    "DType",
    "FigureFormat",
    "FigureStyle",
    "Rotation",
    "Spectrum",
]


class Criterion(str, Enum):
    loss = "loss"
    distance = "distance"
    grad = "grad"


class BackendName(str, Enum):
    auto = "auto"
    numpy = "numpy"
    torch = "torch"


class DType(str, Enum):
    float64 = "float64"
    float32 = "float32"


class Rotation(str, Enum):
    none = "none"
    random = "random"


class Spectrum(str, Enum):
    geometric = "geometric"
    linear = "linear"
    two_cluster = "two-cluster"
    uniform = "uniform"


def _starts() -> str:
    return ", ".join(
        f"{p.name} ({','.join(f'{v:g}' for v in p.x0)})" for p in presets.PRESETS.values()
    )


# --------------------------------------------------------------------------- optimizers
Optimizers = Annotated[
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

# --------------------------------------------------------------------------- problems
Eigenvalues = Annotated[
    str | None,
    typer.Option(metavar="LIST", help="Quadratic spectrum, e.g. '1,100'.", show_default=False),
]
Dim = Annotated[
    int | None, typer.Option(min=1, help="Dimension of a quadratic built from --kappa.")
]
Kappa = Annotated[
    float | None, typer.Option(help="Condition number (>= 1) of a quadratic; default 100.")
]
SpectrumShape = Annotated[
    Spectrum | None, typer.Option(help="How eigenvalues fill [lambda_min, kappa*lambda_min].")
]
LambdaMin = Annotated[
    float | None, typer.Option(help="Smallest eigenvalue (> 0) with --dim/--kappa; default 1.")
]
RotationKind = Annotated[
    Rotation | None, typer.Option(help="none: axis-aligned; random: Haar eigenbasis.")
]
Seed = Annotated[int | None, typer.Option(min=0, help="Seed of the rotation and spectra.")]
Center = Annotated[
    str | None, typer.Option(metavar="LIST", help="Minimizer c, e.g. '0.8,0.6'; default 0.")
]
X0 = Annotated[
    str | None,
    typer.Option(
        "--x0",
        metavar="LIST",
        help=f"Start point. Default: a preset's own start ({_starts()}); the origin for "
        "--objective and for a quadratic with --center; ones for a quadratic centred at 0. "
        "A start that is a stationary point but not a minimizer gets a one-line warning.",
    ),
]
Objective = Annotated[
    str | None, typer.Option(metavar="EXPR", help="An objective in --vars, e.g. 'sigmoid(w+b)**2'.")
]
Vars = Annotated[
    str | None, typer.Option("--vars", metavar="NAMES", help="Variables of --objective: 'w,b'.")
]
ProblemName = Annotated[
    str | None,
    typer.Option("--problem", metavar="NAME", help="A preset: " + ", ".join(presets.PRESETS) + "."),
]

# --------------------------------------------------------------------------- stopping rule
CriterionKind = Annotated[
    Criterion, typer.Option(help="Stop when loss-f*, ||x-x*|| or ||grad|| <= tol.")
]
Tol = Annotated[float, typer.Option(help="Tolerance (> 0).")]
MaxSteps = Annotated[int, typer.Option(min=1, max=MAX_STEPS, help="Most steps per run.")]
Bound = Annotated[
    float | None,
    typer.Option(help="Divergence box |x_i| < bound; default 5 (steep valley), else 1e12."),
]
Backend = Annotated[BackendName, typer.Option(help="Array backend.")]
Precision = Annotated[DType, typer.Option(help="Floating point type.")]

# --------------------------------------------------------------------------- outputs
Config = Annotated[
    str | None,
    typer.Option(
        metavar="FILE",
        help="TOML file with the same fields as the flags, e.g. 'max-steps = 500' "
        "(flags win; each value has its flag's type; a regular file of at most 1 MB).",
    ),
]
Json = Annotated[bool, typer.Option("--json", help="Print one JSON document instead.")]
MaxMemory = Annotated[float, typer.Option(help="Refuse work estimated above this many GB (> 0).")]

# --------------------------------------------------------------------------- figures
class FigureStyle(str, Enum):
    notebook = "notebook"
    talk = "talk"
    paper = "paper"


class FigureFormat(str, Enum):
    png = "png"
    svg = "svg"
    pdf = "pdf"


Style = Annotated[
    FigureStyle,
    typer.Option(
        help="Figure presentation: notebook (~900 px wide), talk (16:9, 1920x1080, large "
        "text for a projector), paper (6.5 in wide, small text, 300 dpi).",
    ),
]
Dpi = Annotated[
    int | None,
    typer.Option(
        min=30, max=1200, help="Pixels per inch of PNG figures [default: the style's].",
        show_default=False,
    ),
]
Format = Annotated[
    FigureFormat, typer.Option("--format", help="File type of the figures (vector: svg, pdf).")
]

# --------------------------------------------------------------------------- gradient noise
Noise = Annotated[
    str | None,
    typer.Option(
        metavar="COV",
        help="Gradient noise S: 'hessian' (S = H), a number s (S = s I) or variances "
        "'v1,v2,...' (diagonal S); each gradient gets xi ~ N(0, S / --batch-size).",
        show_default=False,
    ),
]
BatchSize = Annotated[int, typer.Option(min=1, help="With --noise: the batch size B in S / B.")]
NoiseSeed = Annotated[int, typer.Option(min=0, help="With --noise: the noise's seed.")]


# --------------------------------------------------------------------------- option groups
def _problem_and_rule(
    eigenvalues: Eigenvalues = None,
    dim: Dim = None,
    kappa: Kappa = None,
    spectrum: SpectrumShape = None,
    lambda_min: LambdaMin = None,
    rotation: RotationKind = None,
    seed: Seed = None,
    center: Center = None,
    x0: X0 = None,
    objective: Objective = None,
    vars: Vars = None,
    problem: ProblemName = None,
    criterion: CriterionKind = Criterion.loss,
    tol: Tol = 1e-6,
    max_steps: MaxSteps = 10_000,
    bound: Bound = None,
    backend: Backend = BackendName.auto,
    dtype: Precision = DType.float64,
    config: Config = None,
) -> None:
    """The options of a problem and its stopping rule (a template: never called)."""


def problem_and_rule(command):
    """Give ``command`` the problem and stopping-rule options in place of its ``**options``.

    The options are declared once (``_problem_and_rule``) and reach the command in
    ``**options``; ``--help`` lists them after the command's own.
    """
    own = inspect.signature(command, eval_str=True)
    shared = inspect.signature(_problem_and_rule, eval_str=True).parameters.values()
    kept = [p for p in own.parameters.values() if p.kind is not p.VAR_KEYWORD]
    added = [p.replace(kind=p.KEYWORD_ONLY) for p in shared]
    command.__signature__ = own.replace(parameters=[*kept, *added])
    return command
