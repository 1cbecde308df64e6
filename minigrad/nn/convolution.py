"""Convolution and pooling on images: the functions behind ``nn.Conv2d``, ``nn.MaxPool2d``...

Shapes follow PyTorch: images are NCHW (batch, channels, height, width), sequences NCL,
convolution weights OIHW (output channels, input channels per group, kernel height,
kernel width).  The differentiable work is done by the primitives of
``minigrad.functions`` (``Conv2d``, ``ConvTranspose2d``, ``Conv2dWeight``, ``Unfold``,
``Fold``, ``MaxPool2d``); everything else here is composed from them and from the
engine's arithmetic, so every function can be differentiated twice.

What a convolution "really is" can be read off ``unfold``: every window of the input
becomes a column, and the convolution is one matrix product with the weights::

    cols = unfold(x, (kh, kw))                       # (N, C·kh·kw, OH·OW)
    y = (weight.reshape(O, -1) @ cols).reshape(N, O, OH, OW)   # == conv2d(x, weight)

Every bad input raises an error naming the function and the shapes: a channel mismatch
(with a hint when the input looks NHWC), a kernel larger than the padded input (an
output of size zero), a wrong number of dimensions, bad stride/padding/groups.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from minigrad.functions import (
    Conv2d,
    ConvGeometry,
    ConvTranspose2d,
    Fold,
    MaxPool2d,
    Unfold,
    stack,
)
from minigrad.value import Value, as_value

__all__ = [
    "conv2d",
    "conv1d",
    "conv_transpose2d",
    "unfold",
    "fold",
    "max_pool2d",
    "avg_pool2d",
    "adaptive_avg_pool2d",
]


# ============================================================================ checks


def _as_input(x: Any, fn: str) -> Value:
    """A Value from a Value, a list of scalar Values (stacked), a number or an array; the
    one conversion of every function of ``nn.functional``."""
    if isinstance(x, Value):
        return x
    if isinstance(x, (list, tuple)) and any(isinstance(v, Value) for v in x):
        return stack(list(x))
    try:
        return as_value(x)
    except (TypeError, ValueError) as error:
        raise type(error)(f"{fn}: {error}") from None


def _pair(value: Any, what: str, fn: str, minimum: int) -> tuple[int, int]:
    """An int or a pair of ints, each >= ``minimum``, as a pair (height, width)."""
    items = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(items) != 2 or not all(
        isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in items
    ):
        raise TypeError(f"{fn}: {what} must be an int or a pair of ints, got {value!r}")
    if any(v < minimum for v in items):
        raise ValueError(f"{fn}: {what} must be at least {minimum}, got {value!r}")
    return int(items[0]), int(items[1])


def _check_image(x: Value, fn: str, what: str = "input") -> None:
    if x.ndim != 4:
        hint = ""
        if x.ndim == 3:
            hint = f"; for one image use x.reshape(1, {', '.join(map(str, x.shape))})"
        raise ValueError(
            f"{fn}: {what} must have shape (N, C, H, W) (batch, channels, height, width), "
            f"got shape {x.shape}{hint}"
        )


def _geometry(
    x: Value, kernel: tuple, stride: tuple, padding: tuple, dilation: tuple, groups: int, fn: str
) -> ConvGeometry:
    """The geometry of a window operation on x, checked: the dilated kernel must fit in
    the padded input, so that the output has at least one position."""
    geometry = ConvGeometry(kernel, stride, padding, dilation, groups)
    h, w = x.shape[2:]
    if 0 in x.shape[1:]:
        raise ValueError(f"{fn}: input of shape {x.shape} has no pixels")
    for axis, n, k, p, d in zip(("height", "width"), (h, w), kernel, padding, dilation):
        span = d * (k - 1) + 1
        if span > n + 2 * p:
            dilated = f" (dilated to {span})" if d > 1 else ""
            raise ValueError(
                f"{fn}: kernel {axis} {k}{dilated} is larger than the padded input {axis} "
                f"{n} + 2·{p} = {n + 2 * p} (input shape {x.shape}); the output would have "
                "size zero.  Use a smaller kernel or more padding"
            )
    return geometry


def _check_groups(groups: Any, fn: str) -> int:
    if not isinstance(groups, numbers.Integral) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"{fn}: groups must be a positive integer, got {groups!r}")
    return int(groups)


def _check_weight(x: Value, weight: Value, groups: int, fn: str, transposed: bool = False):
    if weight.ndim != 4:
        raise ValueError(
            f"{fn}: weight must have shape (out_channels, in_channels/groups, kh, kw), got "
            f"shape {weight.shape}"
        )
    if x.dtype != weight.dtype:
        raise TypeError(
            f"{fn}: input is {x.dtype} but weight is {weight.dtype}; convert one of them "
            f"(e.g. x.astype({weight.dtype}))"
        )
    channels = x.shape[1]
    if transposed:  # weight (C_in, C_out/groups, kh, kw)
        expected, rule = weight.shape[0], "weight.shape[0]"
    else:
        expected = weight.shape[1] * groups
        rule = f"weight.shape[1] · groups = {weight.shape[1]}·{groups}"
    if channels != expected:
        hint = ""
        if x.shape[3] == expected:
            hint = (
                "; the input looks channels-last (NHWC): pass x.transpose(0, 3, 1, 2) to get NCHW"
            )
        raise ValueError(
            f"{fn}: input has {channels} channels (shape {x.shape}, NCHW) but weight of "
            f"shape {weight.shape} expects {rule} = {expected}{hint}"
        )
    if weight.shape[0] % groups:
        raise ValueError(
            f"{fn}: weight.shape[0] = {weight.shape[0]} must be divisible by groups = {groups}"
        )
    if 0 in weight.shape:
        raise ValueError(f"{fn}: weight of shape {weight.shape} is empty")


def _check_bias(bias: Any, channels: int, like: Value, fn: str) -> Value | None:
    if bias is None:
        return None
    bias = _as_input(bias, fn)
    if bias.shape != (channels,):
        raise ValueError(
            f"{fn}: bias must have shape ({channels},), one per output channel; got {bias.shape}"
        )
    if bias.dtype != like.dtype:
        raise TypeError(f"{fn}: bias is {bias.dtype} but weight is {like.dtype}")
    return bias


# ============================================================================ convolution


def conv2d(
    x: Any,
    weight: Any,
    bias: Any = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Value:
    """2-d convolution (cross-correlation, as in every deep-learning library).

    x (N, C, H, W), weight (O, C/groups, kh, kw), bias (O,) or None -> (N, O, OH, OW) with
    OH = (H + 2·padding - dilation·(kh - 1) - 1) // stride + 1 (likewise OW), and

        y[n, o, p, q] = bias[o] + Σ_{c, i, j} x_pad[n, c, p·stride + i·dilation,
                                                     q·stride + j·dilation] · weight[o, c, i, j]

    where c runs over the C/groups input channels of o's group.  ``stride``, ``padding``
    (zeros) and ``dilation`` are an int or a pair (height, width).

    Its gradients are convolutions too: d/dx is ``conv_transpose2d`` of the output
    gradient with the same weights, d/dweight the correlation of x with the output
    gradient; both are matrix products with the unfolded input, and both can be
    differentiated again.  Raises ValueError naming the shapes for a channel mismatch
    (hinting at NHWC input), a kernel larger than the padded input, bad groups.
    """
    fn = "conv2d"
    x, weight = _as_input(x, fn), _as_input(weight, fn)
    _check_image(x, fn)
    groups = _check_groups(groups, fn)
    _check_weight(x, weight, groups, fn)
    geometry = _geometry(
        x,
        weight.shape[2:],
        _pair(stride, "stride", fn, 1),
        _pair(padding, "padding", fn, 0),
        _pair(dilation, "dilation", fn, 1),
        groups,
        fn,
    )
    bias = _check_bias(bias, weight.shape[0], weight, fn)
    if bias is None:
        return Conv2d.apply(x, weight, geometry=geometry)
    return Conv2d.apply(x, weight, bias, geometry=geometry)


# conv2d's arguments spelled out again, as PyTorch's conv1d takes them; the work is conv2d's.
def conv1d(
    x: Any,
    weight: Any,
    bias: Any = None,
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
    groups: int = 1,
) -> Value:
    """1-d convolution: x (N, C, L), weight (O, C/groups, k), bias (O,) -> (N, O, L_out),
    L_out = (L + 2·padding - dilation·(k - 1) - 1) // stride + 1.

    Computed as ``conv2d`` on images of height 1 (x as (N, C, 1, L), weight as
    (O, C/groups, 1, k)), so it shares its rules and its speed.
    """
    fn = "conv1d"
    x, weight = _as_input(x, fn), _as_input(weight, fn)
    if x.ndim != 3:
        raise ValueError(f"conv1d: input must have shape (N, C, L), got shape {x.shape}")
    if weight.ndim != 3:
        raise ValueError(
            f"conv1d: weight must have shape (out_channels, in_channels/groups, k), got "
            f"shape {weight.shape}"
        )
    n, c, length = x.shape
    o, cg, k = weight.shape
    for what, value in (("stride", stride), ("padding", padding), ("dilation", dilation)):
        if isinstance(value, (tuple, list)):
            if len(value) != 1:
                raise TypeError(f"conv1d: {what} must be an int or a 1-tuple, got {value!r}")
    stride, padding, dilation = (
        v[0] if isinstance(v, (tuple, list)) else v for v in (stride, padding, dilation)
    )
    out = conv2d(
        x.reshape(n, c, 1, length),
        weight.reshape(o, cg, 1, k),
        bias,
        stride=(1, stride),
        padding=(0, padding),
        dilation=(1, dilation),
        groups=groups,
    )
    return out.reshape(n, o, out.shape[3])


# PyTorch's signature, close to conv2d's by design.
def conv_transpose2d(
    x: Any,
    weight: Any,
    bias: Any = None,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    groups: int = 1,
    dilation: Any = 1,
) -> Value:
    """Transposed convolution (the adjoint of ``conv2d``, used to upsample).

    x (N, C_in, H, W), weight (C_in, C_out/groups, kh, kw), bias (C_out,) -> (N, C_out,
    H_out, W_out) with H_out = (H - 1)·stride - 2·padding + dilation·(kh - 1) +
    output_padding + 1.  It is exactly the gradient of ``conv2d(·, weight)`` with respect
    to its input: each input pixel spreads weight-scaled copies over its window.
    ``output_padding`` (< stride or < dilation) picks among the output sizes that a
    strided convolution maps to the same input size.  Arguments in PyTorch's order.
    """
    fn = "conv_transpose2d"
    x, weight = _as_input(x, fn), _as_input(weight, fn)
    _check_image(x, fn)
    groups = _check_groups(groups, fn)
    _check_weight(x, weight, groups, fn, transposed=True)
    stride = _pair(stride, "stride", fn, 1)
    padding = _pair(padding, "padding", fn, 0)
    dilation = _pair(dilation, "dilation", fn, 1)
    extra = _pair(output_padding, "output_padding", fn, 0)
    for e, s, d in zip(extra, stride, dilation):
        if e >= max(s, d):
            raise ValueError(
                f"{fn}: output_padding {output_padding!r} must be smaller than stride "
                f"{stride} or dilation {dilation}"
            )
    kernel = weight.shape[2:]
    size = tuple(
        (n - 1) * s - 2 * p + d * (k - 1) + e + 1
        for n, s, p, d, k, e in zip(x.shape[2:], stride, padding, dilation, kernel, extra)
    )
    if min(size) < 1:
        raise ValueError(
            f"{fn}: input of shape {x.shape} with kernel {kernel}, stride {stride} and padding "
            f"{padding} gives an output of size {size}; reduce the padding"
        )
    c_out = weight.shape[1] * groups
    geometry = ConvGeometry(kernel, stride, padding, dilation, groups)
    out_shape = (x.shape[0], c_out) + size
    bias = _check_bias(bias, c_out, weight, fn)
    if bias is None:
        return ConvTranspose2d.apply(x, weight, x_shape=out_shape, geometry=geometry)
    return ConvTranspose2d.apply(x, weight, bias, x_shape=out_shape, geometry=geometry)


# ============================================================================ im2col


def unfold(x: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1) -> Value:
    """im2col: every (kh, kw) window of x (N, C, H, W) as a column -> (N, C·kh·kw, L).

    Row c·kh·kw + i·kw + j holds channel c at kernel offset (i, j); column l = p·OW + q is
    the window of output position (p, q); L = OH·OW.  ``conv2d(x, w)`` equals
    ``w.reshape(O, -1) @ unfold(x, (kh, kw))`` reshaped to (N, O, OH, OW).  Its gradient is
    ``fold`` (each pixel collects the gradients of every window it is in).
    """
    fn = "unfold"
    x = _as_input(x, fn)
    _check_image(x, fn)
    geometry = _geometry(
        x,
        _pair(kernel_size, "kernel_size", fn, 1),
        _pair(stride, "stride", fn, 1),
        _pair(padding, "padding", fn, 0),
        _pair(dilation, "dilation", fn, 1),
        1,
        fn,
    )
    return Unfold.apply(x, geometry=geometry)


def fold(
    x: Any,
    output_size: Any,
    kernel_size: Any,
    dilation: Any = 1,
    padding: Any = 0,
    stride: Any = 1,
) -> Value:
    """col2im, the adjoint of ``unfold``: columns (N, C·kh·kw, L) summed into an image
    (N, C, H, W) of ``output_size`` (H, W); pixels shared by several windows get the sum.
    L must equal the number of windows of that image."""
    fn = "fold"
    x = _as_input(x, fn)
    kernel = _pair(kernel_size, "kernel_size", fn, 1)
    size = _pair(output_size, "output_size", fn, 1)
    if x.ndim != 3:
        raise ValueError(f"{fn}: input must have shape (N, C·kh·kw, L), got shape {x.shape}")
    n, rows, length = x.shape
    if rows % (kernel[0] * kernel[1]):
        raise ValueError(
            f"{fn}: input has {rows} rows, not a multiple of kh·kw = {kernel[0] * kernel[1]} "
            f"(shape {x.shape})"
        )
    channels = rows // (kernel[0] * kernel[1])
    image = Value(np.empty((n, channels) + size, x.dtype), requires_grad=False)
    geometry = _geometry(
        image,
        kernel,
        _pair(stride, "stride", fn, 1),
        _pair(padding, "padding", fn, 0),
        _pair(dilation, "dilation", fn, 1),
        1,
        fn,
    )
    oh, ow = geometry.output_size(*size)
    if length != oh * ow:
        raise ValueError(
            f"{fn}: input has {length} columns but an image of size {size} has {oh}·{ow} = "
            f"{oh * ow} windows of kernel {kernel} (shape {x.shape})"
        )
    return Fold.apply(x, x_shape=image.shape, geometry=geometry)


# ============================================================================ pooling


def _pool_window(kernel_size: Any, stride: Any, padding: Any, fn: str) -> tuple:
    """A pooling window's kernel size, stride (the kernel size when None) and padding, each
    as a pair; the pooling functions and modules read their arguments with it."""
    kernel = _pair(kernel_size, "kernel_size", fn, 1)
    stride = kernel if stride is None else _pair(stride, "stride", fn, 1)
    return kernel, stride, _pair(padding, "padding", fn, 0)


def _pool_geometry(x: Value, kernel_size, stride, padding, dilation, fn: str) -> ConvGeometry:
    _check_image(x, fn)
    kernel, stride, padding = _pool_window(kernel_size, stride, padding, fn)
    for p, k in zip(padding, kernel):
        if 2 * p > k:
            raise ValueError(
                f"{fn}: padding {padding} must be at most half the kernel size {kernel} (a "
                "window made only of padding would have no value)"
            )
    return _geometry(x, kernel, stride, padding, _pair(dilation, "dilation", fn, 1), 1, fn)


def max_pool2d(
    x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1
) -> Value:
    """The maximum of each window: x (N, C, H, W) -> (N, C, OH, OW); ``stride`` defaults
    to ``kernel_size``; padding counts as -inf (never the maximum).

    The gradient of each output goes to a single input, the first maximum of the window
    in row-major order (the last NaN if the window has any), exactly as PyTorch: ties
    are not split.  Where windows overlap, an input may collect several gradients.
    """
    fn = "max_pool2d"
    x = _as_input(x, fn)
    geometry = _pool_geometry(x, kernel_size, stride, padding, dilation, fn)
    _check_no_window_of_padding_only(x.shape, geometry, fn)
    return MaxPool2d.apply(x, geometry=geometry)


def _check_no_window_of_padding_only(shape: tuple, geometry: ConvGeometry, fn: str) -> None:
    """With dilation, a window can hold padding only (its maximum would be -inf, with no
    input to send the gradient to; PyTorch 2.13 corrupts memory there).  Refuse it."""
    if geometry.dilation == (1, 1) or geometry.padding == (0, 0):
        return  # padding <= kernel / 2 then leaves a real pixel in every window
    for axis, n, size, k, s, p, d in zip(
        ("height", "width"),
        shape[2:],
        geometry.output_size(*shape[2:]),
        geometry.kernel,
        geometry.stride,
        geometry.padding,
        geometry.dilation,
    ):
        taps = (np.arange(size) * s - p)[:, None] + np.arange(k) * d  # rows each window reads
        empty = ~((taps >= 0) & (taps < n)).any(axis=1)
        if empty.any():
            raise ValueError(
                f"{fn}: along the {axis}, window {int(np.argmax(empty))} of input shape {shape} "
                f"(kernel {k}, dilation {d}, padding {p}, stride {s}) covers only padding; "
                "reduce the padding or the dilation"
            )


def avg_pool2d(
    x: Any,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    count_include_pad: bool = True,
) -> Value:
    """The mean of each window: x (N, C, H, W) -> (N, C, OH, OW); ``stride`` defaults to
    ``kernel_size``; padding is zeros.

    With ``count_include_pad=True`` (PyTorch's default) every window is divided by kh·kw;
    with False, by the number of real (non-padding) pixels it covers.  Composed as
    ``unfold`` then a sum over each window and a division, so its gradient (each window's
    gradient shared equally among its pixels, by ``fold``) is differentiable again.
    """
    fn = "avg_pool2d"
    x = _as_input(x, fn)
    geometry = _pool_geometry(x, kernel_size, stride, padding, 1, fn)
    n, c, h, w = x.shape
    (kh, kw), (oh, ow) = geometry.kernel, geometry.output_size(h, w)
    sums = Unfold.apply(x, geometry=geometry).reshape(n, c, kh * kw, oh, ow).sum(axis=2)
    if count_include_pad or geometry.padding == (0, 0):
        return sums * (1.0 / (kh * kw))
    ones = Value(np.ones((1, 1, h, w), dtype=x.dtype), requires_grad=False)
    counts = Unfold.apply(ones, geometry=geometry).data.sum(axis=1).reshape(oh, ow)
    return sums * Value((1.0 / counts).astype(x.dtype), requires_grad=False)


def _adaptive_matrix(n_in: int, n_out: int, dtype: np.dtype) -> np.ndarray:
    """(n_out, n_in): row i averages inputs floor(i·n_in/n_out) .. ceil((i+1)·n_in/n_out) - 1,
    PyTorch's adaptive windows."""
    matrix = np.zeros((n_out, n_in), dtype=dtype)
    for i in range(n_out):  # over output positions of one axis: a constant, built once
        start, end = (i * n_in) // n_out, -((-(i + 1) * n_in) // n_out)
        matrix[i, start:end] = 1.0 / (end - start)
    return matrix


def adaptive_avg_pool2d(x: Any, output_size: Any) -> Value:
    """Average pooling to a fixed output size (OH, OW) whatever the input size.

    Output row p averages input rows floor(p·H/OH) .. ceil((p+1)·H/OH) - 1 (likewise
    columns), as in PyTorch; (1, 1) is the global average.  The windows of a row and of a
    column are independent, so it is two matrix products with constant averaging
    matrices: A_H (OH, H) @ x @ A_Wᵀ (W, OW).
    """
    fn = "adaptive_avg_pool2d"
    x = _as_input(x, fn)
    _check_image(x, fn)
    oh, ow = _pair(output_size, "output_size", fn, 1)
    n, c, h, w = x.shape
    if 0 in x.shape[1:]:
        raise ValueError(f"{fn}: input of shape {x.shape} has no pixels")
    if (oh, ow) == (1, 1):
        return x.mean(axis=(2, 3), keepdims=True)
    rows = Value(_adaptive_matrix(h, oh, x.dtype), requires_grad=False)
    columns = Value(_adaptive_matrix(w, ow, x.dtype).T.copy(), requires_grad=False)
    return rows @ (x @ columns)
