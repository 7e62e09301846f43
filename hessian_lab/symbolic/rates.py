"""Contraction factors, stability bounds and optimal hyperparameters on quadratics.

On ``f(x) = 1/2 x^T H x`` every linear method acts on each eigen-component (eigenvalue
``lam`` of ``H``) separately; write ``h = lr * lam``.

- Gradient descent: ``x <- (1 - h) x``; factor ``r = 1 - lr*lam``; over ``[mu, L]`` the rate
  ``R(lr) = max(|1 - lr*mu|, |1 - lr*L|)``, stable for ``lr < lr_max = 2/L``, best at
  ``lr_opt = 2/(mu + L)`` with ``R = (kappa - 1)/(kappa + 1)``, ``kappa = L/mu``.
- Heavy ball ``x_{t+1} = x_t - lr*lam*x_t + beta (x_t - x_{t-1})`` and Nesterov
  ``y_t = x_t + beta (x_t - x_{t-1})``, ``x_{t+1} = y_t - lr*lam*y_t``: on the state
  ``(x_t, x_{t-1})`` a 2x2 iteration matrix ``T``, characteristic polynomial
  ``z^2 - a z + c`` (heavy ball ``a = 1 + beta - h``, ``c = beta``; Nesterov
  ``a = (1 + beta)(1 - h)``, ``c = beta (1 - h)``), spectral radius ``rho(T)``.
- Adam anchors, Hessian-power preconditioning, and the steady-state gains of momentum.

Everything is a sympy expression in the shared symbols below (``formulas()``). The numeric
layer evaluates them without sympy from text and terms written into :mod:`.quantities` by
``python -m hessian_lab.symbolic.rates``: the named quantities, and each iteration matrix's
recurrence (:data:`ITERATION_MATRICES` -> :func:`recurrence`), from which
:mod:`hessian_lab.recurrence` computes ``gd_rate``, ``heavy_ball_rate``, ``nesterov_rate``
(re-exported here) and :mod:`hessian_lab.theory` its closed-form predictions. The optima
are *derived* here (by ``solve``), and the tests check them against the closed forms in the
literature and against numeric runs.

References: Polyak (1964) for the heavy ball; Lessard, Recht & Packard (2016) for
Nesterov's quadratic optimum ``lr = 4/(3L + mu)``.
"""

from __future__ import annotations

from functools import cache, lru_cache

import sympy

# numeric rates: one implementation, in the numeric layer, from the generated recurrences
from ..recurrence import gd_rate, heavy_ball_rate, nesterov_rate

__all__ = [
    "lr",
    "beta",
    "lam",
    "mu",
    "L",
    "kappa",
    "k",
    "beta1",
    "beta2",
    "eps",
    "z",
    "g",
    "QUANTITY_NAMES",
    "gd_factor",
    "gd_rate_expr",
    "gd_optimum",
    "MomentumMethod",
    "heavy_ball",
    "nesterov",
    "heavy_ball_optimum",
    "nesterov_optimum",
    "nesterov_textbook",
    "adam_step",
    "adam_sign_descent_step",
    "adam_frozen_stability_bound",
    "hessian_power_factor",
    "hessian_power_kappa",
    "momentum_gains",
    "formulas",
    "quantity_texts",
    "simplest",
    "printed_texts",
    "printed_formulas",
    "gd_rate",
    "heavy_ball_rate",
    "nesterov_rate",
    "h",
    "ITERATION_MATRICES",
    "recurrence",
    "recurrence_terms",
]

# Shared symbols. Step sizes, eigenvalues and the condition number are positive;
# momentum coefficients are positive (the formulas hold on [0, 1) by continuity).
lr = sympy.Symbol("lr", positive=True)
beta = sympy.Symbol("beta", positive=True)
lam = sympy.Symbol("lambda", positive=True)
mu = sympy.Symbol("mu", positive=True)
L = sympy.Symbol("L", positive=True)
kappa = sympy.Symbol("kappa", positive=True)
k = sympy.Symbol("k", real=True)
beta1 = sympy.Symbol("beta1", positive=True)
beta2 = sympy.Symbol("beta2", positive=True)
eps = sympy.Symbol("eps", positive=True)
z = sympy.Symbol("z")  # eigenvalue of an iteration matrix (complex in general)
g = sympy.Symbol("g", real=True)  # a gradient component
h = sympy.Symbol("h", real=True)  # lr * lam, the step on one eigen-component

QUANTITY_NAMES = (
    "lambda_min",
    "lambda_max",
    "kappa",
    "lr_max",
    "lr_opt",
    "rate_opt",
    "lr_hb_opt",
    "beta_hb_opt",
    "rate_hb_opt",
    "lr_nag_opt",
    "beta_nag_opt",
    "rate_nag_opt",
    "lr_nag_textbook",
    "beta_nag_textbook",
    "rate_nag_textbook",
)


def _in_kappa(expr: sympy.Expr) -> sympy.Expr:
    """Rewrite an expression in ``mu, L`` through ``kappa = L/mu`` (where it depends on it)."""
    return sympy.simplify(expr.subs(L, kappa * mu))


# --------------------------------------------------------------------------- GD
gd_factor = 1 - lr * lam
"""Per-eigencomponent contraction of gradient descent: ``x_{t+1} = (1 - lr*lam) x_t``."""

gd_rate_expr = sympy.Max(sympy.Abs(1 - lr * mu), sympy.Abs(1 - lr * L))
"""``R(lr) = max_{lam in {mu, L}} |1 - lr*lam|`` (|r| is convex in lam: the ends decide)."""


@lru_cache(maxsize=1)
def gd_optimum() -> dict[str, sympy.Expr]:
    """``lr_max`` (|1 - lr L| = 1), ``lr_opt`` (1 - lr mu = -(1 - lr L)), ``rate_opt``."""
    (lr_max,) = sympy.solve(sympy.Eq(1 - lr * L, -1), lr)
    (lr_opt,) = sympy.solve(sympy.Eq(1 - lr * mu, -(1 - lr * L)), lr)
    rate_opt = _in_kappa((1 - lr * mu).subs(lr, lr_opt))
    return {"lr_max": lr_max, "lr_opt": lr_opt, "rate_opt": rate_opt}


# --------------------------------------------------------------------------- momentum
class MomentumMethod:
    """A two-step linear method on one eigen-component, from its iteration matrix.

    ``matrix`` maps ``(x_t, x_{t-1})`` to ``(x_{t+1}, x_t)``; its characteristic
    polynomial is ``z^2 - trace z + det``.
    """

    def __init__(self, name: str, matrix: sympy.Matrix) -> None:
        self.name = name
        self.matrix = matrix

    @property
    def trace(self) -> sympy.Expr:
        return sympy.expand(self.matrix.trace())

    @property
    def det(self) -> sympy.Expr:
        return sympy.expand(self.matrix.det())

    @property
    def characteristic_polynomial(self) -> sympy.Expr:
        return sympy.expand((z * sympy.eye(2) - self.matrix).det())

    @property
    def discriminant(self) -> sympy.Expr:
        """``trace^2 - 4 det``: negative means complex roots of modulus ``sqrt(det)``."""
        return sympy.expand(self.trace**2 - 4 * self.det)

    @property
    def eigenvalues(self) -> tuple[sympy.Expr, sympy.Expr]:
        root = sympy.sqrt(self.discriminant)
        return ((self.trace + root) / 2, (self.trace - root) / 2)

    @property
    def complex_modulus(self) -> sympy.Expr:
        """``|z|`` when the roots are complex: ``|z|^2 = z * conj(z) = det``."""
        return sympy.sqrt(self.det)

    @property
    def spectral_radius(self) -> sympy.Piecewise:
        """``rho(lr, beta, lam)``: ``(|a| + sqrt(a^2 - 4c))/2`` for real roots, else ``sqrt(c)``."""
        a, c, disc = self.trace, self.det, self.discriminant
        return sympy.Piecewise(
            ((sympy.Abs(a) + sympy.sqrt(disc)) / 2, disc >= 0),
            (sympy.sqrt(c), True),
        )

    @property
    def stability_conditions(self) -> tuple[sympy.Expr, sympy.Expr]:
        """Jury's test for ``z^2 - a z + c``: both roots inside the unit disc iff
        ``|c| < 1`` and ``|a| < 1 + c``."""
        a, c = self.trace, self.det
        return (sympy.Abs(c) < 1, sympy.Abs(a) < 1 + c)


heavy_ball = MomentumMethod("heavy_ball", sympy.Matrix([[1 + beta - lr * lam, -beta], [1, 0]]))
nesterov = MomentumMethod(
    "nesterov", sympy.Matrix([[(1 + beta) * (1 - lr * lam), -beta * (1 - lr * lam)], [1, 0]])
)

ITERATION_MATRICES: dict[str, sympy.Matrix] = {
    "gd": sympy.Matrix([[gd_factor]]),
    "heavy_ball": heavy_ball.matrix,
    "nesterov": nesterov.matrix,
}
"""Each linear method's iteration matrix on one eigen-component, by the name the optimizer
catalog gives it: the single source of its recurrence (:func:`recurrence`), generated into
:mod:`.quantities` for the numeric layer."""


@cache
def recurrence(name: str) -> dict[str, sympy.Expr]:
    """The two-term recurrence ``w_{t+1} = a w_t - b w_{t-1}`` of a method, in ``beta``, ``h``.

    The characteristic polynomial of the iteration matrix ``M`` (1x1 or 2x2), padded to
    degree 2, is ``z^2 - a z + b``: every component of ``M^t`` follows the recurrence. Also
    ``disc = a^2 - 4 b``. The matrix depends on ``lr`` and ``lam`` only through ``h = lr lam``.
    """
    M = ITERATION_MATRICES[name]
    n = M.shape[0]
    poly = sympy.expand((z * sympy.eye(n) - M).det() * z ** (2 - n))
    poly = sympy.Poly(sympy.expand(poly.subs(lr, h / lam)), z)
    if poly.degree() != 2 or lam in poly.free_symbols:
        raise ValueError(f"{name}: not a two-term recurrence in h = lr*lambda")
    a, b = -poly.coeff_monomial(z), poly.coeff_monomial(1)
    return {"a": a, "b": b, "disc": sympy.expand(a**2 - 4 * b)}


Terms = tuple[tuple[int, int, int], ...]


def _terms(expr: sympy.Expr) -> Terms:
    """A polynomial in ``beta``, ``h`` as integer terms ``(c, i, j)`` = ``c beta^i h^j``."""
    if expr == 0:
        return ()
    return tuple(sorted((int(c), i, j) for (i, j), c in sympy.Poly(expr, beta, h).terms()))


def recurrence_terms() -> dict[str, dict[str, tuple[Terms, ...]]]:
    """``a`` and ``b`` of every matrix as a product of factors, each a sum of terms.

    Factored over the integers (``sympy.factor_list``; the constant is a factor of its own)
    so that the numeric layer evaluates every factor to an ulp, in double-double only near
    the factor's zeros (where its terms cancel).
    """
    out = {}
    for name in ITERATION_MATRICES:
        parts = {}
        for key in ("a", "b"):
            expr = recurrence(name)[key]
            if expr == 0:
                parts[key] = ((),)
                continue
            constant, factors = sympy.factor_list(expr, beta, h)
            product = [] if constant == 1 else [_terms(constant)]
            for factor, power in factors:
                product += [_terms(factor)] * power
            parts[key] = tuple(product)
        out[name] = parts
    return out


heavy_ball_stability = 2 + 2 * beta
"""Heavy ball is stable iff ``0 < lr*lam < 2 + 2 beta`` (for ``0 <= beta < 1``)."""

nesterov_stability = (2 + 2 * beta) / (1 + 2 * beta)
"""Nesterov is stable iff ``0 < lr*lam < (2 + 2 beta)/(1 + 2 beta)`` (for ``0 <= beta < 1``):
Jury's ``|a| < 1 + c`` with ``1 - h < 0`` gives ``(h - 1)(1 + 2 beta) < 1``."""


@lru_cache(maxsize=1)
def heavy_ball_critical_beta() -> sympy.Expr:
    """The critically damped beta (double root) for ``h = lr*lam < 1``: ``(1 - sqrt(h))^2``."""
    s = sympy.Symbol("s", positive=True)  # s = sqrt(beta)
    # discriminant (1 + s^2 - h)^2 - 4 s^2 = 0  <=>  1 + s^2 - h = 2 s  (branch s < 1)
    roots = sympy.solve(sympy.Eq(1 + s**2 - lr * lam, 2 * s), s)
    small = [r for r in roots if sympy.simplify(r.subs({lr: 1, lam: sympy.Rational(1, 4)})) < 1]
    return sympy.simplify(small[0] ** 2)


@lru_cache(maxsize=1)
def heavy_ball_optimum() -> dict[str, sympy.Expr]:
    """Polyak's tuning: ``mu`` and ``L`` both critically damped with opposite-sign roots.

    With ``s = sqrt(lr)``: ``1 - s sqrt(mu) = s sqrt(L) - 1`` gives
    ``lr = 4/(sqrt(L) + sqrt(mu))^2``, ``beta = (1 - sqrt(lr mu))^2
    = ((sqrt(kappa) - 1)/(sqrt(kappa) + 1))^2`` and the rate ``sqrt(beta)``.
    """
    s = sympy.Symbol("s", positive=True)
    (s_opt,) = sympy.solve(sympy.Eq(1 - s * sympy.sqrt(mu), s * sympy.sqrt(L) - 1), s)
    lr_opt = sympy.simplify(s_opt**2)
    beta_opt = _in_kappa((1 - s_opt * sympy.sqrt(mu)) ** 2)
    rate = _in_kappa(1 - s_opt * sympy.sqrt(mu))  # = sqrt(beta_opt), non-negative
    return {"lr_hb_opt": lr_opt, "beta_hb_opt": beta_opt, "rate_hb_opt": rate}


@lru_cache(maxsize=1)
def nesterov_optimum() -> dict[str, sympy.Expr]:
    """Nesterov's best tuning on quadratics (Lessard, Recht & Packard 2016, Table 1).

    ``lr = 4/(3L + mu)``, ``beta = (sqrt(3 kappa + 1) - 2)/(sqrt(3 kappa + 1) + 2)``; the
    smallest eigenvalue is then critically damped, with the double root
    ``a/2 = (1 + beta)(1 - lr mu)/2 = 1 - 2/sqrt(3 kappa + 1)``, the rate.
    """
    q = sympy.sqrt(3 * kappa + 1)
    lr_opt = 4 / (3 * L + mu)
    beta_opt = (q - 2) / (q + 2)
    double_root = ((1 + beta) * (1 - lr * mu) / 2).subs({beta: beta_opt, lr: lr_opt})
    rate = sympy.simplify(_in_kappa(double_root))
    return {"lr_nag_opt": lr_opt, "beta_nag_opt": beta_opt, "rate_nag_opt": rate}


@lru_cache(maxsize=1)
def nesterov_textbook() -> dict[str, sympy.Expr]:
    """The textbook tuning ``lr = 1/L``, ``beta = (sqrt(kappa) - 1)/(sqrt(kappa) + 1)``.

    At ``lam = mu`` the discriminant vanishes (a double root at ``1 - 1/sqrt(kappa)``); for
    larger ``lam`` the roots are complex with modulus ``sqrt(beta (1 - h))``, smaller. So the
    spectral radius over ``[mu, L]`` is the double root ``a/2`` at ``mu``.
    """
    lr_tb = 1 / L
    beta_tb = (sympy.sqrt(kappa) - 1) / (sympy.sqrt(kappa) + 1)
    at_mu = {beta: beta_tb, lr: lr_tb, lam: mu}
    rate = sympy.simplify(_in_kappa((nesterov.trace / 2).subs(at_mu)))
    return {"lr_nag_textbook": lr_tb, "beta_nag_textbook": beta_tb, "rate_nag_textbook": rate}


# --------------------------------------------------------------------------- Adam
def adam_step(grad=g, m_prev=0, v_prev=0, b1=beta1, b2=beta2, eps_=eps, t=1) -> sympy.Expr:
    """One Adam step ``-lr m_hat / (sqrt(v_hat) + eps)`` with bias correction at step ``t``:
    ``m = b1 m_prev + (1 - b1) g``, ``v = b2 v_prev + (1 - b2) g^2``,
    ``m_hat = m/(1 - b1^t)``, ``v_hat = v/(1 - b2^t)``."""
    m = b1 * m_prev + (1 - b1) * grad
    v = b2 * v_prev + (1 - b2) * grad**2
    m_hat = m / (1 - b1**t)
    v_hat = v / (1 - b2**t)
    return -lr * m_hat / (sympy.sqrt(v_hat) + eps_)


@lru_cache(maxsize=1)
def adam_sign_descent_step() -> sympy.Expr:
    """``beta1 = beta2 = eps = 0``: the step is ``-lr g/|g| = -lr sign(g)`` for any history
    and any ``g != 0`` (at ``g = 0`` Adam's step is 0/0)."""
    m_prev, v_prev = sympy.symbols("m_prev v_prev", real=True)
    g_nonzero = sympy.Symbol("g", real=True, nonzero=True)
    t = sympy.Symbol("t", positive=True)
    step = sympy.simplify(adam_step(g_nonzero, m_prev, v_prev, 0, 0, 0, t=t))
    step = step.subs(g_nonzero / sympy.Abs(g_nonzero), sympy.sign(g_nonzero))
    return step.subs(g_nonzero, g)


@lru_cache(maxsize=1)
def adam_frozen_stability_bound() -> sympy.Expr:
    """Largest stable ``lambda_max(P^{-1} H)`` for Adam with its preconditioner ``P`` frozen.

    ``m_t = beta1 m_{t-1} + (1 - beta1) H x_t``, ``x_{t+1} = x_t - lr P^{-1} m_t`` is, per
    eigenvalue ``lam`` of ``P^{-1} H``, the heavy ball with step ``lr (1 - beta1)`` and
    momentum ``beta1``; its bound ``lr (1 - beta1) lam < 2 + 2 beta1`` gives
    ``lam < (2 + 2 beta1)/(lr (1 - beta1))``.
    """
    (bound,) = sympy.solve(
        sympy.Eq(lr * (1 - beta1) * lam, heavy_ball_stability.subs(beta, beta1)), lam
    )
    return sympy.simplify(bound)


# --------------------------------------------------------------------------- preconditioning
hessian_power_factor = 1 - lr * lam ** (1 - k)
"""Diagonal preconditioning by ``|H_ii|^k`` on an axis-aligned quadratic:
``x_i <- x_i - lr lam_i x_i / lam_i^k``, factor ``r_i = 1 - lr lam_i^(1-k)``."""

hessian_power_kappa = kappa ** sympy.Abs(1 - k)
"""Condition number of the preconditioned spectrum ``lam^(1-k)`` on ``[mu, L]``:
``kappa^(1-k)`` for ``k <= 1`` (``kappa^(k-1)`` beyond, where the order flips)."""


# --------------------------------------------------------------------------- momentum gains
@lru_cache(maxsize=1)
def momentum_gains() -> dict[str, sympy.Expr]:
    """Steady state of ``v <- beta v + g_t``: ``|v| / |g|`` for a constant gradient
    (fixed point ``v = beta v + g``: ``1/(1 - beta)``) and an alternating one
    (``v_t = (-1)^t c``: ``-c = beta c + g``, ``|c|/g = 1/(1 + beta)``)."""
    v = sympy.Symbol("v")
    (constant,) = sympy.solve(sympy.Eq(v, beta * v + g), v)
    (alternating,) = sympy.solve(sympy.Eq(-v, beta * v + g), v)
    return {
        "gain_constant": sympy.simplify(constant / g),
        "gain_alternating": sympy.simplify(sympy.Abs(alternating / g)),
    }


# --------------------------------------------------------------------------- collected
@lru_cache(maxsize=1)
def formulas() -> dict[str, sympy.Expr]:
    """The named theory quantities as sympy expressions in ``mu``, ``L``, ``kappa``."""
    found = {"lambda_min": mu, "lambda_max": L, "kappa": L / mu}
    for part in (gd_optimum, heavy_ball_optimum, nesterov_optimum, nesterov_textbook):
        found.update(part())
    return {name: found[name] for name in QUANTITY_NAMES}


@lru_cache(maxsize=1)
def quantity_texts() -> dict[str, str]:
    """:func:`formulas` printed in ``mu`` and ``L`` (``kappa`` written out as ``L/mu``): the
    text :mod:`hessian_lab.formulas` ships and evaluates without sympy."""
    return {name: str(sympy.sympify(e).subs(kappa, L / mu)) for name, e in formulas().items()}


def _in_radical(expr: sympy.Expr) -> list[sympy.Expr]:
    """Forms of ``expr`` found by writing it in ``s = sqrt(u)`` for each root ``sqrt(u)``
    of ``kappa`` it holds (``3 kappa + 1 = s^2``), simplifying there and putting ``s`` back."""
    found = []
    for root in expr.atoms(sympy.Pow):
        if root.exp != sympy.Rational(1, 2) or kappa not in root.free_symbols:
            continue
        s = sympy.Symbol("s", positive=True)
        solutions = sympy.solve(sympy.Eq(root.base, s**2), kappa)
        if len(solutions) != 1:
            continue
        inner = sympy.simplify(expr.subs(kappa, solutions[0]))
        forms = [inner, sympy.factor(inner)]
        split = sympy.apart(inner, s)  # c + k/s^n: kept only with bare powers below
        if not any(
            isinstance(f.base if isinstance(f, sympy.Pow) else f, sympy.Add)
            for term in sympy.Add.make_args(split)
            for f in sympy.Mul.make_args(term)
        ):
            forms.append(split)
        found += [form.subs(s, root) for form in forms]
    return found


def _squared(expr: sympy.Expr) -> list[sympy.Expr]:
    """``p^2 / q^2`` written ``(p/q)^2`` (left unevaluated, as it is printed)."""
    factored = sympy.factor(expr)
    powers = sympy.Mul.make_args(factored)
    if len(powers) < 2 or not all(isinstance(p, sympy.Pow) and abs(p.exp) == 2 for p in powers):
        return []
    base = sympy.factor(sympy.Mul(*[p.base ** sympy.sign(p.exp) for p in powers]))
    return [sympy.Pow(base, 2, evaluate=False)]


def simplest(expr: sympy.Expr) -> sympy.Expr:
    """The shortest printed form of ``expr`` among its simplified, factored, root-variable
    and squared forms (all equal to ``expr``; the tests check it)."""
    candidates = [expr, sympy.simplify(expr), sympy.factor(expr)]
    for form in list(candidates):
        candidates += _in_radical(form)
    for form in list(candidates):
        candidates += _squared(form)
    return min(candidates, key=lambda form: len(str(form)))


PRINT_SYMBOLS = {"mu": mu, "L": L, "kappa": kappa}


def printed_texts() -> dict[str, str]:
    """:func:`formulas` in their :func:`simplest` forms, as text (shipped in
    :mod:`hessian_lab.formulas`)."""
    return {name: str(simplest(expr)) for name, expr in formulas().items()}


def printed_formulas() -> dict[str, sympy.Expr]:
    """The shipped :func:`printed_texts` as sympy expressions that print as shipped (``str``,
    ``sympy.pretty``, ``sympy.latex``); read from :mod:`hessian_lab.formulas`, no derivation run."""
    from ..formulas import PRINTED

    out = {}
    for name, text in PRINTED.items():
        expr = sympy.sympify(text, locals=dict(PRINT_SYMBOLS))
        out[name] = next((e for e in [expr, *_squared(expr)] if str(e) == text), expr)
    return out


GENERATED_BEGIN = "# BEGIN GENERATED by `python -m hessian_lab.symbolic.rates`: do not edit\n"
GENERATED_END = "# END GENERATED\n"
RECURRENCES_HEAD = (
    "\n# Each iteration matrix's recurrence w_{t+1} = a w_t - b w_{t-1}: a and b as products\n"
    "# of factors, each factor a sum of terms (c, i, j) = c * beta**i * h**j, h = lr * lambda.\n"
    "RECURRENCES = {\n"
)


def _terms_line(key: str, factors: tuple) -> str:
    """``"key": (factors...),`` on one line, or one factor per line where that is too long."""
    line = f'        "{key}": {factors!r},\n'
    if len(line) <= 100:
        return line
    inner = "".join(f"            {f!r},\n" for f in factors)
    return f'        "{key}": (\n' + inner + "        ),\n"


def write_quantities_module(path=None) -> bool:
    """Rewrite the generated block of ``hessian_lab/formulas.py`` (or ``path``) from a fresh
    derivation (the numeric code below both layers: see :mod:`hessian_lab.formulas`).

    Returns True when the file changed.
    """
    import json
    from pathlib import Path

    from ..files import atomic_write

    path = Path(path) if path is not None else Path(__file__).parents[1] / "formulas.py"
    text = path.read_text()
    head, rest = text.split(GENERATED_BEGIN)
    _, tail = rest.split(GENERATED_END)
    entries = "".join(
        f"    {json.dumps(name)}: {json.dumps(formula)},\n"
        for name, formula in quantity_texts().items()
    )
    recurrences = "".join(
        f"    {json.dumps(name)}: {{\n"
        + "".join(_terms_line(key, terms) for key, terms in parts.items())
        + "    },\n"
        for name, parts in recurrence_terms().items()
    )
    printed = "".join(
        f"    {json.dumps(name)}: {json.dumps(text)},\n" for name, text in printed_texts().items()
    )
    block = (
        "FORMULAS = {\n"
        + entries
        + "}\n\n# The same, in kappa and in their simplest forms, for display.\nPRINTED = {\n"
        + printed
        + "}\n"
        + RECURRENCES_HEAD
        + recurrences
        + "}\n"
    )
    new = head + GENERATED_BEGIN + block + GENERATED_END + tail
    if new == text:
        return False
    atomic_write(path, lambda handle: handle.write(new), mode="w")
    return True


if __name__ == "__main__":
    changed = write_quantities_module()
    print("hessian_lab/formulas.py " + ("rewritten" if changed else "already up to date"))
