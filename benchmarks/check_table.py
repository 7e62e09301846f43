# ruff: noqa: E501  (the table of subjects keeps one optimizer per line)
"""Run ``hessian-lab check``'s kit on every torch.optim optimizer and a few of
torch-optimizer's; print the README's table (markdown) of what holds and what does not.

    python benchmarks/check_table.py [--examples N] > table.md
    python benchmarks/check_table.py --examples 3 --readme   # rewrite the README's table

Each row: the optimizer, the kwargs and declared properties it was checked with, and one
column per invariant (pass / FAIL / n/a). Below the table, every failure and every
"not applicable" with its reason, as the kit reported it. Single-threaded, seeded.
"""

from __future__ import annotations

import argparse
import io
import sys
from contextlib import redirect_stdout
from pathlib import Path

import torch

from hessian_lab.testing import check_optimizer

E = frozenset({"elementwise"})
#: (label, target, kwargs, assume, like)
SUBJECTS = [
    ("SGD", "torch.optim:SGD", {"lr": 0.1}, E | {"rotation-equivariant"}, "gd"),
    ("SGD momentum", "torch.optim:SGD", {"lr": 0.05, "momentum": 0.9}, E | {"rotation-equivariant"}, "momentum"),
    ("SGD Nesterov", "torch.optim:SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}, E | {"rotation-equivariant"}, "nesterov"),
    ("Adagrad", "torch.optim:Adagrad", {"lr": 0.1}, E, "adagrad"),
    ("RMSprop", "torch.optim:RMSprop", {"lr": 0.01}, E, "rmsprop"),
    ("Adam", "torch.optim:Adam", {"lr": 0.05}, E, "adam"),
    ("Adam eps=0", "torch.optim:Adam", {"lr": 0.05, "eps": 0.0}, E | {"scale-invariant"}, "adam"),
    ("AdamW", "torch.optim:AdamW", {"lr": 0.05}, E, "adamw"),
    ("NAdam", "torch.optim:NAdam", {"lr": 0.05}, E, None),
    ("RAdam", "torch.optim:RAdam", {"lr": 0.05}, E, None),
    ("Adamax", "torch.optim:Adamax", {"lr": 0.05}, E, None),
    ("Adadelta", "torch.optim:Adadelta", {"lr": 1.0}, E, None),
    ("Rprop", "torch.optim:Rprop", {"lr": 0.01}, E | {"scale-invariant"}, None),
    ("ASGD", "torch.optim:ASGD", {"lr": 0.1}, E | {"rotation-equivariant"}, None),
    ("Adahessian", "torch_optimizer:Adahessian", {"lr": 0.1, "hessian_power": 1.0}, E, "adahessian"),
    ("AdaBelief", "torch_optimizer:AdaBelief", {"lr": 0.05}, E, None),
    ("Yogi", "torch_optimizer:Yogi", {"lr": 0.05}, E, None),
    ("QHAdam", "torch_optimizer:QHAdam", {"lr": 0.05}, E, None),
    ("DiffGrad", "torch_optimizer:DiffGrad", {"lr": 0.05}, E, None),
    ("Lamb", "torch_optimizer:Lamb", {"lr": 0.05}, frozenset({"origin-dependent"}), None),
]
SHORT = {"pass": "pass", "fail": "**FAIL**", "not applicable": "n/a"}


def kwargs_text(kwargs) -> str:
    return ",".join(f"{k}={v}" for k, v in kwargs.items())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=10)
    parser.add_argument("--only", nargs="*", help="labels to run (default: all)")
    parser.add_argument("--readme", action="store_true", help="write the table into README.md")
    args = parser.parse_args(argv)
    if args.readme:
        text = io.StringIO()
        with redirect_stdout(text):
            table(args)
        replace_in_readme(text.getvalue(), args.examples)
        return 0
    return table(args)


BEGIN, END = "<!-- check-table: begin -->", "<!-- check-table: end -->"


def replace_in_readme(table_text: str, examples: int) -> None:
    """Put the table between the README's markers (written by this script)."""
    readme = Path(__file__).resolve().parents[1] / "README.md"
    text = readme.read_text()
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    note = f"<!-- python benchmarks/check_table.py --examples {examples} --readme -->\n"
    readme.write_text(head + BEGIN + "\n" + note + table_text + END + tail)


def table(args) -> int:
    torch.set_num_threads(1)
    reports = []
    for label, target, kwargs, assume, like in SUBJECTS:
        if args.only and label not in args.only:
            continue
        report = check_optimizer(target, like=like, assume=assume, examples=args.examples, **kwargs)
        reports.append((label, target, kwargs, assume, like, report))
        print(f"{label}: {report.verdict}", file=sys.stderr, flush=True)
    names = [o.name for o in reports[0][5].invariants if not o.name.startswith("parity")]
    names = [n for n in names if n != "rate vs theory"] + ["parity", "rate vs theory"]
    print("| optimizer | kwargs | --assume | --like | " + " | ".join(names) + " |")
    print("|" + "---|" * (4 + len(names)))
    notes = []
    for label, _target, kwargs, assume, like, report in reports:
        by_name = {("parity" if o.name.startswith("parity") else o.name): o for o in report.invariants}
        cells = [SHORT[by_name[n].status] if n in by_name else "n/a" for n in names]
        props = ", ".join(sorted(assume))
        print(f"| {label} | `{kwargs_text(kwargs)}` | {props} | {like or ''} | " + " | ".join(cells) + " |")
        for o in report.invariants:
            undeclared = "declared" in o.detail or "needs both" in o.detail
            linear_only = o.name == "rate vs theory" and "not a linear method" in o.detail
            if o.status == "fail" or (o.status == "not applicable" and not undeclared and not linear_only):
                ce = f" Counterexample: {o.counterexample}." if o.counterexample else ""
                notes.append(f"- {label}, {o.name} ({SHORT[o.status]}): {o.detail}.{ce}")
    print()
    print("\n".join(notes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
