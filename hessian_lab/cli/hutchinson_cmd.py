"""``hessian-lab hutchinson``: the Hutchinson estimate of a matrix diagonal against the truth."""

from __future__ import annotations

from typing import Annotated

import typer

from ..spec.problems import symmetric_matrix
from . import options as opt
from .common import (
    as_float,
    draw_plots,
    handle_errors,
    out_console,
    print_json,
)
from .parsing import check_memory, check_output_path

HELP = """Estimate diag(H) from N Rademacher probes: mean of z * (H z).

Each probe gives an unbiased estimate; coordinate i has variance sum_{j != i} H_ij^2, so
the error of the mean of N probes falls like 1/sqrt(N). The matrix is --matrix (rows
separated by ';') or a random symmetric positive-definite one (--dim, --kappa, --seed).

\b
Examples:
  hessian-lab hutchinson --matrix '2,1;1,3' --probes 1000
  hessian-lab hutchinson --dim 8 --kappa 100 --probes 4096 --plot hutchinson.png
  hessian-lab hutchinson --dim 4 --json
"""

MAX_PROBES = 10_000_000


@handle_errors
def hutchinson(
    matrix: Annotated[
        str | None, typer.Option(help="Symmetric matrix, rows by ';': '2,1;1,3'.")
    ] = None,
    dim: Annotated[
        int | None, typer.Option(min=1, help="Random SPD matrix of this size; default 6.")
    ] = None,
    kappa: Annotated[float | None, typer.Option(help="Its condition number; default 10.")] = None,
    seed: Annotated[int, typer.Option(min=0, help="Seeds the random matrix and the probes.")] = 0,
    probes: Annotated[int, typer.Option(min=1, max=MAX_PROBES, help="Number of probes N.")] = 1000,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
    plot: Annotated[
        str | None,
        typer.Option(help="RMS error against N, log-log, with 1/sqrt(N) (.png/.svg/.pdf)."),
    ] = None,
    max_memory_gb: opt.MaxMemory = opt.DEFAULT_MAX_MEMORY_GB,
) -> None:
    from ..plots import FORMATS

    if plot is not None:
        check_output_path(plot, "--plot", FORMATS)
    as_float(max_memory_gb, "--max-memory-gb", positive=True)
    H, source = symmetric_matrix(matrix, dim, kappa, seed, max_memory_gb)
    n = H.shape[0]
    check_memory(
        probes * n * 8.0 * 4,
        max_memory_gb,
        f"{probes} probes of dimension {n}",
        "use fewer --probes",
    )
    from ..studies import hutchinson_curve

    c = hutchinson_curve(H, probes, seed=seed)
    if json_output:
        print_json(
            {
                "command": "hutchinson",
                "source": source,
                "probes": probes,
                "seed": seed,
                "diagonal": c.truth.tolist(),
                "estimate": c.estimate.tolist(),
                "error": (c.estimate - c.truth).tolist(),
                "theoretical_std": c.theoretical_std.tolist(),
                "empirical_std": c.empirical_std.tolist(),
                "per_probe_std": c.per_probe_std.tolist(),
                "rms_error": {
                    "probes": c.probes.tolist(),
                    "rms": c.rms.tolist(),
                    "theory": c.reference.tolist(),
                },
            }
        )
    else:
        from rich.table import Table

        table = Table(title=f"Hutchinson diagonal estimate, {probes} Rademacher probes")
        for col in ("i", "H_ii", "estimate", "error", "theory std", "sample std"):
            table.add_column(col, justify="right")
        for i in range(n):
            table.add_row(
                str(i + 1),
                f"{c.truth[i]:.6g}",
                f"{c.estimate[i]:.6g}",
                f"{c.estimate[i] - c.truth[i]:+.3e}",
                f"{c.theoretical_std[i]:.3e}",
                f"{c.empirical_std[i]:.3e}",
            )
        out_console().print(table)
    if plot is not None:
        from .. import plots

        title = f"Hutchinson estimate of diag(H), n = {n}"
        draw_plots(
            [
                (
                    "--plot",
                    plot,
                    lambda: plots.hutchinson_error(c.probes, c.rms, c.reference, title=title),
                )
            ]
        )
