# ruff: noqa: E501  (cell sources keep their own line lengths)
"""Notebook 4. Hutchinson's estimator and AdaHessian."""

from __future__ import annotations

from .cells import ROTATED_VALLEY, SETUP, code, md


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
        slopes = hutch.data["slopes"]
        assert all(abs(slopes[p] + 0.5) < 0.05 for p in ("rademacher", "gaussian"))   # sigma / sqrt(N)
        assert all(slopes[p + " + blocks of 4"] > -0.25 for p in ("rademacher", "gaussian"))   # blocks flatten
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
        assert res.status[0] == "diverged" and res.steps[0] <= 2        # k = 0: diverges at once (text below)
        assert np.all(res.converged[1:]) and res.steps[-1] == res.steps[res.converged].min()   # k = 1 fastest
        """),
        md(r"""
        At $\eta = 0.15$, $k = 0$ is GD-like with a step far beyond $2/L = 0.02$: it diverges at
        once. The `scaling` experiment shows the payoff of $k = 1$: rescale one coordinate by
        a factor $s$ and only AdaHessian with $k = 1$ keeps its step count. Here its quick
        version, $s = 10^{-2}, 1, 10^{2}$; `hessian-lab experiment scaling` runs
        $s = 10^{-4}, \dots, 10^{3}$.
        """),
        code("""
        scaling = run_experiment("scaling", quick=True)
        spread = scaling.data["spread"]          # max / min steps over the scales, per method
        print("steps over the scales:", {name: list(map(int, v)) for name, v in scaling.data["steps"].items()})
        assert list(scaling.data["scales"]) == [1e-2, 1.0, 1e2]                     # the scales named above
        assert spread["AdaHessian k=1"] == 1 and all(v > 1.5 for k, v in spread.items() if k != "AdaHessian k=1")
        scaling.figures["steps_vs_scale"]
        """),
        md(r"""
        ## 4.5 AdaHessian against Adam: axis-aligned and rotated

        On the axis-aligned valley a single Rademacher probe recovers $\mathrm{diag}(H)$
        exactly, and AdaHessian is (momentum) Newton: one probe or sixteen, the same run. On
        the valley rotated by 45°, the diagonal is $(50.5, 50.5)$ and the off-diagonal $49.5$:
        one probe's estimate is $|50.5 \pm 49.5|$, i.e. 100 or 1 (the variance formula
        predicted it: $\mathrm{Var} = H_{12}^2$).

        What does that do to the step? AdaHessian does not use one estimate: it averages
        $D_t^2$ over the steps ($\beta_2 = 0.999$), and the square weighs the 100s. Its
        curvature scale $\sqrt{\hat v}$ settles at the **root mean square** of the estimates,
        $\sqrt{(100^2 + 1^2)/2} \approx 70.7$ with one probe, larger than the exact 50.5; the
        mean of 16 probes has RMS $\sqrt{50.5^2 + 49.5^2/16} \approx 52.0$. So the noise of one
        probe makes the curvature estimate *larger* and the steps *smaller*: one probe is the
        slower run, not the one with huge steps.
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
        adam_lr = quantities(valley)["lr_opt"]
        contenders = {
            "Adam (lr = lr*)": hl.Adam(lr=adam_lr),
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
        colors = plots.palette(list(contenders), {"Adam (lr = lr*)": COLORS["adam"],
                                                  "AdaHessian (lr = 0.15, 1 probe)": COLORS["adahessian"]})
        for name, problem in (("axis-aligned", valley), ("rotated 45 deg", turned)):
            shown = {label: r.x_history[:, 0, :] for label, r in results[name].items()}
            diverged = {label: r.diverged_at[0] if r.status[0] == "diverged" else None for label, r in results[name].items()}
            display(plots.contour_paths(problem, shown, start=x0, minimizer=problem.minimizer, resolution=120,
                                        diverged=diverged, colors=colors, title=f"Steep valley ({name}): Adam vs AdaHessian"))
        aligned = results["axis-aligned"]
        assert aligned["AdaHessian (lr = 0.15, 1 probe)"].steps[0] == aligned["AdaHessian (lr = 0.15, 16 probes)"].steps[0]

        # one probe against sixteen on the rotated valley: slower, with smaller steps
        on45 = results["rotated 45 deg"]
        one, many = on45["AdaHessian (lr = 0.15, 1 probe)"], on45["AdaHessian (lr = 0.15, 16 probes)"]
        rms = {"1 probe": np.sqrt((100**2 + 1**2) / 2), "16 probes": np.sqrt(50.5**2 + 49.5**2 / 16)}
        beta1 = contenders["AdaHessian (lr = 0.15, 1 probe)"].betas[0]
        predictions = []
        for (probes, r) in (("1 probe", one), ("16 probes", many)):
            largest = np.linalg.norm(np.diff(r.x_history[:, 0], axis=0), axis=1).max()
            # with sqrt(v_hat) settled at the RMS, the update is a heavy ball with lr (1 - beta1) / RMS
            twin = hl.Momentum(lr=0.15 * (1 - beta1) / rms[probes], beta=beta1)
            predicted = predict(turned, twin, x0, tol=1e-6, max_steps=20_000).steps[0]
            print(f"{probes:9s}: RMS of the estimates {rms[probes]:5.1f}, largest step {largest:.3f}, "
                  f"measured {r.steps[0]} steps, heavy ball with lr (1 - beta1) / RMS predicts {predicted:.0f}")
            assert abs(r.steps[0] / predicted - 1) < 0.03
            predictions.append(int(predicted))
        assert predictions == [2936, 2145]                                  # the numbers in the text below
        step_one, step_many = (np.linalg.norm(np.diff(r.x_history[:, 0], axis=0), axis=1).max() for r in (one, many))
        assert one.steps[0] > many.steps[0] and step_one < step_many        # one probe: slower, smaller steps
        assert (one.steps[0], many.steps[0], round(step_one, 3), round(step_many, 3)) == (2971, 2136, 0.117, 0.143)
        assert on45["AdaHessian (lr = 0.15, 16 probes)"].steps[0] > on45["Adam (lr = lr*)"].steps[0]   # the text below
        assert round(0.15 / 50.5, 3) == 0.003 and round(quantities(valley)["lr_opt"], 2) == 0.02
        """),
        md(r"""
        Measured on the rotated valley: one probe needs 2,971 steps and its largest step is
        0.117; sixteen probes need 2,136 steps, largest step 0.143. Read as a heavy ball with
        step $\eta(1-\beta_1)/\mathrm{RMS}$, the theory bridge predicts 2,936 and 2,145 steps.

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
        eigenvalues = np.linalg.eigvalsh(np.array(H_start, dtype=float))
        gradient = neuron.grad(np.array([[-2.0, -2.0]]))[0]
        print("eigenvalues:", eigenvalues)
        print("gradient at the start:", gradient)
        assert eigenvalues.min() < 0                                        # not positive definite
        assert np.abs(eigenvalues).max() < 0.05 and np.linalg.norm(gradient) < 0.05   # tiny curvature and gradient
        """),
        md(r"""
        The package's `sigmoid-neuron` experiment: 200 epochs (full batch, one step per epoch)
        of AdaHessian, Adam and GD.
        """),
        code("""
        neuron_runs = run_experiment("sigmoid-neuron")
        assert neuron_runs.data["epochs"] == 200
        print(neuron_runs.table_markdown())
        final = {row["optimizer"]: row["final loss"] for row in neuron_runs.table}
        assert final["AdaHessian"] < final["Adam"] < final["GD"]       # the curvature-scaled step gets furthest
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


NOTEBOOKS = {"04_hutchinson_and_adahessian.ipynb": notebook_04}
