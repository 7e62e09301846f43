"""The ``hessian-lab`` command line: a thin Typer app over the library.

    hessian-lab run | sweep | theory | derive | hutchinson | experiment   (--help on each)

It parses, calls the library and renders (rich tables, JSON, figures); no maths lives
here. Importing this package loads typer and the standard library only: NumPy's engine,
sympy, matplotlib and torch are imported inside the commands that use them.
Entry points: ``hessian-lab`` (``hessian_lab.cli:main``), ``python -m hessian_lab`` and
``python cli.py`` from a checkout.
"""

from __future__ import annotations

from typing import Annotated

import typer

from .common import OneLineCommand, OneLineGroup

__all__ = ["app", "main"]

app = typer.Typer(
    name="hessian-lab",
    cls=OneLineGroup,
    help="Run, test and look at the convergence theory of optimizers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: no rich import at start-up
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version_callback(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            shown = version("hessian_lab")
        except PackageNotFoundError:  # pragma: no cover - a bare checkout
            shown = "unknown"
        typer.echo(f"hessian-lab {shown}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_version_callback,
            is_eager=True,
            help="Show the version and exit.",
        ),
    ] = False,
) -> None:
    """Run, test and look at the convergence theory of optimizers.

    \b
    run         optimizers on one problem: a table (or JSON) of results, plots
    sweep       one optimizer over a grid of hyperparameters, in one batched call
    theory      the derived formulas and values for a spectrum
    derive      gradient, Hessian and Newton steps of an expression
    hutchinson  the Hutchinson diagonal estimate against the truth
    experiment  the canned studies (list them, or run one into a folder)
    sharpness   a network's lambda_max and the theory's lr_max = 2 / lambda_max
    similarity  train with SGD and AdaHessian (digits, CIFAR-10), compare the layers
    check       property-test any optimizer (torch.optim, a step function, ...)
    """


def _register() -> None:
    from . import (
        check_cmd,
        derive_cmd,
        experiment_cmd,
        hutchinson_cmd,
        run_cmd,
        sharpness_cmd,
        similarity_cmd,
        sweep_cmd,
        theory_cmd,
    )

    for name, module, fn in (
        ("run", run_cmd, run_cmd.run),
        ("sweep", sweep_cmd, sweep_cmd.sweep),
        ("theory", theory_cmd, theory_cmd.theory),
        ("derive", derive_cmd, derive_cmd.derive),
        ("hutchinson", hutchinson_cmd, hutchinson_cmd.hutchinson),
        ("experiment", experiment_cmd, experiment_cmd.experiment),
        ("sharpness", sharpness_cmd, sharpness_cmd.sharpness),
        ("similarity", similarity_cmd, similarity_cmd.similarity),
        ("check", check_cmd, check_cmd.check),
    ):
        app.command(name, cls=OneLineCommand, help=module.HELP)(fn)


_register()


def main() -> None:
    """Console entry point: ``hessian-lab``."""
    app(prog_name="hessian-lab")
