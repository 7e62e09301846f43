"""Speed and memory figures, each target a ratio measured in this process.

    python benchmarks/run.py            # every figure (a few minutes)
    python benchmarks/run.py --quick    # smoke mode: fewer repeats, smaller subsamples
    python benchmarks/run.py --only sweep   # one figure (sweep dense axis startup memory symbolic)

Every time is a median over repeats (the count is printed with it). See README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import tracemalloc
from functools import partial
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import baselines  # noqa: E402

import hessian_lab as hl  # noqa: E402
from hessian_lab.problems.quadratic import spectrum  # noqa: E402

FIGURES = ("sweep", "dense", "axis", "startup", "memory", "symbolic")
RESULTS: list[tuple[str, str, float, str, bool | None]] = []


def median_time(fn, repeats: int):
    """Median wall time of ``fn()`` over ``repeats`` calls, and the last return value."""
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def line(label: str, value: str) -> None:
    print(f"  {label:<58} {value}")


def target(figure: str, name: str, ratio: float, goal: str, ok: bool | None) -> None:
    verdict = "n/a" if ok is None else ("PASS" if ok else "FAIL")
    shown = "n/a" if ratio != ratio else f"{ratio:,.3g}"
    print(f"  TARGET {name:<50} {shown:>10}  (goal {goal})  {verdict}")
    RESULTS.append((figure, name, ratio, goal, ok))


# --- figure 1 ----------------------------------------------------------------------------

SWEEP = dict(tol=1e-6, max_steps=10_000, bound=5.0)


def sweep_grid():
    lr = np.geomspace(1e-4, 1.0, 64)
    beta = np.linspace(0.0, 0.99, 64)
    L, Bt = np.meshgrid(lr, beta, indexing="ij")
    return L.ravel(), Bt.ravel()


def engine_sweep(lr, beta, backend="numpy"):
    opt = hl.Momentum(lr=lr, beta=beta)
    return hl.run(hl.steep_valley(), opt, np.zeros(2), backend=backend, **SWEEP)


def interleaved(fns: dict, repeats: int):
    """Median wall time of each callable over ``repeats`` rounds, one call of each per round.

    This box's speed drifts by 20-50% over seconds; alternating the calls puts a slow spell
    on every side of a ratio alike. Returns ``({name: median}, {name: last return value})``.
    """
    times = {name: [] for name in fns}
    out = {}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            out[name] = fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(ts) for name, ts in times.items()}, out


def figure_sweep(quick: bool) -> None:
    print("\n[1] sweep: 4,096 heavy-ball configs (64 lr x 64 beta) on the steep valley")
    problem = hl.steep_valley()
    lam, c = problem.spectrum, problem.center
    lr, beta = sweep_grid()
    repeats = 1 if quick else 7
    engine = partial(engine_sweep, lr, beta)
    result = engine()  # warm-up
    steps = result.steps
    row_steps = int(steps.sum()) + steps.size  # checks made, step 0 included
    counts = {s: int(n) for s, n in zip(*np.unique(result.status, return_counts=True), strict=True)}
    engine_times = []

    def timed_engine():
        start = time.perf_counter()
        out = engine()
        engine_times.append(time.perf_counter() - start)
        return out

    print("  (each baseline's calls alternate with engine calls; each ratio uses those)")
    # (c) first: bare NumPy on the same active rows.
    t, out = interleaved(
        {
            "engine": timed_engine,
            "bare": partial(baselines.bare_numpy_heavy_ball, lr, beta, lam, c, **SWEEP),
        },
        repeats,
    )
    b_steps, b_active = out["bare"]
    same = bool(np.array_equal(b_steps, steps)) and b_active == row_steps
    bare_line = (
        f"{t['bare'] * 1e3:,.1f} ms, {t['bare'] / b_active * 1e9:,.1f} ns per active "
        f"row-step (same steps: {same})"
    )
    bare_ratio = (t["engine"] / row_steps) / (t["bare"] / b_active)

    try:
        import torch  # noqa: F401

        have_torch = True
    except ImportError:
        have_torch = False
    if have_torch:
        t_torch_engine, r_t = median_time(lambda: engine_sweep(lr, beta, "torch"), repeats)
        same_t = bool(np.array_equal(r_t.steps, steps))

    # (a) per-run torch.optim.SGD loop on a random subsample, scaled by total steps; the
    # subsample runs in `repeats` groups, each after an engine call.
    loop_ratio = float("nan")
    if have_torch:
        n_sub = 16 if quick else 64
        pick = np.random.default_rng(7).choice(lr.size, size=n_sub, replace=False)
        first_engine = len(engine_times)
        t_sub, sub_steps = 0.0, []
        for group in np.array_split(pick, repeats):
            timed_engine()
            start = time.perf_counter()
            sub_steps += [
                baselines.torch_sgd_loop(lr[i], beta[i], lam, c, **SWEEP)[0] for i in group
            ]
            t_sub += time.perf_counter() - start
        sub_steps = np.array(sub_steps)
        agree = int(np.sum(sub_steps == steps[pick]))
        sub_checks = int(sub_steps.sum()) + n_sub
        t_loop = t_sub / sub_checks * row_steps
        loop_ratio = t_loop / statistics.median(engine_times[first_engine:])

    # (b) jax.vmap over a jitted while_loop.
    try:
        fn, jax = baselines.make_jax_heavy_ball(lam, c, **SWEEP)
    except ImportError:
        fn = None
    jax_ratio = float("nan")
    if fn is not None:
        import jax.numpy as jnp

        a, b = jnp.asarray(lr), jnp.asarray(beta)
        start = time.perf_counter()
        compiled = fn.lower(a, b).compile()
        t_compile = time.perf_counter() - start

        def call():
            out = compiled(a, b)
            jax.block_until_ready(out)
            return out

        call()
        t_j, out = interleaved({"engine": timed_engine, "jax": call}, repeats)
        j_steps = out["jax"][0]
        jax_agree = int(np.sum(np.asarray(j_steps) == steps))
        jax_ratio = t_j["jax"] / t_j["engine"]

    t_engine = statistics.median(engine_times)
    line(f"engine, numpy, one call (median of {len(engine_times)})", f"{t_engine * 1e3:,.1f} ms")
    line("  rows by status", json.dumps(counts))
    line("  updates made (sum of steps)", f"{int(steps.sum()):,}")
    line("  per active row-step", f"{t_engine / row_steps * 1e9:,.1f} ns")
    if have_torch:
        line(
            f"engine, torch CPU, one call (median of {repeats})",
            f"{t_torch_engine * 1e3:,.1f} ms (steps equal numpy: {same_t})",
        )
        line(
            f"per-run torch.optim.SGD loop, {n_sub} random configs",
            f"{t_sub:,.2f} s for {sub_checks:,} row-steps "
            f"({t_sub / sub_checks * 1e6:,.1f} us each; steps agree {agree}/{n_sub})",
        )
        line("  scaled to all 4,096 configs by total row-steps", f"{t_loop:,.0f} s (estimate)")
    ok = None if loop_ratio != loop_ratio else loop_ratio >= 5000
    target("sweep", "per-run SGD loop / engine", loop_ratio, ">= 5000", ok)
    if fn is not None:
        line("jax.vmap(while_loop), float64 CPU, compile", f"{t_compile * 1e3:,.0f} ms")
        line(
            f"jax.vmap(while_loop), run (median of {repeats})",
            f"{t_j['jax'] * 1e3:,.1f} ms (steps agree {jax_agree}/{steps.size})",
        )
    else:
        line("jax", "not installed (pip install 'hessian_lab[bench]')")
    ok = None if jax_ratio != jax_ratio else jax_ratio >= 2.5
    target("sweep", "JAX vmap(while_loop) / engine", jax_ratio, ">= 2.5", ok)
    line(f"bare NumPy loop, same rows (median of {repeats})", bare_line)
    target("sweep", "engine / bare NumPy per active row-step", bare_ratio, "<= 2", bare_ratio <= 2)


# --- figure 2 ----------------------------------------------------------------------------


def figure_dense(quick: bool) -> None:
    d, B, steps = 2048, 32, 200
    print(f"\n[2] dense: rotated quadratic d={d}, B={B}, {steps} steps of Adam")
    problem = hl.Quadratic.from_condition(d, 100.0, rotation="random", seed=0)
    x0 = np.random.default_rng(0).standard_normal((B, d))
    opt = hl.Adam(lr=1e-3)
    repeats = 1 if quick else 5

    def go():
        return hl.run(problem, opt, x0, tol=1e-300, max_steps=steps, backend="numpy")

    H = problem.hessian_matrix
    X = np.ascontiguousarray(x0)
    go()
    for _ in range(3):
        X @ H
    # interleaved, so a neighbour's load moves both sides alike
    engine_times, mm_times = [], []
    for _ in range(repeats):
        t_engine, result = median_time(go, 1)
        assert np.all(result.status == "max_steps")
        engine_times.append(t_engine / steps)
        mm_times.append(median_time(lambda: X @ H, 20)[0])
    per_step, t_mm = statistics.median(engine_times), statistics.median(mm_times)
    line(f"engine, per step (median of {repeats} runs)", f"{per_step * 1e3:,.3f} ms")
    line(f"bare (B, d) @ (d, d) matmul (median of {repeats} x 20)", f"{t_mm * 1e3:,.3f} ms")
    ratio = per_step / t_mm
    target("dense", "engine step / matmul", ratio, "<= 1.25", ratio <= 1.25)


# --- figure 3 ----------------------------------------------------------------------------


def figure_axis(quick: bool) -> None:
    d, steps = 10**6, 20 if quick else 100
    print(f"\n[3] axis-aligned: d={d:,}, B=1, {steps} steps of AdaHessian")
    problem = hl.Quadratic(spectrum(d, 100.0), center=np.full(d, 0.5))
    lam, c = problem.spectrum, problem.center
    opt = hl.AdaHessian()
    x0 = np.zeros(d)
    repeats = 1 if quick else 3

    def go(n=steps):
        return hl.run(problem, opt, x0, tol=1e-300, max_steps=n, backend="numpy")

    go(2)
    t_engine, result = median_time(go, repeats)
    assert result.status[0] == "max_steps"
    per_step = t_engine / steps
    t_bare = statistics.median(
        baselines.bare_adahessian_pass(lam, c, steps) for _ in range(repeats)
    )
    reads, writes = baselines.ADAHESSIAN_TRAFFIC
    line(f"engine, per step (median of {repeats} runs)", f"{per_step * 1e3:,.2f} ms")
    line(
        f"bare pass: {reads} reads + {writes} writes of d-vectors (median of {repeats})",
        f"{t_bare * 1e3:,.2f} ms ({(reads + writes) * 8 * d / t_bare / 1e9:,.1f} GB/s)",
    )
    ratio = per_step / t_bare
    target("axis", "engine step / bare pass", ratio, "<= 2", ratio <= 2)

    state = opt.init(problem.center[None, :] * 0, opt.hyperparameters(1, hl.Backend("numpy")))
    state_bytes = sum(a.nbytes for a in state if isinstance(a, np.ndarray))
    tracemalloc.start()
    tracemalloc.reset_peak()
    before = tracemalloc.get_traced_memory()[0]
    go(10)
    peak = tracemalloc.get_traced_memory()[1] - before
    tracemalloc.stop()
    line("optimizer state (m, v, D)", f"{state_bytes / 1e6:,.1f} MB")
    line("peak allocations during run() (tracemalloc, 10 steps)", f"{peak / 1e6:,.1f} MB")
    ratio = peak / state_bytes
    target("axis", "peak memory / state", ratio, "<= 3", ratio <= 3)


# --- figure 4 ----------------------------------------------------------------------------


def figure_startup(quick: bool) -> None:
    print("\n[4] start-up: whole processes")
    exe = shutil.which("hessian-lab")
    if exe is None:
        line("hessian-lab console script", "not available")
        target("startup", "hessian-lab --help (s)", float("nan"), "< 0.3 s", None)
        target("startup", "hessian-lab run (s)", float("nan"), "< 2 s", None)
        return
    env = dict(os.environ, COLUMNS="100")
    for args, goal, n in ((["--help"], 0.3, 5 if quick else 11), (["run"], 2.0, 3 if quick else 7)):

        def call(args=args):
            done = subprocess.run([exe, *args], capture_output=True, env=env)
            return done.returncode

        call()
        t, rc = median_time(call, n)
        label = "hessian-lab " + " ".join(args)
        line(f"{label} (median of {n})", f"{t:.3f} s (exit {rc})")
        ok = rc == 0 and t < goal
        target("startup", f"{label} (s)", t, f"< {goal:g} s", ok)


# --- figure 5 ----------------------------------------------------------------------------

MEMORY_CHILD = """
import sys
sys.path.insert(0, {here!r})


def hwm():  # peak RSS in kB; unlike ru_maxrss it is not inherited from the forking parent
    with open("/proc/self/status") as status:
        return int(next(x for x in status if x.startswith("VmHWM")).split()[1])


import numpy as np, hessian_lab as hl
from run import engine_sweep, sweep_grid
lr, beta = sweep_grid()
base = hwm()
engine_sweep(lr, beta)
print(base, hwm())
"""


def figure_memory(quick: bool) -> None:
    print("\n[5] memory: figure 1 without histories, in a fresh process")
    n = 1 if quick else 3
    peaks, bases = [], []
    for _ in range(n):
        out = subprocess.run(
            [sys.executable, "-c", MEMORY_CHILD.format(here=str(HERE))],
            capture_output=True,
            text=True,
            check=True,
        )
        base, peak = map(int, out.stdout.split()[-2:])
        bases.append(base / 1024)
        peaks.append(peak / 1024)
    peak = statistics.median(peaks)
    line("peak RSS after imports (VmHWM)", f"{statistics.median(bases):,.1f} MB")
    line(f"peak RSS of the whole process (median of {n})", f"{peak:,.1f} MB")
    target("memory", "peak RSS of the sweep (MB)", peak, "< 200 MB", peak < 200)


# --- figure 6: the symbolic layer ---------------------------------------------------------

SYMBOLIC_CHILD = """
import time
start = time.perf_counter()
from hessian_lab.symbolic import rates
rates.formulas(); rates.quantity_texts()
rates.heavy_ball.spectral_radius; rates.nesterov.spectral_radius
cold = time.perf_counter() - start
start = time.perf_counter()
rates.formulas(); rates.quantity_texts()
print(cold, time.perf_counter() - start)
"""


def figure_symbolic(quick: bool) -> None:
    print("\n[6] symbolic layer: derivation cost and lambdified problems on the hot path")
    n = 1 if quick else 5
    colds, warms = [], []
    for _ in range(n):
        out = subprocess.run(
            [sys.executable, "-c", SYMBOLIC_CHILD], capture_output=True, text=True, check=True
        )
        cold, warm = map(float, out.stdout.split()[-2:])
        colds.append(cold)
        warms.append(warm)
    cold, warm = statistics.median(colds), statistics.median(warms)
    line(f"GD / heavy-ball / Nesterov rate set, cold (median of {n})", f"{cold:.3f} s")
    line("the same, cached", f"{warm * 1e6:.1f} us")
    target("symbolic", "cold derivation (s)", cold, "< 2 s", cold < 2.0)

    from hessian_lab.problems.expression import ExpressionProblem

    hand = hl.Quadratic([1.0, 100.0], center=[0.8, 0.6])
    typed = ExpressionProblem(
        "(x - 0.8)**2 / 2 + 100 * (y - 0.6)**2 / 2", ["x", "y"], min_value=0.0
    )
    X = np.random.default_rng(0).standard_normal((4096, 2))
    repeats = 20 if quick else 200
    t_typed, _ = median_time(lambda: typed.value_and_grad(X), repeats)
    t_quad, _ = median_time(lambda: hand.value_and_grad(X), repeats)
    line(f"lambdified value_and_grad, B=4096 (median of {repeats})", f"{t_typed * 1e6:.1f} us")
    line("Quadratic.value_and_grad, same batch", f"{t_quad * 1e6:.1f} us")
    ratio = t_typed / t_quad
    target("symbolic", "lambdified / hand-written NumPy", ratio, "<= 3 (NumPy speed)", ratio <= 3)


RUNNERS = {
    "sweep": figure_sweep,
    "dense": figure_dense,
    "axis": figure_axis,
    "startup": figure_startup,
    "memory": figure_memory,
    "symbolic": figure_symbolic,
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke mode: fewer repeats")
    parser.add_argument("--only", choices=FIGURES, action="append", help="run one figure")
    args = parser.parse_args(argv)
    print(
        f"hessian_lab benchmarks  python {sys.version.split()[0]}  numpy {np.__version__}  "
        f"cpus {os.cpu_count()}  {'quick' if args.quick else 'full'}"
    )
    for name in args.only or FIGURES:
        RUNNERS[name](args.quick)
    print("\nSummary")
    for figure, name, ratio, goal, ok in RESULTS:
        verdict = "n/a" if ok is None else ("PASS" if ok else "FAIL")
        shown = "n/a" if ratio != ratio else f"{ratio:,.3g}"
        print(f"  [{figure:<7}] {name:<45} {shown:>10}  goal {goal:<8} {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
