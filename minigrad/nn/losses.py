"""Loss modules: each holds its settings and calls the function of ``nn.functional``
with them, as PyTorch's ``nn.CrossEntropyLoss`` and friends do.

``loss = nn.CrossEntropyLoss(label_smoothing=0.1); loss(logits, targets)`` is
``functional.cross_entropy(logits, targets, label_smoothing=0.1)``.  Settings are checked
when the module is made (one call on a tiny input), so a typo fails at construction.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.nn import functional as F
from minigrad.nn.layers import _Functional
from minigrad.value import data_of

__all__ = [
    "MSELoss",
    "L1Loss",
    "CrossEntropyLoss",
    "BCELoss",
    "BCEWithLogitsLoss",
    "HuberLoss",
    "SmoothL1Loss",
    "KLDivLoss",
    "CosineSimilarity",
]


class _Loss(_Functional):
    # Each loss below names its function and spells out its settings, as PyTorch's do; so
    # do the activations of layers.py: the classes are alike by design, the work is shared.

    #: a small (input, target) pair the settings are tried on when the module is made
    example: tuple = (np.zeros((2, 3)), np.zeros((2, 3)))


class MSELoss(_Loss):
    """``functional.mse_loss``: mean((input - target)²)."""

    function = staticmethod(F.mse_loss)

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)


class L1Loss(_Loss):
    """``functional.l1_loss``: mean(|input - target|)."""

    function = staticmethod(F.l1_loss)

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)


class CrossEntropyLoss(_Loss):
    """``functional.cross_entropy`` with class weights, ignored index and smoothing."""

    function = staticmethod(F.cross_entropy)

    def __init__(
        self,
        weight: Any = None,
        ignore_index: int = -100,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        n = (
            2
            if weight is None
            else len(np.asarray(data_of(weight)))
        )
        self.example = (np.zeros((1, n)), np.zeros(1, dtype=int))
        super().__init__(
            reduction=reduction,
            weight=weight,
            ignore_index=ignore_index,
            label_smoothing=label_smoothing,
        )


class BCELoss(_Loss):
    """``functional.binary_cross_entropy`` on probabilities."""

    function = staticmethod(F.binary_cross_entropy)

    def __init__(self, weight: Any = None, reduction: str = "mean") -> None:
        shape = np.shape(_data_or_zero(weight))
        self.example = (np.full(shape, 0.5), np.zeros(shape))
        super().__init__(reduction=reduction, weight=weight)


class BCEWithLogitsLoss(_Loss):
    """``functional.binary_cross_entropy_with_logits``, with weight and pos_weight."""

    function = staticmethod(F.binary_cross_entropy_with_logits)

    def __init__(self, weight: Any = None, reduction: str = "mean", pos_weight: Any = None) -> None:
        shape = np.broadcast_shapes(
            np.shape(_data_or_zero(weight)), np.shape(_data_or_zero(pos_weight))
        )
        self.example = (np.zeros(shape), np.zeros(shape))
        super().__init__(reduction=reduction, weight=weight, pos_weight=pos_weight)


class HuberLoss(_Loss):
    """``functional.huber_loss``: quadratic below delta, linear beyond."""

    function = staticmethod(F.huber_loss)

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction=reduction, delta=delta)


class SmoothL1Loss(_Loss):
    """``functional.smooth_l1_loss``: huber / beta."""

    function = staticmethod(F.smooth_l1_loss)

    def __init__(self, reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__(reduction=reduction, beta=beta)


class KLDivLoss(_Loss):
    """``functional.kl_div``: input log-probabilities, target probabilities."""

    function = staticmethod(F.kl_div)

    def __init__(self, reduction: str = "mean", log_target: bool = False) -> None:
        super().__init__(reduction=reduction, log_target=log_target)


class CosineSimilarity(_Loss):
    """``functional.cosine_similarity`` along ``axis`` (not a loss: a similarity)."""

    function = staticmethod(F.cosine_similarity)

    def __init__(self, axis: int = 1, eps: float = 1e-8) -> None:
        self.example = (np.ones((2, 3)), np.ones((2, 3)))
        super().__init__(axis=axis, eps=eps)


def _data_or_zero(x: Any) -> Any:
    return 0.0 if x is None else data_of(x)
