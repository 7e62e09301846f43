"""The text forms users type anywhere, read into library objects.

The command line, ``--config`` files, the notebooks and the check kit all read text
through this package, so the same string means the same thing everywhere:

    >>> import hessian_lab as hl
    >>> valley = hl.problem("steep-valley")                 # or kappa=100, dim=50, ...
    >>> hl.optimizer("gd:lr=0.5*lr_opt", valley).lr         # lr_opt = 2/(1+100)
    0.009900990099009901

- :mod:`.text`: numbers and expressions (``"0.5*lr_opt"``), lists, names, matrices;
- :mod:`.optimizers`: optimizer specs ``NAME:key=value,...`` (:func:`optimizer`);
- :mod:`.problems`: a preset, a quadratic's spectrum or condition, an objective (:func:`problem`);
- :mod:`.grids`: sweep grids ``NAME=START:STOP:NUM[:log|lin]``;
- :mod:`.runs`: a run's start and stopping rule;
- :mod:`.noise`: gradient noise (``hessian``, a variance, or one per coordinate);
- :mod:`.paths`: output paths checked before work, TOML files read safely;
- :mod:`.config`: a config file's fields, each checked against its kind.

A bad input raises :class:`SpecError`, a ``ValueError`` whose text is one line naming
the input and what is allowed (the command line prints it and exits with code 2).
Standard library only at import time.
"""

from __future__ import annotations

from .config import read_config
from .grids import Grid, SweepPlan, parse_grid, parse_grids, plan_sweep
from .optimizers import (
    OptimizerSpec,
    ResolvedOptimizer,
    optimizer,
    parse_optimizer_spec,
    parse_specs,
    resolve_optimizer,
)
from .paths import check_output_path, read_toml
from .problems import BuiltProblem, ProblemChoice, problem, problem_title, resolve_problem
from .runs import RunSettings, run_settings
from .text import (
    SpecError,
    as_choice,
    as_float,
    as_int,
    blame,
    parse_list,
    parse_matrix,
    parse_names,
    parse_number,
    parse_value,
    split_top_level,
)

__all__ = [
    "BuiltProblem",
    "Grid",
    "OptimizerSpec",
    "ProblemChoice",
    "ResolvedOptimizer",
    "RunSettings",
    "SpecError",
    "SweepPlan",
    "as_choice",
    "as_float",
    "as_int",
    "blame",
    "check_output_path",
    "optimizer",
    "parse_grid",
    "parse_grids",
    "plan_sweep",
    "parse_list",
    "parse_matrix",
    "parse_names",
    "parse_number",
    "parse_optimizer_spec",
    "parse_specs",
    "parse_value",
    "problem",
    "problem_title",
    "read_config",
    "read_toml",
    "resolve_optimizer",
    "resolve_problem",
    "run_settings",
    "split_top_level",
]
