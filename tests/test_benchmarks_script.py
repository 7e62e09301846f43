"""`benchmarks/run.py --quick` runs every figure to its summary (a smoke run: no timing
is asserted here; the targets are the script's business, see benchmarks/README.md)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"
#: one summary line per target: [figure] name, a number or n/a, the goal, a verdict
SUMMARY_LINE = re.compile(r"^  \[(\w+) *\] (.+?) +([\d.,e+-]+|n/a)  goal .+ (PASS|FAIL|n/a)$")


def test_the_quick_benchmark_prints_a_verdict_for_every_target():
    out = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick"], capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, out.stderr[-2000:]
    summary = out.stdout.split("\nSummary\n")[1].splitlines()
    rows = [SUMMARY_LINE.match(line) for line in summary]
    assert all(rows), summary
    figures = {row.group(1) for row in rows}
    assert figures == {"sweep", "dense", "axis", "startup", "memory", "symbolic"}
    assert len(rows) == 11
    measured = {row.group(2): row.group(3) for row in rows}
    # what needs no optional dependency is always measured
    for name in (
        "engine / bare NumPy per active row-step",
        "engine step / matmul",
        "peak memory / state",
        "peak RSS of the sweep (MB)",
    ):
        assert measured[name] != "n/a", name
        assert float(measured[name].replace(",", "")) > 0


def test_the_ab_script_compares_a_commit_with_the_checkout_and_prints_medians():
    """A smoke run of benchmarks/ab.py against HEAD (one round, one call per side)."""
    script = SCRIPT.parent / "ab.py"
    out = subprocess.run(
        [sys.executable, str(script), "--old", "HEAD", "--rounds", "1", "--calls", "1"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "WARNING" not in out.stdout  # both trees took the same steps
    for label in ("wall", "cpu"):
        line = next(row for row in out.stdout.splitlines() if row.strip().startswith(label))
        ratio = float(re.search(r"new/old ([\d.]+)", line).group(1))
        assert ratio > 0, line
