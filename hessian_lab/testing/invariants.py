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
applicable; weight decay implies it. Comparisons use the calibrated tolerance of
:mod:`hessian_lab.testing.runs`.

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
from .runs import EPS, Inconclusive, compare, explore, sensitivity, trajectory
from .strategies import Case, cases

PASS, FAIL, NA = "pass", "fail", "not applicable"
PROPERTIES = ("elementwise", "rotation-equivariant", "scale-invariant", "origin-dependent")
#: hyperparameters that pull the iterate towards the origin when non-zero
DECAY_NAMES = ("weight_decay", "lambd")
#: the far translation of the float64-floor check: not representable in float32
FAR_SHIFT = 4096.0 + 1.0 / 3.0

__all__ = ["Outcome", "Kit", "INVARIANTS", "PROPERTIES", "PASS", "FAIL", "NA"]


@dataclass(frozen=True)
class Outcome:
    """One invariant's verdict: ``status`` pass / fail / not applicable."""

    name: str
    status: str
    detail: str
    counterexample: str | None = None

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "status": self.status,
            "detail": self.detail,
            "counterexample": self.counterexample,
        }


class Kit:
    """What the checks share: the optimizer to build, settings, and what was learnt of it.

    ``make(layout, seed)`` builds the engine optimizer (see :mod:`hessian_lab.adapters`).
    """

    def __init__(
        self,
        make,
        *,
        decay=False,
        assume=(),
        examples=20,
        seed=0,
        steps=25,
        budget=3000,
        native=None,
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
        self.deterministic: bool | None = None
        self.noisy: dict[str, bool] = {}

    def run(self, problem, X0, steps=None, layout="separate", seed=None) -> np.ndarray:
        opt = self.make(layout=layout, seed=self.seed if seed is None else seed)
        return trajectory(opt, problem, X0, self.steps if steps is None else steps)

    def calibrated(self, case: Case, problem=None, X0=None, layout="separate"):
        """The reference run and its sensitivity (see :mod:`.runs`)."""
        problem = case.problem() if problem is None else problem
        X0 = case.x0 if X0 is None else X0

        def run(X):
            return self.run(problem, X, layout=layout)

        reference = run(X0)
        return reference, sensitivity(run, X0, case.scale, reference)

    def search(self, name, strategy, body, examples=None, held="") -> Outcome:
        found = explore(strategy, body, self.examples if examples is None else examples, self.seed)
        if found.failure is not None:
            return Outcome(name, FAIL, found.failure.message, repr(found.failure.case))
        if found.valid == 0:
            return Outcome(name, NA, "no drawn example could decide it")
        return Outcome(name, PASS, f"held on {found.valid} drawn examples{held}")

    # ------------------------------------------------------------------ noise profile
    def noise_matters(self, kind: str) -> bool:
        """Does the seed change the iterates on a fixed rotated / axis-aligned quadratic?"""
        if kind not in self.noisy:
            rotated = kind == "rotated"
            case = Case(
                np.array([0.5, 1.0, 2.0]),
                np.array([0.3, -0.2, 0.1]),
                np.array([[0.7, -0.4, 0.9]]),
                7 if rotated else None,
            )
            problem = case.problem()
            a = self.run(problem, case.x0, seed=self.seed)
            b = self.run(problem, case.x0, seed=self.seed + 1)
            sens = sensitivity(lambda X: self.run(problem, X), case.x0, case.scale, a)
            try:
                self.noisy[kind] = compare(a, b, case.scale, sens) is not None
            except Inconclusive:
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


# ---------------------------------------------------------------------------- checks


def determinism(kit: Kit) -> Outcome:
    """Same seed, same problem, same start: the same iterates (to 64 eps scale (t+1))."""

    def body(case):
        a = kit.run(case.problem(), case.x0)
        b = kit.run(case.problem(), case.x0)
        return compare(a, b, case.scale)

    out = kit.search("determinism", cases(rotated=True), body)
    kit.deterministic = out.status != FAIL
    if out.status == FAIL:
        out = replace(
            out, detail=out.detail + "; two runs with the same seed differ: unseeded randomness?"
        )
    return out


def rows_independent(kit: Kit) -> Outcome:
    """Three starts as one batch (one optimizer, a parameter group per row) equal each
    start run alone: no state is shared between parameters."""
    name = "rows independent"
    blocked, rotated, why = kit.aligned_gate(name)
    if blocked:
        return blocked

    def body(case):
        problem = case.problem()
        batched = kit.run(problem, case.x0, layout="groups")
        for b in range(case.x0.shape[0]):
            alone, sens = kit.calibrated(case, problem, case.x0[b : b + 1], layout="groups")
            message = compare(alone, batched[:, b : b + 1], case.scale, sens)
            if message:
                size = case.x0.shape[0]
                return f"row {b} of a batch of {size} differs from its run alone: {message}"
        return None

    return kit.search(name, cases(rotated=rotated, count=3), body, held=why)


def _permutation(case: Case) -> np.ndarray:
    if case.dim < 2:
        raise Inconclusive("one coordinate")
    perm = np.random.default_rng(case.rotation_seed or 0).permutation(case.dim)
    if np.array_equal(perm, np.arange(case.dim)):
        perm = np.roll(perm, 1)
    return perm


def permutation_equivariance(kit: Kit) -> Outcome:
    """Permuting the coordinates of the problem and the start permutes the iterates."""
    name = "permutation equivariance"
    blocked, rotated, why = kit.aligned_gate(name)
    if blocked:
        return blocked

    def body(case):
        perm = _permutation(case)
        reference, sens = kit.calibrated(case)
        if case.rotation_seed is None:
            permuted = Quadratic(case.eigenvalues[perm], center=case.center[perm])
        else:
            permuted = Quadratic(case.eigenvalues, rotation=case.Q[perm], center=case.center[perm])
        got = kit.run(permuted, case.x0[:, perm])
        message = compare(reference[..., perm], got, case.scale, sens)
        return message and f"coordinates permuted by {perm.tolist()}: {message}"

    return kit.search(name, cases(rotated=rotated, min_dim=2), body, held=why)


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
        case = draw(cases(rotated=True))
        shift = draw(st.lists(st.floats(-2.0, 2.0), min_size=case.dim, max_size=case.dim))
        return case, np.array(shift)

    def body(drawn_case):
        case, shift = drawn_case
        scale = case.scale + float(np.abs(shift).max())
        reference, sens = kit.calibrated(case)
        sens = sens * scale / case.scale
        moved = case.with_center(case.center + shift)
        got = kit.run(moved.problem(), case.x0 + shift)
        message = compare(reference + shift, got, scale, sens)
        return message and f"shift {np.round(shift, 6).tolist()}: {message}"

    return kit.search(name, drawn(), body)


def sign_symmetry(kit: Kit) -> Outcome:
    """``f(x) -> f(-x)`` and ``x0 -> -x0``: the iterates change sign."""
    name = "sign symmetry"
    skip = kit.needs_determinism(name)
    if skip:
        return skip

    def body(case):
        reference, sens = kit.calibrated(case)
        mirrored = case.with_center(-case.center)
        return compare(-reference, kit.run(mirrored.problem(), -case.x0), case.scale, sens)

    return kit.search(name, cases(rotated=True), body)


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

    return kit.search(name, cases(rotated=True), body)


def _easy_cases(decay: bool):
    """Well-conditioned quadratics (eigenvalues in [0.5, 2]); centered at 0 under decay."""
    strategy = cases(rotated=True, lambda_min=(0.5, 1.0), max_kappa=2.0)
    if decay:
        return strategy.map(lambda c: c.with_center(np.zeros(c.dim)))
    return strategy


def convergence(kit: Kit) -> Outcome:
    """On an easy quadratic (kappa <= 4) the engine's run converges to 1e-4 of the start
    distance within the step budget."""
    name = "convergence on an easy quadratic"
    from ..engine import run

    def body(case):
        start = float(np.linalg.norm(case.x0[0] - case.center))
        result = run(
            case.problem(),
            kit.make(seed=kit.seed),
            case.x0[0],
            criterion="distance",
            tol=1e-4 * start,
            max_steps=kit.budget,
            bound=1e6 * case.scale,
        )
        if result.status[0] == "converged":
            return None
        return (
            f"{result.status[0]} after {int(result.steps[0])} steps (distance "
            f"{result.final_criterion[0]:.3g} from {start:.3g}; wanted 1e-4 of it)"
        )

    return kit.search(
        name,
        _easy_cases(kit.decay),
        body,
        examples=min(kit.examples, 5),
        held=f", each within {kit.budget} steps",
    )


def _closest(kit: Kit, problem, x0, center) -> tuple[float, float]:
    """The smallest distance to ``center`` a run reaches, and the start distance."""
    opt = kit.make(seed=kit.seed)
    start = float(np.linalg.norm(x0 - center))
    best, since, chunk = start, 0, 100
    from ..backend import Backend
    from ..optimizers.base import Oracle

    backend = Backend("numpy")
    X = backend.asarray(x0[None, :])
    hp = opt.hyperparameters(1, backend)
    state = opt.init(X, hp)
    oracle = Oracle(problem)
    with np.errstate(all="ignore"):
        for t in range(kit.budget):
            oracle.remember(None, None)
            X, state = opt.step(X, state, hp, oracle)
            dist = float(np.linalg.norm(np.asarray(X)[0] - center))
            if not np.isfinite(dist):
                break
            if dist < 0.5 * best:
                best, since = dist, t
            best = min(best, dist)
            if dist <= 1e-14 * (1 + np.abs(center).max()) or t - since > 3 * chunk:
                break
    return best, start


def float64_floor(kit: Kit) -> Outcome:
    """The closest approach to the minimizer does not depend on where the problem sits.

    A run near the origin and the same run moved by ~4096 reach the same floor when the
    arithmetic is float64 (rounding at 4096 is ~1e-12); hidden float32 (a cast of the
    iterate, the step or the gradient) leaves the moved run stuck ~1e-4 away.
    """
    name = "float64 floor (no hidden float32)"
    if kit.origin:
        return Outcome(name, NA, f"{kit.origin}: a moved problem is another problem")

    def body(case):
        near, start = _closest(kit, case.problem(), case.x0[0], case.center)
        if not near <= 1e-4 * start:
            raise Inconclusive("no convergence within the budget")
        moved = case.with_center(case.center + FAR_SHIFT)
        far, _ = _closest(kit, moved.problem(), case.x0[0] + FAR_SHIFT, moved.center)
        if far <= max(100 * near, 1e-7):
            return None
        return (
            f"reaches {near:.2g} from the minimizer, but only {far:.2g} once the problem is "
            f"moved by {FAR_SHIFT:.6g} (float32 resolution there is 2e-4; float64's 1e-12)"
        )

    out = kit.search(name, _easy_cases(False), body, examples=min(kit.examples, 3))
    if out.status == NA:
        return replace(
            out, detail=f"does not converge within {kit.budget} steps, so no floor shows"
        )
    return out


def separability(kit: Kit) -> Outcome:
    """``elementwise``: on a diagonal quadratic each coordinate runs as its own 1-D problem."""
    name = "separability (elementwise)"
    blocked = kit.gate(name, ("elementwise",), noise="diagonal")
    if blocked:
        return blocked

    def body(case):
        reference, sens = kit.calibrated(case)
        for i in range(case.dim):
            alone = Case(case.eigenvalues[i : i + 1], case.center[i : i + 1], case.e0[:, i : i + 1])
            one, sens_i = kit.calibrated(alone)
            message = compare(reference[..., i : i + 1], one, case.scale, np.maximum(sens, sens_i))
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
        reference, sens = kit.calibrated(case)
        rotated = Quadratic(case.eigenvalues, rotation=U @ case.Q, center=U @ case.center)
        got = kit.run(rotated, case.x0 @ U.T)
        return compare(reference @ U.T, got, case.scale, sens)

    return kit.search(name, cases(rotated=True, min_dim=2), body)


def loss_scale_invariance(kit: Kit) -> Outcome:
    """``scale-invariant``: ``f -> a f`` (a in [1e-2, 1e2]) leaves the iterates unchanged."""
    name = "loss-scale invariance"
    blocked = kit.gate(name, ("scale-invariant",))
    if blocked:
        return blocked

    @st.composite
    def drawn(draw):
        return draw(cases(rotated=True)), 10.0 ** draw(st.floats(-2.0, 2.0))

    def body(drawn_case):
        case, a = drawn_case
        reference, sens = kit.calibrated(case)
        scaled = Quadratic(a * case.eigenvalues, rotation=case.Q, center=case.center)
        message = compare(reference, kit.run(scaled, case.x0), case.scale, sens)
        return message and f"loss scaled by {a:.6g}: {message}"

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
        reference, sens = kit.calibrated(case)
        scaled = Quadratic(a * case.eigenvalues, center=case.center)
        message = compare(reference, kit.run(scaled, case.x0), case.scale, sens)
        return message and f"coordinates' curvature scaled by {np.round(a, 6).tolist()}: {message}"

    return kit.search(name, drawn(), body)


determinism.title = "determinism"
rows_independent.title = "rows independent"
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
