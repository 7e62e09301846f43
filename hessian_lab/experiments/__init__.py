"""Canned experiments: the classic studies of ill-conditioning, momentum, Adam and AdaHessian.

    >>> from hessian_lab.experiments import EXPERIMENTS, run_experiment
    >>> list(EXPERIMENTS)[:2]
    ['steep-valley', 'rate-curves']
    >>> result = run_experiment("rate-curves", quick=True)      # doctest: +SKIP
    >>> result.write("out/rate-curves")                          # doctest: +SKIP

Each experiment is a small module that only composes library calls (engine, theory bridge,
symbolic layer, plots) and returns an :class:`ExperimentResult` with a table, JSON-ready
data and figures. Importing this package is cheap: an experiment's module (and with it
matplotlib or sympy) is imported only when it runs.
"""

from __future__ import annotations

from .base import Experiment, ExperimentResult

__all__ = ["EXPERIMENTS", "Experiment", "ExperimentResult", "run_experiment"]

_ENTRIES = (
    Experiment(
        "steep-valley",
        "lambda = (1, 100): GD (diverging and at lr*), heavy ball, Nesterov, Adam, RMSProp, "
        "AdaGrad, AdaHessian; measured vs predicted steps and paths on the contours",
        "steep_valley",
    ),
    Experiment(
        "rate-curves",
        "GD contraction factors against lr (lr* and R* from the symbolic layer) and steps "
        "against kappa for GD, optimal heavy ball and Adam",
        "rate_curves",
    ),
    Experiment(
        "sigmoid-neuron",
        "one sigmoid neuron (w, b) on two points: AdaHessian vs Adam vs GD for 200 epochs; "
        "loss curves, contour and surface with the paths",
        "sigmoid_neuron",
    ),
    Experiment(
        "newton-vs-gd",
        "GD, exact diagonal Newton, Hutchinson diagonal Newton and Newton on an axis-aligned "
        "and a rotated quadratic: where the diagonal is exact and where it is not",
        "newton_vs_gd",
    ),
    Experiment(
        "scaling",
        "coordinate rescaling from 1e-4 to 1e3: steps for GD at its best lr, Adam and "
        "AdaHessian (k = 1, 0.5); the diagonal second-order method does not care",
        "scaling",
    ),
    Experiment(
        "cross-init",
        "Himmelblau's function: optimizer A then B from A's end point and vice versa, and "
        "basin maps of which of the four minima each optimizer reaches from a grid of starts",
        "cross_init",
    ),
    Experiment(
        "precision",
        "GD at lr* in float64 and float32 under the distance criterion: the float32 rounding "
        "floor, predicted from the machine epsilon and the contraction rate",
        "precision",
    ),
    Experiment(
        "hutchinson",
        "Hutchinson diagonal estimates: error against probes for Rademacher and Gaussian "
        "probes, with and without block averaging, against the derived variances",
        "hutchinson",
    ),
    Experiment(
        "edge-of-stability",
        "full-batch GD on a tanh MLP (digits, squared loss) at several lr: the sharpness "
        "rises to about 2 / lr and hovers there (Cohen et al. 2021)",
        "edge_of_stability",
    ),
    Experiment(
        "digits-normalization",
        "digits inputs rescaled by 1e-4, 1, 1e3: a small CNN trained with SGD (momentum) "
        "and AdaHessian; loss curves and test accuracy per optimizer and scale",
        "digits_normalization",
    ),
    Experiment(
        "digits-cross-init",
        "digits, small CNN: train with SGD (momentum) or AdaHessian, then continue with each "
        "from the other's weights; loss and accuracy along the four paths",
        "digits_cross_init",
    ),
    Experiment(
        "digits-similarity",
        "digits, small CNN: linear CKA, SVCCA and Procrustes distance layer by layer between "
        "SGD and AdaHessian solutions, across seeds and against the initialization",
        "digits_similarity",
    ),
    Experiment(
        "batch-size",
        "the noisy quadratic model (lambda_i = 1/i, S = H): steps to a target against batch "
        "size for SGD, momentum, diag(H)^-p preconditioning and Adam, iterate averaging; "
        "then the digits CNN with SGD (momentum) and Adam",
        "batch_size",
    ),
)

#: name -> experiment, the classic studies first (the steep valley).
EXPERIMENTS: dict[str, Experiment] = {entry.name: entry for entry in _ENTRIES}


def run_experiment(name: str, quick: bool = False, style: str | None = None) -> ExperimentResult:
    """Run the experiment called ``name``; ``quick`` runs a reduced size in a few seconds;
    ``style`` builds its figures in that presentation (``notebook``, ``talk``, ``paper``:
    :func:`hessian_lab.plots.style`; default: the current one).

    Raises ``ValueError`` naming the unknown experiment and the allowed names.
    """
    entry = EXPERIMENTS.get(name)
    if entry is None:
        raise ValueError(f"unknown experiment {name!r}; allowed: {', '.join(EXPERIMENTS)}")
    if style is None:
        return entry.run(quick=quick)
    from .. import plots

    with plots.style(style):
        return entry.run(quick=quick)
