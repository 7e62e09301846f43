"""How long ``hessian-lab check`` takes: the default check of torch.optim.Adam, as a user runs it.

    python benchmarks/check_speed.py                 # 5 runs, then 5 more under load
    python benchmarks/check_speed.py --repeats 9 --load 2 --table

Each run is a fresh process (``python -m hessian_lab check torch.optim:Adam --kwargs
lr=0.01 --json``: interpreter start, imports, the check), timed by wall clock and by the
CPU time the process used. Printed: the median and range of both over ``--repeats`` runs,
quiet (nothing started by the script) and loaded (``--load`` busy processes spinning
beside it, as a shared CI runner). The target is at most 5 s of wall time on two cores;
on a machine other people use, "quiet" is whatever load it had, so the CPU time is the
steadier figure. ``--table`` also times the README table (``check_table.py`` over every
listed optimizer, one process; target at most 3 minutes).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMAND = ["-m", "hessian_lab", "check", "torch.optim:Adam", "--kwargs", "lr=0.01", "--json"]


def _spin(stop) -> None:  # pragma: no cover - a busy loop in a child process
    while not stop.is_set():
        sum(i * i for i in range(10_000))


def timed(args: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child) of one ``python args`` run."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        raise SystemExit(f"the check failed to run: {done.stderr.decode()[-500:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def series(args: list[str], repeats: int) -> tuple[list[float], list[float]]:
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = timed(args)
        walls.append(wall)
        cpus.append(cpu)
    return walls, cpus


def line(label: str, values: list[float]) -> str:
    return (
        f"{label:<32} median {statistics.median(values):6.2f} s  "
        f"(min {min(values):.2f}, max {max(values):.2f}, n={len(values)})"
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--load", type=int, default=2, help="busy processes for 'loaded'")
    parser.add_argument("--table", action="store_true", help="also time check_table.py")
    args = parser.parse_args(argv)
    print(f"load average before: {os.getloadavg()[0]:.2f} (cores: {os.cpu_count()})")
    walls, cpus = series(COMMAND, args.repeats)
    print(line("default check, quiet: wall", walls))
    print(line("default check, quiet: CPU", cpus))
    stop = multiprocessing.Event()
    spinners = [multiprocessing.Process(target=_spin, args=(stop,)) for _ in range(args.load)]
    for s in spinners:
        s.start()
    try:
        walls, cpus = series(COMMAND, args.repeats)
    finally:
        stop.set()
        for s in spinners:
            s.join()
    print(line(f"default check, {args.load} busy: wall", walls))
    print(line(f"default check, {args.load} busy: CPU", cpus))
    if args.table:
        wall, cpu = timed([str(ROOT / "benchmarks" / "check_table.py")])
        print(f"{'README table (check_table.py)':<32} wall {wall:6.1f} s, CPU {cpu:.1f} s")
    print("targets: default check <= 5 s wall on two cores; the table <= 180 s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
