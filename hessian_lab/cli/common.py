"""What every command shares: one-line errors, consoles, config files, problems, optimizers.

Import-time dependencies are the standard library and typer only; NumPy, the engine,
sympy, matplotlib and torch are imported inside the functions that need them.
"""

from __future__ import annotations

import functools
import json
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import typer
import typer.core

from .. import catalog, presets
from . import memory
from .config import config_defaults, find_config
from .options import MAX_STEPS
from .parsing import (
    CLIError,
    OptimizerSpec,
    blame,
    check_memory,
    parse_list,
    parse_number,
    parse_optimizer_spec,
    parse_value,
)

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report Ctrl-C

EXIT_PLOT_FAILED = 1  # the results were printed, a figure could not be drawn or written
PRESETS = tuple(presets.PRESETS)


# --------------------------------------------------------------------------- errors
def fail(message: str) -> typer.Exit:
    """Print ``Error: message`` (one line) on stderr; return the Exit(2) to raise."""
    line = " ".join(str(message).split())
    typer.echo(f"Error: {line}", err=True)
    return typer.Exit(EXIT_BAD_INPUT)


def _is_usage_error(error: BaseException) -> bool:
    return any(cls.__name__ in ("UsageError", "BadParameter") for cls in type(error).__mro__)


_RANGE_WORDS = (
    ("<=x<=", " <= n <= "),
    ("x>=", ">= "),
    ("x<=", "<= "),
    ("x>", "> "),
    ("Input should be greater than or equal to ", "must be >= "),
    ("Input should be less than or equal to ", "must be <= "),
    ("Input should be greater than ", "must be > "),
    ("Input should be less than ", "must be < "),
)


def _usage_message(error: BaseException) -> str:
    """Click's / Typer's message in this CLI's words (``x>=1`` -> ``>= 1``)."""
    text = error.format_message()
    for theirs, ours in _RANGE_WORDS:
        text = text.replace(theirs, ours)
    return text


class _OneLineParse:
    """Usage errors while parsing (bad option values, unknown options) become one line;
    ``--config FILE`` becomes the command's default map (flags win over the file)."""

    def parse_args(self, ctx, args):
        try:
            path = find_config(args) if any(p.name == "config" for p in self.params) else None
            if path is not None:
                ctx.default_map = {**(ctx.default_map or {}), **config_defaults(self, path)}
            return super().parse_args(ctx, args)
        except CLIError as error:
            raise fail(str(error)) from None
        except Exception as error:
            if _is_usage_error(error) and type(error).__name__ != "NoArgsIsHelpError":
                raise fail(_usage_message(error)) from None
            raise


class OneLineCommand(_OneLineParse, typer.core.TyperCommand):
    """A command whose usage errors are one line."""


class OneLineGroup(_OneLineParse, typer.core.TyperGroup):
    """The top-level group, with one-line errors for unknown commands and options."""

    def resolve_command(self, ctx, args):
        try:
            return super().resolve_command(ctx, args)
        except Exception as error:
            if _is_usage_error(error):
                raise fail(error.format_message()) from None
            raise


def handle_errors(fn: Callable) -> Callable:
    """Turn library ValueErrors (ExpressionError included) into ``Error: ...``, exit 2."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            with warnings.catch_warnings():
                # overflow and 0/0 in a run are reported as statuses (diverged, non-finite),
                # never as NumPy's RuntimeWarnings
                warnings.simplefilter("ignore", RuntimeWarning)
                return fn(*args, **kwargs)
        except typer.Exit:
            raise
        except KeyboardInterrupt:
            typer.echo("Interrupted.", err=True)
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except MemoryError:
            raise fail(
                "out of memory: the problem is too large; use a smaller --dim, "
                "--rotation none or fewer grid points"
            ) from None
        except (ValueError, ArithmeticError) as error:
            raise fail(str(error) or type(error).__name__) from None
        except OSError as error:
            where = f" {error.filename!r}" if getattr(error, "filename", None) else ""
            raise fail(f"cannot use{where}: {error.strerror or error}") from None

    return wrapper


def draw_plots(jobs: Sequence[tuple[str, Any, Callable[[], Any]]]) -> None:
    """Build and save each ``(option, path, build)`` figure, after the results are printed.

    A figure that fails (drawing or writing) costs one line ``Error: --plot 'p.png': ...``
    on stderr and exit code 1 (EXIT_PLOT_FAILED) once every figure was tried; the table or
    JSON already on stdout stays valid. Matplotlib's warnings are not shown.
    """
    failed = False
    for what, path, build in jobs:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                save_plot(build(), path, what)
        except CLIError as error:
            typer.echo(f"Error: {error}", err=True)
            failed = True
        except (ValueError, ArithmeticError, OverflowError, RuntimeError) as error:
            detail = " ".join(str(error).split()) or type(error).__name__
            typer.echo(f"Error: {what} {str(path)!r}: cannot draw it ({detail})", err=True)
            failed = True
        else:
            echo_err(f"wrote {path}")
    if failed:
        raise typer.Exit(EXIT_PLOT_FAILED)


def save_plot(fig, path, what: str = "--plot") -> None:
    """``plots.save_figure`` with a failure reported as a one-line error naming ``what``."""
    from ..plots import save_figure

    try:
        save_figure(fig, path)
    except OSError as error:
        raise CLIError(
            f"{what} {str(path)!r}: cannot write it ({error.strerror or error})"
        ) from None
    finally:
        fig.clear()


def err_console():
    from rich.console import Console

    return Console(stderr=True)


def out_console():
    """Rich console on stdout; 160 columns when stdout is not a terminal (pipes, files)."""
    from rich.console import Console

    console = Console()
    return console if console.is_terminal else Console(width=160)


def print_json(doc: Any) -> None:
    """One JSON document on stdout (NaN and inf become null)."""
    typer.echo(json.dumps(to_jsonable(doc), indent=2, allow_nan=False))


def to_jsonable(value: Any) -> Any:
    """Plain JSON values: NumPy scalars and arrays unwrapped, non-finite floats -> None."""
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return to_jsonable(value.tolist())
    if isinstance(value, bool) or value is None or isinstance(value, (str, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return str(value)


# --------------------------------------------------------------------------- config
def as_float(value: Any, what: str, positive: bool = False, at_least: float | None = None):
    if value is None:
        return None
    with blame(what):
        number = value if isinstance(value, (int, float)) else parse_value(str(value))
    number = float(number)
    if not math.isfinite(number):
        raise CLIError(f"{what} must be a finite number; got {value!r}")
    if positive and number <= 0:
        raise CLIError(f"{what} must be > 0; got {value!r}")
    if at_least is not None and number < at_least:
        raise CLIError(f"{what} must be >= {at_least:g}; got {value!r}")
    return number


def as_int(value: Any, what: str, minimum: int | None = None, maximum: int | None = None):
    if value is None:
        return None
    try:
        number = int(value)
        if isinstance(value, float) and number != value:
            raise ValueError
        if isinstance(value, str):
            number = int(value.strip())
    except (TypeError, ValueError):
        raise CLIError(f"{what} must be an integer; got {value!r}") from None
    if minimum is not None and number < minimum:
        raise CLIError(f"{what} must be an integer >= {minimum}; got {value!r}")
    if maximum is not None and number > maximum:
        low = "" if minimum is None else f"{minimum} <= "
        raise CLIError(f"{what} must be an integer {low}n <= {maximum:,}; got {value!r}")
    return number


def as_choice(value: Any, what: str, choices: Sequence[str]):
    if value is None:
        return None
    value = value.value if isinstance(value, Enum) else str(value)
    if value not in choices:
        raise CLIError(f"{what} must be one of {', '.join(choices)}; got {value!r}")
    return value


# --------------------------------------------------------------------------- problems
@dataclass
class ProblemChoice:
    """The problem options of a command, as given (flags merged with a config)."""

    eigenvalues: Any = None
    dim: Any = None
    kappa: Any = None
    spectrum: Any = None
    lambda_min: Any = None
    rotation: Any = None
    seed: Any = None
    center: Any = None
    objective: Any = None
    vars: Any = None
    problem: Any = None


@dataclass
class BuiltProblem:
    problem: Any
    config: dict[str, Any]  # fully resolved, JSON-ready: enough to build it again
    x0: list[float]  # the default start
    quantities: dict[str, float] | None = None
    quantity_note: str = ""
    labels: list[str] = field(default_factory=list)  # axis names (variables)


def build_problem(choice: ProblemChoice, max_memory_gb: float) -> BuiltProblem:
    """The problem the options describe; the steep valley when none is given."""
    c = choice
    quadratic_given = any(
        v is not None for v in (c.eigenvalues, c.dim, c.kappa, c.spectrum, c.lambda_min)
    )
    expression_given = c.objective is not None
    preset = as_choice(c.problem, "--problem", PRESETS)
    if sum([quadratic_given, expression_given, preset is not None]) > 1:
        raise CLIError(
            "give one problem: --eigenvalues or --dim/--kappa (a quadratic), --objective "
            "(an expression), or --problem (a preset); not several"
        )
    if c.vars is not None and not expression_given:
        raise CLIError("--vars goes with --objective; give --objective 'EXPR' --vars w,b")
    if expression_given:
        return _expression_problem(c)
    if preset not in (None, "steep-valley"):
        return _preset_problem(preset, c)
    return _quadratic_problem(c, quadratic_given, max_memory_gb)


def _quadratic_problem(c: ProblemChoice, given: bool, max_memory_gb: float) -> BuiltProblem:
    rotation = as_choice(c.rotation, "--rotation", ("none", "random")) or "none"
    seed = as_int(c.seed, "--seed", minimum=0)
    seed = 0 if seed is None else seed
    if not given:  # the steep valley, unless another center was asked for
        eigenvalues, dim = [1.0, 100.0], 2
        center = [0.8, 0.6] if c.center is None else parse_list(c.center, "--center", 2)
        x0 = [float(v) for v in presets.preset("steep-valley").x0]
    else:
        if c.eigenvalues is not None:
            if any(v is not None for v in (c.dim, c.kappa, c.spectrum, c.lambda_min)):
                raise CLIError(
                    "give either --eigenvalues or --dim/--kappa/--spectrum/--lambda-min, not both"
                )
            eigenvalues = parse_list(c.eigenvalues, "--eigenvalues")
            dim = len(eigenvalues)
        else:
            dim = as_int(c.dim, "--dim", minimum=1) or 2
            kappa = as_float(c.kappa, "--kappa")
            kappa = 100.0 if kappa is None else kappa
            if not kappa >= 1:
                raise CLIError(f"--kappa must be a finite number >= 1; got {c.kappa!r}")
            eigenvalues = None
        check_memory(
            memory.problem_bytes(dim, rotation),
            max_memory_gb,
            f"a quadratic with dimension {dim} and --rotation {rotation}",
            "use --rotation none (diagonal, O(d) memory) or a smaller --dim",
        )
        center = None if c.center is None else parse_list(c.center, "--center", dim)
        x0 = [1.0] * dim if center is None else [0.0] * dim
    from ..problems import Quadratic

    with blame("problem"):
        if eigenvalues is None:
            spectrum = as_choice(c.spectrum, "--spectrum", _spectra()) or "geometric"
            lambda_min = as_float(c.lambda_min, "--lambda-min", positive=True) or 1.0
            problem = Quadratic.from_condition(
                dim, kappa, spectrum, lambda_min, rotation=rotation, center=center, seed=seed
            )
        else:
            problem = Quadratic(eigenvalues, rotation=rotation, center=center, seed=seed)
    config = {
        "kind": "quadratic",
        "eigenvalues": [float(v) for v in problem.spectrum],
        "rotation": rotation,
        "seed": seed,
        "center": [float(v) for v in problem.center],
        "dim": problem.dim,
    }
    if not given and c.center is None:
        config["name"] = "steep-valley"
    quantities, note = theory_quantities(problem)
    return BuiltProblem(problem, config, x0, quantities, note, [f"x{i + 1}" for i in range(dim)])


def _spectra() -> tuple[str, ...]:
    from ..problems.quadratic import SPECTRA

    return SPECTRA


def theory_quantities(problem) -> tuple[dict[str, float] | None, str]:
    """Named quantities (``lr_opt``, ...) where the problem has them, else None and why."""
    if getattr(problem, "eigenvalues", None) is None:
        return None, "theory quantities need a quadratic"
    from ..theory import named_quantities

    try:
        return {k: float(v) for k, v in named_quantities(problem).items()}, ""
    except ValueError as error:
        if "not finite" not in str(error):
            return None, str(error)
        low, high = float(problem.eigenvalues[0]), float(problem.eigenvalues[-1])
        return None, (
            f"the theory quantities overflow float64 for eigenvalues from {low:g} to "
            f"{high:g} (powers such as kappa^(3/2) are out of range)"
        )


def _expression_module():
    try:
        from ..problems import expression
    except ImportError:
        raise CLIError(
            "expression problems are not available in this version (hessian_lab.problems."
            "expression is missing)"
        ) from None
    return expression


def _expression_problem(c: ProblemChoice) -> BuiltProblem:
    if c.vars is None:
        raise CLIError("--objective needs --vars, the variables, e.g. --vars w,b")
    names = c.vars if isinstance(c.vars, list) else [v for v in str(c.vars).split(",")]
    names = [n.strip() for n in names]
    if not names or not all(names):
        raise CLIError(f"--vars must be comma-separated names such as 'w,b'; got {c.vars!r}")
    if len(set(names)) != len(names):
        raise CLIError(f"--vars names a variable twice: {c.vars!r}")
    expression = _expression_module()
    with blame("--objective"):
        problem = expression.ExpressionProblem(str(c.objective), names)
    config = {"kind": "expression", "objective": str(c.objective), "vars": names}
    x0 = [0.0] * problem.dim
    return BuiltProblem(problem, config, x0, None, "theory quantities need a quadratic", names)


def _preset_problem(name: str, c: ProblemChoice) -> BuiltProblem:
    if any(v is not None for v in (c.rotation, c.center, c.lambda_min)):
        raise CLIError(f"--problem {name} takes no --rotation, --center or --lambda-min")
    _expression_module()
    found = presets.preset(name)
    problem = found.build()
    names = [str(v) for v in getattr(problem, "variables", None) or ()] or [
        f"x{i + 1}" for i in range(problem.dim)
    ]
    config = {"kind": "preset", "name": name}
    x0 = [float(v) for v in found.x0]
    return BuiltProblem(problem, config, x0, None, "theory quantities need a quadratic", names)


def problem_title(built) -> str:
    """A short name of the problem for titles: the preset, the spectrum or the objective."""
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


def package_version() -> str:
    from .. import __version__

    return __version__


def warn_if_stationary(problem, x0: Sequence[float]) -> None:
    """One line on stderr when ``x0`` is a stationary point that is not a minimizer."""
    from ..studies import stationary_start

    why = stationary_start(problem, x0)
    if why:
        echo_err(f"Warning: {why}; give another --x0")


STEEP_VALLEY_BOUND = 5.0


@dataclass
class Settings:
    """A run's start and stopping rule, checked: what ``run`` and ``sweep`` share."""

    x0: list[float]
    criterion: str
    tol: float
    max_steps: int
    bound: float
    backend: Any  # hessian_lab.backend.Backend

    def engine_kwargs(self) -> dict[str, Any]:
        return dict(
            criterion=self.criterion,
            tol=self.tol,
            max_steps=self.max_steps,
            bound=self.bound,
            backend=self.backend,
        )

    def describe(self) -> dict[str, Any]:
        """The JSON keys every run-like command reports."""
        return {
            "x0": self.x0,
            "criterion": self.criterion,
            "tol": self.tol,
            "max_steps": self.max_steps,
            "bound": self.bound,
            "backend": self.backend.name,
            "device": self.backend.device,
            "dtype": self.backend.dtype,
        }


def settings(built: BuiltProblem, params: Mapping[str, Any]) -> Settings:
    """:class:`Settings` from a command's parsed ``params`` (click applied defaults and
    ranges; the start's length and the bound's default depend on the problem)."""
    from ..backend import get_backend

    x0, bound = params.get("x0"), params.get("bound")
    start = built.x0 if x0 is None else parse_list(x0, "--x0", built.problem.dim)
    default_bound = STEEP_VALLEY_BOUND if built.config.get("name") == "steep-valley" else 1e12
    out = Settings(
        start,
        _value(params["criterion"]),
        as_float(params["tol"], "--tol", positive=True),
        as_int(params["max_steps"], "--max-steps", minimum=1, maximum=MAX_STEPS),
        as_float(default_bound if bound is None else bound, "--bound", positive=True),
        get_backend(_value(params["backend"]), _value(params["dtype"])),
    )
    warn_if_stationary(built.problem, start)
    return out


def _value(choice: Any) -> Any:
    return choice.value if isinstance(choice, Enum) else choice


def problem_choice(params: Mapping[str, Any]) -> ProblemChoice:
    """The problem options among a command's parsed ``params`` (Enums unwrapped)."""
    return ProblemChoice(**{k: _value(params.get(k)) for k in ProblemChoice.__dataclass_fields__})


# --------------------------------------------------------------------------- optimizers
@dataclass
class ResolvedOptimizer:
    """An optimizer built from a spec: the object, every hyperparameter, where each came from."""

    name: str
    optimizer: Any
    values: dict[str, Any]  # every field, JSON-ready
    sources: dict[str, str]  # field -> the expression it came from (non-literal only)
    spec: str  # a spec that rebuilds it exactly

    def describe(self) -> str:
        """``lr=0.0198 (lr_opt), beta=0.9`` for the given / chosen hyperparameters."""
        parts = []
        for key, text in self.sources.items():
            value = self.values[key]
            shown = _short(value)
            parts.append(f"{key}={shown}" + (f" ({text})" if text != shown else ""))
        return ", ".join(parts) if parts else "(library defaults)"


def _short(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (list, tuple)):
        return "(" + ",".join(_short(v) for v in value) + ")"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _exact(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (list, tuple)):
        return "(" + ",".join(_exact(v) for v in value) + ")"
    return repr(value)


def _field_kinds(cls) -> dict[str, tuple[str, Any]]:
    from dataclasses import fields

    out = {}
    for f in fields(cls):
        kind = f.metadata.get("kind", "hyper")
        out[f.name] = (kind, f.metadata)
    return out


def _convert(key: str, kind: str, meta, text: str, names) -> Any:
    what = f"{key}={text}"
    if kind == "hyper":
        return parse_value(text, names, what)
    if kind == "pair":
        value = parse_number(text, names, what)
        if not isinstance(value, tuple) or len(value) != 2:
            raise CLIError(f"{key} must be a pair such as (0.9,0.999); got {text!r}")
        return value
    choices = meta.get("choices")
    if choices is not None and set(choices) <= {True, False}:
        low = text.strip().lower()
        if low in ("true", "1", "yes", "on"):
            return True
        if low in ("false", "0", "no", "off"):
            return False
        raise CLIError(f"{key} must be true or false; got {text!r}")
    try:
        return int(text)
    except ValueError:
        raise CLIError(f"{key} must be an integer; got {text!r}") from None


def defaults_for(name: str, quantities: Mapping[str, float] | None) -> dict[str, str]:
    """The CLI's default hyperparameter texts for ``name``: the catalog's defaults, and on
    a quadratic with theory quantities the method's theoretical optimum."""
    return catalog.entry(name).cli_defaults(theory=bool(quantities))


def resolve_optimizer(
    spec: OptimizerSpec,
    quantities: Mapping[str, float] | None,
    overrides: Mapping[str, Any] | None = None,
    use_defaults: bool = True,
) -> ResolvedOptimizer:
    """Evaluate a spec's values (numbers or expressions in ``quantities``) into an optimizer.

    ``overrides`` maps a field to an already numeric value (a sweep's grid column).
    """
    from .. import OPTIMIZERS, make_optimizer

    cls = OPTIMIZERS[spec.name]
    kinds = _field_kinds(cls)
    where = f"--optimizer {spec.text!r}"
    given = dict(spec.values)
    for alias in ("beta1", "beta2"):
        if alias in given and "betas" in kinds and alias not in kinds:
            raise CLIError(f"{where}: give betas=(beta1,beta2) rather than {alias}")
    for key in given:
        if key not in kinds:
            raise CLIError(
                f"{where}: unknown hyperparameter {key!r} for {spec.name}; "
                f"allowed: {', '.join(kinds)}"
            )
    texts = defaults_for(spec.name, quantities) if use_defaults else {}
    texts.update(given)
    names = dict(quantities or {})
    kwargs: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for key, text in texts.items():
        if overrides and key in overrides:
            continue
        kind, meta = kinds[key]
        try:
            kwargs[key] = _convert(key, kind, meta, text, names)
        except ValueError as error:
            message = str(error)
            if quantities is None and "unknown name" in message:
                message += " (theory quantities such as lr_opt need a quadratic problem)"
            raise CLIError(f"{where}: {message}") from None
        sources[key] = text
    for key, value in (overrides or {}).items():
        kwargs[key] = value
    with blame(where):
        optimizer = make_optimizer(spec.name, **kwargs)
    values = {}
    for key in kinds:
        value = getattr(optimizer, key)
        if key in (overrides or {}):
            continue
        values[key] = list(value) if isinstance(value, tuple) else value
    exact = ",".join(f"{k}={_exact(v)}" for k, v in values.items())
    return ResolvedOptimizer(spec.name, optimizer, values, sources, f"{spec.name}:{exact}")


def parse_specs(texts: Sequence[str]) -> list[OptimizerSpec]:
    return [parse_optimizer_spec(t, catalog.names()) for t in texts]


def echo_err(message: str) -> None:
    typer.echo(message, err=True)
