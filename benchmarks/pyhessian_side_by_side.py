"""PyHessian and hessian_lab.torch.spectrum on the same model and data, against the truth.

    pip install "torch==2.13.0" pyhessian         # keeps the CPU torch (or -e ".[bench]")
    python benchmarks/pyhessian_side_by_side.py           # a few minutes on a loaded 2-core box
    python benchmarks/pyhessian_side_by_side.py --quick   # smoke mode

Model: a small ResNet (a 3x3 stem with batch norm, one basic residual block of
:mod:`hessian_lab.torch.resnet`, global average pooling, a linear head; 398 parameters)
trained for a few epochs on scikit-learn's digits (real data, offline), float32, eval
mode. Data: 256 training images in a ``DataLoader`` of batches of 64, the same object for
both libraries; the loss is the data set's mean cross-entropy. (PyHessian 0.1's
``density`` calls ``torch.eig``, removed from torch; the script says so and reruns it with
a shim that restores it through ``eigh``.)

The truth: the dense Hessian of a float64 copy (one Hessian-vector product per
coordinate, full batch) and ``eigvalsh``. Compared, with the wall-clock time of each call:

1. the top 3 eigenvalues: PyHessian's power iteration with deflation
   (``eigenvalues(top_n=3)``, its defaults ``maxIter=100, tol=1e-3``) and our Lanczos
   (``top_eigenvalues(k=3, data=loader, tol=1e-4)``: float32's resolution is 1.2e-5);
2. the trace: PyHessian's Hutchinson (``trace()``, defaults: it stops when the running
   mean changes by less than 0.1%) and ours with the same number of probes;
3. the density: PyHessian's SLQ (``density(iter=40, n_v=4)``) and ours (``n_steps=40,
   n_probes=4``): the quadrature's first and second moments against ``tr(H) / n`` and
   ``tr(H^2) / n``, and its extreme nodes against the extreme eigenvalues.
"""

from __future__ import annotations

import argparse
import time
import warnings

import torch
from torch import nn

from hessian_lab.torch.data import digits
from hessian_lab.torch.hvp import HessianOperator
from hessian_lab.torch.resnet import BasicBlock
from hessian_lab.torch.spectrum import hutchinson_trace, spectral_density, top_eigenvalues


def small_resnet(seed: int = 0, channels: int = 4) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(1, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels), nn.ReLU(),
        BasicBlock(channels, channels), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Linear(channels, 10),
    )


def _restore_torch_eig() -> None:
    """PyHessian 0.1's ``density`` calls ``torch.eig``, removed in torch 1.9 (it raises).
    Its ``T`` is symmetric tridiagonal, so ``eigh`` gives what ``torch.eig`` gave: the
    eigenvalues in column 0 of an ``(m, 2)`` real/imaginary array, and the eigenvectors."""

    def eig(T, eigenvectors=False):
        values, vectors = torch.linalg.eigh(T)
        return torch.stack([values, torch.zeros_like(values)], 1), vectors

    torch.eig = eig


def trained_model(train_set, epochs: int) -> nn.Module:
    model = small_resnet()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    order = torch.Generator().manual_seed(0)
    for _ in range(epochs):
        for batch in torch.randperm(len(train_set), generator=order).split(64):
            opt.zero_grad()
            nn.functional.cross_entropy(model(train_set.inputs[batch]),
                                        train_set.targets[batch]).backward()
            opt.step()
    return model.eval()


def exact_spectrum(model: nn.Module, inputs, targets) -> torch.Tensor:
    """eigvalsh of the dense full-batch Hessian of a float64 copy."""
    import copy

    twin = copy.deepcopy(model).double().eval()
    op = HessianOperator(twin, lambda: nn.functional.cross_entropy(twin(inputs.double()),
                                                                   targets))
    eye = torch.eye(op.size, dtype=torch.float64)
    H = torch.cat([op.matmat(eye[i : i + 64]) for i in range(0, op.size, 64)])
    return torch.linalg.eigvalsh(0.5 * (H + H.T))


def timed(call):
    start = time.perf_counter()
    value = call()
    return value, time.perf_counter() - start


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke mode: 128 images")
    args = parser.parse_args(argv)
    from pyhessian import hessian as PyHessian

    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", "Using backward\\(\\) with create_graph")
    n_examples, batch = (128, 64) if args.quick else (256, 64)
    train_set, _ = digits(n_train=n_examples, n_test=0, seed=0, dtype=torch.float32)
    model = trained_model(train_set, 1 if args.quick else 4)
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(train_set.inputs, train_set.targets), batch_size=batch
    )
    n = sum(p.numel() for p in model.parameters())
    exact, seconds = timed(lambda: exact_spectrum(model, train_set.inputs, train_set.targets))
    print(f"small ResNet, {n:,} parameters; {n_examples} digits in batches of {batch}; "
          f"float32; exact spectrum (float64, dense) in {seconds:.1f} s")
    top = exact.flip(0)
    print(f"exact: top 3 {[round(float(v), 5) for v in top[:3]]}, lowest {float(exact[0]):.5f}, "
          f"trace {float(exact.sum()):.5f}")

    def batch_loss(b):
        return nn.functional.cross_entropy(model(b[0]), b[1])

    ours, t_ours = timed(lambda: top_eigenvalues(model, batch_loss, 3, data=loader, tol=1e-4))
    pyh = PyHessian(model, nn.functional.cross_entropy, dataloader=loader, cuda=False)
    (theirs, _), t_theirs = timed(lambda: pyh.eigenvalues(top_n=3))
    print("\n1. top 3 eigenvalues            values                         max rel. error  time")
    for name, values, t in (("hessian_lab (Lanczos)", ours.values.tolist(), t_ours),
                            ("PyHessian (power)", theirs, t_theirs)):
        error = max(abs(v - float(e)) / float(top[0]) for v, e in zip(values, top, strict=False))
        print(f"   {name:<28} {str([round(v, 5) for v in values]):<32} {error:13.2e}  "
              f"{t:6.1f} s")
    print(f"   ours: {ours.n_products} Hessian-vector products (passes over the data), "
          f"converged={ours.converged}")
    one, t_one = timed(lambda: top_eigenvalues(model, batch_loss, 1, data=loader, tol=1e-3))
    (theirs_one, _), t_theirs_one = timed(lambda: pyh.eigenvalues(top_n=1))
    print(f"   top 1 only: hessian_lab {float(one.values[0]):.5f} ({one.n_products} products, "
          f"tol 1e-3, {t_one:.1f} s); PyHessian {theirs_one[0]:.5f} ({t_theirs_one:.1f} s)")

    samples, t_theirs = timed(lambda: pyh.trace())
    mine, t_ours = timed(lambda: hutchinson_trace(model, batch_loss, max(2, len(samples)),
                                                   data=loader, seed=0))
    truth = float(exact.sum())
    theirs_mean = sum(samples) / len(samples)
    print(f"\n2. trace (exact {truth:.4f})     estimate    rel. error  probes  time")
    print(f"   {'hessian_lab':<28} {mine.value:10.4f}  {abs(mine.value - truth) / abs(truth):9.2e}"
          f"  {len(mine.samples):6d}  {t_ours:5.1f} s   (+- {mine.stderr:.4f} standard error)")
    print(f"   {'PyHessian':<28} {theirs_mean:10.4f}  {abs(theirs_mean - truth) / abs(truth):9.2e}"
          f"  {len(samples):6d}  {t_theirs:5.1f} s   (no error bar)")

    steps, probes = (10, 2) if args.quick else (40, 4)
    try:
        pyh.density(iter=2, n_v=1)
    except RuntimeError as error:
        print(f"\nPyHessian's density() fails on torch {torch.__version__}: "
              f"{str(error).splitlines()[0][:70]}...; rerun with torch.eig restored by a shim")
        _restore_torch_eig()
    (nodes, weights), t_theirs = timed(lambda: pyh.density(iter=steps, n_v=probes))
    slq, t_ours = timed(lambda: spectral_density(model, batch_loss, data=loader, n_steps=steps,
                                                 n_probes=probes, seed=0))
    theirs_nodes = torch.tensor(nodes, dtype=torch.float64)
    theirs_weights = torch.tensor(weights, dtype=torch.float64)
    moments = {j: float((exact**j).sum()) / n for j in (1, 2)}
    print(f"\n3. density ({probes} probes x {steps} steps)  moment 1   moment 2   "
          f"max node   min node   time")
    print(f"   {'exact':<28} {moments[1]:9.5f} {moments[2]:10.5f} {float(exact[-1]):10.5f} "
          f"{float(exact[0]):10.5f}")
    theirs_m = [float((theirs_weights * theirs_nodes**j).sum(1).mean()) for j in (1, 2)]
    for name, m1, m2, hi, lo, t in (
        ("hessian_lab", slq.moment(1), slq.moment(2), float(slq.nodes.max()),
         float(slq.nodes.min()), t_ours),
        ("PyHessian", *theirs_m, float(theirs_nodes.max()), float(theirs_nodes.min()), t_theirs),
    ):
        print(f"   {name:<28} {m1:9.5f} {m2:10.5f} {hi:10.5f} {lo:10.5f}  {t:5.1f} s")
    model.train()
    top_eigenvalues(model, batch_loss, 1, data=loader, tol=1e-3)
    ours_mode = model.training
    PyHessian(model, nn.functional.cross_entropy, dataloader=loader, cuda=False)
    print(f"\na model in train mode, after the call: hessian_lab training={ours_mode} "
          f"(restored), PyHessian training={model.training} (its constructor calls eval())")


if __name__ == "__main__":
    main()
