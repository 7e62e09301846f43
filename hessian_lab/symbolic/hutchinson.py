"""Expectation and variance of Hutchinson's estimators, derived and numeric.

A probe ``z`` has independent entries with ``E z_i = 0`` and ``E z_i^2 = 1``:
Rademacher (``z_i = +-1``, so ``z_i^2 = 1``, all even moments 1) or Gaussian (even moments
``E z^(2p) = (2p - 1)!!``: ``E z^4 = 3``). For a symmetric ``H``:

- diagonal estimator ``D = z * (H z)`` (elementwise): ``E D = diag(H)``;
  ``Var D_i = sum_{j != i} H_ij^2`` (Rademacher) or ``H_ii^2 + sum_j H_ij^2`` (Gaussian);
- trace estimator ``T = z^T H z``: ``E T = tr H``; ``Var T = 2 sum_{i != j} H_ij^2``
  (Rademacher) or ``2 ||H||_F^2`` (Gaussian);
- ``m`` independent probes averaged: the variance divided by ``m``;
- AdaHessian's second moment (Rademacher probes): ``E D_i^2 = sum_j H_ij^2 = (H^2)_ii``,
  so ``sqrt(E D_i^2)`` is the row 2-norm of ``H``, equal to ``|H_ii|`` only
  when row ``i`` is diagonal.

The symbolic functions expand a polynomial in the probe entries and replace every monomial
by its moment (independence: ``E prod z_i^p_i = prod E z_i^p_i``). The estimators
themselves and these closed forms as NumPy functions live in :mod:`hessian_lab.hutchinson`.
"""

from __future__ import annotations

import sympy

__all__ = [
    "PROBES",
    "symmetric_matrix",
    "probe_symbols",
    "moment",
    "expectation",
    "derive_diagonal_estimator",
    "derive_trace_estimator",
    "diagonal_variance_formula",
    "trace_variance_formula",
    "second_moment_formula",
]

PROBES = ("rademacher", "gaussian")


def _check_probe(probe: str) -> None:
    if probe not in PROBES:
        raise ValueError(f"probe must be one of {', '.join(PROBES)}; got {probe!r}")


# --------------------------------------------------------------------------- symbolic
def symmetric_matrix(n: int, name: str = "H") -> sympy.Matrix:
    """A symbolic symmetric ``n x n`` matrix with real entries ``H_ij = H_ji`` (i <= j)."""
    entry = {
        (i, j): sympy.Symbol(f"{name}_{i + 1}{j + 1}", real=True)
        for i in range(n)
        for j in range(i, n)
    }
    return sympy.Matrix(n, n, lambda i, j: entry[(min(i, j), max(i, j))])


def probe_symbols(n: int, n_probes: int = 1) -> list[list[sympy.Symbol]]:
    """``n_probes`` independent probes of ``n`` real symbols each."""
    return [
        [sympy.Symbol(f"z{p + 1}_{i + 1}", real=True) for i in range(n)] for p in range(n_probes)
    ]


def moment(power: int, probe: str) -> int:
    """``E z^power`` of one probe entry: odd powers 0; even ones 1 (Rademacher) or
    ``(power - 1)!!`` (Gaussian)."""
    _check_probe(probe)
    if power % 2:
        return 0
    if probe == "rademacher":
        return 1
    return int(sympy.factorial2(power - 1)) if power else 1


def expectation(polynomial: sympy.Expr, zs: list[sympy.Symbol], probe: str) -> sympy.Expr:
    """``E[polynomial]`` over independent probe entries ``zs``, monomial by monomial."""
    poly = sympy.Poly(sympy.expand(polynomial), *zs)
    total = sympy.S.Zero
    for powers, coefficient in poly.terms():
        factor = 1
        for power in powers:
            factor *= moment(power, probe)
            if factor == 0:
                break
        total += coefficient * factor
    return sympy.expand(total)


def derive_diagonal_estimator(
    H: sympy.Matrix, probe: str = "rademacher", n_probes: int = 1
) -> dict[str, sympy.Matrix]:
    """Mean, variance and second moment of ``D = (1/m) sum_p z_p * (H z_p)``, per entry.

    Returns ``{"mean": (n, 1), "variance": (n, 1), "second_moment": (n, 1)}``.
    """
    n = H.rows
    probes = probe_symbols(n, n_probes)
    zs = [zi for zp in probes for zi in zp]
    estimate = sum(
        (sympy.Matrix(zp).multiply_elementwise(H * sympy.Matrix(zp)) for zp in probes),
        sympy.zeros(n, 1),
    ) / sympy.Integer(n_probes)
    mean = estimate.applyfunc(lambda e: expectation(e, zs, probe))
    second = estimate.applyfunc(lambda e: expectation(e**2, zs, probe))
    variance = (second - mean.applyfunc(lambda e: e**2)).applyfunc(sympy.expand)
    return {"mean": mean, "variance": variance, "second_moment": second}


def derive_trace_estimator(
    H: sympy.Matrix, probe: str = "rademacher", n_probes: int = 1
) -> dict[str, sympy.Expr]:
    """Mean and variance of ``T = (1/m) sum_p z_p^T H z_p``."""
    probes = probe_symbols(H.rows, n_probes)
    zs = [zi for zp in probes for zi in zp]
    estimate = sum(
        ((sympy.Matrix(zp).T * H * sympy.Matrix(zp))[0, 0] for zp in probes), sympy.S.Zero
    ) / sympy.Integer(n_probes)
    mean = expectation(estimate, zs, probe)
    variance = sympy.expand(expectation(estimate**2, zs, probe) - mean**2)
    return {"mean": mean, "variance": variance}


def diagonal_variance_formula(
    H: sympy.Matrix, probe: str = "rademacher", n_probes: int = 1
) -> sympy.Matrix:
    """Closed form ``Var D_i``: ``sum_{j!=i} H_ij^2`` or ``H_ii^2 + sum_j H_ij^2``, over m."""
    _check_probe(probe)
    n = H.rows
    off = [sum(H[i, j] ** 2 for j in range(n) if j != i) for i in range(n)]
    extra = [2 * H[i, i] ** 2 if probe == "gaussian" else 0 for i in range(n)]
    return sympy.Matrix([(o + e) / n_probes for o, e in zip(off, extra, strict=True)])


def trace_variance_formula(
    H: sympy.Matrix, probe: str = "rademacher", n_probes: int = 1
) -> sympy.Expr:
    """Closed form ``Var T``: ``2 sum_{i!=j} H_ij^2`` or ``2 ||H||_F^2``, over m."""
    _check_probe(probe)
    n = H.rows
    pairs = [(i, j) for i in range(n) for j in range(n) if probe == "gaussian" or i != j]
    return 2 * sum(H[i, j] ** 2 for i, j in pairs) / n_probes


def second_moment_formula(H: sympy.Matrix) -> sympy.Matrix:
    """AdaHessian's denominator for Rademacher probes: ``E D_i^2 = sum_j H_ij^2 = (H^2)_ii``."""
    return sympy.Matrix([(H * H)[i, i] for i in range(H.rows)])
