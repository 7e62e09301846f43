"""Run ``hessian-lab check``'s kit over the panel of benchmarks/panel.py (torch.optim,
torch-optimizer, pytorch-optimizer and seven single-optimizer packages); print the
README's tables (markdown) of what holds and what does not.

    python benchmarks/check_table.py [--examples N] [--jobs 2] > table.md
    python benchmarks/check_table.py --examples 3 --readme   # rewrite the README's tables
    python benchmarks/check_table.py --only Adam "Adan (po)"  # some rows
    python benchmarks/check_table.py --repros   # run each defect's reproduction

Two tables, one row per optimizer: the invariants (one column each), then the contracts
of the torch.optim interface and the parity with ``--like``. Cells: pass / **FAIL** /
n/a. Below them, every failure with what it is (a defect of the optimizer with a
reproduction, a property the method lacks by design, or a limitation of the kit), from
``panel.EXPLAINED``; a failure without an explanation is listed as unexplained and makes
the exit status 1. Then every "not applicable" that is not a missing declaration, and
the wall time of each row. Seeded; ``--jobs`` rows run at once in separate processes,
each single-threaded.
"""

from __future__ import annotations

import argparse
import io
import sys
import textwrap
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import redirect_stdout
from importlib import import_module
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import panel  # noqa: E402  (benchmarks/ is not a package)

SHORT = {"pass": "pass", "fail": "**FAIL**", "not applicable": "n/a"}
BEGIN, END = "<!-- check-table: begin -->", "<!-- check-table: end -->"


def kwargs_text(kwargs) -> str:
    return ",".join(f"{k}={v}" for k, v in kwargs.items())


def installed(subject) -> bool:
    if not isinstance(subject.target, str):
        return True
    try:
        import_module(subject.target.partition(":")[0])
    except ImportError:
        return False
    return True


def check_row(index: int, examples: int) -> tuple[int, dict, tuple[float, float]]:
    """One subject's report (as a dict) and its (wall, CPU) seconds; run in a worker."""
    import torch

    from hessian_lab.testing import check_optimizer

    torch.set_num_threads(1)
    s = panel.SUBJECTS[index]
    options = {}
    if s.like_kwargs is not None:
        options["like_kwargs"] = s.like_kwargs
    if s.each_step is not None:
        options["each_step"] = s.each_step
    start, cpu = time.perf_counter(), time.process_time()
    report = check_optimizer(
        s.target, like=s.like, assume=s.assume, examples=examples, **options, **s.kwargs
    )
    seconds = (time.perf_counter() - start, time.process_time() - cpu)
    return index, report.as_dict(), seconds


def run_panel(labels, examples: int, jobs: int) -> tuple[list, list[str], float]:
    """(subject, report dict, seconds) per row in panel order; the rows skipped."""
    chosen, skipped = [], []
    for i, s in enumerate(panel.SUBJECTS):
        if labels and s.label not in labels:
            continue
        if installed(s):
            chosen.append(i)
        else:
            skipped.append(f"{s.label} ({s.package} is not installed)")
    start = time.perf_counter()
    results = {}
    if jobs > 1:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(check_row, i, examples) for i in chosen]
            for future in futures:
                i, report, seconds = future.result()
                results[i] = (report, seconds)
                print(
                    f"{panel.SUBJECTS[i].label}: {report['verdict']} ({seconds[0]:.1f} s)",
                    file=sys.stderr,
                    flush=True,
                )
    else:
        for i in chosen:
            _, report, seconds = check_row(i, examples)
            results[i] = (report, seconds)
            print(
                f"{panel.SUBJECTS[i].label}: {report['verdict']} ({seconds[0]:.1f} s)",
                file=sys.stderr,
                flush=True,
            )
    rows = [(panel.SUBJECTS[i], *results[i]) for i in chosen]
    return rows, skipped, time.perf_counter() - start


def _column(name: str) -> str:
    return "parity" if name.startswith("parity") else name


def print_tables(rows, skipped, total: float, examples: int, jobs: int) -> int:
    from hessian_lab.testing.contracts import CONTRACTS

    names: list[str] = []
    for _, report, _ in rows:
        for o in report["invariants"]:
            name = _column(o["name"])
            if name not in names:
                names.append(name)
    second = [n for n in CONTRACTS if n in names] + [n for n in ("parity",) if n in names]
    first = [n for n in names if n not in second and n != "rate vs theory"]
    if "rate vs theory" in names:
        first.append("rate vs theory")
    for columns, head in ((first, "invariants"), (second, "contracts and parity")):
        if not columns:
            continue
        print(f"**{head}**\n")
        print("| optimizer | package | kwargs | --assume | " + " | ".join(columns) + " |")
        print("|" + "---|" * (4 + len(columns)))
        for s, report, _ in rows:
            by_name = {_column(o["name"]): o for o in report["invariants"]}
            cells = [SHORT[by_name[n]["status"]] if n in by_name else "n/a" for n in columns]
            props = ", ".join(sorted(s.assume))
            print(
                f"| {s.label} | {s.package} | `{kwargs_text(s.kwargs)}` | {props} | "
                + " | ".join(cells)
                + " |"
            )
        print()
    failures, unexplained, others = [], [], []
    used, kinds = set(), {}
    for s, report, _ in rows:
        groups: dict[int, list] = {}  # one bullet per explanation of the row
        for o in report["invariants"]:
            name = _column(o["name"])
            ce = f" Counterexample: {o['counterexample']}" if o.get("counterexample") else ""
            if o["status"] == "fail":
                key = (s.label, name)
                why = panel.EXPLAINED.get(key)
                used.add(key)
                text = f"{name}: {o['detail']}.{ce}"
                if why is None:
                    unexplained.append(f"- **{s.label}**, {text}")
                else:
                    groups.setdefault(id(why), [why]).append(text)
            elif o["status"] == "not applicable":
                undeclared = "declared" in o["detail"] or "needs both" in o["detail"]
                linear_only = name == "rate vs theory" and "not a linear method" in o["detail"]
                if not undeclared and not linear_only:
                    others.append(f"- {s.label}, {name}: {o['detail']}.")
        for why, *texts in groups.values():
            kinds.setdefault(why.kind, []).append(s.label)
            repro = textwrap.indent(f"```python\n{why.repro}\n```", "  ") if why.repro else ""
            failures.append(
                f"- **{s.label}**, "
                + " / ".join(texts)
                + f"\n  *{why.kind}*: {why.text}"
                + (f"\n{repro}" if repro else "")
            )
        if report.get("stopped"):
            others.append(f"- {s.label}: stopped: {report['stopped']}.")
    print(summary(rows, kinds))
    if failures:
        print("Every failure, and what it is:\n")
        print("\n".join(failures) + "\n")
    if unexplained:
        print("Failures without an explanation in benchmarks/panel.py:\n")
        print("\n".join(unexplained) + "\n")
    stale = sorted(
        k for k in panel.EXPLAINED if k not in used and k[0] in {s.label for s, *_ in rows}
    )
    if stale:
        print("Explained but no longer failing: " + "; ".join(f"{a}, {b}" for a, b in stale) + "\n")
    if others:
        print("<details><summary>Not applicable, and why</summary>\n")
        print("\n".join(others) + "\n\n</details>\n")
    walls = sorted(seconds[0] for *_, seconds in rows)
    cpu = sum(seconds[1] for *_, seconds in rows)
    median = walls[len(walls) // 2] if walls else float("nan")
    slowest = max(rows, key=lambda row: row[2][0], default=None)
    print(
        f"{len(rows)} optimizers, {examples} drawn examples per invariant, seed 0, "
        f"{jobs} process(es): {total:.0f} s wall in all ({cpu:.0f} s CPU), median "
        f"{median:.1f} s per optimizer"
        + (f" (slowest: {slowest[0].label}, {slowest[2][0]:.1f} s)." if slowest else ".")
        + (f" Skipped: {'; '.join(skipped)}." if skipped else "")
    )
    return 1 if unexplained else 0


def summary(rows, kinds: dict[str, list[str]]) -> str:
    """What the tables show, in numbers read off them (the README's text is this)."""
    clean = [s.label for s, report, _ in rows if report["verdict"] == "pass"]
    parts = [f"{len(clean)} of {len(rows)} optimizers pass every applicable check."]
    for kind in panel.KINDS:
        labels = list(dict.fromkeys(kinds.get(kind, [])))  # once per row and kind
        if labels:
            parts.append(f"{kind.capitalize()}: {len(labels)} ({', '.join(labels)}).")
    adan = {s.label: report for s, report, _ in rows}.get("Adan")
    if adan is not None:
        status = {_column(o["name"]): o["status"] for o in adan["invariants"]}
        alone = [n for n, v in status.items() if v == "fail" and n != "parity"]
        caught = status.get("parity") == "fail"
        parts.append(
            "adan-pytorch's no-op first step is "
            + (
                "caught by parity with pytorch-optimizer's Adan (`--like pytorch_optimizer:Adan "
                "--like-kwargs 'betas=(0.98,0.92,0.99)'`)"
                if caught
                else "not caught by parity"
            )
            + (
                "; no invariant or contract sees it alone."
                if not alone
                else f"; also seen by {', '.join(alone)}."
            )
        )
    return " ".join(parts) + "\n"


def replace_in_readme(table_text: str, examples: int, jobs: int) -> None:
    """Put the tables between the README's markers (written by this script)."""
    readme = Path(__file__).resolve().parents[1] / "README.md"
    text = readme.read_text()
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    note = (
        f"<!-- python benchmarks/check_table.py --examples {examples} --jobs {jobs} --readme -->\n"
    )
    readme.write_text(head + BEGIN + "\n" + note + table_text + END + tail)


def run_repros() -> int:
    """Run every reproduction of ``panel.EXPLAINED`` in a fresh interpreter; print what it
    printed (or its error's last line). Exit status 1 if one did not run at all."""
    import subprocess

    status, seen = 0, set()
    for (label, check), why in panel.EXPLAINED.items():
        if not why.repro or why.repro in seen:
            continue
        seen.add(why.repro)
        done = subprocess.run(
            [sys.executable, "-c", why.repro], capture_output=True, text=True, timeout=120
        )
        lines = (done.stdout + done.stderr).strip().splitlines()
        print(f"{label}, {check}: exit {done.returncode}: {lines[-1] if lines else ''}")
        if done.returncode not in (0, 1) or not lines:
            status = 1
    return status


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=10)
    parser.add_argument("--jobs", type=int, default=2, help="rows run at once (processes)")
    parser.add_argument("--only", nargs="*", help="labels to run (default: all)")
    parser.add_argument("--readme", action="store_true", help="write the tables into README.md")
    parser.add_argument(
        "--repros", action="store_true", help="only run the reproductions of the defects"
    )
    args = parser.parse_args(argv)
    if args.repros:
        return run_repros()
    rows, skipped, total = run_panel(args.only, args.examples, args.jobs)
    text = io.StringIO()
    with redirect_stdout(text):
        status = print_tables(rows, skipped, total, args.examples, args.jobs)
    if args.readme:
        replace_in_readme(text.getvalue(), args.examples, args.jobs)
    else:
        print(text.getvalue(), end="")
    return status


if __name__ == "__main__":
    sys.exit(main())
