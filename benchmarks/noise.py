"""Gradient noise: what it costs the engine, and how fast the exact expected loss is.

    python benchmarks/noise.py            # medians over 3 repeats (about a minute)
    python benchmarks/noise.py --quick    # 1 repeat, smaller sizes (a smoke run)

1. **Noisy rows.** 4,096 rows x 1,000 steps of GD at d = 100 with gradient noise
   ``S = H`` (``GradientNoise("hessian", batch_size=8)``) against the same run without
   noise, on the noisy quadratic model's axis-aligned spectrum ``lambda_i = 1/i`` and on
   the same spectrum in a random rotation (where ``S = H`` is a dense factor and each step
   one more matrix product), and with isotropic noise on the rotated problem.
   Goal: noisy / noiseless <= 2.
2. **Exact expected loss.** ``theory.expected_loss`` for d = 10^4 modes and 10^4 steps
   with ``S = H`` (commuting with H): at step 10^4 alone, and at 100 log-spaced steps up
   to 10^4 (a curve for a figure), GD and heavy ball. Goal: under one second each.

Every ratio is of two timings taken in the same process, alternated repeat by repeat, so
a busy machine moves both sides.
"""

from __future__ import annotations

import argparse
import statistics
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


def noisy_rows(rows: int, steps: int, dim: int, repeats: int) -> None:
    lam = 1.0 / np.arange(1, dim + 1)
    cases = {
        "axis-aligned, S = H": (hl.Quadratic(lam), "hessian"),
        "rotated, S = H": (hl.Quadratic(lam, rotation="random", seed=0), "hessian"),
        "rotated, S = 0.01 I": (hl.Quadratic(lam, rotation="random", seed=0), 0.01),
    }
    x0 = np.ones((rows, dim))
    opt = hl.GD(lr=1.0)
    print(f"1. GD, {rows} rows x {steps} steps, d = {dim} (median of {repeats})")
    for name, (problem, cov) in cases.items():
        noise = hl.GradientNoise(cov, batch_size=8, seed=0)
        quiet, noisy = [], []
        for _ in range(repeats):  # alternated: both sides see the same load
            args = dict(problem=problem, optimizer=opt, x0=x0, tol=0, max_steps=steps)
            quiet.append(timed(lambda args=args: hl.run(**args)))
            noisy.append(timed(lambda args=args, noise=noise: hl.run(**args, noise=noise)))
        q, n = statistics.median(quiet), statistics.median(noisy)
        print(f"  {name:<28} noiseless {q:7.2f} s   noisy {n:7.2f} s")
        report(f"noisy / noiseless ({name})", n / q, "<= 2", n / q <= 2)


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
    args = parser.parse_args(argv)
    if args.quick:
        noisy_rows(rows=256, steps=50, dim=100, repeats=1)
        exact_loss(dim=1000, steps=1000, repeats=1)
    else:
        noisy_rows(rows=4096, steps=args.steps, dim=100, repeats=args.repeats)
        exact_loss(dim=10_000, steps=10_000, repeats=args.repeats)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
