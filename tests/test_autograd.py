"""The backward pass: graph shapes, accumulation, modes, higher order, custom Functions."""

from __future__ import annotations

import math
import threading
import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad import Function, Value
from tests.custom_ops import Softplus
from tests.reference import central_difference


def test_micrograd_reference_expression():
    # The expression from micrograd's test suite; the numbers are PyTorch's.
    a, b = Value(-4.0), Value(2.0)
    c = a + b
    d = a * b + b**3
    c = c + c + 1
    c = c + 1 + c + (-a)
    d = d + d * 2 + (b + a).relu()
    d = d + 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g = g + 10.0 / f
    g.backward()
    assert math.isclose(g.data, 24.70408163265306, rel_tol=1e-12)
    assert math.isclose(a.grad, 138.83381924198252, rel_tol=1e-12)
    assert math.isclose(b.grad, 645.5772594752186, rel_tol=1e-12)


def test_reused_node_gets_every_contribution():
    a = Value(3.0)
    b = a + a
    c = b + b
    c.backward()
    assert a.grad == 4.0 and b.grad == 2.0


def test_diamond():
    x = Value(2.0)
    u, v = x * 3.0, x * x
    y = u * v  # 3x * x^2 = 3x^3
    y.backward()
    assert math.isclose(x.grad, 9 * 2.0**2)


def test_deep_chain_of_a_million_operations():
    x = Value(1.0)
    h = x
    for _ in range(1_000_000):
        h = h + 1e-6
    h.backward()
    assert x.grad == 1.0
    assert math.isclose(h.data, 2.0, rel_tol=1e-9)


def test_wide_graph_one_node_feeding_100k_others():
    x = Value(np.array([0.5, -0.5]))
    total = sum((x * float(i % 7)).sum() for i in range(100_000))
    total.backward()
    assert np.allclose(x.grad, sum(i % 7 for i in range(100_000)))


def test_gradients_accumulate_until_reset():
    x = Value(2.0)
    y = x * x
    y.backward()
    y.backward()
    assert x.grad == 8.0  # 2 * dy/dx, as in PyTorch
    x.zero_grad()
    y.backward()
    assert x.grad == 4.0


def test_second_backward_does_not_double_count_intermediates():
    # Intermediate grads accumulate too, but each pass propagates only its own gradient.
    x = Value(1.5)
    h = (x * 2.0).tanh()
    out = h * 3.0
    out.backward()
    first = x.grad
    out.backward()
    assert math.isclose(x.grad, 2 * first)


def test_intermediate_grads_false_keeps_only_the_leaves_gradients():
    rng = np.random.default_rng(0)
    W, b = Value(rng.normal(size=(3, 2))), Value(rng.normal(size=2))
    x = Value(rng.normal(size=(4, 3)), requires_grad=False)
    h = (x @ W + b).tanh()
    loss = (h * h).sum()
    loss.backward()
    kept = W.grad.copy(), b.grad.copy()
    intermediates = [n for n in mg.autograd.topological_order(loss) if n.grad_fn is not None]
    assert len(intermediates) == 5 and all(n.grad is not None for n in intermediates)
    before = [n.grad.copy() for n in intermediates]

    W.zero_grad()
    b.zero_grad()
    loss.backward(intermediate_grads=False)
    np.testing.assert_array_equal(W.grad, kept[0])
    np.testing.assert_array_equal(b.grad, kept[1])
    for node, grad in zip(intermediates, before):  # left as they were, not accumulated
        np.testing.assert_array_equal(node.grad, grad)
    assert x.grad is None

    fresh = ((x @ W + b).tanh() ** 2).sum()
    fresh.backward(intermediate_grads=False)  # leaves accumulate as usual
    np.testing.assert_allclose(W.grad, 2 * kept[0])
    assert all(
        n.grad is None for n in mg.autograd.topological_order(fresh) if n.grad_fn is not None
    )


def test_non_scalar_backward_needs_a_gradient_of_its_shape():
    v = Value(np.ones((2, 3)))
    y = v * 2
    with pytest.raises(RuntimeError, match=r"non-scalar Value of shape \(2, 3\)"):
        y.backward()
    with pytest.raises(ValueError, match=r"gradient passed to backward has shape \(3,\)"):
        y.backward(np.ones(3))
    y.backward(np.full((2, 3), 0.5))
    assert np.allclose(v.grad, 1.0)


def test_backward_of_a_value_that_does_not_require_grad():
    c = Value(2.0, requires_grad=False) * 3.0
    with pytest.raises(RuntimeError, match="does not require grad"):
        c.backward()


def test_no_grad_and_detach_cut_the_graph():
    x = Value(2.0)
    with mg.no_grad():
        y = x * x
        assert not mg.is_grad_enabled()
        with mg.enable_grad():
            z = x * 5
    assert mg.is_grad_enabled()
    assert not y.requires_grad and z.requires_grad
    w = x * x.detach()  # d/dx (x * const) = const
    w.backward()
    assert x.grad == 2.0


def test_no_grad_is_thread_local():
    seen = {}

    def other():
        seen["enabled"] = mg.is_grad_enabled()
        seen["requires"] = (Value(1.0) * 2).requires_grad

    with mg.no_grad():
        t = threading.Thread(target=other)
        t.start()
        t.join()
    assert seen == {"enabled": True, "requires": True}


def test_two_threads_training_separate_models_do_not_interfere():
    results = {}

    def train(seed):
        rng = np.random.default_rng(seed)
        w = Value(rng.normal(size=3))
        x = rng.normal(size=(50, 3))
        y = x @ np.array([1.0, -2.0, 0.5])
        for _ in range(200):
            loss = ((Value(x) @ w - y) ** 2).mean()
            w.grad = None
            loss.backward()
            with mg.no_grad():
                w.data = w.data - 0.1 * w.grad
        results[seed] = w.data

    threads = [threading.Thread(target=train, args=(s,)) for s in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in (1, 2):
        assert np.allclose(results[s], [1.0, -2.0, 0.5], atol=1e-3)


# ------------------------------------------------------------------ higher order


def test_second_derivative_of_tanh():
    x = Value(0.7)
    (g,) = mg.grad(x.tanh(), [x], create_graph=True)
    (gg,) = mg.grad(g, [x])
    t = math.tanh(0.7)
    assert math.isclose(g.data, 1 - t * t, rel_tol=1e-12)
    assert math.isclose(gg, -2 * t * (1 - t * t), rel_tol=1e-12)


@pytest.mark.parametrize(
    "f, d2",
    [
        (lambda x: x**3, lambda x: 6 * x),
        (lambda x: x.exp(), math.exp),
        (lambda x: x.log(), lambda x: -1 / x**2),
        (lambda x: x.sigmoid(), lambda x: (s := 1 / (1 + math.exp(-x))) * (1 - s) * (1 - 2 * s)),
        (lambda x: x.sqrt(), lambda x: -0.25 * x**-1.5),
        (lambda x: 1 / x, lambda x: 2 / x**3),
        (lambda x: x * x.relu(), lambda x: 2.0 if x > 0 else 0.0),
        (lambda x: 2.0**x, lambda x: math.log(2) ** 2 * 2**x),
    ],
)
def test_second_derivatives_against_closed_forms(f, d2):
    for x0 in (0.3, 1.7):
        x = Value(x0)
        f(x).backward(create_graph=True)
        first = x.grad
        assert isinstance(first, Value)
        x.grad = None
        first.backward()
        assert math.isclose(x.grad, d2(x0), rel_tol=1e-9)


def test_hessian_vector_product_of_a_quadratic_form():
    rng = np.random.default_rng(3)
    A = rng.normal(size=(4, 4))
    A = A + A.T
    w = Value(rng.normal(size=4))
    loss = 0.5 * (w @ (A @ w))
    (g,) = mg.grad(loss, [w], create_graph=True)
    v = rng.normal(size=4)
    (hv,) = mg.grad((g * v).sum(), [w])
    assert np.allclose(hv, A @ v)


def test_create_graph_through_matmul_sum_max_and_indexing():
    # d/dx of the gradient of f, checked against finite differences of the gradient.
    def f(x):
        return ((x @ x.T).tanh().max(axis=1) * x[:, 0]).sum()

    x0 = np.random.default_rng(1).normal(size=(3, 2))
    x = Value(x0)
    (g,) = mg.grad(f(x), [x], create_graph=True)
    u = np.random.default_rng(2).normal(size=(3, 2))
    (hu,) = mg.grad((g * u).sum(), [x])

    def directional(x_arr):
        xv = Value(x_arr)
        (gx,) = mg.grad(f(xv), [xv])
        return float(np.sum(gx * u))

    (expected,) = central_difference(directional, [x0])
    assert np.allclose(hu, expected, rtol=1e-5, atol=1e-6)


def test_grad_leaves_dot_grad_alone_and_reports_unused_inputs():
    x, y = Value(2.0), Value(5.0)
    out = x * 3.0
    assert mg.grad(out, x) == 3.0
    assert x.grad is None
    with pytest.raises(ValueError, match="not used"):
        mg.grad(out, [x, y])
    assert mg.grad(out, [x, y], allow_unused=True) == (3.0, None)
    with pytest.raises(ValueError, match="does not require grad"):
        mg.grad(out, [Value(1.0, requires_grad=False)])


def test_grad_with_several_outputs_and_grad_outputs():
    x = Value(np.array([1.0, 2.0]))
    a, b = x * 2, (x * x).sum()
    gx = mg.grad([a, b], x, grad_outputs=[np.array([1.0, 1.0]), None])
    assert np.allclose(gx, 2 + 2 * x.data)
    with pytest.raises(ValueError, match="grad_outputs has 1 entries for 2 outputs"):
        mg.grad([a, b], x, grad_outputs=[None])


# ------------------------------------------------------------------ custom Functions


class Cube(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        ctx.power = 3
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * ctx.power * x * x


def test_custom_function_is_a_first_class_node():
    x = Value(np.array([-1.0, 0.0, 2.0]), name="x")
    y = Softplus.apply(x)
    assert y.op == "Softplus" and y.parents == (x,)
    y.sum().backward()
    expected = central_difference(lambda a: float(np.logaddexp(0, a).sum()), [x.data])[0]
    assert np.allclose(x.grad, expected, atol=1e-7)


def test_custom_function_accepts_numbers_and_arrays():
    y = Softplus.apply(np.array([0.0]))
    assert not y.requires_grad and np.allclose(y.data, np.log(2))


def test_custom_function_differentiable_backward_gives_second_derivatives():
    x = Value(1.5)
    (g,) = mg.grad(Cube.apply(x), [x], create_graph=True)
    (gg,) = mg.grad(g, [x])
    assert math.isclose(g.data, 3 * 1.5**2) and math.isclose(gg, 6 * 1.5)


def test_array_only_backward_says_it_cannot_be_differentiated_twice():
    x = Value(1.0)
    (g,) = mg.grad(Softplus.apply(x), [x], create_graph=True)
    assert math.isclose(g.data, 1 / (1 + math.exp(-1.0)))
    with pytest.raises(RuntimeError, match="Softplus.backward a second time"):
        g.backward()


def test_custom_function_errors():
    class NoBackward(Function):
        @staticmethod
        def forward(ctx, x):
            return x

    class WrongCount(Function):
        @staticmethod
        def forward(ctx, x, y):
            return x + y

        @staticmethod
        def backward(ctx, grad):
            return grad

    class WrongShape(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return np.ones(5)

    class ReturnsText(Function):
        @staticmethod
        def forward(ctx, x):
            return "nope"

        @staticmethod
        def backward(ctx, grad):
            return grad

    with pytest.raises(NotImplementedError, match="NoBackward does not define backward"):
        NoBackward.apply(Value(1.0))
    with pytest.raises(RuntimeError, match="WrongCount.backward returned 1 gradients for 2"):
        WrongCount.apply(Value(1.0), Value(2.0)).backward()
    x = Value(np.ones(3))
    with pytest.raises(ValueError, match=r"WrongShape.backward returned a gradient of shape"):
        WrongShape.apply(x).sum().backward()
    with pytest.raises(TypeError, match="ReturnsText.forward returned unusable data"):
        ReturnsText.apply(Value(1.0))


def test_failed_backward_leaves_no_half_accumulated_state():
    class Boom(Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, grad):
            raise ZeroDivisionError("boom")

    x = Value(2.0)
    y = x * 3.0
    z = Boom.apply(y) + y
    with pytest.raises(ZeroDivisionError):
        z.backward()
    assert y._pending_grad is None and x._pending_grad is None
    w = y * 1.0
    w.backward()
    assert x.grad == 3.0


def test_ctx_reserved_attribute_names_explain_themselves():
    class UsesShape(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.shape = np.shape(x)
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad

    with pytest.raises(AttributeError, match="read-only attribute"):
        UsesShape.apply(Value(1.0))


# ------------------------------------------------------------------ numerics


@pytest.mark.parametrize("x0", [1000.0, -1000.0, 1e4, -1e4])
@pytest.mark.parametrize("op", ["tanh", "sigmoid", "relu", "abs"])
def test_saturating_activations_stay_finite(op, x0):
    for data in (x0, np.array([x0, -x0, 0.5])):
        x = Value(data)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # not even a warning
            y = getattr(x, op)()
            y.sum().backward()
        assert np.all(np.isfinite(y.data)) and np.all(np.isfinite(x.grad))


def test_ieee_results_with_numpy_warnings_not_exceptions():
    with pytest.warns(RuntimeWarning):
        assert Value(0.0).log().data == -math.inf
    with pytest.warns(RuntimeWarning):
        assert Value(0.0) ** -1.0 is not None and (Value(0.0) ** -1.0).data == math.inf
    with pytest.warns(RuntimeWarning):
        assert (1.0 / Value(0.0)).data == math.inf
    with pytest.warns(RuntimeWarning):
        assert Value(1000.0).exp().data == math.inf
    with pytest.warns(RuntimeWarning):
        assert math.isnan((Value(-8.0) ** (1 / 3)).data)


def test_broadcast_reduction_in_one_place():
    b = Value(np.array([1.0, 2.0, 3.0]))  # broadcast over rows
    s = Value(2.0)  # a scalar broadcast over everything
    c = Value(np.ones((4, 1)))  # broadcast over columns
    y = (Value(np.ones((4, 3))) * b * s + c).sum()
    y.backward()
    assert b.grad.shape == (3,) and np.allclose(b.grad, 8.0)
    assert type(s.grad) is float and s.grad == 24.0
    assert c.grad.shape == (4, 1) and np.allclose(c.grad, 3.0)


def test_custom_function_that_saves_its_output_differentiates_twice():
    class CubeFromOutput(Function):
        differentiable_backward = True

        @staticmethod
        def forward(ctx, x):
            out = x**3
            ctx.save_for_backward(x, out)
            return out

        @staticmethod
        def backward(ctx, grad):
            x, out = ctx.saved_tensors
            return grad * 3 * out / x  # 3x^2, written through the saved output

    for data in (1.5, np.array([1.5, -0.5])):
        x = Value(data)
        (g,) = mg.grad(CubeFromOutput.apply(x).sum(), [x], create_graph=True)
        (gg,) = mg.grad(g.sum(), [x])
        assert np.allclose(gg, 6 * np.asarray(data))


def test_leaf_gradients_are_writable_arrays_of_their_own():
    x = Value(np.ones((2, 3)))
    x.sum().backward()  # the sum's backward broadcasts: a read-only view, before copying
    x.grad *= 0.5
    assert np.allclose(x.grad, 0.5)
    a, b = Value(np.ones((2, 3))), Value(np.ones((1, 3)))
    (mg.concat([a, b]) * 2.0).sum().backward()  # each gradient is a slice of one array
    a.grad[0, 0] = 10.0
    assert np.allclose(b.grad, 2.0) and a.grad[1, 0] == 2.0
