"""``hessian-lab check``: property-test any optimizer with the invariants of hessian_lab.testing."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer

from .common import handle_errors, out_console, print_json

HELP = """Property-test an optimizer: invariants a sound optimizer has, with counterexamples.

TARGET is module:Attr (the current directory is on the import path, as with python -m) or
path/to/file.py:Attr: a torch.optim.Optimizer subclass, a params -> Optimizer callable, a
step(x, g, state) -> (x, state) function, or a built-in optimizer class. Each invariant
(determinism, rows independent, permutation/translation equivariance, sign symmetry, fixed
point, convergence, float64 floor; declared properties with --assume, where
origin-dependent declares steps that depend on ||x||, as LAMB's) is searched with
hypothesis on small quadratics and reported as pass, fail (with the shrunk counterexample
and why) or not applicable (with the reason). --like NAME adds parity with the sandbox's
NAME at the same hyperparameters (torch names mapped, e.g. momentum -> beta) and, for
linear methods, the measured rate against the predicted one.

Exit status: 0 every applicable invariant holds, 1 one fails, 2 bad input.
Torch optimizers run one instance per row: checks take seconds to a minute.

\b
Examples:
  hessian-lab check torch.optim:Adam --kwargs 'lr=0.01' --assume elementwise --like adam
  hessian-lab check torch.optim:SGD --kwargs 'lr=0.1,momentum=0.9' --like momentum
  hessian-lab check torch_optimizer:Adahessian --kwargs 'lr=0.1,hessian_power=1' --like adahessian
  hessian-lab check my_opts.py:Lion --kwargs 'lr=1e-3,betas=(0.9,0.99)' --examples 50 --json
"""


class Property(str, Enum):
    """Declared properties (the same as hessian_lab.testing.PROPERTIES)."""

    elementwise = "elementwise"
    rotation_equivariant = "rotation-equivariant"
    scale_invariant = "scale-invariant"
    origin_dependent = "origin-dependent"


@handle_errors
def check(
    target: Annotated[str, typer.Argument(help="module:Attr or path/to/file.py:Attr.")],
    kwargs: Annotated[
        str | None,
        typer.Option("--kwargs", help="Hyperparameters 'k=v,...': numbers, bools, tuples."),
    ] = None,
    like: Annotated[
        str | None, typer.Option(help="A built-in optimizer to compare with (e.g. adam).")
    ] = None,
    assume: Annotated[
        list[Property] | None,
        typer.Option(help="A property the optimizer claims (repeatable)."),
    ] = None,
    examples: Annotated[int, typer.Option(min=1, help="Drawn examples per invariant.")] = 20,
    seed: Annotated[int, typer.Option(min=0, help="Seeds the search and the optimizer.")] = 0,
    budget: Annotated[
        int, typer.Option(min=10, help="The most steps of the convergence runs.")
    ] = 3000,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
) -> None:
    from ..adapters.target import parse_kwargs
    from ..testing import check_optimizer

    parsed = parse_kwargs(kwargs)
    report = check_optimizer(
        target,
        like=like,
        assume={p.value for p in assume or ()},
        examples=examples,
        seed=seed,
        budget=budget,
        **parsed,
    )
    if json_out:
        print_json(report.as_dict())
    else:
        _render(report)
    if not report.ok:
        raise typer.Exit(1)


def _render(report) -> None:
    from rich.table import Table

    colours = {"pass": "green", "fail": "bold red", "not applicable": "dim"}
    table = Table(title=f"{report.target} {report.kwargs or ''}".strip(), show_lines=False)
    table.add_column("invariant")
    table.add_column("status")
    table.add_column("detail")
    for o in report.invariants:
        detail = (
            o.detail if not o.counterexample else f"{o.detail}\ncounterexample: {o.counterexample}"
        )
        table.add_row(o.name, f"[{colours[o.status]}]{o.status}[/]", detail)
    console = out_console()
    console.print(table)
    console.print(f"verdict: {report.verdict}", markup=False)
