"""Reductions and running reductions at their edges: zeros in products, degrees of
freedom, the zero vector's norm, empty and 0-d inputs, and the bad arguments.  Values and
gradients on ordinary inputs are generated from tests/ops.py."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import Value


def test_prod_gradient_with_one_and_with_two_zeros():
    x = Value(np.array([2.0, 0.0, 3.0]))
    x.prod().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 6.0, 0.0])
    y = Value(np.array([0.0, 5.0, 0.0]))
    y.prod().backward()
    np.testing.assert_array_equal(y.grad, [0.0, 0.0, 0.0])


def test_prod_second_derivative_with_a_zero():
    # d²(x0 x1 x2)/dx0 dx1 = x2: through the division-free rule
    x = Value(np.array([0.0, 2.0, 3.0]))
    (g,) = mg.grad(x.prod(), [x], create_graph=True)
    (h,) = mg.grad(g[0], [x])
    np.testing.assert_array_equal(h, [0.0, 3.0, 2.0])


def test_prod_of_nothing_is_one_with_an_empty_gradient():
    x = Value(np.zeros((0, 3)))
    out = x.prod(axis=0)
    np.testing.assert_array_equal(out.data, np.ones(3))
    out.sum().backward()
    assert x.grad.shape == (0, 3)


def test_cumsum_of_a_scalar_flattens_as_numpy():
    assert Value(2.0).cumsum().shape == (1,)
    assert Value(2.0).cumsum(axis=0).shape == ()


def test_logcumsumexp_never_overflows():
    x = Value(np.array([1000.0, 1000.0, -1000.0]))
    out = x.logcumsumexp()
    np.testing.assert_allclose(out.data, [1000.0, 1000.0 + np.log(2), 1000.0 + np.log(2)])
    out.sum().backward()
    assert np.all(np.isfinite(x.grad))


def test_var_defaults_to_numpys_ddof_and_accepts_pytorchs_name():
    data = np.array([1.0, 2.0, 4.0])
    assert Value(data).var().data == pytest.approx(np.var(data))
    assert Value(data).var(ddof=1).data == pytest.approx(np.var(data, ddof=1))
    assert Value(data).var(correction=1).data == pytest.approx(np.var(data, ddof=1))
    assert np.isnan(Value(np.array([3.0])).var(ddof=1).data)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (
            lambda v: v.var(ddof=1, correction=0),
            ValueError,
            "var: ddof=1 and correction=0 disagree",
        ),
        (lambda v: v.var(ddof=1.5), TypeError, "var: ddof must be a whole number, got 1.5"),
        (lambda v: v.std(ddof=-1), ValueError, "var: ddof must be >= 0, got -1"),
        (lambda v: v.norm(0), ValueError, "norm: ord must be > 0"),
        (lambda v: v.norm("fro"), TypeError, "norm: ord must be a number"),
        (lambda v: v.cumsum(axis=(0, 1)), TypeError, "cumsum: axis must be an int or None"),
        (lambda v: v.cumprod(axis=2), ValueError, "cumprod: axis 2 is out of range"),
        (lambda v: v.prod(axis=(1, -1)), ValueError, "prod: axis .* names the same axis twice"),
    ],
)
def test_bad_arguments_are_named(call, error, message):
    with pytest.raises(error, match=message):
        call(Value(np.ones((2, 3))))


def test_zero_vector_norm_has_gradient_zero_as_pytorch():
    x = Value(np.zeros(3))
    out = x.norm()
    assert out.data == 0.0
    out.backward()
    np.testing.assert_array_equal(x.grad, np.zeros(3))


def test_inf_norm_of_nothing_is_refused():
    with pytest.raises(ValueError, match=r"inf-norm of an empty Value \(shape \(0,\)\)"):
        Value(np.zeros(0)).norm(float("inf"))


def test_max_over_a_full_axis_of_an_empty_value_is_empty_and_over_an_empty_axis_refused():
    v = Value(np.zeros((3, 0)))
    assert v.max(axis=0).shape == (0,)
    assert v.min(axis=0, keepdims=True).shape == (1, 0)
    with pytest.raises(
        ValueError, match=r"max of an empty Value has no value \(shape \(3, 0\), axis 1\)"
    ):
        v.max(axis=1)
    with pytest.raises(ValueError, match="inf-norm of an empty Value"):
        v.norm(float("inf"), axis=-1)
    assert v.norm(float("inf"), axis=0).shape == (0,)


@pytest.mark.parametrize("p", [2, 3, 1.5])
def test_a_zero_vector_has_norm_gradient_zero_for_every_p(p):
    x = Value(np.zeros((2, 3)))
    out = x.norm(p, axis=-1)
    np.testing.assert_array_equal(out.data, [0.0, 0.0])
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, np.zeros((2, 3)))
