# ruff: noqa: E501  (cell sources keep their own line lengths)
"""Notebook 7. Noisy gradients: noise floors, the lr / batch-size trade-off, the critical
batch size; with exercises, written twice (solved and student version)."""

from __future__ import annotations

from .cells import ANSWERED, SETUP, code, exercise, md


def notebook_07(student: bool = False):
    cells = [
        md(r"""
        # 7. Noisy gradients and the batch size

        A network's optimizer never sees the true gradient: it sees the mean over a
        mini-batch of $B$ examples. The **noisy quadratic model** (Zhang et al., NeurIPS 2019)
        keeps only that: $f(x) = \tfrac12 (x-c)^\top H (x-c)$ and every gradient query returns
        $H(x - c) + \xi$ with $\xi \sim \mathcal N(0, S/B)$. It is simple enough to solve
        exactly, and it predicts what large experiments found: constant-step SGD stops at a
        **noise floor**, a larger batch buys fewer steps only up to a **critical batch size**,
        and momentum, preconditioning and averaging change that picture.

        `hl.GradientNoise(cov, batch_size, seed)` adds such noise to every gradient the engine
        hands an optimizer (curvature queries stay exact). The draws are keyed by
        (seed, row, step): **each row of a batched run is an independent Monte Carlo sample**.
        """),
        code(SETUP, ANSWERED, """
        from hessian_lab.noisy_theory import expected_loss, stationary_loss, ema_stationary_loss
        from hessian_lab.studies import batch_size_scaling, critical_batch_size
        """),
        md(r"""
        ## 1. The noise floor

        GD on $\lambda = (1, 0.3, 0.05)$ with $S = H$ and $B = 4$, 2,000 noisy rows at once.
        The exact expected loss comes from the mean and covariance recursions of the error,
        mode by mode (`theory.expected_loss`); the rows' mean must sit on it.
        """),
        code("""
        problem = hl.Quadratic([1.0, 0.3, 0.05], center=[0.5, -0.5, 0.2])
        noise = hl.GradientNoise("hessian", batch_size=4, seed=0)
        x0 = np.array([2.0, 1.0, -1.0])
        gd = hl.GD(lr=1.0)
        rows = hl.run(problem, gd, np.tile(x0, (2000, 1)), tol=0, max_steps=300, noise=noise, record="loss")
        losses = rows.loss_history - problem.min_value                    # (301, 2000)
        mean, se = losses.mean(axis=1), losses.std(axis=1, ddof=1) / np.sqrt(2000)
        exact = expected_loss(problem, gd, x0, np.arange(301), noise)
        floor = stationary_loss(problem, gd, noise)

        # text follows measurement: the Monte Carlo mean is within 4 standard errors at the end
        assert abs(mean[-1] - exact[-1]) < 4 * se[-1]
        assert abs(exact[-1] - floor) < 1e-6 * floor
        fig = plots.noisy_loss_curves({"gd lr=1": {"mean": mean, "stderr": se, "expected": exact}},
                                      title="GD under noise: the mean of 2,000 rows and the exact E f - f*")
        display(fig)
        print(f"noise floor E f - f* = {floor:.5f}; the rows' final mean {mean[-1]:.5f} +- {se[-1]:.5f}")
        """),
        md(r"""
        ## 2. Where the floor comes from

        On one eigen-mode GD's error follows $w_{t+1} = (1 - \eta\lambda) w_t - \eta \xi_t$, an
        AR(1) process with stationary variance $\eta^2 s / (B (1 - (1-\eta\lambda)^2))$. The
        symbolic layer derives each method's floor per mode (heavy ball and Nesterov from the
        AR(2) stationary variance); here GD's, and a check that their sum over the modes is
        `stationary_loss`:
        """),
        code("""
        from hessian_lab.symbolic import noise as sym

        gd_floor = sym.stationary_mode_loss("gd")
        display(Math(r"\\lim_t \\mathbb{E}\\,\\tfrac{\\lambda}{2} w_t^2 = " + tex(gd_floor)))
        f = sym.mode_loss_functions()["gd"]
        lam = problem.spectrum
        by_mode = f(1.0, lam, 0.0, lam, 4)           # lr, lambda, beta, s = lambda (S = H), B
        assert np.isclose(by_mode.sum(), floor, rtol=1e-12)
        print("per mode:", by_mode, " sum:", by_mode.sum())
        """),
        md(r"""
        ## 3. The learning-rate / batch-size trade-off

        For small $\eta\lambda$ the floor $\eta s / (2B(2 - \eta\lambda))$ depends on $\eta / B$:
        halving the learning rate buys about what doubling the batch does. Yet a smaller step
        also converges more slowly, so reaching a target takes more *steps*, while a larger
        batch costs more *examples per step*.
        """),
        code("""
        lrs = np.geomspace(0.02, 1.5, 40)
        fig, ax = plt.subplots()
        for B in (1, 4, 16, 64):
            floors = stationary_loss(problem, hl.GD(lr=lrs), noise.with_batch_size(B))
            ax.loglog(lrs, floors, label=f"B = {B}")
        ax.set_xlabel("learning rate"); ax.set_ylabel("stationary E f - f*"); ax.legend()
        ax.set_title("GD's noise floor against lr, for four batch sizes")

        small = stationary_loss(problem, hl.GD(lr=0.01), noise.with_batch_size(8))
        half_lr = stationary_loss(problem, hl.GD(lr=0.005), noise.with_batch_size(8))
        double_b = stationary_loss(problem, hl.GD(lr=0.01), noise.with_batch_size(16))
        assert abs(half_lr / double_b - 1) < 0.01     # the trade-off holds at small lr
        print(f"lr/2: {half_lr:.3e}   2B: {double_b:.3e}   (from {small:.3e})")
        """),
        md(r"""
        ## 4. The critical batch size

        `studies.batch_size_scaling` finds, for each batch size, the fewest steps to
        $\mathbb E f - f^* \le$ target over the learning rate (and $\beta$ for momentum),
        from the exact theory. With perfect scaling, steps $\times B$ stays constant; the
        **critical batch size** is where it first doubles. On the NQM's spectrum
        $\lambda_i = 1/i$ ($d = 100$):
        """),
        code("""
        nqm = hl.Quadratic(1 / np.arange(1, 101))
        start = np.ones(100)
        target = 0.01 * nqm.spectrum.sum() / 2
        sizes = [1, 4, 16, 64, 256, 1024, 4096]
        study = batch_size_scaling(nqm, [hl.GD(), hl.Momentum(), hl.PreconditionedGD(power=0.5)],
                                   sizes, target, hl.GradientNoise("hessian"), start, max_steps=50_000)
        critical = {c.label: c.critical_batch_size for c in study.curves}
        display(plots.batch_size_curves(sizes, {c.label: c.steps for c in study.curves},
                                        "Steps to the target against batch size (exact theory)",
                                        critical=critical))
        assert critical["momentum"] > critical["gd"] and critical["precond-gd p=0.5"] > critical["gd"]
        print({k: round(v) for k, v in critical.items()})
        """),
        md(r"""
        Momentum does nothing for SGD at small batch sizes (its best $\beta$ there is 0: the
        noise, not the conditioning, sets the pace) and helps at large ones; a diagonal
        preconditioner ($P = \operatorname{diag}(H)^{-1/2}$, the NQM's model of Adam) raises
        the critical batch size further. `hessian-lab experiment batch-size` runs the full
        study ($d = 1000$, Adam measured by Monte Carlo, iterate averaging, and a network).
        """),
    ]
    cells += exercise(
        1,
        "a noise floor by hand",
        r"""
        GD with `lr = 0.25` runs on the one-dimensional $f(x) = x^2$ ($\lambda = 2$) with
        one-example noise variance $s = 1$ and batch size $B = 4$. Compute `floor`, the
        stationary $\mathbb E f - f^*$, **by hand** (a number).
        """,
        """
        floor = 0.25 * 1 / (2 * 4 * (2 - 0.25 * 2))
        """,
        """
        one = hl.Quadratic([2.0])
        noise_1 = hl.GradientNoise(1.0, batch_size=4, seed=1)
        assert np.isclose(floor, stationary_loss(one, hl.GD(lr=0.25), noise_1)), "lr s / (2 B (2 - lr lambda))"
        rows_1 = hl.run(one, hl.GD(lr=0.25), np.zeros((4000, 1)), tol=0, max_steps=100, noise=noise_1)
        f_rows = rows_1.final_loss
        assert abs(f_rows.mean() - floor) < 4 * f_rows.std() / np.sqrt(4000), "the Monte Carlo rows disagree"
        print(f"correct: floor {floor:.5f}; 4,000 noisy rows give {f_rows.mean():.5f}")
        """,
        ("floor",),
        student,
    )
    cells += exercise(
        2,
        "the batch size that reaches a floor",
        r"""
        GD with `lr = 0.5` on $\lambda = (1, 0.1)$ with $S = H$. Find `B_min`, the smallest
        integer batch size whose noise floor is at most $0.01$ (use the per-mode formula; the
        floor is proportional to $1/B$).
        """,
        """
        lam_2 = np.array([1.0, 0.1])
        per_unit_batch = np.sum(0.5 * lam_2 / (2 * (2 - 0.5 * lam_2)))   # the floor at B = 1
        B_min = int(np.ceil(per_unit_batch / 0.01))
        """,
        """
        two = hl.Quadratic([1.0, 0.1])
        at = lambda B: stationary_loss(two, hl.GD(lr=0.5), hl.GradientNoise("hessian", batch_size=B))
        assert at(B_min) <= 0.01, f"B = {B_min} leaves a floor of {at(B_min):.4g} > 0.01"
        assert B_min == 1 or at(B_min - 1) > 0.01, f"B = {B_min - 1} already reaches it"
        print(f"correct: B = {B_min} gives a floor of {at(B_min):.4g}")
        """,
        ("B_min",),
        student,
    )
    cells += exercise(
        3,
        "read a critical batch size",
        r"""
        A study measured these steps to a target at batch sizes 1, 2, 4, 8, 16, 32:
        `[6400, 3200, 1600, 1000, 900, 880]`. With the definition above (steps $\times B$
        first reaches twice its value at $B = 1$, interpolated on a log scale), compute
        `critical`.
        """,
        """
        B = np.array([1, 2, 4, 8, 16, 32])
        steps = np.array([6400, 3200, 1600, 1000, 900, 880])
        ratio = B * steps / (B[0] * steps[0])             # 1, 1, 1, 1.25, 2.25, ...
        k = np.flatnonzero(ratio >= 2)[0]
        frac = np.log(2 / ratio[k - 1]) / np.log(ratio[k] / ratio[k - 1])
        critical = float(np.exp(np.log(B[k - 1]) + frac * np.log(B[k] / B[k - 1])))
        """,
        """
        expected = critical_batch_size([1, 2, 4, 8, 16, 32], [6400, 3200, 1600, 1000, 900, 880])
        assert np.isclose(critical, expected), "steps x B: 6400, 6400, 6400, 8000, 14400, ..."
        print(f"correct: the critical batch size is {critical:.2f}")
        """,
        ("critical",),
        student,
    )
    cells.append(
        md(r"""
        ## Going further

        * Repeat section 1 with `hl.Momentum(lr=0.5, beta=0.9)`: is its floor higher or lower
          than GD's at the same `lr`? At the same *effective* step `lr / (1 - beta)`?
        * `ema_stationary_loss(problem, gd, noise, 0.99)`: how much does averaging the
          iterates lower the floor, and what does it cost in steps?
        * `hessian-lab run --noise hessian --batch-size 8 --rows 200 --plot noisy.png` draws
          section 1 for any optimizer, Adam included (measured only: it has no closed form).
        """)
    )
    return cells


NOTEBOOKS = {
    "07_noise_and_batch_size.ipynb": notebook_07,
    "07_noise_and_batch_size_student.ipynb": lambda: notebook_07(student=True),
}
