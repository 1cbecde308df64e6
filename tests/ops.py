"""The list of operations the generated tests check.  A new primitive is tested by adding
one ``Case`` here; ``test_every_primitive_is_listed`` fails until you do.

From each case, ``tests/test_primitives.py`` compares the gradient with central finite
differences on random shapes and values, ``tests/test_gradcheck_primitives.py`` checks
that gradcheck passes the rule and catches a deliberately broken copy of it, and
``tests/test_against_torch.py`` compares forward values, dtypes, gradients and second
derivatives with PyTorch (``torch``: the same function written with torch tensors;
``torch.nn.functional`` is passed as ``TF``) in float32 and float64, when it is installed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

import minigrad as mg
from minigrad import functions as F
from minigrad.nn import functional as NF
from minigrad.nn.functional import affine as F_affine

TARGETS = np.array([2, 0, 1])
ZEROS = np.array([[1.0, 0.0, 1.0, 1.0], [1.0, 1.0, 1.0, 0.0], [0.0, 1.0, 0.0, 1.0]])


@dataclass(frozen=True)
class Case:
    name: str
    fn: Callable  # takes Values, returns a Value
    arity: int = 1
    primitives: tuple = ()  # the primitive classes this case exercises
    # "real", "positive", "nonzero" (kinks kept away), "distinct" (no ties), "unit" (inside
    # (-1, 1)), "offgrid" (at least 0.1 from every integer and half-integer)
    domain: str = "real"
    shapes: str = "broadcast"  # "broadcast", "same", "matrix", or a fixed tuple of shapes
    fixed: tuple = field(default=())  # fixed shapes, when shapes == "fixed"
    torch: Callable | None = None  # (torch module, *tensors) -> tensor: the same function
    second: bool = True  # whether second derivatives are compared (False: piecewise linear)


CASES = [
    Case("add", lambda a, b: a + b, 2, (F.Add,), torch=lambda t, a, b: a + b),
    Case("radd", lambda a: 2.5 + a, 1, (F.Add,), torch=lambda t, a: 2.5 + a),
    Case("mul", lambda a, b: a * b, 2, (F.Mul,), torch=lambda t, a, b: a * b),
    Case(
        "rmul",
        lambda a: np.array([1.5, -2.0, 0.5])[-1] * a,
        1,
        (F.Mul,),
        torch=lambda t, a: 0.5 * a,
    ),
    Case("neg", lambda a: -a, 1, (F.Neg,), torch=lambda t, a: -a),
    Case("sub", lambda a, b: a - b, 2, (F.Add, F.Neg), torch=lambda t, a, b: a - b),
    Case("rsub", lambda a: 1.0 - a, 1, (F.Add, F.Neg), torch=lambda t, a: 1.0 - a),
    Case(
        "div", lambda a, b: a / b, 2, (F.Mul, F.Pow), domain="nonzero", torch=lambda t, a, b: a / b
    ),
    Case(
        "rdiv", lambda a: 3.0 / a, 1, (F.Mul, F.Pow), domain="nonzero", torch=lambda t, a: 3.0 / a
    ),
    Case("pow_int", lambda a: a**3, 1, (F.Pow,), torch=lambda t, a: a**3),
    Case("pow_frac", lambda a: a**2.5, 1, (F.Pow,), domain="positive", torch=lambda t, a: a**2.5),
    Case(
        "pow_values", lambda a, b: a**b, 2, (F.Pow,), domain="positive", torch=lambda t, a, b: a**b
    ),
    Case("rpow", lambda a: 2.0**a, 1, (F.Pow,), torch=lambda t, a: 2.0**a),
    Case("exp", lambda a: a.exp(), 1, (F.Exp,), torch=lambda t, a: a.exp()),
    Case("log", lambda a: a.log(), 1, (F.Log,), domain="positive", torch=lambda t, a: a.log()),
    Case("tanh", lambda a: a.tanh(), 1, (F.Tanh,), torch=lambda t, a: a.tanh()),
    Case("sigmoid", lambda a: a.sigmoid(), 1, (F.Sigmoid,), torch=lambda t, a: a.sigmoid()),
    Case("relu", lambda a: a.relu(), 1, (F.Relu,), domain="nonzero", torch=lambda t, a: a.relu()),
    Case("abs", lambda a: a.abs(), 1, (F.Abs,), domain="nonzero", torch=lambda t, a: a.abs()),
    Case("sqrt", lambda a: a.sqrt(), 1, (F.Pow,), domain="positive", torch=lambda t, a: a.sqrt()),
    Case("sum", lambda a: a.sum(), 1, (F.Sum,), torch=lambda t, a: a.sum()),
    Case(
        "sum_axis0",
        lambda a: a.sum(axis=0),
        1,
        (F.Sum,),
        shapes="matrix",
        torch=lambda t, a: a.sum(0),
    ),
    Case(
        "sum_axis_keep",
        lambda a: a.sum(axis=-1, keepdims=True),
        1,
        (F.Sum,),
        shapes="matrix",
        torch=lambda t, a: a.sum(-1, keepdim=True),
    ),
    Case(
        "sum_tuple_axis",
        lambda a: a.sum(axis=(0, 2)),
        1,
        (F.Sum,),
        shapes="fixed",
        fixed=((2, 3, 4),),
        torch=lambda t, a: a.sum((0, 2)),
    ),
    Case("mean", lambda a: a.mean(), 1, (F.Sum, F.Mul), torch=lambda t, a: a.mean()),
    Case(
        "mean_axis",
        lambda a: a.mean(axis=1),
        1,
        (F.Sum, F.Mul),
        shapes="matrix",
        torch=lambda t, a: a.mean(1),
    ),
    Case("max", lambda a: a.max(), 1, (F.Max,), domain="distinct", torch=lambda t, a: a.max()),
    Case(
        "max_axis",
        lambda a: a.max(axis=0),
        1,
        (F.Max,),
        domain="distinct",
        shapes="matrix",
        torch=lambda t, a: a.max(0).values,
    ),
    Case(
        "max_keep",
        lambda a: a.max(axis=1, keepdims=True),
        1,
        (F.Max,),
        domain="distinct",
        shapes="matrix",
        torch=lambda t, a: a.max(1, keepdim=True).values,
    ),
    Case(
        "min",
        lambda a: a.min(axis=1),
        1,
        (F.Max, F.Neg),
        domain="distinct",
        shapes="matrix",
        torch=lambda t, a: a.min(1).values,
    ),
    Case(
        "reshape",
        lambda a: a.reshape(-1),
        1,
        (F.Reshape,),
        shapes="matrix",
        torch=lambda t, a: a.reshape(-1),
    ),
    Case(
        "reshape_scalar",
        lambda a: a.reshape(1, 1),
        1,
        (F.Reshape,),
        shapes="fixed",
        fixed=((),),
        torch=lambda t, a: a.reshape(1, 1),
    ),
    Case("transpose", lambda a: a.T, 1, (F.Transpose,), shapes="matrix", torch=lambda t, a: a.T),
    Case(
        "transpose_axes",
        lambda a: a.transpose(1, 2, 0),
        1,
        (F.Transpose,),
        shapes="fixed",
        fixed=((2, 3, 4),),
        torch=lambda t, a: a.permute(1, 2, 0),
    ),
    Case(
        "broadcast_to",
        lambda a: F.broadcast_to(a, (3, 2, 4)),
        1,
        (F.BroadcastTo,),
        shapes="fixed",
        fixed=((2, 1),),
        torch=lambda t, a: a.broadcast_to((3, 2, 4)),
    ),
    Case(
        "getitem_slice",
        lambda a: a[1:, ::2],
        1,
        (F.GetItem,),
        shapes="fixed",
        fixed=((4, 5),),
        torch=lambda t, a: a[1:, ::2],
    ),
    Case(
        "getitem_int",
        lambda a: a[2],
        1,
        (F.GetItem,),
        shapes="fixed",
        fixed=((4, 3),),
        torch=lambda t, a: a[2],
    ),
    Case(
        "getitem_repeat",
        lambda a: a[[0, 2, 0, 0]],
        1,
        (F.GetItem,),
        shapes="fixed",
        fixed=((3, 2),),
        torch=lambda t, a: a[[0, 2, 0, 0]],
    ),
    Case(
        "getitem_mixed",
        lambda a: a[np.array([1, 1]), 1:],
        1,
        (F.GetItem,),
        shapes="fixed",
        fixed=((3, 4),),
        torch=lambda t, a: a[t.tensor([1, 1]), 1:],
    ),
    Case(
        "scatter",
        lambda a: F.scatter(a, np.array([0, 2, 0]), (4,)),
        1,
        (F.Scatter,),
        shapes="fixed",
        fixed=((3,),),
        torch=lambda t, a: t.zeros(4, dtype=a.dtype).index_add(0, t.tensor([0, 2, 0]), a),
    ),
    Case(
        "concat",
        lambda a, b: mg.concat([a, b, a], axis=1),
        2,
        (F.Concat,),
        shapes="fixed",
        fixed=((2, 3), (2, 1)),
        torch=lambda t, a, b: t.cat([a, b, a], dim=1),
    ),
    Case(
        "stack",
        lambda a, b: mg.stack([a, b], axis=1),
        2,
        (F.Concat, F.Reshape),
        shapes="fixed",
        fixed=((2, 3), (2, 3)),
        torch=lambda t, a, b: t.stack([a, b], dim=1),
    ),
    Case(
        "where",
        lambda a, b: mg.where(np.array([True, False, True]), a, b),
        2,
        (F.Where,),
        shapes="fixed",
        fixed=((2, 3), (3,)),
        torch=lambda t, a, b: t.where(t.tensor([True, False, True]), a, b),
    ),
    Case(
        "matmul",
        lambda a, b: a @ b,
        2,
        (F.MatMul,),
        shapes="fixed",
        fixed=((3, 4), (4, 2)),
        torch=lambda t, a, b: a @ b,
    ),
    Case(
        "matmul_vec_mat",
        lambda a, b: a @ b,
        2,
        (F.MatMul,),
        shapes="fixed",
        fixed=((4,), (4, 2)),
        torch=lambda t, a, b: a @ b,
    ),
    Case(
        "matmul_mat_vec",
        lambda a, b: a @ b,
        2,
        (F.MatMul,),
        shapes="fixed",
        fixed=((3, 4), (4,)),
        torch=lambda t, a, b: a @ b,
    ),
    Case(
        "matmul_dot",
        lambda a, b: a @ b,
        2,
        (F.MatMul,),
        shapes="fixed",
        fixed=((4,), (4,)),
        torch=lambda t, a, b: a @ b,
    ),
    Case(
        "matmul_batched",
        lambda a, b: a @ b,
        2,
        (F.MatMul,),
        shapes="fixed",
        fixed=((2, 3, 4), (4, 5)),
        torch=lambda t, a, b: a @ b,
    ),
    Case(
        "matmul_vec_batch",
        lambda a, b: a @ b,
        2,
        (F.MatMul,),
        shapes="fixed",
        fixed=((4,), (2, 4, 3)),
        torch=lambda t, a, b: a @ b,
    ),
    Case(
        "affine",
        F_affine,
        3,
        (F.Affine,),
        shapes="fixed",
        fixed=((3, 4), (4, 2), (2,)),
        torch=lambda t, x, w, b: x @ w + b,
    ),
    Case(
        "affine_vec",
        F_affine,
        3,
        (F.Affine,),
        shapes="fixed",
        fixed=((4,), (4, 2), (2,)),
        torch=lambda t, x, w, b: x @ w + b,
    ),
    Case(
        "affine_batched",
        F_affine,
        3,
        (F.Affine,),
        shapes="fixed",
        fixed=((2, 3, 4), (4, 2), (2,)),
        torch=lambda t, x, w, b: x @ w + b,
    ),
    Case(
        "logsumexp",
        lambda a: NF.logsumexp(a, axis=-1),
        1,
        (F.LogSumExp,),
        shapes="matrix",
        torch=lambda t, a: t.logsumexp(a, dim=-1),
    ),
    Case(
        "logsumexp_all",
        lambda a: NF.logsumexp(a, axis=None, keepdims=True),
        1,
        (F.LogSumExp,),
        torch=lambda t, a: t.logsumexp(a.reshape(-1), dim=0).reshape((1,) * a.ndim),
    ),
    Case(
        "cross_entropy",
        lambda z: NF.cross_entropy(z, TARGETS),
        1,
        (F.CrossEntropy,),
        shapes="fixed",
        fixed=((3, 4),),
        torch=lambda t, z: t.nn.functional.cross_entropy(z, t.tensor(TARGETS)),
    ),
    Case(
        "cross_entropy_none",
        lambda z: NF.cross_entropy(z, TARGETS, reduction="none"),
        1,
        (F.CrossEntropy,),
        shapes="fixed",
        fixed=((3, 4),),
        torch=lambda t, z: t.nn.functional.cross_entropy(z, t.tensor(TARGETS), reduction="none"),
    ),
    Case(
        "bce_with_logits",
        lambda z, y: F.BinaryCrossEntropyWithLogits.apply(z, y),
        2,
        (F.BinaryCrossEntropyWithLogits,),
        torch=lambda t, z, y: t.nn.functional.binary_cross_entropy_with_logits(
            *t.broadcast_tensors(z, y), reduction="none"
        ),
    ),
    # ------------------------------------------------------------ elementwise math
    Case("sin", lambda a: a.sin(), 1, (F.Sin,), torch=lambda t, a: a.sin()),
    Case("cos", lambda a: a.cos(), 1, (F.Cos,), torch=lambda t, a: a.cos()),
    Case("tan", lambda a: a.tan(), 1, (F.Tan,), domain="unit", torch=lambda t, a: a.tan()),
    Case(
        "arcsin", lambda a: a.arcsin(), 1, (F.Arcsin,), domain="unit", torch=lambda t, a: a.asin()
    ),
    Case(
        "arccos", lambda a: a.arccos(), 1, (F.Arccos,), domain="unit", torch=lambda t, a: a.acos()
    ),
    Case("arctan", lambda a: a.arctan(), 1, (F.Arctan,), torch=lambda t, a: a.atan()),
    Case("sinh", lambda a: a.sinh(), 1, (F.Sinh,), torch=lambda t, a: a.sinh()),
    Case("cosh", lambda a: a.cosh(), 1, (F.Cosh,), torch=lambda t, a: a.cosh()),
    Case(
        "log2",
        lambda a: a.log2(),
        1,
        (F.Log, F.Mul),
        domain="positive",
        torch=lambda t, a: a.log2(),
    ),
    Case(
        "log10",
        lambda a: a.log10(),
        1,
        (F.Log, F.Mul),
        domain="positive",
        torch=lambda t, a: a.log10(),
    ),
    Case(
        "log1p", lambda a: a.log1p(), 1, (F.Log1p,), domain="positive", torch=lambda t, a: a.log1p()
    ),
    Case("exp2", lambda a: a.exp2(), 1, (F.Exp, F.Mul), torch=lambda t, a: a.exp2()),
    Case("expm1", lambda a: a.expm1(), 1, (F.Expm1,), torch=lambda t, a: a.expm1()),
    Case("erf", lambda a: a.erf(), 1, (F.Erf,), torch=lambda t, a: a.erf()),
    Case("sign", lambda a: a.sign(), 1, (F.Sign,), domain="offgrid", torch=lambda t, a: a.sign()),
    Case(
        "floor", lambda a: a.floor(), 1, (F.Floor,), domain="offgrid", torch=lambda t, a: a.floor()
    ),
    Case("ceil", lambda a: a.ceil(), 1, (F.Ceil,), domain="offgrid", torch=lambda t, a: a.ceil()),
    Case(
        "round", lambda a: a.round(), 1, (F.Round,), domain="offgrid", torch=lambda t, a: a.round()
    ),
    Case(
        "reciprocal",
        lambda a: a.reciprocal(),
        1,
        (F.Pow,),
        domain="nonzero",
        torch=lambda t, a: a.reciprocal(),
    ),
    Case("square", lambda a: a.square(), 1, (F.Mul,), torch=lambda t, a: a.square()),
    Case(
        "logaddexp",
        lambda a, b: mg.logaddexp(a, b),
        2,
        (F.LogAddExp,),
        torch=lambda t, a, b: t.logaddexp(a, b),
    ),
    Case(
        "clip",
        lambda a: a.clip(-1, 1),
        1,
        (F.Clip,),
        domain="offgrid",
        torch=lambda t, a: a.clamp(-1, 1),
    ),
    Case(
        "clip_low",
        lambda a: a.clip(min=0.0),
        1,
        (F.Clip,),
        domain="offgrid",
        torch=lambda t, a: a.clamp(min=0.0),
    ),
    Case(
        "maximum",
        lambda a, b: mg.maximum(a, b * 0.5 + 0.013),
        2,
        (F.Maximum,),
        second=False,
        torch=lambda t, a, b: t.maximum(a, b * 0.5 + 0.013),
    ),
    Case(
        "minimum",
        lambda a, b: mg.minimum(a, b * 0.5 + 0.013),
        2,
        (F.Minimum,),
        second=False,
        torch=lambda t, a, b: t.minimum(a, b * 0.5 + 0.013),
    ),
    # ------------------------------------------------------------ activations (compositions)
    Case(
        "leaky_relu",
        lambda a: NF.leaky_relu(a, 0.1),
        1,
        (F.Where, F.Mul),
        domain="nonzero",
        torch=lambda t, a: t.nn.functional.leaky_relu(a, 0.1),
    ),
    Case(
        "elu",
        lambda a: NF.elu(a, 1.5),
        1,
        (F.Where, F.Clip, F.Expm1),
        domain="nonzero",
        torch=lambda t, a: t.nn.functional.elu(a, 1.5),
    ),
    Case(
        "selu", NF.selu, 1, (F.Where,), domain="nonzero", torch=lambda t, a: t.nn.functional.selu(a)
    ),
    Case("gelu", NF.gelu, 1, (F.Erf, F.Mul), torch=lambda t, a: t.nn.functional.gelu(a)),
    Case(
        "gelu_tanh",
        lambda a: NF.gelu(a, approximate="tanh"),
        1,
        (F.Tanh, F.Mul),
        torch=lambda t, a: t.nn.functional.gelu(a, approximate="tanh"),
    ),
    Case("silu", NF.silu, 1, (F.Sigmoid, F.Mul), torch=lambda t, a: t.nn.functional.silu(a)),
    Case(
        "softplus",
        lambda a: NF.softplus(a * 12.0, beta=2.0),
        1,
        (F.LogAddExp, F.Where),
        domain="nonzero",
        torch=lambda t, a: t.nn.functional.softplus(a * 12.0, beta=2.0),
    ),
    Case("mish", NF.mish, 1, (F.LogAddExp, F.Tanh), torch=lambda t, a: t.nn.functional.mish(a)),
    Case(
        "hardtanh",
        NF.hardtanh,
        1,
        (F.Where,),
        domain="offgrid",
        torch=lambda t, a: t.nn.functional.hardtanh(a),
    ),
    Case(
        "relu6",
        lambda a: NF.relu6(a * 4.0),
        1,
        (F.Where,),
        domain="offgrid",
        torch=lambda t, a: t.nn.functional.relu6(a * 4.0),
    ),
    Case(
        "hardsigmoid",
        lambda a: NF.hardsigmoid(a * 2.0),
        1,
        (F.Where,),
        domain="offgrid",
        second=False,  # PyTorch has no second derivative for it (its first is piecewise constant)
        torch=lambda t, a: t.nn.functional.hardsigmoid(a * 2.0),
    ),
    Case(
        "hardswish",
        lambda a: NF.hardswish(a * 2.0),
        1,
        (F.Where,),
        domain="offgrid",
        torch=lambda t, a: t.nn.functional.hardswish(a * 2.0),
    ),
    Case(
        "softsign",
        NF.softsign,
        1,
        (F.Abs, F.Pow),
        domain="nonzero",
        torch=lambda t, a: t.nn.functional.softsign(a),
    ),
    Case(
        "logsigmoid",
        lambda a: NF.logsigmoid(a * 8.0),
        1,
        (F.LogAddExp,),
        torch=lambda t, a: t.nn.functional.logsigmoid(a * 8.0),
    ),
    # ------------------------------------------------------------ reductions, statistics
    Case("prod", lambda a: a.prod(), 1, (F.Prod,), torch=lambda t, a: a.prod()),
    Case(
        "prod_axis",
        lambda a: a.prod(axis=-1),
        1,
        (F.Prod,),
        shapes="matrix",
        torch=lambda t, a: a.prod(-1),
    ),
    Case(
        "prod_with_zeros",
        lambda a: (a * ZEROS.astype(a.dtype)).prod(axis=0, keepdims=True),
        1,
        (F.Prod, F.Mul),
        shapes="fixed",
        fixed=((3, 4),),
        torch=lambda t, a: (a * t.tensor(ZEROS, dtype=a.dtype)).prod(0, keepdim=True),
    ),
    Case(
        "prod_tuple_axis",
        lambda a: a.prod(axis=(0, -1)),
        1,
        (F.Prod, F.Reshape),
        shapes="fixed",
        fixed=((2, 3, 2),),
        torch=lambda t, a: a.prod(-1).prod(0),
    ),
    Case(
        "cumsum",
        lambda a: a.cumsum(axis=-1),
        1,
        (F.Cumsum,),
        shapes="matrix",
        torch=lambda t, a: a.cumsum(-1),
    ),
    Case(
        "cumsum_flat",
        lambda a: a.cumsum(),
        1,
        (F.Cumsum, F.Reshape),
        torch=lambda t, a: a.reshape(-1).cumsum(0),
    ),
    Case(
        "cumprod",
        lambda a: a.cumprod(axis=0),
        1,
        (F.Cumprod,),
        shapes="matrix",
        torch=lambda t, a: a.cumprod(0),
    ),
    Case(
        "cumprod_with_zeros",
        lambda a: (a * ZEROS.astype(a.dtype)).cumprod(axis=1),
        1,
        (F.Cumprod, F.Mul),
        shapes="fixed",
        fixed=((3, 4),),
        torch=lambda t, a: (a * t.tensor(ZEROS, dtype=a.dtype)).cumprod(1),
    ),
    Case(
        "logcumsumexp",
        lambda a: a.logcumsumexp(axis=-2),
        1,
        (F.LogCumSumExp,),
        shapes="matrix",
        torch=lambda t, a: a.logcumsumexp(-2),
    ),
    Case("var", lambda a: a.var(), 1, (F.Sum, F.Mul), torch=lambda t, a: a.var(correction=0)),
    Case(
        "var_axis_ddof",
        lambda a: a.var(axis=-1, ddof=1, keepdims=True),
        1,
        (F.Sum, F.Mul),
        shapes="fixed",
        fixed=((3, 4),),
        torch=lambda t, a: a.var(-1, keepdim=True),
    ),
    Case(
        "std",
        lambda a: a.std(axis=0, correction=1),
        1,
        (F.Sum, F.Pow),
        domain="distinct",  # no constant column, where sqrt's slope is infinite
        shapes="fixed",
        fixed=((3, 4),),
        torch=lambda t, a: a.std(0),
    ),
    Case(
        "norm",
        lambda a: a.norm(),
        1,
        (F.Sum, F.Pow),
        domain="nonzero",
        torch=lambda t, a: t.linalg.vector_norm(a),
    ),
    Case(
        "norm_1_axis",
        lambda a: a.norm(1, axis=-1),
        1,
        (F.Abs, F.Sum),
        domain="nonzero",
        shapes="matrix",
        torch=lambda t, a: t.linalg.vector_norm(a, 1, dim=-1),
    ),
    Case(
        "norm_inf",
        lambda a: (a + 0.1).norm(float("inf"), axis=0),
        1,
        (F.Abs, F.Max),
        domain="distinct",
        shapes="matrix",
        torch=lambda t, a: t.linalg.vector_norm(a + 0.1, float("inf"), dim=0),
    ),
    Case(
        "norm_3",
        lambda a: a.norm(3, axis=-1, keepdims=True),
        1,
        (F.Abs, F.Pow),
        domain="nonzero",
        shapes="matrix",
        torch=lambda t, a: t.linalg.vector_norm(a, 3, dim=-1, keepdim=True),
    ),
]
