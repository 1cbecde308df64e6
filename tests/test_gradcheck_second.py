"""gradgradcheck: second derivatives through create_graph=True."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import Function, Value
from minigrad import functions as F

X = np.array([0.5, -1.2, 0.8])
Y = np.array([1.5, 0.3, -0.7])


@pytest.mark.parametrize(
    "fn",
    [
        lambda x, y: (x * y).tanh().sum(),
        lambda x, y: (x**3 * y).sum(),
        lambda x, y: (x.sigmoid() * y.exp()).sum(),
        lambda x, y: ((x * x + 1.0).log() / (y * y + 2.0)).sum(),
        lambda x, y: (Value(np.ones((2, 3)), requires_grad=False) @ (x * y)).tanh(),
        lambda x, y: (x * 2.0 + y).sum(),  # linear: every second derivative is 0
    ],
)
def test_correct_second_derivatives_pass(fn):
    x, y = Value(X, name="x"), Value(Y, name="y")
    report = mg.gradgradcheck(fn, x, y)
    assert report.passed and report.title == "gradgradcheck"
    assert "Hessian-vector product" in str(report)
    assert mg.gradgradcheck(fn, x, y, fast=True).passed


def test_the_checked_numbers_are_the_hessian_times_w():
    # f = sum(x^3 y): grad_x = 3x^2 y, grad_y = x^3, so for weights (wx, wy)
    # d/dx <grad f, w> = 6 x y wx + 3 x^2 wy and d/dy <grad f, w> = 3 x^2 wx.
    x, y = Value(X, name="x"), Value(Y, name="y")
    wx, wy = np.array([1.0, -2.0, 0.5]), np.array([0.3, 0.7, -1.1])
    report = mg.gradgradcheck(lambda x, y: (x**3 * y).sum(), x, y, grad_weights=[wx, wy])
    np.testing.assert_allclose(report["x"].analytic_grad, 6 * X * Y * wx + 3 * X**2 * wy)
    np.testing.assert_allclose(report["y"].analytic_grad, 3 * X**2 * wx)
    np.testing.assert_allclose(report["x"].numeric_grad, 6 * X * Y * wx + 3 * X**2 * wy, rtol=1e-6)


def test_against_torch_hessian_vector_products():
    torch = pytest.importorskip("torch")
    W = np.array([[0.2, -0.5, 1.0], [0.7, 0.1, -0.3]])
    w = np.array([0.4, -1.0, 0.25])
    x = Value(X, name="x")
    report = mg.gradgradcheck(
        lambda x: (Value(W, requires_grad=False) @ x).tanh().sum() * (x * x).sum(),
        x,
        grad_weights=[w],
    )
    tx = torch.tensor(X, requires_grad=True)
    tW = torch.tensor(W)
    f = torch.tanh(tW @ tx).sum() * (tx * tx).sum()
    (g,) = torch.autograd.grad(f, tx, create_graph=True)
    (hw,) = torch.autograd.grad((g * torch.tensor(w)).sum(), tx)
    np.testing.assert_allclose(report["x"].analytic_grad, hw.numpy(), rtol=1e-10)


class CubeCut(Function):
    """x^3, with a backward that says it is differentiable but reads .data: the second
    derivative loses the dependence of 3x^2 on x."""

    differentiable_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (3.0 * F.data_of(x) ** 2)


class CubeNumpy(CubeCut):
    """x^3 (CubeCut's forward) with an ordinary numpy backward (first derivatives only)."""

    differentiable_backward = False

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3.0 * x**2


def test_a_backward_that_cuts_its_own_graph_passes_gradcheck_but_not_gradgradcheck():
    x = Value(X, name="x")
    fn = lambda x: CubeCut.apply(x).sum()  # noqa: E731
    assert mg.gradcheck(fn, x).passed
    report = mg.gradgradcheck(fn, x, raise_exception=False)
    assert not report.passed
    assert "the analytic gradient is zero" in report["x"].diagnosis
    assert "outside the graph" in str(report.localize())


def test_a_numpy_backward_cannot_be_differentiated_twice():
    x = Value(X, name="x")
    with pytest.raises(RuntimeError, match="cannot differentiate through CubeNumpy.backward"):
        mg.gradgradcheck(lambda x: CubeNumpy.apply(x).sum(), x)
    assert np.array_equal(x.data, X)


def test_gradgradcheck_bad_weights():
    x = Value(X, name="x")
    with pytest.raises(ValueError, match="grad_weights has 2 entries for 1 inputs"):
        mg.gradgradcheck(lambda x: (x**3).sum(), x, grad_weights=[X, X])
    with pytest.raises(ValueError, match=r"grad_weights\[0\] has shape \(2,\)"):
        mg.gradgradcheck(lambda x: (x**3).sum(), x, grad_weights=[np.ones(2)])
    with pytest.raises(
        ValueError, match=r"output_weights has shape \(2,\), fn returns shape \(3,\)"
    ):
        mg.gradgradcheck(lambda x: x**3, x, output_weights=np.ones(2))


def test_complex_step_is_refused_for_second_derivatives():
    x = Value(X, name="x")
    with pytest.raises(ValueError, match="complex-step' would have to carry complex numbers"):
        mg.gradgradcheck(lambda x: (x**3).sum(), x, method="complex-step")
