# ruff: noqa: E501  (cell sources keep their own line lengths)
"""Notebook 1. Ill-conditioning: why gradient descent crawls."""

from __future__ import annotations

from .cells import SETUP, code, md


def notebook_01():
    return [
        md(r"""
        # 1. Ill-conditioning: why gradient descent crawls

        **Story of this lesson.** Near a minimum every smooth loss looks like a quadratic. On a
        quadratic, gradient descent (GD) splits into independent one-dimensional problems, one
        per eigenvalue of the Hessian. Each shrinks by its own factor
        $r(\lambda) = 1 - \eta\lambda$ per step, and the slowest one sets the pace. We derive the
        largest stable learning rate $\eta_{\max}$, the best one $\eta^*$ and the best rate
        $R^* = (\kappa-1)/(\kappa+1)$, then watch all of it happen in runs of the
        `hessian_lab` engine.

        Notation: learning rate $\eta$ (`lr` in the code), eigenvalues $\lambda_i$ of the
        Hessian $H$, $\mu = \lambda_{\min}$, $L = \lambda_{\max}$, condition number
        $\kappa = L/\mu$.
        """),
        code(SETUP),
        md(r"""
        ## 1.1 The quadratic model and its eigenbasis

        Taylor's theorem at a minimizer $x^*$ (where $\nabla f(x^*) = 0$):

        $$f(x) \approx f^* + \tfrac12 (x - x^*)^\top H (x - x^*), \qquad \nabla f(x) \approx H (x - x^*).$$

        With the error $e_t = x_t - x^*$, one GD step $x_{t+1} = x_t - \eta \nabla f(x_t)$ reads
        $e_{t+1} = (I - \eta H)\, e_t$. Write $H = Q \Lambda Q^\top$ and $w = Q^\top e$ (the
        error in the eigenbasis): the matrix becomes diagonal and every coordinate evolves
        alone,

        $$w_{t+1,i} = (1 - \eta\lambda_i)\, w_{t,i} = r(\lambda_i)\, w_{t,i}, \qquad w_{t,i} = r(\lambda_i)^t\, w_{0,i}.$$

        Our running example is the **steep valley**: $\lambda = (1, 100)$, axis-aligned
        ($Q = I$, so the eigenbasis *is* the coordinate basis), minimizer $c = (0.8, 0.6)$.
        """),
        code("""
        valley = hl.steep_valley()
        print(valley)
        print("eigenvalues:", valley.eigenvalues, " minimizer:", valley.minimizer,
              " kappa =", valley.condition_number)
        """),
        md(r"""
        **The algorithm in five lines of NumPy.** Before the library: gradient descent on this
        quadratic is a loop of one matrix product and one subtraction. The library's engine
        (`hl.run`, used from here on) does the same for many runs at once, with stopping
        rules; the cell checks that both give the same iterates.
        """),
        code("""
        H, c, eta = np.diag([1.0, 100.0]), np.array([0.8, 0.6]), 0.019   # Hessian, minimizer, step
        x = np.zeros(2)
        for t in range(100):
            g = H @ (x - c)          # gradient of f(x) = 1/2 (x - c)^T H (x - c)
            x = x - eta * g          # one GD step
        print("after 100 steps by hand: x =", x, " distance to c:", np.linalg.norm(x - c))

        engine = hl.run(valley, hl.GD(lr=eta), np.zeros(2), max_steps=100, criterion="distance", tol=1e-12, record="x")
        assert np.allclose(engine.x_history[100, 0], x, rtol=1e-12, atol=1e-15)   # the same iterates
        """),
        md(r"""
        ## 1.2 Deriving $\eta_{\max}$, $\eta^*$ and $R^*$ symbolically

        * **Stability.** Every mode shrinks iff $|1 - \eta\lambda| < 1$ for all
          $\lambda \in [\mu, L]$, i.e. $0 < \eta < 2/L$.
        * **Best step.** The overall rate is $R(\eta) = \max(|1-\eta\mu|, |1-\eta L|)$: one
          line falls, the other rises, and the maximum is smallest where they cross,
          $1 - \eta\mu = -(1 - \eta L)$.
        * **Best rate.** At that $\eta^*$ the rate is $R^* = 1 - \eta^*\mu$.

        The symbolic layer (`hessian_lab.symbolic.rates`) holds these formulas; the cell below
        prints them.
        """),
        code(r"""
        from hessian_lab.symbolic import rates

        display(Math(r"r(\lambda) = " + tex(rates.gd_factor) + r", \qquad R(\eta) = " + tex(rates.gd_rate_expr)))
        F = rates.formulas()            # derived by sympy.solve inside the symbolic layer
        for name in ("lr_max", "lr_opt", "rate_opt"):
            display(Math(TEX_NAMES[name] + " = " + tex(F[name])))
        """),
        md(r"""
        The symbolic layer writes the best rate through $\kappa = L/\mu$: the famous
        $R^* = 1 - \eta^*\mu = \dfrac{\kappa - 1}{\kappa + 1} \approx 1 - \dfrac{2}{\kappa}$. For the valley,
        $\kappa = 100$: every step removes only about 2% of the error. The numbers, from the
        same formulas:
        """),
        code("""
        q = quantities(valley)
        kappa = valley.condition_number
        print(f"lr_max = 2/L         = {q['lr_max']:.6f}")
        print(f"lr*    = 2/(mu + L)  = {q['lr_opt']:.6f}")
        print(f"R*                   = {q['rate_opt']:.6f}")
        print(f"(kappa-1)/(kappa+1)  = {(kappa - 1) / (kappa + 1):.6f}")
        assert np.isclose(q["rate_opt"], (kappa - 1) / (kappa + 1))
        assert kappa == 100 and round(100 * (1 - q["rate_opt"])) == 2   # "only about 2%" in the text
        """),
        md(r"""
        ## 1.3 Contraction factors against the learning rate

        For a small spectrum, $\lambda \in [1, 5]$, draw $|r(\mu)|$, $|r(L)|$ and
        $R = \max$ against $\eta$: a "V" whose bottom is $(\eta^*, R^*) = (1/3, 2/3)$, and
        which crosses 1 at $\eta_{\max} = 2/5$. The curves are the spectral radii computed by
        the theory bridge; the black dots are rates **measured** by the engine (the per-step
        shrinkage of $\|x_t - x^*\|$ over 60 GD steps, one batched run for all learning rates).
        """),
        code("""
        from hessian_lab.experiments.rate_curves import factor_curves, measured_rates

        small = hl.Quadratic([1.0, 5.0])
        qs = quantities(small)
        lrs = np.linspace(0.005, 1.2 * qs["lr_max"], 200)
        sample = lrs[::8]
        measured = measured_rates(small, sample, 60)
        curves = factor_curves(1.0, 5.0, lrs)
        fig = plots.rate_curves(
            lrs, curves, lr_opt=qs["lr_opt"], rate_opt=qs["rate_opt"], lr_max=qs["lr_max"],
            title="GD contraction factors per step, eigenvalues in [1, 5]",
            measured=(sample, measured, "measured (engine, 60 steps)"),
        )
        assert np.allclose([qs["lr_opt"], qs["rate_opt"], qs["lr_max"]], [1 / 3, 2 / 3, 2 / 5])  # the text's V
        R = np.max([np.abs(1 - lrs), np.abs(1 - 5 * lrs)], axis=0)
        assert abs(lrs[np.argmin(R)] - 1 / 3) < lrs[1] - lrs[0]             # the V's bottom is at lr*
        assert np.all(R[lrs < 0.4] < 1) and np.all(R[lrs > 0.4] > 1)        # it crosses 1 at lr_max
        assert np.allclose(measured, np.max([np.abs(1 - sample), np.abs(1 - 5 * sample)], axis=0), atol=0.02)
        fig
        """),
        md(r"""
        ## 1.4 The modes in a run

        Run GD at $\eta^*$ on the valley and follow both error coordinates. Theory says both
        shrink by exactly $R^* = 99/101$ per step: the flat mode ($\lambda = 1$) by
        $r = +0.980$, the steep mode ($\lambda = 100$) by $r = -0.980$ — it **flips sign every
        step**, which is the zig-zag across the valley.
        """),
        code("""
        x0 = np.zeros(2)
        res = hl.run(valley, hl.GD(lr=q["lr_opt"]), x0, tol=1e-6, bound=5, record=("loss", "x"))
        E = res.x_history[:, 0, :] - valley.center      # axis-aligned: error = eigen-coordinates
        t = np.arange(len(E))

        fig, ax = plt.subplots()
        for i, lam_i in enumerate(valley.spectrum):
            r_i = 1 - q["lr_opt"] * lam_i
            ax.semilogy(t, np.abs(E[:, i]), lw=2, alpha=0.7, label=f"measured |w_{i + 1}(t)|, λ = {lam_i:g}")
            ax.semilogy(t, np.abs(E[0, i]) * np.abs(r_i) ** t, "k--", lw=1,
                        label=f"theory |r|^t |w(0)|, r = {r_i:+.4f}")
        ax.set_xlabel("step t")
        ax.set_ylabel("|error| in each eigen-direction")
        ax.set_title("GD at η* on the steep valley: both modes shrink at R*")
        ax.legend(fontsize="small")
        plt.show()

        prediction = predict(valley, hl.GD(lr=q["lr_opt"]), x0, tol=1e-6)
        print(f"steps to f - f* <= 1e-6: measured {res.steps[0]}, predicted {prediction.steps[0]:.0f}")
        assert res.steps[0] == prediction.steps[0]
        print("signs of the steep-mode error, first 8 steps:", np.sign(E[:8, 1]))
        assert np.isclose(q["rate_opt"], 99 / 101) and round(1 - q["lr_opt"] * 100, 3) == -0.980  # as stated above
        assert np.all(np.sign(E[1:, 1]) == -np.sign(E[:-1, 1]))   # the steep mode flips sign every step
        assert np.all(np.sign(E[:, 0]) == np.sign(E[0, 0]))       # the flat mode never does
        assert np.allclose(np.abs(E[1:]) / np.abs(E[:-1]), q["rate_opt"])   # both shrink by exactly R*
        """),
        md(r"""
        ## 1.5 The steep valley as a picture

        Three learning rates in **one batched engine call** (a vector `lr` makes three runs side
        by side): half of $\eta^*$ (slow and smooth), $\eta^*$ (zig-zag, fastest), and
        $1.01\,\eta_{\max}$ (the steep mode's factor is $|r| > 1$: divergence). One panel per
        run, so the diverging path (cut where it leaves the view, with an arrow) does not
        cover the others.
        """),
        code("""
        labels = ["GD at 0.5 η*", "GD at η*", "GD at 1.01 η_max"]
        sweep = hl.run(valley, hl.GD(lr=[0.5 * q["lr_opt"], q["lr_opt"], 1.01 * q["lr_max"]]), x0,
                       tol=1e-6, bound=5, record=("loss", "x"))
        for label, status, steps in zip(labels, sweep.status, sweep.steps):
            print(f"{label:18s} {status:10s} after {steps} steps")
        steep = sweep.x_history[:60, :, 1] - valley.center[1]       # steep-mode error of each run
        assert np.all(steep[:, 0] * steep[0, 0] >= 0)                       # 0.5 η*: smooth, never crosses
        assert np.all(np.sign(steep[1:, 1]) == -np.sign(steep[:-1, 1]))       # η*: zig-zag
        assert sweep.status[2] == "diverged" and abs(1 - 1.01 * q["lr_max"] * 100) > 1   # |r| > 1

        paths = {label: sweep.x_history[: sweep.steps[b] + 1, b, :] for b, label in enumerate(labels)}   # every step
        plots.contour_paths(valley, paths, start=x0, minimizer=valley.minimizer, panels=True,
                            diverged={"GD at 1.01 η_max": int(sweep.diverged_at[2])},
                            title="Steep valley, λ = (1, 100): GD at three step sizes, every step",
                            resolution=120)
        """),
        md(r"""
        The same three runs as loss curves. Each curve ends at its run's last step: the two
        converging runs where they reach the tolerance (after 637 and 419 steps: half the step
        size is *slower*, not safer), the diverging one where it leaves the box $|x_i| < 5$
        after 101 steps, its loss growing by the factor $|r(L)|^2$ per step on the way.
        """),
        code("""
        ends = sweep.steps                               # each run's finishing step
        curves = {label: sweep.loss_history[: ends[b] + 1, b] for b, label in enumerate(labels)}
        display(plots.loss_curves(curves, min_value=valley.min_value, tol=1e-6,
                                  title="Steep valley: f(x_t) - f* against step t (log scale)",
                                  ylabel="f(x_t) - f*"))
        assert list(ends) == [637, 419, 101] and list(sweep.status) == ["converged", "converged", "diverged"]
        growth = curves["GD at 1.01 η_max"][1:] / curves["GD at 1.01 η_max"][:-1]
        r_L = abs(1 - 1.01 * q["lr_max"] * 100)
        assert np.allclose(growth[-20:], r_L**2, rtol=1e-3)    # the steep mode takes over: growth |r(L)|^2
        """),
        md(r"""
        ## 1.6 Iteration count against $\kappa$

        The loss behaves like $R^{2t}$, so reaching $f - f^* \le \varepsilon$ from $f_0 - f^*$
        takes about

        $$t \approx \frac{\ln\!\big((f_0 - f^*)/\varepsilon\big)}{2\ln(1/R^*)} \approx \frac{\kappa}{4}\,\ln\frac{f_0 - f^*}{\varepsilon} \quad (\kappa \gg 1),$$

        **linear in $\kappa$**. Below: 10-dimensional quadratics with a geometric spectrum in
        $[1, \kappa]$, GD at $\eta^*$ — measured steps (engine), the exact prediction of the
        theory bridge (closed-form mode recurrences) and the asymptotic estimate. As a teaser
        for the next notebook, the optimal heavy ball needs only $O(\sqrt\kappa)$ steps.
        """),
        code(r"""
        kappas = np.geomspace(2, 3000, 12)
        dim, tol = 10, 1e-6
        x0k = np.ones(dim)
        rows = {"GD measured": [], "GD predicted": [], "GD estimate": [], "heavy ball measured": []}
        for k in kappas:
            prob = hl.Quadratic.from_condition(dim, k)          # geometric spectrum in [1, k]
            qk = quantities(prob)
            gd = hl.GD(lr=qk["lr_opt"])
            hb = hl.Momentum(lr=qk["lr_hb_opt"], beta=qk["beta_hb_opt"])
            rows["GD measured"].append(hl.run(prob, gd, x0k, tol=tol, max_steps=50_000).steps[0])
            rows["GD predicted"].append(predict(prob, gd, x0k, tol=tol, max_steps=50_000).steps[0])
            f0 = float(prob.loss(x0k[None, :])[0])
            rows["GD estimate"].append(np.log(f0 / tol) / (2 * np.log(1 / qk["rate_opt"])))
            rows["heavy ball measured"].append(hl.run(prob, hb, x0k, tol=tol, max_steps=50_000).steps[0])

        fig, ax = plt.subplots()
        ax.loglog(kappas, rows["GD measured"], "o-", color=COLORS["gd"], label=r"GD at $\eta^*$: measured (engine)")
        ax.loglog(kappas, rows["GD predicted"], "kx", ms=9, label=r"GD at $\eta^*$: exact prediction (theory)")
        ax.loglog(kappas, rows["GD estimate"], "k:", label=r"estimate $\ln(f_0/\mathrm{tol}) / (2 \ln(1/R^*))$")
        ax.loglog(kappas, rows["heavy ball measured"], "s-", color=COLORS["momentum"], label="optimal heavy ball: measured")
        ax.set_xlabel(r"condition number $\kappa = L / \mu$")
        ax.set_ylabel(r"steps to $f - f^* \leq 10^{-6}$")
        ax.set_title("Steps to tolerance grow like κ for GD, like √κ with momentum")
        ax.legend(fontsize="small")
        plt.show()
        slope = np.polyfit(np.log(kappas[4:]), np.log(rows["GD measured"][4:]), 1)[0]
        slope_hb = np.polyfit(np.log(kappas[4:]), np.log(rows["heavy ball measured"][4:]), 1)[0]
        print(f"log-log slope against kappa (large kappa): GD {slope:.3f} (theory: 1), heavy ball {slope_hb:.3f} (theory: 1/2)")
        assert np.array_equal(rows["GD measured"], rows["GD predicted"])     # "exactly, step for step"
        assert abs(slope - 1) < 0.1 and abs(slope_hb - 0.5) < 0.1            # the title's kappa and sqrt(kappa)
        """),
        md(r"""
        ## Take-aways

        1. On a quadratic, GD is a set of independent scalar recursions $w \mapsto (1-\eta\lambda)w$.
        2. Stability needs $\eta < 2/L$; the best step $\eta^* = 2/(\mu+L)$ balances the flattest
           and the steepest mode, and even then the error shrinks only by
           $R^* = (\kappa-1)/(\kappa+1)$ per step.
        3. Steps to a tolerance grow linearly with $\kappa$ — and the theory predicts them
           *exactly*, step for step.

        **Questions for the class.** What happens to $R^*$ if we add a third eigenvalue
        between 1 and 100? Why does the steep mode's error alternate in sign at $\eta^*$?
        What would a learning rate that is good for the steep mode do to the flat one?
        """),
    ]


NOTEBOOKS = {"01_ill_conditioning.ipynb": notebook_01}
