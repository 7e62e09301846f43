"""The optimizer catalog: every consumer derives its optimizers from it, and one entry
(through :func:`hessian_lab.catalog.register`) is all an optimizer needs to reach them."""

from __future__ import annotations

import json
from dataclasses import fields

import numpy as np
import pytest
from helpers import all_optimizer_classes
from typer.testing import CliRunner

import hessian_lab as hl
from hessian_lab import catalog
from hessian_lab.cli import app
from hessian_lab.formulas import FORMULAS
from hessian_lab.optimizers import GD, OPTIMIZERS


class HalfStepGD(GD):
    """A toy method: gradient descent with half the step, ``x <- x - (lr/2) grad f(x)``."""

    name = "half-gd"

    def step(self, X, state, hp, oracle):
        return X - (0.5 * hp.lr) * oracle.grad(X), state


@pytest.fixture
def toy():
    entry = catalog.register(HalfStepGD, defaults={"lr": "0.02"}, optimum={"lr": "lr_max"})
    yield entry
    catalog.unregister(entry.name)


def test_a_registered_optimizer_reaches_every_consumer(toy):
    assert "half-gd" in catalog.names()
    assert OPTIMIZERS["half-gd"] is HalfStepGD
    assert isinstance(hl.make_optimizer("half-gd", lr=0.1), HalfStepGD)
    assert HalfStepGD in all_optimizer_classes()
    # the CLI's -o accepts it, with the catalog's optimum as default on a quadratic
    # (lr = lr_max = 2/100 on the steep valley: halved, a step of 1/100 that converges)
    out = CliRunner().invoke(app, ["run", "-o", "half-gd", "-o", "gd", "--json"])
    assert out.exit_code == 0, out.output
    runs = json.loads(out.stdout)["runs"]
    assert [r["optimizer"] for r in runs] == ["half-gd", "gd"]
    assert runs[0]["sources"] == {"lr": "lr_max"}
    assert runs[0]["hyperparameters"]["lr"] == pytest.approx(2 / 100)
    assert runs[0]["status"] == "converged" and runs[0]["steps"] > runs[1]["steps"]
    # without theory quantities it falls back to the entry's plain default
    assert catalog.entry("half-gd").cli_defaults(theory=False) == {"lr": "0.02"}


def test_unregistered_optimizer_is_gone_everywhere(toy):
    catalog.unregister("half-gd")
    assert "half-gd" not in OPTIMIZERS
    with pytest.raises(ValueError, match="unknown optimizer 'half-gd'; allowed: gd, "):
        hl.make_optimizer("half-gd")
    out = CliRunner().invoke(app, ["run", "-o", "half-gd"])
    assert out.exit_code == 2 and "half-gd" in out.stderr
    catalog.register(toy)  # for the fixture's clean-up


def test_register_refuses_a_taken_name_or_a_nameless_class(toy):
    with pytest.raises(ValueError, match="already in the catalog"):
        catalog.register(HalfStepGD)
    assert catalog.register(HalfStepGD, replace=True).defaults == {}

    class Nameless(GD):
        name = ""

    with pytest.raises(ValueError, match="no optimizer name"):
        catalog.register(Nameless)
    with pytest.raises(ValueError, match="built in"):
        catalog.unregister("gd")


@pytest.mark.parametrize("entry", catalog.BUILTIN, ids=lambda e: e.name)
def test_builtin_entries_are_consistent(entry):
    cls = entry.load()
    assert cls.name == entry.name and cls.__name__ == entry.class_name
    assert getattr(hl, entry.class_name) is cls
    hyper = {f.name for f in fields(cls)}
    points = [entry.defaults, entry.optimum, *entry.also_predicted.values()]
    for texts in points:
        assert set(texts) <= hyper, entry.name
    for texts in points[1:]:
        assert set(texts.values()) <= set(FORMULAS), entry.name


def test_iteration_matrices_name_the_symbolic_methods():
    from hessian_lab.symbolic import rates

    linear = {e.name: e.iteration_matrix for e in catalog.BUILTIN if e.iteration_matrix}
    assert linear == {
        "gd": "gd",
        "momentum": "heavy_ball",
        "nesterov": "nesterov",
        "newton": "gd",
        "diag-newton": "gd",
        "precond-gd": "gd",
    }
    for key in linear.values():
        assert key in rates.ITERATION_MATRICES
    assert isinstance(rates.heavy_ball, rates.MomentumMethod)
    assert rates.ITERATION_MATRICES["heavy_ball"] == rates.heavy_ball.matrix


def test_the_optimum_is_optimal_for_the_linear_methods():
    """The catalog's optimum points give the rate the theory promises (kappa = 100)."""
    from hessian_lab.theory import named_quantities, predict

    problem = hl.Quadratic([1.0, 100.0])
    q = named_quantities(problem)
    promised = {"gd": q["rate_opt"], "momentum": q["rate_hb_opt"], "nesterov": q["rate_nag_opt"]}
    labels = []
    for label, name, texts in catalog.predicted_points():
        labels.append(label)
        opt = hl.make_optimizer(name, **{k: q[v] for k, v in texts.items()})
        rate = float(predict(problem, opt, [1.0, 1.0], max_steps=10).rate[0])
        if label in promised:
            np.testing.assert_allclose(rate, promised[label], rtol=1e-6)
    assert labels == ["gd", "momentum", "nesterov", "nesterov-textbook"]


def test_entries_are_read_only():
    with pytest.raises(AttributeError):
        catalog.BUILTIN[0].name = "other"
    with pytest.raises(TypeError):
        catalog.BUILTIN[0].optimum["lr"] = "lr_max"


def test_every_builtin_has_its_own_colour_and_none_is_red():
    from matplotlib.colors import to_rgb

    colours = [to_rgb(e.color) for e in catalog.BUILTIN]
    assert len(set(colours)) == len(colours)
    for r, g, b in colours:  # red stays for the minimizer and divergence
        assert not (r > 0.7 and g < 0.35 and b < 0.35), (r, g, b)


@pytest.mark.parametrize(
    "label, name",
    [
        ("GD lr=0.0198", "gd"),
        ("adamw lr=0.05", "adamw"),
        ("Adam (torch)", "adam"),
        ("diag-newton (exact diagonal)", "diag-newton"),
        ("newton", "newton"),
        ("nesterov-textbook", "nesterov"),
        ("heavy ball lr=0.0035, beta=0.9", "momentum"),
        ("float32", None),
        ("adamant", None),
    ],
)
def test_a_run_label_names_its_optimizer(label, name):
    found = catalog.optimizer_of(label)
    assert (found.name if found else None) == name
