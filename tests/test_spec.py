"""The text forms as a library: hl.optimizer / hl.problem read what the CLI reads, the same way."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import hessian_lab as hl
from hessian_lab import catalog, spec
from hessian_lab.spec import SpecError

ROOT = Path(__file__).resolve().parents[1]


def test_optimizer_spec_evaluates_theory_quantities_of_the_problem():
    valley = hl.problem("steep-valley")
    opt = hl.optimizer("momentum:lr=0.5*lr_opt,beta=0.9", valley)
    assert isinstance(opt, hl.Momentum)
    assert opt.lr == pytest.approx(0.5 * 2 / (1 + 100)) and opt.beta == 0.9
    # not given on a quadratic: the method's optimum, as `run -o gd` takes it
    assert hl.optimizer("gd", valley).lr == pytest.approx(2 / 101)
    # without a problem: the catalog's plain defaults (adam's CLI lr), no theory names
    assert hl.optimizer("adam").lr == pytest.approx(0.05)
    with pytest.raises(SpecError, match="lr_opt need a quadratic"):
        hl.optimizer("gd:lr=lr_opt")


def test_problem_by_preset_name_and_by_options():
    valley = hl.problem("steep-valley")
    np.testing.assert_allclose(valley.eigenvalues, [1.0, 100.0])
    np.testing.assert_allclose(valley.center, [0.8, 0.6])
    rotated = hl.problem(kappa=100, dim=50, rotation="random")
    assert rotated.dim == 50 and not rotated.axis_aligned
    assert rotated.eigenvalues[-1] / rotated.eigenvalues[0] == pytest.approx(100.0)
    given = hl.problem(eigenvalues="1,10", center=np.array([1.0, 2.0]))
    np.testing.assert_allclose(given.grad(np.array([[0.0, 0.0]])), [[-1.0, -20.0]])
    neuron = hl.problem(objective="(w*2+b-1)**2", vars="w,b")
    assert neuron.dim == 2 and float(neuron.loss(np.array([[0.5, 0.0]]))[0]) == 0.0


@pytest.mark.parametrize(
    "call, fragment",
    [
        (lambda: hl.optimizer("sgd"), "unknown optimizer 'sgd'"),
        (lambda: hl.optimizer("gd:lr"), "is not key=value"),
        (lambda: hl.optimizer("adam:beta1=0.8"), "give betas=(beta1,beta2)"),
        (lambda: hl.problem(kappa=0.5), "--kappa must be a finite number >= 1"),
        (lambda: hl.problem("nowhere"), "--problem must be one of"),
        (lambda: hl.problem(kappa=10, objective="x**2", vars="x"), "give one problem"),
        (lambda: hl.problem(temperature=3), "unknown problem option 'temperature'"),
        (lambda: hl.problem(objective="x**2", vars="x,x"), "names a variable twice"),
    ],
)
def test_bad_text_is_one_line_spec_error(call, fragment):
    with pytest.raises(SpecError) as error:
        call()
    assert isinstance(error.value, ValueError)
    assert fragment in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize("name", catalog.names())
@pytest.mark.parametrize("quadratic", [True, False], ids=["theory", "plain"])
def test_every_printed_spec_rebuilds_the_same_optimizer(name, quadratic):
    """``ResolvedOptimizer.spec`` (what run --json prints) parses back to equal values."""
    quantities = spec.problems.theory_quantities(hl.steep_valley())[0] if quadratic else None
    first = spec.resolve_optimizer(name, quantities)
    again = spec.resolve_optimizer(first.spec, None, use_defaults=False)
    assert again.values == first.values
    assert again.spec == first.spec
    assert type(again.optimizer) is type(first.optimizer)


def test_adahessian_settings_with_choices_and_seed_lists_round_trip():
    resolved = spec.resolve_optimizer("adahessian:probe=gaussian,seed=(3,4),update_each=2")
    assert resolved.optimizer.probe == "gaussian" and resolved.optimizer.seed == [3, 4]
    assert "probe=gaussian" in resolved.spec and "seed=(3,4)" in resolved.spec
    assert spec.resolve_optimizer(resolved.spec).values == resolved.values
    with pytest.raises(SpecError, match="probe must be one of rademacher, gaussian"):
        spec.resolve_optimizer("adahessian:probe=normal")


def test_grid_plan_holds_the_spec_fixed_and_refuses_a_swept_value():
    q = spec.problems.theory_quantities(hl.steep_valley())[0]
    plan = spec.grids.plan_sweep(spec.parse_optimizer_spec("momentum:beta=0.5"), [], q)
    assert plan.grids[0].name == "lr" and len(plan.values[0]) == 64
    assert plan.values[0][0] == pytest.approx(q["lr_opt"] / 100)
    assert plan.fixed == {"beta": 0.5, "weight_decay": 0.0}
    with pytest.raises(SpecError, match="sets beta and --grid sweeps it"):
        grid = spec.parse_grids(["beta=0:0.9:3"])
        spec.grids.plan_sweep(spec.parse_optimizer_spec("momentum:beta=0.5"), grid, q)


def test_importing_the_spec_language_stays_cheap():
    """``import hessian_lab`` and its text forms load no NumPy, sympy, matplotlib or torch."""
    code = (
        "import sys, hessian_lab, hessian_lab.spec\n"
        "hessian_lab.spec.parse_optimizer_spec('momentum:lr=0.5*lr_opt')\n"
        "heavy = [m for m in ('numpy', 'sympy', 'matplotlib', 'torch') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_generated_numeric_code_lives_below_the_symbolic_layer():
    """The theory bridge and the recurrences run on the generated formulas without importing
    anything from ``hessian_lab.symbolic`` (the layer above them)."""
    code = (
        "import sys\n"
        "import hessian_lab as hl\n"
        "from hessian_lab import recurrence\n"
        "from hessian_lab.theory import named_quantities, predict\n"
        "p = hl.steep_valley()\n"
        "predict(p, hl.Momentum(**{'lr': 0.01, 'beta': 0.5}), [0.0, 0.0])\n"
        "assert named_quantities(p)['lr_opt'] == 2 / 101\n"
        "up = sorted(m for m in sys.modules if m.startswith('hessian_lab.symbolic'))\n"
        "assert not up, up\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_quadratic_from_a_symmetric_matrix():
    H = np.array([[2.0, 1.0, 0.0], [1.0, 3.0, 0.5], [0.0, 0.5, 4.0]])
    c = np.array([1.0, -2.0, 0.5])
    q = hl.Quadratic.from_matrix(H, center=c)
    X = np.array([[0.3, 0.1, -1.0], [2.0, 0.0, 1.0]])
    np.testing.assert_allclose(q.grad(X), (X - c) @ H, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(q.loss(X), 0.5 * np.einsum("bi,ij,bj->b", X - c, H, X - c))
    np.testing.assert_allclose(q.eigenvalues, np.linalg.eigvalsh(H), rtol=1e-12)
    assert hl.Quadratic.from_matrix(np.diag([1.0, 5.0])).axis_aligned
    with pytest.raises(ValueError, match="symmetric"):
        hl.Quadratic.from_matrix([[1.0, 2.0], [0.0, 1.0]])


def test_quadratic_refuses_a_matrix_as_eigenvalues():
    with pytest.raises(ValueError, match="use Quadratic.from_matrix"):
        hl.Quadratic(np.eye(3))


def test_readme_text_forms_block_runs_and_shows_what_it_says():
    """The README's "Text forms" block runs as printed, and its commented values hold."""
    text = (ROOT / "README.md").read_text()
    block = text.split("### Text forms")[1].split("```python\n")[1].split("```")[0]
    *lines, refused = [line for line in block.splitlines() if line.strip()]
    scope: dict = {}
    exec("\n".join(lines), scope)  # noqa: S102 - our own README, not user text
    assert scope["hb"].lr == pytest.approx(0.5 * 2 / 101) and scope["hb"].beta == 0.9
    assert scope["quad"].dim == 50 and scope["mine"].dim == 2
    with pytest.raises(SpecError, match="--kappa must be a finite number >= 1"):
        exec(refused, scope)  # noqa: S102


def test_description_shows_a_default_weight_decay():
    """AdamW's table row names its default decay: its steps are those of another problem,
    pulled towards the origin."""
    assert spec.resolve_optimizer("adamw").describe() == "lr=0.05, weight_decay=0.01 (default)"
    assert spec.resolve_optimizer("adam").describe() == "lr=0.05"
    assert spec.resolve_optimizer("adamw:weight_decay=0").describe() == "lr=0.05, weight_decay=0"
