"""Memory estimates of the commands, checked against ``--max-memory-gb`` before any work.

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

__all__ = ["problem_bytes", "run_bytes", "sweep_bytes"]


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
