"""``hessian-lab hutchinson``: the Hutchinson estimate of a matrix diagonal against the truth."""

from __future__ import annotations

from typing import Annotated

import typer

from . import options as opt
from .common import (
    as_float,
    draw_plots,
    handle_errors,
    out_console,
    print_json,
)
from .parsing import CLIError, check_memory, check_output_path, parse_list

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
MAX_ENTRY = 1e150  # squares and their row sums stay finite in float64


def parse_matrix(text: str) -> list[list[float]]:
    rows = [r for r in str(text).split(";")]
    if not rows or any(not r.strip() for r in rows):
        raise CLIError(f"--matrix must be rows separated by ';' such as '2,1;1,3'; got {text!r}")
    matrix = [parse_list(r, f"--matrix row {i + 1}") for i, r in enumerate(rows)]
    n = len(matrix)
    for i, row in enumerate(matrix):
        if len(row) != n:
            raise CLIError(
                f"--matrix must be square: row {i + 1} has {len(row)} entries, expected {n}"
            )
    for i in range(n):
        for j in range(i):
            if abs(matrix[i][j] - matrix[j][i]) > 1e-12 * (1 + abs(matrix[i][j])):
                raise CLIError(
                    f"--matrix must be symmetric: entry ({i + 1},{j + 1}) = {matrix[i][j]:g} "
                    f"but ({j + 1},{i + 1}) = {matrix[j][i]:g}"
                )
    return matrix


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
    if matrix is not None and (dim is not None or kappa is not None):
        raise CLIError("give either --matrix or --dim/--kappa, not both")
    import numpy as np

    from .. import Quadratic

    if matrix is not None:
        H = np.asarray(parse_matrix(matrix), dtype=float)
        source = {"kind": "matrix", "matrix": H.tolist()}
    else:
        n = 6 if dim is None else dim
        k = 10.0 if kappa is None else as_float(kappa, "--kappa")
        if not k >= 1:
            raise CLIError(f"--kappa must be a finite number >= 1; got {kappa!r}")
        check_memory(
            6.0 * n * n * 8, max_memory_gb, f"a random {n} x {n} matrix", "use a smaller --dim"
        )
        H = Quadratic.from_condition(n, k, rotation="random", seed=seed).hessian_matrix
        source = {"kind": "random", "dim": n, "kappa": k, "seed": seed}
    n = H.shape[0]
    largest = float(np.max(np.abs(H)))
    if largest > MAX_ENTRY:
        what = "--matrix" if matrix is not None else f"--kappa {k:g}"
        raise CLIError(
            f"{what}: a matrix entry of size {largest:.3g} overflows float64 in the "
            f"estimator's variance (sum of squared entries); entries must stay below "
            f"{MAX_ENTRY:g}"
        )
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
