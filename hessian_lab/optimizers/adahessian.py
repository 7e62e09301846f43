"""Diagonal AdaHessian: Adam with a Hutchinson estimate of |diag H| as its denominator.

The Rademacher probes are counter-based (:func:`~hessian_lab.backend.counter_rademacher`):
the signs of row b at step t, probe s, coordinate j are a pure function of
``(seed_b, t, s, j)``. So a row's run does not depend on the rows batched with it, nor on
which of them have finished, nor on the backend (NumPy and torch draw the same signs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, NamedTuple

from ..backend import Backend, as_seed, namespace, seed_column
from ..hutchinson import PROBES, block_average, hutchinson_diagonal
from .base import Optimizer, hyper, is_zero, moments, pair, static

__all__ = ["AdaHessian", "block_average", "hutchinson_diagonal"]

MAX_N_SAMPLES = 1000  # probes per AdaHessian estimate: each is one Hessian-vector product


def seed_field(default: int = 0):
    """The probe seed: one non-negative integer, or one per row (see :class:`AdaHessian`)."""
    return field(default=default, metadata={"kind": "seed"})


@dataclass(frozen=True)
class AdaHessian(Optimizer):
    """Diagonal AdaHessian as the authors' reference implementation defines it.

        D = block_average(|mean_s z_s * H z_s|)       Rademacher z_s, (B, d)
        m <- beta1 m + (1 - beta1) g,    v <- beta2 v + (1 - beta2) D^2
        den = (v / (1 - beta2^t))^(k / 2) + eps       k = hessian_power
        x <- x - lr * (m / (1 - beta1^t) / den + weight_decay * x)

    ``n_samples`` probes (at most ``MAX_N_SAMPLES``, each one Hessian-vector product per
    step) are averaged per estimate; ``update_each = n`` re-estimates D only
    every n steps (reusing the last one in between); ``block_size`` is the spatial
    averaging block; ``probe="gaussian"`` draws normal probes instead of the authors'
    Rademacher ones (the estimator is :func:`hessian_lab.hutchinson.hutchinson_diagonal`).

    Probes are counter-based: at step ``t`` (1, 2, ...) probe ``s`` of row ``b`` is
    ``z[b, j] = counter_rademacher(seed_b, t, s)[j]``, a pure function of
    ``(seed_b, t, s, j)`` (:func:`~hessian_lab.backend.counter_rademacher`: a lowbias32
    hash in int64 arithmetic). A batched run therefore equals its rows run one by one, and
    NumPy equals torch. ``seed`` is a non-negative integer or a list of B of them:

    - one seed (the default, 0) gives **every row the same probes**: common random numbers
      across a sweep, so rows differ only by their hyperparameters, not by their noise;
    - a list of seeds gives each row its own; distinct seeds give independent rows.

    Reference: Yao et al., "ADAHESSIAN: An Adaptive Second Order Optimizer for Machine
    Learning" (AAAI 2021).
    """

    name: ClassVar[str] = "adahessian"
    lr: float = hyper(0.15, 0.0)
    betas: tuple[float, float] = pair((0.9, 0.999), 0.0, 1.0, open_high=True)
    eps: float = hyper(1e-4, 0.0)
    weight_decay: float = hyper(0.0, 0.0)
    hessian_power: float = hyper(1.0, 0.0, 1.0)
    block_size: int = static(1, minimum=1)
    n_samples: int = static(1, minimum=1)
    update_each: int = static(1, minimum=1)
    seed: int | list[int] = seed_field(0)
    probe: str = static("rademacher", choices=PROBES)

    class State(NamedTuple):
        m: object  # (B, d)
        v: object  # (B, d), EMA of D^2
        D: object  # (B, d), the latest |diag H| estimate
        t: int  # steps taken (the probes' step counter)

    def __post_init__(self) -> None:
        super().__post_init__()
        as_seed(self.seed)  # a one-line ValueError naming seed
        if self.n_samples > MAX_N_SAMPLES:
            raise ValueError(
                f"n_samples must be at most {MAX_N_SAMPLES} (each probe is one Hessian-vector "
                f"product per step); got {self.n_samples}"
            )

    def batch_size(self) -> int:
        seed = as_seed(self.seed)
        sizes = {super().batch_size(), 1 if isinstance(seed, int) else int(seed.size)} - {1}
        if len(sizes) > 1:
            raise ValueError(f"vector hyperparameters have different lengths: {sorted(sizes)}")
        return sizes.pop() if sizes else 1

    def hyperparameters(self, batch: int, backend: Backend):
        """As :meth:`Optimizer.hyperparameters`; ``seed`` is an int or a ``(B, 1)`` int64
        column (dropped with finished rows like every other column)."""
        hp = super().hyperparameters(batch, backend)
        hp.seed = seed_column(self.seed, backend, batch)
        return hp

    def work_per_step(self, d: int) -> float:
        """One gradient, and ``n_samples`` probes every ``update_each`` steps, each a
        Hessian-vector product and a counter-based draw (about two gradients' work)."""
        return 1.0 + 2.0 * self.n_samples / self.update_each

    def init(self, X, hp):
        return self.State(X * 0, X * 0, X * 0, 0)

    def estimate(self, X, seed, t: int, oracle):
        """The block-averaged ``|diag H|`` estimate D ``(B, d)`` at ``X``, step ``t``."""
        D = abs(hutchinson_diagonal(oracle, X, seed, self.n_samples, step=t, probe=self.probe))
        return block_average(D, self.block_size)

    def step(self, X, state, hp, oracle):
        beta1, beta2 = hp.betas
        t = state.t + 1
        g = oracle.grad(X)
        D = state.D
        if (t - 1) % self.update_each == 0:
            D = self.estimate(X, hp.seed, t, oracle)
        m, v = moments(state.m, state.v, g, D, beta1, beta2)
        den = v / (1 - beta2**t)
        if isinstance(hp.hessian_power, float) and hp.hessian_power == 1.0:
            den = namespace(den).sqrt(den)
        else:
            den **= hp.hessian_power / 2
        den += hp.eps
        update = m / (1 - beta1**t)
        update /= den
        del den
        if not is_zero(hp.weight_decay):
            update += hp.weight_decay * X
        update *= hp.lr
        return X - update, self.State(m, v, D, t)
