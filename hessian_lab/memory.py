"""Memory estimates of the commands, checked against a limit (``--max-memory-gb``) before
any work: :func:`check_memory` refuses an estimate over the limit in one line.

Each estimate is an upper bound on the peak of Python and NumPy allocations a command
makes (the tests measure the peak with ``tracemalloc`` and require
``measured <= estimate <= 4 x measured``). The constants are per-item costs measured on
the whole command (engine, theory prediction, table or JSON, figure), float64:

- a diagonal quadratic run: about 470 bytes per dimension at the peak (the theory
  prediction's work arrays dominate; one optimizer at a time is in memory);
- a rotated quadratic: a few dense ``d x d`` matrices, about 40 bytes per entry;
  ``newton``: the Hessians and their SVD, about 55 bytes per entry;
- a sweep: about 1.3 KB per grid point for the table (each row's result and
  prediction), 2.5 KB with ``--json`` or ``--csv`` (the rows as objects, then as text),
  plus the optimizer's ``(B, d)`` arrays;
- a recorded path (``--plot``): about 320 bytes per recorded step and run, the engine's
  per-step records and the drawn line;
- a fixed part for the figure, the tables and the caches of one command.
"""

from __future__ import annotations

FIXED_BYTES = 8e6
RUN_BYTES_PER_DIM = 520.0
DENSE_BYTES_PER_ENTRY = 48.0
NEWTON_BYTES_PER_ENTRY = 64.0
SWEEP_ROW_BYTES = 1400.0
SWEEP_ROW_TEXT_BYTES = 1400.0  # more per row for --json / --csv
SWEEP_BYTES_PER_ROW_DIM = 12 * 8.0  # the optimizer's (B, d) arrays: iterate, state, buffers
HISTORY_BYTES_PER_STEP = 400.0

DEFAULT_LIMIT_GB = 4.0

__all__ = [
    "check_memory",
    "check_run",
    "check_sweep",
    "format_bytes",
    "problem_bytes",
    "run_bytes",
    "sweep_bytes",
]


def format_bytes(n: float) -> str:
    """``1.5e9`` -> ``"1.5 GB"`` (decimal units)."""
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000:
            return f"{n:.3g} {unit}"
        n /= 1000
    return f"{n:.3g} TB"


def check_memory(needed: float, limit_gb: float, what: str, advice: str) -> None:
    """Refuse (a one-line ``SpecError``) when ``needed`` bytes exceed ``limit_gb`` GB."""
    if needed > limit_gb * 1e9:
        from .spec.text import SpecError

        raise SpecError(
            f"{what} needs about {format_bytes(needed)} of memory, over the limit of "
            f"{limit_gb:g} GB (--max-memory-gb); {advice}"
        )


def problem_bytes(dim: int, rotation: str) -> float:
    """A run on a ``dim``-dimensional quadratic (``rotation`` ``"none"`` or dense)."""
    per_dim = RUN_BYTES_PER_DIM + (0.0 if rotation == "none" else DENSE_BYTES_PER_ENTRY * dim)
    return FIXED_BYTES + per_dim * dim


def run_bytes(dim: int, rotation: str, runs: int, recorded_steps: int, newton: bool) -> float:
    """``hessian-lab run``: the problem, ``newton``'s dense Hessians, recorded paths."""
    total = problem_bytes(dim, rotation)
    if newton:
        total += NEWTON_BYTES_PER_ENTRY * dim * dim
    if recorded_steps:
        total += runs * (recorded_steps + 1) * (HISTORY_BYTES_PER_STEP + 16.0 * dim)
    return total


def sweep_bytes(batch: int, dim: int, rotation: str, as_text: bool, newton: bool) -> float:
    """``hessian-lab sweep`` of ``batch`` grid points (``as_text``: ``--json``/``--csv``)."""
    per_row = SWEEP_ROW_BYTES + (SWEEP_ROW_TEXT_BYTES if as_text else 0.0)
    per_row += SWEEP_BYTES_PER_ROW_DIM * dim
    if newton:
        per_row += NEWTON_BYTES_PER_ENTRY * dim * dim
    return problem_bytes(dim, rotation) + batch * per_row


def check_run(dim: int, rotation: str, runs: int, recorded_steps: int, newton: bool, limit_gb):
    """:func:`check_memory` of :func:`run_bytes` (``hessian-lab run``)."""
    what = f"{runs} run(s) in dimension {dim}"
    if newton:
        what += " with newton's dense Hessians"
    if recorded_steps:
        what += f", recording paths of up to {recorded_steps} steps"
    needed = run_bytes(dim, rotation, runs, recorded_steps, newton)
    check_memory(needed, limit_gb, what, "lower --max-steps, use a smaller --dim or drop newton")


def check_sweep(batch: int, dim: int, rotation: str, as_text: bool, newton: bool, limit_gb):
    """:func:`check_memory` of :func:`sweep_bytes` (``hessian-lab sweep``)."""
    what = f"a sweep of {batch} runs in dimension {dim}"
    what += " and newton's dense Hessians" if newton else ""
    needed = sweep_bytes(batch, dim, rotation, as_text, newton)
    check_memory(needed, limit_gb, what, "use fewer grid points or a smaller --dim")
