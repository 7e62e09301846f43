"""The README's two commands stay true: CI runs exactly the README's test command."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```bash\n(.*?)```", text, re.S)
    assert block, "README.md must open with a bash block holding the two commands"
    return [line for line in block.group(1).splitlines() if line and not line.startswith("#")]


def test_readme_opens_with_install_and_run_then_install_and_test():
    run_main, run_tests = _readme_commands()
    assert run_main.startswith("pip install") and "hessian-lab run" in run_main
    assert run_tests.startswith("pip install") and "pytest" in run_tests
    assert '"torch==2.13.0"' in run_tests, "CI must pin torch's CPU build"


def test_ci_runs_exactly_the_readme_test_command():
    _, run_tests = _readme_commands()
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    commands = [line.strip() for line in ci if line.strip() and not line.startswith("#")]
    assert run_tests in commands
