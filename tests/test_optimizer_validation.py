"""Out-of-range hyperparameters: a one-line ValueError that names the parameter."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from helpers import all_optimizer_classes

import hessian_lab as hl
from hessian_lab.optimizers import (
    GD,
    OPTIMIZERS,
    AdaGrad,
    AdaHessian,
    Adam,
    AdamW,
    DiagonalNewton,
    Momentum,
    Nesterov,
    Newton,
    RMSProp,
)

ALL = all_optimizer_classes()
WITH_BETAS = [Adam, AdamW, AdaHessian]
WITH_EPS = [AdaGrad, RMSProp, Adam, AdamW, AdaHessian]


def raises_naming(name: str):
    """``pytest.raises(ValueError)`` whose one-line message starts with the parameter name."""
    return pytest.raises(ValueError, match="^" + re.escape(name) + r"(?![\w\[])")


def one_line(info) -> None:
    assert "\n" not in str(info.value)


def test_every_optimizer_is_registered():
    assert set(OPTIMIZERS.values()) == set(ALL)
    assert {GD, Momentum, Nesterov, AdaGrad, RMSProp, Adam, AdamW} <= set(ALL)
    assert {AdaHessian, Newton, DiagonalNewton} <= set(ALL)
    for name, cls in OPTIMIZERS.items():
        assert cls.name == name
        assert isinstance(hl.make_optimizer(name), cls)


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.name)
@pytest.mark.parametrize("lr", [-1e-3, -1.0, math.nan, math.inf, [0.1, -0.1]])
def test_bad_lr(cls, lr):
    with raises_naming("lr") as info:
        cls(lr=lr)
    one_line(info)


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.name)
def test_valid_defaults_and_zero_lr(cls):
    cls()
    cls(lr=0.0)
    cls(lr=[0.1, 0.2, 0.3])


@pytest.mark.parametrize("cls", WITH_BETAS, ids=lambda c: c.name)
@pytest.mark.parametrize(
    ("betas", "which"),
    [
        ((1.0, 0.999), "betas[0]"),
        ((-0.1, 0.999), "betas[0]"),
        ((0.9, 1.0), "betas[1]"),
        ((0.9, 1.5), "betas[1]"),
        ((0.9, -1e-9), "betas[1]"),
        ((0.9, math.nan), "betas[1]"),
        ((0.9, [0.5, 1.0]), "betas[1]"),
    ],
)
def test_bad_betas(cls, betas, which):
    with raises_naming(which) as info:
        cls(betas=betas)
    one_line(info)


@pytest.mark.parametrize("cls", WITH_BETAS, ids=lambda c: c.name)
@pytest.mark.parametrize("betas", [(0.9,), (0.9, 0.99, 0.999), 0.9])
def test_betas_must_be_a_pair(cls, betas):
    with raises_naming("betas") as info:
        cls(betas=betas)
    one_line(info)


@pytest.mark.parametrize("cls", WITH_BETAS, ids=lambda c: c.name)
def test_betas_edges_allowed(cls):
    cls(betas=(0.0, 0.0))
    cls(betas=(0.999999, 0.999999))


@pytest.mark.parametrize("cls", WITH_EPS, ids=lambda c: c.name)
@pytest.mark.parametrize("eps", [-1e-12, math.nan, [1e-8, -1e-8]])
def test_bad_eps(cls, eps):
    with raises_naming("eps") as info:
        cls(eps=eps)
    one_line(info)
    cls(eps=0.0)  # eps = 0 is allowed (the scale-invariance properties use it)


@pytest.mark.parametrize("cls", [Momentum, Nesterov], ids=lambda c: c.name)
@pytest.mark.parametrize("beta", [1.0, -0.5, 2.0])
def test_bad_momentum_beta(cls, beta):
    with raises_naming("beta") as info:
        cls(beta=beta)
    one_line(info)


@pytest.mark.parametrize(
    ("cls", "kwargs", "name"),
    [
        (GD, {"weight_decay": -0.1}, "weight_decay"),
        (Adam, {"weight_decay": -0.1}, "weight_decay"),
        (AdaGrad, {"lr_decay": -0.1}, "lr_decay"),
        (AdaGrad, {"initial_accumulator_value": -1.0}, "initial_accumulator_value"),
        (RMSProp, {"alpha": 1.5}, "alpha"),
        (RMSProp, {"alpha": -0.1}, "alpha"),
        (RMSProp, {"momentum": 1.0}, "momentum"),
        (RMSProp, {"centered": "yes"}, "centered"),
        (Adam, {"amsgrad": 2}, "amsgrad"),
        (AdaHessian, {"hessian_power": 1.5}, "hessian_power"),
        (AdaHessian, {"hessian_power": -0.5}, "hessian_power"),
        (AdaHessian, {"block_size": 0}, "block_size"),
        (AdaHessian, {"n_samples": 1.5}, "n_samples"),
        (AdaHessian, {"update_each": 0}, "update_each"),
        (AdaHessian, {"seed": -1}, "seed"),
        (GD, {"lr": "fast"}, "lr"),
    ],
)
def test_other_bad_hyperparameters(cls, kwargs, name):
    with raises_naming(name) as info:
        cls(**kwargs)
    one_line(info)


def test_make_optimizer_unknown_names():
    with pytest.raises(ValueError, match="unknown optimizer 'sgdd'") as info:
        hl.make_optimizer("sgdd")
    one_line(info)
    assert "gd" in str(info.value) and "adahessian" in str(info.value)
    with pytest.raises(ValueError, match="unknown hyperparameter 'momentum' for gd") as info:
        hl.make_optimizer("gd", lr=0.1, momentum=0.9)
    one_line(info)
    assert "lr" in str(info.value)
    opt = hl.make_optimizer("adam", lr=0.1, betas=(0.5, 0.9))
    assert opt == Adam(lr=0.1, betas=(0.5, 0.9))
    with raises_naming("lr"):
        hl.make_optimizer("adam", lr=-1.0)


def test_mismatched_vector_lengths():
    problem = hl.Quadratic([1.0, 2.0])
    opt = Adam(lr=[0.1, 0.2], betas=([0.5, 0.6, 0.7], 0.9))
    with pytest.raises(ValueError, match="different lengths") as info:
        hl.run(problem, opt, x0=[1.0, 1.0])
    one_line(info)
    # x0 rows vs hyperparameter length
    with pytest.raises(ValueError, match="x0 has 3 rows") as info:
        hl.run(problem, GD(lr=[0.1, 0.2]), x0=np.ones((3, 2)))
    one_line(info)
    # consistent lengths run: x0 rows equal to B, or a single shared start
    assert hl.run(problem, GD(lr=[0.1, 0.2]), x0=np.ones((2, 2)), max_steps=3).batch == 2
    assert hl.run(problem, GD(lr=[0.1, 0.2]), x0=[1.0, 1.0], max_steps=3).batch == 2
