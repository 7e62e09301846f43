"""The noise floor of the linear methods per eigen-mode, derived (the noisy quadratic model).

On one eigen-mode (eigenvalue ``lambda``, ``h = lr lambda``) a linear method with noisy
gradients ``lambda w + xi``, ``Var xi = s / B``, follows

    w_{t+1} = a w_t - b w_{t-1} + eta_t,    Var eta = q = lr^2 s / B,

with ``a``, ``b`` the recurrence of its iteration matrix (:func:`.rates.recurrence`): the
noise enters where the gradient does, ``-lr xi``, for GD, heavy ball and Nesterov alike
(Nesterov's gradient is taken at the look-ahead point, which the matrix already holds).
The variance ``p = Var w`` and lag-one covariance ``r = Cov(w_t, w_{t-1})`` move by

    p' = a^2 p - 2 a b r + b^2 p_prev + q,    r' = a p - b r,

and their fixed point (the AR(2) stationary variance, the 2x2 discrete Lyapunov equation
``C = M C M^T + diag(q, 0)``) is solved here: :func:`stationary_moments`. The mode's share
of the stationary expected loss is ``lambda p / 2`` (:func:`stationary_mode_loss`); for GD

    lr s / (2 B (2 - lr lambda)).

Run ``python -m hessian_lab.symbolic.noise`` to print every method's form. The numeric
layer (:mod:`hessian_lab.noisy_theory`) evaluates the same moments; the tests check these
expressions against it and against Monte Carlo runs of the engine.
"""

from __future__ import annotations

from functools import cache

import sympy

from .rates import ITERATION_MATRICES, beta, h, lam, lr, recurrence

__all__ = [
    "s",
    "B",
    "q",
    "variance_recursion",
    "stationary_moments",
    "stationary_mode_loss",
    "mode_loss_functions",
    "printed",
]

s = sympy.Symbol("s", positive=True)  # one-example gradient-noise variance of the mode
B = sympy.Symbol("B", positive=True)  # batch size
q = sympy.Symbol("q", positive=True)  # the noise variance injected per step, lr^2 s / B
_a, _b = sympy.symbols("a b", real=True)
_p, _r, _p_prev = sympy.symbols("p r p_prev", real=True)


def variance_recursion() -> dict[str, sympy.Expr]:
    """One step of the moments of ``w_{t+1} = a w_t - b w_{t-1} + eta``: ``p'``, ``r'``.

    From ``Var(a w_t - b w_{t-1} + eta)`` and ``Cov(a w_t - b w_{t-1} + eta, w_t)``, with
    ``eta`` independent of the past.
    """
    return {
        "p": sympy.expand(_a**2 * _p - 2 * _a * _b * _r + _b**2 * _p_prev + q),
        "r": _a * _p - _b * _r,
    }


@cache
def stationary_moments() -> dict[str, sympy.Expr]:
    """The fixed point ``p_inf``, ``r_inf`` of :func:`variance_recursion` in ``a``, ``b``, ``q``."""
    step = variance_recursion()
    p_inf, r_inf = sympy.symbols("p_inf r_inf", real=True)
    equations = [
        sympy.Eq(p_inf, step["p"].subs({_p: p_inf, _p_prev: p_inf, _r: r_inf})),
        sympy.Eq(r_inf, step["r"].subs({_p: p_inf, _r: r_inf})),
    ]
    solved = sympy.solve(equations, [p_inf, r_inf], dict=True)[0]
    return {"p": sympy.factor(solved[p_inf]), "r": sympy.factor(solved[r_inf])}


@cache
def stationary_mode_loss(name: str) -> sympy.Expr:
    """``lim E[lambda w_t^2 / 2]`` for the method ``name`` (a key of ``ITERATION_MATRICES``),
    in ``lr``, ``lambda``, ``beta``, ``s``, ``B``; valid inside the stability region."""
    if name not in ITERATION_MATRICES:
        raise ValueError(f"name must be one of {', '.join(ITERATION_MATRICES)}; got {name!r}")
    rec = recurrence(name)
    p = stationary_moments()["p"].subs({_a: rec["a"], _b: rec["b"]})
    p = p.subs({h: lr * lam, q: lr**2 * s / B})
    return sympy.factor(sympy.simplify(lam * p / 2))


def mode_loss_functions() -> dict[str, object]:
    """Each method's :func:`stationary_mode_loss` as a NumPy function
    ``f(lr, lam, beta, s, B)`` (for the cross-checks against the numeric layer)."""
    return {
        name: sympy.lambdify((lr, lam, beta, s, B), stationary_mode_loss(name), "numpy")
        for name in ITERATION_MATRICES
    }


def printed() -> str:
    """The derivation's results as text (what ``python -m hessian_lab.symbolic.noise`` prints)."""
    moments = stationary_moments()
    lines = [
        "Per eigen-mode: w' = a w - b w_prev + eta, Var eta = q = lr^2 s / B",
        f"  p' = {variance_recursion()['p']}",
        f"  r' = {variance_recursion()['r']}",
        f"  p_inf = {moments['p']}",
        f"  r_inf = {moments['r']}",
        "Stationary E[f]-contribution of a mode, lambda p_inf / 2:",
    ]
    for name in ITERATION_MATRICES:
        lines.append(f"  {name}: {stationary_mode_loss(name)}")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover - a printout
    print(printed())
