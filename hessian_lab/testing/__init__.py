"""Property tests for any optimizer: hypothesis strategies and a catalogue of invariants.

    from hessian_lab.testing import check_optimizer
    check_optimizer(torch.optim.Adam, lr=1e-2, assume={"elementwise"}).assert_ok()

- :mod:`.strategies`: spectra, axis-aligned and rotated quadratics, starts, hyperparameters;
- :mod:`.invariants`: the named checks (pass / fail / not applicable, with a minimal
  counterexample) and the design choices that can be declared (:data:`DECLARATIONS`);
  :mod:`.parity`: ``like=`` a built-in optimizer or any other target;
  :mod:`.problems`: opt-in convergence on Rosenbrock and Beale;
- :func:`check_optimizer` / :class:`Report`: all of them at once (``hessian-lab check``);
  :func:`planned_checks` lists them in order.
"""

from __future__ import annotations

from . import strategies
from .invariants import DECLARATIONS, FAIL, INVARIANTS, NA, PASS, PROPERTIES, Outcome
from .report import Report, check_optimizer, planned_checks

__all__ = [
    "DECLARATIONS",
    "FAIL",
    "INVARIANTS",
    "NA",
    "PASS",
    "PROPERTIES",
    "Outcome",
    "Report",
    "check_optimizer",
    "planned_checks",
    "strategies",
]
