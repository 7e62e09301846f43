# ruff: noqa: E501  (cell sources keep their own line lengths)
"""Write the teaching notebooks of ``notebooks/`` with nbformat.

    python notebooks/build_notebooks.py          # rewrites notebooks/0*.ipynb

The notebooks are stored without outputs (``execution_count`` None), so they review as
plain text and run top to bottom in the test suite (``tests/test_notebooks.py``, which also
checks that the stored files are what this script writes). Edit the cells here, not in the
``.ipynb`` files, and regenerate.

Text follows measurement: where a sentence states a number, the cell that measures it
asserts it, so a changed result stops the notebook instead of leaving the text wrong.

Notebook 5 is written twice from the same cells: ``05_exercises.ipynb`` with the reference
solutions and ``05_exercises_student.ipynb`` with every answer set to ``None``. The check
cells are the same in both; each runs only once its answers are set (``answered``), so the
student version executes top to bottom, printing "not answered yet" per exercise, and a
filled-in wrong answer still fails with the check's hint.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent


def md(text: str):
    return new_markdown_cell(textwrap.dedent(text).strip("\n"))


def code(*parts: str):
    return new_code_cell("\n\n".join(textwrap.dedent(part).strip("\n") for part in parts))


SETUP = """
%matplotlib inline
import numpy as np
import matplotlib.pyplot as plt
import sympy as sp
from IPython.display import Markdown, Math, display

import hessian_lab as hl
from hessian_lab import plots
from hessian_lab.experiments.base import quantities  # lr*, lr_max, optima of a quadratic
from hessian_lab.theory import predict, predicted_path

np.set_printoptions(precision=4, suppress=True)
plt.rcParams.update({"figure.figsize": (7, 4.5), "axes.grid": True, "grid.alpha": 0.3,
                     "figure.constrained_layout.use": True})   # no clipped labels
"""


# ----------------------------------------------------------------------------------------
# 01 ill-conditioning
# ----------------------------------------------------------------------------------------


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

        display(Math(r"r(\lambda) = " + sp.latex(rates.gd_factor)
                     + r", \qquad R(\mathrm{lr}) = " + sp.latex(rates.gd_rate_expr)))
        F = rates.formulas()            # derived by sympy.solve inside the symbolic layer
        for name in ("lr_max", "lr_opt", "rate_opt"):
            display(Math(r"\mathrm{" + name.replace("_", r"\_") + "} = " + sp.latex(F[name])))
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
        fig = plots.rate_curves(
            lrs, factor_curves(1.0, 5.0, lrs),
            lr_opt=qs["lr_opt"], rate_opt=qs["rate_opt"], lr_max=qs["lr_max"],
            title="GD contraction factors per step, eigenvalues in [1, 5]",
        )
        ax = fig.axes[0]
        sample = lrs[::8]
        ax.plot(sample, measured_rates(small, sample, 60), "ko", ms=4, label="measured (engine, 60 steps)")
        ax.set_xlabel("learning rate lr (step size)")
        ax.set_ylabel("contraction factor per step")
        ax.legend(fontsize="small")
        assert np.allclose([qs["lr_opt"], qs["rate_opt"], qs["lr_max"]], [1 / 3, 2 / 3, 2 / 5])  # the text's V
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
            ax.semilogy(t, np.abs(E[:, i]), lw=2, alpha=0.7, label=f"measured |w_{i + 1}(t)|, lambda = {lam_i:g}")
            ax.semilogy(t, np.abs(E[0, i]) * np.abs(r_i) ** t, "k--", lw=1,
                        label=f"theory |r|^t |w(0)|, r = {r_i:+.4f}")
        ax.set_xlabel("step t")
        ax.set_ylabel("|error| in each eigen-direction")
        ax.set_title("GD at lr* on the steep valley: both modes shrink at R*")
        ax.legend(fontsize="small")
        plt.show()

        prediction = predict(valley, hl.GD(lr=q["lr_opt"]), x0, tol=1e-6)
        print(f"steps to f - f* <= 1e-6: measured {res.steps[0]}, predicted {prediction.steps[0]:.0f}")
        print("signs of the steep-mode error, first 8 steps:", np.sign(E[:8, 1]))
        assert np.isclose(q["rate_opt"], 99 / 101) and round(1 - q["lr_opt"] * 100, 3) == -0.980  # as stated above
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
        labels = ["GD at 0.5 lr*", "GD at lr*", "GD at 1.01 lr_max"]
        sweep = hl.run(valley, hl.GD(lr=[0.5 * q["lr_opt"], q["lr_opt"], 1.01 * q["lr_max"]]), x0,
                       tol=1e-6, bound=5, record=("loss", "x"))
        for label, status, steps in zip(labels, sweep.status, sweep.steps):
            print(f"{label:18s} {status:10s} after {steps} steps")

        paths = {label: sweep.x_history[:60, b, :] for b, label in enumerate(labels)}
        plots.contour_paths(valley, paths, start=x0, minimizer=valley.minimizer, panels=True,
                            diverged={"GD at 1.01 lr_max": int(sweep.diverged_at[2])},
                            title="Steep valley, lambda = (1, 100): the first 60 GD steps",
                            resolution=120)
        """),
        code("""
        plots.loss_curves({label: sweep.loss_history[:, b] for b, label in enumerate(labels)},
                          min_value=valley.min_value, tol=1e-6,
                          title="Steep valley: f(x_t) - f* against step t (log scale)",
                          ylabel="f(x_t) - f*")
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
        code("""
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
        ax.loglog(kappas, rows["GD measured"], "o-", label="GD at lr*: measured (engine)")
        ax.loglog(kappas, rows["GD predicted"], "kx", ms=9, label="GD at lr*: exact prediction (theory)")
        ax.loglog(kappas, rows["GD estimate"], "k:", label="estimate ln(f0/tol) / (2 ln(1/R*))")
        ax.loglog(kappas, rows["heavy ball measured"], "s-", label="optimal heavy ball: measured")
        ax.set_xlabel("condition number kappa = L / mu")
        ax.set_ylabel("steps to f - f* <= 1e-6")
        ax.set_title("Steps to tolerance grow like kappa for GD, like sqrt(kappa) with momentum")
        ax.legend(fontsize="small")
        plt.show()
        slope = np.polyfit(np.log(kappas[4:]), np.log(rows["GD measured"][4:]), 1)[0]
        print(f"log-log slope of GD steps against kappa (large kappa): {slope:.3f}  (theory: 1)")
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


# ----------------------------------------------------------------------------------------
# 02 momentum and Nesterov
# ----------------------------------------------------------------------------------------


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
            display(Math(r"T(\lambda) = " + sp.latex(method.matrix)
                         + r",\qquad \det(zI - T) = " + sp.latex(method.characteristic_polynomial)))
            display(Math(r"\text{product of the roots} = \det T = " + sp.latex(method.det)
                         + r",\qquad \text{discriminant} = " + sp.latex(sp.factor(method.discriminant))))
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
                         + sp.latex(sp.simplify(boundary))
                         + r"\qquad\text{stored: } \eta\lambda < " + sp.latex(stored)))
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
            display(Math(r"\mathrm{" + name.replace("_", r"\_") + "} = " + sp.latex(formula)))

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
        $\eta_{\max} = 2(1+\beta)/L$.
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

        fig, axes = plt.subplots(1, 2, figsize=(13, 5), sharey=True, layout="constrained")
        panels = [
            (axes[0], "heavy ball", rate_hb, steps_hb, 2 * (1 + beta_grid) / 100, (q["lr_hb_opt"], q["beta_hb_opt"])),
            (axes[1], "Nesterov", rate_nag, steps_nag, 2 * (1 + beta_grid) / ((1 + 2 * beta_grid) * 100),
             (q["lr_nag_opt"], q["beta_nag_opt"])),
        ]
        for ax, name, rate, steps, boundary, optimum in panels:
            mesh = ax.pcolormesh(LR, BETA, np.minimum(rate, 1.2), shading="nearest", cmap="magma_r",
                                 norm=Normalize(0.8, 1.05))
            cs = ax.contour(LR, BETA, np.nan_to_num(steps, nan=1e5), levels=[50, 100, 200, 500, 1000, 2000],
                            colors="black", linewidths=0.8)
            ax.clabel(cs, fmt="%d steps", fontsize=7)
            ax.contour(LR, BETA, rate, levels=[1.0], colors="red", linewidths=2)
            ax.plot(boundary, beta_grid, "w--", lw=1.5, label="derived lr_max(beta)")
            ax.plot(*optimum, "*", color="cyan", mec="black", ms=16, label="theoretical optimum")
            ax.plot([], [], color="red", label="rate = 1 (stability boundary)")
            ax.plot([], [], color="black", lw=0.8, label="measured steps to 1e-6")
            ax.set_xscale("log")
            ax.grid(False)
            ax.set_xlabel("learning rate lr")
            ax.set_title(f"{name}: predicted spectral radius, steep valley")
            ax.legend(loc="lower left", fontsize="small")
        axes[0].set_ylabel("momentum beta")
        fig.colorbar(mesh, ax=axes, label="spectral radius per step (above 1: diverges)")
        plt.show()
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
        display(plots.sweep_heatmap(lr_grid, beta_grid, steps_hb, "learning rate lr", "momentum beta",
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
        ax.semilogy(t, q["rate_hb_opt"] ** t, "--", color="C0", label=f"Polyak's optimum: rho^t, rho = {q['rate_hb_opt']:.3f}")
        ax.semilogy(t, growth_best, color="C1", label=f"fastest cell: worst case (peak {growth_best.max():.1f}x)")
        ax.semilogy(t, rate_hb[best] ** t, "--", color="C1", label=f"fastest cell: rho^t, rho = {rate_hb[best]:.3f}")
        ax.semilogy(np.arange(dist.size)[:61], (dist / dist[0])[:61], ":", color="black", label="valley from the origin, Polyak (engine)")
        ax.axhline(1.0, color="gray", lw=0.8)
        ax.set_xlabel("step t")
        ax.set_ylabel("|error_t| / |error_0|")
        ax.set_title("Transient growth before the asymptotic rate takes over (kappa = 100)")
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
            "GD at lr*": hl.GD(lr=q["lr_opt"]),
            "optimal heavy ball": hl.Momentum(lr=q["lr_hb_opt"], beta=q["beta_hb_opt"]),
            "optimal Nesterov": hl.Nesterov(lr=q["lr_nag_opt"], beta=q["beta_nag_opt"]),
        }
        runs = {name: hl.run(valley, opt, x0, tol=1e-6, bound=5, record=("loss", "x"))
                for name, opt in methods.items()}
        fig = plots.loss_curves({name: res.loss_history[:, 0] for name, res in runs.items()},
                                min_value=valley.min_value, tol=1e-6,
                                title="Steep valley: measured (solid) and predicted (dashed) loss",
                                ylabel="f(x_t) - f*")
        ax = fig.axes[0]
        for i, (name, opt) in enumerate(methods.items()):
            steps = np.arange(runs[name].steps[0] + 1)
            ax.plot(steps, predicted_path(valley, opt, x0, "loss", steps)[:, 0], "--", color="black", lw=1)
        ax.set_xlabel("step t")
        fig
        """),
        code("""
        plots.contour_paths(valley, {name: res.x_history[:, 0, :] for name, res in runs.items()},
                            start=x0, minimizer=valley.minimizer, panels=True, resolution=120,
                            title="Optimal GD, heavy ball and Nesterov paths, one panel each")
        """),
        md(r"""
        ## 2.5 Terminal velocity $1/(1-\beta)$ and damping $1/(1+\beta)$

        Unroll the velocity: $v_t = \sum_{k \ge 0} \beta^k g_{t-k}$.

        * Where the gradient is **constant** (a long gentle slope) the sum tends to
          $g/(1-\beta)$: momentum multiplies the step by the **terminal velocity** factor
          $1/(1-\beta)$ — $10\times$ for $\beta = 0.9$.
        * Where the gradient **alternates in sign** (the zig-zag across a valley) the sum tends to
          $\pm g/(1+\beta)$: oscillations are **damped**, which is why the largest stable step
          grows from $2/L$ to $2(1+\beta)/L$.

        The symbolic layer solves the two steady states $v = \beta v + g$ and
        $-v = \beta v + g$:
        """),
        code(r"""
        for name, gain in rates.momentum_gains().items():
            display(Math(r"\mathrm{" + name.replace("_", r"\_") + "} = " + sp.latex(gain)))
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
            ax.plot(step_len[:, b] / grad_len[:, b], color=f"C{b}", label=f"beta = {bt:g}")
            ax.axhline(1 / (1 - bt), color=f"C{b}", ls=":", lw=1)
        ax.set_yscale("log")
        ax.set_xlabel("step t")
        ax.set_ylabel("|x_{t+1} - x_t| / (lr |grad f(x_t)|)")
        ax.set_title("Terminal velocity on a constant slope: the step tends to 1/(1 - beta) (dotted)")
        ax.legend(fontsize="small")
        plt.show()
        assert np.isclose(1 / (1 - 0.9), 10) and abs(step_len[-1, 3] / grad_len[-1, 3] - 10) < 0.5  # "10x for beta = 0.9"
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
        for i, (name, method, theory) in enumerate([
            ("heavy ball", hl.Momentum, 2 * (1 + beta_line)),
            ("Nesterov", hl.Nesterov, 2 * (1 + beta_line) / (1 + 2 * beta_line)),
        ]):
            res = hl.run(one, method(lr=LR1.ravel(), beta=B1.ravel()), np.zeros(1), tol=1e-8,
                         max_steps=2000, bound=1e6)
            assert res.batch == 6000   # "6,000 runs, one call"
            ok = res.converged.reshape(LR1.shape)
            largest = np.array([lr_line[row].max() if row.any() else np.nan for row in ok])
            ax.plot(beta_line, largest, "o", color=f"C{i}", label=f"{name}: largest converging lr (engine)")
            ax.plot(beta_line, theory, "-", color=f"C{i}", label=f"{name}: derived lr_max")
        ax.axhline(2.0, color="gray", ls=":", label="GD: lr_max = 2 / lambda")
        ax.set_xlabel("momentum beta")
        ax.set_ylabel("largest stable learning rate x lambda")
        ax.set_title("Damping 1/(1+beta): momentum tolerates larger steps on a stiff mode")
        ax.legend(fontsize="small")
        plt.show()
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

        **Questions.** Why does the red boundary bend to the right as $\beta$ grows? Where in the
        $(\eta, \beta)$ map are the roots complex for *every* mode, and what does the loss curve
        look like there?
        """),
    ]


# ----------------------------------------------------------------------------------------
# 03 adaptive methods
# ----------------------------------------------------------------------------------------


ROTATED_VALLEY = """
def rotated_valley(angle_deg):
    \"\"\"The steep valley turned by angle_deg about the origin (start and distances unchanged).\"\"\"
    a = np.radians(angle_deg)
    Q = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    return hl.Quadratic([1.0, 100.0], rotation=Q, center=Q @ np.array([0.8, 0.6]))
"""


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
        print("first Adam step:      ", first.x_history[1, 0] - x0, f"(lr = {q['lr_opt']:.4f})")
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

        chosen = {label: opt for label, _, opt in valley_runs(q)
                  if label in ("GD at lr*", "Adam", "RMSProp", "AdaGrad")}

        def race(problem):
            return {label: hl.run(problem, opt, x0, tol=1e-6, bound=5, max_steps=10_000, record=("loss", "x"))
                    for label, opt in chosen.items()}

        aligned = race(valley)
        for label, res in aligned.items():
            print(f"{label:10s} {res.status[0]:10s} {res.steps[0]:6d} steps")
        assert all(aligned[m].steps[0] < aligned["GD at lr*"].steps[0] for m in ("Adam", "RMSProp", "AdaGrad"))
        plots.contour_paths(valley, {k: r.x_history[:, 0, :] for k, r in aligned.items()}, start=x0,
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
        plots.contour_paths(turned, {k: r.x_history[:, 0, :] for k, r in rotated.items()}, start=x0,
                            minimizer=turned.minimizer, resolution=150,
                            title="Steep valley rotated by 45 degrees: the adaptive methods lose their edge")
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
            ax.plot(angles, values, "o-", ms=4, label=label)
        ax.set_yscale("log")
        ax.set_xlabel("rotation angle of the valley (degrees)")
        ax.set_ylabel("steps to f - f* <= 1e-6")
        ax.set_title("Rotation invariance: GD is flat, the diagonal methods are not")
        ax.legend(fontsize="small")
        plt.show()

        gd_steps = np.array(steps["GD at lr*"])
        adaptive = np.array([steps[m] for m in ("Adam", "RMSProp", "AdaGrad")])
        slower = np.all(adaptive > gd_steps, axis=0)
        print("angles where all three adaptive methods are slower than GD:", angles[slower])
        assert np.all(gd_steps == gd_steps[0])                                   # GD: flat
        assert all(rotated[m].steps[0] > rotated["GD at lr*"].steps[0] for m in ("Adam", "RMSProp", "AdaGrad"))
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
        table = {"GD at lr* of c = 1": [], "Adam at lr* of c = 1": []}
        for c in scales:
            scaled = hl.Quadratic([c, 100 * c], center=[0.8, 0.6])
            for label, opt in (("GD at lr* of c = 1", hl.GD(lr=q["lr_opt"])), ("Adam at lr* of c = 1", hl.Adam(lr=q["lr_opt"]))):
                res = hl.run(scaled, opt, x0, criterion="distance", tol=1e-3, max_steps=5000, bound=5)
                table[label].append(res.steps_to_tol[0])
        fig, ax = plt.subplots()
        for label, values in table.items():
            ax.plot(scales, values, "o-", label=label)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("loss scale factor c (loss = c f)")
        ax.set_ylabel("steps to ||x - x*|| <= 1e-3")
        ax.text(0.02, 0.02, "missing points: diverged or > 5000 steps", transform=ax.transAxes, fontsize="small")
        ax.set_title("Scaling the loss: Adam does not notice (until eps = 1e-8 matters), GD does")
        ax.legend(fontsize="small")
        plt.show()
        for c, n in zip(scales, table["Adam at lr* of c = 1"]):
            print(f"c = {c:7.0e}: Adam {'not reached' if np.isnan(n) else f'{n:.0f} steps'}")
        """),
        md(r"""
        ## Take-aways

        1. Adaptive methods are GD with a **diagonal** preconditioner built from gradient
           statistics; early on Adam is close to sign descent.
        2. A diagonal preconditioner can only fix ill-conditioning that is **aligned with the
           axes**. Rotate the problem and the advantage shrinks or disappears; GD does not care.
        3. Adam is invariant to multiplying the loss by a constant (up to $\epsilon$); GD's
           learning rate has to be retuned.

        **Questions.** At 45° all three adaptive methods are slower than GD (see the sweep): why
        does dividing by $\sqrt{\hat v}$ hurt when the diagonal of $H$ is $(50.5, 50.5)$? Which
        coordinate system would make the rotated valley easy for Adam again?
        """),
    ]


# ----------------------------------------------------------------------------------------
# 04 Hutchinson and AdaHessian
# ----------------------------------------------------------------------------------------


def notebook_04():
    return [
        md(r"""
        # 4. Hutchinson's estimator and AdaHessian

        Notebook 3 built the diagonal preconditioner from *gradient* statistics. A second-order
        method would rather divide by the **curvature** $H_{ii}$ — diagonal Newton,
        $x_i \leftarrow x_i - g_i / H_{ii}$. For a network we cannot form $H$, but we can
        multiply by it. This lesson:

        1. Hessian-vector products $Hv$ without $H$;
        2. Hutchinson's estimator $\mathbb{E}[z \odot Hz] = \mathrm{diag}(H)$, derived
           symbolically and checked by enumeration; its variance; block averaging;
        3. AdaHessian = Adam with $|z \odot Hz|$ in place of $|g|$, and the Hessian power $k$;
        4. AdaHessian against Adam on the axis-aligned and rotated valley, and on one sigmoid
           neuron (with the 3-D surface).
        """),
        code(SETUP),
        md(r"""
        ## 4.1 Hessian-vector products

        $Hv = \nabla_x\big(\nabla f(x)^\top v\big) = \lim_{h\to 0} \frac{\nabla f(x + hv) - \nabla f(x - hv)}{2h}$:
        one extra backward pass in autodiff, never the $d \times d$ matrix. Every problem in
        `hessian_lab` has `hvp(X, V)` for a whole batch. Check it on a rotated quadratic (against
        the dense $H$) and on a sigmoid neuron (against central differences of the gradient):
        """),
        code("""
        from hessian_lab.problems.expression import sigmoid_neuron

        rng = np.random.default_rng(0)
        quad = hl.Quadratic.from_condition(6, 50.0, rotation="random", seed=1)
        X, V = rng.standard_normal((4, 6)), rng.standard_normal((4, 6))
        print("quadratic: max |hvp - V H| =", np.abs(quad.hvp(X, V) - V @ quad.hessian_matrix).max())

        neuron = sigmoid_neuron()          # f(w, b) on the data x = (0.5, 2.5), y = (0.2, 0.9)
        Xn, Vn, h = np.array([[-2.0, -2.0], [1.0, 0.5]]), np.array([[1.0, 0.0], [0.3, -0.7]]), 1e-5
        central = (neuron.grad(Xn + h * Vn) - neuron.grad(Xn - h * Vn)) / (2 * h)
        print("neuron:    max |hvp - central difference| =", np.abs(neuron.hvp(Xn, Vn) - central).max())
        """),
        md(r"""
        ## 4.2 Hutchinson's diagonal estimator, derived

        Draw $z$ with independent entries, $\mathbb{E} z_i = 0$, $\mathbb{E} z_i^2 = 1$
        (Rademacher $\pm 1$, or Gaussian). Then

        $$\mathbb{E}[z \odot Hz]_i = \sum_j H_{ij}\, \mathbb{E}[z_i z_j] = H_{ii}.$$

        The symbolic layer expands $z_i (Hz)_i$ and its square as polynomials in the probe
        entries and replaces every monomial by its moment (Rademacher: $z^2 = 1$ exactly;
        Gaussian: $\mathbb{E}z^4 = 3$). For a general symmetric $3\times 3$ matrix:
        """),
        code(r"""
        from hessian_lab import hutchinson as hn                 # the numeric estimators
        from hessian_lab.symbolic import hutchinson as hut      # their derivation (sympy)

        H3 = hut.symmetric_matrix(3)
        for probe in hut.PROBES:
            derived = hut.derive_diagonal_estimator(H3, probe=probe)
            display(Markdown(f"**{probe} probes**"))
            display(Math(r"\mathbb{E}[z \odot Hz] = " + sp.latex(derived["mean"].T)))
            display(Math(r"\mathrm{Var}[z \odot Hz] = " + sp.latex(derived["variance"].T)))
            assert derived["mean"] == H3.diagonal().T
        """),
        md(r"""
        So the estimate is **unbiased**, and with Rademacher probes its variance is
        $\sum_{j\ne i} H_{ij}^2$: only the **off-diagonal** mass of row $i$ adds noise —
        a diagonal $H$ is recovered exactly from a single probe. Gaussian probes add $2H_{ii}^2$.

        **Checked by enumeration.** With Rademacher probes there are only $2^d$ sign vectors;
        averaging $z \odot Hz$ over all of them is the expectation itself:
        """),
        code("""
        H = quad.hessian_matrix
        exact = hn.exact_enumeration_diagonal(H)          # the mean over all 2^6 = 64 sign vectors
        print("diag(H):              ", np.diag(H))
        print("enumerated E[z * Hz]: ", exact)
        assert np.allclose(exact, np.diag(H))

        # and the same through the problem's own Hessian-vector product, a batch of 64 probes
        import itertools
        Z = np.array(list(itertools.product([-1.0, 1.0], repeat=6)))
        print("via problem.hvp:      ", (Z * quad.hvp(np.zeros_like(Z), Z)).mean(axis=0))

        # the variance of one probe: derived formula against 20,000 probes (one seed each)
        sampled = hn.estimate_diagonal(H, 1, seed=np.arange(20_000))
        print("variance, formula:    ", hn.diagonal_variance(H, "rademacher"))
        print("variance, sampled:    ", sampled.var(axis=0))
        """),
        md(r"""
        ## 4.3 Error against the number of probes, and block averaging

        Averaging $N$ probes divides the variance by $N$: the RMS error falls like
        $\sigma/\sqrt N$ (slope $-1/2$ on log-log axes). **Averaging the signed estimate over
        blocks** of $b$ neighbouring coordinates (e.g. a convolution kernel) gives less
        variance but a bias $\mathrm{diag}(H) - \mathrm{blockmean}(\mathrm{diag}(H))$ that no
        number of probes removes — the blocked curves flatten. The package's `hutchinson`
        experiment (16-D rotated quadratic, $\kappa = 10$; theory from the derived variances):
        """),
        code("""
        from hessian_lab.experiments import run_experiment

        hutch = run_experiment("hutchinson")
        for note in hutch.notes:
            print("-", note)
        hutch.figures["error_vs_probes"]
        """),
        md(r"""
        **AdaHessian's bias is another one.** AdaHessian does not average the signed
        $z \odot Hz$: it takes $D = |z \odot Hz|$ (then averages over the block). The mean of an
        absolute value is not the absolute value of the mean: $\mathbb{E}|D_i| \ne |H_{ii}|$
        whenever row $i$ has off-diagonal mass. For $H = \begin{pmatrix}1 & 3\\ 3 & 10\end{pmatrix}$
        and a Rademacher probe, $D_1 = |z_1(z_1 + 3 z_2)| = |1 + 3 z_1 z_2|$ is 4 or 2, so
        $\mathbb{E}|D_1| = 3$, three times $H_{11} = 1$, while $D_2 = |10 \pm 3|$ averages to
        $10 = H_{22}$. So even with infinitely many probes and blocks of one, AdaHessian's
        curvature estimate is biased upward where $|H_{ij}|$ is large next to $H_{ii}$.
        Enumerating all four sign vectors:
        """),
        code("""
        import itertools

        H2 = np.array([[1.0, 3.0], [3.0, 10.0]])
        signs = np.array(list(itertools.product([-1.0, 1.0], repeat=2)))    # all 4 probes, equally likely
        D = signs * (signs @ H2)                                              # z * Hz per probe, (4, 2)
        print("z * Hz for each probe:\\n", D)
        print("E[z * Hz]   =", D.mean(axis=0), "  = diag(H), unbiased")
        print("E|z * Hz|   =", np.abs(D).mean(axis=0), "  != |diag(H)| =", np.abs(np.diag(H2)))
        assert np.allclose(D.mean(axis=0), np.diag(H2))
        assert np.allclose(np.abs(D).mean(axis=0), [3.0, 10.0])      # E|D_1| = 3, not 1
        """),
        md(r"""
        ## 4.4 AdaHessian and the Hessian power $k$

        AdaHessian is Adam with the gradient in the second moment replaced by the Hutchinson
        estimate $D_t = |z_t \odot H_t z_t|$ (block-averaged):

        $$v_t = \beta_2 v_{t-1} + (1-\beta_2) D_t^2, \qquad x_{t+1} = x_t - \eta\,\frac{\hat m_t}{\hat v_t^{\,k/2} + \epsilon}.$$

        With $k = 1$ the step is $\approx \hat m_i / |H_{ii}|$ — diagonal Newton with momentum;
        $k = 0$ is plain momentum GD with step $\eta$. On an axis-aligned quadratic the
        preconditioned spectrum is $\lambda_i^{1-k}$, so the effective condition number is
        $\kappa^{1-k}$ (symbolic layer):
        """),
        code(r"""
        from hessian_lab.symbolic import rates

        display(Math(r"r_i = " + sp.latex(rates.hessian_power_factor)
                     + r",\qquad \kappa_{\mathrm{eff}} = " + sp.latex(rates.hessian_power_kappa)))

        valley = hl.steep_valley()
        x0 = np.zeros(2)
        powers = [0.0, 0.25, 0.5, 0.75, 1.0]
        res = hl.run(valley, hl.AdaHessian(lr=0.15, hessian_power=powers), x0, tol=1e-6, bound=5)  # 5 rows, one call
        for k, status, steps in zip(powers, res.status, res.steps):
            print(f"k = {k:4.2f}: effective kappa = {100 ** (1 - k):7.1f}   {status:9s} after {steps} steps")
        """),
        md(r"""
        At $\eta = 0.15$, $k = 0$ is GD-like with a step far beyond $2/L = 0.02$: it diverges at
        once. The `scaling` experiment shows the payoff of $k = 1$: rescale one coordinate by
        factors from $10^{-4}$ to $10^{3}$ and only AdaHessian with $k = 1$ keeps its step count.
        """),
        code("""
        scaling = run_experiment("scaling", quick=True)
        scaling.figures["steps_vs_scale"]
        """),
        md(r"""
        ## 4.5 AdaHessian against Adam: axis-aligned and rotated

        On the axis-aligned valley a single Rademacher probe recovers $\mathrm{diag}(H)$
        exactly, and AdaHessian is (momentum) Newton. On the valley rotated by 45°, the
        diagonal is $(50.5, 50.5)$ and the off-diagonal $49.5$: one probe's estimate is
        $|50.5 \pm 49.5|$, i.e. 100 or **1** — a tiny curvature estimate and a huge step. The
        variance formula predicted it: $\mathrm{Var} = H_{12}^2$.
        """),
        code(
            ROTATED_VALLEY,
            """
        turned = rotated_valley(45)
        H45 = turned.hessian_matrix
        assert np.allclose(np.diag(H45), 50.5) and np.isclose(abs(H45[0, 1]), 49.5)   # the text's numbers
        assert np.allclose(sorted({abs(50.5 + 49.5), abs(50.5 - 49.5)}), [1.0, 100.0])   # "100 or 1"
        print("exact diag(H):", np.diag(turned.hessian_matrix), "  per-probe variance:",
              hn.diagonal_variance(turned.hessian_matrix))
        contenders = {
            "Adam (lr = lr*)": hl.Adam(lr=quantities(valley)["lr_opt"]),
            "AdaHessian (lr = 0.15, 1 probe)": hl.AdaHessian(lr=0.15),
            "AdaHessian (lr = 0.15, 16 probes)": hl.AdaHessian(lr=0.15, n_samples=16),
            "AdaHessian (lr = 0.05, 1 probe)": hl.AdaHessian(lr=0.05),
        }
        results = {}
        for name, problem in (("axis-aligned", valley), ("rotated 45 deg", turned)):
            results[name] = {label: hl.run(problem, opt, x0, tol=1e-6, bound=5, max_steps=5000, record=("loss", "x"))
                             for label, opt in contenders.items()}
            for label, r in results[name].items():
                print(f"{name:15s} {label:35s} {r.status[0]:10s} after {r.steps[0]} steps")
        """,
        ),
        code("""
        for name, problem in (("axis-aligned", valley), ("rotated 45 deg", turned)):
            shown = {label: r.x_history[:, 0, :] for label, r in results[name].items()}
            diverged = {label: r.diverged_at[0] if r.status[0] == "diverged" else None for label, r in results[name].items()}
            display(plots.contour_paths(problem, shown, start=x0, minimizer=problem.minimizer, resolution=120,
                                        diverged=diverged, title=f"Steep valley ({name}): Adam vs AdaHessian"))
        on45 = results["rotated 45 deg"]
        assert on45["AdaHessian (lr = 0.15, 16 probes)"].steps[0] > on45["Adam (lr = lr*)"].steps[0]   # the text below
        assert round(0.15 / 50.5, 3) == 0.003 and round(quantities(valley)["lr_opt"], 2) == 0.02
        """),
        md(r"""
        Why is AdaHessian *slower* than Adam on the rotated valley even with 16 probes? Because
        there the **exact** diagonal is $(50.5, 50.5)$: a perfect diagonal preconditioner is a
        single number, and $k = 1$ turns the method into momentum GD with step
        $\eta / 50.5 \approx 0.003$ — far below the $\eta^* \approx 0.02$ the steep direction
        allows, so the flat direction crawls. A diagonal method cannot see the eigenvectors;
        only the full Newton step (notebook 5, and the `newton-vs-gd` experiment) can.
        """),
        md(r"""
        ## 4.6 One sigmoid neuron

        $f(w, b) = \sum_n \big(\sigma(w x_n + b) - y_n\big)^2$ on two points
        ($x = 0.5, 2.5$; $y = 0.2, 0.9$), from the poor start $(w, b) = (-2, -2)$ where the
        neuron is saturated. There the gradient *and* the curvature are tiny — and the Hessian
        is not even positive definite, so plain Newton would step the wrong way. AdaHessian's
        $|D|$ keeps the step a descent step and rescales it by the (small) curvature:
        """),
        code(r"""
        w, b = neuron.variables
        H_start = neuron.hessian_exprs.subs({w: -2, b: -2}).evalf(4)
        display(Math(r"\nabla^2 f(-2, -2) = " + sp.latex(H_start)))
        print("eigenvalues:", np.linalg.eigvalsh(np.array(H_start, dtype=float)))
        print("gradient at the start:", neuron.grad(np.array([[-2.0, -2.0]]))[0])
        """),
        md(r"""
        The package's `sigmoid-neuron` experiment: 200 epochs (full batch, one step per epoch)
        of AdaHessian, Adam and GD.
        """),
        code("""
        neuron_runs = run_experiment("sigmoid-neuron")
        assert neuron_runs.data["epochs"] == 200
        print(neuron_runs.table_markdown())
        neuron_runs.figures["loss_curves"]
        """),
        code("""
        neuron_runs.figures["contour"]
        """),
        code("""
        neuron_runs.figures["surface"]
        """),
        md(r"""
        ## Take-aways

        1. $Hv$ costs about one gradient; Hutchinson turns it into an **unbiased** estimate of
           $\mathrm{diag}(H)$ whose (Rademacher) variance is the off-diagonal mass
           $\sum_{j\ne i} H_{ij}^2$.
        2. Averaging probes cuts the noise like $1/\sqrt N$; block averaging cuts it further at
           the price of a bias; AdaHessian's absolute value $|z \odot Hz|$ adds another
           ($\mathbb{E}|D_i| \ge |H_{ii}|$).
        3. AdaHessian with $k = 1$ is a diagonal Newton method with momentum: invariant to
           rescaling the coordinates, excellent when $H$ is nearly diagonal, fragile when it is
           not (the rotated valley).

        **Questions.** Why does one probe recover a diagonal $H$ exactly? What would you expect
        from AdaHessian on the valley rotated by only 10°?
        """),
    ]


# ----------------------------------------------------------------------------------------
# 05 exercises
# ----------------------------------------------------------------------------------------


ANSWERED = """
def answered(*answers):
    \"\"\"False (with a note) while an exercise's answer cell still holds None: its check waits.\"\"\"
    if any(answer is None for answer in answers):
        print("not answered yet: fill in the cell above, then run this check again")
        return False
    return True
"""


def exercise(
    number: int, title: str, task: str, solution: str, check: str, answers: tuple, student: bool
):
    """Task, answer cell and check cell of one exercise.

    The check runs only once every name in ``answers`` is set (``answered``): the student
    version's answer cell sets them to ``None``, so it runs top to bottom and each check
    says "not answered yet"; a wrong answer stops with an assertion message.
    """
    if student:
        answer = code(
            "# Your answer: replace each None (see the task above).",
            "\n".join(f"{name} = None" for name in answers),
        )
    else:
        answer = code("# Reference solution: try it yourself first, then compare.", solution)
    guarded = f"if answered({', '.join(answers)}):\n" + textwrap.indent(
        textwrap.dedent(check).strip("\n"), "    "
    )
    return [
        md(f"## Exercise {number}: {title}\n\n" + textwrap.dedent(task).strip("\n")),
        answer,
        code("# Check: run this cell; it prints 'correct' or fails with a hint.", guarded),
    ]


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


# ----------------------------------------------------------------------------------------
# 06 check your own optimizer
# ----------------------------------------------------------------------------------------


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


NOTEBOOKS = {
    "01_ill_conditioning.ipynb": notebook_01,
    "02_momentum_and_nesterov.ipynb": notebook_02,
    "03_adaptive_methods.ipynb": notebook_03,
    "04_hutchinson_and_adahessian.ipynb": notebook_04,
    "05_exercises.ipynb": notebook_05,
    "05_exercises_student.ipynb": lambda: notebook_05(student=True),
    "06_check_your_optimizer.ipynb": notebook_06,
}


def build(folder: Path = HERE) -> list[Path]:
    """Write every notebook into ``folder`` (no outputs, no execution counts)."""
    written = []
    for name, make in NOTEBOOKS.items():
        nb = new_notebook(
            cells=make(),
            metadata={
                "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                "language_info": {"name": "python"},
            },
        )
        stem = name.split("_")[0] + ("s" if "student" in name else "")
        for i, cell in enumerate(nb.cells):
            cell.id = f"nb{stem}-{i:02d}"  # stable ids: regenerating gives no spurious diff
        nbformat.validate(nb)
        path = folder / name
        nbformat.write(nb, path)
        written.append(path)
    return written


if __name__ == "__main__":
    for path in build():
        print("wrote", path.relative_to(HERE.parent))
