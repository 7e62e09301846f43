"""Property tests for any optimizer: hypothesis strategies and a catalogue of invariants.

    from hessian_lab.testing import check_optimizer
    check_optimizer(torch.optim.Adam, lr=1e-2, assume={"elementwise"}).assert_ok()

- :mod:`.strategies`: spectra, axis-aligned and rotated quadratics, starts, hyperparameters;
- :mod:`.invariants`: the named checks (pass / fail / not applicable, with a minimal
  counterexample); :mod:`.parity`: ``like=NAME`` against the built-in optimizer;
- :func:`check_optimizer` / :class:`Report`: all of them at once (``hessian-lab check``).
"""

from __future__ import annotations

from . import strategies
from .invariants import FAIL, INVARIANTS, NA, PASS, PROPERTIES, Outcome
from .report import Report, check_optimizer

__all__ = [
    "FAIL",
    "INVARIANTS",
    "NA",
    "PASS",
    "PROPERTIES",
    "Outcome",
    "Report",
    "check_optimizer",
    "strategies",
]
