# ruff: noqa: E501  (cell sources keep their own line lengths)
"""Notebook 2. Momentum and Nesterov: two-step recursions and their spectral radius."""

from __future__ import annotations

from .cells import SETUP, code, md


def notebook_02():
    return [
        md(r"""
        # 2. Momentum and Nesterov: two-step recursions and their spectral radius

        GD forgets everything but the current gradient. **Heavy-ball momentum** (Polyak) adds
        a fraction $\beta$ of the previous displacement,

        $$x_{t+1} = x_t - \eta\nabla f(x_t) + \beta\,(x_t - x_{t-1})$$

        (the same iterates as `v = beta*v + g; x -= lr*v`, torch's SGD with momentum), and
        **Nesterov** takes the gradient at the look-ahead point,

        $$y_t = x_t + \beta(x_t - x_{t-1}), \qquad x_{t+1} = y_t - \eta \nabla f(y_t).$$

        The plan: the 2×2 iteration matrix per eigen-mode, its spectral radius as a map over
        $(\eta, \beta)$ with measured steps from one batched sweep on top, the optimal
        parameters, and two intuitions — the **terminal velocity** $1/(1-\beta)$ and the
        **damping** $1/(1+\beta)$.
        """),
        code(SETUP),
        md(r"""
        ## 2.1 The iteration matrix

        In the eigenbasis of $H$ a mode with eigenvalue $\lambda$ follows
        $w_{t+1} = (1 + \beta - \eta\lambda)\, w_t - \beta\, w_{t-1}$, i.e.

        $$\begin{pmatrix} w_{t+1} \\ w_t \end{pmatrix} = T(\lambda)\begin{pmatrix} w_t \\ w_{t-1}\end{pmatrix}, \qquad T(\lambda) = \begin{pmatrix} 1 + \beta - \eta\lambda & -\beta \\ 1 & 0 \end{pmatrix}.$$

        The error shrinks like $\rho(T)^t$, the **spectral radius**. The characteristic
        polynomial tells the story: the product of the two roots is $\beta$, so whenever the
        roots are complex (the mode oscillates) they have modulus exactly $\sqrt\beta$.
        """),
        code(r"""
        from hessian_lab.symbolic import rates

        for method in (rates.heavy_ball, rates.nesterov):
            display(Markdown(f"**{method.name.replace('_', ' ')}**"))
            display(Math(r"T(\lambda) = " + tex(method.matrix)
                         + r",\qquad \det(zI - T) = " + tex(sp.collect(sp.expand(method.characteristic_polynomial), rates.z))))
            display(Math(r"\text{product of the roots} = \det T = " + tex(sp.factor(method.det))
                         + r",\qquad \text{discriminant} = " + tex(sp.factor(method.discriminant))))
        """),
        md(r"""
        **Stability boundary.** A root leaves the unit disc through $z = -1$, i.e. when the
        characteristic polynomial vanishes at $z = -1$. Solving that for $\eta\lambda$ gives
        the largest stable step of each method — compare with the symbolic layer's stored
        bounds (`heavy_ball_stability`, `nesterov_stability`, in units of $\eta\lambda$):
        """),
        code(r"""
        for method, stored in ((rates.heavy_ball, rates.heavy_ball_stability),
                               (rates.nesterov, rates.nesterov_stability)):
            (boundary,) = sp.solve(method.characteristic_polynomial.subs(rates.z, -1), rates.lr)
            display(Math(r"\eta_{\max}^{\mathrm{" + method.name.replace("_", r"\ ") + "}} = "
                         + tex(sp.simplify(boundary))
                         + r"\qquad\text{stored: } \eta\lambda < " + tex(stored)))
            assert sp.simplify(boundary * rates.lam - stored) == 0
        """),
        md(r"""
        ## 2.2 The optimal heavy ball

        Polyak's choice puts both extreme modes exactly at the edge between real and complex
        roots (discriminant zero) — the double root is $+\sqrt\beta$ for $\lambda = \mu$ and
        $-\sqrt\beta$ for $\lambda = L$:

        $$1 + \beta - \eta\mu = 2\sqrt\beta, \qquad 1 + \beta - \eta L = -2\sqrt\beta.$$

        With $s = \sqrt\beta$ these say $(1-s)^2 = \eta\mu$ and $(1+s)^2 = \eta L$; dividing,
        $\big((1+s)/(1-s)\big)^2 = \kappa$. The symbolic layer solves these (and quotes
        Nesterov's optimum on quadratics, Lessard–Recht–Packard 2016):
        """),
        code(r"""
        optima = {**rates.heavy_ball_optimum(), **rates.nesterov_optimum()}
        for name, formula in optima.items():
            display(Math(TEX_NAMES[name] + " = " + tex(formula)))

        valley = hl.steep_valley()
        q = quantities(valley)           # the same formulas evaluated at mu = 1, L = 100
        print(f"steep valley, kappa = 100:  GD rate {q['rate_opt']:.4f}   "
              f"heavy ball: lr = {q['lr_hb_opt']:.5f}, beta = {q['beta_hb_opt']:.5f}, rate {q['rate_hb_opt']:.4f}   "
              f"Nesterov: lr = {q['lr_nag_opt']:.5f}, beta = {q['beta_nag_opt']:.5f}, rate {q['rate_nag_opt']:.4f}")
        assert np.isclose(q["rate_hb_opt"] ** 2, q["beta_hb_opt"])   # rate = sqrt(beta)
        """),
        md(r"""
        The rate improves from $(\kappa-1)/(\kappa+1) \approx 1 - 2/\kappa$ to
        $(\sqrt\kappa-1)/(\sqrt\kappa+1) \approx 1 - 2/\sqrt\kappa$: the **square root** of the
        condition number now sets the pace.

        ## 2.3 The spectral radius over $(\eta, \beta)$, with measured steps on top

        The theory bridge computes $\max_\lambda \rho(T(\lambda))$ for a whole grid at once
        (vector hyperparameters), and the engine runs the whole grid — 2,304 heavy-ball
        runs — as **one batched call**. Colour: predicted rate. Black lines: measured steps to
        $f - f^* \le 10^{-6}$. Red: the stability boundary $\rho = 1$; dashed: the derived
        $\eta_{\max}(\beta)$, $2(1+\beta)/L$ for the heavy ball and $2(1+\beta)/((1+2\beta)L)$
        for Nesterov. Look at the two boundaries: as $\beta$ grows, the heavy ball's bends to
        the **right** (larger stable steps) and Nesterov's to the **left** (smaller ones).
        """),
        code("""
        x0 = np.zeros(2)
        lr_grid = np.geomspace(1e-3, 0.06, 48)
        beta_grid = np.linspace(0.0, 0.98, 48)
        LR, BETA = np.meshgrid(lr_grid, beta_grid)

        from hessian_lab import studies

        def rate_and_steps(name, symbolic_rate):
            # one batched engine call over the grid, with the theory bridge's rates beside it
            study = studies.sweep(valley, name, [studies.Axis("lr", lr_grid, "log"), studies.Axis("beta", beta_grid)],
                                  x0, tol=1e-6, max_steps=3000, bound=5, boundary=False)
            rate = symbolic_rate(LR, BETA, valley.eigenvalues)             # symbolic layer
            assert np.allclose(rate, study.predicted_rate.reshape(LR.shape), rtol=1e-6, atol=1e-9)
            return study, rate, study.result.steps_to_tol.reshape(LR.shape)

        study_hb, rate_hb, steps_hb = rate_and_steps("momentum", rates.heavy_ball_rate)
        study_nag, rate_nag, steps_nag = rate_and_steps("nesterov", rates.nesterov_rate)
        print(f"fewest measured steps: heavy ball {np.nanmin(steps_hb):.0f}, Nesterov {np.nanmin(steps_nag):.0f}")
        assert LR.size == 2304   # "2,304 heavy-ball runs"
        """),
        code("""
        from matplotlib.colors import Normalize

        levels = [50, 100, 200, 500, 1000, 2000]

        def label_spots(steps):
            # one label per level, where its line crosses the first of these beta rows it reaches:
            # spread along the line instead of piled up where the lines bunch near the boundary
            spots = []
            for level in levels:
                for b in (0.3, 0.5, 0.7, 0.85, 0.95):
                    j = np.argmin(np.abs(beta_grid - b))
                    row = steps[j]
                    left = np.arange(row.size) <= np.nanargmin(row)          # steps fall with lr up to here
                    ok = np.isfinite(row) & left
                    if ok.sum() > 1 and row[ok].min() < level < row[ok].max():
                        x = np.interp(level, row[ok][::-1], lr_grid[ok][::-1])
                        if x < 0.7 * lr_grid[np.isfinite(row)].max():        # clear of the boundary
                            spots.append((x, beta_grid[j]))
                            break
            return spots

        def stable_edge(rate):
            # the largest stable learning rate of each beta row, read off the predicted rates
            return np.array([lr_grid[row < 1].max() for row in rate])

        fig, axes = plt.subplots(1, 2, figsize=(12, 5.2), sharey=True, layout="constrained")
        panels = [
            (axes[0], "heavy ball", rate_hb, steps_hb, 2 * (1 + beta_grid) / 100, (q["lr_hb_opt"], q["beta_hb_opt"])),
            (axes[1], "Nesterov", rate_nag, steps_nag, 2 * (1 + beta_grid) / ((1 + 2 * beta_grid) * 100),
             (q["lr_nag_opt"], q["beta_nag_opt"])),
        ]
        edges = {}
        for ax, name, rate, steps, boundary, optimum in panels:
            mesh = ax.pcolormesh(LR, BETA, np.minimum(rate, 1.2), shading="nearest", cmap="magma_r",
                                 norm=Normalize(0.8, 1.05))
            cs = ax.contour(LR, BETA, np.nan_to_num(steps, nan=1e5), levels=levels, colors="black", linewidths=0.8)
            ax.clabel(cs, fmt="%d steps", fontsize=9, manual=label_spots(steps), inline_spacing=3)
            ax.contour(LR, BETA, rate, levels=[1.0], colors="red", linewidths=2)
            ax.plot(boundary, beta_grid, "w--", lw=1.5, label="derived η_max(β)")
            ax.plot(*optimum, "*", color="cyan", mec="black", ms=16, label="theoretical optimum")
            ax.plot([], [], color="red", label="rate = 1 (stability boundary)")
            ax.plot([], [], color="black", lw=0.8, label="measured steps to 1e-6")
            ax.set_xscale("log")
            ax.grid(False)
            ax.set_xlabel("learning rate η")
            ax.set_title(f"{name}: predicted spectral radius, steep valley")
            ax.legend(loc="lower left", fontsize="small")
            edges[name] = (stable_edge(rate), boundary)
        axes[0].set_ylabel("momentum β")
        fig.colorbar(mesh, ax=axes, label="spectral radius per step (above 1: diverges)", shrink=0.9)
        plt.show()

        step = lr_grid[1] / lr_grid[0]                                   # the grid's resolution in lr
        for name, (edge, derived) in edges.items():
            assert np.all((edge <= derived) & (derived < edge * step))     # the red line is the derived one
            print(f"{name}: largest stable lr {derived[0]:.4f} at beta = 0, {derived[-1]:.4f} at beta = {beta_grid[-1]}")
        hb_edge, nag_edge = edges["heavy ball"][1], edges["Nesterov"][1]
        assert np.all(np.diff(hb_edge) > 0) and np.all(np.diff(nag_edge) < 0)   # heavy ball bends right, Nesterov left
        assert np.isclose(hb_edge[0], 0.02) and round(hb_edge[-1], 4) == 0.0396 and round(nag_edge[-1], 4) == 0.0134
        """),
        md(r"""
        The same sweep as the package's standard heatmap: measured steps coloured, the
        predicted stability boundary in red, Polyak's optimum as a star, the fastest cell as a
        diamond. The fastest cell is **not** at the star: it takes about half the steps of
        Polyak's parameters from this start, at a *worse* asymptotic rate.
        """),
        code("""
        optimum = (study_hb.optimum["lr"], study_hb.optimum["beta"])   # Polyak's, from the catalog
        assert np.allclose(optimum, (q["lr_hb_opt"], q["beta_hb_opt"]))
        display(plots.sweep_heatmap(lr_grid, beta_grid, steps_hb, "learning rate η", "momentum β",
                                    log_x=True, optimum=optimum, rate=rate_hb,
                                    status=study_hb.result.status.reshape(LR.shape),
                                    title="Heavy ball on the steep valley: measured steps to f - f* <= 1e-6"))
        best = np.unravel_index(study_hb.best, LR.shape)               # the study's fastest cell
        star = hl.run(valley, hl.Momentum(lr=q["lr_hb_opt"], beta=q["beta_hb_opt"]), x0, tol=1e-6, bound=5)
        print(f"fastest cell: lr = {LR[best]:.4f}, beta = {BETA[best]:.3f}: {steps_hb[best]:.0f} steps, "
              f"predicted rate {rate_hb[best]:.4f}")
        print(f"Polyak's optimum: lr = {q['lr_hb_opt']:.4f}, beta = {q['beta_hb_opt']:.3f}: {star.steps[0]} steps, "
              f"rate {q['rate_hb_opt']:.4f}")
        assert steps_hb[best] < 0.6 * star.steps[0]        # "about half the steps"
        assert rate_hb[best] > q["rate_hb_opt"]            # "at a worse asymptotic rate"
        """),
        md(r"""
        **Transient against asymptotic rate.** Polyak's optimum minimizes the *asymptotic* rate
        $\rho(T)$: how fast the error shrinks after many steps. The iteration matrices are not
        normal (at the optimum the extreme modes even have a double root, a Jordan block), so
        $\|T^t\|$ can be far larger than $\rho^t$ for small $t$: the worst-case error first
        **grows**, then decays. A run of a few dozen steps is mostly transient, and a
        slightly worse rate with a smaller transient wins. Below: the worst case over the
        modes $\lambda \in [1, 100]$ of $|w_t| / |w_0|$ from rest ($w_{-1} = w_0$), the
        asymptotic $\rho^t$, and the valley run measured by the engine.
        """),
        code("""
        def worst_case_growth(lr, beta, t_max=60, lams=np.linspace(1.0, 100.0, 200)):
            \"\"\"max over modes of |w_t / w_0| from rest, by iterating the 2x2 matrices.\"\"\"
            W = np.stack([np.ones_like(lams), np.ones_like(lams)])      # (w_t, w_{t-1}) per mode
            out = [1.0]
            for _ in range(t_max):
                W = np.stack([(1 + beta - lr * lams) * W[0] - beta * W[1], W[0]])
                out.append(np.abs(W[0]).max())
            return np.array(out)

        t = np.arange(61)
        growth = worst_case_growth(q["lr_hb_opt"], q["beta_hb_opt"])
        growth_best = worst_case_growth(LR[best], BETA[best])
        run_star = hl.run(valley, hl.Momentum(lr=q["lr_hb_opt"], beta=q["beta_hb_opt"]), x0, tol=1e-6, bound=5, record="x")
        dist = np.linalg.norm(run_star.x_history[:, 0, :] - valley.minimizer, axis=1)
        fig, ax = plt.subplots()
        ax.semilogy(t, growth, color="C0", label=f"Polyak's optimum: worst case over modes (peak {growth.max():.1f}x)")
        ax.semilogy(t, q["rate_hb_opt"] ** t, "--", color="C0", label=f"Polyak's optimum: ρ^t, ρ = {q['rate_hb_opt']:.3f}")
        ax.semilogy(t, growth_best, color="C1", label=f"fastest cell: worst case (peak {growth_best.max():.1f}x)")
        ax.semilogy(t, rate_hb[best] ** t, "--", color="C1", label=f"fastest cell: ρ^t, ρ = {rate_hb[best]:.3f}")
        ax.semilogy(np.arange(dist.size)[:61], (dist / dist[0])[:61], ":", color="black", label="valley from the origin, Polyak (engine)")
        ax.axhline(1.0, color="gray", lw=0.8)
        ax.set_xlabel("step t")
        ax.set_ylabel("|error_t| / |error_0|")
        ax.set_title("Transient growth before the asymptotic rate takes over (κ = 100)")
        ax.legend(fontsize="small")
        plt.show()
        print(f"worst-case growth at Polyak's optimum: {growth.max():.2f}x at step {growth.argmax()}")
        assert round(growth.max(), 1) == 3.7      # the number in the text below
        """),
        md(r"""
        At Polyak's optimum ($\kappa = 100$) the worst-case error grows about **3.7 times**
        in the first few steps before $\rho^t$ takes over: the optimum of the asymptotic rate
        is not the optimum for a short run from one particular start.
        """),
        md(r"""
        ## 2.4 Optimal parameters in action: theory curves through the measured losses

        GD at $\eta^*$, the optimal heavy ball and the optimal Nesterov from the origin. Solid:
        engine. Dashed: `predicted_path`, the closed-form solution of the mode recurrences.
        They lie on top of each other.
        """),
        code("""
        methods = {
            "GD at η*": hl.GD(lr=q["lr_opt"]),
            "optimal heavy ball": hl.Momentum(lr=q["lr_hb_opt"], beta=q["beta_hb_opt"]),
            "optimal Nesterov": hl.Nesterov(lr=q["lr_nag_opt"], beta=q["beta_nag_opt"]),
        }
        runs = {name: hl.run(valley, opt, x0, tol=1e-6, bound=5, record=("loss", "x"))
                for name, opt in methods.items()}
        colors = {name: COLORS[opt.name] for name, opt in methods.items()}
        fig = plots.loss_curves({name: res.loss_history[:, 0] for name, res in runs.items()},
                                min_value=valley.min_value, tol=1e-6, colors=colors,
                                title="Steep valley: measured (solid) and predicted (dashed) loss",
                                ylabel="f(x_t) - f*")
        ax = fig.axes[0]
        for i, (name, opt) in enumerate(methods.items()):
            steps = np.arange(runs[name].steps[0] + 1)
            predicted = predicted_path(valley, opt, x0, "loss", steps)[:, 0]
            ax.plot(steps, predicted, "--", color="black", lw=1)
            measured = runs[name].loss_history[: steps.size, 0]
            assert np.allclose(predicted, measured, rtol=1e-8, atol=1e-14)   # "on top of each other"
        ax.set_xlabel("step t")
        fig
        """),
        code("""
        plots.contour_paths(valley, {name: res.x_history[:, 0, :] for name, res in runs.items()},
                            start=x0, minimizer=valley.minimizer, panels=True, resolution=120, colors=colors,
                            title="Optimal GD, heavy ball and Nesterov paths, one panel each")
        """),
        md(r"""
        ## 2.5 Terminal velocity $1/(1-\beta)$ and damping $1/(1+\beta)$

        Unroll the velocity: $v_t = \sum_{k \ge 0} \beta^k g_{t-k}$.

        * Where the gradient is **constant** (a long gentle slope) the sum tends to
          $g/(1-\beta)$: momentum multiplies the step by the **terminal velocity** factor
          $1/(1-\beta)$ — $10\times$ for $\beta = 0.9$.
        * Where the gradient **alternates in sign** (the zig-zag across a valley) the sum tends to
          $\pm g/(1+\beta)$: oscillations are **damped**, which is why the heavy ball's largest
          stable step grows from $2/L$ to $2(1+\beta)/L$. Nesterov's gradient at the look-ahead
          point undoes that: its largest stable step *shrinks*, to $2(1+\beta)/((1+2\beta)L)$.

        The symbolic layer solves the two steady states $v = \beta v + g$ and
        $-v = \beta v + g$:
        """),
        code(r"""
        prose = {"gain_constant": (r"\text{terminal velocity}", 1 / (1 - rates.beta)),
                 "gain_alternating": (r"\text{damping}", 1 / (1 + rates.beta))}
        for name, gain in rates.momentum_gains().items():
            shown, formula = prose[name]
            assert sp.simplify(gain - formula) == 0      # the symbolic layer's steady state is the text's formula
            display(Math(shown + " = " + tex(formula)))
        """),
        md(r"""
        Both in one experiment each. First a nearly flat 1-D quadratic ($\lambda = 10^{-6}$,
        minimizer far away), so the gradient is almost constant, with four values of $\beta$
        in one batched call.
        """),
        code("""
        slope = hl.Quadratic([1e-6], center=[1e4])
        betas = np.array([0.0, 0.5, 0.8, 0.9])
        glide = hl.run(slope, hl.Momentum(lr=1.0, beta=betas), np.zeros(1), criterion="distance",
                       tol=1e-9, max_steps=150, record="x")
        X = glide.x_history[:, :, 0]                                  # (T+1, B)
        step_len = np.abs(np.diff(X, axis=0))
        grad_len = np.abs(slope.spectrum[0] * (X[:-1] - slope.center[0]))
        fig, ax = plt.subplots()
        for b, bt in enumerate(betas):
            ax.plot(step_len[:, b] / grad_len[:, b], color=f"C{b}", label=f"β = {bt:g}")
            ax.axhline(1 / (1 - bt), color=f"C{b}", ls=":", lw=1)
        ax.set_yscale("log")
        ax.set_xlabel("step t")
        ax.set_ylabel("step length / (η |∇f(x_t)|)")
        ax.set_title("Terminal velocity on a constant slope: the step tends to 1/(1 − β) (dotted)")
        ax.legend(fontsize="small")
        plt.show()
        gain = step_len[-1] / grad_len[-1]
        assert np.allclose(gain, 1 / (1 - betas), rtol=0.05)                # every beta reaches 1/(1 - beta)
        assert np.isclose(1 / (1 - 0.9), 10) and abs(gain[3] - 10) < 0.5     # "10x for beta = 0.9"
        """),
        md(r"""
        Now the damping: a 1-D quadratic with $\lambda = 1$, a sweep over 300 learning rates
        × 20 values of $\beta$ (6,000 runs, one call). For every $\beta$, the largest learning
        rate that still converged, against the derived boundaries
        $\eta_{\max}^{\mathrm{HB}} = 2(1+\beta)/\lambda$ and
        $\eta_{\max}^{\mathrm{NAG}} = 2(1+\beta)/((1+2\beta)\lambda)$.
        """),
        code("""
        one = hl.Quadratic([1.0], center=[1.0])
        lr_line = np.linspace(0.01, 4.5, 300)
        beta_line = np.linspace(0.0, 0.95, 20)
        LR1, B1 = np.meshgrid(lr_line, beta_line)
        fig, ax = plt.subplots()
        largest_lr = {}
        for name, method, theory in [
            ("heavy ball", hl.Momentum, 2 * (1 + beta_line)),
            ("Nesterov", hl.Nesterov, 2 * (1 + beta_line) / (1 + 2 * beta_line)),
        ]:
            color = COLORS[method.name]
            res = hl.run(one, method(lr=LR1.ravel(), beta=B1.ravel()), np.zeros(1), tol=1e-8,
                         max_steps=2000, bound=1e6)
            assert res.batch == 6000   # "6,000 runs, one call"
            ok = res.converged.reshape(LR1.shape)
            largest = np.array([lr_line[row].max() if row.any() else np.nan for row in ok])
            ax.plot(beta_line, largest, "o", color=color, label=f"{name}: largest converging η (engine)")
            ax.plot(beta_line, theory, "-", color=color, label=f"{name}: derived η_max")
            assert np.all((largest <= theory) & (theory - largest < 2 * (lr_line[1] - lr_line[0])))   # engine = derived
            largest_lr[name] = largest
        ax.axhline(2.0, color="gray", ls=":", label="GD: η_max = 2 / λ")
        ax.set_xlabel("momentum β")
        ax.set_ylabel("largest stable learning rate η × λ")
        ax.set_title("Damping: the heavy ball's stable step grows with β, Nesterov's shrinks")
        ax.legend(fontsize="small")
        plt.show()
        hb, nag = largest_lr["heavy ball"], largest_lr["Nesterov"]
        assert np.all(hb[1:] > 2) and np.all(np.diff(hb) > 0)     # the heavy ball tolerates larger steps than GD
        assert np.all(nag[1:] < 2) and np.all(np.diff(nag) < 0)   # Nesterov smaller ones, "less forgiving"
        """),
        md(r"""
        ## Take-aways

        1. Momentum turns each mode into a 2×2 linear recursion; its spectral radius is the rate.
        2. Complex roots have modulus $\sqrt\beta$ — the optimum puts both extreme modes at the
           double root, giving rate $(\sqrt\kappa-1)/(\sqrt\kappa+1)$.
        3. Along a constant gradient momentum accelerates up to $1/(1-\beta)$; across an
           oscillating one it damps by $1/(1+\beta)$.
        4. Nesterov's look-ahead changes the matrix (and the optimum: $\eta = 4/(3L+\mu)$), and
           is less forgiving of large steps for a given $\beta$.

        **Questions.** Why does the heavy ball's red boundary bend to the right as $\beta$ grows
        ($\eta_{\max}$ from 0.02 at $\beta = 0$ to 0.0396 at $\beta = 0.98$), while Nesterov's
        bends to the left (from 0.02 to 0.0134)? Where in the
        $(\eta, \beta)$ map are the roots complex for *every* mode, and what does the loss curve
        look like there?
        """),
    ]


NOTEBOOKS = {"02_momentum_and_nesterov.ipynb": notebook_02}
