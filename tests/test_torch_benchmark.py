"""`benchmarks/torch_step_cost.py --quick` runs to its end (a smoke run: no timing asserted)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import torch_step_cost  # noqa: E402

OPTIMIZERS = (
    "SGD (momentum 0.9)",
    "SGD, backward(create_graph=True)",
    "Adam",
    "hessian_lab AdaHessian",
    "torch_optimizer Adahessian",
    "tutorial AdaHessian",
)


def test_the_quick_torch_benchmark_reports_every_optimizer(capsys):
    threads = torch.get_num_threads()
    try:
        assert torch_step_cost.main(["--quick"]) == 0
    finally:
        torch.set_num_threads(threads)
    out = capsys.readouterr().out
    for name in OPTIMIZERS:
        found = re.search(rf"{re.escape(name)} +([\d.]+) ms/step +([\d.]+)x SGD", out)
        assert found, name
        assert float(found.group(1)) > 0
    assert re.search(r"1\.00x SGD", out)
    assert re.search(r"Rademacher [\d.]+, Gaussian [\d.]+", out)
    assert len(re.findall(r"first update \|dtheta\| [\d.]+;", out)) == 4


def test_the_tutorial_class_is_not_bias_corrected():
    """Its first update is (1 - beta1) / sqrt(1 - beta2) ~ 3.16x the bias-corrected one's
    (eps = 0), whatever the probe."""
    steps = []
    for corrected in (False, True):
        p = torch.nn.Parameter(torch.tensor([1.0, -2.0], dtype=torch.float64))
        opt = torch_step_cost.TutorialAdaHessian([p], lr=0.1, eps=0.0, bias_correction=corrected)

        def closure(opt=opt, p=p):
            opt.zero_grad()
            loss = (3.0 * p**2).sum()  # H = 6 I: D = 6 z^2
            loss.backward(create_graph=True)
            return loss

        torch.manual_seed(0)  # the same Gaussian probe for both
        opt.step(closure)
        steps.append(torch.tensor([1.0, -2.0], dtype=torch.float64) - p.detach())
    torch.manual_seed(0)
    z = torch.randn(2, dtype=torch.float64)
    g = torch.tensor([6.0, -12.0], dtype=torch.float64)
    torch.testing.assert_close(steps[1], 0.1 * g / (6 * z**2))
    torch.testing.assert_close(steps[0], steps[1] * 0.1 / 0.001**0.5)


def test_the_adahessian_profile_reports_every_phase(capsys):
    import adahessian_profile

    threads = torch.get_num_threads()
    try:
        adahessian_profile.main(["--quick"])
    finally:
        torch.set_num_threads(threads)
    out = capsys.readouterr().out
    for name in ("forward + backward (an SGD step)", "Hessian-vector product",
                 "probe (Rademacher, all parameters)", "averaging + update", "AdaHessian step",
                 "gradient and Hz by torch.func.jvp(grad)"):
        found = re.search(rf"{re.escape(name)} +([\d.]+) ms +([\d.]+)x forward\+backward", out)
        assert found and float(found.group(1)) > 0, name
    assert "1.00x forward+backward" in out and "Self CPU" in out  # the profiler's table
