"""Gradient noise: what it costs the engine, and how fast the exact expected loss is.

    python benchmarks/noise.py            # medians over 3 repeats (a few minutes)
    python benchmarks/noise.py --quick    # 1 repeat, smaller sizes (a smoke run)

1. **Noisy rows.** 4,096 rows x 1,000 steps of GD at d = 100 with gradient noise
   ``S = H`` (``GradientNoise("hessian", batch_size=8)``) against the same run without
   noise, on the noisy quadratic model's axis-aligned spectrum ``lambda_i = 1/i``; the
   same spectrum in a random rotation with isotropic noise ``S = 0.01 I``; and rotated with
   ``S = H``, where ``xi = z @ (S/B)^(1/2)`` is one more dense product per step, the size of
   the gradient's own. Wall time and CPU time (the process's, every thread); the noisy run
   as it is (large draws made one query ahead on a worker thread) and with every draw made
   on the spot (``NoiseSource``'s prefetch off: one thread's cost of the noise).
   Goal: noisy / noiseless wall time <= 2.
2. **Exact expected loss.** ``theory.expected_loss`` for d = 10^4 modes and 10^4 steps
   with ``S = H`` (commuting with H): at step 10^4 alone, and at 100 log-spaced steps up
   to 10^4 (a curve for a figure), GD and heavy ball. Goal: under one second each.

Every run of part 1 is timed in a fresh process (one process's heap after another run's
moved a noiseless run by 20%), the three sides alternated repeat by repeat, so a busy
machine moves all of them.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import hessian_lab as hl  # noqa: E402
from hessian_lab.noisy_theory import expected_loss  # noqa: E402


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def report(name: str, value: float, goal: str, ok: bool) -> None:
    print(f"  TARGET {name:<62} {value:8.3g}  (goal {goal})  {'PASS' if ok else 'FAIL'}")


CASES = {
    "axis-aligned, S = H": ({}, "hessian"),
    "rotated, S = 0.01 I": ({"rotation": "random", "seed": 0}, 0.01),
    "rotated, S = H": ({"rotation": "random", "seed": 0}, "hessian"),
}
SIDES = ("noiseless", "noisy", "noisy, on the spot")


def child(case: str, side: str, rows: int, steps: int, dim: int) -> None:
    """One timed run in this (fresh) process: prints ``wall cpu`` in seconds."""
    from hessian_lab import noise as noise_module

    rotation, cov = CASES[case]
    problem = hl.Quadratic(1.0 / np.arange(1, dim + 1), **rotation)
    noise = None if side == "noiseless" else hl.GradientNoise(cov, batch_size=8, seed=0)
    if side == "noisy, on the spot":
        noise_module.PREFETCH_MIN = 2**62
    x0 = np.ones((rows, dim))
    wall, cpu = time.perf_counter(), time.process_time()
    hl.run(problem, hl.GD(lr=1.0), x0, tol=0, max_steps=steps, noise=noise)
    print(time.perf_counter() - wall, time.process_time() - cpu)


def timed_child(case: str, side: str, rows: int, steps: int, dim: int) -> tuple[float, float]:
    argv = [sys.executable, __file__, "--child", case, side, str(rows), str(steps), str(dim)]
    out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout.split()
    return float(out[0]), float(out[1])


def noisy_rows(rows: int, steps: int, dim: int, repeats: int) -> None:
    print(f"1. GD, {rows} rows x {steps} steps, d = {dim} (median of {repeats}, wall / CPU)")
    for case in CASES:
        times = {side: [] for side in SIDES}
        for _ in range(repeats):  # alternated: every side sees the same load
            for side in SIDES:
                times[side].append(timed_child(case, side, rows, steps, dim))
        wall = {side: statistics.median(t[0] for t in times[side]) for side in SIDES}
        cpu = {side: statistics.median(t[1] for t in times[side]) for side in SIDES}
        shown = "   ".join(f"{side} {wall[side]:.2f} / {cpu[side]:.2f} s" for side in SIDES)
        print(f"  {case:<22} {shown}")
        base_wall, base_cpu = wall["noiseless"], cpu["noiseless"]
        ratio = wall["noisy"] / base_wall
        report(f"noisy / noiseless, wall ({case})", ratio, "<= 2", ratio <= 2)
        print(
            f"         CPU {cpu['noisy'] / base_cpu:.2f}x; on the spot: wall "
            f"{wall['noisy, on the spot'] / base_wall:.2f}x, "
            f"CPU {cpu['noisy, on the spot'] / base_cpu:.2f}x"
        )


def exact_loss(dim: int, steps: int, repeats: int) -> None:
    problem = hl.Quadratic(1.0 / np.arange(1, dim + 1))
    noise = hl.GradientNoise("hessian", batch_size=8)
    x0 = np.ones(dim)
    curve = np.unique(np.round(np.geomspace(1, steps, 100)).astype(int))
    print(f"2. theory.expected_loss, d = {dim}, S = H (median of {repeats})")
    for opt in (hl.GD(lr=1.0), hl.Momentum(lr=0.5, beta=0.9)):
        for label, at in ((f"step {steps}", steps), (f"{curve.size} steps up to {steps}", curve)):
            value = statistics.median(
                timed(lambda at=at, opt=opt: expected_loss(problem, opt, x0, at, noise))
                for _ in range(repeats)
            )
            report(f"{opt.name}, {label} (seconds)", value, "< 1", value < 1)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 repeat, smaller sizes")
    parser.add_argument("--steps", type=int, default=1000, help="steps of the noisy rows")
    parser.add_argument("--repeats", type=int, default=3, help="repeats per timing")
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        case, side, rows, steps, dim = args.child
        child(case, side, int(rows), int(steps), int(dim))
        return 0
    if args.quick:
        noisy_rows(rows=256, steps=50, dim=100, repeats=1)
        exact_loss(dim=1000, steps=1000, repeats=1)
    else:
        noisy_rows(rows=4096, steps=args.steps, dim=100, repeats=args.repeats)
        exact_loss(dim=10_000, steps=10_000, repeats=args.repeats)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
