"""``hessian-lab check``: property-test any optimizer with the invariants of hessian_lab.testing."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer

from .common import handle_errors, out_console, print_json

HELP = """Property-test an optimizer: invariants a sound optimizer has, with counterexamples.

TARGET is module:Attr (a module of the current directory resolves there, nothing else
does) or path/to/file.py:Attr: a torch.optim.Optimizer subclass, a params -> Optimizer
factory (module:make), a step(x, g, state) -> (x, state) function, or a built-in optimizer
class. Each invariant (determinism, rows independent, permutation/translation
equivariance, sign symmetry, fixed point, convergence, float64 floor; declared properties
with --assume) is searched with hypothesis on small quadratics and reported as pass, fail
(with the shrunk counterexample and why) or not applicable (with the reason).

Design choices are declared with --assume: origin-dependent (LAMB's trust ratio, LARS),
shared-state (one statistic for all parameters: D-Adaptation, Prodigy, global-norm
clipping), sign-descent (fixed-size steps: Lion, SignSGD; converging means reaching a
ball of radius 4 lr sqrt(d)), matrix (acts on whole matrices: Muon, Shampoo; parameters
become 2x2 and 2x3 matrices), low-precision-state (state kept below the parameters'
precision, e.g. bfloat16 momenta).

A torch optimizer is also held to the torch.optim contracts: state_dict round trip,
parameter groups with different hyperparameters, a frozen parameter (grad None), the
loss step(closure) returns, maximize=True, matrix and transposed parameters, float32
parameters and the state's precision.

--like adds parity with a reference at the same hyperparameters (or --like-kwargs): a
built-in name (torch names mapped, e.g. momentum -> beta; for linear methods also the
measured rate against the predicted one) or any target (torch.optim:Adam, pkg:Class).
--each-step module:function calls function(optimizer, step) before every step (SophiaG's
update_hessian, schedule-free's train). --problems rosenbrock,beale adds convergence from
the standard starts. The optimizer's own printing is captured and summarised.

Exit status: 0 every applicable invariant holds, 1 one fails (an exception, sys.exit or a
hang past --timeout of the optimizer included), 2 bad input, 130 interrupted.

\b
Examples:
  hessian-lab check torch.optim:Adam --kwargs 'lr=0.01' --assume elementwise --like adam
  hessian-lab check my_adam.py:Adam --kwargs 'lr=0.01' --like torch.optim:Adam
  hessian-lab check torch.optim:SGD --kwargs 'lr=0.1,momentum=0.9' --like momentum
  hessian-lab check torch_optimizer:Adahessian --kwargs 'lr=0.1,hessian_power=1' --like adahessian
  hessian-lab check lion_pytorch:Lion --kwargs 'lr=1e-3' --assume sign-descent
  hessian-lab check my_opts.py:make --each-step my_opts.py:before_step --json
"""


class Property(str, Enum):
    """Declared properties (the same as hessian_lab.testing.PROPERTIES)."""

    elementwise = "elementwise"
    rotation_equivariant = "rotation-equivariant"
    scale_invariant = "scale-invariant"
    origin_dependent = "origin-dependent"
    shared_state = "shared-state"
    sign_descent = "sign-descent"
    matrix = "matrix"
    low_precision_state = "low-precision-state"


@handle_errors
def check(
    target: Annotated[str, typer.Argument(help="module:Attr or path/to/file.py:Attr.")],
    kwargs: Annotated[
        str | None,
        typer.Option("--kwargs", help="Hyperparameters 'k=v,...': numbers, bools, tuples."),
    ] = None,
    like: Annotated[
        str | None,
        typer.Option(help="A reference: a built-in name (adam) or a target (torch.optim:Adam)."),
    ] = None,
    like_kwargs: Annotated[
        str | None,
        typer.Option("--like-kwargs", help="The reference's hyperparameters (default: --kwargs)."),
    ] = None,
    assume: Annotated[
        list[Property] | None,
        typer.Option(help="A property or design choice the optimizer claims (repeatable)."),
    ] = None,
    each_step: Annotated[
        str | None,
        typer.Option("--each-step", help="module:function called as function(optimizer, step)."),
    ] = None,
    problems: Annotated[
        str | None,
        typer.Option(help="Non-quadratic problems to converge on: rosenbrock,beale."),
    ] = None,
    examples: Annotated[int, typer.Option(min=1, help="Drawn examples per invariant.")] = 12,
    seed: Annotated[
        int, typer.Option(min=0, max=2**32 - 1, help="Seeds the search and the optimizer.")
    ] = 0,
    budget: Annotated[
        int, typer.Option(min=10, help="The most steps of the convergence runs.")
    ] = 3000,
    timeout: Annotated[
        float, typer.Option(min=0.001, help="Seconds for the whole check; past it: a failure.")
    ] = 600.0,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
) -> None:
    from ..adapters.target import TargetError, load_target, parse_kwargs
    from ..testing import check_optimizer

    parsed = parse_kwargs(kwargs)
    reference = None
    if like_kwargs is not None:
        try:
            reference = parse_kwargs(like_kwargs)
        except TargetError as error:
            raise TargetError(str(error).replace("--kwargs", "--like-kwargs", 1)) from None
    hook = None
    if each_step is not None:
        hook = load_target(each_step)
        if not callable(hook):
            raise TargetError(f"--each-step {each_step}: not a function(optimizer, step)")
    report = check_optimizer(
        target,
        like=like,
        like_kwargs=reference,
        assume={p.value for p in assume or ()},
        examples=examples,
        seed=seed,
        budget=budget,
        problems=[p.strip() for p in problems.split(",") if p.strip()] if problems else (),
        each_step=hook,
        time_limit=timeout,
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
    if report.stopped:
        console.print(f"stopped: {report.stopped}", markup=False)
    if report.output:
        console.print(f"the optimizer's output: {report.output}", markup=False)
    console.print(f"verdict: {report.verdict}", markup=False)
