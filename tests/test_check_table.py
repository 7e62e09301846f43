"""benchmarks/check_table.py: every failure of the table is explained or flagged, and the
README's table carries an explanation for each FAIL cell it shows."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import check_table  # noqa: E402
import panel  # noqa: E402


def _report(*outcomes):
    return {
        "verdict": "fail",
        "invariants": [
            {"name": n, "status": s, "detail": d, "counterexample": None} for n, s, d in outcomes
        ],
    }


def _rows():
    known = panel.Subject("Known", "pkg", "pkg:Known", {"lr": 0.1})
    other = panel.Subject("Other", "pkg", "pkg:Other", {})
    return [
        (
            known,
            _report(("determinism", "pass", "held"), ("maximize", "fail", "x_1 differs")),
            (1.0, 0.9),
        ),
        (other, _report(("determinism", "fail", "two runs differ")), (2.0, 1.8)),
    ]


def test_an_explained_failure_is_printed_with_its_kind_and_an_unexplained_one_fails(
    monkeypatch, capsys
):
    explained = {("Known", "maximize"): panel.Why("defect", "the sign is lost", "print(1)")}
    monkeypatch.setattr(panel, "EXPLAINED", explained)
    status = check_table.print_tables(_rows(), [], 3.0, examples=3, jobs=2)
    out = capsys.readouterr().out
    assert status == 1  # Other's determinism failure has no explanation
    assert "*defect*: the sign is lost" in out and "print(1)" in out
    assert "Failures without an explanation" in out and "**Other**, determinism" in out
    # the contract column goes to the second table, the invariant to the first
    first, second = out.split("**contracts and parity**")
    assert "| determinism |" in first and "maximize" in second


def test_with_every_failure_explained_the_status_is_0(monkeypatch, capsys):
    explained = {
        ("Known", "maximize"): panel.Why("defect", "a"),
        ("Other", "determinism"): panel.Why("kit limitation", "b"),
        ("Known", "parity"): panel.Why("defect", "stale"),
    }
    monkeypatch.setattr(panel, "EXPLAINED", explained)
    assert check_table.print_tables(_rows(), [], 3.0, examples=3, jobs=1) == 0
    assert "Explained but no longer failing: Known, parity" in capsys.readouterr().out


def test_the_panel_is_what_the_issue_asks_for():
    packages = {s.package for s in panel.SUBJECTS}
    assert {
        "torch.optim",
        "torch-optimizer",
        "pytorch-optimizer",
        "prodigyopt",
        "dadaptation",
        "schedulefree",
        "lion-pytorch",
        "came-pytorch",
        "adabelief-pytorch",
        "adan-pytorch",
    } <= packages
    assert sum(s.package == "pytorch-optimizer" for s in panel.SUBJECTS) >= 20
    assert len({s.label for s in panel.SUBJECTS}) == len(panel.SUBJECTS)
    assert all(why.kind in panel.KINDS for why in panel.EXPLAINED.values())
    labels = {s.label for s in panel.SUBJECTS}
    assert all(label in labels for label, _ in panel.EXPLAINED)


def test_every_fail_in_the_readme_table_is_explained_below_it():
    text = (ROOT / "README.md").read_text()
    section = text.partition(check_table.BEGIN)[2].partition(check_table.END)[0]
    if "Every failure" not in section and "**FAIL**" not in section:
        pytest.fail("the README's check table is missing")
    failing = set()
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| ") and "**FAIL**" in cells:
            failing.add(cells[0])
    explained = set(re.findall(r"^- \*\*(.+?)\*\*, ", section, flags=re.M))
    assert failing <= explained, failing - explained
    assert "Failures without an explanation" not in section


def test_the_readme_counts_the_panel_it_shows():
    text = (ROOT / "README.md").read_text()
    heading = re.search(r"### What holds for (\d+) optimizers from (\d+) packages", text)
    assert heading, "the table's heading is missing"
    assert int(heading.group(1)) == len(panel.SUBJECTS)
    assert int(heading.group(2)) == len({s.package for s in panel.SUBJECTS})
    classes = re.search(r"(\d+) classes of pytorch-optimizer", text)
    assert int(classes.group(1)) == sum(s.package == "pytorch-optimizer" for s in panel.SUBJECTS)
    section = text.partition(check_table.BEGIN)[2].partition(check_table.END)[0]
    assert f"{len(panel.SUBJECTS)} optimizers, " in section  # the run covered all of them
