"""Weight initialisers: functions that return a fresh numpy array of a given shape.

Every initialiser takes ``rng``: a seed (int) or a ``numpy.random.Generator``.  The same
seed always gives the same array; nothing reads numpy's global random state.  With
``rng=None`` a fresh, unpredictable generator is used (pass a seed to reproduce a run).

Shapes follow minigrad's layout: a weight matrix is ``(fan_in, fan_out)`` (a Layer
computes ``x @ W``, so W has one row per input and one column per neuron); a weight
vector ``(fan_in,)`` has ``fan_out = 1``.  Note that PyTorch stores weights the other way
round, as ``(out, in)``; the formulas are the same.

=================  ==========================================  =======================
name               distribution                                for
=================  ==========================================  =======================
uniform            U(low, high), default U(-1, 1)              micrograd's choice
normal             N(mean, std²), default N(0, 1)
xavier_uniform     U(-a, a), a = gain·sqrt(6 / (fan_in+fan_out))  tanh, sigmoid, linear
xavier_normal      N(0, σ²), σ = gain·sqrt(2 / (fan_in+fan_out))
he_uniform         U(-a, a), a = gain·sqrt(3 / fan_in), gain √2   ReLU
he_normal          N(0, σ²), σ = gain / sqrt(fan_in), gain √2
zeros              all 0                                       biases (and, for weights,
                                                               the symmetry lesson)
=================  ==========================================  =======================

``glorot_*`` are the same as ``xavier_*`` and ``kaiming_*`` the same as ``he_*``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = [
    "make_rng",
    "uniform",
    "normal",
    "zeros",
    "ones",
    "xavier_uniform",
    "xavier_normal",
    "glorot_uniform",
    "glorot_normal",
    "he_uniform",
    "he_normal",
    "kaiming_uniform",
    "kaiming_normal",
    "fans",
    "get",
    "INITIALISERS",
]


def make_rng(rng: Any = None, *, what: str = "rng") -> np.random.Generator:
    """A ``numpy.random.Generator`` from a seed, a Generator (returned as is) or None.

    None gives a fresh generator seeded from the operating system (not reproducible).
    Raises TypeError for anything else (numpy's legacy ``RandomState`` included: it is
    global-state-era API) and ValueError for a negative seed.
    """
    if rng is None:
        return np.random.default_rng()
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, bool) or not isinstance(rng, numbers.Integral):
        raise TypeError(
            f"{what} must be an int seed or a numpy.random.Generator, got "
            f"{type(rng).__name__} {rng!r}"
        )
    if rng < 0:
        raise ValueError(f"{what}: a seed must be a non-negative integer, got {rng}")
    return np.random.default_rng(int(rng))


def _check_dtype(dtype: Any) -> np.dtype:
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be numpy.float32 or numpy.float64, got {dtype!r}") from None
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise TypeError(f"dtype must be numpy.float32 or numpy.float64, got {dt}")
    return dt


def _check_shape(shape: Any) -> tuple:
    if isinstance(shape, numbers.Integral):
        shape = (shape,)
    try:
        shape = tuple(int(n) for n in shape)
    except TypeError:
        raise TypeError(f"shape must be an int or a tuple of ints, got {shape!r}") from None
    if any(n < 0 for n in shape):
        raise ValueError(f"shape {shape} has a negative dimension")
    return shape


def fans(shape: Any) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of ``shape``: ``(n,)`` -> (n, 1); ``(a, b)`` -> (a, b).

    For more than two dimensions the leading axes are treated as a batch of matrices
    (fan_in = shape[-2], fan_out = shape[-1]).  A scalar has fans (1, 1).
    """
    shape = _check_shape(shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], 1
    return shape[-2], shape[-1]


def uniform(
    shape: Any,
    low: float = -1.0,
    high: float = 1.0,
    rng: Any = None,
    dtype: Any = np.float64,
) -> np.ndarray:
    """Samples of U(low, high): each entry equally likely anywhere in [low, high)."""
    if not low < high:
        raise ValueError(f"uniform needs low < high, got low={low}, high={high}")
    shape, dt = _check_shape(shape), _check_dtype(dtype)
    return make_rng(rng).uniform(low, high, size=shape).astype(dt, copy=False)


def normal(
    shape: Any,
    mean: float = 0.0,
    std: float = 1.0,
    rng: Any = None,
    dtype: Any = np.float64,
) -> np.ndarray:
    """Samples of N(mean, std²)."""
    if not std >= 0:
        raise ValueError(f"normal needs std >= 0, got {std}")
    shape, dt = _check_shape(shape), _check_dtype(dtype)
    return make_rng(rng).normal(mean, std, size=shape).astype(dt, copy=False)


def zeros(shape: Any, rng: Any = None, dtype: Any = np.float64) -> np.ndarray:
    """All zeros (``rng`` is accepted and ignored, so every initialiser has one signature)."""
    return np.zeros(_check_shape(shape), dtype=_check_dtype(dtype))


def ones(shape: Any, rng: Any = None, dtype: Any = np.float64) -> np.ndarray:
    """All ones (``rng`` is accepted and ignored)."""
    return np.ones(_check_shape(shape), dtype=_check_dtype(dtype))


def xavier_uniform(
    shape: Any, gain: float = 1.0, rng: Any = None, dtype: Any = np.float64
) -> np.ndarray:
    """Glorot & Bengio (2010): U(-a, a) with a = gain · sqrt(6 / (fan_in + fan_out)).

    Keeps the variance of activations and of gradients roughly constant through layers
    with a symmetric activation (tanh, sigmoid, none).  Variance = a² / 3 = 2 / (fan_in +
    fan_out) times gain².
    """
    fan_in, fan_out = fans(shape)
    bound = gain * math.sqrt(6.0 / max(fan_in + fan_out, 1))
    return uniform(shape, -bound, bound, rng, dtype) if bound > 0 else zeros(shape, None, dtype)


def xavier_normal(
    shape: Any, gain: float = 1.0, rng: Any = None, dtype: Any = np.float64
) -> np.ndarray:
    """Glorot normal: N(0, σ²) with σ = gain · sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = fans(shape)
    return normal(shape, 0.0, gain * math.sqrt(2.0 / max(fan_in + fan_out, 1)), rng, dtype)


def he_uniform(
    shape: Any, gain: float = math.sqrt(2.0), rng: Any = None, dtype: Any = np.float64
) -> np.ndarray:
    """He et al. (2015): U(-a, a) with a = gain · sqrt(3 / fan_in), gain = √2 for ReLU.

    Variance 2 / fan_in: a ReLU zeroes half its inputs, so the weights are twice as large
    as a variance-1/fan_in scheme to keep the activations' scale through the layers.
    """
    fan_in, _ = fans(shape)
    bound = gain * math.sqrt(3.0 / max(fan_in, 1))
    return uniform(shape, -bound, bound, rng, dtype) if bound > 0 else zeros(shape, None, dtype)


def he_normal(
    shape: Any, gain: float = math.sqrt(2.0), rng: Any = None, dtype: Any = np.float64
) -> np.ndarray:
    """He normal: N(0, σ²) with σ = gain / sqrt(fan_in), gain = √2 for ReLU."""
    fan_in, _ = fans(shape)
    return normal(shape, 0.0, gain / math.sqrt(max(fan_in, 1)), rng, dtype)


glorot_uniform = xavier_uniform
glorot_normal = xavier_normal
kaiming_uniform = he_uniform
kaiming_normal = he_normal

#: Initialisers by name, as accepted by ``Layer(init=...)`` and ``MLP(init=...)``.
INITIALISERS: dict[str, Callable[..., np.ndarray]] = {
    "uniform": uniform,
    "normal": normal,
    "zeros": zeros,
    "ones": ones,
    "xavier": xavier_uniform,
    "xavier_uniform": xavier_uniform,
    "xavier_normal": xavier_normal,
    "glorot": xavier_uniform,
    "glorot_uniform": xavier_uniform,
    "glorot_normal": xavier_normal,
    "he": he_uniform,
    "he_uniform": he_uniform,
    "he_normal": he_normal,
    "kaiming": he_uniform,
    "kaiming_uniform": he_uniform,
    "kaiming_normal": he_normal,
}


def get(init: Any) -> Callable[..., np.ndarray]:
    """The initialiser called ``init`` (see ``INITIALISERS``), or ``init`` itself if callable.

    A callable must accept ``(shape, rng=..., dtype=...)`` and return an array of ``shape``.
    """
    if callable(init):
        return init
    if isinstance(init, str) and init.lower() in INITIALISERS:
        return INITIALISERS[init.lower()]
    raise ValueError(
        f"unknown initialiser {init!r}; choose one of {', '.join(sorted(INITIALISERS))}, "
        "or pass a function (shape, rng=..., dtype=...) -> array"
    )
