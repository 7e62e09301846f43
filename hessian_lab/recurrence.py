"""The linear methods' per-mode recurrences, numerically: coefficients, radius, closed form.

On a quadratic every linear method (GD, heavy ball, Nesterov) moves each eigen-component
``w`` of the error by its iteration matrix; the matrix's characteristic polynomial
``z^2 - a z + b`` gives the two-term recurrence

    w_{t+1} = a w_t - b w_{t-1},    disc = a^2 - 4 b,

with ``a``, ``b`` polynomials in ``beta`` and ``h = lr * lambda``. They are not written
here: :mod:`hessian_lab.symbolic.rates` derives them from the iteration matrices and
writes them, factored over the integers, into
:data:`hessian_lab.formulas.RECURRENCES` (sympy-free), keyed by the matrix's
name (``"gd"``, ``"heavy_ball"``, ``"nesterov"``).

**Accuracy at a double root.** The roots ``(a +- sqrt(disc))/2`` are infinitely sensitive
to ``disc`` where it vanishes (the optimal tunings put a mode exactly there): ``a*a - 4*b``
in float64 carries an absolute error ~``eps a^2``, and its square root ~``sqrt(eps)``. So
``a``, ``b`` and ``disc`` are evaluated in double-double arithmetic (Dekker's error-free
products and Knuth's two-sum: ~106-bit significands) wherever float64 could lose a digit,
and rounded once: each is within an ulp or two of its exact value for the float64 inputs,
and so are the spectral radius and the closed form below.

**Closed form.** With roots ``r1, r2`` (``|r1| >= |r2|``) and ``n = t + 1``,

    U_t = sum_{k=0}^{t} r1^k r2^(t-k) = (r1^n - r2^n) / (r1 - r2)

(Chebyshev's ``U_t(a / (2 sqrt(b))) b^(t/2)``), evaluated through the double roots
``disc = 0`` of either sign of ``a`` without dividing rounding noise by rounding noise:

    complex roots, phi = atan2(sqrt(-disc), |a|) in (0, pi/2]:
        U_t = sign(a)^t b^(t/2) sin(n phi) / sin(phi)                  (-> n (a/2)^t)
    real roots, s = sqrt(disc) / |a|, r1 = a (1 + s) / 2, q = r2 / r1 = (1 - s)/(1 + s):
        U_t = r1^t expm1(-2 n atanh s) / expm1(-2 atanh s)   for s < 1/3  (-> n (a/2)^t)
        U_t = r1^t (1 - q^n) / (1 - q)                       otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .formulas import RECURRENCES

__all__ = [
    "Recurrence",
    "recurrence",
    "spectral_radius",
    "gd_rate",
    "heavy_ball_rate",
    "nesterov_rate",
    "Roots",
    "u_powers",
]

_SPLIT = 134217729.0  # 2^27 + 1: Dekker's splitting constant for float64


# --------------------------------------------------------------------------- double-double
def _two_sum(x, y):
    """``x + y = s + e`` exactly (Knuth)."""
    s = x + y
    v = s - x
    return s, (x - (s - v)) + (y - v)


def _fast_two_sum(x, y):
    """``x + y = s + e`` exactly, for ``|x| >= |y|``."""
    s = x + y
    return s, y - (s - x)


def _two_prod(x, y):
    """``x * y = p + e`` exactly (Dekker's splitting; no FMA needed)."""
    p = x * y
    cx, cy = _SPLIT * x, _SPLIT * y
    xh, yh = cx - (cx - x), cy - (cy - y)
    xl, yl = x - xh, y - yh
    return p, ((xh * yh - p) + xh * yl + xl * yh) + xl * yl


def _dd_add(x, y):
    s, e = _two_sum(x[0], y[0])
    t, f = _two_sum(x[1], y[1])
    s, e = _fast_two_sum(s, e + t)
    return _fast_two_sum(s, e + f)


def _dd_mul(x, y):
    p, e = _two_prod(x[0], y[0])
    return _fast_two_sum(p, e + (x[0] * y[1] + x[1] * y[0]))


def _dd_scale(x, y):
    """A double-double times a float (array or int)."""
    p, e = _two_prod(x[0], y)
    return _fast_two_sum(p, e + x[1] * y)


def _dd_polynomial(terms, beta, h):
    """``sum c beta^i h^j`` in double-double: ``beta`` a float array, ``h`` a dd pair."""
    powers = [(np.ones_like(beta), np.zeros_like(beta)), h]
    total = (np.zeros_like(beta), np.zeros_like(beta))
    for c, i, j in terms:
        while len(powers) <= j:
            powers.append(_dd_mul(powers[-1], h))
        term = powers[j]
        for _ in range(i):
            term = _dd_scale(term, beta)
        term = (c * term[0], c * term[1]) if c in (1, -1, 2, -2, 4, -4) else _dd_scale(term, c)
        total = _dd_add(total, term)
    return total


def _dd_product(factors, beta, h):
    """A product of :func:`_dd_polynomial` factors, in double-double."""
    value = (np.ones_like(beta), np.zeros_like(beta))
    for terms in factors:
        value = _dd_mul(value, _dd_polynomial(terms, beta, h))
    return value


def _float_polynomial(terms, beta, h):
    """``sum c beta^i h^j`` in float64 and its rounding error's scale (the sum of the terms'
    magnitudes): where the value is below half that scale a digit may be lost."""
    value, scale = np.zeros(h.shape), np.zeros(h.shape)
    for c, i, j in terms:
        term = c * beta**i * h**j
        value, scale = value + term, scale + np.abs(term)
    return value, scale


class _Rows:
    """The flat rows of broadcast inputs that need double-double, with ``h = lr lam`` exact."""

    def __init__(self, mask, lr, beta, lam):
        self.index = np.flatnonzero(mask.reshape(-1))
        self.beta = beta.reshape(-1)[self.index]
        self.h = _two_prod(lr.reshape(-1)[self.index], lam.reshape(-1)[self.index])

    def put(self, target, dd):
        """Write the rounded ``dd`` into ``target``'s rows (keeping float64 where dd overflowed)."""
        refined = dd[0] + dd[1]
        flat = target.reshape(-1)
        flat[self.index] = np.where(np.isfinite(refined), refined, flat[self.index])


@dataclass(frozen=True)
class Recurrence:
    """``a``, ``b``, ``disc = a^2 - 4b`` (same shape), each correctly rounded to ~1 ulp."""

    a: np.ndarray
    b: np.ndarray
    disc: np.ndarray

    @property
    def radius(self) -> np.ndarray:
        """Spectral radius ``max |r|``: ``(|a| + sqrt(disc))/2`` (real roots), else ``sqrt(b)``."""
        real = (np.abs(self.a) + np.sqrt(np.maximum(self.disc, 0.0))) / 2
        return np.where(self.disc >= 0, real, np.sqrt(np.abs(self.b)))


def recurrence(name: str, lr, beta, lam, *, radius_only: bool = False) -> Recurrence:
    """The recurrence of iteration matrix ``name`` at ``h = lr * lam`` (arrays broadcast).

    ``a`` and ``b`` are products of integer-polynomial factors
    (:data:`~hessian_lab.formulas.RECURRENCES`); a factor whose terms cancel is
    recomputed in double-double, so each comes to about an ulp. ``disc = a*a - 4*b`` is as
    accurate where ``a^2`` and ``4b`` differ by a factor 5/3 or more; nearer the double
    roots it is recomputed from ``a`` and ``b`` in double-double, where float64 would keep
    neither its digits nor its sign. ``radius_only``: leave ``a`` in float64 where the roots
    are complex whatever its rounding (:attr:`Recurrence.radius` reads ``b`` alone there):
    cheaper on large grids.
    """
    factors = RECURRENCES[name]
    lr, beta, lam = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (lr, beta, lam)))
    with np.errstate(all="ignore"):
        h = lr * lam
        parts = {key: [_float_polynomial(t, beta, h) for t in factors[key]] for key in "ab"}
        (a, scale_a), (b, scale_b) = (
            np.prod([[v, s] for v, s in parts[key]], axis=0) for key in "ab"
        )
        disc = a * a - 4 * b
        need = {"a": True, "b": True}
        if radius_only:  # a is not read where the roots are complex beyond a's rounding
            error = 16 * np.finfo(np.float64).eps * (np.abs(a) * scale_a + a * a + scale_b)
            need["a"] = ~(disc < -error)
        for key in "ab":
            for terms, (value, scale) in zip(factors[key], parts[key], strict=True):
                lossy = need[key] & ~(np.abs(value) >= scale / 2)
                if lossy.any():
                    at = _Rows(lossy, lr, beta, lam)
                    at.put(value, _dd_polynomial(terms, at.beta, at.h))
        a, b = (np.prod([value for value, _ in parts[key]], axis=0) for key in "ab")
        disc = a * a - 4 * b
        band = ~(4 * np.abs(disc) >= a * a + 4 * np.abs(b))  # near a double root
        if band.any():
            at = _Rows(band, lr, beta, lam)
            a_dd = _dd_product(factors["a"], at.beta, at.h)
            b_dd = _dd_product(factors["b"], at.beta, at.h)
            at.put(a, a_dd)
            at.put(b, b_dd)
            at.put(disc, _dd_add(_dd_mul(a_dd, a_dd), (-4 * b_dd[0], -4 * b_dd[1])))
    return Recurrence(a, b, disc)


def spectral_radius(name: str, lr, beta, eigenvalues) -> np.ndarray:
    """``max_i rho(M(lr, beta, lambda_i))``: ``lr``, ``beta`` broadcast to ``S`` -> ``S``."""
    lr, beta = np.broadcast_arrays(np.asarray(lr, dtype=float), np.asarray(beta, dtype=float))
    lam = np.asarray(eigenvalues, dtype=float)
    rec = recurrence(name, lr[..., None], beta[..., None], lam, radius_only=True)
    return np.max(rec.radius, axis=-1)


def gd_rate(lr, eigenvalues):
    """``max_i |1 - lr lambda_i|``; ``lr`` scalar or array (shape ``S``) -> shape ``S``."""
    return spectral_radius("gd", lr, 0.0, eigenvalues)


def heavy_ball_rate(lr, beta, eigenvalues):
    """``max_i rho(T_hb(lr, beta, lambda_i))``; ``lr`` and ``beta`` broadcast together."""
    return spectral_radius("heavy_ball", lr, beta, eigenvalues)


def nesterov_rate(lr, beta, eigenvalues):
    """``max_i rho(T_nag(lr, beta, lambda_i))``; ``lr`` and ``beta`` broadcast together."""
    return spectral_radius("nesterov", lr, beta, eigenvalues)


# --------------------------------------------------------------------------- closed form
@dataclass(frozen=True)
class Roots:
    """The roots of ``z^2 - a z + b`` elementwise, in the form :func:`u_powers` needs."""

    oscillating: np.ndarray  # complex pair (disc < 0)
    radius: np.ndarray  # |r1|
    sign: np.ndarray  # sign(a) as +-1.0 (+1 where a = 0)
    phi: np.ndarray  # complex pair: atan2(sqrt(-disc), |a|)
    r1: np.ndarray  # real roots: the larger in magnitude
    s: np.ndarray  # real roots: sqrt(disc) / |a|
    q: np.ndarray  # real roots: r2 / r1 in [-1, 1]

    @classmethod
    def of(cls, rec: Recurrence) -> Roots:
        a, b, disc = rec.a, rec.b, rec.disc
        with np.errstate(all="ignore"):
            oscillating = disc < 0
            root = np.sqrt(np.abs(disc))
            phi = np.arctan2(root, np.abs(a))
            r1 = (a + np.copysign(root, a)) / 2
            s = np.where(a != 0, root / np.abs(a), np.inf)
            q = np.where(r1 != 0, b / np.where(r1 != 0, r1 * r1, 1.0), 0.0)
        return cls(oscillating, rec.radius, np.where(a < 0, -1.0, 1.0), phi, r1, s, q)

    def take(self, rows) -> Roots:
        return Roots(*(getattr(self, f)[rows] for f in self.__dataclass_fields__))


def u_powers(roots: Roots, t: np.ndarray) -> np.ndarray:
    """``U_t`` for steps ``t`` ``(T,)`` -> ``(T, *shape)`` real (module doc); ``U_{-1} = 0``."""
    T = np.asarray(t, dtype=np.float64).reshape((-1,) + (1,) * roots.r1.ndim)
    n = T + 1
    with np.errstate(all="ignore"):
        sign_t = np.where(np.mod(T, 2) == 1, roots.sign, 1.0)
        sin_phi = np.sin(roots.phi)
        wave = np.where(sin_phi > 0, np.sin(n * roots.phi) / sin_phi, n)
        oscillating = sign_t * roots.radius**T * wave
        near = roots.s < 1 / 3  # q > 1/2: the double root's neighbourhood
        log_q = -2 * np.arctanh(np.where(near, roots.s, 0.0))
        stable = np.where(log_q < 0, np.expm1(n * log_q) / np.expm1(log_q), n)
        direct = (1 - roots.q**n) / (1 - np.where(near, 0.0, roots.q))
        real = np.where(roots.r1 == 0, (T == 0) * 1.0, roots.r1**T * np.where(near, stable, direct))
        U = np.where(roots.oscillating, oscillating, real)
    return np.where(T < 0, 0.0, U)
