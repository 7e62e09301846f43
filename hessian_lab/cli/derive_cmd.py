"""``hessian-lab derive``: gradient, Hessian, Newton and diagonal-Newton steps of an expression."""

from __future__ import annotations

import math
from typing import Annotated

import typer

from ..spec.text import parse_names
from .common import echo_err, handle_errors, out_console, print_json
from .parsing import CLIError, blame, parse_value

HELP = """Gradient, Hessian, Newton step -H^-1 g and diagonal-Newton step -g/diag(H).

The expression is parsed safely (numbers, the --vars, + - * / **, and exp, log, sqrt,
sin, cos, tanh, sigmoid, softplus, abs, ...); nothing is evaluated as Python. abs is
differentiated almost everywhere (no point masses: d^2|x|/dx^2 = 0). At most 6
variables; --timeout bounds the time (Ctrl-C stops it too, exit code 130).

\b
Examples:
  hessian-lab derive 'x**2 + 3*y**2' --vars x,y
  hessian-lab derive '(sigmoid(w*2 + b) - 1)**2' --vars w,b --latex
  hessian-lab derive 'x**4 - 2*x**2 + y**2' --vars x,y --hessian-power 0.5 --json
"""

DEFAULT_TIMEOUT = 60.0  # seconds; the pathological inputs we know take minutes or more

PART_TITLES = {
    "expression": "f",
    "gradient": "gradient g",
    "hessian": "Hessian H",
    "newton_step": "Newton step -H^-1 g",
    "diagonal_newton_step": "diagonal-Newton step -g / diag(H)",
    "hessian_power_step": "Hessian-power step -g / |diag H|^k",
}


@handle_errors
def derive(
    expression: Annotated[str, typer.Argument(help="The objective, e.g. 'x**2 + 3*y**2'.")],
    vars: Annotated[
        str, typer.Option("--vars", help="Comma-separated variables, e.g. 'x,y'.")
    ] = "",
    latex: Annotated[bool, typer.Option("--latex", help="LaTeX instead of pretty text.")] = False,
    hessian_power: Annotated[
        str | None,
        typer.Option(
            help="Also the Hessian-power step with this k in [0, 1] (AdaHessian's power)."
        ),
    ] = None,
    timeout: Annotated[
        float,
        typer.Option(min=0.1, help="Stop the derivation after this many seconds (inf: never)."),
    ] = DEFAULT_TIMEOUT,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print one JSON document (text and LaTeX).")
    ] = False,
) -> None:
    if math.isnan(timeout):
        raise CLIError("--timeout must be a number of seconds >= 0.1, or inf for no limit")
    limit = None if math.isinf(timeout) else timeout  # inf: no time limit (Ctrl-C still stops)
    given = [v for v in vars.split(",") if v.strip()]
    if not given:
        raise CLIError("--vars is required: the variables, comma-separated, e.g. --vars x,y")
    names = parse_names(given, "--vars")
    k = None
    if hessian_power is not None:
        with blame("--hessian-power"):
            k = parse_value(hessian_power, what="--hessian-power")
            if not 0 <= k <= 1:
                raise CLIError(f"must be in [0, 1] (AdaHessian's range); got {hessian_power}")
    import sympy

    from ..symbolic.newton import DerivationTimeout, time_limit
    from ..symbolic.newton import derive as derive_steps

    try:
        with blame("expression"):
            result = derive_steps(expression, names, timeout=limit)
        parts = dict(result.parts())
        if k is not None:
            with time_limit(limit, "the Hessian-power step"):
                parts["hessian_power_step"] = result.hessian_power_step(k)
    except DerivationTimeout:
        raise CLIError(
            f"the derivation took longer than --timeout {timeout:g} s and was stopped; try "
            "fewer variables or a simpler expression, or raise --timeout"
        ) from None
    if json_output:
        doc = {
            "expression": expression,
            "vars": names,
            "hessian_power": k,
            "notes": list(result.notes),
            "parts": {
                name: None
                if part is None
                else {
                    "text": str(part.tolist() if hasattr(part, "tolist") else part),
                    "latex": sympy.latex(part),
                }
                for name, part in parts.items()
            },
        }
        print_json(doc)
        return
    console = out_console()
    for name, part in parts.items():
        title = PART_TITLES[name] + (f", k = {k:g}" if name == "hessian_power_step" else "")
        console.rule(f"[bold]{title}")
        if part is None:
            console.print("singular: H is not invertible anywhere")
        elif latex:
            console.print(sympy.latex(part), markup=False, highlight=False)
        else:
            console.print(sympy.pretty(part, use_unicode=False), markup=False, highlight=False)
    if result.newton_step is None:
        echo_err("note: the Hessian is singular everywhere, so there is no Newton step")
    for note in result.notes:
        echo_err(f"note: {note}")
