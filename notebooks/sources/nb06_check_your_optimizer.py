# ruff: noqa: E501  (cell sources keep their own line lengths)
"""Notebook 6. Check your own optimizer with hessian_lab.testing."""

from __future__ import annotations

from .cells import code, md


def notebook_06():
    return [
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
        """),
        code("""
        import numpy as np
        from hessian_lab.testing import check_optimizer

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
        """),
        md("""
        Every symmetry checked holds — the bug is invisible to them — but the parity with the
        sandbox's Adam fails at the first step: the moments are not **bias-corrected**, so the
        first step is `(1 - b1) / sqrt(1 - b2)`, about 3.2 times Adam's. The counterexample is
        the smallest quadratic hypothesis found: one coordinate, from `x0 = 1`.

        **Exercise.** Fix `my_adam` (divide `m` by `1 - b1**t` and `v` by `1 - b2**t`) and run
        the check cell.
        """),
        code("""
        def my_adam(x, g, state, lr=0.05, b1=0.9, b2=0.999, eps=1e-8):
            m, v, t = state if state is not None else (0 * x, 0 * x, 0)
            t += 1
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
            return x - lr * m_hat / (np.sqrt(v_hat) + eps), (m, v, t)
        """),
        code("""
        # check cell
        fixed = check_optimizer(my_adam, like="adam", examples=3, only={"parity", "fixed point at the minimizer"},
                                lr=0.05, eps=1e-8)
        print(fixed)
        fixed.assert_ok()
        """),
    ]


NOTEBOOKS = {"06_check_your_optimizer.ipynb": notebook_06}
