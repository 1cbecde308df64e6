"""Elementwise math at the points where the rules must choose (ties, bounds, jumps, NaN),
comparisons and masks, and the bad inputs.  Smooth behaviour is generated from
tests/ops.py (finite differences, PyTorch); here, the choices, each against PyTorch's
numbers written out (and against PyTorch itself when it is installed)."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import Value

try:
    import torch
except ImportError:  # the written-out numbers below are PyTorch's
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")


def _grad(fn, *arrays):
    values = [Value(np.array(a, dtype=np.float64)) for a in arrays]
    fn(*values).sum().backward()
    return [v.grad for v in values]


def _torch_grad(fn, *arrays):
    tensors = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    fn(*tensors).sum().backward()
    return [t.grad.numpy() for t in tensors]


TIES = ([1.0, 2.0, 3.0], [1.0, 5.0, 3.0])


def test_maximum_and_minimum_split_ties_in_half():
    ga, gb = _grad(mg.maximum, *TIES)
    np.testing.assert_array_equal(ga, [0.5, 0.0, 0.5])
    np.testing.assert_array_equal(gb, [0.5, 1.0, 0.5])
    ga, gb = _grad(mg.minimum, *TIES)
    np.testing.assert_array_equal(ga, [0.5, 1.0, 0.5])
    np.testing.assert_array_equal(gb, [0.5, 0.0, 0.5])


@needs_torch
def test_ties_as_pytorch():
    for ours, theirs in ((mg.maximum, torch.maximum), (mg.minimum, torch.minimum)):
        for g, t in zip(_grad(ours, *TIES), _torch_grad(theirs, *TIES)):
            np.testing.assert_array_equal(g, t)


def test_maximum_with_nan_gives_nan_and_both_inputs_the_gradient():
    a, b = Value(np.array([np.nan, 1.0])), Value(np.array([2.0, np.nan]))
    out = mg.maximum(a, b)
    assert np.isnan(out.data).all()
    out.sum().backward()
    np.testing.assert_array_equal(a.grad, [1.0, 1.0])
    np.testing.assert_array_equal(b.grad, [1.0, 1.0])


def test_clip_passes_the_gradient_at_its_bounds():
    x = [-2.0, -1.0, 0.0, 1.0, 2.0]
    (g,) = _grad(lambda v: v.clip(-1, 1), x)
    np.testing.assert_array_equal(g, [0.0, 1.0, 1.0, 1.0, 0.0])
    if torch is not None:
        np.testing.assert_array_equal(g, _torch_grad(lambda t: t.clamp(-1, 1), x)[0])


def test_clip_with_crossed_bounds_gives_max_everywhere_as_numpy():
    out = Value(np.array([-3.0, 0.0, 3.0])).clip(1.0, -1.0)
    np.testing.assert_array_equal(out.data, [-1.0, -1.0, -1.0])


def test_clip_refuses_missing_or_bad_bounds():
    x = Value(np.ones(3))
    with pytest.raises(ValueError, match="clip: give min, max or both"):
        x.clip()
    with pytest.raises(TypeError, match="clip: min must be a number or None, got str"):
        x.clip("0")
    with pytest.raises(ValueError, match="clip: max is NaN"):
        x.clip(0, float("nan"))


@pytest.mark.parametrize("op", ["sign", "floor", "ceil", "round"])
def test_step_functions_have_gradient_zero_even_at_their_jumps(op):
    x = [-1.0, -0.5, 0.0, 0.5, 1.5, 2.5]
    (g,) = _grad(lambda v: getattr(v, op)(), x)
    np.testing.assert_array_equal(g, np.zeros(6))
    assert g.dtype == np.float64


def test_round_takes_halves_to_even_and_sign_of_nan_is_zero():
    np.testing.assert_array_equal(Value([0.5, 1.5, 2.5, -0.5]).round().data, [0, 2, 2, -0])
    np.testing.assert_array_equal(Value([np.nan, -3.0, 0.0]).sign().data, [0.0, -1.0, 0.0])


@needs_torch
def test_step_functions_as_pytorch():
    x = [np.nan, -2.5, -0.5, 0.0, 0.5, 1.5, 2.5]
    for op in ("sign", "floor", "ceil", "round"):
        ours = getattr(Value(x), op)().data
        theirs = getattr(torch.tensor(x, dtype=torch.float64), op)().numpy()
        np.testing.assert_array_equal(ours, theirs, err_msg=op)


def test_scalar_path_gives_floats():
    for op in ("sin", "cos", "tan", "arctan", "sinh", "cosh", "log1p", "expm1", "erf", "sign"):
        out = getattr(Value(0.25), op)()
        assert type(out.data) is float, op
        out.backward()
        assert type(out.parents[0].grad) is float or np.ndim(out.parents[0].grad) == 0


def test_outside_the_domain_is_nan_as_numpy_not_an_exception():
    with np.errstate(invalid="ignore"):
        assert np.isnan(Value(2.0).arcsin().data)
        assert np.isnan(Value(np.array([2.0])).arccos().data).all()


def test_sin_times_cos_second_derivative():
    # the classic exercise: f = sin(x) cos(x) = sin(2x) / 2; f'' = -2 sin(2x)
    x = Value(0.3)
    f = x.sin() * x.cos()
    (d1,) = mg.grad(f, [x], create_graph=True)
    (d2,) = mg.grad(d1, [x])
    assert d1.data == pytest.approx(np.cos(0.6))
    assert d2 == pytest.approx(-2 * np.sin(0.6))


# ------------------------------------------------------------------ comparisons


def test_comparisons_return_masks_not_values():
    a, b = Value(np.array([1.0, 2.0, 3.0])), Value(np.array([3.0, 2.0, 1.0]))
    np.testing.assert_array_equal(a < b, [True, False, False])
    np.testing.assert_array_equal(a <= b, [True, True, False])
    np.testing.assert_array_equal(a > 2, [False, False, True])
    np.testing.assert_array_equal(a >= np.array([1.0, 3.0, 3.0]), [True, False, True])
    np.testing.assert_array_equal(a.eq(b), [False, True, False])
    np.testing.assert_array_equal(a.ne(2.0), [True, False, True])
    assert (Value(1.0) < 2.0) is True


def test_equality_between_values_is_identity_and_with_numbers_refused():
    a = Value(1.0)
    assert a == a and not (a == Value(1.0)) and a != Value(1.0)
    assert {a: 1}[a] == 1 and a in [Value(1.0), a]
    assert not (a == None)  # noqa: E711 (a comparison with None must not raise)
    with pytest.raises(TypeError, match=r"Use v\.eq\(x\) for an elementwise mask"):
        _ = a == 1.0
    with pytest.raises(TypeError, match="'==' between Values means the same node"):
        _ = Value(np.ones(2)) != np.ones(2)


def test_nan_inf_masks_any_all_arg():
    v = Value(np.array([[1.0, np.nan], [np.inf, -2.0]]))
    np.testing.assert_array_equal(v.isnan(), [[False, True], [False, False]])
    np.testing.assert_array_equal(v.isinf(), [[False, False], [True, False]])
    np.testing.assert_array_equal(v.isfinite(), [[True, False], [False, True]])
    w = Value(np.array([[0.0, 3.0, 3.0], [5.0, -1.0, 0.0]]))
    assert w.any() is True and w.all() is False
    np.testing.assert_array_equal(w.all(axis=-1), [False, False])
    assert w.argmax() == 3 and w.argmin() == 4
    np.testing.assert_array_equal(w.argmax(axis=-1), [1, 0])  # the first of tied maxima
    np.testing.assert_array_equal(w.argmin(axis=0, keepdims=True), [[0, 1, 1]])
    with pytest.raises(ValueError, match=r"argmax of an empty Value \(shape \(0,\)\)"):
        Value(np.zeros(0)).argmax()
    with pytest.raises(ValueError, match="argmin: axis 2 is out of range"):
        w.argmin(axis=2)


def test_a_comparison_with_a_string_is_refused_by_name():
    with pytest.raises(TypeError, match="'<' compares a Value with numbers"):
        _ = Value(1.0) < "2"
