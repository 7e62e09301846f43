"""The catalogue of invariants a sound optimizer has, each a named check.

Every check returns an :class:`Outcome`: ``pass`` (held on every drawn example), ``fail``
(with the minimal counterexample hypothesis shrank to and a one-line why) or ``not
applicable`` (with the reason: the property was not declared, or the method legitimately
cannot have it, e.g. translation equivariance under weight decay).

Always checked: determinism, rows independent, permutation / translation equivariance,
sign symmetry, the minimizer as a fixed point, convergence on an easy quadratic, the
float64 floor. Under declared properties (``assume``): ``elementwise`` (separability on
diagonal quadratics), ``rotation-equivariant``, ``scale-invariant`` (loss scale; with
``elementwise`` also per-coordinate scale). ``origin-dependent`` declares the opposite: the
steps depend on where the origin is (a trust ratio ``||x|| / ||step||`` as in LAMB), so
translation equivariance and the float64 floor (which moves the problem) are not
applicable; weight decay implies it. Design choices (:data:`DECLARATIONS`):

- ``shared-state``: one statistic shared by every parameter (D-Adaptation, Prodigy,
  global-norm clipping): rows independence is replaced by *parameters exchangeable* (a
  batch of parameters in one optimizer, permuted, gives the permuted iterates) and
  separability is not applicable;
- ``sign-descent``: fixed-size steps (Lion, SignSGD): convergence means reaching a
  neighbourhood of the minimizer of radius ``4 lr sqrt(d)`` from a start ``100 lr sqrt(d)``
  away (and the float64 floor, which needs a 1e-4 approach, is not applicable);
- ``matrix``: the method acts on whole matrices (Muon, Shampoo): every parameter is an
  ``(r, c)`` matrix (d = 4 or 6: 2x2, 2x3, 3x2), permutation equivariance permutes rows and
  columns only, separability is not applicable.

Comparisons use the calibrated tolerance of :mod:`hessian_lab.testing.runs`, calibrated
only when the plain rounding floor is exceeded, on both runs compared (the translated
problem's own rounding for translation, the permuted one's for permutation).

Stochastic methods (the seed changes the iterates; e.g. Hutchinson probes) are compared
only where the two runs draw aligned random numbers. Where they would not (a permuted or
rotated copy, a batch against its rows), the check moves to axis-aligned quadratics if the
noise has no effect there (Hutchinson's estimate of a diagonal Hessian is exact), and is
not applicable otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from hypothesis import strategies as st

from ..problems.quadratic import Quadratic, haar_orthogonal
from .runs import (
    EPS,
    Inconclusive,
    NotApplicable,
    TargetRaised,
    compare,
    explore,
    sensitivity,
    trajectory,
)
from .strategies import Case, cases

PASS, FAIL, NA = "pass", "fail", "not applicable"
PROPERTIES = (
    "elementwise",
    "rotation-equivariant",
    "scale-invariant",
    "origin-dependent",
    "shared-state",
    "sign-descent",
    "matrix",
    "low-precision-state",
)
#: the design choices among :data:`PROPERTIES` and the optimizers each is for
DECLARATIONS = {
    "origin-dependent": "steps depend on ||x|| (LAMB's trust ratio, LARS)",
    "shared-state": "one statistic shared across parameters (D-Adaptation, Prodigy, "
    "global-norm clipping)",
    "sign-descent": "fixed-size steps (Lion, SignSGD, signum)",
    "matrix": "acts on whole matrices (Muon, Shampoo, SOAP)",
    "low-precision-state": "keeps state below the parameters' precision (bfloat16 momenta: "
    "pytorch-optimizer's AdaFactor; Kron's float32 preconditioners)",
}
#: hyperparameters that pull the iterate towards the origin when non-zero
DECAY_NAMES = ("weight_decay", "lambd")
#: the far translation of the float64-floor check: not representable in float32
FAR_SHIFT = 4096.0 + 1.0 / 3.0
#: ``matrix``: the shape of a parameter of d entries
MATRIX_SHAPES = {4: (2, 2), 6: (2, 3)}

__all__ = ["Outcome", "Kit", "INVARIANTS", "PROPERTIES", "DECLARATIONS", "PASS", "FAIL", "NA"]


@dataclass(frozen=True)
class Outcome:
    """One invariant's verdict: ``status`` pass / fail / not applicable."""

    name: str
    status: str
    detail: str
    counterexample: str | None = None
    #: ``Type: message`` when the failure is an exception of the optimizer
    error: str | None = None

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "status": self.status,
            "detail": self.detail,
            "counterexample": self.counterexample,
        }


class Kit:
    """What the checks share: the optimizer to build, settings, and what was learnt of it.

    ``make(layout, seed, shape=None)`` builds the engine optimizer (see
    :mod:`hessian_lab.adapters`); ``shape`` the ``(r, c)`` matrix each parameter is (the
    ``matrix`` declaration).
    """

    def __init__(
        self,
        make,
        *,
        decay=False,
        assume=(),
        examples=12,
        seed=0,
        steps=25,
        budget=3000,
        native=None,
        lr=None,
    ):
        self.make = make
        #: why the method's steps depend on where the origin is ("" when they do not):
        #: weight decay, or a declared ``origin-dependent`` (e.g. LAMB's trust ratio ||x||)
        self.origin = (
            "weight decay pulls towards the origin"
            if decay
            else "declared origin-dependent (--assume origin-dependent)"
            if "origin-dependent" in assume
            else ""
        )
        self.decay = bool(decay)
        self.assume = frozenset(assume)
        self.examples = int(examples)
        self.seed = int(seed)
        self.steps = int(steps)
        self.budget = int(budget)
        self.native = native  # for --like: (name, builder) from parity.py
        self.lr = lr  # the target's learning rate (sign descent's step size), if known
        self.deterministic: bool | None = None
        self.noisy: dict[str, bool] = {}
        self._groups: str | None = None

    def groups_refused(self) -> str:
        """Why the optimizer cannot be built with one parameter group per row ("" when it
        can): a refusal at construction (LBFGS has no per-parameter options) is a stated
        limit of the method, so the checks on that layout are not applicable."""
        if self._groups is None:
            x0 = np.array([[0.7, -0.4], [0.2, 0.5]])
            try:
                trajectory(self.make(layout="groups"), Quadratic(np.array([1.0, 2.0])), x0, 0)
                self._groups = ""
            except TargetRaised as error:
                self._groups = error.kind
        return self._groups

    @property
    def matrix(self) -> bool:
        return "matrix" in self.assume

    def shape(self, dim: int):
        """The matrix each parameter is under ``matrix`` (None: a vector)."""
        if not self.matrix:
            return None
        return MATRIX_SHAPES[dim]

    def build(self, dim: int, layout="separate", seed=None):
        seed = self.seed if seed is None else seed
        shape = self.shape(dim)
        if shape is None:
            return self.make(layout=layout, seed=seed)
        return self.make(layout=layout, seed=seed, shape=shape)

    def run(self, problem, X0, steps=None, layout="separate", seed=None, kick=None):
        """Iterates ``(T + 1, B, d)`` of a fresh optimizer (see :func:`.runs.trajectory`)."""
        opt = self.build(problem.dim, layout, seed)
        return trajectory(opt, problem, X0, self.steps if steps is None else steps, kick=kick)

    def side(self, problem, X0, scale, got=None, layout="separate"):
        """One run of a comparison, for :meth:`agree`'s calibration: ``(run, X0, scale,
        iterates)``; ``got`` the iterates if already computed."""
        X0 = np.asarray(X0)
        got = self.run(problem, X0, layout=layout) if got is None else got
        return (lambda X, kick=None: self.run(problem, X, layout=layout, kick=kick)), X0, scale, got

    def agree(self, expected, got, scale, sides=(), atol=0.0, what="x") -> str | None:
        """:func:`.runs.compare` at the rounding floor; beyond it, calibrated on the
        method's response to a nudge of the start of every run in ``sides`` (the
        comparison's own problems: the largest response counts)."""
        message = compare(expected, got, scale, None, atol=atol, what=what)
        if message is None or not sides:
            return message
        sens = np.maximum.reduce(
            [sensitivity(run, X0, s, base) * (scale / s) for run, X0, s, base in sides]
        )
        return compare(expected, got, scale, sens, atol=atol, what=what)

    def search(self, name, strategy, body, examples=None, held="", shrink=None) -> Outcome:
        kwargs = {} if shrink is None else {"shrink": shrink}
        found = explore(
            strategy, body, self.examples if examples is None else examples, self.seed, **kwargs
        )
        if found.failure is not None:
            raised = found.failure.raised
            return Outcome(
                name,
                FAIL,
                found.failure.message,
                repr(found.failure.case),
                raised.kind if raised else None,
            )
        if found.why_not:
            return Outcome(name, NA, found.why_not)
        if found.valid == 0:
            return Outcome(name, NA, "no drawn example could decide it")
        return Outcome(name, PASS, f"held on {found.valid} drawn examples{held}")

    # ------------------------------------------------------------------ noise profile
    def noise_matters(self, kind: str) -> bool:
        """Does the seed change the iterates on a fixed rotated / axis-aligned quadratic?

        An optimizer that raises here is taken as noise-free: the checks meet the same
        exception and report it as a failure.
        """
        if kind not in self.noisy:
            rotated = kind == "rotated"
            case = Case(
                np.array([0.5, 1.0, 2.0, 1.5]),
                np.array([0.3, -0.2, 0.1, 0.4]),
                np.array([[0.7, -0.4, 0.9, -0.6]]),
                7 if rotated else None,
            )
            problem = case.problem()
            try:
                a = self.run(problem, case.x0, seed=self.seed)
                b = self.run(problem, case.x0, seed=self.seed + 1)
                side = self.side(problem, case.x0, case.scale, a)
                self.noisy[kind] = self.agree(a, b, case.scale, [side]) is not None
            except (Inconclusive, TargetRaised):
                self.noisy[kind] = False
        return self.noisy[kind]

    def aligned_kind(self, name: str) -> tuple[bool | None, str]:
        """For a check whose two runs draw misaligned random numbers: rotated problems
        (True), axis-aligned ones (False), or None with the reason it is not applicable."""
        if not self.noise_matters("rotated"):
            return True, ""
        if not self.noise_matters("diagonal"):
            return (
                False,
                " (stochastic method: on axis-aligned quadratics, where its noise has no effect)",
            )
        return None, "stochastic: the seed changes the iterates even on axis-aligned quadratics"

    def needs_determinism(self, name: str) -> Outcome | None:
        if self.deterministic is False:
            return Outcome(name, NA, "not deterministic for a fixed seed (see determinism)")
        return None

    def gate(self, name: str, declared=(), hint: str = "", noise: str = "") -> Outcome | None:
        """``not applicable`` when a property in ``declared`` is not assumed, when the
        method is not deterministic (the comparison would mean nothing), or when its noise
        matters on ``noise`` quadratics (``"rotated"``/``"diagonal"``); else None."""
        missing = [p for p in declared if p not in self.assume]
        if missing:
            return Outcome(name, NA, hint or f"not declared (--assume {missing[0]})")
        blocked = self.needs_determinism(name)
        if blocked is None and noise and self.noise_matters(noise):
            return Outcome(
                name,
                NA,
                f"stochastic: its noise changes the iterates on {noise} "
                "quadratics, and the compared runs draw misaligned random numbers",
            )
        return blocked

    def aligned_gate(self, name: str) -> tuple[Outcome | None, bool | None, str]:
        """:meth:`gate`, then :meth:`aligned_kind`: (outcome or None, rotated, note)."""
        blocked = self.needs_determinism(name)
        if blocked:
            return blocked, None, ""
        rotated, why = self.aligned_kind(name)
        if rotated is None:
            return Outcome(name, NA, why), None, why
        return None, rotated, why

    def cases(self, **kwargs):
        """:func:`.strategies.cases`; under ``matrix`` of dimension 4 or 6 only."""
        if not self.matrix:
            return cases(**kwargs)
        kwargs.pop("min_dim", None)
        return st.sampled_from(sorted(MATRIX_SHAPES)).flatmap(
            lambda d: cases(min_dim=d, max_dim=d, **kwargs)
        )


# ---------------------------------------------------------------------------- checks


def determinism(kit: Kit) -> Outcome:
    """Same seed, same problem, same start: the same iterates (to 64 eps scale (t+1))."""

    def body(case):
        a = kit.run(case.problem(), case.x0)
        b = kit.run(case.problem(), case.x0)
        return compare(a, b, case.scale)

    out = kit.search("determinism", kit.cases(rotated=True), body)
    if out.error is None:
        kit.deterministic = out.status != FAIL
    if out.status == FAIL and out.error is None:
        out = replace(
            out, detail=out.detail + "; two runs with the same seed differ: unseeded randomness?"
        )
    return out


def rows_independent(kit: Kit) -> Outcome:
    """Three starts as one batch (one optimizer, a parameter group per row) equal each
    start run alone: no state is shared between parameters."""
    name = "rows independent"
    if "shared-state" in kit.assume:
        return Outcome(name, NA, "declared shared-state: one statistic for every parameter")
    if kit.groups_refused():
        return Outcome(name, NA, f"refuses a parameter group per row ({kit.groups_refused()})")
    blocked, rotated, why = kit.aligned_gate(name)
    if blocked:
        return blocked

    def body(case):
        problem = case.problem()
        batched = kit.run(problem, case.x0, layout="groups")
        alone = kit.run(problem, case.x0, layout="separate")
        side = kit.side(problem, case.x0, case.scale, alone)
        for b in range(case.x0.shape[0]):
            message = kit.agree(alone[:, b : b + 1], batched[:, b : b + 1], case.scale, [side])
            if message:
                size = case.x0.shape[0]
                return f"row {b} of a batch of {size} differs from its run alone: {message}"
        return None

    return kit.search(name, kit.cases(rotated=rotated, count=3), body, held=why)


def parameters_exchangeable(kit: Kit) -> Outcome:
    """``shared-state``: three parameters in one optimizer (a group each), given in another
    order, give the same iterates in that order: the shared statistic treats every
    parameter alike."""
    name = "parameters exchangeable (shared-state)"
    if "shared-state" not in kit.assume:
        return Outcome(name, NA, "not declared (--assume shared-state)")
    if kit.groups_refused():
        return Outcome(name, NA, f"refuses a parameter group per row ({kit.groups_refused()})")
    blocked = kit.needs_determinism(name)
    if blocked:
        return blocked

    def body(case):
        problem = case.problem()
        order = np.array([2, 0, 1])
        batched = kit.run(problem, case.x0, layout="groups")
        other = kit.run(problem, case.x0[order], layout="groups")
        side = kit.side(problem, case.x0, case.scale, batched, layout="groups")
        message = kit.agree(batched[:, order], other, case.scale, [side])
        return message and f"parameters given in the order {order.tolist()}: {message}"

    return kit.search(name, kit.cases(rotated=True, count=3), body)


def _permutation(case: Case, shape=None) -> np.ndarray:
    if case.dim < 2:
        raise Inconclusive("one coordinate")
    rng = np.random.default_rng(case.rotation_seed or 0)
    if shape is not None:  # rows and columns of the matrix, each permuted
        rows, cols = rng.permutation(shape[0]), rng.permutation(shape[1])
        if np.array_equal(rows, np.arange(shape[0])):
            rows = np.roll(rows, 1)
        return (rows[:, None] * shape[1] + cols[None, :]).ravel()
    perm = rng.permutation(case.dim)
    if np.array_equal(perm, np.arange(case.dim)):
        perm = np.roll(perm, 1)
    return perm


def permutation_equivariance(kit: Kit) -> Outcome:
    """Permuting the coordinates of the problem and the start permutes the iterates
    (under ``matrix``: permuting the rows and the columns of every parameter)."""
    name = "permutation equivariance"
    blocked, rotated, why = kit.aligned_gate(name)
    if blocked:
        return blocked

    def body(case):
        perm = _permutation(case, kit.shape(case.dim))
        problem = case.problem()
        reference = kit.run(problem, case.x0)
        if case.rotation_seed is None:
            permuted = Quadratic(case.eigenvalues[perm], center=case.center[perm])
        else:
            permuted = Quadratic(case.eigenvalues, rotation=case.Q[perm], center=case.center[perm])
        sides = [
            kit.side(problem, case.x0, case.scale, reference),
            kit.side(permuted, case.x0[:, perm], case.scale),
        ]
        message = kit.agree(reference[..., perm], sides[1][3], case.scale, sides)
        return message and f"coordinates permuted by {perm.tolist()}: {message}"

    return kit.search(name, kit.cases(rotated=rotated, min_dim=2), body, held=why)


def translation_equivariance(kit: Kit) -> Outcome:
    """Moving the problem and the start by ``s`` moves the iterates by ``s``."""
    name = "translation equivariance"
    if kit.origin:
        return Outcome(name, NA, f"{kit.origin}: not translation-equivariant")
    skip = kit.needs_determinism(name)
    if skip:
        return skip

    @st.composite
    def drawn(draw):
        case = draw(kit.cases(rotated=True))
        shift = draw(st.lists(st.floats(-2.0, 2.0), min_size=case.dim, max_size=case.dim))
        return case, np.array(shift)

    def body(drawn_case):
        case, shift = drawn_case
        scale = case.scale + float(np.abs(shift).max())
        problem = case.problem()
        reference = kit.run(problem, case.x0)
        moved = case.with_center(case.center + shift).problem()
        sides = [
            kit.side(problem, case.x0, case.scale, reference),
            kit.side(moved, case.x0 + shift, scale),
        ]
        message = kit.agree(reference + shift, sides[1][3], scale, sides)
        return message and f"shift {np.round(shift, 6).tolist()}: {message}"

    return kit.search(name, drawn(), body)


def sign_symmetry(kit: Kit) -> Outcome:
    """``f(x) -> f(-x)`` and ``x0 -> -x0``: the iterates change sign."""
    name = "sign symmetry"
    skip = kit.needs_determinism(name)
    if skip:
        return skip

    def body(case):
        problem = case.problem()
        reference = kit.run(problem, case.x0)
        mirrored = case.with_center(-case.center).problem()
        sides = [
            kit.side(problem, case.x0, case.scale, reference),
            kit.side(mirrored, -case.x0, case.scale),
        ]
        return kit.agree(-reference, sides[1][3], case.scale, sides)

    return kit.search(name, kit.cases(rotated=True), body)


def fixed_point(kit: Kit) -> Outcome:
    """Started at the minimizer (the origin under weight decay), the iterates stay there
    and are finite."""
    name = "fixed point at the minimizer"

    def body(case):
        if kit.decay:
            case = case.with_center(np.zeros(case.dim))
        X0 = case.center[None, :]
        xs = kit.run(case.problem(), X0)
        if not np.all(np.isfinite(xs)):
            t = int(np.argmin(np.isfinite(xs).reshape(xs.shape[0], -1).all(axis=1)))
            return f"started at the minimizer, x_{t} is not finite (0/0 where the gradient is 0?)"
        moved = np.abs(xs - X0[None]).reshape(xs.shape[0], -1).max(axis=1)
        tol = 64 * EPS * case.scale * (np.arange(xs.shape[0]) + 1)
        if np.any(moved > tol):
            t = int(np.argmax(moved > tol))
            return (
                f"started at the minimizer, x_{t} moved by {moved[t]:.3g} "
                "(drift where the gradient is 0)"
            )
        return None

    return kit.search(name, kit.cases(rotated=True), body)


def _easy_cases(kit: Kit, decay: bool):
    """Well-conditioned quadratics (eigenvalues in [0.5, 2]); centered at 0 under decay."""
    strategy = kit.cases(rotated=True, lambda_min=(0.5, 1.0), max_kappa=2.0)
    if decay:
        return strategy.map(lambda c: c.with_center(np.zeros(c.dim)))
    return strategy


#: examples of the float64 floor that do not converge before it is not applicable
FLOOR_MISSES = 3
#: runs of the body while shrinking a failure of the long-run checks (each up to --budget
#: steps)
LONG_SHRINK = 8


def _sign_descent_case(kit: Kit, case: Case) -> Case:
    """The case with its start ``100 lr sqrt(d)`` from the minimizer (sign descent)."""
    radius = 100 * float(kit.lr) * np.sqrt(case.dim)
    e0 = case.e0 / np.linalg.norm(case.e0[0]) * radius
    return replace(case, e0=e0)


def convergence(kit: Kit) -> Outcome:
    """On an easy quadratic (kappa <= 4) the engine's run converges to 1e-4 of the start
    distance within the step budget. Under ``sign-descent``: from ``100 lr sqrt(d)`` away
    it comes within ``4 lr sqrt(d)`` of the minimizer (steps of size ~lr cannot do better).

    A failure on the first example ends the search after a few shrinking runs: each run
    may take the whole budget.
    """
    name = "convergence on an easy quadratic"
    from ..engine import run

    sign = "sign-descent" in kit.assume
    if sign and not (isinstance(kit.lr, (int, float)) and kit.lr > 0):
        return Outcome(name, NA, "declared sign-descent, but no positive lr= to size the ball")

    def body(case):
        start = float(np.linalg.norm(case.x0[0] - case.center))
        tol = 4 * float(kit.lr) * np.sqrt(case.dim) if sign else 1e-4 * start
        result = run(
            case.problem(),
            kit.build(case.dim),
            case.x0[0],
            criterion="distance",
            tol=tol,
            max_steps=kit.budget,
            bound=1e6 * case.scale,
        )
        if result.status[0] == "converged":
            return None
        wanted = f"4 lr sqrt(d) = {tol:.3g}" if sign else "1e-4 of it"
        return (
            f"{result.status[0]} after {int(result.steps[0])} steps (distance "
            f"{result.final_criterion[0]:.3g} from {start:.3g}; wanted {wanted})"
        )

    held = f", each within {kit.budget} steps"
    if sign:
        held += " to within 4 lr sqrt(d) (sign descent's neighbourhood)"
    strategy = _easy_cases(kit, kit.decay)
    if sign:
        strategy = strategy.map(lambda case: _sign_descent_case(kit, case))
    return kit.search(
        name, strategy, body, examples=min(kit.examples, 5), held=held, shrink=LONG_SHRINK
    )


def _closest(kit: Kit, problem, x0, center, enough: float = 0.0) -> tuple[float, float]:
    """The smallest distance to ``center`` a run reaches, and the start distance.

    The run stops once the distance is at most ``enough``, once it has not halved in 300
    steps (no progress), or at the budget.
    """
    opt = kit.build(problem.dim)
    start = float(np.linalg.norm(x0 - center))
    best, since, chunk = start, 0, 100
    from ..backend import Backend
    from ..optimizers.base import Oracle
    from .runs import _guard

    backend = Backend("numpy")
    X = backend.asarray(x0[None, :])
    hp = opt.hyperparameters(1, backend)
    state = _guard(lambda: opt.init(X, hp), 0)
    oracle = Oracle(problem)
    with np.errstate(all="ignore"):
        for t in range(kit.budget):
            oracle.remember(None, None)
            X, state = _guard(lambda X=X, state=state: opt.step(X, state, hp, oracle), t)
            dist = float(np.linalg.norm(np.asarray(X)[0] - center))
            if not np.isfinite(dist):
                break
            if dist < 0.5 * best:
                best, since = dist, t
            best = min(best, dist)
            if dist <= max(enough, 1e-14 * (1 + np.abs(center).max())) or t - since > 3 * chunk:
                break
    return best, start


def float64_floor(kit: Kit) -> Outcome:
    """The closest approach to the minimizer does not depend on where the problem sits.

    A run near the origin and the same run moved by ~4096 reach the same floor when the
    iterate is kept in float64 (rounding at 4096 is ~1e-12); an iterate cast to float32
    leaves the moved run stuck ~1e-4 away. A float32 cast of the gradient or of the step
    alone is not caught: it costs a relative error of 6e-8 per step, and the run still
    converges. Not applicable when runs near the origin do not reach 1e-4 of their start
    (decided on the first :data:`FLOOR_MISSES` such examples: the search stops there).
    """
    name = "float64 floor (no hidden float32)"
    if kit.origin:
        return Outcome(name, NA, f"{kit.origin}: a moved problem is another problem")
    if "sign-descent" in kit.assume:
        return Outcome(name, NA, "declared sign-descent: steps of size lr show no floor")

    misses = []

    def body(case):
        start = float(np.linalg.norm(case.x0[0] - case.center))
        # 1e-8 of the start is near enough: an iterate on float32's grid at 4096 (spacing
        # 4.9e-4) cannot come within 100 times that
        near, _ = _closest(kit, case.problem(), case.x0[0], case.center, 1e-8 * start)
        if not near <= 1e-4 * start:
            misses.append(near / start)
            if len(misses) < FLOOR_MISSES:
                raise Inconclusive("no convergence within the budget")
            raise NotApplicable(
                f"{len(misses)} runs reach only {min(misses):.2g} of their start distance "
                f"within {kit.budget} steps (not 1e-4), so no floor shows"
            )
        moved = case.with_center(case.center + FAR_SHIFT)
        bound = max(100 * near, 1e-7)
        far, _ = _closest(kit, moved.problem(), case.x0[0] + FAR_SHIFT, moved.center, bound)
        if far <= bound:
            return None
        return (
            f"reaches {near:.2g} from the minimizer, but only {far:.2g} once the problem is "
            f"moved by {FAR_SHIFT:.6g} (float32 resolution there is 2e-4; float64's 1e-12)"
        )

    return kit.search(
        name, _easy_cases(kit, False), body, examples=min(kit.examples, 3), shrink=LONG_SHRINK
    )


def separability(kit: Kit) -> Outcome:
    """``elementwise``: on a diagonal quadratic each coordinate runs as its own 1-D problem."""
    name = "separability (elementwise)"
    for design in ("shared-state", "matrix"):
        if design in kit.assume:
            return Outcome(name, NA, f"declared {design}: coordinates are coupled by design")
    blocked = kit.gate(name, ("elementwise",), noise="diagonal")
    if blocked:
        return blocked

    def body(case):
        problem = case.problem()
        reference = kit.run(problem, case.x0)
        side = kit.side(problem, case.x0, case.scale, reference)
        for i in range(case.dim):
            alone = Case(case.eigenvalues[i : i + 1], case.center[i : i + 1], case.e0[:, i : i + 1])
            one = kit.side(alone.problem(), alone.x0, case.scale)
            message = kit.agree(reference[..., i : i + 1], one[3], case.scale, [side, one])
            if message:
                return f"coordinate {i} run alone differs: {message}"
        return None

    return kit.search(name, cases(rotated=False, min_dim=2), body)


def rotation_equivariance(kit: Kit) -> Outcome:
    """``rotation-equivariant``: rotating problem and start by U rotates the iterates."""
    name = "rotation equivariance"
    blocked = kit.gate(name, ("rotation-equivariant",), noise="rotated")
    if blocked:
        return blocked

    def body(case):
        if case.dim < 2:
            raise Inconclusive("one coordinate")
        U = haar_orthogonal(case.dim, (case.rotation_seed or 0) + 1)
        problem = case.problem()
        reference = kit.run(problem, case.x0)
        rotated = Quadratic(case.eigenvalues, rotation=U @ case.Q, center=U @ case.center)
        sides = [
            kit.side(problem, case.x0, case.scale, reference),
            kit.side(rotated, case.x0 @ U.T, case.scale),
        ]
        return kit.agree(reference @ U.T, sides[1][3], case.scale, sides)

    return kit.search(name, kit.cases(rotated=True, min_dim=2), body)


def _scaled(kit: Kit, case: Case, eigenvalues, what: str) -> str | None:
    """Iterates on ``case`` and on its copy with ``eigenvalues``: None if they agree."""
    problem = case.problem()
    reference = kit.run(problem, case.x0)
    rotation = "none" if case.rotation_seed is None else case.Q
    scaled = Quadratic(eigenvalues, rotation=rotation, center=case.center)
    sides = [
        kit.side(problem, case.x0, case.scale, reference),
        kit.side(scaled, case.x0, case.scale),
    ]
    message = kit.agree(reference, sides[1][3], case.scale, sides)
    return message and f"{what}: {message}"


def loss_scale_invariance(kit: Kit) -> Outcome:
    """``scale-invariant``: ``f -> a f`` (a in [1e-2, 1e2]) leaves the iterates unchanged."""
    name = "loss-scale invariance"
    blocked = kit.gate(name, ("scale-invariant",))
    if blocked:
        return blocked

    @st.composite
    def drawn(draw):
        return draw(kit.cases(rotated=True)), 10.0 ** draw(st.floats(-2.0, 2.0))

    def body(drawn_case):
        case, a = drawn_case
        return _scaled(kit, case, a * case.eigenvalues, f"loss scaled by {a:.6g}")

    return kit.search(name, drawn(), body)


def coordinate_scale_invariance(kit: Kit) -> Outcome:
    """``scale-invariant`` and ``elementwise``: scaling each coordinate's curvature by its
    own ``a_i`` on a diagonal quadratic leaves the iterates unchanged."""
    name = "coordinate-scale invariance"
    hint = "needs both --assume scale-invariant and elementwise"
    blocked = kit.gate(name, ("scale-invariant", "elementwise"), hint)
    if blocked:
        return blocked

    @st.composite
    def drawn(draw):
        case = draw(cases(rotated=False, min_dim=2))
        exps = draw(st.lists(st.floats(-2.0, 2.0), min_size=case.dim, max_size=case.dim))
        return case, 10.0 ** np.array(exps)

    def body(drawn_case):
        case, a = drawn_case
        what = f"coordinates' curvature scaled by {np.round(a, 6).tolist()}"
        return _scaled(kit, case, a * case.eigenvalues, what)

    return kit.search(name, drawn(), body)


determinism.title = "determinism"
rows_independent.title = "rows independent"
parameters_exchangeable.title = "parameters exchangeable (shared-state)"
permutation_equivariance.title = "permutation equivariance"
translation_equivariance.title = "translation equivariance"
sign_symmetry.title = "sign symmetry"
fixed_point.title = "fixed point at the minimizer"
convergence.title = "convergence on an easy quadratic"
float64_floor.title = "float64 floor (no hidden float32)"
separability.title = "separability (elementwise)"
rotation_equivariance.title = "rotation equivariance"
loss_scale_invariance.title = "loss-scale invariance"
coordinate_scale_invariance.title = "coordinate-scale invariance"

#: every check in the order it runs (determinism first: the others ask its result)
INVARIANTS: tuple[Callable[[Kit], Outcome], ...] = (
    determinism,
    rows_independent,
    parameters_exchangeable,
    permutation_equivariance,
    translation_equivariance,
    sign_symmetry,
    fixed_point,
    convergence,
    float64_floor,
    separability,
    rotation_equivariance,
    loss_scale_invariance,
    coordinate_scale_invariance,
)
