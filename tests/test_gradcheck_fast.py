"""fast=True: one random projection per input, checked on a 784-256-10 MLP."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import Value
from minigrad import functions as F

RNG = np.random.default_rng(7)
BATCH = 16
IMAGES = RNG.standard_normal((BATCH, 784))
LABELS = RNG.integers(0, 10, size=BATCH)
ONE_HOT = np.eye(10)[LABELS]


def mlp_parameters(seed: int = 0) -> list[Value]:
    rng = np.random.default_rng(seed)
    return [
        Value(rng.standard_normal((784, 256)) * np.sqrt(2 / 784), name="W1"),
        Value(rng.standard_normal(256) * 0.1, name="b1"),
        Value(rng.standard_normal((256, 10)) * np.sqrt(1 / 256), name="W2"),
        Value(rng.standard_normal(10) * 0.1, name="b2"),
    ]


def softmax_cross_entropy(logits: Value) -> Value:
    """mean over the batch of logsumexp(z) - z[label], from primitives only."""
    z = logits - logits.max(axis=1, keepdims=True)
    return (z.exp().sum(axis=1).log() - (z * ONE_HOT).sum(axis=1)).mean()


def mlp_loss(W1, b1, W2, b2, relu=lambda h: h.relu()):
    hidden = relu(IMAGES @ W1 + b1)
    return softmax_cross_entropy(hidden @ W2 + b2)


def numpy_loss(W1, b1, W2, b2) -> float:
    """The same loss in plain numpy: the independent reference."""
    hidden = np.maximum(IMAGES @ W1 + b1, 0)
    z = hidden @ W2 + b2
    z = z - z.max(axis=1, keepdims=True)
    return float(np.mean(np.log(np.exp(z).sum(axis=1)) - (z * ONE_HOT).sum(axis=1)))


def test_fast_mode_checks_the_784_256_10_mlp_in_a_few_forward_passes():
    params = mlp_parameters()
    calls = {"n": 0}

    def loss(*p):
        calls["n"] += 1
        return mlp_loss(*p)

    report = mg.gradcheck(loss, *params, fast=True)
    assert report.passed and report.mode == "fast"
    assert [r.name for r in report.inputs] == ["W1", "b1", "W2", "b2"]
    # one forward pass for the graph, two per input for the directional differences:
    # independent of the 203,530 parameters
    assert calls["n"] == 1 + 2 * len(params)
    assert "v^T J u" in str(report)

    # the numbers: v^T J u against the engine's gradient and a numpy central difference
    grads = mg.grad(mlp_loss(*params), params)
    datas = [p.data for p in params]
    for i, (p, g) in enumerate(zip(params, grads)):
        result = report[p.name]
        u = result.direction
        assert u.shape == p.shape
        assert result.analytic[0, 0] == pytest.approx(float(np.sum(g * u)), rel=1e-10)
        eps = 1e-6
        plus = [d + eps * u if k == i else d for k, d in enumerate(datas)]
        minus = [d - eps * u if k == i else d for k, d in enumerate(datas)]
        reference = (numpy_loss(*plus) - numpy_loss(*minus)) / (2 * eps)
        assert result.numeric[0, 0] == pytest.approx(reference, rel=1e-6, abs=1e-9)


def test_fast_mode_catches_a_wrong_relu_in_the_mlp_and_localizes_it():
    class LeakyBackwardRelu(F.Relu):
        """Forward is relu; backward lets 10% through where the input is negative."""

        @staticmethod
        def backward(ctx, grad):
            (out,) = ctx.saved_tensors
            return grad * np.where(out > 0, 1.0, 0.1)

    params = mlp_parameters()
    report = mg.gradcheck(
        lambda *p: mlp_loss(*p, relu=LeakyBackwardRelu.apply),
        *params,
        fast=True,
        raise_exception=False,
    )
    assert {r.name for r in report.inputs if not r.passed} == {"W1", "b1"}
    assert report["W2"].passed and report["b2"].passed
    culprit = report.localize().culprit
    assert culprit is not None and culprit.op == "LeakyBackwardRelu"
    assert culprit.shape == (BATCH, 256)


def test_fast_and_full_modes_agree_on_a_small_function():
    a = Value(np.array([[0.3, -0.8], [1.1, 0.2]]), name="a")
    b = Value(np.array([0.5, -1.5]), name="b")

    def fn(a, b):
        return ((a @ b).tanh() * (a * a).sum(axis=0)).sum()

    full, fast = mg.gradcheck(fn, a, b), mg.gradcheck(fn, a, b, fast=True)
    assert full.passed and fast.passed
    for name in ("a", "b"):
        u = fast[name].direction
        assert fast[name].analytic[0, 0] == pytest.approx(
            float(np.sum(full[name].analytic_grad * u)), rel=1e-12
        )


def test_fast_mode_with_other_methods_and_scalars():
    s = Value(0.7, name="s")
    x = Value(np.array([0.5, -0.2, 1.3]), name="x")
    for method in ("forward", "five-point", "complex-step"):
        report = mg.gradcheck(lambda s, x: (x * s).exp().sum(), s, x, fast=True, method=method)
        assert report.passed, method
        assert report["s"].direction in (-1.0, 1.0)
