# ruff: noqa: E501  (cell sources keep their own line lengths)
"""What every notebook source shares: cell constructors and code snippets."""

from __future__ import annotations

import textwrap

from nbformat.v4 import new_code_cell, new_markdown_cell


def md(text: str):
    return new_markdown_cell(textwrap.dedent(text).strip("\n"))


def code(*parts: str):
    return new_code_cell("\n\n".join(textwrap.dedent(part).strip("\n") for part in parts))


SETUP = r"""
%matplotlib inline
import numpy as np
import matplotlib.pyplot as plt
import sympy as sp
from IPython.display import Markdown, Math, display

import hessian_lab as hl
from hessian_lab import plots
from hessian_lab.experiments.base import quantities  # lr*, lr_max, optima of a quadratic
from hessian_lab.theory import predict, predicted_path

np.set_printoptions(precision=4, suppress=True)
plt.rcParams.update({"figure.figsize": (7, 4.5), "axes.grid": True, "grid.alpha": 0.3,
                     "figure.constrained_layout.use": True})   # no clipped labels
COLORS = {entry.name: entry.color for entry in hl.catalog.entries()}   # one colour per optimizer


def tex(expr):
    # LaTeX of a symbolic-layer formula in the notebooks' notation: eta for the learning
    # rate (`lr` in the code), epsilon for eps.
    from hessian_lab.symbolic import rates
    names = {rates.lr: r"\eta", rates.eps: r"\epsilon", rates.beta1: r"\beta_1", rates.beta2: r"\beta_2"}
    return sp.latex(expr, symbol_names=names)


TEX_NAMES = {"lr_max": r"\eta_{\max}", "lr_opt": r"\eta^*", "rate_opt": "R^*",
             "lr_hb_opt": r"\eta^*_{\mathrm{HB}}", "beta_hb_opt": r"\beta^*_{\mathrm{HB}}",
             "lr_nag_opt": r"\eta^*_{\mathrm{NAG}}", "beta_nag_opt": r"\beta^*_{\mathrm{NAG}}",
             "rate_hb_opt": r"R^*_{\mathrm{HB}}", "rate_nag_opt": r"R^*_{\mathrm{NAG}}"}
"""


ROTATED_VALLEY = """
def rotated_valley(angle_deg):
    \"\"\"The steep valley turned by angle_deg about the origin (start and distances unchanged).\"\"\"
    a = np.radians(angle_deg)
    Q = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    return hl.Quadratic([1.0, 100.0], rotation=Q, center=Q @ np.array([0.8, 0.6]))
"""


ANSWERED = """
def answered(*answers):
    \"\"\"False (with a note) while an exercise's answer cell still holds None: its check waits.\"\"\"
    if any(answer is None for answer in answers):
        print("not answered yet: fill in the cell above, then run this check again")
        return False
    return True
"""


def exercise(
    number: int, title: str, task: str, solution: str, check: str, answers: tuple, student: bool
):
    """Task, answer cell and check cell of one exercise.

    The check runs only once every name in ``answers`` is set (``answered``): the student
    version's answer cell sets them to ``None``, so it runs top to bottom and each check
    says "not answered yet"; a wrong answer stops with an assertion message.
    """
    if student:
        answer = code(
            "# Your answer: replace each None (see the task above).",
            "\n".join(f"{name} = None" for name in answers),
        )
    else:
        answer = code("# Reference solution: try it yourself first, then compare.", solution)
    guarded = f"if answered({', '.join(answers)}):\n" + textwrap.indent(
        textwrap.dedent(check).strip("\n"), "    "
    )
    return [
        md(f"## Exercise {number}: {title}\n\n" + textwrap.dedent(task).strip("\n")),
        answer,
        code("# Check: run this cell; it prints 'correct' or fails with a hint.", guarded),
    ]
