"""The bug zoo: custom operations with realistic backward bugs, and correct operations
that are hard to check, each with what the checker must say about it.

Every entry is a ``Case``: a function of Values built from one or two custom Functions,
its inputs, and the expected outcome at the defaults:

* ``verdict``: "fail" (the bug is caught), "pass", or "undecided" (the checker says it
  cannot decide, and why);
* ``flagged``: the (input, element) pairs that must fail (bugs) or the elements excused
  as non-differentiable (correct operations with kinks);
* ``sweep``: the class ``report.sweep()`` gives;
* ``culprit``: the operation ``report.localize()`` names first (None: none, because the
  operation is right).

tests/test_gradcheck_zoo.py runs them.  The Functions are written the way people write
them (numpy in forward and backward, ``ctx.save_for_backward``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from minigrad import Function, Value
from tests.custom_ops import (
    HalfSquare,  # x^2 whose backward misses the 2 of 2x
    Square,  # x^2: the wrong backwards below keep its forward
)

# ============================================================================ bugs


class TanhSignSlip(Function):
    @staticmethod
    def forward(ctx, x):
        out = np.tanh(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return -grad * (1 - out**2)  # sign slip


class MatMulTransposed(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a @ b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return grad @ b, a.T @ grad  # should be grad @ b.T


class SumRowsWrongAxis(Function):
    """Sum over axis 0 of a square matrix; backward spreads grad along the wrong axis."""

    @staticmethod
    def forward(ctx, x):
        return x.sum(axis=0)

    @staticmethod
    def backward(ctx, grad):
        n = grad.shape[0]
        return np.broadcast_to(grad[:, None], (n, n)).copy()  # should be grad[None, :]


class SoftmaxDiagonalOnly(Function):
    @staticmethod
    def forward(ctx, x):
        e = np.exp(x - x.max())
        s = e / e.sum()
        ctx.save_for_backward(s)
        return s

    @staticmethod
    def backward(ctx, grad):
        (s,) = ctx.saved_tensors
        return grad * s * (1 - s)  # the Jacobian's diagonal only


class ExpSaved(Function):
    """exp x, saving its output, which the next operation then changes in place."""

    @staticmethod
    def forward(ctx, x):
        out = np.exp(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out


class AddOneInPlace(Function):
    """y + 1, computed in place on its input's data: it mutates what ExpSaved saved."""

    @staticmethod
    def forward(ctx, y):
        y += 1.0
        return y

    @staticmethod
    def backward(ctx, grad):
        return grad


class CachedSquare(Function):
    """x^2 whose backward reads x from a cache on the class: stale for all but the last
    node made with it."""

    cache: dict = {}

    @staticmethod
    def forward(ctx, x):
        CachedSquare.cache["x"] = x
        return x * x

    @staticmethod
    def backward(ctx, grad):
        return 2 * grad * CachedSquare.cache["x"]


class LeakyReluWrongSlope(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.where(x > 0, x, 0.01 * x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * np.where(x > 0, 1.0, 0.1)  # forward's slope is 0.01


class ScaleLastColumnWrong(Function):
    """x * 3 whose backward treats the last column differently."""

    @staticmethod
    def forward(ctx, x):
        return 3.0 * x

    @staticmethod
    def backward(ctx, grad):
        out = 3.0 * grad
        out[..., -1] = grad[..., -1]  # forgot the factor in the last column
        return out


class SquarePlusTinyConstant(Square):
    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (2 * x + 1e-4)  # a tiny constant slipped in


class PowerOfTwoRoundedLn2(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.exp2(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * np.exp2(x) * 0.6931  # ln 2 rounded: 7e-5 relative


class SquareForgotGrad(Square):
    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 2 * x  # the local derivative, not multiplied by grad


class BiasMeanInsteadOfSum(Function):
    """x + b for x (n, k) and b (k,); backward averages b's gradient instead of summing."""

    @staticmethod
    def forward(ctx, x, b):
        return x + b

    @staticmethod
    def backward(ctx, grad):
        return grad, grad.mean(axis=0)


class SigmoidFromInput(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return 1 / (1 + np.exp(-x))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x * (1 - x)  # should use the output s(x)


class ExpTimesInput(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.exp(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x  # should be grad * exp(x)


class DivideQuotientSign(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a / b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return grad / b, grad * a / b**2  # d(a/b)/db = -a/b^2


class MulSwapped(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return grad * a, grad * b  # swapped


class CubeWrongPower(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x  # should be 3 x^2


class MeanForgotDivide(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.in_shape = x.shape
        return x.mean()

    @staticmethod
    def backward(ctx, grad):
        return np.full(ctx.in_shape, grad)  # forgot the 1/n


class NormSquaredDenominator(Function):
    @staticmethod
    def forward(ctx, x):
        norm = np.sqrt((x * x).sum())
        ctx.save_for_backward(x, norm)
        return norm

    @staticmethod
    def backward(ctx, grad):
        x, norm = ctx.saved_tensors
        return grad * x / norm**2  # should be x / norm


class TanhFromInput(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.tanh(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (1 - x**2)  # should be 1 - tanh(x)^2


class SoftplusSignSlip(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.logaddexp(0.0, x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (1 + np.exp(x))  # should be exp(-x)


class ClipPassesEverything(Function):
    @staticmethod
    def forward(ctx, x):
        return np.clip(x, -1.0, 1.0)

    @staticmethod
    def backward(ctx, grad):
        return grad  # should be 0 where x was clipped


class AbsForgotSign(Function):
    @staticmethod
    def forward(ctx, x):
        return np.abs(x)

    @staticmethod
    def backward(ctx, grad):
        return grad  # should be grad * sign(x)


class LogSafeEpsilon(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (x + 1e-7)  # 1.3% off at x = 1e-5, invisible elsewhere


class MatMulRightForgotTranspose(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a @ b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return grad @ b.T, a @ grad  # should be a.T @ grad


# ============================================================================ correct, hard


class TanhFloat32Inside(Function):
    """tanh computed in float32: the function's values carry only ~7 digits."""

    @staticmethod
    def forward(ctx, x):
        out = np.tanh(np.asarray(x, dtype=np.float32)).astype(np.float64)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * (1 - out**2)


class Relu(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.maximum(x, 0.0)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (x > 0)


class SteepExp(Function):
    @staticmethod
    def forward(ctx, x):
        out = np.exp(12.0 * x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * 12.0 * out


class Log(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / x


class Sqrt(Function):
    @staticmethod
    def forward(ctx, x):
        out = np.sqrt(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad / (2 * out)


class Reciprocal(Function):
    @staticmethod
    def forward(ctx, x):
        out = 1.0 / x
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return -grad * out**2


class Abs(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.abs(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * np.sign(x)


class SquarePlusHuge(Function):
    """x^2 + 1e8: right, but f(x+eps) and f(x-eps) share 14 digits."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x + 1e8

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 2 * grad * x


class Softmax(Function):
    @staticmethod
    def forward(ctx, x):
        e = np.exp(x - x.max())
        s = e / e.sum()
        ctx.save_for_backward(s)
        return s

    @staticmethod
    def backward(ctx, grad):
        (s,) = ctx.saved_tensors
        return s * (grad - (grad * s).sum())


# ============================================================================ the table


@dataclass
class Case:
    name: str
    fn: Callable[..., Value]
    inputs: Callable[[], tuple]
    verdict: str  # "fail", "pass" or "undecided"
    flagged: set  # {(input name, element)}: failing rows, or kink rows of a correct op
    sweep: str | tuple  # the sweep's verdict (a tuple: any of these)
    culprit: str | None  # the op localize names first

    def __repr__(self) -> str:
        return self.name


def values(**arrays) -> Callable[[], tuple]:
    """Fresh input Values, named, for each run."""
    return lambda: tuple(Value(np.array(a, dtype=np.float64), name=n) for n, a in arrays.items())


C = np.array([1.3, -0.7, 0.4])  # a fixed, unremarkable output weighting
M = np.array([[0.9, -0.3, 0.5], [0.2, 0.8, -1.1], [-0.4, 0.6, 0.7]])
X3 = [0.5, -1.2, 2.0]
ALL3 = {("x", (0,)), ("x", (1,)), ("x", (2,))}


def every(name: str, shape: tuple) -> set:
    return {(name, tuple(int(i) for i in k)) for k in np.ndindex(*shape)}


BUGS = [
    Case("tanh sign slip", lambda x: (TanhSignSlip.apply(x) * C).sum(), values(x=X3),
         "fail", ALL3, "bug", "TanhSignSlip"),
    Case("x^2 missing 2", lambda x: (HalfSquare.apply(x) * C).sum(), values(x=X3),
         "fail", ALL3, "bug", "HalfSquare"),
    Case("matmul transposed", lambda a, b: (MatMulTransposed.apply(a, b) * M).sum(),
         values(a=M.T * 1.7 + 0.1, b=M * 0.6 - 0.2), "fail", every("a", (3, 3)), "bug",
         "MatMulTransposed"),
    Case("sum wrong axis", lambda x: (SumRowsWrongAxis.apply(x) * C).sum(),
         values(x=M), "fail", every("x", (3, 3)) - {("x", (k, k)) for k in range(3)}, "bug",
         "SumRowsWrongAxis"),
    Case("softmax diagonal only", lambda x: (SoftmaxDiagonalOnly.apply(x) * C).sum(),
         values(x=X3), "fail", ALL3, "bug", "SoftmaxDiagonalOnly"),
    Case("saved output mutated", lambda x: (AddOneInPlace.apply(ExpSaved.apply(x)) * C).sum(),
         values(x=X3), "fail", ALL3, "bug", None),
    Case("stale cache", lambda x: ((CachedSquare.apply(x) + CachedSquare.apply(x * 3.0)) * C).sum(),
         values(x=X3), "fail", ALL3, "bug", "CachedSquare"),
    Case("leaky relu wrong slope", lambda x: (LeakyReluWrongSlope.apply(x) * C).sum(),
         values(x=X3), "fail", {("x", (1,))}, "bug", "LeakyReluWrongSlope"),
    Case("last column wrong", lambda x: (ScaleLastColumnWrong.apply(x) * M).sum(),
         values(x=M + 0.3), "fail", {("x", (k, 2)) for k in range(3)}, "bug",
         "ScaleLastColumnWrong"),
    Case("tiny constant", lambda x: (SquarePlusTinyConstant.apply(x) * C).sum(),
         values(x=X3), "fail", ALL3, "bug", "SquarePlusTinyConstant"),
    Case("ln 2 rounded", lambda x: (PowerOfTwoRoundedLn2.apply(x) * C).sum(),
         values(x=[0.3, -1.2, 2.5]), "fail", ALL3, "bug", "PowerOfTwoRoundedLn2"),
    Case("grad forgotten", lambda x: (SquareForgotGrad.apply(x) * C).sum(),
         values(x=X3), "fail", ALL3, "bug", "SquareForgotGrad"),
    Case("bias mean not sum", lambda x, b: (BiasMeanInsteadOfSum.apply(x, b) * M).sum(),
         values(x=M * 0.5, b=[0.1, -0.2, 0.3]), "fail", every("b", (3,)), "bug",
         "BiasMeanInsteadOfSum"),
    Case("sigmoid from input", lambda x: (SigmoidFromInput.apply(x) * C).sum(),
         values(x=X3), "fail", ALL3, "bug", "SigmoidFromInput"),
    Case("exp times input", lambda x: (ExpTimesInput.apply(x) * C).sum(),
         values(x=X3), "fail", ALL3, "bug", "ExpTimesInput"),
    Case("quotient sign", lambda a, b: (DivideQuotientSign.apply(a, b) * C).sum(),
         values(a=X3, b=[1.5, 0.8, -2.5]), "fail", every("b", (3,)), "bug",
         "DivideQuotientSign"),
    Case("mul swapped", lambda a, b: (MulSwapped.apply(a, b) * C).sum(),
         values(a=X3, b=[1.5, 0.8, -2.5]), "fail", every("a", (3,)) | every("b", (3,)), "bug",
         "MulSwapped"),
    Case("cube wrong power", lambda x: (CubeWrongPower.apply(x) * C).sum(),
         values(x=X3), "fail", ALL3, "bug", "CubeWrongPower"),
    Case("mean forgot 1/n", lambda x: MeanForgotDivide.apply(x * 1.0) * 2.0,
         values(x=M), "fail", every("x", (3, 3)), "bug", "MeanForgotDivide"),
    Case("norm squared", lambda x: NormSquaredDenominator.apply(x * 1.0) * 1.5,
         values(x=X3), "fail", ALL3, "bug", "NormSquaredDenominator"),
    Case("tanh from input", lambda x: (TanhFromInput.apply(x) * C).sum(),
         values(x=X3), "fail", ALL3, "bug", "TanhFromInput"),
    Case("softplus sign slip", lambda x: (SoftplusSignSlip.apply(x) * C).sum(),
         values(x=X3), "fail", ALL3, "bug", "SoftplusSignSlip"),
    Case("clip passes everything", lambda x: (ClipPassesEverything.apply(x) * C).sum(),
         values(x=X3), "fail", {("x", (1,)), ("x", (2,))}, "bug", "ClipPassesEverything"),
    Case("abs forgot sign", lambda x: (AbsForgotSign.apply(x) * C).sum(),
         values(x=X3), "fail", {("x", (1,))}, "bug", "AbsForgotSign"),
    Case("log safe epsilon near 0", lambda x: (LogSafeEpsilon.apply(x) * C).sum(),
         values(x=[1e-5, 0.5, 2.0]), "fail", {("x", (0,))}, "bug", "LogSafeEpsilon"),
    Case("matmul right forgot transpose",
         lambda a, b: (MatMulRightForgotTranspose.apply(a, b) * M).sum(),
         values(a=M.T * 1.7 + 0.1, b=M * 0.6 - 0.2), "fail", every("b", (3, 3)), "bug",
         "MatMulRightForgotTranspose"),
]  # fmt: skip

HARD = [
    # float32 noise (~5e-8 |f| / eps) is above the 1e-4 a check needs at every eps that
    # is small enough for truncation: the checker says it cannot decide, never "wrong"
    Case("float32 inside", lambda x: (TanhFloat32Inside.apply(x) * C).sum(), values(x=X3),
         "undecided", ALL3, "cannot decide", None),
    Case("relu at its kink", lambda x: (Relu.apply(x * 1.5) * C).sum(), values(x=[0.0, 1.0, -1.0]),
         "pass", {("x", (0,))}, ("ok", "round-off", "truncation", "round-off and truncation"),
         None),
    Case("steep exponential", lambda x: (SteepExp.apply(x) * C).sum(), values(x=[0.9, -0.5, 1.4]),
         "pass", set(), ("truncation", "round-off and truncation"), None),
    Case("log near 0", lambda x: (Log.apply(x) * C).sum(), values(x=[1e-5, 0.5, 2.0]),
         "pass", set(), ("truncation", "round-off and truncation"), None),
    Case("sqrt near 0", lambda x: (Sqrt.apply(x) * C).sum(),
         values(x=[1e-6, 0.3, 4.0]),
         "pass", set(), ("truncation", "round-off and truncation"), None),
    Case("reciprocal near 0", lambda x: (Reciprocal.apply(x) * C).sum(),
         values(x=[1e-4, -0.3, 2.0]),
         "pass", set(), ("truncation", "round-off and truncation"), None),
    Case("abs at 0", lambda x: (Abs.apply(x) * C).sum(), values(x=[0.0, -0.6, 1.1]),
         "pass", set(), ("ok", "round-off", "round-off and truncation"), None),
    Case("huge constant term", lambda x: (SquarePlusHuge.apply(x) * C).sum(), values(x=X3),
         "pass", set(), ("round-off", "round-off and truncation"), None),
    Case("softmax, large logits", lambda x: (Softmax.apply(x) * C).sum(),
         values(x=[30.0, 28.5, 31.2]), "pass", set(), ("ok", "round-off", "truncation",
         "round-off and truncation"), None),
]  # fmt: skip
