"""Hutchinson estimators: symbolic expectations vs enumeration, Monte Carlo and closed forms."""

from __future__ import annotations

import numpy as np
import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

from hessian_lab import hutchinson as hn
from hessian_lab.symbolic import hutchinson as hu


def random_symmetric(rng, n, integer=False):
    A = rng.integers(-5, 6, size=(n, n)) if integer else rng.normal(size=(n, n))
    return (A + A.T).astype(float)


@given(n=st.integers(1, 10), seed=st.integers(0, 2**32 - 1))
def test_enumerating_all_sign_vectors_gives_the_diagonal_exactly(n, seed):
    H = random_symmetric(np.random.default_rng(seed), n, integer=True)
    np.testing.assert_array_equal(hn.exact_enumeration_diagonal(H), np.diag(H))


def _check_sample_variance(samples, predicted):
    """Sample variance within 6 of its own standard errors (from the fourth moment)."""
    centred = samples - samples.mean(axis=0)
    variance = centred.var(axis=0, ddof=1)
    fourth = np.mean(centred**4, axis=0)
    stderr = np.sqrt(np.maximum(fourth - variance**2, 0) / len(samples))
    assert np.all(np.abs(variance - predicted) <= 6 * stderr + 1e-12), (variance, predicted)


@pytest.mark.parametrize("probe", hu.PROBES)
@pytest.mark.parametrize("n_probes", [1, 4])
def test_monte_carlo_variance_matches_the_formulas(probe, n_probes):
    """The library's counter-based probes, one seed per sample, against the closed forms."""
    H = random_symmetric(np.random.default_rng(12345), 4)
    n_samples = 40_000
    seeds = np.arange(n_samples)
    diag = hn.estimate_diagonal(H, n_probes, seed=seeds, probe=probe)
    assert diag.shape == (n_samples, 4)
    np.testing.assert_allclose(
        diag.mean(axis=0),
        np.diag(H),
        atol=6 * np.sqrt(hn.diagonal_variance(H, probe).max() / n_probes / n_samples),
    )
    _check_sample_variance(diag, hn.diagonal_variance(H, probe) / n_probes)
    like = np.zeros((n_samples, 4))
    Z = [hn.counter_probe(seeds[:, None], 0, p, like, probe) for p in range(n_probes)]
    traces = np.mean([np.einsum("si,ij,sj->s", z, H, z) for z in Z], axis=0)
    _check_sample_variance(traces[:, None], np.array([hn.trace_variance(H, probe) / n_probes]))


def test_adahessian_second_moment_is_the_row_norm_squared():
    rng = np.random.default_rng(7)
    H = random_symmetric(rng, 5)
    Z = hn.sign_vectors(5)
    D = Z * (Z @ H.T)
    np.testing.assert_allclose(np.mean(D**2, axis=0), hn.second_moment(H), rtol=1e-12)
    np.testing.assert_allclose(hn.second_moment(H), np.diag(H @ H), rtol=1e-12)
    assert np.all(np.sqrt(hn.second_moment(H)) >= np.abs(np.diag(H)))


@pytest.mark.parametrize("probe", hu.PROBES)
def test_symbolic_derivation_equals_the_numeric_formulas(probe):
    n = 3
    H = hu.symmetric_matrix(n)
    diagonal = hu.derive_diagonal_estimator(H, probe)
    trace = hu.derive_trace_estimator(H, probe)
    assert diagonal["mean"] == H.diagonal().T
    assert sympy.expand(trace["mean"] - H.trace()) == 0
    assert (diagonal["variance"] - hu.diagonal_variance_formula(H, probe)).expand() == sympy.zeros(
        n, 1
    )
    assert sympy.expand(trace["variance"] - hu.trace_variance_formula(H, probe)) == 0
    rng = np.random.default_rng(3)
    values = random_symmetric(rng, n)
    subs = {H[i, j]: values[i, j] for i in range(n) for j in range(n)}
    numeric = np.array(diagonal["variance"].subs(subs), dtype=float).ravel()
    np.testing.assert_allclose(numeric, hn.diagonal_variance(values, probe), rtol=1e-12)
    assert float(trace["variance"].subs(subs)) == pytest.approx(hn.trace_variance(values, probe))
    if probe == "rademacher":
        second = np.array(diagonal["second_moment"].subs(subs), dtype=float).ravel()
        np.testing.assert_allclose(second, hn.second_moment(values), rtol=1e-12)
        assert (diagonal["second_moment"] - hu.second_moment_formula(H)).expand() == sympy.zeros(
            n, 1
        )


def test_averaging_m_probes_divides_the_variance_by_m():
    H = hu.symmetric_matrix(2)
    for probe in hu.PROBES:
        one = hu.derive_diagonal_estimator(H, probe, 1)["variance"]
        two = hu.derive_diagonal_estimator(H, probe, 2)["variance"]
        assert (two - one / 2).expand() == sympy.zeros(2, 1)


def test_rademacher_variance_is_never_larger_than_gaussian():
    rng = np.random.default_rng(0)
    H = random_symmetric(rng, 6)
    assert np.all(hn.diagonal_variance(H, "rademacher") < hn.diagonal_variance(H, "gaussian"))
    assert hn.trace_variance(H, "rademacher") < hn.trace_variance(H, "gaussian")
    with pytest.raises(ValueError):
        hn.diagonal_variance(H, "uniform")
    with pytest.raises(ValueError):
        hn.exact_enumeration_diagonal(np.eye(13))


def test_combination_variance_reduces_to_the_diagonal_and_matches_monte_carlo():
    rng = np.random.default_rng(4)
    A = rng.standard_normal((5, 5))
    H = (A + A.T) / 2
    for probe in ("rademacher", "gaussian"):
        np.testing.assert_allclose(
            hn.combination_variance(H, np.eye(5), probe), hn.diagonal_variance(H, probe)
        )
    weights = np.array([[0.5, 0.5, 0, 0, 0], [0, 0, 1 / 3, 1 / 3, 1 / 3]])  # block means
    n = 200_000
    z = rng.choice([-1.0, 1.0], size=(n, 5))
    samples = (z * (z @ H)) @ weights.T
    predicted = hn.combination_variance(H, weights, "rademacher")
    # the sample variance's standard error is about var * sqrt(2 / n) (kurtosis aside): 5%
    np.testing.assert_allclose(samples.var(axis=0), predicted, rtol=0.05)
