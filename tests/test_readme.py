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


def test_the_tour_prints_what_its_comments_say(capsys):
    """Each ``print(...)  # shown`` line of the README's tour prints exactly ``shown``."""
    text = (ROOT / "README.md").read_text()
    block = text.split("## A tour in Python")[1].split("```python\n")[1].split("```")[0]
    scope: dict = {}
    checked = 0
    for line in block.splitlines():
        code, _, comment = line.partition("  # ")
        exec(code, scope)  # noqa: S102 - our own README, not user text
        printed = capsys.readouterr().out.strip()
        if code.startswith("print("):
            assert printed == comment.strip(), f"README tour: {code.strip()} prints {printed!r}"
            checked += 1
    assert checked == 3


def test_readme_cross_init_row_states_the_experiments_hand_over():
    from hessian_lab.experiments import cross_init

    text = (ROOT / "README.md").read_text()
    row = next(line for line in text.splitlines() if line.startswith("| `cross-init`"))
    assert cross_init.X0 == (0.0, 0.5)
    assert f"A runs {cross_init.HANDOVER_STEPS} steps from (0, 0.5), then B takes over" in row
