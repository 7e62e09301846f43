"""Declared design choices (``--assume shared-state | sign-descent | matrix``): a correct
optimizer of each kind fails a check by design without its declaration and passes with
it, and a believable bug in it is still caught, by the check the bug breaks.

The optimizers are in ``tests/design_optimizers.py``: a Prodigy-like shared step size, Lion
(sign descent) and a Shampoo-like matrix preconditioner.
"""

from __future__ import annotations

from design_optimizers import MiniLion, MiniProdigy, MiniShampoo

from hessian_lab.testing import FAIL, NA, PASS, check_optimizer

FEW = dict(examples=3, budget=1500)


def statuses(target, only, **options):
    report = check_optimizer(target, only=only, **FEW, **options)
    return {o.name: o for o in report.invariants}


def test_shared_state_replaces_rows_independence_by_exchangeable_parameters():
    rows, swap = "rows independent", "parameters exchangeable (shared-state)"
    undeclared = statuses(MiniProdigy, [rows], lr=1.0)
    assert undeclared[rows].status == FAIL
    declared = statuses(MiniProdigy, [rows, swap], lr=1.0, assume={"shared-state"})
    assert declared[rows].status == NA and "shared-state" in declared[rows].detail
    assert declared[swap].status == PASS, declared[swap]
    bug = statuses(MiniProdigy, [swap], lr=1.0, assume={"shared-state"}, bug="first parameter")
    assert bug[swap].status == FAIL and bug[swap].counterexample


def test_prodigys_cancellation_is_no_false_alarm_while_an_origin_bug_is_caught():
    """``<g, x0 - x>`` while x has moved ~1e-6: a translated run rounds differently and
    Prodigy's growing step size amplifies it (1.3e-11 at step 14 against a 6e-12 allowance
    calibrated on a nudge of the start alone); measuring from the origin is a real bug."""
    name = "translation equivariance"
    good = statuses(MiniProdigy, [name], lr=1.0, assume={"shared-state"})
    assert good[name].status == PASS, good[name]
    # at the kit's default number of examples (3 drew no shift that shows it)
    bad = check_optimizer(
        MiniProdigy, only=[name], lr=1.0, assume={"shared-state"}, bug="origin", budget=1500
    ).invariants[0]
    assert bad.status == FAIL and "shift" in bad.detail, bad


def test_sign_descent_converges_to_its_ball_and_stale_momentum_does_not():
    name = "convergence on an easy quadratic"
    undeclared = statuses(MiniLion, [name], lr=1e-3)
    assert undeclared[name].status == FAIL
    declared = statuses(MiniLion, [name, "float64 floor (no hidden float32)"], lr=1e-3,
                        assume={"sign-descent"})  # fmt: skip
    assert declared[name].status == PASS and "4 lr sqrt(d)" in declared[name].detail
    assert declared["float64 floor (no hidden float32)"].status == NA
    bug = statuses(MiniLion, [name], lr=1e-3, assume={"sign-descent"}, bug="stale momentum")
    assert bug[name].status == FAIL and "4 lr sqrt(d)" in bug[name].detail


def test_matrix_methods_get_matrices_and_a_row_bug_breaks_permutation():
    name = "permutation equivariance"
    vectors = check_optimizer(MiniShampoo, only=[name], lr=0.1, **FEW)
    assert vectors.invariants[0].error and "takes matrices" in vectors.invariants[0].detail
    checks = [name, "sign symmetry", "fixed point at the minimizer"]
    declared = statuses(MiniShampoo, checks, lr=0.1, assume={"matrix"})
    assert all(declared[c].status == PASS for c in checks), declared
    bug = statuses(MiniShampoo, [name], lr=0.1, assume={"matrix"}, bug="first row")
    assert bug[name].status == FAIL


def test_rosenbrock_and_beale_report_the_steps_taken():
    report = check_optimizer(
        "torch.optim:Adam",
        only=["convergence on rosenbrock", "convergence on beale"],
        problems=["rosenbrock", "beale"],
        lr=0.02,
        budget=6000,
    )
    by_name = {o.name: o for o in report.invariants}
    assert set(by_name) == {"convergence on rosenbrock", "convergence on beale"}
    for outcome in by_name.values():
        assert outcome.status == PASS, outcome
        assert " steps from " in outcome.detail
    slow = check_optimizer(
        "torch.optim:SGD", only=["convergence on rosenbrock"], problems=["rosenbrock"],
        lr=1e-4, budget=200,
    )  # fmt: skip
    assert slow.invariants[0].status == FAIL and "after 200 steps" in slow.invariants[0].detail
