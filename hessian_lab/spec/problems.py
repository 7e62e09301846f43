"""Problems as users name them: a preset, a quadratic's spectrum, or an objective's text.

    hl.problem("steep-valley")                          # a preset (see hessian_lab.presets)
    hl.problem(eigenvalues="1,100", center="0.8,0.6")   # a quadratic with this spectrum
    hl.problem(kappa=100, dim=50, rotation="random")    # a quadratic from its condition
    hl.problem(objective="(w*2+b-1)**2", vars="w,b")    # any expression (via hessian_lab.expr)

The fields are the command line's problem options (``--kappa``...) and a config file's
keys; values may be numbers, lists or their text (``"1,100"``). Nothing given: the steep
valley. :func:`resolve_problem` also returns what a run reports: a JSON-ready config
that rebuilds the problem, the default start and the theory quantities.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from .. import memory, presets
from .text import SpecError, as_choice, as_float, as_int, blame, parse_list, parse_names

__all__ = [
    "BuiltProblem",
    "ProblemChoice",
    "problem",
    "problem_title",
    "resolve_problem",
    "theory_quantities",
]

PRESETS = tuple(presets.PRESETS)
DEFAULT_MAX_MEMORY_GB = 4.0
_NO_THEORY = "theory quantities need a quadratic"


@dataclass
class ProblemChoice:
    """The problem options as given (flags merged with a config); ``None``: not given."""

    eigenvalues: Any = None
    dim: Any = None
    kappa: Any = None
    spectrum: Any = None
    lambda_min: Any = None
    rotation: Any = None
    seed: Any = None
    center: Any = None
    objective: Any = None
    vars: Any = None
    problem: Any = None


@dataclass
class BuiltProblem:
    problem: Any
    config: dict[str, Any]  # fully resolved, JSON-ready: enough to build it again
    x0: list[float]  # the default start
    quantities: dict[str, float] | None = None
    quantity_note: str = ""
    labels: list[str] = field(default_factory=list)  # axis names (variables)


def resolve_problem(choice: ProblemChoice, max_memory_gb: float = DEFAULT_MAX_MEMORY_GB):
    """The :class:`BuiltProblem` the options describe; the steep valley when none is given."""
    c = choice
    quadratic_given = any(
        v is not None for v in (c.eigenvalues, c.dim, c.kappa, c.spectrum, c.lambda_min)
    )
    expression_given = c.objective is not None
    preset = as_choice(c.problem, "--problem", PRESETS)
    if sum([quadratic_given, expression_given, preset is not None]) > 1:
        raise SpecError(
            "give one problem: --eigenvalues or --dim/--kappa (a quadratic), --objective "
            "(an expression), or --problem (a preset); not several"
        )
    if c.vars is not None and not expression_given:
        raise SpecError("--vars goes with --objective; give --objective 'EXPR' --vars w,b")
    if expression_given:
        return _expression_problem(c)
    if preset not in (None, "steep-valley"):
        return _preset_problem(preset, c)
    return _quadratic_problem(c, quadratic_given, max_memory_gb)


def problem(name: str | None = None, **options: Any) -> Any:
    """The problem a preset ``name`` or the options (``kappa=100, dim=50``...) describe.

    Raises :class:`~hessian_lab.spec.SpecError` (one line) for bad options.

        >>> import hessian_lab as hl
        >>> hl.problem("steep-valley").eigenvalues.tolist()
        [1.0, 100.0]
        >>> hl.problem(kappa=100, dim=3).eigenvalues.tolist()
        [1.0, 10.0, 100.0]
    """
    allowed = [f.name for f in fields(ProblemChoice) if f.name != "problem"]
    unknown = sorted(set(options) - {*allowed, "max_memory_gb"})
    if unknown:
        raise SpecError(f"unknown problem option {unknown[0]!r}; allowed: {', '.join(allowed)}")
    limit = options.pop("max_memory_gb", DEFAULT_MAX_MEMORY_GB)
    return resolve_problem(ProblemChoice(problem=name, **options), limit).problem


def _quadratic_problem(c: ProblemChoice, given: bool, max_memory_gb: float) -> BuiltProblem:
    rotation = as_choice(c.rotation, "--rotation", ("none", "random")) or "none"
    seed = as_int(c.seed, "--seed", minimum=0) or 0
    if not given:  # the steep valley, unless another center was asked for
        eigenvalues, dim = [1.0, 100.0], 2
        center = [0.8, 0.6] if c.center is None else parse_list(c.center, "--center", 2)
        x0 = [float(v) for v in presets.preset("steep-valley").x0]
    else:
        if c.eigenvalues is not None:
            if any(v is not None for v in (c.dim, c.kappa, c.spectrum, c.lambda_min)):
                raise SpecError(
                    "give either --eigenvalues or --dim/--kappa/--spectrum/--lambda-min, not both"
                )
            eigenvalues = parse_list(c.eigenvalues, "--eigenvalues")
            dim = len(eigenvalues)
        else:
            dim = as_int(c.dim, "--dim", minimum=1) or 2
            kappa = as_float(c.kappa, "--kappa")
            kappa = 100.0 if kappa is None else kappa
            if not kappa >= 1:
                raise SpecError(f"--kappa must be a finite number >= 1; got {c.kappa!r}")
            eigenvalues = None
        memory.check_memory(
            memory.problem_bytes(dim, rotation),
            max_memory_gb,
            f"a quadratic with dimension {dim} and --rotation {rotation}",
            "use --rotation none (diagonal, O(d) memory) or a smaller --dim",
        )
        center = None if c.center is None else parse_list(c.center, "--center", dim)
        x0 = [1.0] * dim if center is None else [0.0] * dim
    from ..problems import Quadratic
    from ..problems.quadratic import SPECTRA

    with blame("problem"):
        if eigenvalues is None:
            spectrum = as_choice(c.spectrum, "--spectrum", SPECTRA) or "geometric"
            lambda_min = as_float(c.lambda_min, "--lambda-min", positive=True) or 1.0
            built = Quadratic.from_condition(
                dim, kappa, spectrum, lambda_min, rotation=rotation, center=center, seed=seed
            )
        else:
            built = Quadratic(eigenvalues, rotation=rotation, center=center, seed=seed)
    config = {
        "kind": "quadratic",
        "eigenvalues": [float(v) for v in built.spectrum],
        "rotation": rotation,
        "seed": seed,
        "center": [float(v) for v in built.center],
        "dim": built.dim,
    }
    if not given and c.center is None:
        config["name"] = "steep-valley"
    quantities, note = theory_quantities(built)
    return BuiltProblem(built, config, x0, quantities, note, [f"x{i + 1}" for i in range(dim)])


MAX_ENTRY = 1e150  # squares and their row sums stay finite in float64


def symmetric_matrix(matrix=None, dim=None, kappa=None, seed=0, max_memory_gb=4.0):
    """``(H, source)``: the ``matrix`` text (``"2,1;1,3"``) or a random SPD matrix of size
    ``dim`` (default 6) and condition ``kappa`` (default 10); ``source`` says which
    (JSON-ready). Entries must stay below :data:`MAX_ENTRY` (Hutchinson's variance squares
    them)."""
    import numpy as np

    from ..problems import Quadratic
    from .text import parse_matrix

    if matrix is not None and (dim is not None or kappa is not None):
        raise SpecError("give either --matrix or --dim/--kappa, not both")
    if matrix is not None:
        H = np.asarray(parse_matrix(matrix), dtype=float)
        source, what = {"kind": "matrix", "matrix": H.tolist()}, "--matrix"
    else:
        n = 6 if dim is None else as_int(dim, "--dim", minimum=1)
        k = 10.0 if kappa is None else as_float(kappa, "--kappa")
        if not k >= 1:
            raise SpecError(f"--kappa must be a finite number >= 1; got {kappa!r}")
        need, what = 6.0 * n * n * 8, f"a random {n} x {n} matrix"
        memory.check_memory(need, max_memory_gb, what, "use a smaller --dim")
        H = Quadratic.from_condition(n, k, rotation="random", seed=seed).hessian_matrix
        source, what = {"kind": "random", "dim": n, "kappa": k, "seed": seed}, f"--kappa {k:g}"
    largest = float(np.max(np.abs(H)))
    if largest > MAX_ENTRY:
        raise SpecError(
            f"{what}: a matrix entry of size {largest:.3g} overflows float64 in the "
            f"estimator's variance (sum of squared entries); entries must stay below "
            f"{MAX_ENTRY:g}"
        )
    return H, source


def theory_spectrum(eigenvalues: Any = None, kappa: Any = None, lambda_min: Any = None):
    """``(spectrum, what was given)`` for ``hessian-lab theory``: the ``eigenvalues``, or
    ``lambda_min`` and ``kappa * lambda_min`` (default 1 and 100); all must be > 0."""
    if eigenvalues is not None and (kappa is not None or lambda_min is not None):
        raise SpecError("give either --eigenvalues or --kappa (with --lambda-min), not both")
    if eigenvalues is not None:
        spectrum, given = parse_list(eigenvalues, "--eigenvalues"), "--eigenvalues"
    else:
        k = as_float(kappa if kappa is not None else 100.0, "--kappa")
        if not k >= 1:
            raise SpecError(f"--kappa must be a finite number >= 1; got {kappa!r}")
        low = as_float(lambda_min if lambda_min is not None else 1.0, "--lambda-min", positive=True)
        spectrum = [low, k * low]
        flags = (("--kappa", kappa), ("--lambda-min", lambda_min))
        given = " and ".join(f"{f} {v:g}" for f, v in flags if v is not None)
        given = given or "the default spectrum"
    if min(spectrum) <= 0:
        raise SpecError(f"--eigenvalues must all be > 0 for the theory; got {eigenvalues!r}")
    return spectrum, given


def theory_quantities(problem: Any) -> tuple[dict[str, float] | None, str]:
    """Named quantities (``lr_opt``, ...) where the problem has them, else None and why."""
    if getattr(problem, "eigenvalues", None) is None:
        return None, _NO_THEORY
    from ..theory import named_quantities

    try:
        return {k: float(v) for k, v in named_quantities(problem).items()}, ""
    except ValueError as error:
        if "not finite" not in str(error):
            return None, str(error)
        low, high = float(problem.eigenvalues[0]), float(problem.eigenvalues[-1])
        return None, (
            f"the theory quantities overflow float64 for eigenvalues from {low:g} to "
            f"{high:g} (powers such as kappa^(3/2) are out of range)"
        )


def _expression_problem(c: ProblemChoice) -> BuiltProblem:
    if c.vars is None:
        raise SpecError("--objective needs --vars, the variables, e.g. --vars w,b")
    names = parse_names(c.vars, "--vars")
    from ..problems.expression import ExpressionProblem

    with blame("--objective"):
        built = ExpressionProblem(str(c.objective), names)
    config = {"kind": "expression", "objective": str(c.objective), "vars": names}
    return BuiltProblem(built, config, [0.0] * built.dim, None, _NO_THEORY, names)


def _preset_problem(name: str, c: ProblemChoice) -> BuiltProblem:
    if any(v is not None for v in (c.rotation, c.center, c.lambda_min)):
        raise SpecError(f"--problem {name} takes no --rotation, --center or --lambda-min")
    found = presets.preset(name)
    built = found.build()
    names = [str(v) for v in getattr(built, "variables", None) or ()] or [
        f"x{i + 1}" for i in range(built.dim)
    ]
    x0 = [float(v) for v in found.x0]
    return BuiltProblem(built, {"kind": "preset", "name": name}, x0, None, _NO_THEORY, names)


def problem_title(built: BuiltProblem) -> str:
    """A short name of the problem for titles: the preset, the spectrum or the objective."""
    c = built.config
    if c.get("name"):
        return str(c["name"])
    if c["kind"] == "quadratic":
        ev = c["eigenvalues"]
        shown = ", ".join(f"{v:g}" for v in ev[:4]) + (", ..." if len(ev) > 4 else "")
        return f"quadratic, eigenvalues ({shown})"
    if c["kind"] == "expression":
        return c["objective"]
    return str(c.get("name", "problem"))
