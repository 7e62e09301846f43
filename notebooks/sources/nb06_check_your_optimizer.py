# ruff: noqa: E501  (cell sources keep their own line lengths)
"""Notebook 6. Check your own optimizer with hessian_lab.testing."""

from __future__ import annotations

from .cells import ANSWERED, code, exercise, md


def notebook_06(student: bool = False):
    version = (
        "This is the **student version**: the exercise's answer cell is empty (`None`) and its "
        "check waits for your answer; `06_check_your_optimizer.ipynb` has the reference solution."
        if student
        else "The exercise's reference solution is filled in; the student version, "
        "`06_check_your_optimizer_student.ipynb`, built from the same source, leaves it empty."
    )
    cells = [
        md("""
        # 06 · Check your own optimizer

        `hessian_lab.testing` property-tests any optimizer — a `torch.optim` class, a
        `params -> Optimizer` callable or a plain `step(x, g, state) -> (x, state)` function —
        against invariants a sound optimizer has: determinism, independent rows, permutation,
        translation and sign symmetry, the minimizer as a fixed point, convergence, the float64
        floor, and (declared) elementwise / rotation / scale properties. Each failure comes with
        the smallest counterexample hypothesis found. `like="adam"` adds parity with the
        sandbox's own Adam at the same hyperparameters. The same checks run from the shell as
        `hessian-lab check module:Attr`.
        """ + "\n" + version),
        code(
            """
        import numpy as np
        from hessian_lab.testing import check_optimizer
        """,
            ANSWERED,
            """
        def my_adam(x, g, state, lr=0.05, b1=0.9, b2=0.999, eps=1e-8):
            \"\"\"Adam as a step function, written from memory: is it right?\"\"\"
            m, v, t = state if state is not None else (0 * x, 0 * x, 0)
            t += 1
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            return x - lr * m / (np.sqrt(v) + eps), (m, v, t)

        report = check_optimizer(my_adam, like="adam", assume={"elementwise"}, examples=3,
                                 only={"determinism", "sign symmetry", "separability (elementwise)", "parity"},
                                 lr=0.05, eps=1e-8)
        print(report)
        verdicts = {outcome.name: outcome.status for outcome in report.invariants}
        assert verdicts.pop("parity with adam") == "fail" and set(verdicts.values()) == {"pass"}
        # the text below: the symmetries hold, the parity with Adam fails
        x1, _ = my_adam(np.array([1.0]), np.array([1.0]), None)          # first step from x0 = 1, g = 1
        assert round((1 - x1[0]) / 0.05, 1) == round((1 - 0.9) / np.sqrt(1 - 0.999), 1) == 3.2   # 3.2 x Adam's lr
        """,
        ),
        md("""
        Every symmetry checked holds — the bug is invisible to them — but the parity with the
        sandbox's Adam fails at the first step: the moments are not **bias-corrected**, so the
        first step is `(1 - b1) / sqrt(1 - b2)`, about 3.2 times Adam's. The counterexample is
        the smallest quadratic hypothesis found: one coordinate, from `x0 = 1`.
        """),
    ]
    cells += exercise(
        1,
        "fix the bias correction",
        """
        Write `fixed_adam`, a corrected copy of `my_adam` with the same signature: divide `m`
        by `1 - b1**t` and `v` by `1 - b2**t` before the step (keep the uncorrected `m` and
        `v` in the state). Then run the check cell: it runs the parity check against the
        sandbox's Adam and the minimizer check, and prints `correct` when both pass.
        """,
        """
        def fixed_adam(x, g, state, lr=0.05, b1=0.9, b2=0.999, eps=1e-8):
            m, v, t = state if state is not None else (0 * x, 0 * x, 0)
            t += 1
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
            return x - lr * m_hat / (np.sqrt(v_hat) + eps), (m, v, t)
        """,
        """
        fixed = check_optimizer(fixed_adam, like="adam", examples=3,
                                only={"parity", "fixed point at the minimizer"}, lr=0.05, eps=1e-8)
        print(fixed)
        fixed.assert_ok()
        print("correct: fixed_adam takes the sandbox's Adam steps")
        """,
        ("fixed_adam",),
        student,
    )
    return cells


NOTEBOOKS = {
    "06_check_your_optimizer.ipynb": notebook_06,
    "06_check_your_optimizer_student.ipynb": lambda: notebook_06(student=True),
}
