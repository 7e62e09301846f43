"""``sigmoid`` and ``softplus`` as sympy functions whose generated code cannot overflow.

Written with ``exp`` they overflow in float64 long before their values do:
``log(1 + exp(800))`` is ``inf`` (the value is 800), and sympy's derivative of
``1/(1 + exp(-u))`` at ``u = -1000`` is ``exp(1000)/(1 + exp(1000))**2 = inf/inf = NaN``
(the value is about ``e^-1000``). As functions of their own they keep bounded forms:

    softplus(u) = log(1 + e^u) = max(u, 0) + log1p(e^-|u|),        softplus' = sigmoid
    sigmoid(u)  = 1 / (1 + e^-u) = 1/(1 + e^-|u|)  (u >= 0),  e^-|u| / (1 + e^-|u|)  (u < 0)
    sigmoid'(u) = sigmoid(u) sigmoid(-u)

so every derivative is a product of sigmoids (in [0, 1]) and the numeric forms evaluate
``exp`` only at ``-|u| <= 0``. The numeric forms (``_imp_``, which ``sympy.lambdify`` uses
for NumPy, torch and plain floats) are :func:`hessian_lab.expr.numeric_sigmoid` and
``numeric_softplus``, written once against the array API (the text walker uses them too).
``rewrite(sympy.exp)`` gives the textbook forms; ``evalf`` goes through them (mpmath does
not overflow).
"""

from __future__ import annotations

import sympy

from ..expr import numeric_sigmoid, numeric_softplus

__all__ = ["sigmoid", "softplus"]


class _Bounded(sympy.Function):
    """Shared parts: real and positive for a real argument; evalf through ``exp``."""

    nargs = 1

    def _eval_is_real(self):
        return self.args[0].is_extended_real

    def _eval_is_positive(self):
        return True if self.args[0].is_extended_real else None

    def _eval_is_finite(self):
        return True if self.args[0].is_finite else None

    def _eval_evalf(self, prec):
        return self.rewrite(sympy.exp)._eval_evalf(prec)

    def _torchcode(self, printer):
        """Printed as a call of the name; lambdify binds it to ``_imp_`` (torch's printer
        refuses functions it does not know, NumPy's prints them so by itself)."""
        return f"{type(self).__name__}({printer._print(self.args[0])})"


class sigmoid(_Bounded):  # noqa: N801 (named as users type it)
    """``1 / (1 + exp(-u))``, derivative ``sigmoid(u) sigmoid(-u)`` (see module doc)."""

    _imp_ = staticmethod(numeric_sigmoid)

    def fdiff(self, argindex=1):
        u = self.args[0]
        return sigmoid(u) * sigmoid(-u)

    @classmethod
    def eval(cls, u):
        if u.is_zero:
            return sympy.S.Half

    def _eval_rewrite_as_exp(self, u, **kwargs):
        return 1 / (1 + sympy.exp(-u))


class softplus(_Bounded):  # noqa: N801
    """``log(1 + exp(u))``, derivative ``sigmoid(u)`` (see module doc)."""

    _imp_ = staticmethod(numeric_softplus)

    def fdiff(self, argindex=1):
        return sigmoid(self.args[0])

    @classmethod
    def eval(cls, u):
        if u.is_zero:
            return sympy.log(2)

    def _eval_rewrite_as_exp(self, u, **kwargs):
        return sympy.log(1 + sympy.exp(u))
