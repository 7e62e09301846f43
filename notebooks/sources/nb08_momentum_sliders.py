# ruff: noqa: E501  (cell sources keep their own line lengths)
"""Notebook 8. Momentum with sliders: lr, beta and kappa redraw the path, the modes and r(lambda)."""

from __future__ import annotations

from .cells import SETUP, code, md


def notebook_08():
    return [
        md(r"""
        # 8. Momentum with sliders

        Three views of one run, redrawn together whenever a slider moves (the layout of Goh's
        ["Why Momentum Really Works"](https://distill.pub/2017/momentum/)):

        * **the path** of the heavy ball (or Nesterov) on the contours of
          $f(x) = \tfrac12 x^\top \mathrm{diag}(1, \kappa)\, x$, from $(1, 1)$;
        * **the error along each eigenvector**, $|w_i(t)|$ for $\lambda = 1$ and
          $\lambda = \kappa$ (the problem is axis-aligned, so these are the coordinates),
          with the guides $r(\lambda_i)^t$;
        * **the rate of every mode**, $r(\lambda)$ = the spectral radius of the iteration
          matrix $T(\lambda)$ of notebook 2, against $\lambda$, with the problem's two
          eigenvalues marked and the region $|r| > 1$ shaded.

        Sliders: the learning rate $\eta$ (`lr`, log scale), the momentum $\beta$ and the
        condition number $\kappa$ (log scale); buttons: heavy ball or Nesterov.

        **To move the sliders** the notebook needs a live kernel with ipywidgets:
        `pip install -e ".[notebooks]"`, then `jupyter lab notebooks/` and open this file.
        Everything below the explorer also runs without widgets and shows fixed settings.
        """),
        code(SETUP, """
        from hessian_lab.explorer import MomentumExplorer, momentum_figure, momentum_view
        """),
        md(r"""
        ## The explorer

        Each change runs the engine (at most 200 steps) and the theory bridge's recurrence
        again and redraws the figure: `hessian_lab.explorer.momentum_view(lr, beta, kappa,
        method)` computes the data, `momentum_figure(view)` draws it.
        """),
        code("""
        explorer = MomentumExplorer(lr=0.03, beta=0.7, kappa=100.0)
        explorer
        """),
        md(r"""
        The sliders call `explorer.update` on every change; setting a value from code does
        the same (handy for a lecture script):
        """),
        code("""
        before = explorer.view
        explorer.kappa.value = 30.0            # as if the kappa slider were moved
        print(before.summary())
        print(explorer.view.summary())
        assert explorer.view.kappa == 30.0 and explorer.view.steps != before.steps   # redrawn
        explorer.kappa.value = 100.0
        """),
        md(r"""
        ## Four settings to try

        **1. $\beta = 0$ is gradient descent.** Then $T(\lambda)$ is the number
        $1 - \eta\lambda$ and $r(\lambda) = |1 - \eta\lambda|$, the "V" of notebook 1. At
        $\eta^* = 2/(1 + \kappa)$ both eigenvalues sit on the V at the same height
        $R^* = (\kappa - 1)/(\kappa + 1)$: the flat mode shrinks slowly, the steep mode flips
        sign every step.
        """),
        code("""
        kappa = 100.0
        gd = momentum_view(lr=2 / (1 + kappa), beta=0.0, kappa=kappa, steps=1200)
        display(momentum_figure(gd))
        print(gd.summary())
        assert np.allclose(gd.radius, np.abs(1 - gd.lr * gd.lams))                  # the V
        assert np.allclose(gd.mode_radius, (kappa - 1) / (kappa + 1))              # both modes at R*
        assert np.all(np.sign(gd.path[1:, 1]) == -np.sign(gd.path[:-1, 1]))        # the steep mode zig-zags
        assert gd.status == "converged"
        """),
        md(r"""
        **2. Polyak's optimum.** With $\eta = 4/(1 + \sqrt\kappa)^2$ and
        $\beta = \big((\sqrt\kappa - 1)/(\sqrt\kappa + 1)\big)^2$ every mode between the two
        eigenvalues has complex roots, of modulus $\sqrt\beta$: $r(\lambda)$ is **flat** at
        $\sqrt\beta = (\sqrt\kappa - 1)/(\sqrt\kappa + 1)$ across $[1, \kappa]$, and both
        errors oscillate inside the same envelope. Compare the step count with GD's above.
        """),
        code("""
        s = (np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1)
        polyak = momentum_view(lr=4 / (1 + np.sqrt(kappa)) ** 2, beta=s * s, kappa=kappa)
        display(momentum_figure(polyak))
        print(polyak.summary())
        band = (polyak.lams > 1.01) & (polyak.lams < 0.99 * kappa)
        assert np.allclose(polyak.radius[band], s) and np.allclose(polyak.mode_radius, s, rtol=1e-6)   # flat at sqrt(beta)
        assert polyak.status == "converged" and polyak.steps < gd.steps / 4           # far fewer steps than GD
        print(f"steps to ||x - x*|| <= 1e-8: GD at lr* {gd.steps}, Polyak's heavy ball {polyak.steps}")
        """),
        md(r"""
        **3. Past the stability bound.** The heavy ball is stable for
        $\eta < 2(1 + \beta)/L$. Just above it, the steep mode's $r$ leaves the unit band:
        its error grows by about $r$ per step while the flat mode still shrinks, until the run
        leaves the box $|x_i| < 1000$.
        """),
        code("""
        beta = 0.5
        over = momentum_view(lr=1.1 * 2 * (1 + beta) / kappa, beta=beta, kappa=kappa)
        display(momentum_figure(over))
        print(over.summary())
        assert over.status == "diverged" and over.mode_radius[1] > 1 > over.mode_radius[0]
        steep = np.abs(over.path[:, 1])
        assert np.all(steep[-5:] > steep[-6:-1])                                    # the steep mode grows
        """),
        md(r"""
        **4. Nesterov at the same settings.** The look-ahead gradient changes the matrix, and
        for a given $\beta$ Nesterov's largest stable step is *smaller*:
        $2(1+\beta)/((1+2\beta)L)$ against the heavy ball's $2(1+\beta)/L$ (notebook 2's
        boundaries, bending left and right). At $\eta = 0.03$, $\beta = 0.7$, $\kappa = 100$
        the heavy ball converges and Nesterov diverges. Press the buttons above to see it move.
        """),
        code("""
        hb, nag = momentum_view(0.03, 0.7, kappa), momentum_view(0.03, 0.7, kappa, method="nesterov")
        display(momentum_figure(nag))
        print(hb.summary())
        print(nag.summary())
        assert nag.lr_max < 0.03 < hb.lr_max and hb.status == "converged" and nag.status == "diverged"
        """),
        md(r"""
        ## Questions

        1. Fix $\kappa = 100$ and $\beta = 0.9$. Slide $\eta$ up from $10^{-4}$: where does
           $r(\lambda)$ first touch $\sqrt\beta$ at $\lambda = 1$, and why does the flat mode
           start to oscillate there?
        2. With $\beta = 0.9$, which $\eta$ puts *both* dots on the flat part of $r(\lambda)$?
           Compare with Polyak's formula.
        3. Raise $\kappa$ from 10 to 1000 at Polyak's optimum (recomputed for each $\kappa$):
           how does the step count grow? (Notebook 1 measured it: like $\sqrt\kappa$.)
        """),
    ]


NOTEBOOKS = {"08_momentum_sliders.ipynb": notebook_08}
