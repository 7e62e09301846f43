"""The shipped quantity formulas are the symbolic layer's derivation, and evaluate like it."""

from __future__ import annotations

import subprocess
import sys

import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

from hessian_lab import formulas as Q
from hessian_lab.symbolic import rates as R


def test_the_shipped_formulas_are_a_fresh_derivation():
    fresh = R.quantity_texts()
    assert Q.FORMULAS == fresh, "run `python -m hessian_lab.symbolic.rates` to regenerate"
    assert Q.RECURRENCES == R.recurrence_terms(), "regenerate the recurrences as well"
    assert Q.QUANTITY_NAMES == R.QUANTITY_NAMES


@given(mu=st.floats(1e-3, 1e3), kappa=st.floats(1.0, 1e6))
def test_the_shipped_formulas_evaluate_like_the_sympy_expressions(mu, kappa):
    L = mu * kappa
    values = Q.theory_quantities(mu, L)
    assert list(values) == list(R.QUANTITY_NAMES)
    spectrum = {
        R.mu: sympy.Float(mu, 30),
        R.L: sympy.Float(L, 30),
        R.kappa: sympy.Float(L, 30) / mu,
    }
    # rates and momenta lie in [0, 1]: near kappa = 1 they cancel to ~1e-16 absolute
    for name, expr in R.formulas().items():
        exact = float(sympy.sympify(expr).subs(spectrum).evalf(30))
        assert values[name] == pytest.approx(exact, rel=1e-10, abs=1e-14), name


@pytest.mark.parametrize(
    ("low", "high"), [(0.0, 1.0), (-1.0, 1.0), (2.0, 1.0), (1.0, float("inf"))]
)
def test_a_spectrum_without_the_quantities_is_refused(low, high):
    with pytest.raises(ValueError, match="lambda_min"):
        Q.theory_quantities(low, high)


def test_the_generator_restores_an_edited_block(tmp_path):
    shipped = sys.modules[Q.__name__].__file__
    text = open(shipped).read()
    edited = tmp_path / "quantities.py"
    changed = text.replace(f'"lr_opt": "{Q.FORMULAS["lr_opt"]}"', '"lr_opt": "1/L"')
    edited.write_text(changed.replace('"b": (((1, 1, 0),),)', '"b": (((2, 1, 0),),)'))
    assert edited.read_text() != text
    assert R.write_quantities_module(edited) is True
    assert edited.read_text() == text
    assert R.write_quantities_module(edited) is False


def test_named_quantities_and_float_expressions_do_not_import_sympy():
    code = (
        "import sys, hessian_lab as hl\n"
        "from hessian_lab.expr import evaluate\n"
        "from hessian_lab.theory import named_quantities, predict\n"
        "q = named_quantities(hl.steep_valley())\n"
        "predict(hl.steep_valley(), hl.Momentum(lr=q['lr_hb_opt'], beta=0.5), [0.0, 0.0])\n"
        "print(evaluate('0.5*lr_opt', q), 'sympy' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    value, imported = out.stdout.split()
    assert float(value) == pytest.approx(0.5 * 2 / 101)
    assert imported == "False"


# Forms stated by hand (the literature's, written simply): the printed form may not be longer.
STATED = {
    "rate_opt": "(kappa - 1)/(kappa + 1)",
    "lr_hb_opt": "4/(sqrt(L) + sqrt(mu))**2",
    "beta_hb_opt": "((sqrt(kappa) - 1)/(sqrt(kappa) + 1))**2",
    "rate_hb_opt": "(sqrt(kappa) - 1)/(sqrt(kappa) + 1)",
    "lr_nag_opt": "4/(3*L + mu)",
    "beta_nag_opt": "(sqrt(3*kappa + 1) - 2)/(sqrt(3*kappa + 1) + 2)",
    "rate_nag_opt": "1 - 2/sqrt(3*kappa + 1)",
    "beta_nag_textbook": "(sqrt(kappa) - 1)/(sqrt(kappa) + 1)",
    "rate_nag_textbook": "1 - 1/sqrt(kappa)",
}


def test_printed_formulas_are_the_derivation_in_forms_no_longer_than_the_stated_ones():
    assert Q.PRINTED == R.printed_texts(), "run `python -m hessian_lab.symbolic.rates`"
    derived, printed = R.formulas(), R.printed_formulas()
    symbols = {"kappa": R.kappa, "mu": R.mu, "L": R.L}
    for name, expr in printed.items():
        assert str(expr) == Q.PRINTED[name]  # prints as shipped
        assert sympy.simplify(expr - derived[name]) == 0, name
        for kappa in (1.5, 100.0, 1e6):
            at = {R.kappa: sympy.Float(kappa, 40), R.mu: 1, R.L: sympy.Float(kappa, 40)}
            assert float(expr.subs(at).evalf(40)) == pytest.approx(
                float(derived[name].subs(at).evalf(40)), rel=1e-14
            )
        if name in STATED:
            stated = sympy.sympify(STATED[name], locals=symbols)
            assert sympy.simplify(stated - derived[name]) == 0, name  # the table is right
            assert len(Q.PRINTED[name]) <= len(STATED[name]), (name, Q.PRINTED[name])
    assert "(1 - sqrt(kappa))" not in str(printed["beta_hb_opt"])
    assert "1 - 2/sqrt(3*kappa + 1)" == str(printed["rate_nag_opt"])
