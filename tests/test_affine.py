"""The fused affine node, ``x @ W + b``: the same numbers and gradients as the two-node
composition, first and second order, and PyTorch's ``addmm`` when it is installed."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import Value
from minigrad.nn.functional import affine
from tests.reference import central_difference

SHAPES = [
    pytest.param((5, 3), id="batch"),
    pytest.param((3,), id="one-example"),
    pytest.param((2, 4, 3), id="stack"),
]


def _problem(x_shape, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape).astype(dtype)
    W = rng.standard_normal((3, 4)).astype(dtype)
    b = rng.standard_normal(4).astype(dtype)
    weights = rng.standard_normal(x_shape[:-1] + (4,))
    return x, W, b, weights


def _gradients(fn, x, W, b, weights):
    values = [Value(a.copy()) for a in (x, W, b)]
    out = fn(*values)
    (out * weights).sum().backward()
    return out, [v.grad for v in values]


@pytest.mark.parametrize("x_shape", SHAPES)
def test_affine_equals_the_composition_and_finite_differences(x_shape):
    x, W, b, weights = _problem(x_shape)
    fused, fused_grads = _gradients(affine, x, W, b, weights)
    plain, plain_grads = _gradients(lambda x, W, b: x @ W + b, x, W, b, weights)
    assert fused.op == "affine" and plain.op == "add"
    np.testing.assert_allclose(fused.data, plain.data, rtol=1e-12)
    for ours, theirs in zip(fused_grads, plain_grads):
        assert ours.shape == theirs.shape
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)

    def f(x, W, b):
        return float(np.sum((x @ W + b) * weights))

    for ours, numeric in zip(fused_grads, central_difference(f, [x, W, b])):
        np.testing.assert_allclose(ours, numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("x_shape", SHAPES)
def test_affine_second_derivatives(x_shape):
    x, W, b, _ = _problem(x_shape, seed=1)
    values = [Value(a) for a in (x, W, b)]
    report = mg.gradgradcheck(lambda x, W, b: (affine(x, W, b).tanh() ** 2).sum(), values)
    assert report.passed, report


def test_affine_keeps_float32_and_leaves_its_inputs_untouched():
    x, W, b, weights = _problem((5, 3), dtype=np.float32)
    before = [a.copy() for a in (x, W, b)]
    values = [Value(a) for a in (x, W, b)]
    out = affine(*values)
    (out * weights.astype(np.float32)).sum().backward()
    assert out.data.dtype == np.float32
    assert all(v.grad.dtype == np.float32 for v in values)
    for value, original in zip(values, before):
        np.testing.assert_array_equal(value.data, original)


def test_a_float64_bias_promotes_as_the_composition_does():
    x, W, b, _ = _problem((5, 3), dtype=np.float32)
    out = affine(Value(x), Value(W), Value(b.astype(np.float64)))
    assert out.data.dtype == (x @ W + b.astype(np.float64)).dtype == np.float64
    np.testing.assert_allclose(out.data, x @ W + b.astype(np.float64), rtol=1e-6)


def test_no_gradient_is_computed_for_inputs_that_do_not_need_one():
    x, W, b, _ = _problem((5, 3))
    inputs = Value(x, requires_grad=False)
    W_, b_ = Value(W), Value(b)
    out = affine(inputs, W_, b_)
    assert out.grad_fn.backward(out, np.ones((5, 4)))[0] is None
    out.sum().backward()
    assert inputs.grad is None
    np.testing.assert_allclose(b_.grad, np.full(4, 5.0))


@pytest.mark.parametrize(
    "b",
    [
        pytest.param(None, id="no-bias"),
        pytest.param(0.5, id="number"),
        pytest.param("row", id="(1, n)"),
    ],
)
def test_other_shapes_are_computed_as_the_composition(b):
    x, W, bias, _ = _problem((5, 3))
    b = bias.reshape(1, 4) if b == "row" else b
    out = affine(x, Value(W), b)
    expected = x @ W if b is None else x @ W + b
    np.testing.assert_allclose(out.data, expected)
    assert out.op in ("matmul", "add")


def test_mismatched_features_name_both_shapes():
    with pytest.raises(ValueError, match=r"affine: x has 5 features .* W has 3 rows"):
        affine(np.ones((2, 5)), Value(np.ones((3, 4))), Value(np.zeros(4)))


def test_affine_matches_torch_addmm():
    torch = pytest.importorskip("torch")
    x, W, b, weights = _problem((5, 3), seed=2)
    out, grads = _gradients(affine, x, W, b, weights)
    tx, tW, tb = (torch.tensor(a, requires_grad=True) for a in (x, W, b))
    tout = torch.addmm(tb, tx, tW)
    (tout * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-12)
    for ours, theirs in zip(grads, (tx.grad, tW.grad, tb.grad)):
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-12, atol=1e-14)


def test_complex_step_goes_through_affine():
    x, W, b, weights = _problem((5, 3), seed=3)
    values = [Value(a) for a in (x, W, b)]

    def f(x, W, b):
        return (affine(x, W, b).tanh() * weights).sum()

    f(*values).backward()
    numeric = mg.numerical_grad(f, *values, method="complex-step")
    for value, g in zip(values, numeric):
        np.testing.assert_allclose(g, value.grad, rtol=1e-12, atol=1e-14)
