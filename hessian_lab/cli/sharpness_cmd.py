"""``hessian-lab sharpness``: a network's lambda_max and the quadratic model's lr_max."""

from __future__ import annotations

import io
import math
import warnings
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from .. import files
from .common import echo_err, handle_errors, out_console, print_json
from .parsing import CLIError, check_output_path

HELP = """The sharpness of a network's training loss and the step size the theory allows.

At the network's current weights the loss is locally the quadratic 1/2 d^T H d; gradient
descent on that quadratic is stable only for lr < lr_max = 2 / lambda_max(H). This command
builds a small model on N digits images (scikit-learn's, shipped offline), optionally
loads weights (--weights, a torch.save'd state dict of the same model) and runs
--gd-steps full-batch GD steps at --lr, then reports lambda_max (Lanczos on
Hessian-vector products of the full-batch loss), lr_max and, with --lr, lr * lambda_max
(full-batch GD tends to push it up to about 2: the edge of stability).

\b
Examples:
  hessian-lab sharpness
  hessian-lab sharpness --model cnn --loss cross-entropy --examples 512 --json
  hessian-lab sharpness --gd-steps 1000 --lr 0.2 --save trained.pt
  hessian-lab sharpness --weights trained.pt
"""


class ModelName(str, Enum):
    mlp = "mlp"
    cnn = "cnn"


class LossName(str, Enum):
    mse = "mse"
    cross_entropy = "cross-entropy"


MAX_EXAMPLES = 1797
MAX_WARM_UP_HOURS = 2.0
#: seconds per full-batch GD step and training example (float64, measured on 2 busy CPU
#: cores: 256 examples, 400 steps); what --gd-steps is estimated with before it runs
STEP_SECONDS = {"mlp": 2e-5, "cnn": 2e-4}


def _not_finite(weights, gd_steps: int, lr) -> str:
    """The one-line error when the loss or its Hessian is not finite, naming the cause."""
    if gd_steps > 0:
        return (
            f"--gd-steps {gd_steps} --lr {lr:g}: the loss or its Hessian is not finite after "
            "the warm-up (full-batch GD diverged); use a smaller --lr"
        )
    where = f"--weights {str(weights)!r}" if weights is not None else "the initial weights"
    return f"{where}: the loss or its Hessian is not finite at these weights (they overflow)"


@handle_errors
def sharpness(
    model: Annotated[
        ModelName, typer.Option(help="mlp: tanh 64-32-32-10; cnn: two 3x3 convolutions.")
    ] = ModelName.mlp,
    loss: Annotated[
        LossName, typer.Option(help="mse: 1/2 ||f(x) - onehot(y)||^2; or cross-entropy.")
    ] = LossName.mse,
    examples: Annotated[
        int, typer.Option(help=f"Training examples (1..{MAX_EXAMPLES}), the full batch.")
    ] = 256,
    seed: Annotated[int, typer.Option(help="Seeds the data split and the initial weights.")] = 0,
    weights: Annotated[
        Path | None,
        typer.Option(help="A state dict of the same model (torch.save): finite float tensors."),
    ] = None,
    gd_steps: Annotated[
        int,
        typer.Option(help="Full-batch GD steps before measuring (refused over ~2 h estimated)."),
    ] = 0,
    lr: Annotated[
        float | None, typer.Option(help="GD's step size (needed for --gd-steps).")
    ] = None,
    tol: Annotated[float, typer.Option(help="Lanczos's relative residual target.")] = 1e-8,
    save: Annotated[
        Path | None, typer.Option(help="Write the final weights here (.pt state dict).")
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    if not 1 <= examples <= MAX_EXAMPLES:
        raise CLIError(f"--examples must be an integer in [1, {MAX_EXAMPLES}]; got {examples}")
    if seed < 0:
        raise CLIError(f"--seed must be an integer >= 0; got {seed}")
    if gd_steps < 0:
        raise CLIError(f"--gd-steps must be an integer >= 0; got {gd_steps}")
    if lr is not None and not 0 < lr < float("inf"):
        raise CLIError(f"--lr must be a finite number > 0; got {lr}")
    if gd_steps > 0 and lr is None:
        raise CLIError("--gd-steps needs --lr (the full-batch GD step size)")
    if not 0 < tol < 1:
        raise CLIError(f"--tol must be a number in (0, 1); got {tol}")
    hours = gd_steps * examples * STEP_SECONDS[model.value] / 3600
    if hours > MAX_WARM_UP_HOURS:
        raise CLIError(
            f"--gd-steps {gd_steps}: an estimated {hours:,.0f} hours of full-batch GD on "
            f"{examples} examples (about {STEP_SECONDS[model.value]:.0e} s per step and example "
            f"for the {model.value}); at most {MAX_WARM_UP_HOURS:g} hours: use fewer --gd-steps"
        )
    if save is not None:
        check_output_path(save, "--save", ("pt",))
    import torch

    from ..torch.sharpness import network_sharpness

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            net, report = network_sharpness(
                model.value, loss.value, examples, seed, weights, gd_steps, lr, tol
            )
        except torch.linalg.LinAlgError:  # Lanczos on NaN or inf
            report = {"loss": math.nan}
    for message in dict.fromkeys(str(w.message) for w in caught):
        echo_err(f"Warning: {message}")
    if not all(math.isfinite(report.get(k, math.nan)) for k in ("loss", "lambda_max")):
        raise CLIError(_not_finite(weights, gd_steps, lr))
    if save is not None:
        buffer = io.BytesIO()  # serialised first: torch's writer garbles a disk error
        torch.save(net.state_dict(), buffer)
        try:
            files.atomic_write(save, lambda handle: handle.write(buffer.getvalue()))
        except OSError as error:
            raise CLIError(f"--save {str(save)!r}: cannot write it ({error.strerror})") from None
    if json_output:
        print_json({"command": "sharpness", **report})
        return
    from rich.table import Table

    table = Table(title=f"Sharpness of the {model.value} on {examples} digits ({loss.value})")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    for key, value in report.items():
        if value is not None:
            table.add_row(key, f"{value:.6g}" if isinstance(value, float) else str(value))
    out_console().print(table)
