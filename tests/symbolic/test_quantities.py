"""The shipped quantity formulas are the symbolic layer's derivation, and evaluate like it."""

from __future__ import annotations

import subprocess
import sys

import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

from hessian_lab.symbolic import quantities as Q
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
