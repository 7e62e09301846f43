"""Shared fixtures: the backends under test and the hypothesis profiles.

``HYPOTHESIS_PROFILE=ci`` (set by ``.ci/run`` and the default here) is derandomized with
no deadline; ``nightly`` draws many more examples for deep runs.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

from hessian_lab.backend import Backend, get_backend

settings.register_profile(
    "ci",
    max_examples=40,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.register_profile(
    "nightly", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def _backends() -> list[Backend]:
    found = [Backend("numpy")]
    torch_backend = get_backend("torch")
    found.append(torch_backend)
    return found


@pytest.fixture(params=_backends(), ids=lambda b: f"{b.name}-{b.device}")
def backend(request) -> Backend:
    """Every installed backend, float64 (torch is a test dependency, so both always run)."""
    return request.param


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261122)
