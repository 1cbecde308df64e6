"""gradcheck on every primitive: right backwards pass, deliberately wrong ones fail at the
right input and elements and are localized to the wrong operation.

Each wrong operation is a test-only subclass of a primitive: it keeps the primitive's
forward and replaces its backward with a plausible mistake (a factor, a sign, a
transposition, a missing broadcast reduction, a wrong index...).  The expected failing
elements are worked out by hand in each case, not by asking the checker.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import pytest

import minigrad as mg
from minigrad import Value
from minigrad import functions as F
from minigrad.gradcheck import GradcheckError
from tests.ops import CASES, Case, case_arrays
from tests.reference import central_difference

# ============================================================================ wrong rules


class WrongAdd(F.Add):
    @staticmethod
    def backward(ctx, grad):
        return grad, grad[0]  # missing broadcast reduction: only the first row reaches b


class WrongMul(F.Mul):
    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return -grad * b, grad * a  # sign


class WrongNeg(F.Neg):
    @staticmethod
    def backward(ctx, grad):
        return -2.0 * grad  # factor


class WrongPow(F.Pow):
    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        return grad * b * F.power(a, b - 1), grad * out  # d/db misses the log a


class WrongExp(F.Exp):
    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return 0.5 * grad * out  # factor


class WrongLog(F.Log):
    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return -grad / a  # sign


class WrongTanh(F.Tanh):
    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * (1.0 - out)  # 1 - y instead of 1 - y^2


class WrongSigmoid(F.Sigmoid):
    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out  # missing (1 - y)


class WrongRelu(F.Relu):
    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return 2.0 * grad * (out > 0)  # factor on the active elements only


class WrongAbs(F.Abs):
    @staticmethod
    def backward(ctx, grad):
        return grad * 1.0  # forgets the sign: wrong where the input is negative


class WrongSum(F.Sum):
    @staticmethod
    def backward(ctx, grad):
        g = np.broadcast_to(np.reshape(grad, (1, -1)), ctx.in_shape).copy()
        g[1] *= 2.0  # row 1 counted twice
        return g


class WrongMax(F.Max):
    @staticmethod
    def backward(ctx, grad):
        a, _ = ctx.saved_tensors
        mask = a == a.min(axis=1, keepdims=True)  # the gradient goes to the minimum
        return np.reshape(grad, (-1, 1)) * mask


class WrongBroadcastTo(F.BroadcastTo):
    @staticmethod
    def backward(ctx, grad):
        return grad[0:1]  # missing broadcast reduction: only the first copy counts


class WrongReshape(F.Reshape):
    @staticmethod
    def backward(ctx, grad):
        return np.reshape(grad, ctx.in_shape[::-1]).T  # transposition


class WrongTranspose(F.Transpose):
    @staticmethod
    def backward(ctx, grad):
        return grad  # forgets to transpose back


class WrongGetItem(F.GetItem):
    @staticmethod
    def backward(ctx, grad):
        return F.scatter(grad, (slice(None, -1), slice(None, None, 2)), ctx.in_shape)  # off by 1


class WrongScatter(F.Scatter):
    @staticmethod
    def backward(ctx, grad):
        g = np.array(grad[ctx.index])
        g[1] *= -1.0  # one element's sign
        return g


class WrongConcat(F.Concat):
    @staticmethod
    def backward(ctx, grad):
        return grad[:, 0:3], grad[:, 2:3]  # the second input gets the wrong column


class WrongWhere(F.Where):
    @staticmethod
    def backward(ctx, grad):
        c = ctx.condition
        return F.select(c, grad, 0.0), F.select(c, grad, 0.0)  # b's condition not inverted


class WrongMatMul(F.MatMul):
    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return grad @ b, a.T @ grad  # grad @ b instead of grad @ b.T


class WrongAffine(F.Affine):
    @staticmethod
    def backward(ctx, grad):
        x, W = ctx.saved_tensors
        return grad @ W.T, x.T @ grad, grad.mean(axis=0)  # the bias gradient averaged, not summed


class WrongConv2d(F.Conv2d):
    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        geometry = ctx.geometry
        grad_x = F._conv_transpose_data(grad, w, ctx.x_shape, geometry)
        # the weight gradient summed over the batch's first example only
        return grad_x, F._conv_weight_data(x[:1], grad[:1], ctx.w_shape, geometry)


class WrongConvTranspose2d(F.ConvTranspose2d):
    @staticmethod
    def backward(ctx, grad):
        g, w = ctx.saved_tensors
        geometry = ctx.geometry
        grad_g = F._conv_data(grad, w, geometry)[0]
        return grad_g, -F._conv_weight_data(grad, g, ctx.w_shape, geometry)  # sign


class WrongConv2dWeight(F.Conv2dWeight):
    @staticmethod
    def backward(ctx, grad):
        x, g = ctx.saved_tensors
        geometry = ctx.geometry
        grad_x = F._conv_transpose_data(g, grad, ctx.x_shape, geometry)
        # the kernel flipped: a convolution in the textbook sense instead of a correlation
        return grad_x, F._conv_data(x, np.ascontiguousarray(grad[:, :, ::-1, ::-1]), geometry)[0]


class WrongUnfold(F.Unfold):
    @staticmethod
    def backward(ctx, grad):
        n, c, h, w = ctx.x_shape
        kh, kw = ctx.geometry.kernel
        oh, ow = h - kh + 1, w - kw + 1
        blocks = grad.reshape(n, c, kh, kw, oh, ow)
        out = np.zeros(ctx.x_shape)
        for i in range(kh):
            for j in range(kw):
                out[:, :, i : i + oh, j : j + ow] = blocks[:, :, i, j]  # = not +=: overlaps lost
        return out


class WrongFold(F.Fold):
    @staticmethod
    def backward(ctx, grad):
        cols = F._unfold(grad, ctx.geometry)
        n, rows, length = cols.shape
        kh, kw = ctx.geometry.kernel
        # kernel offset (i, j) read as (j, i)
        return cols.reshape(n, -1, kh, kw, length).swapaxes(2, 3).reshape(n, rows, length)


class WrongMaxPool2d(F.MaxPool2d):
    @staticmethod
    def backward(ctx, grad):
        # the gradient shared by the whole window, as average pooling's would be
        return np.repeat(np.repeat(grad, 2, axis=2), 2, axis=3) / 4.0


# ============================================================================ the cases

RNG = np.random.default_rng(1234)


def _signed(shape, low=0.5, high=1.5):
    return RNG.uniform(low, high, size=shape) * RNG.choice([-1.0, 1.0], size=shape)


def _all(shape) -> set:
    return {tuple(int(i) for i in idx) for idx in np.ndindex(*shape)}


@dataclass
class Wrong:
    primitive: type
    wrong: type
    apply: Callable  # (pre-processed Values) -> Value, through the wrong class
    arrays: dict  # input name -> data
    expected: set  # {(input name, element)} that must fail
    kind: str = ""
    post: bool = True
    extra: dict = field(default_factory=dict)


X34 = _signed((3, 4))
Y4 = _signed((4,))
POS3 = RNG.uniform(0.5, 2.0, size=3)
EXPO3 = np.array([1.5, -0.7, 2.0])
DISTINCT34 = RNG.permutation(12).reshape(3, 4) * 0.37 + 0.1
R23 = _signed((2, 3))
M33 = _signed((3, 3))
N33 = _signed((3, 3))

WRONGS = [
    Wrong(
        F.Add,
        WrongAdd,
        lambda x, y: WrongAdd.apply(x, y),
        {"x": X34, "y": Y4},
        {("y", e) for e in _all((4,))},
        "missing broadcast reduction",
    ),
    Wrong(
        F.Mul,
        WrongMul,
        lambda x, y: WrongMul.apply(x, y),
        {"x": X34, "y": Y4},
        {("x", e) for e in _all((3, 4))},
        "sign",
    ),
    Wrong(F.Neg, WrongNeg, WrongNeg.apply, {"x": X34}, {("x", e) for e in _all((3, 4))}, "factor"),
    Wrong(
        F.Pow,
        WrongPow,
        lambda x, y: WrongPow.apply(x, y),
        {"x": POS3, "y": EXPO3},
        {("y", e) for e in _all((3,))},
        "missing factor log a",
    ),
    Wrong(F.Exp, WrongExp, WrongExp.apply, {"x": R23}, {("x", e) for e in _all((2, 3))}, "factor"),
    Wrong(F.Log, WrongLog, WrongLog.apply, {"x": POS3}, {("x", e) for e in _all((3,))}, "sign"),
    Wrong(F.Tanh, WrongTanh, WrongTanh.apply, {"x": R23}, {("x", e) for e in _all((2, 3))}),
    Wrong(
        F.Sigmoid, WrongSigmoid, WrongSigmoid.apply, {"x": R23}, {("x", e) for e in _all((2, 3))}
    ),
    Wrong(
        F.Relu,
        WrongRelu,
        WrongRelu.apply,
        {"x": R23},
        {("x", tuple(int(i) for i in idx)) for idx in np.argwhere(R23 > 0)},
        "factor where active",
    ),
    Wrong(
        F.Abs,
        WrongAbs,
        WrongAbs.apply,
        {"x": R23},
        {("x", tuple(int(i) for i in idx)) for idx in np.argwhere(R23 < 0)},
        "sign where negative",
    ),
    Wrong(
        F.Sum,
        WrongSum,
        lambda x: WrongSum.apply(x, axis=0, keepdims=False),
        {"x": X34},
        {("x", (1, j)) for j in range(4)},
        "one row doubled",
    ),
    Wrong(
        F.Max,
        WrongMax,
        lambda x: WrongMax.apply(x, axis=1, keepdims=False),
        {"x": DISTINCT34},
        {("x", (r, int(np.argmax(DISTINCT34[r])))) for r in range(3)}
        | {("x", (r, int(np.argmin(DISTINCT34[r])))) for r in range(3)},
        "gradient to the wrong element",
    ),
    Wrong(
        F.BroadcastTo,
        WrongBroadcastTo,
        lambda x: WrongBroadcastTo.apply(x, shape=(3, 4)),
        {"x": _signed((1, 4))},
        {("x", e) for e in _all((1, 4))},
        "missing broadcast reduction",
    ),
    Wrong(
        F.Reshape,
        WrongReshape,
        lambda x: WrongReshape.apply(x, shape=(6,)),
        {"x": R23},
        # element (i, j) is flat index 3i + j; the wrong rule hands it flat index 2j + i
        {("x", (i, j)) for i in range(2) for j in range(3) if 3 * i + j != 2 * j + i},
        "transposition",
    ),
    Wrong(
        F.Transpose,
        WrongTranspose,
        lambda x: WrongTranspose.apply(x, axes=None),
        {"x": M33},
        {("x", (i, j)) for i in range(3) for j in range(3) if i != j},
        "transposition",
    ),
    Wrong(
        F.GetItem,
        WrongGetItem,
        lambda x: WrongGetItem.apply(x, index=(slice(1, None), slice(None, None, 2))),
        {"x": _signed((4, 5))},
        {("x", (r, c)) for r in range(4) for c in (0, 2, 4)},
        "index off by one",
    ),
    Wrong(
        F.Scatter,
        WrongScatter,
        lambda x: WrongScatter.apply(x, index=np.array([0, 2, 0]), shape=(4,)),
        {"x": _signed((3,))},
        {("x", (1,))},
        "one element",
    ),
    Wrong(
        F.Concat,
        WrongConcat,
        lambda x, y: WrongConcat.apply(x, y, axis=1),
        {"x": R23, "y": _signed((2, 1))},
        {("y", (0, 0)), ("y", (1, 0))},
        "wrong slice",
    ),
    Wrong(
        F.Where,
        WrongWhere,
        lambda x, y: WrongWhere.apply(x, y, condition=np.array([True, False, True])),
        {"x": R23, "y": _signed((3,))},
        {("y", e) for e in _all((3,))},
        "condition not inverted",
    ),
    Wrong(
        F.MatMul,
        WrongMatMul,
        lambda x, y: WrongMatMul.apply(x, y),
        {"x": M33, "y": N33},
        {("x", e) for e in _all((3, 3))},
        "transposition",
    ),
    Wrong(
        F.Affine,
        WrongAffine,
        lambda x, w, b: WrongAffine.apply(x, w, b),
        {"x": X34, "w": _signed((4, 2)), "b": _signed((2,))},
        {("b", e) for e in _all((2,))},
        "bias averaged over the rows",
    ),
]


#: Convolutions: 2x2 kernels, stride 1, no padding, on 3x3 images.
GEOMETRY = F.ConvGeometry((2, 2), (1, 1), (0, 0), (1, 1), 1)
POOL_GEOMETRY = F.ConvGeometry((2, 2), (2, 2), (0, 0), (1, 1), 1)
IMAGES = _signed((2, 2, 3, 3))
OUT_GRADS = _signed((2, 3, 2, 2))
FILTERS = _signed((3, 2, 2, 2))
# Pixels of a 3x3 image in more than one 2x2 window: all but the corners.
SHARED = {(0, 0, r, c) for r in range(3) for c in range(3)} - {
    (0, 0, 0, 0), (0, 0, 0, 2), (0, 0, 2, 0), (0, 0, 2, 2)
}  # fmt: skip

WRONGS += [
    Wrong(
        F.Conv2d,
        WrongConv2d,
        lambda x, w: WrongConv2d.apply(x, w, geometry=GEOMETRY),
        {"x": IMAGES, "w": FILTERS},
        {("w", e) for e in _all((3, 2, 2, 2))},
        "weight gradient of the first example only",
    ),
    Wrong(
        F.ConvTranspose2d,
        WrongConvTranspose2d,
        lambda g, w: WrongConvTranspose2d.apply(g, w, x_shape=(2, 2, 3, 3), geometry=GEOMETRY),
        {"g": OUT_GRADS, "w": FILTERS},
        {("w", e) for e in _all((3, 2, 2, 2))},
        "sign of the weight gradient",
    ),
    Wrong(
        F.Conv2dWeight,
        WrongConv2dWeight,
        lambda x, g: WrongConv2dWeight.apply(x, g, w_shape=(3, 2, 2, 2), geometry=GEOMETRY),
        {"x": IMAGES, "g": OUT_GRADS},
        {("g", e) for e in _all((2, 3, 2, 2))},
        "kernel flipped",
    ),
    Wrong(
        F.Unfold,
        WrongUnfold,
        lambda x: WrongUnfold.apply(x, geometry=GEOMETRY),
        {"x": _signed((1, 1, 3, 3))},
        {("x", e) for e in SHARED},
        "overlapping windows not summed",
    ),
    Wrong(
        F.Fold,
        WrongFold,
        lambda c: WrongFold.apply(c, x_shape=(1, 1, 3, 3), geometry=GEOMETRY),
        {"x": _signed((1, 4, 4))},
        {("x", (0, r, k)) for r in (1, 2) for k in range(4)},
        "kernel offsets transposed",
    ),
    Wrong(
        F.MaxPool2d,
        WrongMaxPool2d,
        lambda x: WrongMaxPool2d.apply(x, geometry=POOL_GEOMETRY),
        {"x": RNG.permutation(16).reshape(1, 1, 4, 4) * 0.37 + 0.1},
        {("x", e) for e in _all((1, 1, 4, 4))},
        "gradient shared by the window",
    ),
]


def _problem(case: Wrong):
    values = [Value(a, name=n) for n, a in case.arrays.items()]

    def fn(*xs):
        pre = []
        for v in xs:
            p = v * 1.5  # a correct operation before the wrong one
            p.name = f"pre_{v.name}"
            pre.append(p)
        out = case.apply(*pre)
        out.name = "wrong"
        return out * 0.75 + 0.1 if case.post else out  # and correct ones after it

    return fn, values


def test_the_hand_written_wrong_cases_are_of_registered_primitives():
    # The hand-written cases above show particular mistakes; every primitive, these and
    # any later one, is also caught broken by the generated test below.
    assert all(F.is_primitive(c.primitive) for c in WRONGS)


@contextmanager
def _broken(primitive: type):
    """The registered rule of ``primitive``, broken for the duration: every gradient it
    returns is off by a factor and a shift (so that a zero gradient is broken too)."""
    own = "backward" in primitive.__dict__  # or inherited, from a base such as _Flat
    rule = inspect.getattr_static(primitive, "backward")
    correct = rule.__func__ if isinstance(rule, staticmethod) else rule

    def wrong(ctx, grad):
        grads = correct(ctx, grad)
        single = type(grads) is not tuple
        grads = (grads,) if single else grads
        grads = tuple(None if g is None else g * 1.25 + 0.125 for g in grads)
        return grads[0] if single else grads

    primitive.backward = staticmethod(wrong)
    try:
        yield
    finally:
        if own:
            primitive.backward = rule
        else:
            del primitive.backward


def _generated_wrong_cases():
    """For each registered primitive, the first case of tests/ops.py that uses it alone."""
    seen = {}
    for case in CASES:
        if len(case.primitives) == 1 and case.primitives[0] not in seen:
            seen[case.primitives[0]] = case
    return seen


def test_every_primitive_has_a_case_that_uses_it_alone():
    cases = _generated_wrong_cases()
    missing = [p.__name__ for p in F.PRIMITIVES if p not in cases]
    assert not missing, f"primitives without a case in tests/ops.py that uses only them: {missing}"


@pytest.mark.parametrize(
    "primitive, case",
    list(_generated_wrong_cases().items()),
    ids=lambda x: x.name if isinstance(x, Case) else "",
)
def test_a_broken_rule_of_every_primitive_is_caught_and_localized(primitive: type, case: Case):
    rng = np.random.default_rng(len(case.name))
    arrays = _case_arrays(case, rng)
    values = [Value(float(a) if a.shape == () else a, name=f"in{i}") for i, a in enumerate(arrays)]
    assert mg.gradcheck(case.fn, *values, raise_exception=False).passed
    with _broken(primitive):
        report = mg.gradcheck(case.fn, *values, raise_exception=False)
        assert not report.passed, f"a broken {primitive.__name__}.backward passed gradcheck"
        culprit = report.localize().culprit
        assert culprit is not None and culprit.node.grad_fn is primitive


@pytest.mark.parametrize("case", WRONGS, ids=lambda c: c.wrong.__name__)
def test_wrong_backward_fails_at_the_right_elements(case: Wrong):
    fn, values = _problem(case)
    report = mg.gradcheck(fn, *values, raise_exception=False)
    assert not report.passed
    failing = {(r.input, r.element) for r in report.failures}
    assert failing == case.expected
    for r in report.rows:  # every other element agrees: the report does not over-blame
        if (r.input, r.element) not in case.expected:
            assert r.status == "ok", r


@pytest.mark.parametrize("case", WRONGS, ids=lambda c: c.wrong.__name__)
def test_wrong_backward_is_localized_to_its_operation(case: Wrong):
    fn, values = _problem(case)
    report = mg.gradcheck(fn, *values, raise_exception=False)
    localization = report.localize()
    culprit = localization.culprit
    assert culprit is not None
    assert culprit.node.grad_fn is case.wrong
    assert culprit.op == case.wrong.__name__
    assert culprit.name == "wrong"
    assert culprit.created_at is not None and culprit.created_at.startswith(__file__)
    # the correct operations around it pass their own check
    others = [c for c in localization.checks if c.node is not culprit.node]
    assert others and all(c.status == "ok" for c in others), [str(c) for c in others]
    assert report.node_errors[culprit.node] > report.rtol
    assert case.wrong.__name__ in str(report)


@pytest.mark.parametrize("case", WRONGS, ids=lambda c: c.wrong.__name__)
def test_wrong_backward_raises_a_table_naming_the_worst_element(case: Wrong):
    fn, values = _problem(case)
    with pytest.raises(GradcheckError) as info:
        mg.gradcheck(fn, *values, localize=True)
    message = str(info.value)
    worst = info.value.report.failures[0]
    assert (worst.input, worst.element) in case.expected
    table_rows = [line for line in message.splitlines() if line.endswith("FAIL")]
    assert table_rows[0].split()[0] == worst.input
    assert str(worst.element) in table_rows[0]
    assert "pass rule: |analytic - numeric| <= atol + rtol * |numeric|" in message
    assert f"the first operation whose backward disagrees: {case.wrong.__name__}" in message


def test_wrong_backward_diagnoses():
    by_name = {c.wrong.__name__: c for c in WRONGS}

    def diagnosis(name: str, input_name: str) -> str:
        fn, values = _problem(by_name[name])
        report = mg.gradcheck(fn, *values, raise_exception=False)
        return report[input_name].diagnosis or ""

    assert "factor" in diagnosis("WrongNeg", "x") and "2" in diagnosis("WrongNeg", "x")
    assert "sign flipped" in diagnosis("WrongMul", "x")
    fn, values = _problem(by_name["WrongTranspose"])
    loc = mg.gradcheck(fn, *values, raise_exception=False).localize()
    assert "transposed" in loc.culprit.detail
    assert "row 1" in diagnosis("WrongSum", "x")
    assert "factor" in diagnosis("WrongAffine", "b"), diagnosis("WrongAffine", "b")


# ============================================================================ right rules


def _case_arrays(case: Case, rng: np.random.Generator) -> list[np.ndarray]:
    if case.shapes == "fixed":
        shapes = case.fixed
    elif case.shapes == "matrix":
        shapes = [(3, 4)] * case.arity
    else:
        shapes = [(2, 3), (3,)][: case.arity]
    return case_arrays(case, shapes, rng)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_correct_operations_pass_and_localize_finds_nothing(case: Case):
    rng = np.random.default_rng(len(case.name))
    arrays = _case_arrays(case, rng)
    values = [Value(float(a) if a.shape == () else a, name=f"in{i}") for i, a in enumerate(arrays)]
    out = case.fn(*values)
    weights = rng.uniform(0.5, 1.5, size=out.shape) * rng.choice([-1.0, 1.0], size=out.shape)
    report = mg.gradcheck(case.fn, *values, output_weights=weights)
    assert report.passed and not report.kinks

    def f(*xs):
        data = np.asarray(case.fn(*[Value(x) for x in xs]).data)
        return float(np.sum(data * weights))

    expected = central_difference(f, arrays)
    for result, e in zip(report.inputs, expected):
        np.testing.assert_allclose(result.numeric_grad, e, rtol=1e-6, atol=1e-8)
    localization = report.localize()
    assert localization.culprit is None
    assert all(c.status == "ok" for c in localization.checks), [
        (c.op, c.status, c.detail) for c in localization.checks
    ]
