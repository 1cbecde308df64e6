"""Gradient checking: what it costs, counted in forward passes of the function checked.

* **fast mode** on a 784-256-10 MLP (relu, softmax cross-entropy, a batch of 64, float64):
  ``minigrad.gradcheck(loss, W1, b1, W2, b2, fast=True)`` checks each parameter along one
  random direction.  Target: under 30 forward-pass equivalents (the cost of the whole
  check divided by the cost of one evaluation of ``loss`` with the graph recorded).
* **full mode** on a model of about 1,000 parameters (an MLP 16-32-14-1 with tanh, mean
  squared error on 8 points): every parameter perturbed on its own, two evaluations each
  (central differences), so the cost grows with the number of parameters; reported, no
  target.

One forward pass, the unit, is an evaluation of the loss as a user runs it, recording the
graph; the checker's own evaluations at perturbed points record none, so they cost less.

Both checks must pass (the analytic gradients agree with the finite differences) before
they are timed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from benchmarks.harness import Config, Mismatch, Row, compare, optional, show_time

TARGET = 30.0


def mlp_parameters(layers: tuple, seed: int) -> list[np.ndarray]:
    """float64 weights (He-scaled normal) and small random biases, layer by layer."""
    rng = np.random.default_rng(seed)
    params = []
    for n_in, n_out in zip(layers[:-1], layers[1:]):
        params.append(rng.standard_normal((n_in, n_out)) * np.sqrt(2.0 / n_in))
        params.append(rng.uniform(-0.1, 0.1, size=n_out))
    return params


def classifier_loss(x: np.ndarray, labels: np.ndarray) -> Any:
    """loss(W1, b1, W2, b2) = cross-entropy(relu(x W1 + b1) W2 + b2, labels)."""
    from benchmarks.tensor_mlp import cross_entropy_of_minigrad

    cross_entropy, _ = cross_entropy_of_minigrad()

    def loss(W1: Any, b1: Any, W2: Any, b2: Any) -> Any:
        return cross_entropy((x @ W1 + b1).relu() @ W2 + b2, labels)

    return loss


def regression_loss(x: np.ndarray, y: np.ndarray) -> Any:
    """loss(W1, b1, W2, b2, W3, b3) = mean((tanh(tanh(x W1 + b1) W2 + b2) W3 + b3 - y)^2)."""

    def loss(W1: Any, b1: Any, W2: Any, b2: Any, W3: Any, b3: Any) -> Any:
        h = (x @ W1 + b1).tanh()
        h = (h @ W2 + b2).tanh()
        error = h @ W3 + b3 - y
        return (error * error).mean()

    return loss


def _cost(gradcheck: Any, loss: Any, values: list, fast: bool, config: Config) -> tuple:
    """(seconds per check, seconds per forward pass); raises Mismatch if the check fails."""
    report = gradcheck(loss, *values, fast=fast, raise_exception=False)
    if not report.passed:
        raise Mismatch(f"gradcheck ({'fast' if fast else 'full'} mode) failed:\n{report}")
    repeats = max(3, config.repeats // 2) if not fast else config.repeats
    medians = compare(
        {
            "check": lambda: gradcheck(loss, *values, fast=fast),
            "forward": lambda: loss(*values),
        },
        config,
        repeats=repeats,
    )
    return medians["check"], medians["forward"]


def run(config: Config) -> list[Row]:
    module = optional("minigrad.gradcheck")
    if module is None or not hasattr(module, "gradcheck"):
        return [
            Row(
                "gradcheck",
                "fast mode on the 784-256-10 MLP, in forward passes",
                None,
                "< 30",
                None,
                "skipped: minigrad.gradcheck is not available",
            )
        ]
    from minigrad import Value

    gradcheck = module.gradcheck
    rng = np.random.default_rng(7)
    rows = []

    layers, batch = ((20, 12, 5), 6) if config.smoke else ((784, 256, 10), 64)
    x = rng.standard_normal((batch, layers[0]))
    labels = rng.integers(0, layers[-1], size=batch)
    values = [Value(p) for p in mlp_parameters(layers, 1)]
    check, forward = _cost(gradcheck, classifier_loss(x, labels), values, True, config)
    passes = check / forward
    rows.append(
        Row(
            "gradcheck",
            f"fast mode on the {'-'.join(map(str, layers))} MLP, in forward passes",
            passes,
            "< 30",
            passes < TARGET,
            f"{show_time(check)} per check, {show_time(forward)} per forward pass; "
            f"{sum(v.size for v in values):,} parameters",
            {"passed": True, "forward passes": passes},
            unit="",
        )
    )

    layers, batch = ((3, 4, 2, 1), 4) if config.smoke else ((16, 32, 14, 1), 8)
    x = rng.standard_normal((batch, layers[0]))
    y = rng.standard_normal((batch, 1))
    values = [Value(p) for p in mlp_parameters(layers, 2)]
    n_params = sum(v.size for v in values)
    check, forward = _cost(gradcheck, regression_loss(x, y), values, False, config)
    passes = check / forward
    rows.append(
        Row(
            "gradcheck",
            f"full mode, {n_params:,}-parameter MLP {'-'.join(map(str, layers))}, "
            "in forward passes",
            passes,
            "",
            None,
            f"{show_time(check)} per check, {show_time(forward)} per forward pass; "
            f"{passes / n_params:.2f} per parameter (two evaluations each, central "
            "differences, which record no graph)",
            {"passed": True, "forward passes": passes, "parameters": n_params},
            unit="",
        )
    )
    return rows
