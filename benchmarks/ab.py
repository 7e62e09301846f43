"""A/B timing of figure 1's sweep: this checkout against an older commit, in alternating processes.

    python benchmarks/ab.py                      # against e606852 (the first round), 8 rounds
    python benchmarks/ab.py --old REV --rounds 12 --calls 5
    python benchmarks/ab.py --old REV1 --new REV2      # two commits, neither the checkout
    python benchmarks/ab.py --jax                # also JAX's vmap(while_loop), in its own processes

The old commit is extracted with ``git archive`` into a temporary folder. Each round starts
one fresh process per side (order alternating: A B, B A, ...), each process times
``--calls`` engine sweeps after a warm-up and reports its median; a side's figure is the
median over its processes, and the ratio new/old is printed with the per-round ratios
(each round's two processes ran back to back, so load on the machine hits both alike).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

#: one process's job: time the sweep ``calls`` times in the tree on sys.path[0], print JSON
CHILD = r"""
import json, statistics, sys, time
import numpy as np
import hessian_lab as hl
lr = np.geomspace(1e-4, 1.0, 64); beta = np.linspace(0.0, 0.99, 64)
L, Bt = np.meshgrid(lr, beta, indexing="ij"); lr, beta = L.ravel(), Bt.ravel()
def sweep():
    opt = hl.Momentum(lr=lr, beta=beta)
    return hl.run(hl.steep_valley(), opt, np.zeros(2), backend="numpy",
                  tol=1e-6, max_steps=10_000, bound=5.0)
r = sweep()
times, cpu = [], []
for _ in range(int(sys.argv[1])):
    t, c = time.perf_counter(), time.process_time(); r = sweep()
    times.append(time.perf_counter() - t); cpu.append(time.process_time() - c)
print(json.dumps({"median": statistics.median(times), "cpu": statistics.median(cpu),
                  "steps": int(r.steps.sum()),
                  "converged": int(r.converged.sum())}))
"""

#: the JAX side: the baseline of benchmarks/run.py (figure 1 (b)), compile excluded
JAX_CHILD = r"""
import json, statistics, sys, time
sys.path.insert(0, sys.argv[2])
import numpy as np
import baselines
import hessian_lab as hl
lr = np.geomspace(1e-4, 1.0, 64); beta = np.linspace(0.0, 0.99, 64)
L, Bt = np.meshgrid(lr, beta, indexing="ij"); lr, beta = L.ravel(), Bt.ravel()
p = hl.steep_valley()
fn, jax = baselines.make_jax_heavy_ball(p.spectrum, p.center, tol=1e-6, max_steps=10_000, bound=5.0)
a, b = jax.numpy.asarray(lr), jax.numpy.asarray(beta)
compiled = fn.lower(a, b).compile()
jax.block_until_ready(compiled(a, b))
times, cpu = [], []
for _ in range(int(sys.argv[1])):
    t, c = time.perf_counter(), time.process_time(); out = compiled(a, b)
    jax.block_until_ready(out)
    times.append(time.perf_counter() - t); cpu.append(time.process_time() - c)
print(json.dumps({"median": statistics.median(times), "cpu": statistics.median(cpu),
                  "steps": int(np.asarray(out[0]).sum())}))
"""


def extract(rev: str, into: Path) -> Path:
    """``rev``'s tree (``git archive``) unpacked under ``into``; returns its root."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev], check=True, capture_output=True
    ).stdout
    tar_path = into / "tree.tar"
    tar_path.write_bytes(archive)
    root = into / "tree"
    with tarfile.open(tar_path) as tar:
        tar.extractall(root, filter="data")
    return root


def one(code: str, tree: Path, *args: str) -> dict:
    env = dict(os.environ, PYTHONPATH=str(tree), OMP_NUM_THREADS="1")
    out = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", default="e606852", help="the commit to compare with")
    parser.add_argument("--new", default=None, help="a commit instead of this checkout")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--calls", type=int, default=5, help="timed sweeps per process")
    parser.add_argument("--jax", action="store_true", help="also time JAX's vmap per round")
    args = parser.parse_args(argv)
    sides = {"new": ROOT}
    wall: dict[str, list[float]] = {"new": [], "old": [], "jax": []}
    cpu: dict[str, list[float]] = {"new": [], "old": [], "jax": []}
    steps = {}
    with tempfile.TemporaryDirectory() as tmp:
        sides["old"] = extract(args.old, Path(tmp))
        if args.new is not None:
            (Path(tmp) / "new").mkdir()
            sides["new"] = extract(args.new, Path(tmp) / "new")
        for r in range(args.rounds):
            order = ["new", "old"] if r % 2 == 0 else ["old", "new"]
            if args.jax:
                order.append("jax")
            for name in order:
                if name == "jax":
                    got = one(JAX_CHILD, ROOT, str(args.calls), str(HERE))
                else:
                    got = one(CHILD, sides[name], str(args.calls))
                wall[name].append(got["median"])
                cpu[name].append(got["cpu"])
                steps[name] = got["steps"]
            shown = ", ".join(f"{n} {wall[n][-1] * 1e3:.0f} ms" for n in order)
            print(f"round {r + 1}: {shown}", flush=True)
    if steps["new"] != steps["old"]:
        print(f"WARNING: total steps differ: new {steps['new']}, old {steps['old']}")
    print(f"\nsweep medians over {args.rounds} processes x {args.calls} calls (old: {args.old})")
    for label, times in (("wall", wall), ("cpu", cpu)):
        med = {n: statistics.median(t) for n, t in times.items() if t}
        rounds = [a / b for a, b in zip(times["new"], times["old"], strict=True)]
        print(
            f"  {label:<4} new {med['new'] * 1e3:7.1f} ms, old {med['old'] * 1e3:7.1f} ms: "
            f"new/old {med['new'] / med['old']:.3f} (median of the rounds' ratios "
            f"{statistics.median(rounds):.3f}, range {min(rounds):.2f}-{max(rounds):.2f})"
        )
    if args.jax:  # JAX runs several threads: its CPU time is not comparable, wall time is
        med = {n: statistics.median(t) for n, t in wall.items()}
        rounds = [j / n for j, n in zip(wall["jax"], wall["new"], strict=True)]
        print(
            f"  jax  {med['jax'] * 1e3:7.1f} ms wall: jax/new {med['jax'] / med['new']:.2f}x "
            f"(median of the rounds' ratios {statistics.median(rounds):.2f}x, "
            f"range {min(rounds):.2f}-{max(rounds):.2f})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
