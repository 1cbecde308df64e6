"""Value: construction, dtypes, attributes and the bad inputs it refuses."""

from __future__ import annotations

import fractions

import numpy as np
import pytest

import minigrad as mg
from minigrad import Value


@pytest.mark.parametrize("given", [3, 3.0, True, fractions.Fraction(3, 1), np.float64(3.0)])
def test_numbers_become_python_floats(given):
    v = Value(given)
    assert type(v.data) is float
    assert v.shape == () and v.ndim == 0 and v.size == 1 and v.dtype == np.float64


@pytest.mark.parametrize(
    "given, dtype",
    [
        ([1, 2, 3], np.float64),
        (np.array([1, 2], dtype=np.int32), np.float64),
        (np.array([True, False]), np.float64),
        (np.array([1.0, 2.0], dtype=np.float32), np.float32),
        (np.array([1.0, 2.0], dtype=np.float16), np.float32),
        ([[1.0, 2.0], [3.0, 4.0]], np.float64),
    ],
)
def test_array_dtypes(given, dtype):
    v = Value(given)
    assert isinstance(v.data, np.ndarray) and v.dtype == dtype
    assert v.shape == np.shape(given)


def test_float32_scalar_keeps_its_dtype():
    v = Value(np.float32(2.5))
    assert v.dtype == np.float32 and v.shape == ()


def test_array_is_copied():
    a = np.array([1.0, 2.0])
    v = Value(a)
    v.data[0] = 10.0
    assert a[0] == 1.0


@pytest.mark.parametrize(
    "given, kind, words",
    [
        ("3", TypeError, "str"),
        (1 + 2j, TypeError, "complex"),
        (np.array([1 + 1j]), TypeError, "complex"),
        (np.array(["a"]), TypeError, "string"),
        (np.array([object()]), TypeError, "object"),
        ([[1, 2], [3]], ValueError, "ragged"),
        ({"a": 1}, TypeError, "dict"),
        (None, TypeError, "NoneType"),
    ],
)
def test_bad_data_is_refused_with_a_clear_message(given, kind, words):
    with pytest.raises(kind, match=words):
        Value(given)


def test_bad_name_is_refused():
    with pytest.raises(TypeError, match="name must be a string"):
        Value(1.0, name=3)


def test_attributes_of_leaves_and_results():
    a = Value(2.0, name="a")
    b = Value(3.0, name="b")
    c = a * b
    assert a.is_leaf and a.op == "" and a.parents == () and a.grad is None
    assert not c.is_leaf and c.op == "mul" and c.parents == (a, b)
    assert c.requires_grad and c.grad_fn is mg.functions.Mul
    assert c.item() == 6.0 and float(c) == 6.0


def test_constants_and_no_grad_results_do_not_require_grad():
    a = Value(2.0, requires_grad=False)
    b = a * 3
    assert not b.requires_grad and b.parents == () and b.is_leaf
    x = Value(1.0)
    with mg.no_grad():
        y = x * 2
    assert not y.requires_grad and y.parents == ()


def test_item_numpy_detach_zero_grad():
    v = Value([[1.0, 2.0]])
    with pytest.raises(ValueError, match="one element"):
        v.item()
    arr = v.numpy()
    arr[0, 0] = 99
    assert v.data[0, 0] == 1.0
    d = (v * 2).detach()
    assert d.is_leaf and not d.requires_grad and np.array_equal(d.data, [[2.0, 4.0]])
    (v * 2).sum().backward()
    assert np.array_equal(v.grad, [[2.0, 2.0]])
    v.zero_grad()
    assert v.grad is None


def test_grad_is_assignable_and_len():
    v = Value(np.ones((4, 2)))
    v.grad = np.zeros((4, 2))
    v.grad = None
    assert len(v) == 4
    with pytest.raises(TypeError, match="scalar"):
        len(Value(1.0))


def test_repr_shows_data_grad_op_and_name():
    a = Value(2.0, name="a")
    b = a * 3.0
    b.backward()
    assert repr(a) == "Value(data=2, grad=3, name='a')"
    assert "op='mul'" in repr(b)
    big = Value(np.arange(100.0).reshape(10, 10))
    assert "shape=(10, 10)" in repr(big) and "mean 49.5" in repr(big)


def test_derived_attributes_are_read_only_and_say_so():
    v = Value(1.0)
    with pytest.raises(AttributeError, match="read-only attribute"):
        v.shape = (2,)


def test_numpy_operands_on_either_side():
    v = Value([1.0, 2.0])
    a = np.array([3.0, 4.0])
    for r in (a * v, v * a, a + v, a - v, a / v, a @ v):
        assert isinstance(r, Value)
    assert np.allclose((a - v).data, [2.0, 2.0])
    assert np.allclose((a / v).data, [3.0, 2.0])
    assert np.isclose((a @ v).item(), 11.0)


def test_indexing_refuses_scalars_and_float_indices():
    with pytest.raises(IndexError, match="scalar"):
        Value(1.0)[0]
    with pytest.raises(IndexError, match="integer"):
        Value([1.0, 2.0])[Value([0.5])]
    assert Value([1.0, 2.0, 3.0])[Value([2.0, 0.0])].data.tolist() == [3.0, 1.0]


def test_indexing_refuses_a_value_made_from_booleans():
    """Value(mask) holds 1.0 and 0.0, which would index elements 1 and 0, not mask."""
    x = Value([10.0, 20.0, 30.0])
    mask = np.array([True, False, True])
    for index in (
        Value(mask),
        Value(mask.tolist()),
        Value(Value(mask)),
        Value(mask).detach(),
        Value(mask).clone(),
        (Value(mask),),
        Value(True),
    ):
        with pytest.raises(IndexError, match="made from booleans"):
            x[index]
    assert x[mask].data.tolist() == [10.0, 30.0]  # the array itself is a mask
    assert x[Value([1, 0])].data.tolist() == [20.0, 10.0]  # integers still index
    assert x[Value([1, True])].data.tolist() == [20.0, 20.0]  # numpy makes it integers
    reused = Value(mask)
    reused.data = np.array([2.0, 0.0])  # new data: the booleans are gone
    assert x[reused].data.tolist() == [30.0, 10.0]


@pytest.mark.parametrize(
    "make, words",
    [
        (lambda: Value(np.ones((2, 3))) + Value(np.ones((4,))), r"add: .*\(2, 3\).*\(4,\)"),
        (lambda: Value(np.ones((2, 3))) @ Value(np.ones((4, 2))), r"matmul: .*\(2, 3\), \(4, 2\)"),
        (lambda: Value(2.0) @ Value(3.0), "matmul needs arrays"),
        (lambda: Value(np.ones((2, 3))).sum(axis=2), "axis 2 is out of range"),
        (lambda: Value(np.ones((2, 3))).reshape(4), "reshape"),
        (lambda: Value(np.ones((2, 3))).transpose(0, 0), "not a permutation"),
        (lambda: mg.stack([Value([1.0]), Value([1.0, 2.0])]), "same shape"),
        (lambda: mg.concat([]), "at least one"),
    ],
)
def test_shape_errors_name_the_operation_and_shapes(make, words):
    with pytest.raises(ValueError, match=words):
        make()
