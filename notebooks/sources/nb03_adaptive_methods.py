# ruff: noqa: E501  (cell sources keep their own line lengths)
"""Notebook 3. Adaptive methods: AdaGrad, RMSProp and Adam on the steep valley."""

from __future__ import annotations

from .cells import ROTATED_VALLEY, SETUP, code, md


def notebook_03():
    return [
        md(r"""
        # 3. Adaptive methods: AdaGrad, RMSProp and Adam on the steep valley

        Adaptive methods give **every coordinate its own step size**, computed from the
        history of that coordinate's gradient ($g_t = \nabla f(x_t)$, all operations
        elementwise, $\epsilon$ tiny):

        | method | second-moment statistic | update |
        |---|---|---|
        | AdaGrad | $s_t = s_{t-1} + g_t^2$ | $x_{t+1} = x_t - \eta\, g_t / (\sqrt{s_t} + \epsilon)$ |
        | RMSProp | $s_t = \alpha s_{t-1} + (1-\alpha) g_t^2$ | $x_{t+1} = x_t - \eta\, g_t / (\sqrt{s_t} + \epsilon)$ |
        | Adam | $m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\ v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2$ | $x_{t+1} = x_t - \eta\, \hat m_t / (\sqrt{\hat v_t} + \epsilon)$ |

        ($\hat m_t = m_t/(1-\beta_1^t)$, $\hat v_t = v_t/(1-\beta_2^t)$ remove the bias of the
        zero start.) In matrix form each is GD with a **diagonal preconditioner**
        $P_t = \mathrm{diag}(\sqrt{\hat v_t} + \epsilon)$ (the bias-corrected $\hat v_t$, as in
        the update): $x_{t+1} = x_t - \eta P_t^{-1}\hat m_t$.

        Three questions for this lesson: what does the per-coordinate scaling do on the
        valley? Why does it stop working when the valley is **rotated**? And why does Adam not
        care if we multiply the loss by 1000?
        """),
        code(SETUP),
        md(r"""
        ## 3.1 The first step is a sign step

        At $t = 1$: $\hat m_1 = g_1$ and $\hat v_1 = g_1^2$, so the step is
        $-\eta\, g_1/(|g_1| + \epsilon) \approx -\eta\,\mathrm{sign}(g_1)$: **every coordinate
        moves by the same amount $\eta$**, however steep or flat its direction. The symbolic
        layer shows the general statement (with $\beta_1 = \beta_2 = \epsilon = 0$ Adam is
        sign descent at every step):
        """),
        code(r"""
        from hessian_lab.symbolic import rates

        display(Math(r"\text{Adam step } (t = 1) = " + sp.latex(sp.simplify(rates.adam_step(t=1)))))
        display(Math(r"\beta_1 = \beta_2 = \epsilon = 0: \quad " + sp.latex(rates.adam_sign_descent_step())))

        valley = hl.steep_valley()
        q = quantities(valley)
        x0 = np.zeros(2)
        first = hl.run(valley, hl.Adam(lr=q["lr_opt"]), x0, max_steps=1, record="x")
        print("gradient at the start:", valley.grad(x0[None, :])[0])
        step = first.x_history[1, 0] - x0
        print("first Adam step:      ", step, f"(lr = {q['lr_opt']:.4f})")
        g0 = valley.grad(x0[None, :])[0]
        assert np.allclose(step, -q["lr_opt"] * np.sign(g0), rtol=1e-6)   # a sign step: every coordinate moves by lr
        """),
        md(r"""
        ## 3.2 On the axis-aligned valley

        Hyperparameters from the package's `steep-valley` experiment (Adam at $\eta^*$,
        RMSProp at 0.01, AdaGrad at 0.1) against GD at $\eta^*$. On an axis-aligned quadratic
        the preconditioner $P$ can rescale each eigen-direction separately: the adaptive
        methods all beat GD (checked at the end of the cell).
        """),
        code(
            ROTATED_VALLEY,
            """
        from hessian_lab.experiments.steep_valley import runs as valley_runs

        chosen = {label.replace("lr*", "η*"): opt for label, _, opt in valley_runs(q)   # the experiment's runs
                  if label in ("GD at lr*", "Adam", "RMSProp", "AdaGrad")}

        def race(problem):
            return {label: hl.run(problem, opt, x0, tol=1e-6, bound=5, max_steps=10_000, record=("loss", "x"))
                    for label, opt in chosen.items()}

        aligned = race(valley)
        for label, res in aligned.items():
            print(f"{label:10s} {res.status[0]:10s} {res.steps[0]:6d} steps")
        assert all(aligned[m].steps[0] < aligned["GD at η*"].steps[0] for m in ("Adam", "RMSProp", "AdaGrad"))
        colors = {label: COLORS[opt.name] for label, opt in chosen.items()}
        plots.contour_paths(valley, {k: r.x_history[:, 0, :] for k, r in aligned.items()}, start=x0, colors=colors,
                            minimizer=valley.minimizer, bounds=((-0.2, -0.7), (1.3, 1.9)), resolution=150,
                            title="Axis-aligned steep valley: GD vs adaptive methods")
        """,
        ),
        md(r"""
        ## 3.3 Rotate the valley by 45°

        Same eigenvalues, same start, same distance to the minimizer — only the eigenvectors
        are now diagonal to the axes. The Hessian's **diagonal no longer tells the two
        directions apart**:
        """),
        code("""
        turned = rotated_valley(45)
        print("H of the rotated valley:\\n", turned.hessian_matrix)
        rotated = race(turned)
        print(f"{'':10s} {'axis-aligned':>14s} {'rotated 45 deg':>16s}")
        for label in chosen:
            print(f"{label:10s} {aligned[label].steps[0]:>14d} {rotated[label].steps[0]:>16d}   ({rotated[label].status[0]})")
        assert rotated["GD at η*"].steps[0] == aligned["GD at η*"].steps[0] == 419   # GD: the same 419 steps
        assert [rotated[m].steps[0] for m in ("Adam", "RMSProp", "AdaGrad")] == [1264, 652, 4664]   # the take-aways
        plots.contour_paths(turned, {k: r.x_history[:, 0, :] for k, r in rotated.items()}, start=x0, colors=colors,
                            minimizer=turned.minimizer, resolution=150,
                            title="Steep valley rotated by 45°: the adaptive methods fall behind GD")
        """),
        md(r"""
        GD is **rotation-invariant**: its iterates are just rotated, so it needs exactly the
        same number of steps. The adaptive methods are not: a diagonal preconditioner is tied
        to the coordinate axes, and at 45° every one of them needs **more** steps than GD
        (checked in the cell below). Sweep the angle:
        """),
        code("""
        angles = np.linspace(0, 90, 19)
        steps = {label: [] for label in chosen}
        for angle in angles:
            problem = rotated_valley(angle)
            for label, opt in chosen.items():
                steps[label].append(hl.run(problem, opt, x0, tol=1e-6, bound=5, max_steps=20_000).steps_to_tol[0])
        fig, ax = plt.subplots()
        for label, values in steps.items():
            ax.plot(angles, values, "o-", ms=4, label=label, color=colors[label])
        ax.set_yscale("log")
        ax.set_xlabel("rotation angle of the valley (degrees)")
        ax.set_ylabel("steps to f - f* <= 1e-6")
        ax.set_title("Rotation invariance: GD is flat, the diagonal methods are not")
        ax.legend(fontsize="small")
        plt.show()

        gd_steps = np.array(steps["GD at η*"])
        adaptive = np.array([steps[m] for m in ("Adam", "RMSProp", "AdaGrad")])
        slower = np.all(adaptive > gd_steps, axis=0)
        print("angles where all three adaptive methods are slower than GD:", angles[slower])
        assert np.all(gd_steps == gd_steps[0])                                   # GD: flat
        assert all(rotated[m].steps[0] > rotated["GD at η*"].steps[0] for m in ("Adam", "RMSProp", "AdaGrad"))
        assert angles[slower].min() == 10 and angles[slower].max() == 80 and slower[2:17].all()
        assert np.all(adaptive[:, [0, -1]] < gd_steps[0])                       # 0 and 90 degrees: faster
        """),
        md(r"""
        Measured: at 0° and 90° (axis-aligned either way) the adaptive methods beat GD; from
        about **10° to 80°** all three are *slower* than GD, worst near 45°. A diagonal
        preconditioner that cannot see the eigenvectors makes things worse, not just no better.
        """),
        md(r"""
        ## 3.4 Invariance to the scale of the loss

        Multiply the loss by $c > 0$. The gradient becomes $c\,g$; GD's step grows by $c$ (it
        diverges for large $c$ and crawls for small $c$), but Adam's ratio
        $\hat m/\sqrt{\hat v}$ does not change — until the gradients are so small that
        $\epsilon = 10^{-8}$ is no longer negligible. We stop at $\|x - x^*\| \le 10^{-3}$, a
        criterion that does not depend on $c$.
        """),
        code("""
        scales = 10.0 ** np.arange(-10, 4)
        table = {"GD at η* of c = 1": [], "Adam at η* of c = 1": []}
        status = {label: [] for label in table}
        for c in scales:
            scaled = hl.Quadratic([c, 100 * c], center=[0.8, 0.6])
            for label, opt in (("GD at η* of c = 1", hl.GD(lr=q["lr_opt"])), ("Adam at η* of c = 1", hl.Adam(lr=q["lr_opt"]))):
                res = hl.run(scaled, opt, x0, criterion="distance", tol=1e-3, max_steps=5000, bound=5)
                table[label].append(res.steps_to_tol[0])
                status[label].append(res.status[0])
        fig, ax = plt.subplots()
        for i, ((label, values), name) in enumerate(zip(table.items(), ("gd", "adam"))):
            ax.plot(scales, values, "o-", label=label, color=COLORS[name])
            for kind, marker, y in (("diverged", "x", 0.96 - 0.06 * i), ("max_steps", "v", 0.04 + 0.06 * i)):
                where = scales[np.array(status[label]) == kind]
                ax.plot(where, np.full(where.size, y), marker, color=COLORS[name], ms=8, clip_on=False,
                        transform=ax.get_xaxis_transform(),
                        label=f"{label.split(' ')[0]}: {'diverged' if kind == 'diverged' else 'over 5000 steps'}" if where.size else None)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("loss scale factor c (loss = c f)")
        ax.set_ylabel("steps to ‖x − x*‖ ≤ 1e-3")
        ax.set_title("Scaling the loss: Adam does not notice (until ε = 1e-8 matters), GD does")
        ax.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=3)   # below the axes
        plt.show()
        gd_steps, adam_steps = (np.array(v) for v in table.values())
        for c, n_gd, n_adam in zip(scales, gd_steps, adam_steps):
            print(f"c = {c:7.0e}: GD {'not reached' if np.isnan(n_gd) else f'{n_gd:.0f} steps':12s}"
                  f" Adam {'not reached' if np.isnan(n_adam) else f'{n_adam:.0f} steps'}")
        plain = scales >= 1e-5                                    # where eps = 1e-8 is negligible
        assert np.all(adam_steps[plain] == adam_steps[scales == 1])          # Adam: the same steps at every scale
        assert np.isnan(adam_steps[0]) or adam_steps[0] > 10 * adam_steps[scales == 1][0]   # eps matters at c = 1e-10
        assert all(st == "diverged" for st, c in zip(status["GD at η* of c = 1"], scales) if c > 1)   # GD diverges for large c
        assert gd_steps[scales == 0.1][0] > 5 * gd_steps[scales == 1][0]    # and crawls for small c
        assert all(st == "max_steps" for st, c in zip(status["GD at η* of c = 1"], scales) if c < 0.1)   # (beyond 5000 steps)
        """),
        md(r"""
        ## Take-aways

        1. Adaptive methods are GD with a **diagonal** preconditioner built from gradient
           statistics; early on Adam is close to sign descent.
        2. A diagonal preconditioner can only fix ill-conditioning that is **aligned with the
           axes**. Rotate the problem and the advantage **reverses**: at 45° Adam, RMSProp and
           AdaGrad need 1,264, 652 and 4,664 steps against GD's 419. GD does not care.
        3. Adam is invariant to multiplying the loss by a constant (up to $\epsilon$); GD's
           learning rate has to be retuned.

        **Questions.** At 45° all three adaptive methods are slower than GD (see the sweep): why
        does dividing by $\sqrt{\hat v}$ hurt when the diagonal of $H$ is $(50.5, 50.5)$? Which
        coordinate system would make the rotated valley easy for Adam again?
        """),
    ]


NOTEBOOKS = {"03_adaptive_methods.ipynb": notebook_03}
