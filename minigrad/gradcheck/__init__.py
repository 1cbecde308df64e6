"""Gradient checking against finite differences, with reports that explain what is wrong.

    >>> import minigrad as mg
    >>> x = mg.Value([0.5, -1.0, 2.0], name="x")
    >>> mg.gradcheck(lambda x: (x * x.tanh()).sum(), x).passed
    True

* ``numerical_grad``: finite-difference gradients (forward, central, five-point,
  complex-step), in float64.
* ``gradcheck``: analytic against numeric, element by element (or ``fast=True``: one
  random projection per input); a ``GradcheckReport`` that prints as a table, or a
  ``GradcheckError`` whose message is that table.  By default the finite difference's
  own error is measured at each element, so small bugs fail and elements the numbers
  cannot decide are reported as such, never as passes.  ``gradcheck(f, *arrays,
  grad=df)`` checks a gradient written by hand for a plain numpy function.
* ``gradgradcheck``: second derivatives, through ``create_graph=True``.
* ``gradcheck_module``: every parameter of a model, by dotted name, dropout off.
* ``eps_sweep`` / ``report.sweep()``: a bug, round-off or truncation error?
* ``report.localize()``: the first operation whose backward disagrees with its forward.

This package imports the engine; the engine never imports it.  The guide is
docs/gradcheck.md.
"""

from minigrad.gradcheck._core import ComplexStepError, GradcheckWarning
from minigrad.gradcheck.check import gradcheck, gradcheck_module, gradgradcheck, numerical_grad
from minigrad.gradcheck.localize import Localization, NodeCheck
from minigrad.gradcheck.report import GradcheckError, GradcheckReport, GradcheckRow, InputResult
from minigrad.gradcheck.sweep import EpsSweep, eps_sweep

__all__ = [
    "numerical_grad",
    "gradcheck",
    "gradgradcheck",
    "gradcheck_module",
    "eps_sweep",
    "GradcheckReport",
    "GradcheckError",
    "GradcheckWarning",
    "GradcheckRow",
    "InputResult",
    "EpsSweep",
    "Localization",
    "NodeCheck",
    "ComplexStepError",
]
