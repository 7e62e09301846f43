"""Where an AdaHessian step's time goes, against the pieces of an SGD step.

    python benchmarks/adahessian_profile.py            # about a minute on a loaded 2-core box
    python benchmarks/adahessian_profile.py --quick    # smoke mode (seconds)

The model and batch of ``torch_step_cost.py`` (LeNet-like CNN, 5,258 parameters, batch
64 x 1 x 28 x 28, float64 or ``--dtype float32``, one torch thread). Each phase is timed
on its own, interleaved with the others in rounds; every figure is a median over rounds
and every ratio is taken against the plain forward + backward **in the same process**:

- ``forward``: the loss;
- ``forward + backward``: what an SGD step costs before its (negligible) update;
- ``forward + backward(create_graph=True)``: the same, recording the double graph;
- ``Hessian-vector product``: ``autograd.grad(g, params, z)`` through that graph;
- ``probe``: drawing one Rademacher probe over all parameters;
- ``averaging + update``: the kernel averaging, the moments and the parameter update;
- ``AdaHessian step``: the whole ``hessian_lab.torch.AdaHessian.step``;
- ``gradient and Hz by torch.func.jvp(grad)``: forward-over-reverse, the alternative that
  needs no double graph (one pass yields ``g`` and ``H z`` together).

Then one AdaHessian step under ``torch.profiler``: the operators that take the time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import torch
from torch.func import functional_call, grad, jvp

sys.path.insert(0, str(Path(__file__).resolve().parent))
import torch_step_cost  # noqa: E402

from hessian_lab.torch import AdaHessian  # noqa: E402


def phases(batch: int = 64):
    """name -> a callable running that phase once (fresh graph where it needs one)."""
    gen = torch.Generator().manual_seed(0)
    X = torch.randn(batch, 1, 28, 28, generator=gen, dtype=torch_step_cost.DTYPE)
    y = torch.randint(0, 10, (batch,), generator=gen)
    model = torch_step_cost.lenet(0)
    params = list(model.parameters())
    opt = AdaHessian(params, lr=1e-6)
    names = [name for name, _ in model.named_parameters()]

    def loss():
        return torch.nn.functional.cross_entropy(model(X), y)

    def forward():
        with torch.no_grad():
            loss()

    def backward():
        model.zero_grad()
        loss().backward()

    def backward_graph():
        model.zero_grad()
        loss().backward(create_graph=True)
        for p in params:
            p.grad = None

    held = {}

    def hvp():  # timed alone: the graph is built outside the timer by prepare()
        torch.autograd.grad(held["g"], params, grad_outputs=held["z"])

    def prepare_hvp():
        g = torch.autograd.grad(loss(), params, create_graph=True)
        held["g"], held["z"] = g, opt._probe(params, 1, 0)

    def probe():
        opt._probe(params, 1, 0)

    def update():  # one step's averaging and update, with a fixed diagonal estimate
        D = [torch.rand_like(p) for p in params]
        with torch.no_grad():
            for p, d in zip(params, D, strict=True):
                state = opt.state[p]
                if not state:
                    state.update(step=0, exp_avg=torch.zeros_like(p),
                                 exp_hessian_diag_sq=torch.zeros_like(p))
                state["hessian_diag"] = opt._averaged(d, 1)
                state["step"] += 1
                if p.grad is None:
                    p.grad = torch.zeros_like(p)
                opt._update(p, state, opt.param_groups[0])

    def step():
        def closure():
            opt.zero_grad()
            value = loss()
            value.backward(create_graph=True)
            return value

        opt.step(closure)

    flat = {name: p.detach() for name, p in model.named_parameters()}

    def loss_of(theta):
        return torch.nn.functional.cross_entropy(functional_call(model, theta, (X,)), y)

    def forward_over_reverse():
        z = dict(zip(names, opt._probe(params, 1, 0), strict=True))
        jvp(grad(loss_of), (flat,), (z,))

    return {
        "forward": (forward, None),
        "forward + backward (an SGD step)": (backward, None),
        "forward + backward(create_graph=True)": (backward_graph, None),
        "Hessian-vector product": (hvp, prepare_hvp),
        "probe (Rademacher, all parameters)": (probe, None),
        "averaging + update": (update, None),
        "AdaHessian step": (step, None),
        "gradient and Hz by torch.func.jvp(grad)": (forward_over_reverse, None),
    }


def timings(rounds: int, repeats: int, batch: int = 64) -> dict[str, float]:
    runs = phases(batch)
    times: dict[str, list[float]] = {name: [] for name in runs}
    for run, prepare in runs.values():  # warm-up
        if prepare:
            prepare()
        run()
    for _ in range(rounds):
        for name, (run, prepare) in runs.items():
            total = 0.0
            for _ in range(repeats):
                if prepare:
                    prepare()
                start = time.perf_counter()
                run()
                total += time.perf_counter() - start
            times[name].append(total / repeats)
    return {name: statistics.median(values) for name, values in times.items()}


def profile_step(top: int, batch: int = 64, steps: int = 3) -> None:
    runs = phases(batch)
    step = runs["AdaHessian step"][0]
    step()
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            step()
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=top))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke mode: 1 round, batch 4")
    parser.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", "Using backward\\(\\) with create_graph")
    torch.set_num_threads(1)
    torch_step_cost.DTYPE = getattr(torch, args.dtype)  # the model and batch follow it
    rounds, repeats, batch = (1, 1, 4) if args.quick else (15, 4, 64)
    medians = timings(rounds, repeats, batch)
    base = medians["forward + backward (an SGD step)"]
    print(f"phases of one step, median over {rounds} rounds of {repeats} ({args.dtype}, 1 thread):")
    for name, value in medians.items():
        print(f"  {name:<42} {1e3 * value:8.2f} ms   {value / base:5.2f}x forward+backward")
    parts = (medians["forward + backward(create_graph=True)"]
             + medians["Hessian-vector product"] + medians["probe (Rademacher, all parameters)"]
             + medians["averaging + update"])
    print(f"  {'sum of the AdaHessian parts':<42} {1e3 * parts:8.2f} ms   {parts / base:5.2f}x")
    profile_step(5, batch, 1) if args.quick else profile_step(12)


if __name__ == "__main__":
    main()
