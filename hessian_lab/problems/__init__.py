"""Objectives on a batch ``X`` of shape ``(B, d)``: loss, grad, hvp (see ``base``)."""

from __future__ import annotations

from .base import Problem
from .quadratic import ROTATIONS, SPECTRA, Quadratic, haar_orthogonal, spectrum, steep_valley

__all__ = [
    "Problem",
    "Quadratic",
    "ROTATIONS",
    "SPECTRA",
    "haar_orthogonal",
    "spectrum",
    "steep_valley",
]
