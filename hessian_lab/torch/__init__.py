"""Real networks: torch ``nn.Module`` tools (imports torch; ``import hessian_lab`` does not).

- :class:`hessian_lab.torch.AdaHessian`: AdaHessian as a ``torch.optim.Optimizer``, the
  authors' semantics (the engine's AdaHessian on a model's parameter tensors);
- :mod:`hessian_lab.torch.spectrum`: Hessian spectra of a model's loss from Hessian-vector
  products (:mod:`~hessian_lab.torch.hvp`: one graph, or a data set in batches): the top
  algebraic eigenvalues with their multiplicities (Lanczos with locking, shifted power
  iteration), Hutchinson trace with its standard error, spectral density by stochastic
  Lanczos quadrature; :func:`~hessian_lab.torch.hvp.unflatten` splits a flat vector per
  parameter;
- :mod:`~hessian_lab.torch.sharpness`: the bridge to the quadratic theory, a network's
  sharpness ``lambda_max`` and ``lr_max = 2 / lambda_max`` (``hessian-lab sharpness``);
- :mod:`~hessian_lab.torch.data` (the digits, offline), :mod:`~hessian_lab.torch.models`
  (seeded MLP / CNN), :mod:`~hessian_lab.torch.train` (full-batch GD with sharpness
  tracking, mini-batch training), :mod:`~hessian_lab.torch.cka` (linear CKA).
"""

from __future__ import annotations

from .adahessian import AdaHessian
from .spectrum import (
    HessianOperator,
    SpectralDensity,
    TopEigen,
    TraceEstimate,
    hutchinson_trace,
    lambda_max,
    power_iteration,
    spectral_density,
    top_eigenvalues,
    unflatten,
)

__all__ = [
    "AdaHessian",
    "HessianOperator",
    "SpectralDensity",
    "TopEigen",
    "TraceEstimate",
    "hutchinson_trace",
    "lambda_max",
    "power_iteration",
    "spectral_density",
    "top_eigenvalues",
    "unflatten",
]
