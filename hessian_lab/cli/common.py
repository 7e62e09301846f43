"""What every command shares: one-line errors, consoles, JSON, figures, config files.

The text forms (problems, optimizer specs, run settings) are read by :mod:`hessian_lab.spec`
and re-exported here for the commands. Import-time dependencies are the standard library
and typer only; NumPy, the engine, sympy, matplotlib and torch are imported inside the
functions that need them.
"""

from __future__ import annotations

import functools
import json
import warnings
from collections.abc import Callable, Mapping, Sequence
from enum import Enum
from typing import Any

import typer
import typer.core

from ..finite import jsonable
from ..spec.optimizers import ResolvedOptimizer, parse_specs, resolve_optimizer
from ..spec.problems import (
    BuiltProblem,
    ProblemChoice,
    problem_title,
    resolve_problem,
    theory_quantities,
)
from ..spec.runs import RunSettings, run_settings
from ..spec.text import SpecError as CLIError
from ..spec.text import as_choice, as_float, as_int
from .config import config_defaults, find_config

__all__ = [
    "BuiltProblem",
    "ProblemChoice",
    "ResolvedOptimizer",
    "as_choice",
    "as_float",
    "as_int",
    "parse_specs",
    "problem_title",
    "resolve_optimizer",
    "theory_quantities",
]

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report Ctrl-C

EXIT_PLOT_FAILED = 1  # the results were printed, a figure could not be drawn or written


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


def draw_plots(
    jobs: Sequence[tuple[str, Any, Callable[[], Any]]],
    style: str = "notebook",
    dpi: int | None = None,
) -> None:
    """Build and save each ``(option, path, build)`` figure, after the results are printed,
    in presentation ``style`` (:func:`hessian_lab.plots.style`) at ``dpi`` (default: the
    style's). ``build`` may write the file itself (an animation) and return ``None``.

    A figure that fails (drawing or writing) costs one line ``Error: --plot 'p.png': ...``
    on stderr and exit code 1 (EXIT_PLOT_FAILED) once every figure was tried; the table or
    JSON already on stdout stays valid. Matplotlib's warnings are not shown.
    """
    failed = False
    for what, path, build in jobs:
        try:
            from .. import plots

            with warnings.catch_warnings(), plots.style(style):
                warnings.simplefilter("ignore")
                fig = build()
                if fig is not None:
                    save_plot(fig, path, what, dpi)
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


def save_plot(fig, path, what: str = "--plot", dpi: int | None = None) -> None:
    """``plots.save_figure`` with a failure reported as a one-line error naming ``what``."""
    from ..plots import save_figure

    try:
        save_figure(fig, path, dpi=dpi)
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
    typer.echo(json.dumps(jsonable(doc), indent=2, allow_nan=False))


# --------------------------------------------------------------------------- problems
def build_problem(choice: ProblemChoice, max_memory_gb: float) -> BuiltProblem:
    """The problem the options describe (:func:`hessian_lab.spec.resolve_problem`)."""
    return resolve_problem(choice, max_memory_gb)


def package_version() -> str:
    from .. import __version__

    return __version__


def warn_if_stationary(problem, x0: Sequence[float]) -> None:
    """One line on stderr when ``x0`` is a stationary point that is not a minimizer."""
    from ..studies import stationary_start

    why = stationary_start(problem, x0)
    if why:
        echo_err(f"Warning: {why}; give another --x0")


def _value(choice: Any) -> Any:
    return choice.value if isinstance(choice, Enum) else choice


def settings(built: BuiltProblem, params: Mapping[str, Any]) -> RunSettings:
    """:class:`~hessian_lab.spec.RunSettings` from a command's parsed ``params``, with a
    warning when the start is a stationary point."""
    keys = ("x0", "criterion", "tol", "max_steps", "bound", "backend", "dtype")
    out = run_settings(built, **{k: _value(params.get(k)) for k in keys})
    warn_if_stationary(built.problem, out.x0)
    return out


def problem_choice(params: Mapping[str, Any]) -> ProblemChoice:
    """The problem options among a command's parsed ``params`` (Enums unwrapped)."""
    return ProblemChoice(**{k: _value(params.get(k)) for k in ProblemChoice.__dataclass_fields__})


def echo_err(message: str) -> None:
    typer.echo(message, err=True)


def build_noise(text: str, batch_size: int, seed: int, problem):
    """``--noise`` (with ``--batch-size`` and ``--noise-seed``) as a
    :class:`~hessian_lab.noise.GradientNoise` checked against ``problem``."""
    from ..noise import GradientNoise
    from ..spec.noise import parse_noise
    from .parsing import blame

    with blame("--noise"):
        noise = GradientNoise(parse_noise(text), batch_size=batch_size, seed=seed)
        noise.covariance(problem)  # the dimension, and S = H needs a PSD quadratic
    return noise
