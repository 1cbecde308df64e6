"""Convolution, im2col and pooling: against PyTorch when it is installed (forward, input
and weight gradients, second derivatives, float32 and float64, over generated
geometries), and against central finite differences always."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad import Value
from minigrad.nn import functional as F
from tests.reference import central_difference

try:
    import torch
    import torch.nn.functional as TF
except ImportError:  # the comparisons skip; the finite-difference tests still run
    torch = TF = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")

TOLERANCE = {np.float64: dict(rtol=1e-9, atol=1e-10), np.float32: dict(rtol=2e-4, atol=2e-4)}


# ============================================================================ generated cases


@st.composite
def conv_cases(draw, transposed: bool = False):
    """A convolution whose output has at least one position: shapes, stride, padding,
    dilation and groups drawn independently per axis."""
    groups = draw(st.integers(1, 3))
    c_in = groups * draw(st.integers(1, 2))
    c_out = groups * draw(st.integers(1, 2))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    size = []
    for k, p, d in zip(kernel, padding, dilation):
        smallest = max(1, d * (k - 1) + 1 - 2 * p)
        size.append(draw(st.integers(smallest, smallest + 5)))
    n = draw(st.integers(1, 2))
    params = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    if transposed:  # weight (C_in, C_out/groups, kh, kw); output_padding below stride/dilation
        params["output_padding"] = tuple(
            draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation)
        )
        shapes = [(n, c_in) + tuple(size), (c_in, c_out // groups) + kernel, (c_out,)]
        out_size = [
            (h - 1) * s - 2 * p + d * (k - 1) + e + 1
            for h, s, p, d, k, e in zip(
                size, stride, padding, dilation, kernel, params["output_padding"]
            )
        ]
        if min(out_size) < 1:
            params["padding"] = (0, 0)
    else:
        shapes = [(n, c_in) + tuple(size), (c_out, c_in // groups) + kernel, (c_out,)]
    use_bias = draw(st.booleans())
    return shapes if use_bias else shapes[:2], params


@st.composite
def pool_cases(draw):
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    size = [draw(st.integers(max(1, k - 2 * p), k + 4)) for k, p in zip(kernel, padding)]
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3))) + tuple(size)
    return shape, dict(kernel_size=kernel, stride=stride, padding=padding)


def _fits(shape: tuple, kernel: tuple, padding: tuple, dilation: int) -> bool:
    """Whether the dilated kernel fits in the padded image (pool_cases draws undilated)."""
    return all(dilation * (k - 1) + 1 <= n + 2 * p for k, n, p in zip(kernel, shape[2:], padding))


def _arrays(shapes, dtype, seed, ties=False):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s) for s in shapes]
    if ties:  # few distinct values: max-pooling windows full of ties
        arrays = [np.round(a) for a in arrays]
    return [a.astype(dtype) for a in arrays]


# ============================================================================ the comparison


def _compare_with_torch(ours, theirs, arrays, dtype):
    """Forward, first and second derivatives of ``ours`` against ``theirs``.

    The scalar differentiated is L = Σ out·R for a random R, so every output element is
    weighted differently; the second derivatives are those of P = Σ_i Σ dL/dx_i · V_i
    (a gradient penalty, or a Hessian-vector product) with respect to every input and
    to R.  d P / d R is J·V, which exercises the backward rule's own rule even for a
    linear operation (unfold, pooling), whose other second derivatives are zero."""
    tol = TOLERANCE[dtype]
    values = [Value(a) for a in arrays]
    tensors = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, expected = ours(*values), theirs(*tensors)
    assert out.dtype == dtype
    np.testing.assert_allclose(out.data, expected.detach().numpy(), **tol)

    rng = np.random.default_rng(1)
    weights = rng.standard_normal(out.shape).astype(dtype)
    directions = [rng.standard_normal(a.shape).astype(dtype) for a in arrays]
    r, r_t = Value(weights), torch.tensor(weights, requires_grad=True)
    grads = mg.grad((out * r).sum(), values, create_graph=True)
    grads_t = torch.autograd.grad((expected * r_t).sum(), tensors, create_graph=True)
    for g, gt in zip(grads, grads_t):
        assert g.dtype == dtype and g.shape == gt.shape
        np.testing.assert_allclose(g.data, gt.detach().numpy(), **tol)
    penalty = sum((g * Value(v)).sum() for g, v in zip(grads, directions))
    penalty_t = sum((g * torch.tensor(v)).sum() for g, v in zip(grads_t, directions))
    second = mg.grad(penalty, values + [r], allow_unused=True)
    second_t = torch.autograd.grad(penalty_t, tensors + [r_t], allow_unused=True)
    for h, ht in zip(second, second_t):
        # No dependence: either side may say None (unused) or give zeros.
        if ht is None or h is None:
            assert not np.any(h if ht is None else ht.numpy()), "a missing second derivative"
        else:
            np.testing.assert_allclose(h, ht.numpy(), **tol)


DTYPES = pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])


@needs_torch
@DTYPES
@settings(max_examples=12, deadline=None)
@given(case=conv_cases())
def test_conv2d_matches_pytorch(dtype, case):
    shapes, params = case
    arrays = _arrays(shapes, dtype, seed=len(str(case)))
    _compare_with_torch(
        lambda *v: F.conv2d(*v, **params), lambda *t: TF.conv2d(*t, **params), arrays, dtype
    )


@needs_torch
@DTYPES
@settings(max_examples=12, deadline=None)
@given(case=conv_cases(transposed=True))
def test_conv_transpose2d_matches_pytorch(dtype, case):
    shapes, params = case
    arrays = _arrays(shapes, dtype, seed=len(str(case)))
    _compare_with_torch(
        lambda *v: F.conv_transpose2d(*v, **params),
        lambda *t: TF.conv_transpose2d(*t, **params),
        arrays,
        dtype,
    )


@needs_torch
@DTYPES
@pytest.mark.parametrize(
    "params",
    [dict(stride=1, padding=0), dict(stride=2, padding=1, dilation=2, groups=2)],
    ids=["plain", "strided-grouped"],
)
def test_conv1d_matches_pytorch(dtype, params):
    arrays = _arrays([(2, 4, 9), (6, 4 // params.get("groups", 1), 3), (6,)], dtype, seed=3)
    _compare_with_torch(
        lambda *v: F.conv1d(*v, **params), lambda *t: TF.conv1d(*t, **params), arrays, dtype
    )


@needs_torch
@DTYPES
@settings(max_examples=10, deadline=None)
@given(case=pool_cases(), dilation=st.integers(1, 2))
def test_unfold_and_fold_match_pytorch(dtype, case, dilation):
    shape, params = case
    if not _fits(shape, params["kernel_size"], params["padding"], dilation):
        dilation = 1
    params = dict(params, dilation=dilation)
    x = _arrays([shape], dtype, seed=5)[0]
    _compare_with_torch(
        lambda v: F.unfold(v, **params), lambda t: TF.unfold(t, **params), [x], dtype
    )
    columns = F.unfold(x, **params).shape
    cols = _arrays([columns], dtype, seed=6)[0]
    _compare_with_torch(
        lambda v: F.fold(v, shape[2:], **params),
        lambda t: TF.fold(t, shape[2:], **params),
        [cols],
        dtype,
    )


@needs_torch
@DTYPES
@settings(max_examples=15, deadline=None)
@given(case=pool_cases(), dilation=st.integers(1, 2), ties=st.booleans())
def test_max_pool2d_matches_pytorch_including_ties(dtype, case, dilation, ties):
    shape, params = case
    if not _fits(shape, params["kernel_size"], params["padding"], dilation):
        dilation = 1
    params = dict(params, dilation=dilation)
    try:
        F.max_pool2d(np.zeros(shape), **params)
    except ValueError as error:  # a window of padding only: tested below, not in PyTorch
        assert "covers only padding" in str(error)
        return
    x = _arrays([shape], dtype, seed=7, ties=ties)[0]
    _compare_with_torch(
        lambda v: F.max_pool2d(v, **params), lambda t: TF.max_pool2d(t, **params), [x], dtype
    )


@needs_torch
@DTYPES
@settings(max_examples=15, deadline=None)
@given(case=pool_cases(), count_include_pad=st.booleans())
def test_avg_pool2d_matches_pytorch(dtype, case, count_include_pad):
    shape, params = case
    params = dict(params, count_include_pad=count_include_pad)
    x = _arrays([shape], dtype, seed=8)[0]
    _compare_with_torch(
        lambda v: F.avg_pool2d(v, **params), lambda t: TF.avg_pool2d(t, **params), [x], dtype
    )


@needs_torch
@DTYPES
@pytest.mark.parametrize("size", [1, (1, 1), (2, 3), (3, 5), (7, 4)])
def test_adaptive_avg_pool2d_matches_pytorch(dtype, size):
    x = _arrays([(2, 3, 7, 5)], dtype, seed=9)[0]
    _compare_with_torch(
        lambda v: F.adaptive_avg_pool2d(v, size),
        lambda t: TF.adaptive_avg_pool2d(t, size),
        [x],
        dtype,
    )


# ============================================================================ ties, by hand


def test_max_pool_gives_a_tie_to_the_first_maximum_only():
    # PyTorch's rule (checked against torch 2.13): the gradient is not split among tied
    # maxima; the first in row-major order of each window takes it all.
    x = Value(np.array([[[[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 0.0]]]]))
    F.max_pool2d(x, 2, stride=1).sum().backward()
    np.testing.assert_array_equal(x.grad[0, 0], [[1, 1, 0], [1, 1, 0], [0, 0, 0]])


def test_max_pool_sends_the_gradient_of_a_nan_window_to_its_last_nan():
    nan = np.nan
    x = Value(np.array([[[[nan, 1.0, nan], [1.0, nan, 0.0], [0.0, 0.0, 0.0]]]]))
    out = F.max_pool2d(x, 2, stride=1)
    assert np.isnan(out.data).all()
    out.sum().backward()
    np.testing.assert_array_equal(x.grad[0, 0], [[0, 0, 0], [0, 4, 0], [0, 0, 0]])


def test_max_pool_never_chooses_padding():
    x = Value(-np.ones((1, 1, 2, 2)))
    out = F.max_pool2d(x, 2, stride=1, padding=1)
    np.testing.assert_array_equal(out.data, -np.ones((1, 1, 3, 3)))
    out.sum().backward()
    np.testing.assert_array_equal(x.grad[0, 0], [[4, 2], [2, 1]])


# ============================================================================ finite differences


def _check_against_finite_differences(fn, arrays):
    values = [Value(a) for a in arrays]
    out = fn(*values)
    weights = np.random.default_rng(2).uniform(0.5, 1.5, size=out.shape)
    (out * Value(weights)).sum().backward()
    expected = central_difference(lambda *xs: float(np.sum(fn(*xs).data * weights)), arrays)
    for v, e in zip(values, expected):
        np.testing.assert_allclose(v.grad, e, rtol=1e-6, atol=1e-7)


FINITE_DIFFERENCE_CASES = {
    "conv2d": (
        lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2),
        [(2, 4, 5, 6), (4, 2, 2, 2), (4,)],
    ),
    "conv1d": (lambda x, w: F.conv1d(x, w, padding=1, stride=2), [(2, 2, 6), (3, 2, 3)]),
    "conv_transpose2d": (
        lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
        [(1, 2, 3, 3), (2, 3, 3, 2), (3,)],
    ),
    "unfold": (lambda x: F.unfold(x, (2, 3), padding=1, stride=(1, 2)), [(2, 2, 4, 4)]),
    "fold": (lambda c: F.fold(c, (4, 4), 2, stride=1), [(1, 8, 9)]),
    "max_pool2d": (lambda x: F.max_pool2d(x, 3, stride=2, padding=1), [(2, 2, 5, 5)]),
    "avg_pool2d": (lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False), [(2, 2, 5, 4)]),
    "adaptive_avg_pool2d": (lambda x: F.adaptive_avg_pool2d(x, (2, 3)), [(1, 2, 5, 4)]),
}


@pytest.mark.parametrize("name", sorted(FINITE_DIFFERENCE_CASES))
def test_gradient_matches_finite_differences(name):
    fn, shapes = FINITE_DIFFERENCE_CASES[name]
    rng = np.random.default_rng(len(name))
    # Distinct values keep max-pooling away from ties, where it has no derivative.
    arrays = [
        rng.permutation(int(np.prod(s))).reshape(s) * 0.1 + rng.uniform(0, 0.01, s) for s in shapes
    ]
    _check_against_finite_differences(fn, arrays)


def test_second_derivative_of_conv2d_matches_finite_differences():
    """d/dw of Σ (dL/dx)·V, computed by differentiating the backward rule, against
    finite differences of the first derivative."""
    rng = np.random.default_rng(4)
    x0, w0 = rng.standard_normal((1, 2, 4, 4)), rng.standard_normal((3, 2, 2, 2))
    direction = rng.standard_normal(x0.shape)

    def penalty(x_data, w_data, create_graph):
        x, w = Value(x_data), Value(w_data)
        loss = (F.conv2d(x, w, padding=1) ** 2).sum()
        (gx,) = mg.grad(loss, [x], create_graph=create_graph)
        return (gx * Value(direction)).sum() if create_graph else float(np.sum(gx * direction)), w

    out, w = penalty(x0, w0, True)
    (dw,) = mg.grad(out, [w])
    (expected,) = central_difference(lambda w_data: penalty(x0, w_data, False)[0], [w0])
    np.testing.assert_allclose(dw, expected, rtol=1e-6, atol=1e-6)


def test_conv2d_is_the_matrix_product_with_unfold():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 3, 5, 5)), rng.standard_normal((4, 3, 3, 3))
    cols = F.unfold(x, 3).data  # (2, 27, 9)
    by_hand = (w.reshape(4, -1) @ cols).reshape(2, 4, 3, 3)
    np.testing.assert_allclose(F.conv2d(x, w).data, by_hand, rtol=1e-12)


def test_a_single_weight_picks_out_one_pixel():
    # An independent check of the indexing: a one-hot 3x3 kernel shifts the image.
    x = np.arange(2 * 1 * 5 * 5, dtype=float).reshape(2, 1, 5, 5)
    w = np.zeros((1, 1, 3, 3))
    w[0, 0, 2, 1] = 1.0  # reads x[p + 2, q + 1]
    np.testing.assert_array_equal(F.conv2d(x, w).data[:, 0], x[:, 0, 2:5, 1:4])


# ============================================================================ errors


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: F.conv2d(np.zeros((1, 3, 5, 5)), np.zeros((2, 4, 3, 3))), "input has 3 channels"),
        (lambda: F.conv2d(np.zeros((1, 5, 5, 3)), np.zeros((2, 3, 3, 3))), "channels-last"),
        (
            lambda: F.conv2d(np.zeros((1, 3, 2, 5)), np.zeros((2, 3, 3, 3))),
            "larger than the padded",
        ),
        (
            lambda: F.conv2d(np.zeros((1, 3, 3, 3)), np.zeros((2, 3, 2, 2)), dilation=3),
            "dilated to 4",
        ),
        (lambda: F.conv2d(np.zeros((3, 5, 5)), np.zeros((2, 3, 3, 3))), r"\(N, C, H, W\)"),
        (lambda: F.conv2d(np.zeros((1, 4, 5, 5)), np.zeros((3, 2, 3, 3)), groups=2), "divisible"),
        (lambda: F.conv2d(np.zeros((1, 3, 5, 5)), np.zeros((2, 3, 3, 3)), stride=0), "stride"),
        (lambda: F.conv2d(np.zeros((1, 3, 5, 5)), np.zeros((2, 3, 3, 3)), padding=-1), "padding"),
        (lambda: F.conv2d(np.zeros((1, 3, 5, 5)), np.zeros((2, 3, 3, 3)), np.zeros(3)), r"\(2,\)"),
        (lambda: F.conv2d(np.zeros((1, 3, 0, 5)), np.zeros((2, 3, 3, 3))), "no pixels"),
        (lambda: F.conv2d(np.zeros((1, 0, 5, 5)), np.zeros((2, 0, 3, 3))), "is empty"),
        (lambda: F.max_pool2d(np.zeros((1, 1, 4, 4)), 2, padding=2), "at most half"),
        (lambda: F.max_pool2d(np.zeros((1, 1, 1, 4)), 2), "larger than the padded"),
        (lambda: F.fold(np.zeros((1, 8, 5)), (4, 4), 2), "9 windows"),
        (
            lambda: F.max_pool2d(np.zeros((1, 2, 1, 7)), (2, 3), (2, 1), (1, 1), dilation=2),
            "covers only padding",
        ),
        (
            lambda: F.conv_transpose2d(np.zeros((1, 1, 1, 1)), np.zeros((1, 1, 1, 1)), padding=1),
            "gives an output of size",
        ),
        (lambda: F.fold(np.zeros((1, 7, 9)), (4, 4), 2), "not a multiple of kh·kw = 4"),
        (lambda: F.adaptive_avg_pool2d(np.zeros((1, 1, 4, 4)), 0), "output_size"),
        (lambda: F.conv1d(np.zeros((1, 2, 5, 5)), np.zeros((1, 2, 3))), r"\(N, C, L\)"),
        (
            lambda: F.conv_transpose2d(
                np.zeros((1, 2, 3, 3)), np.zeros((2, 1, 2, 2)), stride=2, output_padding=2
            ),
            "output_padding",
        ),
    ],
)
def test_bad_inputs_raise_errors_naming_the_shapes(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


def test_mixed_dtypes_are_refused():
    with pytest.raises(TypeError, match="float32"):
        F.conv2d(np.zeros((1, 1, 3, 3), np.float32), np.zeros((1, 1, 2, 2)))


def test_the_rendered_rule_says_the_gradient_is_a_convolution():
    from minigrad.viz._rules import rule_text

    x = Value(np.ones((1, 1, 3, 3)))
    w = Value(np.ones((1, 1, 2, 2)))
    assert "conv_transpose2d(G, w)" in rule_text(F.conv2d(x, w))
    assert "first maximum" in rule_text(F.max_pool2d(x, 2))
