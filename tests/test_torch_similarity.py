"""Similarity measures on constructed representations with known values: linear CKA (and
its Gram-matrix HSIC form), SVCCA (canonical correlations by construction), the
orthogonal Procrustes distance (against scipy's Procrustes solution)."""

from __future__ import annotations

import math

import pytest
import scipy.linalg
import torch
from torch_models import one_torch_thread  # noqa: F401

from hessian_lab.torch.models import small_cnn
from hessian_lab.torch.similarity import (
    MEASURES,
    layer_representations,
    linear_cka,
    procrustes_distance,
    similarity_by_layer,
    svcca,
)


def draw(n: int, p: int, seed: int) -> torch.Tensor:
    return torch.randn(n, p, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))


def orthogonal(p: int, seed: int) -> torch.Tensor:
    q, _ = torch.linalg.qr(draw(p, p, seed))
    return q


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def hsic_cka(x: torch.Tensor, y: torch.Tensor) -> float:
    """The Gram-matrix definition: tr(K H L H) / sqrt(tr(K H K H) tr(L H L H))."""
    n = x.shape[0]
    h = torch.eye(n, dtype=torch.float64) - 1.0 / n
    k, l = x @ x.T, y @ y.T

    def hsic(a, b):
        return torch.trace(a @ h @ b @ h)

    return float(hsic(k, l) / torch.sqrt(hsic(k, k) * hsic(l, l)))


def test_cka_of_a_representation_with_itself_is_one():
    x = draw(40, 7, 0)
    assert linear_cka(x, x) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_cka_is_invariant_to_orthogonal_maps_and_isotropic_scaling(seed):
    x, y = draw(60, 6, seed), draw(60, 9, seed + 10) + draw(60, 6, seed) @ draw(6, 9, seed + 20)
    base = linear_cka(x, y)
    assert 0.05 < base < 0.999  # neither trivial value, so invariance is a real check
    assert linear_cka(x @ orthogonal(6, seed), y) == pytest.approx(base, rel=1e-10)
    assert linear_cka(x, y @ orthogonal(9, seed + 1)) == pytest.approx(base, rel=1e-10)
    assert linear_cka(-2.5 * x, 1e3 * y) == pytest.approx(base, rel=1e-10)


def test_cka_changes_under_a_general_linear_map():
    x, y = draw(60, 6, 4), draw(60, 6, 5)
    stretch = torch.diag(torch.tensor([1.0, 1.0, 1.0, 1.0, 1.0, 30.0], dtype=torch.float64))
    assert abs(linear_cka(x @ stretch, y) - linear_cka(x, y)) > 1e-3


@pytest.mark.parametrize("seed", [6, 7])
def test_cka_equals_the_gram_matrix_hsic_form_and_lies_in_zero_one(seed):
    x, y = draw(30, 5, seed), draw(30, 8, seed + 1)
    value = linear_cka(x, y)
    assert value == pytest.approx(hsic_cka(x, y), rel=1e-10)
    assert 0.0 <= value <= 1.0


def test_cka_ignores_a_constant_shift_of_either_representation():
    x, y = draw(30, 4, 8), draw(30, 4, 9)
    assert linear_cka(x + 5.0, y - 3.0) == pytest.approx(linear_cka(x, y), rel=1e-10)


def test_cka_rejects_mismatched_examples_and_constant_representations():
    with pytest.raises(ValueError, match="30 examples and y 20"):
        linear_cka(draw(30, 3, 0), draw(20, 3, 0))
    with pytest.raises(ValueError, match="constant"):
        linear_cka(torch.ones(10, 3, dtype=torch.float64), draw(10, 3, 0))


def orthonormal_columns(n: int, p: int, seed: int) -> torch.Tensor:
    """``p`` centred orthonormal columns of length ``n`` (orthogonal to the ones vector)."""
    basis = torch.cat([torch.ones(n, 1, dtype=torch.float64), draw(n, p, seed)], dim=1)
    q, _ = torch.linalg.qr(basis)
    return q[:, 1:]


@pytest.mark.parametrize("name", list(MEASURES))
@pytest.mark.parametrize("seed", [1, 2])
def test_every_measure_is_invariant_to_orthogonal_maps_scaling_and_shifts(name, seed):
    measure = MEASURES[name][0]
    x = draw(50, 6, seed)
    y = draw(50, 9, seed + 10) + x @ draw(6, 9, seed + 20)
    base = measure(x, y)
    assert measure(x @ orthogonal(6, seed), y) == pytest.approx(base, rel=1e-9, abs=1e-12)
    assert measure(x, -7.0 * y @ orthogonal(9, seed + 1)) == pytest.approx(base, rel=1e-9)
    assert measure(x + 3.0, 0.01 * y) == pytest.approx(base, rel=1e-9, abs=1e-12)
    same = 0.0 if MEASURES[name][1] == "distance" else 1.0
    assert measure(x, 2.5 * x @ orthogonal(6, seed)) == pytest.approx(same, abs=1e-10)


def test_svcca_canonical_correlations_by_construction():
    a, b, c = orthonormal_columns(40, 3, 0).T
    x, y = torch.stack([a, b], 1), torch.stack([a, c], 1)
    # span{a, b} and span{a, c} share one direction: correlations (1, 0)
    assert svcca(x, y) == pytest.approx(0.5, abs=1e-12)
    # at 45 degrees: y = [a, (b + c)/sqrt 2] -> correlations (1, 1/sqrt 2)
    y45 = torch.stack([a, (b + c) / 2**0.5], 1)
    assert svcca(x, y45) == pytest.approx((1 + 2**-0.5) / 2, abs=1e-12)
    # b carries 0.25% of x's variance: below the 1% that SVCCA drops, so only a is kept
    quiet = torch.stack([a, 0.05 * b], 1)
    assert svcca(quiet, y) == pytest.approx(1.0, abs=1e-12)
    assert svcca(quiet, y, keep=1.0) == pytest.approx(0.5, abs=1e-12)


def test_svcca_forgives_any_invertible_map_cka_and_procrustes_do_not():
    x = draw(60, 3, 3) @ draw(3, 6, 4)  # rank 3 in 6 columns
    general = draw(6, 6, 5) + 3 * torch.eye(6, dtype=torch.float64)
    assert svcca(x, x @ general) == pytest.approx(1.0, abs=1e-10)
    assert linear_cka(x, x @ general) < 0.99
    assert procrustes_distance(x, x @ general) > 0.01


@pytest.mark.parametrize("seed", [0, 1])
def test_procrustes_distance_is_the_best_rotations_residual(seed):
    x, y = draw(30, 5, seed), draw(30, 5, seed + 7) + draw(30, 5, seed)
    x0, y0 = x - x.mean(0), y - y.mean(0)
    x0, y0 = (x0 / x0.norm()).numpy(), (y0 / y0.norm()).numpy()
    rotation, _ = scipy.linalg.orthogonal_procrustes(y0, x0)  # argmin ||y0 R - x0||_F
    best = float(((x0 - y0 @ rotation) ** 2).sum())
    assert procrustes_distance(x, y) == pytest.approx(best, rel=1e-10)
    assert 0.0 < best < 2.0


def test_procrustes_distance_closed_forms():
    a, b = orthonormal_columns(20, 2, 1).T
    assert procrustes_distance(a[:, None], b[:, None]) == pytest.approx(2.0, abs=1e-12)
    angle = 0.3  # two lines: d = 2 - 2 |cos(angle)|
    tilted = (math.cos(angle) * a + math.sin(angle) * b)[:, None]
    assert procrustes_distance(a[:, None], tilted) == pytest.approx(
        2 - 2 * math.cos(angle), abs=1e-12
    )


def test_wide_layers_are_reduced_without_changing_any_value():
    x, y = draw(12, 40, 2), draw(12, 30, 3) + draw(12, 40, 2)[:, :30]  # p, q > n
    assert linear_cka(x, y) == pytest.approx(hsic_cka(x - x.mean(0), y - y.mean(0)), rel=1e-10)
    x0, y0 = x - x.mean(0), y - y.mean(0)
    x0, y0 = x0 / x0.norm(), y0 / y0.norm()
    direct = 2 - 2 * float(torch.linalg.svdvals(x0.T @ y0).sum())
    assert procrustes_distance(x, y) == pytest.approx(direct, rel=1e-10)


def test_similarity_by_layer_is_exact_for_a_network_against_itself():
    inputs = draw(64, 64, 11).reshape(64, 1, 8, 8)
    net, other = small_cnn(seed=0), small_cnn(seed=1)
    names = list(layer_representations(net, inputs))
    assert names == ["1 ReLU", "3 ReLU", "4 MaxPool2d", "6 Linear"]
    same = similarity_by_layer(net, net, inputs)
    assert list(same) == list(MEASURES)
    for measure, values in same.items():
        want = 0.0 if MEASURES[measure][1] == "distance" else 1.0
        assert all(value == pytest.approx(want, abs=1e-9) for value in values.values())
    assert min(similarity_by_layer(net, other, inputs)["linear CKA"].values()) < 0.99
    named = layer_representations(net, inputs, layers=["1", "6"])
    assert list(named) == ["1", "6"] and named["6"].shape == (64, 10)
    with pytest.raises(ValueError, match="no submodule named"):
        layer_representations(net, inputs, layers=["fc"])
