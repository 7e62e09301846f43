"""AdaHessian as a ``torch.optim.Optimizer`` for any ``nn.Module``.

The same method as the engine's :class:`hessian_lab.optimizers.AdaHessian` (which runs on
batches of ``(B, d)`` iterates), here on a model's parameter tensors. Per step ``t``:

    z_s   Rademacher probes over all parameters, s = 1..n_samples
    D     = |mean_s z_s * H z_s|     one joint Hessian-vector product per probe
    D     <- kernel average (4-D conv weights: mean over the two kernel dimensions)
             or block average (other tensors: runs of block_size entries)
    m     <- beta1 m + (1 - beta1) g,           v <- beta2 v + (1 - beta2) D^2
    theta <- theta - lr * (m / (1 - beta1^t) / ((v / (1 - beta2^t))^(k/2) + eps)
                           + weight_decay * theta)

with ``k`` the Hessian power, ``H z`` the product ``d(g . z)/dtheta`` through the gradient's
graph (the closure's ``loss.backward(create_graph=True)`` built it), and ``D`` re-estimated
only every ``update_each`` steps (the last estimate is reused in between).

Reference: Yao, Gholami, Shen, Mustafa, Keutzer & Mahoney, "ADAHESSIAN: An Adaptive
Second Order Optimizer for Machine Learning" (AAAI 2021), and the authors' code
(github.com/amirgholami/adahessian), whose update, kernel averaging and weight decay this
follows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from ..backend import counter_rademacher
from ..optimizers.adahessian import AdaHessian as _EngineAdaHessian
from ..optimizers.adahessian import block_average

__all__ = ["AdaHessian"]

#: ``probes(params, step, sample) -> one +-1 tensor per parameter``: a probe stream
ProbeFn = Callable[[Sequence[torch.Tensor], int, int], list]

PROBE_STREAMS = ("generator", "counter")


class AdaHessian(torch.optim.Optimizer):
    """AdaHessian (Yao et al. 2021) for the parameters of any model.

    Args:
        params: parameters or parameter groups, as for every ``torch.optim`` optimizer.
        lr, betas, eps, weight_decay, hessian_power: as in the formula above (defaults:
            the authors' 0.15, (0.9, 0.999), 1e-4, 0, 1); may differ per group.
        block_size: the averaging block for tensors that are not 4-D (1: none).
        average_conv_kernel: average ``D`` of 4-D weights over their kernel dimensions
            (the authors' spatial averaging; default True).
        n_samples: probes averaged per estimate (one Hessian-vector product each).
        update_each: re-estimate ``D`` every this many steps.
        seed: the probes' seed (a non-negative integer).
        probes: where the Rademacher signs come from:

            - ``"generator"`` (default): a ``torch.Generator`` seeded with ``seed``, kept
              in the optimizer (``state_dict`` saves it): one flat draw over all
              parameters per probe;
            - ``"counter"``: the engine's counter-based signs,
              ``counter_rademacher(seed, t, s)`` over the parameters flattened and
              concatenated in order, so a model whose parameter is one vector takes the
              same steps as ``hessian_lab.run(problem, hessian_lab.AdaHessian(...))``;
            - a callable ``probes(params, t, s)`` returning one +-1 tensor per parameter
              (to share another implementation's stream in a comparison).

    ``step(closure)``: the closure zeroes the gradients, evaluates the loss and calls
    ``loss.backward(create_graph=True)``. After the step every ``p.grad`` is detached, so
    no graph outlives the step (without it, ``p -> p.grad -> graph -> p`` is a reference
    cycle that leaks a graph per step)::

        opt = AdaHessian(model.parameters(), lr=0.1)

        def closure():
            opt.zero_grad()
            loss = loss_fn(model(X), y)
            loss.backward(create_graph=True)
            return loss

        for _ in range(100):
            opt.step(closure)
    """

    def __init__(
        self,
        params,
        lr: float = 0.15,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-4,
        weight_decay: float = 0.0,
        hessian_power: float = 1.0,
        block_size: int = 1,
        average_conv_kernel: bool = True,
        n_samples: int = 1,
        update_each: int = 1,
        seed: int = 0,
        probes: str | ProbeFn = "generator",
    ) -> None:
        if not (callable(probes) or probes in PROBE_STREAMS):
            raise ValueError(
                f"probes must be one of {', '.join(PROBE_STREAMS)} or a callable; got {probes!r}"
            )
        if average_conv_kernel not in (True, False):
            raise ValueError(
                f"average_conv_kernel must be True or False; got {average_conv_kernel!r}"
            )
        defaults = dict(
            lr=lr,
            betas=tuple(betas),
            eps=eps,
            weight_decay=weight_decay,
            hessian_power=hessian_power,
            block_size=block_size,
        )
        # the engine's class checks every value (one-line ValueErrors naming the argument)
        _EngineAdaHessian(**defaults, n_samples=n_samples, update_each=update_each, seed=seed)
        self.n_samples = int(n_samples)
        self.update_each = int(update_each)
        self.average_conv_kernel = bool(average_conv_kernel)
        self.seed = int(seed)
        self.probes = probes
        super().__init__(params, defaults)
        device = self.param_groups[0]["params"][0].device
        self.generator = torch.Generator(device=device).manual_seed(self.seed)
        self.state["probes"] = {"step": 0}

    def add_param_group(self, param_group: dict) -> None:
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        for name in ("lr", "eps", "weight_decay", "hessian_power"):
            if isinstance(group[name], bool) or not isinstance(group[name], (int, float)):
                raise ValueError(f"{name} must be a number; got {group[name]!r}")
        _EngineAdaHessian(**{name: group[name] for name in self.defaults})

    # --- the Hessian-diagonal estimate ------------------------------------------------

    def _probe(self, params: list[torch.Tensor], t: int, s: int) -> list[torch.Tensor]:
        """Probe ``s`` of step ``t``: one +-1 tensor per parameter."""
        if callable(self.probes):
            return list(self.probes(params, t, s))
        sizes = [p.numel() for p in params]
        like = params[0]
        if self.probes == "counter":
            flat = torch.empty((1, sum(sizes)), dtype=like.dtype, device=like.device)
            flat = counter_rademacher(self.seed, t, s, flat)[0]
        else:
            bits = torch.randint(
                0, 2, (sum(sizes),), generator=self.generator, device=self.generator.device
            )
            flat = (2 * bits - 1).to(dtype=like.dtype, device=like.device)
        return [z.view_as(p) for z, p in zip(flat.split(sizes), params, strict=True)]

    def hessian_diagonal(self, params: list[torch.Tensor], grads: list[torch.Tensor], t: int):
        """``|mean_s z_s * H z_s|`` per parameter (before averaging): ``n_samples`` joint
        products ``H z = d(sum_p g_p . z_p)/dtheta`` through the gradients' graph."""
        live = [i for i, g in enumerate(grads) if g.requires_grad]
        if not live:
            raise RuntimeError(
                "AdaHessian needs the gradients' graph: call loss.backward(create_graph=True) "
                "in the closure"
            )
        total = [torch.zeros_like(p) for p in params]
        for s in range(self.n_samples):
            z = self._probe(params, t, s)
            products = torch.autograd.grad(
                [grads[i] for i in live],
                params,
                grad_outputs=[z[i] for i in live],
                retain_graph=s < self.n_samples - 1,
                allow_unused=True,
            )
            for acc, zp, hz in zip(total, z, products, strict=True):
                if hz is not None:  # a parameter the gradient does not depend on: H row 0
                    acc.addcmul_(zp, hz)
        return [acc.div_(self.n_samples).abs_() for acc in total]

    def _averaged(self, D: torch.Tensor, block_size: int) -> torch.Tensor:
        if D.dim() == 4 and self.average_conv_kernel:
            return D.mean(dim=(2, 3), keepdim=True).expand_as(D).clone()
        if block_size == 1:
            return D
        return block_average(D.reshape(1, -1), block_size).reshape(D.shape)

    # --- the step ---------------------------------------------------------------------

    def step(self, closure: Callable[[], torch.Tensor] | None = None):
        """One AdaHessian step; returns the closure's loss (or None without a closure)."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        found = [
            (p, group) for group in self.param_groups for p in group["params"] if p.grad is not None
        ]
        if not found:
            return loss
        params = [p for p, _ in found]
        t = self.state["probes"]["step"] + 1
        self.state["probes"]["step"] = t
        estimate = (t - 1) % self.update_each == 0
        if estimate:
            D = self.hessian_diagonal(params, [p.grad for p in params], t)
        for p in params:  # break p -> p.grad -> graph -> p: no graph outlives the step
            p.grad = p.grad.detach()
        with torch.no_grad():
            for i, (p, group) in enumerate(found):
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_hessian_diag_sq"] = torch.zeros_like(p)
                if estimate:
                    state["hessian_diag"] = self._averaged(D[i], group["block_size"])
                state["step"] += 1
                self._update(p, state, group)
        return loss

    @staticmethod
    def _update(p: torch.Tensor, state: dict, group: dict) -> None:
        beta1, beta2 = group["betas"]
        k = group["hessian_power"]
        t = state["step"]
        m, v, D = state["exp_avg"], state["exp_hessian_diag_sq"], state["hessian_diag"]
        m.mul_(beta1).add_(p.grad, alpha=1 - beta1)
        v.mul_(beta2).addcmul_(D, D, value=1 - beta2)
        den = v / (1 - beta2**t)
        den = den.sqrt_() if k == 1 else den.pow_(k / 2)
        den.add_(group["eps"])
        update = m / (1 - beta1**t)
        update.div_(den)
        if group["weight_decay"] != 0:
            update.add_(p, alpha=group["weight_decay"])
        p.sub_(update, alpha=group["lr"])

    # --- saving and restoring -----------------------------------------------------------

    def state_dict(self) -> dict:
        """``torch.optim``'s state dict plus the probe generator's state."""
        saved = super().state_dict()
        saved["probe_generator"] = self.generator.get_state()
        return saved

    def load_state_dict(self, state_dict: dict) -> None:
        state_dict = dict(state_dict)
        generator_state = state_dict.pop("probe_generator", None)
        super().load_state_dict(state_dict)
        if generator_state is not None:
            self.generator.set_state(generator_state)
