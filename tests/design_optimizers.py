"""Small optimizers whose design choices need a declaration (``--assume``), each with a
switch for a believable bug: a Prodigy-like shared step size, sign descent (Lion's
update), a Shampoo-like matrix preconditioner."""

from __future__ import annotations

import torch


class MiniProdigy(torch.optim.Optimizer):
    """Prodigy's step size ``d`` (Mishchenko & Defazio), one for all parameters, from
    ``<g, x0 - x>`` computed while ``x`` has barely moved (a cancellation).

    bugs: ``"origin"`` measures ``<g, 0 - x>`` (from the origin, not the start);
    ``"first parameter"`` grows ``d`` from the first parameter's statistic only.
    """

    def __init__(self, params, lr=1.0, betas=(0.9, 0.999), eps=1e-8, d0=1e-6, bug=None):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps))
        self.d, self.d0, self.numerator, self.bug = d0, d0, 0.0, bug

    @torch.no_grad()
    def step(self, closure=None):
        d, d0 = self.d, self.d0
        params = [p for g in self.param_groups for p in g["params"] if p.grad is not None]
        group = self.param_groups[0]
        beta1, beta2 = group["betas"]
        beta3 = beta2**0.5
        dlr = d * group["lr"]
        numerator = denominator = 0.0
        for i, p in enumerate(params):
            state, g = self.state[p], p.grad
            if not state:
                state.update(x0=p.clone(), s=torch.zeros_like(p))
                state.update(m=torch.zeros_like(p), v=torch.zeros_like(p))
            origin = torch.zeros_like(p) if self.bug == "origin" else state["x0"]
            state["m"].mul_(beta1).add_(g, alpha=d * (1 - beta1))
            state["v"].mul_(beta2).addcmul_(g, g, value=d * d * (1 - beta2))
            state["s"].mul_(beta3).add_(g, alpha=(d / d0) * dlr)
            if self.bug == "first parameter" and i > 0:
                continue
            numerator += (d / d0) * dlr * float(torch.dot(g.flatten(), (origin - p).flatten()))
            denominator += float(state["s"].abs().sum())
        self.numerator = self.numerator * beta3 + numerator
        if denominator > 0:
            self.d = max(d, self.numerator / denominator)
        for p in params:
            state = self.state[p]
            p.addcdiv_(state["m"], state["v"].sqrt().add_(d * group["eps"]), value=-dlr)


class MiniLion(torch.optim.Optimizer):
    """Lion (Chen et al.): ``x -= lr sign(beta1 m + (1 - beta1) g)``, then
    ``m = beta2 m + (1 - beta2) g``. bug ``"stale momentum"``: m set once, never updated."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.99), bug=None):
        super().__init__(params, dict(lr=lr, betas=betas))
        self.bug = bug

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                fresh = "m" not in state
                m = state.setdefault("m", p.grad.clone() if self.bug else torch.zeros_like(p))
                p.add_(torch.sign(beta1 * m + (1 - beta1) * p.grad), alpha=-group["lr"])
                if not (self.bug == "stale momentum" and not fresh):
                    m.mul_(beta2).add_(p.grad, alpha=1 - beta2)


def _inverse_root(a: torch.Tensor, eps: float) -> torch.Tensor:
    """``(a + eps I)^(-1/4)`` of a symmetric positive semi-definite matrix."""
    w, u = torch.linalg.eigh(a + eps * torch.eye(a.shape[0], dtype=a.dtype))
    return (u * w.clamp_min(eps) ** -0.25) @ u.T


class MiniShampoo(torch.optim.Optimizer):
    """Shampoo (Gupta et al.) on a matrix parameter: ``L += G G^T``, ``R += G^T G``,
    ``X -= lr L^(-1/4) G R^(-1/4)``: a method of whole matrices (a vector has no L and R).

    bug ``"first row"``: ``R`` accumulates the first row of G only.
    """

    def __init__(self, params, lr=0.1, eps=1e-4, bug=None):
        super().__init__(params, dict(lr=lr, eps=eps))
        self.bug = bug

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                if g.dim() != 2:
                    raise ValueError(f"MiniShampoo takes matrices; got a {g.dim()}-D parameter")
                state = self.state[p]
                if not state:
                    state["L"] = torch.zeros(g.shape[0], g.shape[0], dtype=g.dtype)
                    state["R"] = torch.zeros(g.shape[1], g.shape[1], dtype=g.dtype)
                state["L"].add_(g @ g.T)
                rows = g[:1] if self.bug == "first row" else g
                state["R"].add_(rows.T @ rows)
                eps = group["eps"]
                step = _inverse_root(state["L"], eps) @ g @ _inverse_root(state["R"], eps)
                p.sub_(group["lr"] * step)
