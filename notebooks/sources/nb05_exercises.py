# ruff: noqa: E501  (cell sources keep their own line lengths)
"""Notebook 5. Exercises, written twice: with the reference solutions and as the student version."""

from __future__ import annotations

from .cells import ANSWERED, SETUP, code, exercise, md


def notebook_05(student: bool = False):
    intro = (
        "Each exercise has an **answer cell** (every answer is `None` until you fill it in)"
        if student
        else "Each has a **solution cell** (a reference solution is filled in; the student "
        "version, `05_exercises_student.ipynb`, built from the same source, leaves it empty)"
    )
    cells = [
        md(
            "# 5. Exercises\n\n"
            f"Short exercises on notebooks 1–4. {intro} and a **check cell** that tests your "
            "answer against the `hessian_lab` engine and theory. A check prints `correct`, "
            "stops with an assertion message on a wrong answer, and waits (\"not answered "
            "yet\") while the answer is still `None`."
        ),
        code(SETUP, ANSWERED),
    ]
    cells += exercise(
        1,
        "stability and the best learning rate",
        r"""
        A quadratic has Hessian eigenvalues $2, 5, 50$. Compute, **by hand** (as numbers):

        * `lr_max`, the largest learning rate for which GD converges;
        * `lr_star`, the learning rate with the fastest worst-case rate;
        * `R_star`, that rate.
        """,
        """
        lr_max = 2 / 50
        lr_star = 2 / (2 + 50)
        R_star = (50 / 2 - 1) / (50 / 2 + 1)
        """,
        """
        problem = hl.Quadratic([2.0, 5.0, 50.0], center=[1.0, -1.0, 0.5])
        q = quantities(problem)
        assert np.isclose(lr_max, q["lr_max"]), "lr_max: which eigenvalue limits the step?"
        assert np.isclose(lr_star, q["lr_opt"]), "lr_star balances the smallest and largest eigenvalue"
        assert np.isclose(R_star, q["rate_opt"]), "R_star = (kappa - 1)/(kappa + 1)"
        runs = hl.run(problem, hl.GD(lr=[0.99 * lr_max, 1.01 * lr_max]), np.zeros(3), tol=1e-8, bound=1e6)
        assert list(runs.status) == ["converged", "diverged"], runs.status
        print("correct: GD converges just below lr_max and diverges just above it")
        """,
        ('lr_max', 'lr_star', 'R_star'),
        student,
    )
    cells += exercise(
        2,
        "predict the number of steps",
        r"""
        GD with `lr = 0.1` runs on the one-dimensional $f(x) = 2x^2$ (so $\lambda = 4$) from
        $x_0 = 1$. Predict `steps`, the number of updates until $|x_t - x^*| \le 10^{-6}$.

        *Hint:* $x_t = r^t x_0$ with $r = 1 - \eta\lambda$; find the smallest integer $t$ with
        $|r|^t \le 10^{-6}$.
        """,
        """
        r = 1 - 0.1 * 4
        steps = int(np.ceil(np.log(1e-6) / np.log(abs(r))))
        """,
        """
        problem = hl.Quadratic([4.0])
        measured = hl.run(problem, hl.GD(lr=0.1), [1.0], criterion="distance", tol=1e-6).steps[0]
        assert steps == measured, f"you predicted {steps}, the engine needed {measured}"
        print(f"correct: {steps} steps")
        """,
        ('steps',),
        student,
    )
    cells += exercise(
        3,
        "tune the heavy ball",
        r"""
        For eigenvalues in $[1, 400]$ ($\kappa = 400$) give Polyak's optimal heavy-ball
        parameters `lr_hb`, `beta_hb` and the resulting rate `rate_hb`. Then answer: how many
        times fewer steps than GD at its best learning rate do you expect, roughly?
        Store it in `speedup` (any number within a factor 2 of the truth counts).
        """,
        """
        mu, L = 1.0, 400.0
        lr_hb = 4 / (np.sqrt(L) + np.sqrt(mu)) ** 2
        rate_hb = (np.sqrt(L / mu) - 1) / (np.sqrt(L / mu) + 1)
        beta_hb = rate_hb ** 2
        speedup = np.log(rate_hb) / np.log((L / mu - 1) / (L / mu + 1))   # steps ~ 1/log(1/R): ~ sqrt(kappa)
        """,
        """
        problem = hl.Quadratic.from_condition(8, 400.0, center=np.ones(8))
        q = quantities(problem)
        assert np.isclose(lr_hb, q["lr_hb_opt"]) and np.isclose(beta_hb, q["beta_hb_opt"])
        assert np.isclose(rate_hb, q["rate_hb_opt"]), "the rate is sqrt(beta)"
        gd = hl.run(problem, hl.GD(lr=q["lr_opt"]), np.zeros(8), tol=1e-8, max_steps=50_000).steps[0]
        hb = hl.run(problem, hl.Momentum(lr=lr_hb, beta=beta_hb), np.zeros(8), tol=1e-8, max_steps=50_000).steps[0]
        print(f"GD: {gd} steps, heavy ball: {hb} steps, measured speed-up {gd / hb:.1f}")
        assert 0.5 < speedup / (gd / hb) < 2, "compare log(R_GD) with log(R_HB)"
        print("correct")
        """,
        ('lr_hb', 'beta_hb', 'rate_hb', 'speedup'),
        student,
    )
    cells += exercise(
        4,
        "write Hutchinson's estimator",
        r"""
        Complete `hutchinson(H, Z)`: given a symmetric matrix `H` (d × d) and a matrix of probes
        `Z` (N × d, one probe per row), return the average of $z \odot Hz$ over the rows, a
        vector of length d. The check feeds it all $2^d$ sign vectors (the result must be
        exactly $\mathrm{diag}(H)$) and many random ones (the error must match the derived
        variance $\sum_{j\ne i}H_{ij}^2 / N$).
        """,
        """
        def hutchinson(H, Z):
            return np.mean(Z * (Z @ H), axis=0)      # H is symmetric: (H z)^T = z^T H
        """,
        """
        import itertools
        from hessian_lab import hutchinson as hn

        H = hl.Quadratic.from_condition(5, 20.0, rotation="random", seed=3).hessian_matrix
        all_signs = np.array(list(itertools.product([-1.0, 1.0], repeat=5)))
        assert np.allclose(hutchinson(H, all_signs), np.diag(H)), "the mean over all signs must be diag(H)"
        rng = np.random.default_rng(0)
        N, trials = 64, 400
        errors = np.stack([hutchinson(H, rng.choice([-1.0, 1.0], size=(N, 5))) - np.diag(H) for _ in range(trials)])
        ratio = errors.var(axis=0) / (hn.diagonal_variance(H, "rademacher") / N)
        assert np.all((0.7 < ratio) & (ratio < 1.4)), f"variance / theory = {ratio}"
        print("correct: unbiased, and the variance matches sum_{j != i} H_ij^2 / N")
        """,
        ('hutchinson',),
        student,
    )
    cells += exercise(
        5,
        "who notices a scaled loss?",
        r"""
        On the steep valley Adam at `lr = 0.0198` needs some number of steps to reach
        $\|x - x^*\| \le 10^{-3}$. Now the loss is multiplied by 1000. Set `adam_changes` and
        `gd_changes` to `True` or `False`: does the number of steps (or the outcome) change
        for Adam, and for GD at the same learning rate?
        """,
        """
        adam_changes = False     # m / sqrt(v) is scale-free (eps aside)
        gd_changes = True        # the gradient, and so GD's step, grows 1000 times: divergence
        """,
        """
        x0 = np.zeros(2)
        outcome = {}
        for c in (1.0, 1000.0):
            problem = hl.Quadratic([c, 100 * c], center=[0.8, 0.6])
            for name, opt in (("adam", hl.Adam(lr=0.0198)), ("gd", hl.GD(lr=0.0198))):
                res = hl.run(problem, opt, x0, criterion="distance", tol=1e-3, bound=5, max_steps=5000)
                outcome[name, c] = (str(res.status[0]), int(res.steps[0]))
        print(outcome)
        assert adam_changes == (outcome["adam", 1.0] != outcome["adam", 1000.0]), "look at Adam's ratio m/sqrt(v)"
        assert gd_changes == (outcome["gd", 1.0] != outcome["gd", 1000.0]), "what is GD's lr_max for c = 1000?"
        print("correct")
        """,
        ('adam_changes', 'gd_changes'),
        student,
    )
    cells += exercise(
        6,
        "Newton on a degenerate minimum",
        r"""
        Newton's method jumps to the minimizer of a quadratic in one step. On $f(x) = x^4$ (a
        minimum with zero curvature) it does not. Use the symbolic layer,
        `hessian_lab.symbolic.newton.derive("x**4", "x")`, to find the Newton step, and store
        in `factor` the number $c$ such that one Newton step maps $x \mapsto c\,x$.
        """,
        """
        from hessian_lab.symbolic.newton import derive

        d = derive("x**4", "x")
        x = d.variables[0]
        display(Math(r"\\text{Newton step} = " + sp.latex(d.newton_step[0])))
        factor = float(sp.simplify((x + d.newton_step[0]) / x))
        """,
        """
        from hessian_lab.problems.expression import ExpressionProblem

        problem = ExpressionProblem("x**4", "x", min_value=0.0, minimizer=[0.0])
        res = hl.run(problem, hl.Newton(lr=1.0), [1.0], criterion="distance", tol=1e-300, max_steps=5, record="x")
        measured = res.x_history[1:, 0, 0] / res.x_history[:-1, 0, 0]
        assert np.allclose(measured, factor), f"measured ratios x_(t+1)/x_t: {measured}"
        print(f"correct: each Newton step multiplies x by {factor:.4f} - linear, not quadratic, convergence")
        """,
        ('factor',),
        student,
    )
    cells.append(
        md(r"""
        ## Going further

        * Change the eigenvalues in Exercise 1 and predict which runs diverge before you run them.
        * In Exercise 3, try Nesterov with `quantities(problem)["lr_nag_opt"]` and
          `["beta_nag_opt"]`. Is it faster or slower than the optimal heavy ball on a quadratic?
        * In Exercise 4, use Gaussian probes (`rng.standard_normal`): which variance formula do
          you need now?
        """)
    )
    return cells


NOTEBOOKS = {
    "05_exercises.ipynb": notebook_05,
    "05_exercises_student.ipynb": lambda: notebook_05(student=True),
}
