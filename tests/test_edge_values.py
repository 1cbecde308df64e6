"""Cases where minigrad returned a wrong value or gradient without an error, found by
comparing every operation with PyTorch 2.13 (docs/reliability.md, "Edge rules").  The
expected numbers are closed forms or PyTorch's, written out so that no test needs torch.
Each failed on the code before its fix."""

from __future__ import annotations

import numpy as np

from minigrad import Value
from minigrad.nn import functional as NF


def test_cosine_similarity_broadcast_along_the_reduced_axis():
    """cosine_similarity broadcasts x2 before taking its norm along axis, as PyTorch."""
    x1 = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    x2 = np.array([[1.0, 1.0]])  # broadcast along axis 0, the reduced one
    out = NF.cosine_similarity(Value(x1), Value(x2), axis=0).data
    b = np.broadcast_to(x2, x1.shape)
    expected = (x1 * b).sum(0) / (np.linalg.norm(x1, axis=0) * np.linalg.norm(b, axis=0))
    np.testing.assert_allclose(out, expected, rtol=1e-12)  # minigrad: [1.52, 1.60] > 1


def test_cosine_similarity_broadcast_lower_rank_operand():
    """cosine_similarity of (2, 3, 4) and (3, 4) along axis 1 reduces x2's length-3 axis."""
    rng = np.random.default_rng(0)
    x1, x2 = rng.normal(size=(2, 3, 4)), rng.normal(size=(3, 4))
    out = NF.cosine_similarity(Value(x1), Value(x2), axis=1).data
    b = np.broadcast_to(x2, x1.shape)
    expected = (x1 * b).sum(1) / (np.linalg.norm(x1, axis=1) * np.linalg.norm(b, axis=1))
    np.testing.assert_allclose(out, expected, rtol=1e-12)


def _softmax64(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def test_softmax_large_float32_logits_sums_to_one():
    """softmax of float32 logits near 1e5 equals softmax of the shifted logits (shift-invariant)."""
    x = np.array([1e5, 1e5, 1e5 - 1], dtype=np.float32)  # 99999 is exact in float32
    out = NF.softmax(Value(x)).data
    expected = _softmax64(np.array([0.0, 0.0, -1.0]))  # [0.4223, 0.4223, 0.1554]
    np.testing.assert_allclose(out, expected, rtol=1e-5)  # minigrad: [0.4234, 0.4234, 0.1558]


def test_softmax_huge_float64_logits():
    """softmax of three equal float64 logits 1e16 is 1/3 each (minigrad: 0.135 each)."""
    out = NF.softmax(Value(np.array([1e16, 1e16, 1e16]))).data
    np.testing.assert_allclose(out, np.full(3, 1 / 3), rtol=1e-12)


def test_log_softmax_large_float32_logits():
    """log_softmax of float32 logits near 1e5 equals that of the shifted logits."""
    x = np.array([1e5, 1e5, 1e5 - 1], dtype=np.float32)
    out = NF.log_softmax(Value(x)).data
    expected = np.log(_softmax64(np.array([0.0, 0.0, -1.0])))  # [-0.8620, -0.8620, -1.8620]
    np.testing.assert_allclose(out, expected, rtol=1e-5)  # minigrad: [-0.8594, ..., -1.8594]


def test_cross_entropy_weighted_large_float32_logits():
    """Weighted cross_entropy of float32 logits near 1e5 matches the shifted logits' loss."""
    x = np.array([[1e5, 1e5, 1e5 - 1]], dtype=np.float32)
    loss = NF.cross_entropy(Value(x), np.array([2]), weight=np.array([1.0, 2.0, 3.0])).data
    expected = -np.log(_softmax64(np.array([0.0, 0.0, -1.0]))[2])  # 1.86199
    np.testing.assert_allclose(loss, expected, rtol=1e-5)  # minigrad: 1.859375


def test_std_gradient_of_constant_input_is_zero():
    """d std(x)/dx at a constant x is 0 as in PyTorch (and as minigrad's norm at 0), not NaN."""
    x = Value(np.array([[1.0, 1.0, 1.0], [2.0, 3.0, 4.0]]))
    with np.errstate(all="ignore"):
        x.std(axis=1).sum().backward()
    assert np.all(np.isfinite(x.grad)), x.grad  # minigrad: NaN in row 0
    np.testing.assert_allclose(x.grad[0], 0.0)


def test_sqrt_of_minus_infinity_is_nan_on_the_float_path():
    """Value(-inf).sqrt() is NaN, as for an array and in PyTorch (minigrad's float path: +inf)."""
    with np.errstate(all="ignore"):
        array = Value(np.array([-np.inf])).sqrt().data[0]
        scalar = Value(float("-inf")).sqrt().data
    assert np.isnan(array)
    assert np.isnan(scalar), scalar


def test_hardswish_gradient_at_infinity():
    """hardswish'(+inf) = 1 and hardswish'(-inf) = 0, as PyTorch (minigrad: NaN, from inf * 0)."""
    x = Value(np.array([np.inf, -np.inf, 5.0, -5.0]))
    with np.errstate(all="ignore"):
        NF.hardswish(x).sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 0.0, 1.0, 0.0])


def test_huber_loss_gradient_at_infinite_difference():
    """huber_loss's slope clip(d, -delta, delta) is ±delta at d = ±inf, as PyTorch (not NaN)."""
    x = Value(np.array([np.inf, -np.inf, 5.0]))
    with np.errstate(all="ignore"):
        NF.huber_loss(x, np.zeros(3), reduction="sum", delta=0.5).backward()
    np.testing.assert_array_equal(x.grad, [0.5, -0.5, 0.5])


def test_indexing_with_a_boolean_mask_held_in_a_value():
    """x[Value(bool mask)] gives the masked [10, 30] or refuses (minigrad: [20, 10, 20])."""
    x = Value(np.array([10.0, 20.0, 30.0]))
    mask = Value(np.array([True, False, True]))  # stored as 1.0, 0.0, 1.0
    try:
        out = x[mask].data
    except (TypeError, IndexError, ValueError):
        return  # a clear refusal is fine
    np.testing.assert_array_equal(out, [10.0, 30.0])


def test_max_pool2d_padding_never_takes_the_gradient():
    """A window whose real pixels are all -inf sends its gradient to a real pixel, as PyTorch
    (padding is "never the maximum"); minigrad gave it to the padding: [[0, 0], [0, 1]]."""
    x = Value(np.full((1, 1, 2, 2), -np.inf))
    NF.max_pool2d(x, 2, stride=2, padding=1).sum().backward()  # each window: 1 real pixel
    np.testing.assert_array_equal(x.grad, np.ones((1, 1, 2, 2)))


def test_norm_below_one_gradient_at_zeros():
    """The p = 0.5 norm's gradient is 0 at zero entries and zero vectors, as PyTorch's (and
    minigrad's other p); minigrad gave NaN (|x| ** p has slope inf at 0, times 0)."""
    x = Value(np.array([[0.0, 0.0, 0.0], [1.0, -2.0, 0.0]]))
    with np.errstate(all="ignore"):
        x.norm(ord=0.5, axis=1).sum().backward()
    s = 1.0 + np.sqrt(2.0)  # Σ |x|^0.5 of row 1
    row1 = s * np.array([1.0, -(2.0**-0.5), 0.0])  # s^(1/p - 1) |x|^(p - 1) sign(x)
    np.testing.assert_allclose(x.grad, [[0.0, 0.0, 0.0], row1], rtol=1e-12)
