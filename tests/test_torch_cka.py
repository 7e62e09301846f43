"""Linear CKA: its defining properties and the Gram-matrix (HSIC) form it must equal."""

from __future__ import annotations

import pytest
import torch

from hessian_lab.torch.cka import cka_by_layer, layer_representations, linear_cka
from hessian_lab.torch.models import small_cnn


def draw(n: int, p: int, seed: int) -> torch.Tensor:
    return torch.randn(n, p, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))


def orthogonal(p: int, seed: int) -> torch.Tensor:
    q, _ = torch.linalg.qr(draw(p, p, seed))
    return q


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


def test_cka_by_layer_is_one_for_a_network_against_itself_and_below_for_another_seed():
    inputs = draw(64, 64, 11).reshape(64, 1, 8, 8)
    net, other = small_cnn(seed=0), small_cnn(seed=1)
    names = list(layer_representations(net, inputs))
    assert names == ["1 ReLU", "3 ReLU", "4 MaxPool2d", "6 Linear"]
    same = cka_by_layer(net, net, inputs)
    assert all(value == pytest.approx(1.0, abs=1e-12) for value in same.values())
    assert min(cka_by_layer(net, other, inputs).values()) < 0.99
