"""Hypothesis strategies for optimizer tests: spectra, quadratics, starts, hyperparameters.

Valid inputs are built directly, never filtered: a dimension, then ``lambda_min``, then
``kappa``, then eigenvalues between; a rotation from a drawn seed (Haar); a center and
starts whose error has a component of at least ``0.1`` along every eigenvector.

    from hypothesis import given
    from hessian_lab.testing import strategies as hs

    @given(hs.cases(rotated=True))
    def test_my_optimizer_converges(case):
        result = hl.run(case.problem(), MyOpt(lr=0.1), case.x0)
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
from hypothesis import strategies as st

from ..problems.quadratic import Quadratic, haar_orthogonal

__all__ = ["Case", "spectra", "quadratics", "starts", "cases", "hyperparameters"]


def _fmt(values) -> str:
    return "[" + ", ".join(f"{float(v):.6g}" for v in np.ravel(values)) + "]"


@dataclass(frozen=True)
class Case:
    """A quadratic ``1/2 (x-c)^T Q diag(lambda) Q^T (x-c)`` and its starts ``x0`` ``(k, d)``.

    ``rotation_seed`` None means axis-aligned (Q = I); otherwise Q is the Haar matrix of
    that seed. ``x0 = c + (Q e0^T)^T`` for the drawn eigenbasis errors ``e0`` ``(k, d)``.
    """

    eigenvalues: np.ndarray
    center: np.ndarray
    e0: np.ndarray
    rotation_seed: int | None = None

    @property
    def dim(self) -> int:
        return int(self.eigenvalues.size)

    @cached_property
    def Q(self) -> np.ndarray:
        if self.rotation_seed is None:
            return np.eye(self.dim)
        return haar_orthogonal(self.dim, self.rotation_seed)

    @cached_property
    def x0(self) -> np.ndarray:
        """The starts ``(k, d)`` (read-only: computed once)."""
        x0 = self.center[None, :] + self.e0 @ self.Q.T
        x0.setflags(write=False)
        return x0

    @property
    def scale(self) -> float:
        """``1 + max|c| + max|x0|``: the size rounding errors are measured against."""
        return 1.0 + float(np.abs(self.center).max()) + float(np.abs(self.x0).max())

    def problem(self) -> Quadratic:
        rotation = "none" if self.rotation_seed is None else self.Q
        return Quadratic(self.eigenvalues, rotation=rotation, center=self.center)

    def with_center(self, center) -> Case:
        return replace(self, center=np.asarray(center, dtype=np.float64))

    def __repr__(self) -> str:
        rotation = "none" if self.rotation_seed is None else f"haar(seed={self.rotation_seed})"
        starts = "; ".join(_fmt(x) for x in self.x0)
        return (
            f"quadratic eigenvalues={_fmt(self.eigenvalues)} rotation={rotation} "
            f"center={_fmt(self.center)} x0={starts}"
        )


def spectra(min_dim: int = 1, max_dim: int = 4, lambda_min=(0.1, 10.0), max_kappa=100.0):
    """Eigenvalues ``(d,)`` with both ends present: ``lambda_min`` and ``kappa * lambda_min``.

    ``min_dim <= d <= max_dim`` (``min_dim >= 1``), ``lambda_min`` a range ``(low, high)``
    with ``0 < low <= high``, ``max_kappa >= 1``; checked here, before anything is drawn.
    """
    _require(
        _is_int(min_dim) and _is_int(max_dim) and 1 <= min_dim <= max_dim,
        f"spectra: need integers 1 <= min_dim <= max_dim; got min_dim={min_dim!r}, "
        f"max_dim={max_dim!r}",
    )
    low, high = _range("spectra: lambda_min", lambda_min, positive=True)
    _require(
        _is_real(max_kappa) and 1 <= max_kappa < np.inf,
        f"spectra: max_kappa must be a finite number >= 1; got {max_kappa!r}",
    )
    return _spectra(min_dim, max_dim, (low, high), float(max_kappa))


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _is_real(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


def _range(name: str, spec, positive: bool = False) -> tuple[float, float]:
    """``(low, high)`` checked: two finite numbers, ``low <= high`` (and ``low > 0``)."""
    ok = isinstance(spec, (tuple, list)) and len(spec) == 2 and all(map(_is_real, spec))
    ok = ok and all(np.isfinite(spec)) and spec[0] <= spec[1] and (not positive or spec[0] > 0)
    floor = "0 < low" if positive else "low"
    _require(ok, f"{name} must be (low, high) with finite {floor} <= high; got {spec!r}")
    return float(spec[0]), float(spec[1])


@st.composite
def _spectra(draw, min_dim, max_dim, lambda_min, max_kappa):
    d = draw(st.integers(min_dim, max_dim))
    low = draw(st.floats(*lambda_min))
    kappa = draw(st.floats(1.0, max_kappa))
    inner = draw(st.lists(st.floats(0.0, 1.0), min_size=d, max_size=d))
    lam = low * (1.0 + (kappa - 1.0) * np.array(inner))
    lam[0] = low
    if d > 1:
        lam[-1] = low * kappa
    return lam


@st.composite
def quadratics(draw, rotated: bool = True, center_bound: float = 2.0, **spectrum_args):
    """A :class:`Case` without starts (``e0`` empty): a spectrum, a rotation, a center."""
    lam = draw(spectra(**spectrum_args))
    seed = draw(st.integers(0, 2**16)) if rotated else None
    bounded = st.floats(-center_bound, center_bound)
    center = np.array(draw(st.lists(bounded, min_size=lam.size, max_size=lam.size)))
    return Case(lam, center, np.zeros((0, lam.size)), seed)


@st.composite
def starts(draw, dim: int, count: int = 1, low: float = 0.1, high: float = 1.0):
    """Eigenbasis errors ``e0`` ``(count, dim)``: every component's size in ``[low, high]``."""
    size = draw(st.lists(st.floats(low, high), min_size=dim * count, max_size=dim * count))
    sign = draw(st.lists(st.sampled_from([1.0, -1.0]), min_size=dim * count, max_size=dim * count))
    return (np.array(size) * np.array(sign)).reshape(count, dim)


@st.composite
def cases(draw, rotated: bool = True, count: int = 1, **quadratic_args):
    """A :class:`Case` with ``count`` starts (see :func:`quadratics`, :func:`starts`)."""
    case = draw(quadratics(rotated=rotated, **quadratic_args))
    return replace(case, e0=draw(starts(case.dim, count)))


def hyperparameters(**ranges):
    """A dict of floats: ``name=(low, high)`` uniform, ``name=(low, high, "log")`` log-uniform.

    >>> from hypothesis import find
    >>> sorted(find(hyperparameters(lr=(1e-3, 1e-1, "log"), beta=(0.0, 0.9)), lambda h: True))
    ['beta', 'lr']
    """

    def one(name, spec):
        log = isinstance(spec, (tuple, list)) and len(spec) == 3 and spec[2] == "log"
        if not log and isinstance(spec, (tuple, list)) and len(spec) == 3:
            raise ValueError(
                f"hyperparameters: {name}'s third entry may only be 'log'; got {spec[2]!r}"
            )
        low, high = _range(f"hyperparameters: {name}", spec[:2] if log else spec, positive=log)
        if log:
            return st.floats(np.log10(low), np.log10(high)).map(lambda e: float(10.0**e))
        return st.floats(low, high)

    return st.fixed_dictionaries({name: one(name, spec) for name, spec in ranges.items()})
