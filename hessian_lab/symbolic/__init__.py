"""The symbolic layer (sympy): what should happen, as exact formulas.

- :mod:`.newton`: gradient, Hessian, Newton / diagonal-Newton / Hessian-power steps;
- :mod:`.rates`: contraction factors, stability bounds, optimal hyperparameters;
- :mod:`.hutchinson`: expectation and variance of Hutchinson's estimators.

Import the submodules directly (``from hessian_lab.symbolic import rates``); this package
imports nothing eagerly, so importing it stays cheap.
"""
