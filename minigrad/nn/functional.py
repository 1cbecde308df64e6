"""Layers' arithmetic, losses, softmax and friends: functions of Values that return Values.

Most are compositions of engine primitives, so their graphs show each step and
``gradcheck`` and higher-order gradients work through them unchanged.  Three call a
fused rule of the table (``minigrad.functions``: ``LogSumExp``, ``CrossEntropy``,
``BinaryCrossEntropyWithLogits``), because the composition is unstable or slow; their
docstrings there say why.  This module checks the inputs and calls them.

Every loss takes ``reduction="mean"`` (default), ``"sum"`` or ``"none"`` (per element).
Predictions and targets must have the same shape: broadcasting a (n, 1) prediction
against an (n,) target would silently compare every prediction with every target.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.functions import (
    Affine,
    BinaryCrossEntropyWithLogits,
    CrossEntropy,
    LogSumExp,
    _normalize_axis,
    broadcast_to,
    logaddexp,
    stack,
    where,
)
from minigrad.nn.convolution import _as_input
from minigrad.value import Value, data_of

#: .max() without numpy's Python wrapper, for the once-per-step target check.
_maximum_reduce = np.maximum.reduce

__all__ = [
    "affine",
    "mse_loss",
    "binary_cross_entropy",
    "huber_loss",
    "smooth_l1_loss",
    "kl_div",
    "cosine_similarity",
    "l1_loss",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "nll_loss",
    "hinge_loss",
    "softmax",
    "log_softmax",
    "logsumexp",
    "dropout",
    "leaky_relu",
    "elu",
    "selu",
    "gelu",
    "silu",
    "swish",
    "softplus",
    "mish",
    "hardtanh",
    "relu6",
    "hardsigmoid",
    "hardswish",
    "softsign",
    "logsigmoid",
    "LogSumExp",
    "CrossEntropy",
    "BinaryCrossEntropyWithLogits",
]

_REDUCTIONS = ("mean", "sum", "none")


# ============================================================================ layers


def affine(x: Any, W: Any, b: Any = None) -> Value:
    """``x @ W + b``: x (..., k) or (k,), W (k, n), b (n,) or None -> (..., n).

    The same numbers as writing ``x @ W + b``, computed by one fused node (``affine`` in the
    graph) that adds the bias in place and sums its gradient directly: a little less
    memory traffic per layer, which is what ``nn.Layer`` uses.  Shapes outside that pattern
    (a 1-D W, a bias of another shape, plain numbers) are computed as ``x @ W + b``, with
    numpy's rules.
    """
    if type(x) is not Value or type(W) is not Value:  # (a layer's inputs always are)
        x, W = _as_input(x, "affine"), _as_input(W, "affine")
    if b is None:
        return x @ W
    if type(b) is not Value:
        b = _as_input(b, "affine")
    xd, Wd, bd = x.data, W.data, b.data
    if (
        type(xd) is np.ndarray
        and type(Wd) is np.ndarray
        and type(bd) is np.ndarray
        and xd.ndim >= 1
        and Wd.ndim == 2
        and bd.shape == Wd.shape[1:]
    ):
        if xd.shape[-1] != Wd.shape[0]:
            raise ValueError(
                f"affine: x has {xd.shape[-1]} features (last axis of shape {xd.shape}) "
                f"but W has {Wd.shape[0]} rows (shape {Wd.shape}); they must be equal"
            )
        return Affine.apply(x, W, b)
    return x @ W + b


# ============================================================================ helpers


def _as_target(target: Any, like: Value, fn: str) -> Value:
    """The target as a Value; plain data takes the prediction's dtype (no float64
    promotion of a float32 model)."""
    if isinstance(target, Value):
        return target
    if isinstance(target, (list, tuple)) and any(isinstance(v, Value) for v in target):
        return stack(list(target))
    try:
        data = Value(target, requires_grad=False).data
    except (TypeError, ValueError) as error:
        raise type(error)(f"{fn}: target: {error}") from None
    if like.dtype != np.float64:
        data = np.asarray(data, dtype=like.dtype)
    return Value(data, requires_grad=False)


def _with_target(input: Any, target: Any, fn: str) -> tuple[Value, Value]:
    """A loss's input and target as Values of one shape (plain target data in the input's
    dtype), or the error that says what is wrong with them."""
    input = _as_input(input, fn)
    target = _as_target(target, input, fn)
    _check_same_shape(input, target, fn)
    return input, target


def _check_same_shape(input: Value, target: Value, fn: str) -> None:
    if input.shape != target.shape:
        hint = ""
        if input.size == target.size:
            hint = f"; reshape one of them, e.g. target.reshape({input.shape})"
        raise ValueError(
            f"{fn}: input has shape {input.shape} but target has shape {target.shape}; "
            "they must be equal (broadcasting would compare every prediction with every "
            f"target){hint}"
        )


def _check_reduction(reduction: str, fn: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(
            f"{fn}: reduction must be one of {', '.join(map(repr, _REDUCTIONS))}, got {reduction!r}"
        )


def _reduce(loss: Value, reduction: str) -> Value:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _show_values(values: np.ndarray, limit: int = 8) -> str:
    values = np.unique(np.asarray(values).reshape(-1))
    shown = ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in values[:limit].tolist())
    more = f", ... ({len(values) - limit} more)" if len(values) > limit else ""
    return f"[{shown}{more}]"


# ============================================================================ softmax family


def logsumexp(x: Any, axis: Any = -1, keepdims: bool = False) -> Value:
    """log(Σ_i exp(x_i)) along ``axis`` (an int, a tuple, or None for every element).

    Stable for any finite input: logsumexp([1e4, -1e4]) = 1e4 exactly.  Its gradient is
    ``softmax(x, axis)``.  A 0-d input is its own logsumexp (axis 0 or -1, as in PyTorch).
    """
    x = _as_input(x, "logsumexp")
    axis = _normalize_axis(axis, x.ndim, "logsumexp")
    return LogSumExp.apply(x, axis=axis, keepdims=bool(keepdims))


def log_softmax(x: Any, axis: int = -1) -> Value:
    """log softmax(x) = x - logsumexp(x) along ``axis``: log-probabilities, stable and
    accurate for any finite logits (log_softmax([1e4, -1e4]) = [0, -2e4]).

    Computed as s - logsumexp(s) with s = x - max(x), the maximum taken as a constant
    (log softmax does not change when a constant is subtracted, so neither does its
    gradient).  Written directly as x - logsumexp(x), the small part of logsumexp (at
    most log n) would be rounded to the spacing of floats at the size of x: for float32
    logits near 1e5 that is 0.008, and softmax would sum to 1.003.
    """
    x = _as_input(x, "log_softmax")
    axis = _normalize_axis(axis, x.ndim, "log_softmax")
    if x.ndim and x.size:  # (a 0-d x is its own logsumexp; an empty one has no maximum)
        top = np.max(x.data, axis=axis, keepdims=True)
        x = x - np.where(np.isfinite(top), top, 0).astype(x.dtype)  # inf, nan: unshifted
    return x - LogSumExp.apply(x, axis=axis, keepdims=True)


def softmax(x: Any, axis: int = -1) -> Value:
    """softmax(x)_i = exp(x_i) / Σ_j exp(x_j) along ``axis``, computed as
    exp(log_softmax(x)): positive, summing to 1, stable for any finite logits."""
    return log_softmax(x, axis).exp()


# ============================================================================ activations
# Compositions of the table's primitives, so every one has second derivatives.  Where the
# function is piecewise, ``where`` picks the piece and the other piece's inputs are kept
# finite, so that its (discarded) gradient is never inf * 0 = NaN.  At a kink, each takes
# the derivative PyTorch takes; the docstrings say which.


def _number(value: Any, fn: str, name: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        raise TypeError(f"{fn}: {name} must be a number, got {type(value).__name__} {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{fn}: {name} must be finite, got {value}")
    return value


def leaky_relu(x: Any, negative_slope: float = 0.01) -> Value:
    """x for x > 0, negative_slope · x otherwise; the derivative at 0 is negative_slope,
    as in PyTorch."""
    x = _as_input(x, "leaky_relu")
    slope = _number(negative_slope, "leaky_relu", "negative_slope")
    return where(x.data > 0, x, x * slope)


def elu(x: Any, alpha: float = 1.0) -> Value:
    """x for x > 0, alpha · (exp(x) - 1) otherwise; derivative alpha at 0 (PyTorch's)."""
    x = _as_input(x, "elu")
    alpha = _number(alpha, "elu", "alpha")
    negative = x.clip(max=0.0).expm1() * alpha  # clip: exp never sees a large x
    return where(x.data > 0, x, negative)


#: SELU's constants (Klambauer et al., 2017), as PyTorch has them.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def selu(x: Any) -> Value:
    """scale · elu(x, alpha) with the self-normalising constants SELU_SCALE, SELU_ALPHA."""
    return elu(_as_input(x, "selu"), SELU_ALPHA) * SELU_SCALE


def gelu(x: Any, approximate: str = "none") -> Value:
    """The Gaussian error linear unit x · Φ(x), Φ the standard normal CDF.

    ``approximate="none"``: Φ(x) = (1 + erf(x / √2)) / 2, exact.  ``"tanh"``: the
    approximation Φ(x) ≈ (1 + tanh(√(2/π) (x + 0.044715 x³))) / 2, as in PyTorch.
    """
    x = _as_input(x, "gelu")
    if approximate == "none":
        return x * ((x * (1.0 / np.sqrt(2.0))).erf() + 1.0) * 0.5
    if approximate == "tanh":
        inner = (x + x * x * x * 0.044715) * np.sqrt(2.0 / np.pi)
        return x * (inner.tanh() + 1.0) * 0.5
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def silu(x: Any) -> Value:
    """x · σ(x) (also called swish)."""
    x = _as_input(x, "silu")
    return x * x.sigmoid()


swish = silu


def softplus(x: Any, beta: float = 1.0, threshold: float = 20.0) -> Value:
    """log(1 + exp(beta · x)) / beta, computed as logaddexp(0, beta · x) / beta (no
    overflow); x itself where beta · x > threshold, as in PyTorch.  d/dx = σ(beta · x)."""
    x = _as_input(x, "softplus")
    beta = _number(beta, "softplus", "beta")
    threshold = _number(threshold, "softplus", "threshold")
    if beta == 0:
        raise ValueError("softplus: beta must be nonzero (it divides the result)")
    smooth = logaddexp(x * beta, 0.0) * (1.0 / beta)
    return where(x.data * beta > threshold, x, smooth)


def mish(x: Any) -> Value:
    """x · tanh(softplus(x))."""
    x = _as_input(x, "mish")
    return x * logaddexp(x, 0.0).tanh()


def hardtanh(x: Any, min_val: float = -1.0, max_val: float = 1.0) -> Value:
    """x limited to [min_val, max_val].  Unlike ``clip``, the derivative is 0 *at* the
    bounds too (PyTorch's hardtanh; its clamp passes the gradient there)."""
    x = _as_input(x, "hardtanh")
    low, high = _number(min_val, "hardtanh", "min_val"), _number(max_val, "hardtanh", "max_val")
    if low > high:
        raise ValueError(f"hardtanh: min_val {low} is larger than max_val {high}")
    inside = (x.data > low) & (x.data < high)
    return where(inside, x, Value(np.clip(x.data, low, high), requires_grad=False))


def relu6(x: Any) -> Value:
    """min(max(x, 0), 6): hardtanh(x, 0, 6)."""
    return hardtanh(_as_input(x, "relu6"), 0.0, 6.0)


def hardsigmoid(x: Any) -> Value:
    """relu6(x + 3) / 6: 0 below -3, 1 above 3, linear between (derivative 0 at ±3)."""
    return relu6(_as_input(x, "hardsigmoid") + 3.0) * (1.0 / 6.0)


def hardswish(x: Any) -> Value:
    """x · relu6(x + 3) / 6: 0 up to -3, x from 3 on, x (x + 3) / 6 between.  At x = -3
    and x = 3 the derivative is the outer piece's (0 and 1), as PyTorch 2 takes it."""
    x = _as_input(x, "hardswish")
    inner = hardtanh(x, -3.0, 3.0)  # x where the middle piece is used, finite elsewhere
    middle = inner * (inner + 3.0) * (1.0 / 6.0)
    upper = where(x.data < 3.0, middle, x)
    return where(x.data <= -3.0, Value(np.zeros_like(x.data), requires_grad=False), upper)


def softsign(x: Any) -> Value:
    """x / (1 + |x|)."""
    x = _as_input(x, "softsign")
    return x / (x.abs() + 1.0)


def logsigmoid(x: Any) -> Value:
    """log σ(x) = -softplus(-x), computed as -logaddexp(0, -x): finite for any x."""
    return -logaddexp(-_as_input(x, "logsigmoid"), 0.0)


# ============================================================================ classification


def _class_targets(targets: Any, n_classes: int, shape: tuple, fn: str) -> np.ndarray:
    """Targets as an integer array of ``shape`` with values in [0, n_classes), or a clear
    error that names the bad values and the number of classes."""
    data = data_of(targets)
    if type(data) is not np.ndarray:
        data = np.asarray(data)
    if data.dtype.kind not in "iuf":
        raise TypeError(
            f"{fn}: targets must be integer class indices, got an array of dtype {data.dtype}"
        )
    if data.shape != shape:
        if data.shape == shape + (n_classes,):
            raise ValueError(
                f"{fn}: targets have shape {data.shape}, which looks one-hot encoded; pass "
                f"class indices of shape {shape} instead, e.g. targets.argmax(axis=-1)"
            )
        raise ValueError(
            f"{fn}: logits for {shape[0] if shape else 1} example(s) need targets of shape "
            f"{shape}, got shape {data.shape}"
        )
    if data.dtype.kind == "f":
        bad = data[~np.isfinite(data) | (data != np.round(data))]
        if bad.size:
            raise ValueError(
                f"{fn}: targets must be integer class indices in 0..{n_classes - 1}, got "
                f"non-integer values {_show_values(bad)}"
            )
    data = data.astype(np.intp)  # a copy: backward never sees later edits of the caller's array
    # One pass finds both kinds of bad index: read as unsigned, a negative one is huge.
    if data.size and _maximum_reduce(data.view(np.uintp), axis=None) >= n_classes:
        bad = data[(data < 0) | (data >= n_classes)]
        raise ValueError(
            f"{fn}: targets {_show_values(bad)} are out of range for {n_classes} classes "
            f"(valid class indices are 0..{n_classes - 1})"
        )
    return data


def cross_entropy(
    logits: Any,
    targets: Any,
    reduction: str = "mean",
    weight: Any = None,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
) -> Value:
    """Softmax cross-entropy: mean over the batch of -log softmax(logits)[target].

    ``logits``: (n, C) scores (not probabilities), or (C,) for one example.
    ``targets``: either integer class indices, shape (n,) (a scalar for one example), each
    in 0..C-1 or equal to ``ignore_index`` (float arrays holding whole numbers are
    accepted); or class probabilities of the logits' own shape (soft labels).  Targets out
    of range or non-integer raise ValueError naming the bad values and C.

    As PyTorch's ``cross_entropy``:

    * ``weight`` (C,): loss_k = -w[t_k] log p_k[t_k]; the mean divides by Σ w[t_k] (over
      the examples not ignored), not by n.
    * ``ignore_index``: examples with this target add nothing, to the loss or its mean.
    * ``label_smoothing`` ε in [0, 1]: the target becomes (1 - ε) onehot + ε / C, i.e.
      loss = (1 - ε) nll + ε · mean over the classes of -w_c log p_c.
    * probability targets: loss_k = -Σ_c w_c y_kc log p_kc (smoothed likewise); the mean
      divides by n.

    Stable for any finite logits.  Without weight, smoothing or ignored targets it is one
    fused node whose gradient is (softmax(logits) - onehot(targets)) / n; otherwise it is
    composed from ``log_softmax``, so every form has second derivatives.
    """
    fn = "cross_entropy"
    _check_reduction(reduction, fn)
    logits = _as_input(logits, fn)
    shape = logits.shape
    if len(shape) not in (1, 2):
        raise ValueError(
            f"cross_entropy: logits must have shape (n, classes) or (classes,), got shape {shape}"
        )
    single = len(shape) == 1
    n_classes = shape[-1]
    if 0 in shape:
        raise ValueError(f"cross_entropy: logits of shape {shape} hold no scores")
    target_data = data_of(targets)
    soft = np.shape(target_data) == shape and np.asarray(target_data).dtype.kind == "f"
    if single:
        logits = logits.reshape(1, -1)
    n = logits.shape[0]
    index_shape = () if single else (n,)
    # The common case first, with nothing computed that it does not need (it runs once per
    # training step): no weights, no smoothing, and an ignore_index that cannot be a class.
    if (
        weight is None
        and not soft
        and type(label_smoothing) in (int, float)
        and label_smoothing == 0
        and type(ignore_index) is int
        and not 0 <= ignore_index < n_classes
    ):
        try:
            t = _class_targets(targets, n_classes, index_shape, fn)
        except ValueError:
            data = np.asarray(target_data)
            if not (data.dtype.kind in "iuf" and np.any(data == ignore_index)):
                raise
        else:  # (targets equal to ignore_index would have been out of range)
            out = CrossEntropy.apply(
                logits, targets=t.reshape(1) if single else t, reduction=reduction
            )
            return out.reshape(()) if single and reduction == "none" else out
    smoothing = _smoothing(label_smoothing)
    weights = _class_weights(weight, n_classes, logits.dtype)
    if soft:
        return _soft_cross_entropy(
            logits.reshape(shape), targets, reduction, weights, smoothing, single
        )
    ignore = _ignore_index(ignore_index)
    data = np.asarray(target_data)
    ignored = (data == ignore) if data.dtype.kind in "iuf" else np.zeros(data.shape, bool)
    t = _class_targets(np.where(ignored, 0, data), n_classes, index_shape, fn)
    t, kept = t.reshape(-1), ~ignored.reshape(-1)
    log_probs = log_softmax(logits, axis=1)
    per_class = np.ones(n_classes, logits.dtype) if weights is None else weights
    example_weights = (per_class[t] * kept).astype(logits.dtype)
    nll = -log_probs[np.arange(n), t] * example_weights
    smooth = None
    if smoothing:
        smooth = -(log_probs * per_class).sum(axis=1) * kept.astype(logits.dtype)
    if reduction == "none":
        loss = nll if smooth is None else nll * (1 - smoothing) + smooth * (smoothing / n_classes)
        return loss.reshape(()) if single else loss
    total = nll.sum() if smooth is None else nll.sum() * (1 - smoothing)
    if smooth is not None:
        total = total + smooth.sum() * (smoothing / n_classes)
    if reduction == "sum":
        return total
    with np.errstate(divide="ignore", invalid="ignore"):  # every example ignored: NaN
        return total * (np.float64(1.0) / example_weights.sum()).astype(logits.dtype)


def _soft_cross_entropy(
    logits: Value, targets: Any, reduction: str, weights: Any, smoothing: float, single: bool
) -> Value:
    """Cross-entropy against class probabilities (targets of the logits' shape)."""
    targets = _as_target(targets, logits, "cross_entropy")
    if not np.all(np.isfinite(targets.data)):
        raise ValueError("cross_entropy: probability targets must be finite")
    n_classes = logits.shape[-1]
    if smoothing:
        targets = targets * (1 - smoothing) + smoothing / n_classes
    log_probs = log_softmax(logits, axis=-1)
    if weights is not None:
        log_probs = log_probs * weights
    losses = -(log_probs * targets).sum(axis=-1)
    if reduction == "mean" and not single:
        return losses.mean()
    return _reduce(losses, "sum" if reduction == "mean" else reduction)


def _smoothing(value: Any) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        raise TypeError(f"cross_entropy: label_smoothing must be a number, got {value!r}")
    if not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {value}")
    return float(value)


def _ignore_index(value: Any) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"cross_entropy: ignore_index must be an integer, got {value!r}")
    return int(value)


def _class_weights(weight: Any, n_classes: int, dtype: np.dtype) -> np.ndarray | None:
    """The class weights as a constant array of shape (C,), or None."""
    if weight is None:
        return None
    data = np.asarray(data_of(weight))
    if data.dtype.kind not in "iuf":
        raise TypeError(f"cross_entropy: weight must be numbers, got dtype {data.dtype}")
    if data.shape != (n_classes,):
        raise ValueError(
            f"cross_entropy: weight must have one entry per class, shape ({n_classes},), "
            f"got shape {data.shape}"
        )
    if not np.all(np.isfinite(data)) or np.any(data < 0):
        raise ValueError(
            f"cross_entropy: weights must be finite and >= 0, got {_show_values(data)}"
        )
    return data.astype(dtype)


def nll_loss(log_probs: Any, targets: Any, reduction: str = "mean") -> Value:
    """Negative log-likelihood of log-probabilities (n, C): mean of -log_probs[k, t_k].

    ``cross_entropy(z, t)`` equals ``nll_loss(log_softmax(z, axis=1), t)``; this unfused
    version shows the two steps separately in the graph.
    """
    _check_reduction(reduction, "nll_loss")
    log_probs = _as_input(log_probs, "nll_loss")
    if log_probs.ndim != 2:
        raise ValueError(f"nll_loss: log_probs must have shape (n, classes), got {log_probs.shape}")
    n, n_classes = log_probs.shape
    t = _class_targets(targets, n_classes, (n,), "nll_loss")
    return _reduce(-log_probs[np.arange(n), t], reduction)


def binary_cross_entropy_with_logits(
    logits: Any,
    targets: Any,
    reduction: str = "mean",
    weight: Any = None,
    pos_weight: Any = None,
) -> Value:
    """Binary cross-entropy of logits z against targets y in [0, 1]:
    mean of -[y log σ(z) + (1 - y) log(1 - σ(z))].

    Takes logits (raw scores), not probabilities; stable for any finite logits.  Shapes
    must match.  Targets outside [0, 1] raise ValueError (for labels in {-1, +1}, use
    ``hinge_loss`` or convert with (y + 1) / 2).  Gradient w.r.t. z: (σ(z) - y) / n.

    As PyTorch's: ``weight`` (broadcast to the loss) multiplies each element's loss;
    ``pos_weight`` (broadcast along the last axis, one per class) multiplies the positive
    term: -[pos_weight · y log σ(z) + (1 - y) log(1 - σ(z))].  With either, the loss is
    composed as pos_weight · y · softplus(-z) + (1 - y) · softplus(z), softplus through
    ``logaddexp`` (stable, and smooth at z = 0).
    """
    fn = "binary_cross_entropy_with_logits"
    _check_reduction(reduction, fn)
    logits, targets = _with_target(logits, targets, fn)
    _check_unit_interval(targets.data, fn, "targets")
    if weight is None and pos_weight is None:
        return _reduce(BinaryCrossEntropyWithLogits.apply(logits, targets), reduction)
    negative = (1.0 - targets) * logaddexp(logits, 0.0)  # -(1 - y) log(1 - σ(z))
    positive = targets * logaddexp(-logits, 0.0)  # -y log σ(z)
    if pos_weight is not None:
        positive = positive * _loss_weight(pos_weight, logits, fn, "pos_weight")
    loss = positive + negative
    if weight is not None:
        loss = loss * _loss_weight(weight, logits, fn, "weight")
    return _reduce(loss, reduction)


def binary_cross_entropy(
    input: Any, target: Any, reduction: str = "mean", weight: Any = None
) -> Value:
    """Binary cross-entropy of probabilities p in [0, 1] against targets y in [0, 1]:
    mean of -w [y log p + (1 - y) log(1 - p)].

    Each log is clamped at -100, as PyTorch does, so p = 0 or 1 gives a finite loss.
    Where minigrad differs from PyTorch on purpose: the gradient is that of the clamped
    formula (0 where a log is clamped, -y/p and (1 - y)/(1 - p) elsewhere), while
    PyTorch's backward divides by max(p (1 - p), 1e-12); they agree for 1e-12 < p < 1 -
    1e-12.  Prefer ``binary_cross_entropy_with_logits`` on logits: it never saturates.
    """
    fn = "binary_cross_entropy"
    _check_reduction(reduction, fn)
    input, target = _with_target(input, target, fn)
    _check_unit_interval(input.data, fn, "input (probabilities)")
    _check_unit_interval(target.data, fn, "targets")
    log_p, log_not_p = _clamped_log(input), _clamped_log(1.0 - input)
    loss = -(target * log_p + (1.0 - target) * log_not_p)
    if weight is not None:
        loss = loss * _loss_weight(weight, input, fn, "weight")
    return _reduce(loss, reduction)


def _clamped_log(x: Value) -> Value:
    """max(log x, -100), with slope 0 where clamped (and no 1/0 at x = 0 on the way)."""
    positive = np.asarray(x.data) > 0
    logs = where(positive, x, 1.0).log().clip(min=-100.0)
    return where(positive, logs, -100.0)


def _check_unit_interval(data: Any, fn: str, what: str) -> None:
    values = np.asarray(data)
    bad = values[~((values >= 0) & (values <= 1))]
    if bad.size:
        hint = " (class 1 probability)" if what == "targets" else ""
        raise ValueError(f"{fn}: {what} must lie in [0, 1]{hint}, got {_show_values(bad)}")


def _loss_weight(weight: Any, like: Value, fn: str, name: str) -> Value:
    """A weight as a constant of the input's dtype, which must broadcast to its shape."""
    data = np.asarray(data_of(weight))
    if data.dtype.kind not in "iuf":
        raise TypeError(f"{fn}: {name} must be numbers, got dtype {data.dtype}")
    try:
        fits = np.broadcast_shapes(data.shape, like.shape) == like.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(
            f"{fn}: {name} of shape {data.shape} does not broadcast to the input's shape "
            f"{like.shape}"
        )
    if isinstance(weight, Value):
        return weight
    return Value(data.astype(like.dtype), requires_grad=False)


def hinge_loss(scores: Any, targets: Any, margin: float = 1.0, reduction: str = "mean") -> Value:
    """The SVM hinge loss of the micrograd demo: mean(relu(margin - y · score)).

    ``targets`` must be -1 or +1 (ValueError otherwise, naming the bad values); shapes
    must match.  Zero loss once every example is on the right side by ``margin``.
    """
    fn = "hinge_loss"
    _check_reduction(reduction, fn)
    scores, targets = _with_target(scores, targets, fn)
    y = np.asarray(targets.data)
    bad = y[(y != 1) & (y != -1)]
    if bad.size:
        raise ValueError(
            f"{fn}: targets must be -1 or +1, got {_show_values(bad)}"
            + ("; for 0/1 labels use 2 * y - 1" if np.all((y == 0) | (y == 1)) else "")
        )
    return _reduce((margin - scores * targets).relu(), reduction)


# ============================================================================ regression


def mse_loss(input: Any, target: Any, reduction: str = "mean") -> Value:
    """Mean squared error: mean((input - target)²).  Shapes must match.

    Gradient w.r.t. input: 2 (input - target) / n.  Built from primitives, so it can be
    differentiated any number of times (the curvature helper relies on that).
    """
    _check_reduction(reduction, "mse_loss")
    input, target = _with_target(input, target, "mse_loss")
    diff = input - target
    return _reduce(diff * diff, reduction)


def l1_loss(input: Any, target: Any, reduction: str = "mean") -> Value:
    """Mean absolute error: mean(|input - target|).  Shapes must match.

    Gradient w.r.t. input: sign(input - target) / n (0 where they are equal).
    """
    _check_reduction(reduction, "l1_loss")
    input, target = _with_target(input, target, "l1_loss")
    return _reduce((input - target).abs(), reduction)


def huber_loss(input: Any, target: Any, reduction: str = "mean", delta: float = 1.0) -> Value:
    """Huber loss of d = input - target: d²/2 where |d| < delta, delta (|d| - delta/2)
    elsewhere: quadratic near 0, linear (robust to outliers) beyond delta.  Shapes must
    match.  Its derivative, clip(d, -delta, delta), is continuous."""
    fn = "huber_loss"
    _check_reduction(reduction, fn)
    delta = _positive(delta, fn, "delta")
    input, target = _with_target(input, target, fn)
    diff = input - target
    size = diff.abs()
    near = hardtanh(diff, -delta, delta)  # d where the square is used, finite elsewhere
    loss = where(size.data < delta, near * near * 0.5, (size - 0.5 * delta) * delta)
    return _reduce(loss, reduction)


def smooth_l1_loss(input: Any, target: Any, reduction: str = "mean", beta: float = 1.0) -> Value:
    """Smooth L1: huber_loss(input, target, delta=beta) / beta, i.e. d²/(2 beta) where
    |d| < beta, |d| - beta/2 elsewhere; beta = 0 is the L1 loss.  Shapes must match."""
    fn = "smooth_l1_loss"
    _check_reduction(reduction, fn)
    if beta == 0:
        return l1_loss(input, target, reduction)
    beta = _positive(beta, fn, "beta")
    return huber_loss(input, target, reduction, beta) * (1.0 / beta)


def kl_div(input: Any, target: Any, reduction: str = "mean", log_target: bool = False) -> Value:
    """Kullback-Leibler divergence KL(target || model) with the model given as
    log-probabilities ``input`` (as PyTorch's ``kl_div``): elementwise
    target · (log target - input), 0 where target = 0.

    ``log_target=True``: target is given as log-probabilities too.  ``reduction``:
    "mean" (over every element, PyTorch's default), "batchmean" (the sum divided by the
    batch size: the true KL divergence per example), "sum" or "none".

    Where a target is exactly 0 its term is 0 and the gradient w.r.t. ``input`` there is 0,
    as in PyTorch.  The gradient w.r.t. such a *target* is not defined (d(t log t)/dt → -inf
    as t → 0): minigrad gives that of the remaining term, -input; PyTorch gives NaN.
    """
    fn = "kl_div"
    if reduction not in _REDUCTIONS + ("batchmean",):
        raise ValueError(
            f"{fn}: reduction must be 'mean', 'batchmean', 'sum' or 'none', got {reduction!r}"
        )
    input, target = _with_target(input, target, fn)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        if np.any(np.asarray(target.data) < 0):
            raise ValueError(
                f"{fn}: targets are probabilities and must be >= 0 (or pass log_target=True)"
            )
        positive = np.asarray(target.data) > 0
        safe = where(positive, target, 1.0)  # log 1 = 0 where target = 0: 0 · log 0 = 0
        loss = target * (safe.log() - input)
    if reduction == "batchmean":
        return loss.sum() * (1.0 / (input.shape[0] if input.ndim else 1))
    return _reduce(loss, reduction)


def cosine_similarity(x1: Any, x2: Any, axis: int = 1, eps: float = 1e-8) -> Value:
    """(x1 · x2) / (max(‖x1‖, eps) · max(‖x2‖, eps)) along ``axis`` (broadcasting), as
    PyTorch's: in [-1, 1]; eps keeps a zero vector from dividing by zero."""
    fn = "cosine_similarity"
    x1, x2 = _as_input(x1, fn), _as_input(x2, fn)
    eps = _positive(eps, fn, "eps")
    try:
        shape = np.broadcast_shapes(x1.shape, x2.shape)
    except ValueError:
        raise ValueError(f"{fn}: shapes {x1.shape} and {x2.shape} do not broadcast") from None
    axis = _normalize_axis(axis, len(shape), fn)
    # Broadcast first: the norm of x2 is taken along the axis of the broadcast shape, which
    # x2 may have with length 1 (its one vector, repeated) or not at all.
    x1, x2 = broadcast_to(x1, shape), broadcast_to(x2, shape)
    n1 = x1.norm(axis=axis, keepdims=True).clip(min=eps)
    n2 = x2.norm(axis=axis, keepdims=True).clip(min=eps)
    return ((x1 / n1) * (x2 / n2)).sum(axis=axis)


def _positive(value: Any, fn: str, name: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        raise TypeError(f"{fn}: {name} must be a number, got {value!r}")
    if not float(value) > 0 or not np.isfinite(value):
        raise ValueError(f"{fn}: {name} must be a positive number, got {value}")
    return float(value)


# ============================================================================ regularisation


def dropout(x: Any, p: float, rng: Any = None, training: bool = True) -> Value:
    """Inverted dropout: each element is zeroed with probability ``p`` and the survivors
    are scaled by 1 / (1 - p), so the expected value is unchanged.

    Identity when ``training`` is False or p == 0.  ``rng`` is a seed or a
    ``numpy.random.Generator``.  p outside [0, 1) raises ValueError.
    """
    from minigrad.nn.init import make_rng

    p = _check_probability(p)
    x = _as_input(x, "dropout")
    if not training or p == 0.0:
        return x
    gen = make_rng(rng)
    dtype = x.dtype
    keep = np.asarray(gen.random(x.shape, dtype=np.float32 if dtype == np.float32 else np.float64))
    mask = (keep >= p).astype(dtype) * dtype.type(1.0 / (1.0 - p))
    return x * Value(mask, requires_grad=False)


def _check_probability(p: Any) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)):
        raise TypeError(f"dropout probability p must be a number, got {type(p).__name__}")
    p = float(p)
    if not 0.0 <= p < 1.0:
        raise ValueError(
            f"dropout probability p must be in [0, 1), got {p} (p is the fraction of "
            "units dropped; p = 1 would drop everything)"
        )
    return p


# ============================================================================ images
# Convolution and pooling live in their own file; they are part of this namespace.

from minigrad.nn.convolution import (  # noqa: E402
    adaptive_avg_pool2d,
    avg_pool2d,
    conv1d,
    conv2d,
    conv_transpose2d,
    fold,
    max_pool2d,
    unfold,
)

# convolution.py's __all__ again, spelled out so that ruff and readers see the names this
# namespace exports (``__all__ += convolution.__all__`` would hide them from both).
__all__ += [
    "conv2d",
    "conv1d",
    "conv_transpose2d",
    "unfold",
    "fold",
    "max_pool2d",
    "avg_pool2d",
    "adaptive_avg_pool2d",
]
