"""Custom Functions the tests share: one correct rule, one with the classic slip, and a
smooth one written with numpy (first derivatives only)."""

from __future__ import annotations

import numpy as np

from minigrad import Function


class Square(Function):
    """x^2 with a backward written by hand; complex-friendly forward."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 2 * grad * x


class HalfSquare(Square):
    """The classic slip: forgets the 2 of d(x^2)/dx."""

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x


class Softplus(Function):
    """softplus(x) = log(1 + exp(x)); its derivative is sigmoid(x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.logaddexp(0.0, x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (1.0 + np.exp(-x))


class DoubleEditingGrad(Function):
    """2x, with a backward that edits its incoming gradient in place (the bug)."""

    @staticmethod
    def forward(ctx, x):
        return 2 * x

    @staticmethod
    def backward(ctx, grad):
        grad *= 2
        return grad
