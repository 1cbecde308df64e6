"""Shapes and indexing (minigrad.ops): what is not covered by the generated cases of
tests/ops.py — non-differentiable helpers, second derivatives through einsum, and the
bad inputs, each with a message naming the operation and the shapes."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import Value, ops


def test_one_hot_nonzero_argwhere():
    np.testing.assert_array_equal(mg.one_hot([2, 0], 3).data, [[0, 0, 1], [1, 0, 0]])
    assert mg.one_hot(np.array([1, 3])).shape == (2, 4)
    assert not mg.one_hot([1], 2).requires_grad
    v = Value(np.array([[0.0, 2.0], [3.0, 0.0]]))
    rows, cols = ops.nonzero(v)
    np.testing.assert_array_equal(rows, [0, 1])
    np.testing.assert_array_equal(cols, [1, 0])
    np.testing.assert_array_equal(ops.argwhere(v), [[0, 1], [1, 0]])


def test_einsum_second_derivative_of_a_quadratic_form():
    # f = x^T A x: the Hessian is A + A^T
    A = np.array([[1.0, 2.0], [0.5, 3.0]])
    x = Value(np.array([0.3, -0.7]))
    f = mg.einsum("i,ij,j->", x, A, x)
    (g,) = mg.grad(f, [x], create_graph=True)
    rows = [mg.grad(g[i], [x])[0] for i in range(2)]
    np.testing.assert_allclose(np.stack(rows), A + A.T)


def test_gather_and_scatter_add_are_adjoint():
    # <gather(x, idx), y> = <x, scatter_add(0, idx, y)>
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(3, 4)), rng.normal(size=(3, 2))
    idx = np.array([[0, 3], [2, 2], [1, 0]])
    left = float((mg.take_along_axis(Value(x), idx, 1) * y).sum().data)
    right = float((Value(x) * ops.scatter_add(np.zeros((3, 4)), 1, idx, y)).sum().data)
    assert left == pytest.approx(right)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda v: v.squeeze(0), ValueError, r"squeeze: axis 0 of shape \(2, 3\) has length 2"),
        (lambda v: v.unsqueeze(3), ValueError, "unsqueeze: axis 3 is out of range"),
        (lambda v: v.flatten(1, 0), ValueError, "flatten: start_axis 1 comes after end_axis 0"),
        (lambda v: v.roll(1.5), TypeError, "roll: shift must be an integer, got 1.5"),
        (lambda v: mg.pad(v, 1, mode="mirror"), ValueError, "pad: mode must be one of"),
        (lambda v: mg.pad(v, (1, 2, 3)), ValueError, r"pad: pad_width \(1, 2, 3\) does not fit"),
        (lambda v: mg.pad(v, -1), ValueError, "pad: pad_width must be non-negative"),
        (lambda v: mg.tril(v.sum(0)), ValueError, r"tril: needs a matrix .* shape \(3,\)"),
        (lambda v: v.diagonal(0, 1, -1), ValueError, "diagonal: axis1 and axis2 are the same"),
        (lambda v: mg.diag(v.sum()), ValueError, "diag: needs a 1-D or 2-D Value"),
        (
            lambda v: mg.einsum("ij,jk", v, v),
            ValueError,
            "letter 'j' has length 3 in one place and 2",
        ),
        (
            lambda v: mg.einsum("ijk", v),
            ValueError,
            r"'ijk' names 3 axes, but its operand has shape",
        ),
        (lambda v: mg.einsum("i...", v), ValueError, r"'\.\.\.' \(broadcast dimensions\) is not"),
        (lambda v: mg.einsum("ij,ij", v), ValueError, "names 2 operand"),
        (lambda v: mg.einsum("ij->k", v), ValueError, "output 'k' must use distinct letters"),
        (
            lambda v: mg.take_along_axis(v, [[0, 5]], 1),
            IndexError,
            "indices \\[5\\] are out of range",
        ),
        (lambda v: mg.take_along_axis(v, [0, 1], 1), ValueError, "need as many axes as the input"),
        (lambda v: mg.take_along_axis(v, [[0.5]], 1), TypeError, "indices must be integers"),
        (lambda v: mg.one_hot([0, 3], 3), ValueError, r"class indices \[3\] are out of range"),
        (lambda v: v.masked_fill([1, 0, 1], 0.0), TypeError, "mask must be boolean"),
        (lambda v: v.masked_fill(np.ones(2, bool), 0.0), ValueError, "does not broadcast"),
        (lambda v: v.repeat([1, 2], axis=1), ValueError, "repeat: repeats"),
        (lambda v: mg.tile(v, -1), ValueError, "tile: reps must be >= 0"),
    ],
)
def test_bad_inputs_are_named(call, error, message):
    with pytest.raises(error, match=message):
        call(Value(np.ones((2, 3))))
