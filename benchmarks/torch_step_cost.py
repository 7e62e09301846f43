"""Per-step cost of AdaHessian against SGD and Adam on a small CNN, and what the simplified
"tutorial" AdaHessian costs and changes.

    python benchmarks/torch_step_cost.py            # a few minutes on a loaded 2-core box
    python benchmarks/torch_step_cost.py --quick    # smoke mode (seconds)

1. **Step cost.** A LeNet-like CNN (two 3x3 conv layers, max-pooling, one linear layer;
   5,258 parameters) on a random batch of 64 digit-sized images (1 x 28 x 28), float64,
   one torch thread. One step = zero_grad, forward, backward (``create_graph=True`` for
   the second-order methods), ``step``. The optimizers' steps alternate in rounds; every
   time is a median over rounds, every ratio is taken against SGD's median **in the same
   process**.
2. **The tutorial class.** :class:`TutorialAdaHessian` is the simplified AdaHessian often
   found in tutorials: Gaussian probes, no bias correction, no Hessian power, no kernel
   averaging, one Hessian-vector product per parameter tensor. On scikit-learn's digits
   (8 x 8: the first 500 images to train on, the last 397 to test; a small CNN, full
   batch) it is compared with ``hessian_lab.torch.AdaHessian`` (the authors' semantics):
   the per-step time, the error of one probe's diagonal estimate against the exact
   Hessian diagonal (Rademacher vs Gaussian probes), the size of the first update, and
   the training loss and accuracy after a fixed number of steps at the same learning rate,
   the tutorial class with bias correction added (that difference alone), and ours
   without kernel averaging (that one alone).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from functools import partial

import torch
import torch_optimizer

from hessian_lab.torch import AdaHessian

DTYPE = torch.float64


class TutorialAdaHessian(torch.optim.Optimizer):
    """The simplified AdaHessian of tutorials (written here only to measure it).

    z ~ N(0, I) per tensor;  D = |z * H_pp z| (one product per parameter tensor p)
    m <- beta1 m + (1 - beta1) g;   v <- beta2 v + (1 - beta2) D^2
    theta <- theta - lr * m / (sqrt(v) + eps)        (no bias correction, k = 1)

    ``bias_correction=True`` repairs that one difference (to measure it alone).
    """

    def __init__(self, params, lr=0.15, betas=(0.9, 0.999), eps=1e-4, bias_correction=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps))
        self.bias_correction = bias_correction

    def step(self, closure):
        with torch.enable_grad():
            loss = closure()
        params = [p for group in self.param_groups for p in group["params"]]
        diagonals = []
        for p in params:  # one Hessian-vector product per tensor: the block H_pp only
            z = torch.randn_like(p)
            (hz,) = torch.autograd.grad(p.grad, p, z, retain_graph=True)
            diagonals.append((z * hz).abs())
        for p, D in zip(params, diagonals, strict=True):
            p.grad = p.grad.detach()
            group = self.param_groups[0]
            beta1, beta2 = group["betas"]
            state = self.state[p]
            if not state:
                state["m"], state["v"] = torch.zeros_like(p), torch.zeros_like(p)
                state["t"] = 0
            state["t"] += 1
            with torch.no_grad():
                state["m"].mul_(beta1).add_(p.grad, alpha=1 - beta1)
                state["v"].mul_(beta2).addcmul_(D, D, value=1 - beta2)
                m, v = state["m"], state["v"]
                if self.bias_correction:
                    m, v = m / (1 - beta1 ** state["t"]), v / (1 - beta2 ** state["t"])
                p.sub_(group["lr"] * m / (v.sqrt() + group["eps"]))
        return loss


def lenet(seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 8, 3),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(8, 16, 3),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(16 * 5 * 5, 10),
    ).to(DTYPE)


def digits_cnn(seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 8, 3),
        torch.nn.Tanh(),
        torch.nn.Conv2d(8, 8, 3),
        torch.nn.Tanh(),
        torch.nn.Flatten(),
        torch.nn.Linear(8 * 4 * 4, 10),
    ).to(DTYPE)


def make_step(model, opt, X, y, second_order: bool):
    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(X), y)
        loss.backward(create_graph=second_order)
        return loss

    return lambda: opt.step(closure)


def step_cost(rounds: int, steps: int, batch: int = 64) -> dict[str, float]:
    """Median seconds per step of each optimizer (same model, same batch, interleaved)."""
    gen = torch.Generator().manual_seed(0)
    X = torch.randn(batch, 1, 28, 28, generator=gen, dtype=DTYPE)
    y = torch.randint(0, 10, (batch,), generator=gen)
    makers = {
        "SGD (momentum 0.9)": (lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9), False),
        "SGD, backward(create_graph=True)": (
            lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9),
            True,
        ),
        "Adam": (lambda p: torch.optim.Adam(p, lr=1e-3), False),
        "hessian_lab AdaHessian": (lambda p: AdaHessian(p, lr=0.15), True),
        "torch_optimizer Adahessian": (
            lambda p: torch_optimizer.Adahessian(p, lr=0.15, hessian_power=1.0),
            True,
        ),
        "tutorial AdaHessian": (lambda p: TutorialAdaHessian(p, lr=0.15), True),
    }
    runs = {}
    for name, (make, second_order) in makers.items():
        model = lenet(0)
        runs[name] = make_step(model, make(model.parameters()), X, y, second_order)
        runs[name]()  # warm-up: state allocation, first-call overheads
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            start = time.perf_counter()
            for _ in range(steps):
                run()
            times[name].append((time.perf_counter() - start) / steps)
    n_params = sum(p.numel() for p in lenet(0).parameters())
    print(
        f"\n1. Step cost: CNN with {n_params:,} parameters, batch {batch} x 1 x 28 x 28, float64,"
    )
    print(f"   1 torch thread, median over {rounds} rounds of {steps} steps")
    sgd = statistics.median(times["SGD (momentum 0.9)"])
    medians = {}
    for name, values in times.items():
        medians[name] = statistics.median(values)
        print(f"   {name:<33} {1e3 * medians[name]:8.2f} ms/step   {medians[name] / sgd:5.2f}x SGD")
    return medians


def digits():
    from sklearn.datasets import load_digits

    data = load_digits()
    X = torch.as_tensor(data.images, dtype=DTYPE)[:, None] / 16.0
    y = torch.as_tensor(data.target)
    return X, y


def probe_errors(model, X, y, probes: int, coordinates: int) -> dict[str, float]:
    """Mean relative error of one probe's |z * Hz| against the exact |diag H| on a seeded
    sample of ``coordinates`` parameters (each exact entry costs one product)."""
    params = list(model.parameters())
    loss = torch.nn.functional.cross_entropy(model(X), y)
    grads = torch.autograd.grad(loss, params, create_graph=True)
    flat_grad = torch.cat([g.reshape(-1) for g in grads])
    n = flat_grad.numel()
    gen = torch.Generator().manual_seed(1)
    sample = torch.randperm(n, generator=gen)[:coordinates]
    diagonal = torch.empty(len(sample), dtype=DTYPE)
    for k, i in enumerate(sample.tolist()):  # H_ii: row i of H, one product each
        row = torch.autograd.grad(flat_grad[i], params, retain_graph=True)
        diagonal[k] = torch.cat([r.reshape(-1) for r in row])[i]
    errors = {"Rademacher": [], "Gaussian": []}
    for _ in range(probes):
        for kind in errors:
            if kind == "Rademacher":
                z = 2.0 * torch.randint(0, 2, (n,), generator=gen).to(DTYPE) - 1
            else:
                z = torch.randn(n, generator=gen, dtype=DTYPE)
            pieces = [
                t.view_as(p)
                for t, p in zip(z.split([p.numel() for p in params]), params, strict=True)
            ]
            hz = torch.autograd.grad(grads, params, pieces, retain_graph=True)
            estimate = (z * torch.cat([h.reshape(-1) for h in hz])).abs()[sample]
            error = (estimate - diagonal.abs()).norm() / diagonal.abs().norm()
            errors[kind].append(float(error))
    return {kind: statistics.mean(values) for kind, values in errors.items()}


def tutorial_effect(steps: int, seeds: int, coordinates: int, n_train: int = 500) -> None:
    try:
        X, y = digits()
    except ImportError:
        print("\n2. The tutorial class: n/a (scikit-learn is not installed)")
        return
    train, test = slice(0, n_train), slice(1400, None)
    print(f"\n2. The tutorial class on scikit-learn's digits ({n_train} train / 397 test,")
    print("   full batch),", end="")
    print(f" lr 0.15 for both, {steps} steps, seeds 0..{seeds - 1}")
    errors = probe_errors(digits_cnn(0), X[:300], y[:300], probes=8, coordinates=coordinates)
    print(
        f"   one probe's |z * Hz| vs exact |diag H| ({coordinates} entries, relative error, "
        "mean of 8 probes): "
        f"Rademacher {errors['Rademacher']:.3f}, Gaussian {errors['Gaussian']:.3f}"
    )
    classes = {
        "hessian_lab AdaHessian": AdaHessian,
        "tutorial AdaHessian": TutorialAdaHessian,
        "tutorial + bias correction": partial(TutorialAdaHessian, bias_correction=True),
        "ours, no kernel averaging": partial(AdaHessian, average_conv_kernel=False),
    }
    first_steps, results, times = {}, {name: [] for name in classes}, {n: [] for n in classes}
    for seed in range(seeds):
        for name, cls in classes.items():
            model = digits_cnn(seed)
            opt = cls(model.parameters(), lr=0.15)
            run = make_step(model, opt, X[train], y[train], True)
            before = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
            run()
            after = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
            first_steps.setdefault(name, []).append(float((after - before).norm()))
            start = time.perf_counter()
            for _ in range(steps - 1):
                run()
            times[name].append((time.perf_counter() - start) / max(steps - 1, 1))
            with torch.no_grad():
                loss = float(torch.nn.functional.cross_entropy(model(X[train]), y[train]))
                accuracy = float((model(X[test]).argmax(1) == y[test]).double().mean())
            results[name].append((loss, accuracy))
    for name in classes:
        losses = [r[0] for r in results[name]]
        accuracies = [r[1] for r in results[name]]
        print(
            f"   {name:<26} first update |dtheta| {statistics.mean(first_steps[name]):.3f}; "
            f"{statistics.median(times[name]) * 1e3:.1f} ms/step; train loss "
            f"{min(losses):.3f}..{max(losses):.3f}; test accuracy "
            f"{min(accuracies):.3f}..{max(accuracies):.3f}"
        )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke mode: tiny counts")
    parser.add_argument("--only", choices=("cost", "tutorial"), help="run one part (default: both)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    print("Measured on this machine; if it is shared, only the ratios are meaningful.")
    if args.only != "tutorial":
        step_cost(**(dict(rounds=2, steps=1, batch=4) if args.quick else dict(rounds=10, steps=5)))
    if args.only != "cost":
        sizes = dict(steps=3, seeds=1, coordinates=5, n_train=50) if args.quick else {}
        tutorial_effect(**{**dict(steps=100, seeds=2, coordinates=200), **sizes})
    return 0


if __name__ == "__main__":
    sys.exit(main())
