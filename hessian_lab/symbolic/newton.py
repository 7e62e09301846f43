"""Gradient, Hessian and the Newton-type steps of a symbolic objective.

For ``f`` in variables ``x = (x_1, ..., x_d)``:

- gradient ``g = grad f`` (a ``d x 1`` column), Hessian ``H = d^2 f / dx dx^T`` (``d x d``);
- Newton step ``-H^{-1} g`` (``None`` where ``H`` is singular for every ``x``);
- diagonal-Newton step ``-g_i / H_ii``;
- Hessian-power step ``-g_i / |H_ii|^k`` for ``0 <= k <= 1`` (AdaHessian's
  ``hessian_power``; ``k = 1`` is the diagonal-Newton step up to the sign of ``H_ii``,
  ``k = 0`` plain gradient descent).

Non-smooth functions (``abs``) are differentiated almost everywhere: their point masses
are dropped (:func:`hessian_lab.expr.drop_point_masses`, ``d^2|x|/dx^2 = 0``), and
:attr:`Derivation.notes` says so.

"Singular everywhere" is decided exactly, never against a float threshold: the Hessian's
floats are read as the decimals they print as (``0.1 -> 1/10``), and ``det H`` is
evaluated at a few rational points in exact arithmetic (rational values), by sympy's
zero test (``2e-25 exp(x)`` is not zero), or to 30 digits where only significant digits
count as non-zero. So ``c f`` gets the verdict of ``f`` for every ``c != 0``.

The work is bounded: at most :data:`MAX_VARIABLES` variables (the Newton step by
Cramer's rule has ``d!`` terms), and ``derive(..., timeout=s)`` stops after ``s`` seconds
with :class:`DerivationTimeout`.
"""

from __future__ import annotations

import contextlib
import random
import signal
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import sympy

from ..expr import drop_point_masses, nonsmooth_functions, parse_expression, variables_for

__all__ = [
    "Derivation",
    "DerivationTimeout",
    "derive",
    "check_hessian_power",
    "time_limit",
    "MAX_VARIABLES",
]

MAX_VARIABLES = 6  # the Newton step's determinants have d! terms
SIMPLIFY_MAX_OPS = 40  # larger entries get a cheap rewrite instead of sympy.simplify
SIMPLIFY_MAX_POWER = 10  # so do entries with a power above this (simplify would expand it)
SIMPLIFY_SECONDS = 5.0  # sympy.simplify can take minutes on small exp-rich entries
ZERO_DIGITS = 30  # digits of the numeric zero test of a transcendental determinant


class DerivationTimeout(TimeoutError):
    """The derivation ran past its time limit (a one-line message naming the limit)."""


class _Alarm(BaseException):
    """Raised by the timer inside sympy: a BaseException, so no ``except Exception`` in
    sympy's heuristics swallows it; :func:`time_limit` turns it into DerivationTimeout."""


def _largest_power(entry: sympy.Expr) -> float:
    exponents = [abs(p.exp) for p in entry.atoms(sympy.Pow) if p.exp.is_Number]
    return float(max(exponents, default=0))


def _tidy(entry: sympy.Expr) -> sympy.Expr:
    """``simplify`` for small entries (given up after ``SIMPLIFY_SECONDS``, where timers
    work); cheap ``factor_terms`` for large ones and as the fallback (a speed bound)."""
    if sympy.count_ops(entry) <= SIMPLIFY_MAX_OPS and _largest_power(entry) <= SIMPLIFY_MAX_POWER:
        with _deadline(SIMPLIFY_SECONDS) as own:
            try:
                return sympy.simplify(entry)
            except _Alarm:
                if not own:
                    raise
    return sympy.factor_terms(entry)


def _simplify(matrix: sympy.Matrix) -> sympy.Matrix:
    return matrix.applyfunc(_tidy)


def _det(matrix: sympy.Matrix) -> sympy.Expr:
    """Laplace expansion along the first row, with no simplification (sympy's own ``det``
    simplifies while it pivots, which is very slow on sigmoid-sized entries)."""
    n = matrix.rows
    if n == 1:
        return matrix[0, 0]
    return sympy.Add(
        *(
            (-1) ** j * matrix[0, j] * _det(matrix.minor_submatrix(0, j))
            for j in range(n)
            if matrix[0, j] != 0
        )
    )


def _trial_points(symbols, trials: int = 3) -> Iterator[dict]:
    """Fixed pseudo-random rational points in ``[1/2, 2]^d`` (same points every call)."""
    rng = random.Random(20261201)
    for _ in range(trials):
        yield {s: sympy.Rational(rng.randint(5000, 20000), 10007) for s in symbols}


def _is_singular_everywhere(hessian: sympy.Matrix, symbols) -> bool:
    """Whether ``det H`` vanishes identically, decided exactly (free of the scale of f).

    Floats are read as the decimals they print as, so ``det H`` is an exact expression. At
    each trial point its value is a closed-form number: a rational one is compared with 0
    exactly; otherwise sympy is asked whether it is zero (``2 exp(r) / 10^25`` is not), and
    where sympy cannot tell, it is evaluated to ``ZERO_DIGITS`` digits: a value with
    significant digits is non-zero, one whose digits all cancel (``sin^2 + cos^2 - 1``
    comes back as ``0.e-165``, no precision) counts as zero there. A determinant that is
    not identically zero vanishes only on a null set, so one non-zero value decides.
    """
    exact = hessian.applyfunc(lambda e: sympy.nsimplify(e, rational=True))
    determinant = _det(exact)
    if determinant == 0:
        return True
    for point in _trial_points(symbols):
        value = determinant.xreplace(point)
        if value.is_Rational:  # exact: a rational function of the variables
            if value != 0:
                return False
            continue
        if value.has(sympy.nan, sympy.zoo, sympy.oo, -sympy.oo):
            continue  # undefined at this point: it decides nothing
        verdict = value.is_zero
        if verdict is not None:
            if not verdict:
                return False
            continue
        if _has_significant_digits(value.evalf(ZERO_DIGITS)):
            return False
    return True


def _has_significant_digits(number: sympy.Expr) -> bool:
    """A numeric value evalf returned with at least float64's 53 bits in a non-zero part."""
    for part in number.as_real_imag():
        if part.is_Float and part != 0 and part._prec >= 53:
            return True
    return False


def _newton_step(hessian: sympy.Matrix, gradient: sympy.Matrix, symbols) -> sympy.Matrix | None:
    """``-H^{-1} g`` by Cramer's rule: ``-det(H with column i := g) / det(H)``."""
    if _is_singular_everywhere(hessian, symbols):
        return None
    determinant = _det(hessian)
    columns = []
    for i in range(hessian.cols):
        replaced = hessian.copy()
        replaced[:, i] = gradient
        columns.append(-_det(replaced) / determinant)
    return _simplify(sympy.Matrix(columns))


def check_hessian_power(k) -> sympy.Expr:
    """``k`` as an exact sympy number, refused unless ``0 <= k <= 1`` (AdaHessian's range:
    the authors use powers in [0, 1]; larger ones also make ``|H_ii|^k`` huge to expand).
    A symbolic ``k`` (a sympy expression with symbols) is kept as it is."""
    exact = sympy.nsimplify(k) if isinstance(k, float) else sympy.S(k)
    if exact.free_symbols:
        return exact  # a symbolic power, kept as it is
    if not (exact.is_real and exact.is_finite and 0 <= exact <= 1):
        raise ValueError(
            f"hessian power k must be a number in [0, 1] (AdaHessian's range); got {k}"
        )
    return exact


@dataclass(frozen=True)
class Derivation:
    """The derivatives of ``expression`` in ``variables`` and the steps built from them."""

    expression: sympy.Expr
    variables: tuple[sympy.Symbol, ...]
    gradient: sympy.Matrix  # (d, 1)
    hessian: sympy.Matrix  # (d, d)
    newton_step: sympy.Matrix | None  # (d, 1); None when H is singular everywhere
    diagonal_newton_step: sympy.Matrix  # (d, 1)
    notes: tuple[str, ...] = ()  # one line each: how the derivatives were taken

    def hessian_power_step(self, k) -> sympy.Matrix:
        """``-g_i / |H_ii|^k`` as a ``(d, 1)`` column; ``k`` a number in ``[0, 1]``."""
        k = check_hessian_power(k)
        column = [
            -self.gradient[i] / sympy.Abs(self.hessian[i, i]) ** k
            for i in range(len(self.variables))
        ]
        return _simplify(sympy.Matrix(column))

    def parts(self) -> dict[str, sympy.Basic | None]:
        return {
            "expression": self.expression,
            "gradient": self.gradient,
            "hessian": self.hessian,
            "newton_step": self.newton_step,
            "diagonal_newton_step": self.diagonal_newton_step,
        }

    def latex(self) -> dict[str, str]:
        """Each part as a LaTeX string (``"\\text{singular}"`` for a missing Newton step)."""
        return {
            name: sympy.latex(part) if part is not None else r"\text{singular}"
            for name, part in self.parts().items()
        }

    def pretty(self) -> dict[str, str]:
        """Each part pretty-printed in plain text (unicode off, for any terminal)."""
        return {
            name: sympy.pretty(part, use_unicode=False) if part is not None else "singular"
            for name, part in self.parts().items()
        }


def _raise_alarm(signum, frame):
    raise _Alarm


@contextlib.contextmanager
def _deadline(seconds: float | None) -> Iterator[bool]:
    """Raise :class:`_Alarm` in the block after ``seconds`` of wall time (``SIGALRM``: the
    main thread of a POSIX process only; elsewhere, or for ``None``, no limit).

    Nests: an enclosing deadline that comes sooner stays in force, and the enclosing one
    resumes afterwards. Yields whether an ``_Alarm`` in the block is this block's own
    (False when the enclosing deadline is the sooner one, or there is no timer).
    """
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if seconds is None or not usable:
        yield False
        return
    start = time.monotonic()
    outer_left, _ = signal.setitimer(signal.ITIMER_REAL, 0)  # 0.0: no enclosing deadline
    previous = signal.signal(signal.SIGALRM, _raise_alarm)
    own = not outer_left or seconds < outer_left
    signal.setitimer(signal.ITIMER_REAL, seconds if own else outer_left)
    try:
        yield own
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer_left:
            left = outer_left - (time.monotonic() - start)
            signal.setitimer(signal.ITIMER_REAL, max(left, 1e-6))


@contextlib.contextmanager
def time_limit(seconds: float | None, what: str = "the derivation") -> Iterator[None]:
    """Raise :class:`DerivationTimeout` in the block after ``seconds`` of wall time.

    Uses ``SIGALRM``, so it acts only in the main thread of a POSIX process; elsewhere (and
    for ``seconds=None``) the block runs unbounded.
    """
    with _deadline(seconds) as own:
        try:
            yield
        except _Alarm:
            if not own:
                raise
            raise DerivationTimeout(
                f"{what} took longer than {seconds:g} s and was stopped"
            ) from None


def _notes(expression: sympy.Expr) -> tuple[str, ...]:
    found = nonsmooth_functions(expression)
    if not found:
        return ()
    return (
        f"{', '.join(found)} is not differentiable everywhere: derivatives are taken "
        "almost everywhere (off the kinks; no point masses, e.g. d^2|x|/dx^2 = 0, sign(0) = 0)",
    )


def derive(
    expression: sympy.Expr | str,
    variables: str | Iterable[str | sympy.Symbol],
    timeout: float | None = None,
) -> Derivation:
    """Differentiate ``expression`` (sympy, or text parsed by :mod:`hessian_lab.expr`).

    At most :data:`MAX_VARIABLES` variables; ``timeout`` (seconds, main thread only) stops
    a derivation that runs longer with :class:`DerivationTimeout`.

    >>> d = derive("x**2 + 3*y**2", "x y")
    >>> d.newton_step.T
    Matrix([[-x, -y]])
    """
    symbols = variables_for(variables)
    if len(symbols) > MAX_VARIABLES:
        raise ValueError(
            f"derive takes at most {MAX_VARIABLES} variables (the Newton step's determinants "
            f"have d! terms); got {len(symbols)}"
        )
    if isinstance(expression, str):
        expression = parse_expression(expression, symbols)
    else:
        # user symbols may lack real=True; identify them by name with ours
        expression = expression.subs(
            {s: v for s in expression.free_symbols for v in symbols if s.name == v.name}
        )
    with time_limit(timeout):
        x = sympy.Matrix(symbols)
        gradient = sympy.Matrix([expression]).jacobian(x).T.applyfunc(drop_point_masses)
        hessian = gradient.jacobian(x).applyfunc(drop_point_masses)
        gradient, hessian = _simplify(gradient), _simplify(hessian)
        newton_step = _newton_step(hessian, gradient, symbols)
        diagonal = _simplify(
            sympy.Matrix(
                [
                    -gradient[i] / hessian[i, i] if hessian[i, i] != 0 else sympy.nan
                    for i in range(len(symbols))
                ]
            )
        )
    notes = _notes(expression)
    flat = [str(symbols[i]) for i in range(len(symbols)) if hessian[i, i] == 0]
    if flat:
        notes += (
            f"H_ii = 0 everywhere for {', '.join(flat)}: the diagonal-Newton step -g_i/H_ii "
            "is undefined there (nan)",
        )
    return Derivation(expression, symbols, gradient, hessian, newton_step, diagonal, notes)
