"""Layers for images: Conv2d, Conv1d, pooling, Flatten, BatchNorm2d, Dropout2d, Linear.

Each holds its parameters under PyTorch's ``state_dict`` names (``weight``, ``bias``,
``running_mean``, ``running_var``, ``num_batches_tracked``), in PyTorch's shapes, and
starts from PyTorch's default initialisation, so a PyTorch recipe (and its weights, via
``load_state_dict``) carries over.  The arithmetic is ``minigrad.nn.functional``'s.

``dtype`` is float64 by default, like the rest of minigrad; pass ``dtype=np.float32``
for speed (PyTorch's default).  Randomness (initial weights, Dropout2d's masks) always
comes from an explicit ``seed`` or ``rng``.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from minigrad.nn import functional as F
from minigrad.nn import init as initialisers
from minigrad.nn.convolution import _pair, _pool_window
from minigrad.nn.layers import _as_float_input, _BatchNorm, _rng, _size
from minigrad.nn.module import Module
from minigrad.value import Value

__all__ = [
    "Conv2d",
    "Conv1d",
    "Linear",
    "MaxPool2d",
    "AvgPool2d",
    "AdaptiveAvgPool2d",
    "Flatten",
    "Unflatten",
    "BatchNorm2d",
    "Dropout2d",
]


def _pytorch_parameters(
    shape: tuple, fan_in: int, bias: bool, gen: np.random.Generator, dtype
) -> tuple[Value, Value | None]:
    """A weight of ``shape`` and (with ``bias``) a bias of shape[0] values, both drawn from
    U(-1/√fan_in, 1/√fan_in): PyTorch's default for Linear and Conv (kaiming_uniform with
    a = √5, which works out to this bound)."""
    bound = 1.0 / math.sqrt(fan_in)
    weight = Value(gen.uniform(-bound, bound, size=shape).astype(dtype))
    if not bias:
        return weight, None
    return weight, Value(gen.uniform(-bound, bound, size=shape[0]).astype(dtype))


# ============================================================================ convolution


class Conv2d(Module):
    """A 2-d convolution layer: (N, C_in, H, W) -> (N, C_out, OH, OW).

    ``weight`` (C_out, C_in/groups, kh, kw) and ``bias`` (C_out,), both drawn from
    U(-1/√fan_in, 1/√fan_in) with fan_in = C_in/groups · kh · kw, as PyTorch.
    ``kernel_size``, ``stride``, ``padding``, ``dilation``: an int or a pair;
    ``bias=False`` drops the bias.  See ``nn.functional.conv2d`` for the formula.
    """

    # functional.conv2d's arguments, then bias, seed, rng and dtype as every layer here
    # takes them: alike by design (PyTorch's signatures), the shared work is in the helpers.
    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        dilation: Any = 1,
        groups: int = 1,
        bias: bool = True,
        seed: Any = None,
        rng: Any = None,
        dtype: Any = np.float64,
    ) -> None:
        super().__init__()
        who = type(self).__name__
        self.in_channels = _size(in_channels, f"{who}: in_channels")
        self.out_channels = _size(out_channels, f"{who}: out_channels")
        self.groups = _size(groups, f"{who}: groups")
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"{who}: in_channels ({in_channels}) and out_channels ({out_channels}) must "
                f"both be divisible by groups ({groups})"
            )
        self.kernel_size = self._size(kernel_size, "kernel_size", 1)
        self.stride = self._size(stride, "stride", 1)
        self.padding = self._size(padding, "padding", 0)
        self.dilation = self._size(dilation, "dilation", 1)
        self.dtype = initialisers._check_dtype(dtype)
        gen = _rng(seed, rng, who)
        shape = (out_channels, in_channels // groups) + self.kernel_size
        fan_in = int(np.prod(shape[1:]))
        self.weight, self.bias = _pytorch_parameters(shape, fan_in, bias, gen, self.dtype)

    def _size(self, value: Any, what: str, minimum: int) -> tuple:
        return _pair(value, what, type(self).__name__, minimum)

    def forward(self, x: Any) -> Value:
        return F.conv2d(
            _as_float_input(x, self.dtype, "Conv2d"),
            self.weight,
            self.bias,
            self.stride,
            self.padding,
            self.dilation,
            self.groups,
        )

    def extra_repr(self) -> str:
        text = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        return text


class Conv1d(Conv2d):
    """A 1-d convolution layer: (N, C_in, L) -> (N, C_out, L_out); ``weight`` (C_out,
    C_in/groups, k), ``bias`` (C_out,), PyTorch's initialisation.  Computed by ``conv1d``."""

    def _size(self, value: Any, what: str, minimum: int) -> tuple:
        if isinstance(value, (tuple, list)):
            if len(value) != 1:
                raise TypeError(f"Conv1d: {what} must be an int or a 1-tuple, got {value!r}")
            value = value[0]
        return (_pair(value, what, "Conv1d", minimum)[0],)

    def forward(self, x: Any) -> Value:
        return F.conv1d(
            _as_float_input(x, self.dtype, "Conv1d"),
            self.weight,
            self.bias,
            self.stride[0],
            self.padding[0],
            self.dilation[0],
            self.groups,
        )

    def extra_repr(self) -> str:
        return super().extra_repr().replace("(0,)", "0")


class Linear(Module):
    """``x @ weight.T + bias`` with PyTorch's layout and initialisation: ``weight``
    (out_features, in_features) and ``bias`` (out_features,), both from
    U(-1/√in_features, 1/√in_features).  (``nn.Layer`` keeps W as (nin, nout) instead.)"""

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        seed: Any = None,
        rng: Any = None,
        dtype: Any = np.float64,
    ) -> None:
        super().__init__()
        self.in_features = _size(in_features, "Linear: in_features")
        self.out_features = _size(out_features, "Linear: out_features")
        self.dtype = initialisers._check_dtype(dtype)
        gen = _rng(seed, rng, "Linear")
        shape = (out_features, in_features)
        self.weight, self.bias = _pytorch_parameters(shape, in_features, bias, gen, self.dtype)

    def forward(self, x: Any) -> Value:
        x = _as_float_input(x, self.dtype, "Linear")
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(
                f"Linear expects {self.in_features} input features in the last axis, got "
                f"shape {x.shape}"
            )
        return F.affine(x, self.weight.T, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}" + (
            ", bias=False" if self.bias is None else ""
        )


# ============================================================================ pooling


class MaxPool2d(Module):
    """The maximum of each window (``nn.functional.max_pool2d``); stride defaults to the
    kernel size.  No parameters."""

    def __init__(
        self, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1
    ) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.padding = _pool_window(
            kernel_size, stride, padding, "MaxPool2d"
        )
        self.dilation = _pair(dilation, "dilation", "MaxPool2d", 1)

    def forward(self, x: Any) -> Value:
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation)

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}"
        )


class AvgPool2d(Module):
    """The mean of each window (``nn.functional.avg_pool2d``); stride defaults to the
    kernel size.  No parameters."""

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        count_include_pad: bool = True,
    ) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.padding = _pool_window(
            kernel_size, stride, padding, "AvgPool2d"
        )
        self.count_include_pad = bool(count_include_pad)

    def forward(self, x: Any) -> Value:
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.count_include_pad)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed ``output_size`` (``nn.functional.adaptive_avg_pool2d``)."""

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = _pair(output_size, "output_size", "AdaptiveAvgPool2d", 1)

    def forward(self, x: Any) -> Value:
        return F.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class Flatten(Module):
    """Merges axes ``start_dim`` .. ``end_dim`` into one: (N, C, H, W) -> (N, C·H·W) by
    default, between the convolutional part of a network and its linear head."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        for what, value in (("start_dim", start_dim), ("end_dim", end_dim)):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                raise TypeError(f"Flatten: {what} must be an int, got {value!r}")
        self.start_dim, self.end_dim = int(start_dim), int(end_dim)

    def forward(self, x: Any) -> Value:
        x = F._as_input(x, "Flatten")
        ndim = max(x.ndim, 1)
        start, end = self.start_dim, self.end_dim
        if not (-ndim <= start < ndim and -ndim <= end < ndim):
            raise ValueError(
                f"Flatten: dimensions {start}..{end} are out of range for shape {x.shape}"
            )
        start, end = start % ndim, end % ndim
        if start > end:
            raise ValueError(
                f"Flatten: start_dim {self.start_dim} comes after end_dim {self.end_dim} "
                f"for shape {x.shape}"
            )
        shape = x.shape
        return x.reshape(shape[:start] + (-1,) + shape[end + 1 :])

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Splits axis ``dim`` into ``sizes``: ``Unflatten(1, (1, 8, 8))`` turns rows of 64
    pixels (n, 64) into images (n, 1, 8, 8), so a CNN trains on the same arrays as an MLP."""

    def __init__(self, dim: int, sizes: Any) -> None:
        super().__init__()
        if isinstance(dim, bool) or not isinstance(dim, numbers.Integral):
            raise TypeError(f"Unflatten: dim must be an int, got {dim!r}")
        sizes = tuple(sizes)
        if not sizes or not all(isinstance(n, numbers.Integral) and n >= 1 for n in sizes):
            raise ValueError(f"Unflatten: sizes must be positive integers, got {sizes!r}")
        self.dim, self.sizes = int(dim), tuple(int(n) for n in sizes)

    def forward(self, x: Any) -> Value:
        x = F._as_input(x, "Unflatten")
        if not -x.ndim <= self.dim < x.ndim:
            raise ValueError(f"Unflatten: dim {self.dim} is out of range for shape {x.shape}")
        dim = self.dim % x.ndim
        if x.shape[dim] != int(np.prod(self.sizes)):
            raise ValueError(
                f"Unflatten: axis {self.dim} of shape {x.shape} has {x.shape[dim]} entries, "
                f"which cannot be split into {self.sizes}"
            )
        return x.reshape(x.shape[:dim] + self.sizes + x.shape[dim + 1 :])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, sizes={self.sizes}"


# ============================================================================ normalisation


class BatchNorm2d(_BatchNorm):
    """Batch normalisation per channel of (N, C, H, W) input, over batch and positions
    (see ``nn.layers._BatchNorm``: the same rule as BatchNorm1d, one rank more)."""

    ranks = (4,)
    expected = "(N, {c}, H, W)"


class Dropout2d(Module):
    """Channel dropout: in training mode each channel of each example (a whole (H, W)
    map) is zeroed with probability ``p`` and the others scaled by 1 / (1 - p); the
    identity in evaluation mode.  Input (N, C, H, W) (or (C, H, W)).  ``seed``/``rng``
    give a reproducible sequence of masks."""

    def __init__(self, p: float = 0.5, seed: Any = None, rng: Any = None) -> None:
        super().__init__()
        self.p = F._check_probability(p)
        self._rng = _rng(seed, rng, "Dropout2d")

    def forward(self, x: Any) -> Value:
        x = F._as_input(x, "Dropout2d")
        if x.ndim not in (3, 4):
            raise ValueError(f"Dropout2d expects (N, C, H, W) or (C, H, W), got shape {x.shape}")
        if not self.training or self.p == 0.0:
            return x
        kind = np.float32 if x.dtype == np.float32 else np.float64
        keep = self._rng.random(x.shape[:-2] + (1, 1), dtype=kind) >= self.p
        mask = keep.astype(x.dtype) * x.dtype.type(1.0 / (1.0 - self.p))
        return x * Value(mask, requires_grad=False)

    def extra_repr(self) -> str:
        return f"p={self.p}"
