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

#: conv2d_weight's geometry in its case: a 2x2 kernel, padding 1, on 4x4 images.
_CONV_GEOMETRY = F.ConvGeometry((2, 2), (1, 1), (1, 1), (1, 1), 1)

TARGETS = np.array([2, 0, 1])
CLASS_WEIGHTS = np.array([0.5, 2.0, 1.0, 1.5])
IGNORED = np.array([2, -100, 1])
PROBS = np.array([[0.1, 0.2, 0.3, 0.4], [1.0, 0.0, 0.0, 0.0], [0.25, 0.25, 0.5, 0.0]])
LABELS = np.array([[1.0, 0.0, 0.3], [0.0, 1.0, 0.8]])
POS_WEIGHT = np.array([3.0, 0.5, 1.0])
GATHER = np.array([[0, 3], [1, 1], [3, 0]])
SCATTER = np.array([[0, 2, 0], [3, 3, 1]])
MASK = np.array([[True, False, False], [True, True, False]])
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


def case_arrays(
    case: Case, shapes: list, rng: np.random.Generator, low: float = 0.5
) -> list[np.ndarray]:
    """Random float64 inputs of ``shapes`` in ``case.domain``: |a| in [low, 1.5), either
    sign (so away from 0), then made positive, shrunk inside (-1, 1), moved off the grid
    of integers and half-integers, or spread 0.37 apart (no ties), as the domain asks."""
    arrays = []
    for s in shapes:
        a = rng.uniform(low, 1.5, size=s) * rng.choice([-1.0, 1.0], size=s)
        if case.domain == "positive":
            a = np.abs(a)
        elif case.domain == "unit":  # for arcsin and arccos
            a = a * 0.6
        elif case.domain == "offgrid":
            a = np.floor(a) + 0.1 + 0.3 * (a - np.floor(a))
        elif case.domain == "distinct":
            a = rng.permutation(int(np.prod(s))).reshape(s) * 0.37 + 0.01 * a
        arrays.append(a)
    return arrays


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
    Case("clone", lambda a: a.clone(), 1, (F.Clone,), torch=lambda t, a: a.clone()),
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
    # ------------------------------------------------------- shapes and indexing (compositions)
    Case(
        "squeeze",
        lambda a: a.squeeze(axis=-2),
        1,
        (F.Reshape,),
        shapes="fixed",
        fixed=((3, 1, 2),),
        torch=lambda t, a: a.squeeze(-2),
    ),
    Case(
        "unsqueeze",
        lambda a: a.unsqueeze(-1),
        1,
        (F.Reshape,),
        shapes="fixed",
        fixed=((2, 3),),
        torch=lambda t, a: a.unsqueeze(-1),
    ),
    Case(
        "flatten",
        lambda a: a.flatten(1),
        1,
        (F.Reshape,),
        shapes="fixed",
        fixed=((2, 3, 2),),
        torch=lambda t, a: a.flatten(1),
    ),
    Case(
        "swapaxes",
        lambda a: a.swapaxes(0, -1),
        1,
        (F.Transpose,),
        shapes="fixed",
        fixed=((2, 3, 4),),
        torch=lambda t, a: a.swapaxes(0, -1),
    ),
    Case(
        "moveaxis",
        lambda a: mg.ops.moveaxis(a, 0, -1),
        1,
        (F.Transpose,),
        shapes="fixed",
        fixed=((2, 3, 4),),
        torch=lambda t, a: t.movedim(a, 0, -1),
    ),
    Case(
        "flip",
        lambda a: a.flip(axis=-1),
        1,
        (F.GetItem,),
        shapes="fixed",
        fixed=((3, 4),),
        torch=lambda t, a: a.flip(-1),
    ),
    Case(
        "roll",
        lambda a: a.roll(2, axis=-1),
        1,
        (F.GetItem,),
        shapes="fixed",
        fixed=((3, 4),),
        torch=lambda t, a: a.roll(2, -1),
    ),
    Case(
        "roll_flat",
        lambda a: a.roll(-1),
        1,
        (F.GetItem, F.Reshape),
        shapes="fixed",
        fixed=((3, 4),),
        torch=lambda t, a: a.roll(-1),
    ),
    Case(
        "repeat",
        lambda a: a.repeat(2, axis=0),
        1,
        (F.GetItem,),
        shapes="fixed",
        fixed=((3, 2),),
        torch=lambda t, a: a.repeat_interleave(2, 0),
    ),
    Case(
        "tile",
        lambda a: mg.tile(a, (2, 1, 3)),
        1,
        (F.GetItem,),
        shapes="fixed",
        fixed=((3, 2),),
        torch=lambda t, a: a.tile((2, 1, 3)),
    ),
    Case(
        "pad_constant",
        lambda a: mg.pad(a, ((1, 0), (2, 1)), value=0.5),
        1,
        (F.Scatter, F.Add),
        shapes="fixed",
        fixed=((3, 2),),
        torch=lambda t, a: t.nn.functional.pad(a, (2, 1, 1, 0), value=0.5),
    ),
    Case(
        "pad_reflect",
        lambda a: mg.pad(a, ((0, 0), (2, 1)), mode="reflect"),
        1,
        (F.GetItem,),
        shapes="fixed",
        fixed=((2, 4),),
        torch=lambda t, a: t.nn.functional.pad(a, (2, 1), mode="reflect"),
    ),
    Case(
        "pad_edge",
        lambda a: mg.pad(a, ((0, 0), (1, 3)), mode="edge"),
        1,
        (F.GetItem,),
        shapes="fixed",
        fixed=((2, 3),),
        torch=lambda t, a: t.nn.functional.pad(a, (1, 3), mode="replicate"),
    ),
    Case(
        "pad_wrap",
        lambda a: mg.pad(a, ((0, 0), (1, 2)), mode="wrap"),
        1,
        (F.GetItem,),
        shapes="fixed",
        fixed=((2, 3),),
        torch=lambda t, a: t.nn.functional.pad(a, (1, 2), mode="circular"),
    ),
    Case(
        "tril",
        lambda a: mg.tril(a, -1),
        1,
        (F.Where,),
        shapes="fixed",
        fixed=((4, 4),),
        torch=lambda t, a: a.tril(-1),
    ),
    Case(
        "triu",
        lambda a: mg.triu(a, 1),
        1,
        (F.Where,),
        shapes="fixed",
        fixed=((2, 3, 4),),
        torch=lambda t, a: a.triu(1),
    ),
    Case(
        "diagonal",
        lambda a: a.diagonal(1, -2, -1),
        1,
        (F.GetItem, F.Transpose),
        shapes="fixed",
        fixed=((2, 3, 4),),
        torch=lambda t, a: a.diagonal(1, -2, -1),
    ),
    Case(
        "diag_matrix",
        lambda a: mg.diag(a, -1),
        1,
        (F.Scatter,),
        shapes="fixed",
        fixed=((3,),),
        torch=lambda t, a: t.diag(a, -1),
    ),
    Case(
        "trace",
        lambda a: a.trace(),
        1,
        (F.GetItem, F.Sum),
        shapes="fixed",
        fixed=((3, 4),),
        torch=lambda t, a: a.trace(),
    ),
    Case(
        "take_along_axis",
        lambda a: mg.take_along_axis(a, GATHER, axis=-1),
        1,
        (F.GetItem,),
        shapes="fixed",
        fixed=((3, 4),),
        torch=lambda t, a: t.gather(a, -1, t.tensor(GATHER)),
    ),
    Case(
        "masked_fill",
        lambda a: a.masked_fill(MASK, -5.0),
        1,
        (F.Where,),
        shapes="fixed",
        fixed=((2, 3),),
        torch=lambda t, a: a.masked_fill(t.tensor(MASK), -5.0),
    ),
    Case(
        "einsum_trace",
        lambda a: mg.einsum("ii->", a),
        1,
        (F.GetItem, F.Sum),
        shapes="fixed",
        fixed=((3, 3),),
        torch=lambda t, a: t.einsum("ii->", a),
    ),
    Case(
        "outer",
        lambda a, b: mg.outer(a, b),
        2,
        (F.Mul, F.Reshape),
        shapes="fixed",
        fixed=((3,), (4,)),
        torch=lambda t, a, b: t.outer(a, b),
    ),
    Case(
        "einsum_matmul",
        lambda a, b: mg.einsum("ij,jk->ik", a, b),
        2,
        (F.Mul, F.Sum),
        shapes="fixed",
        fixed=((2, 3), (3, 4)),
        torch=lambda t, a, b: t.einsum("ij,jk->ik", a, b),
    ),
    Case(
        "einsum_batched",
        lambda a, b: mg.einsum("bij,bjk->bik", a, b),
        2,
        (F.Mul, F.Sum),
        shapes="fixed",
        fixed=((2, 2, 3), (2, 3, 4)),
        torch=lambda t, a, b: t.einsum("bij,bjk->bik", a, b),
    ),
    Case(
        "einsum_outer",
        lambda a, b: mg.einsum("i,j", a, b),
        2,
        (F.Mul,),
        shapes="fixed",
        fixed=((3,), (2,)),
        torch=lambda t, a, b: t.einsum("i,j", a, b),
    ),
    Case(
        "scatter_add",
        lambda a, b: mg.ops.scatter_add(a, 1, SCATTER, b),
        2,
        (F.Scatter, F.Add),
        shapes="fixed",
        fixed=((2, 4), (2, 3)),
        torch=lambda t, a, b: a.scatter_add(1, t.tensor(SCATTER), b),
    ),
    # ------------------------------------------------------- losses (compositions)
    Case(
        "ce_weight",
        lambda z: NF.cross_entropy(z, TARGETS, weight=CLASS_WEIGHTS),
        1,
        (F.LogSumExp, F.GetItem),
        shapes="fixed",
        fixed=((3, 4),),
        torch=lambda t, z: t.nn.functional.cross_entropy(
            z, t.tensor(TARGETS), weight=t.tensor(CLASS_WEIGHTS, dtype=z.dtype)
        ),
    ),
    Case(
        "ce_smoothing",
        lambda z: NF.cross_entropy(z, TARGETS, label_smoothing=0.1),
        1,
        (F.LogSumExp, F.GetItem),
        shapes="fixed",
        fixed=((3, 4),),
        torch=lambda t, z: t.nn.functional.cross_entropy(z, t.tensor(TARGETS), label_smoothing=0.1),
    ),
    Case(
        "ce_ignore_weight_smoothing",
        lambda z: NF.cross_entropy(z, IGNORED, weight=CLASS_WEIGHTS, label_smoothing=0.2),
        1,
        (F.LogSumExp, F.GetItem),
        shapes="fixed",
        fixed=((3, 4),),
        torch=lambda t, z: t.nn.functional.cross_entropy(
            z, t.tensor(IGNORED), weight=t.tensor(CLASS_WEIGHTS, dtype=z.dtype), label_smoothing=0.2
        ),
    ),
    Case(
        "ce_ignore_none",
        lambda z: NF.cross_entropy(z, IGNORED, reduction="none", label_smoothing=0.3),
        1,
        (F.LogSumExp, F.GetItem),
        shapes="fixed",
        fixed=((3, 4),),
        torch=lambda t, z: t.nn.functional.cross_entropy(
            z, t.tensor(IGNORED), reduction="none", label_smoothing=0.3
        ),
    ),
    Case(
        "ce_ignore_sum_single",
        lambda z: NF.cross_entropy(z, 3, reduction="sum", weight=CLASS_WEIGHTS),
        1,
        (F.LogSumExp, F.GetItem),
        shapes="fixed",
        fixed=((4,),),
        torch=lambda t, z: t.nn.functional.cross_entropy(
            z, t.tensor(3), reduction="sum", weight=t.tensor(CLASS_WEIGHTS, dtype=z.dtype)
        ),
    ),
    Case(
        "ce_probabilities",
        lambda z: NF.cross_entropy(z, PROBS, weight=CLASS_WEIGHTS, label_smoothing=0.2),
        1,
        (F.LogSumExp, F.Sum),
        shapes="fixed",
        fixed=((3, 4),),
        torch=lambda t, z: t.nn.functional.cross_entropy(
            z,
            t.tensor(PROBS, dtype=z.dtype),
            weight=t.tensor(CLASS_WEIGHTS, dtype=z.dtype),
            label_smoothing=0.2,
        ),
    ),
    Case(
        "bce_probabilities",
        lambda a: NF.binary_cross_entropy(a.sigmoid(), LABELS, weight=POS_WEIGHT),
        1,
        (F.Log, F.Clip),
        shapes="fixed",
        fixed=((2, 3),),
        torch=lambda t, a: t.nn.functional.binary_cross_entropy(
            a.sigmoid(), t.tensor(LABELS, dtype=a.dtype), weight=t.tensor(POS_WEIGHT, dtype=a.dtype)
        ),
    ),
    Case(
        "bce_logits_pos_weight",
        lambda z: NF.binary_cross_entropy_with_logits(
            z, LABELS, pos_weight=POS_WEIGHT, weight=CLASS_WEIGHTS[:3]
        ),
        1,
        (F.LogAddExp,),
        shapes="fixed",
        fixed=((2, 3),),
        torch=lambda t, z: t.nn.functional.binary_cross_entropy_with_logits(
            z,
            t.tensor(LABELS, dtype=z.dtype),
            pos_weight=t.tensor(POS_WEIGHT, dtype=z.dtype),
            weight=t.tensor(CLASS_WEIGHTS[:3], dtype=z.dtype),
        ),
    ),
    Case(
        "huber",
        lambda a, b: NF.huber_loss(a, b, delta=0.8),
        2,
        (F.Where, F.Abs),
        shapes="fixed",
        fixed=((3, 4), (3, 4)),
        torch=lambda t, a, b: t.nn.functional.huber_loss(a, b, delta=0.8),
    ),
    Case(
        "smooth_l1",
        lambda a, b: NF.smooth_l1_loss(a, b, reduction="none", beta=0.5),
        2,
        (F.Where, F.Abs),
        shapes="fixed",
        fixed=((3, 4), (3, 4)),
        torch=lambda t, a, b: t.nn.functional.smooth_l1_loss(a, b, reduction="none", beta=0.5),
    ),
    Case(
        "kl_div",
        lambda a, b: NF.kl_div(NF.log_softmax(a), NF.softmax(b), reduction="batchmean"),
        2,
        (F.LogSumExp, F.Where),
        shapes="fixed",
        fixed=((3, 4), (3, 4)),
        torch=lambda t, a, b: t.nn.functional.kl_div(
            t.nn.functional.log_softmax(a, -1),
            t.nn.functional.softmax(b, -1),
            reduction="batchmean",
        ),
    ),
    Case(
        "kl_div_log_target",
        lambda a, b: NF.kl_div(NF.log_softmax(a), NF.log_softmax(b), log_target=True),
        2,
        (F.LogSumExp, F.Exp),
        shapes="fixed",
        fixed=((3, 4), (3, 4)),
        torch=lambda t, a, b: t.nn.functional.kl_div(
            t.nn.functional.log_softmax(a, -1), t.nn.functional.log_softmax(b, -1), log_target=True
        ),
    ),
    Case(
        "cosine_similarity",
        lambda a, b: NF.cosine_similarity(a, b, axis=-1),
        2,
        (F.Clip, F.Sum),
        domain="nonzero",  # no zero vector, where the eps floor makes a kink
        shapes="fixed",
        fixed=((3, 4), (1, 4)),
        torch=lambda t, a, b: t.nn.functional.cosine_similarity(a, b, dim=-1),
    ),
    # Convolution and pooling (tests/test_conv.py compares them with PyTorch too).
    Case(
        "conv2d",
        lambda x, w, b: NF.conv2d(x, w, b, stride=(1, 2), padding=1, groups=2),
        3,
        (F.Conv2d,),
        shapes="fixed",
        fixed=((2, 4, 4, 5), (2, 2, 3, 2), (2,)),
        torch=lambda t, x, w, b: t.nn.functional.conv2d(
            x, w, b, stride=(1, 2), padding=1, groups=2
        ),
    ),
    Case(
        "conv_transpose2d",
        lambda x, w: NF.conv_transpose2d(x, w, stride=2, output_padding=1),
        2,
        (F.ConvTranspose2d,),
        shapes="fixed",
        fixed=((1, 2, 3, 2), (2, 3, 2, 2)),
        torch=lambda t, x, w: t.nn.functional.conv_transpose2d(x, w, stride=2, output_padding=1),
    ),
    Case(
        "conv2d_weight",
        lambda x, g: F._conv_weight(x, g, (3, 2, 2, 2), _CONV_GEOMETRY),
        2,
        (F.Conv2dWeight,),
        shapes="fixed",
        fixed=((2, 2, 4, 4), (2, 3, 5, 5)),
        torch=lambda t, x, g: t.nn.grad.conv2d_weight(x, (3, 2, 2, 2), g, padding=1),
    ),
    Case(
        "unfold",
        lambda x: NF.unfold(x, 2, stride=1),
        1,
        (F.Unfold,),
        shapes="fixed",
        fixed=((2, 2, 3, 4),),
        torch=lambda t, x: t.nn.functional.unfold(x, 2, stride=1),
    ),
    Case(
        "fold",
        lambda c: NF.fold(c, (3, 4), 2),
        1,
        (F.Fold,),
        shapes="fixed",
        fixed=((1, 8, 6),),
        torch=lambda t, c: t.nn.functional.fold(c, (3, 4), 2),
    ),
    Case(
        "max_pool2d",
        lambda x: NF.max_pool2d(x, 2, stride=1, padding=1),
        1,
        (F.MaxPool2d,),
        domain="distinct",
        shapes="fixed",
        fixed=((2, 2, 3, 3),),
        torch=lambda t, x: t.nn.functional.max_pool2d(x, 2, stride=1, padding=1),
    ),
]
