"""The list of operations the generated tests check.  A new primitive is tested by adding
one ``Case`` here; ``test_every_primitive_is_listed`` fails until you do."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

import minigrad as mg
from minigrad import functions as F
from minigrad.nn import functional as nnF
from minigrad.nn.functional import affine as F_affine

#: conv2d_weight's geometry in its case: a 2x2 kernel, padding 1, on 4x4 images.
_CONV_GEOMETRY = F.ConvGeometry((2, 2), (1, 1), (1, 1), (1, 1), 1)


@dataclass(frozen=True)
class Case:
    name: str
    fn: Callable  # takes Values, returns a Value
    arity: int = 1
    primitives: tuple = ()  # the primitive classes this case exercises
    domain: str = "real"  # "real", "positive", "nonzero" (kinks kept away), "distinct"
    shapes: str = "broadcast"  # "broadcast", "same", "matrix", or a fixed tuple of shapes
    fixed: tuple = field(default=())  # fixed shapes, when shapes == "fixed"


CASES = [
    Case("add", lambda a, b: a + b, 2, (F.Add,)),
    Case("radd", lambda a: 2.5 + a, 1, (F.Add,)),
    Case("mul", lambda a, b: a * b, 2, (F.Mul,)),
    Case("rmul", lambda a: np.array([1.5, -2.0, 0.5])[-1] * a, 1, (F.Mul,)),
    Case("neg", lambda a: -a, 1, (F.Neg,)),
    Case("sub", lambda a, b: a - b, 2, (F.Add, F.Neg)),
    Case("rsub", lambda a: 1.0 - a, 1, (F.Add, F.Neg)),
    Case("div", lambda a, b: a / b, 2, (F.Mul, F.Pow), domain="nonzero"),
    Case("rdiv", lambda a: 3.0 / a, 1, (F.Mul, F.Pow), domain="nonzero"),
    Case("pow_int", lambda a: a**3, 1, (F.Pow,)),
    Case("pow_frac", lambda a: a**2.5, 1, (F.Pow,), domain="positive"),
    Case("pow_values", lambda a, b: a**b, 2, (F.Pow,), domain="positive"),
    Case("rpow", lambda a: 2.0**a, 1, (F.Pow,)),
    Case("exp", lambda a: a.exp(), 1, (F.Exp,)),
    Case("log", lambda a: a.log(), 1, (F.Log,), domain="positive"),
    Case("tanh", lambda a: a.tanh(), 1, (F.Tanh,)),
    Case("sigmoid", lambda a: a.sigmoid(), 1, (F.Sigmoid,)),
    Case("relu", lambda a: a.relu(), 1, (F.Relu,), domain="nonzero"),
    Case("abs", lambda a: a.abs(), 1, (F.Abs,), domain="nonzero"),
    Case("sqrt", lambda a: a.sqrt(), 1, (F.Pow,), domain="positive"),
    Case("sum", lambda a: a.sum(), 1, (F.Sum,)),
    Case("sum_axis0", lambda a: a.sum(axis=0), 1, (F.Sum,), shapes="matrix"),
    Case("sum_axis_keep", lambda a: a.sum(axis=-1, keepdims=True), 1, (F.Sum,), shapes="matrix"),
    Case(
        "sum_tuple_axis",
        lambda a: a.sum(axis=(0, 2)),
        1,
        (F.Sum,),
        shapes="fixed",
        fixed=((2, 3, 4),),
    ),
    Case("mean", lambda a: a.mean(), 1, (F.Sum, F.Mul)),
    Case("mean_axis", lambda a: a.mean(axis=1), 1, (F.Sum, F.Mul), shapes="matrix"),
    Case("max", lambda a: a.max(), 1, (F.Max,), domain="distinct"),
    Case("max_axis", lambda a: a.max(axis=0), 1, (F.Max,), domain="distinct", shapes="matrix"),
    Case(
        "max_keep",
        lambda a: a.max(axis=1, keepdims=True),
        1,
        (F.Max,),
        domain="distinct",
        shapes="matrix",
    ),
    Case("min", lambda a: a.min(axis=1), 1, (F.Max, F.Neg), domain="distinct", shapes="matrix"),
    Case("reshape", lambda a: a.reshape(-1), 1, (F.Reshape,), shapes="matrix"),
    Case("reshape_scalar", lambda a: a.reshape(1, 1), 1, (F.Reshape,), shapes="fixed", fixed=((),)),
    Case("transpose", lambda a: a.T, 1, (F.Transpose,), shapes="matrix"),
    Case(
        "transpose_axes",
        lambda a: a.transpose(1, 2, 0),
        1,
        (F.Transpose,),
        shapes="fixed",
        fixed=((2, 3, 4),),
    ),
    Case(
        "broadcast_to",
        lambda a: F.broadcast_to(a, (3, 2, 4)),
        1,
        (F.BroadcastTo,),
        shapes="fixed",
        fixed=((2, 1),),
    ),
    Case("getitem_slice", lambda a: a[1:, ::2], 1, (F.GetItem,), shapes="fixed", fixed=((4, 5),)),
    Case("getitem_int", lambda a: a[2], 1, (F.GetItem,), shapes="fixed", fixed=((4, 3),)),
    Case(
        "getitem_repeat",
        lambda a: a[[0, 2, 0, 0]],
        1,
        (F.GetItem,),
        shapes="fixed",
        fixed=((3, 2),),
    ),
    Case(
        "getitem_mixed",
        lambda a: a[np.array([1, 1]), 1:],
        1,
        (F.GetItem,),
        shapes="fixed",
        fixed=((3, 4),),
    ),
    Case(
        "scatter",
        lambda a: F.scatter(a, np.array([0, 2, 0]), (4,)),
        1,
        (F.Scatter,),
        shapes="fixed",
        fixed=((3,),),
    ),
    Case(
        "concat",
        lambda a, b: mg.concat([a, b, a], axis=1),
        2,
        (F.Concat,),
        shapes="fixed",
        fixed=((2, 3), (2, 1)),
    ),
    Case(
        "stack",
        lambda a, b: mg.stack([a, b], axis=1),
        2,
        (F.Concat, F.Reshape),
        shapes="fixed",
        fixed=((2, 3), (2, 3)),
    ),
    Case(
        "where",
        lambda a, b: mg.where(np.array([True, False, True]), a, b),
        2,
        (F.Where,),
        shapes="fixed",
        fixed=((2, 3), (3,)),
    ),
    Case("matmul", lambda a, b: a @ b, 2, (F.MatMul,), shapes="fixed", fixed=((3, 4), (4, 2))),
    Case(
        "matmul_vec_mat", lambda a, b: a @ b, 2, (F.MatMul,), shapes="fixed", fixed=((4,), (4, 2))
    ),
    Case(
        "matmul_mat_vec", lambda a, b: a @ b, 2, (F.MatMul,), shapes="fixed", fixed=((3, 4), (4,))
    ),
    Case("matmul_dot", lambda a, b: a @ b, 2, (F.MatMul,), shapes="fixed", fixed=((4,), (4,))),
    Case(
        "matmul_batched",
        lambda a, b: a @ b,
        2,
        (F.MatMul,),
        shapes="fixed",
        fixed=((2, 3, 4), (4, 5)),
    ),
    Case(
        "matmul_vec_batch",
        lambda a, b: a @ b,
        2,
        (F.MatMul,),
        shapes="fixed",
        fixed=((4,), (2, 4, 3)),
    ),
    Case("affine", F_affine, 3, (F.Affine,), shapes="fixed", fixed=((3, 4), (4, 2), (2,))),
    Case("affine_vec", F_affine, 3, (F.Affine,), shapes="fixed", fixed=((4,), (4, 2), (2,))),
    Case(
        "affine_batched", F_affine, 3, (F.Affine,), shapes="fixed", fixed=((2, 3, 4), (4, 2), (2,))
    ),
    # Convolution and pooling (tests/test_conv.py compares them with PyTorch too).
    Case(
        "conv2d",
        lambda x, w, b: nnF.conv2d(x, w, b, stride=(1, 2), padding=1, groups=2),
        3,
        (F.Conv2d,),
        shapes="fixed",
        fixed=((2, 4, 4, 5), (2, 2, 3, 2), (2,)),
    ),
    Case(
        "conv_transpose2d",
        lambda x, w: nnF.conv_transpose2d(x, w, stride=2, output_padding=1),
        2,
        (F.ConvTranspose2d,),
        shapes="fixed",
        fixed=((1, 2, 3, 2), (2, 3, 2, 2)),
    ),
    Case(
        "conv2d_weight",
        lambda x, g: F._conv_weight(x, g, (3, 2, 2, 2), _CONV_GEOMETRY),
        2,
        (F.Conv2dWeight,),
        shapes="fixed",
        fixed=((2, 2, 4, 4), (2, 3, 4, 4)),
    ),
    Case(
        "unfold",
        lambda x: nnF.unfold(x, 2, stride=1),
        1,
        (F.Unfold,),
        shapes="fixed",
        fixed=((2, 2, 3, 4),),
    ),
    Case(
        "fold", lambda c: nnF.fold(c, (3, 4), 2), 1, (F.Fold,), shapes="fixed", fixed=((1, 8, 6),)
    ),
    Case(
        "max_pool2d",
        lambda x: nnF.max_pool2d(x, 2, stride=1, padding=1),
        1,
        (F.MaxPool2d,),
        domain="distinct",
        shapes="fixed",
        fixed=((2, 2, 3, 3),),
    ),
]
