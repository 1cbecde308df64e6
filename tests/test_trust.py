"""No silently wrong gradient: each path that once returned a wrong number without a word.

Every test here failed on the code before the fix it covers (issue 13): data changed
between forward and backward, gradient arrays shared between Values, a user's rule that
edits its incoming gradient, concurrent backward passes, and the other cases named below.
A few more guard the mechanisms behind the fixes where they could break in new ways (a
gradient made its own when first read: the reading order, identity, accumulation).
"""

from __future__ import annotations

import sys
import threading

import numpy as np
import pytest

import minigrad as mg
from minigrad import Function, Value, autograd, nn
from minigrad.functions import Primitive
from tests.custom_ops import DoubleEditingGrad

# ------------------------------------------------------------ data changed after forward


def test_an_optimizer_step_between_forward_and_backward_is_refused():
    W = Value(np.array([1.0, 2.0]), name="W")
    l1 = (W * W).sum()
    l2 = (W * W * W).sum()
    opt = mg.optim.SGD([W], lr=0.5)
    l1.backward()
    opt.step()
    opt.zero_grad()
    with pytest.raises(RuntimeError, match=r"Value 'W' of shape \(2,\) was changed"):
        l2.backward()
    assert W.grad is None  # nothing half-accumulated


def test_the_graph_built_after_the_step_backpropagates_normally():
    W = Value(np.array([1.0, 2.0]))
    opt = mg.optim.SGD([W], lr=0.5)
    (W * W).sum().backward()
    opt.step()
    opt.zero_grad()
    (W * W * W).sum().backward()
    np.testing.assert_allclose(W.grad, 3 * W.data**2)


@pytest.mark.parametrize("data", [2.0, np.array([2.0, 3.0]), np.array([2.0, 3.0], np.float32)])
def test_augmented_assignment_to_data_is_seen_for_scalars_and_arrays(data):
    x = Value(data, name="x")
    y = (x * x).sum()
    x.data -= 0.5  # Python turns this into an assignment of .data
    with pytest.raises(RuntimeError, match="was changed"):
        y.backward()
    with pytest.raises(RuntimeError, match="was changed"):
        mg.grad(y, x)


def test_assigning_data_of_an_intermediate_node_is_refused():
    x = Value(np.array([0.5, 1.0]))
    h = x.exp()
    y = h.sum()
    h.data = np.zeros(2)
    with pytest.raises(RuntimeError, match=r"its input a Value of shape \(2,\) \(from exp\)"):
        y.backward()
    with pytest.raises(RuntimeError, match="its own data was changed"):
        h.backward(np.ones(2))  # exp's rule reads its output, which is no longer exp(x)


def test_loading_a_state_dict_between_forward_and_backward_is_refused():
    model = nn.MLP(2, [3, 1], seed=0)
    loss = model(Value(np.ones((4, 2)))).sum()
    model.load_state_dict({k: v + 1.0 for k, v in model.state_dict().items()})
    with pytest.raises(RuntimeError, match="was changed"):
        loss.backward()


def test_an_mlp_trained_with_a_stale_second_loss_raises_instead_of_mixing_weights():
    model = nn.MLP(2, [4, 1], seed=1)
    X = Value(np.random.default_rng(0).normal(size=(8, 2)), requires_grad=False)
    opt = mg.optim.Adam(model.parameters(), lr=0.1)
    first, second = model(X).sum(), (model(X) ** 2).sum()
    first.backward()
    opt.step()
    with pytest.raises(RuntimeError, match="before optimizer.step"):
        second.backward()


def test_gradcheck_leaves_no_trace_on_graphs_built_before_it():
    x = Value(np.array([0.3, -0.4]))
    y = (x * x.tanh()).sum()
    assert mg.gradcheck(lambda v: (v * v.tanh()).sum(), x).passed
    y.backward()  # gradcheck put the data back: the graph is still valid
    np.testing.assert_allclose(x.grad, mg.numerical_grad(lambda v: (v * v.tanh()).sum(), x))


# ------------------------------------------------------------ every .grad is its own array


def test_leaves_fed_through_one_add_get_separate_gradient_arrays():
    a, b, c = (Value(np.ones(3)) for _ in range(3))
    ((a + b) * c).sum().backward()
    assert a.grad is not b.grad
    for p in (a, b, c):
        p.grad *= 0.5
    np.testing.assert_array_equal(a.grad, 0.5 * np.ones(3))
    np.testing.assert_array_equal(b.grad, 0.5 * np.ones(3))


def test_intermediate_gradients_are_arrays_of_their_own_too():
    a = Value(np.ones(3))
    h = a * 2.0
    s = h + 0.0
    s.sum().backward()
    s.grad *= 10
    np.testing.assert_array_equal(h.grad, np.ones(3))
    np.testing.assert_array_equal(a.grad, 2 * np.ones(3))


def _chain_of_adds():
    """x -> x+0 -> ... : add hands the same array down the chain, so every node of it
    receives one array (stored as it comes, made each node's own when read)."""
    x = Value(np.ones(3))
    nodes = [x]
    for _ in range(4):
        nodes.append(nodes[-1] + 0.0)
    (nodes[-1] * 2.0).sum().backward()
    return nodes


@pytest.mark.parametrize("order", ["first to last", "last to first", "middle out"])
def test_gradients_handed_down_a_chain_of_adds_are_each_their_own_in_any_reading_order(order):
    nodes = _chain_of_adds()
    positions = list(range(len(nodes)))
    if order == "last to first":
        positions.reverse()
    elif order == "middle out":
        positions = [2, 0, 4, 1, 3]
    for k, i in enumerate(positions):  # edit each gradient as it is first read
        nodes[i].grad *= 10.0 + k
    for k, i in enumerate(positions):
        np.testing.assert_array_equal(nodes[i].grad, np.full(3, 2.0 * (10.0 + k)))
    assert len({id(node.grad) for node in nodes}) == len(nodes)


def test_reading_a_gradient_gives_the_same_array_every_time():
    a, b = Value(np.ones(2)), Value(np.ones(2))
    ((a + b) * 3.0).sum().backward()
    held = a.grad
    assert a.grad is held and b.grad is b.grad
    mg.optim.SGD([a, b], lr=0.1).step()  # reads .grad too
    held *= 0  # the array the user holds is still a.grad
    np.testing.assert_array_equal(a.grad, [0.0, 0.0])
    np.testing.assert_array_equal(b.grad, [3.0, 3.0])


def test_an_array_assigned_to_grad_is_kept_as_given():
    a = Value(np.ones(2))
    given = np.array([1.0, 2.0])
    a.grad = given
    assert a.grad is given  # as in PyTorch: the user's own array, not a copy
    (a * 1.0).sum().backward()  # accumulation makes a new array
    np.testing.assert_array_equal(a.grad, [2.0, 3.0])
    np.testing.assert_array_equal(given, [1.0, 2.0])


def test_a_second_pass_into_gradients_nobody_has_read_keeps_them_separate():
    a, b = Value(np.ones(2)), Value(np.ones(2))
    for _ in range(2):
        ((a + b) * 3.0).sum().backward()
    b.grad *= 0.5
    np.testing.assert_array_equal(a.grad, [6.0, 6.0])
    np.testing.assert_array_equal(b.grad, [3.0, 3.0])


def test_making_a_gradient_its_own_waits_for_a_backward_pass_in_another_thread():
    """A first read stores the gradient's own copy; done while another thread's backward
    pass adds into the same gradient, it could store a stale copy over the sum."""
    a, b = Value(np.ones(2)), Value(np.ones(2))
    ((a + b) * 3.0).sum().backward()  # a.grad and b.grad: one array, not read yet
    read: list = []
    with autograd._lock:  # what a backward pass holds
        reader = threading.Thread(target=lambda: read.append(a.grad))
        reader.start()
        reader.join(timeout=0.5)
        assert reader.is_alive() and read == []
    reader.join()
    np.testing.assert_array_equal(read[0], [3.0, 3.0])


def test_backward_never_stores_the_callers_gradient_array():
    a = Value(np.ones(3))
    y = a + 0.0
    seed = np.array([1.0, 2.0, 3.0])
    y.backward(gradient=seed)
    assert y.grad is not seed and a.grad is not seed
    y.grad *= 0
    a.grad *= 0
    np.testing.assert_array_equal(seed, [1.0, 2.0, 3.0])


def test_grad_returns_separate_arrays_for_inputs_that_receive_the_same_one():
    a, b = Value(np.ones(2)), Value(np.ones(2))
    ga, gb = mg.grad((a + b).sum(), [a, b])
    assert ga is not gb
    ga *= 3
    np.testing.assert_array_equal(gb, np.ones(2))


def test_clipping_shared_gradients_scales_each_once():
    a, b = Value(np.ones(2)), Value(np.ones(2))
    ((a + b) * 3.0).sum().backward()
    mg.optim.clip_grad_norm([a, b], max_norm=1.0)
    np.testing.assert_allclose(np.sqrt(np.sum(a.grad**2) + np.sum(b.grad**2)), 1.0, rtol=1e-5)


# ------------------------------------------------------------ a rule that edits its gradient


def test_a_rule_that_edits_its_incoming_gradient_in_place_raises_at_that_line():
    a, b, c = Value(np.ones(2)), Value(np.ones(2)), Value(np.full(2, 3.0))
    y = ((DoubleEditingGrad.apply(a) + b) * c).sum()
    with pytest.raises(ValueError, match="read-only"):
        y.backward()
    assert b.grad is None and c.grad is None


def test_a_rule_that_returns_its_incoming_gradient_still_gives_writable_grads():
    class Identity(Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad

    a = Value(np.ones(2))
    h = Identity.apply(a)
    h.sum().backward()
    a.grad *= 2
    h.grad *= 3
    np.testing.assert_array_equal(a.grad, [2.0, 2.0])


def _reuses_a_buffer(base: type) -> type:
    """An operation x -> 2x on ``base`` whose backward writes every result into one buffer
    it keeps."""

    class Twice(base):
        buffer = np.zeros(2)

        @staticmethod
        def forward(ctx, x):
            return 2 * x

        @staticmethod
        def backward(ctx, grad):
            np.multiply(grad, 2.0, out=Twice.buffer)
            return Twice.buffer

    return Twice


def _two_passes(cls: type) -> np.ndarray:
    """a.grad after two unread passes through cls with seeds [1, 1] and [10, 20]; a rule
    that doubles its gradient must give 2 * [11, 21] = [22, 42]."""
    a = Value(np.ones(2))
    y = cls.apply(a)
    y.backward(np.array([1.0, 1.0]))  # a.grad is not read before the next pass
    y.backward(np.array([10.0, 20.0]))
    return a.grad


def test_a_rule_that_reuses_the_array_it_returns_cannot_change_a_stored_gradient():
    """Gradients are stored as they come and made their own when first read; a user's rule
    that writes each result into one buffer must not change what an earlier pass stored."""
    np.testing.assert_array_equal(_two_passes(_reuses_a_buffer(Function)), [22.0, 42.0])


# ------------------------------------------------------------ create_graph=True gradients: clones


def test_create_graph_add_gives_each_input_a_grad_of_its_own():
    """create_graph=True: add stored one Value as both inputs' .grad (b.grad *= 10 changed
    a.grad)."""
    a, b = Value(2.0), Value(3.0)
    (a + b).backward(create_graph=True)
    b.grad *= 10
    assert a.grad is not b.grad
    assert float(a.grad.data) == 1.0  # PyTorch: 1.0 (AccumulateGrad clones in this mode)


def test_create_graph_grad_is_not_a_view_of_another_nodes_grad():
    """create_graph=True: reshape's rule made x.grad's data a view of y.grad's."""
    x = Value(np.array([1.0, 2.0]))
    y = x.reshape(2, 1)
    (y * 3.0).sum().backward(create_graph=True)
    x.grad *= 2
    np.testing.assert_array_equal(x.grad.data, [6.0, 6.0])
    np.testing.assert_array_equal(y.grad.data, [[3.0], [3.0]])


def test_create_graph_grad_returns_a_value_of_its_own_for_each_input():
    """create_graph=True: grad() returned add's one gradient Value for both inputs, so an
    in-place change to one changed the other (PyTorch returns one tensor for both)."""
    a, b = Value(np.ones(2)), Value(np.ones(2))
    ga, gb, again = mg.grad((a + b).sum(), [a, b, a], create_graph=True)
    assert ga is not gb and ga is not again
    ga *= 10
    np.testing.assert_array_equal(gb.data, [1.0, 1.0])
    np.testing.assert_array_equal(again.data, [1.0, 1.0])


def test_create_graph_seed_value_never_becomes_a_grad():
    """backward(gradient=v, create_graph=True) stored the caller's own v as x.grad."""
    x = Value(np.ones(2))
    y = x + 0.0
    v = Value(np.ones(2), requires_grad=False)
    y.backward(gradient=v, create_graph=True)
    v *= 10  # the caller reuses its seed (a constant: changed in place)
    assert x.grad is not v
    np.testing.assert_array_equal(x.grad.data, [1.0, 1.0])


# ------------------------------------------------------------ user rules that escape the guard


def test_backward_inherited_from_a_mixin_has_its_result_copied():
    """A backward inherited from a mixin escaped _guard_user_rule (a reused buffer)."""

    class ReusesBuffer:  # one backward shared by several Functions
        buffer = np.zeros(2)

        @staticmethod
        def backward(ctx, grad):
            np.multiply(grad, 2.0, out=ReusesBuffer.buffer)
            return ReusesBuffer.buffer

    class Twice(ReusesBuffer, Function):
        @staticmethod
        def forward(ctx, x):
            return 2 * x

    np.testing.assert_array_equal(_two_passes(Twice), [22.0, 42.0])


def test_backward_assigned_after_the_class_is_defined_has_its_result_copied():
    """A backward assigned after the class statement escaped the guard (a reused buffer)."""

    class Twice(Function):
        @staticmethod
        def forward(ctx, x):
            return 2 * x

        @staticmethod
        def backward(ctx, grad):
            return grad * 2.0

    buffer = np.zeros(2)

    def faster_backward(ctx, grad):  # a notebook swaps in a new version of the rule
        np.multiply(grad, 2.0, out=buffer)
        return buffer

    Twice.backward = staticmethod(faster_backward)
    np.testing.assert_array_equal(_two_passes(Twice), [22.0, 42.0])


def test_uncaptioned_primitive_variant_has_its_result_copied():
    """A Primitive subclass without a caption, a user's variant, escaped the guard."""
    np.testing.assert_array_equal(_two_passes(_reuses_a_buffer(Primitive)), [22.0, 42.0])


def test_an_ndarray_subclass_gradient_is_made_each_values_own():
    """A user rule returning a numpy.ma array, handed by add to p and q, was never copied
    (an exact-type check): p.grad *= 10 changed q.grad."""

    class Half(Function):
        @staticmethod
        def forward(ctx, x):
            return x / 2

        @staticmethod
        def backward(ctx, grad):
            return np.ma.masked_invalid(grad) / 2  # skip NaNs, a learner's numpy

    p, q = Value(np.ones(2)), Value(np.ones(2))
    Half.apply(p + q).sum().backward()
    p.grad *= 10
    np.testing.assert_array_equal(np.asarray(p.grad), [5.0, 5.0])
    np.testing.assert_array_equal(np.asarray(q.grad), [0.5, 0.5])


# ------------------------------------------------------------ threads


@pytest.fixture
def tiny_switch_interval():
    """Switch threads as often as possible, so a race shows up in a short test."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(previous)


def _in_threads(work, n_threads: int = 4) -> list:
    failures: list = []

    def run():
        try:
            work()
        except Exception as error:  # collected, then reported by the test
            failures.append(error)

    threads = [threading.Thread(target=run) for _ in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return failures


def test_grad_from_several_threads_on_graphs_sharing_a_parameter(tiny_switch_interval):
    W = Value(np.array([[1.0, 2.0], [3.0, 4.0]]))
    wrong = []

    def work():
        rng = np.random.default_rng(threading.get_ident() % 2**32)
        for _ in range(600):
            x = Value(rng.normal(size=2), requires_grad=False)
            g = mg.grad((W @ x + W @ x).sum(), W)
            if not np.allclose(g, 2 * np.outer(np.ones(2), x.data)):
                wrong.append(g)

    failures = _in_threads(work)
    assert not failures and not wrong


def test_grad_from_several_threads_through_one_shared_graph(tiny_switch_interval):
    W = Value(np.array([[1.0, 2.0], [3.0, 4.0]]))
    x = Value(np.array([0.5, -1.0]), requires_grad=False)
    y = ((W @ x).tanh() * (W @ x)).sum()
    reference = mg.grad(y, W)
    wrong = []

    def work():
        for _ in range(500):
            g = mg.grad(y, W)
            if not np.allclose(g, reference):
                wrong.append(g)

    failures = _in_threads(work)
    assert not failures and not wrong


def test_backward_from_several_threads_accumulates_the_sum(tiny_switch_interval):
    W = Value(np.array([1.0, -2.0, 0.5]))
    calls = 400

    def work():
        for _ in range(calls):
            (W * W + W).sum().backward()

    failures = _in_threads(work)
    assert not failures
    np.testing.assert_allclose(W.grad, 4 * calls * (2 * W.data + 1))


# ------------------------------------------------------------ the same input twice


def test_grad_gives_each_position_of_a_repeated_input_its_gradient():
    x = Value(3.0)
    assert mg.grad(x * x, [x, x]) == (6.0, 6.0)
    a = Value(np.array([1.0, 2.0]))
    ga1, ga2 = mg.grad((a * a).sum(), [a, a])
    np.testing.assert_array_equal(ga1, [2.0, 4.0])
    assert ga1 is not ga2


# ------------------------------------------------------------ negative axes


@pytest.mark.parametrize(
    "axes", [(-1, 0, 1), (2, -3, -2), (-1, -2, -3), (1, -1, 0)], ids=str
)
def test_transpose_with_negative_axes_back_propagates_through_the_same_permutation(axes):
    data = np.arange(24.0).reshape(2, 3, 4)
    x = Value(data)
    y = x.transpose(axes)
    positive = tuple(a % 3 for a in axes)
    np.testing.assert_array_equal(y.data, data.transpose(positive))
    weights = np.random.default_rng(0).normal(size=y.shape)
    (y * weights).sum().backward()
    np.testing.assert_array_equal(x.grad, weights.transpose(np.argsort(positive)))


def _reductions():
    F = nn.functional
    return {
        "sum": lambda v, a: v.sum(a),
        "mean": lambda v, a: v.mean(a),
        "max": lambda v, a: v.max(a),
        "min": lambda v, a: v.min(a),
        "sum keepdims": lambda v, a: v.sum(a, keepdims=True),
        "logsumexp": lambda v, a: F.logsumexp(v, a),
        "softmax": lambda v, a: F.softmax(v, a),
        "log_softmax": lambda v, a: F.log_softmax(v, a),
        "concat": lambda v, a: mg.concat([v, v * 2.0], axis=a),
        "stack": lambda v, a: mg.stack([v, v * 2.0], axis=a),
    }


@pytest.mark.parametrize("name", sorted(_reductions()))
@pytest.mark.parametrize("axis", [-1, -2, -3, (-1, 0), (0, -2)], ids=str)
def test_every_operation_with_an_axis_treats_negative_axes_as_numpy(name, axis):
    op = _reductions()[name]
    single = isinstance(axis, int)
    if not single and name in ("softmax", "log_softmax", "concat", "stack"):
        pytest.skip("takes one axis")
    data = np.random.default_rng(1).normal(size=(2, 3, 4))
    ndim = 4 if name == "stack" else 3  # stack's axis counts in its output
    positive = axis % ndim if single else tuple(a % ndim for a in axis)
    x_neg, x_pos = Value(data), Value(data)
    y_neg, y_pos = op(x_neg, axis), op(x_pos, positive)
    np.testing.assert_allclose(y_neg.data, y_pos.data)
    weights = np.random.default_rng(2).normal(size=y_neg.shape)
    (y_neg * weights).sum().backward()
    (y_pos * weights).sum().backward()
    np.testing.assert_allclose(x_neg.grad, x_pos.grad)


# ------------------------------------------------------------ in-place arithmetic


def test_in_place_arithmetic_on_a_parameter_is_refused_with_the_fix():
    p = Value(np.ones(2), name="p")
    p.grad = np.ones(2)
    for p_ in [p]:  # the loop a learner writes: it would only rebind p_
        with pytest.raises(RuntimeError, match=r"\(p.data -= \.\.\.\), use an optimizer"):
            p_ -= 0.1 * p_.grad
    np.testing.assert_array_equal(p.data, [1.0, 1.0])


def test_in_place_arithmetic_inside_no_grad_updates_the_data_in_place():
    p = Value(np.ones(2))
    data = p.data
    same = p
    with mg.no_grad():
        p -= 0.25
        p *= 2.0
    assert p is same and p.data is data  # the same Value and the same array
    np.testing.assert_array_equal(p.data, [1.5, 1.5])
    s = Value(2.0)
    with mg.no_grad():
        s **= 3
    assert s.data == 8.0 and s.is_leaf


def test_in_place_update_inside_no_grad_marks_old_graphs_stale():
    p = Value(np.ones(2))
    y = (p * p).sum()
    with mg.no_grad():
        p -= 0.5
    with pytest.raises(RuntimeError, match="was changed"):
        y.backward()


def test_in_place_arithmetic_on_a_computed_value_is_ordinary_arithmetic():
    x = Value(2.0)
    h = x * 3.0
    before = h
    h += 1.0
    assert h is not before and h.data == 7.0
    h.backward()
    assert x.grad == 3.0


def test_in_place_arithmetic_cannot_change_the_shape():
    c = Value(np.ones(2), requires_grad=False)
    with pytest.raises(ValueError, match=r"cannot change the shape .* to \(3, 2\)"):
        c += np.ones((3, 2))


def test_assigning_a_computed_value_over_a_module_parameter_is_refused():
    model = nn.Layer(2, 1, seed=0)
    W = model.W
    with pytest.raises(TypeError, match=r"Layer.W is a parameter"):
        model.W = model.W - 0.1
    assert model.W is W and W in model.parameters()
    with pytest.raises(RuntimeError, match="a leaf that requires grad"):
        model.W -= 0.1
    with mg.no_grad():
        model.W -= 0.1  # the PyTorch idiom: in place, the parameter stays
    assert model.W is W and W in model.parameters()


# ------------------------------------------------------------ edge rules, as in PyTorch


def test_the_derivative_of_x_to_the_zero_is_zero_even_at_zero():
    assert mg.grad(Value(0.0) ** 0.0, [Value(0.0)], allow_unused=True) == (None,)
    x = Value(0.0)
    assert mg.grad(x**0.0, x) == 0.0
    xs = Value(np.array([0.0, 2.0, 0.0]))
    g = mg.grad((xs ** np.array([0.0, 2.0, 2.0])).sum(), xs)
    np.testing.assert_array_equal(g, [0.0, 4.0, 0.0])


def test_the_derivative_of_zero_to_the_y_in_y():
    y = Value(np.array([-1.0, 0.0, 2.0]))
    with np.errstate(divide="ignore"):
        g = mg.grad((Value(np.zeros(3), requires_grad=False) ** y).sum(), y)
    np.testing.assert_array_equal(g, [-np.inf, 0.0, 0.0])
    z = Value(-1.0)
    with np.errstate(divide="ignore"):
        assert mg.grad(0.0**z, z) == -np.inf


def test_relu_abs_and_max_treat_nan_as_pytorch_does():
    nan = float("nan")
    x = Value(nan)
    y = x.relu()
    assert np.isnan(y.data)  # the scalar path as the array path
    y.backward()
    assert x.grad == 1.0  # PyTorch: the gradient passes where not out <= 0
    xs = Value(np.array([nan, 1.0, -2.0]))
    xs.abs().sum().backward()
    np.testing.assert_array_equal(xs.grad, [0.0, 1.0, -1.0])
    m = Value(np.array([nan, 1.0, 3.0]))
    assert np.isnan(m.max().data)
    m.max().backward()
    np.testing.assert_array_equal(m.grad, [1.0, 0.0, 0.0])


@pytest.mark.parametrize("data", [3.0, np.float32(3.0)], ids=["float", "float32"])
def test_zero_dimensional_values_follow_numpy_and_pytorch(data):
    F = nn.functional
    x = Value(data)
    for y in (x.sum(0), x.sum(-1), x.mean(0), x.mean(-1), x.max(0), x.T, x.transpose()):
        assert y.shape == () and float(y.data) == 3.0 and y.dtype == x.dtype
    assert x.reshape(-1).shape == (1,)
    assert x[None].shape == (1,) and x[...].shape == ()
    assert float(F.softmax(x, 0).data) == 1.0 and float(F.log_softmax(x, -1).data) == 0.0
    assert mg.grad(x[None].sum() * 2.0, x) == 2.0
    with pytest.raises(IndexError, match="0-d Value can only be indexed with None"):
        x[0]


def test_relu_keeps_float32_under_create_graph_and_so_does_every_primitive():
    x = Value(np.array([0.5, -1.0, 2.0], np.float32))
    ops = {
        "relu": lambda v: v.relu(),
        "abs": lambda v: v.abs(),
        "tanh": lambda v: v.tanh(),
        "sigmoid": lambda v: v.sigmoid(),
        "exp": lambda v: v.exp(),
        "pow": lambda v: v**2.0,
        "max": lambda v: v.max(),
        "transpose": lambda v: v.reshape(3, 1).T,
        "getitem": lambda v: v[1:],
        "where": lambda v: mg.where(v.data > 0, v, v * 2.0),
        "concat": lambda v: mg.concat([v, v]),
        "matmul": lambda v: v @ v,
    }
    for name, op in ops.items():
        (g,) = mg.grad(op(x).sum(), [x], create_graph=True)
        assert g.dtype == np.float32, name
        if g.requires_grad:  # relu's and abs's derivatives are constants
            (gg,) = mg.grad(g.sum(), [x], allow_unused=True)
            assert gg is None or gg.dtype == np.float32, name


# ------------------------------------------------------------ bad inputs: clear errors


def test_truth_of_a_value():
    assert bool(Value(1.0)) and not bool(Value(0.0)) and bool(Value(np.array([2.0])))
    with pytest.raises(ValueError, match="ambiguous: it has 3 elements"):
        bool(Value(np.ones(3)))


def test_numpy_functions_on_values():
    v = Value(np.array([1.0, 2.0, 3.0]))
    assert np.sum(v).data == 6.0 and np.mean(v).data == 2.0 and np.max(v).data == 3.0
    with pytest.raises(TypeError, match="out= is not supported"):
        np.sum(v, out=np.zeros(()))
    with pytest.raises(TypeError, match="it requires grad, and an array would drop its graph"):
        np.asarray(v)
    np.testing.assert_array_equal(np.asarray(v.detach()), [1.0, 2.0, 3.0])


@pytest.mark.parametrize(
    "action, error, says",
    [
        (lambda: Value(np.ones(3)).sum(axis=0.0), TypeError, "axis must be an int"),
        (lambda: Value(np.ones(3)).sum(axis=(0, 0)), ValueError, "names the same axis twice"),
        (lambda: mg.grad(Value(2.0) * 2.0, 3.0), TypeError, "must be a Value or a sequence"),
        (lambda: mg.grad(Value(2.0) * 2.0, [3.0]), TypeError, "got a float among them"),
        (lambda: Value(np.ones(6)).reshape(2.9, 2), TypeError, "must be whole numbers, got 2.9"),
        (lambda: Value(np.ones(6)).transpose(0.0), TypeError, "must be whole numbers"),
        (lambda: Value(2**1100), ValueError, "beyond the range of float64"),
        (lambda: Value([2**1100, 1]), ValueError, "beyond the range of float64"),
        (lambda: Value([1.0, None]), TypeError, "containing NoneType None"),
        (lambda: Value(1.0, requires_grad="no"), TypeError, "requires_grad must be True or False"),
        (lambda: (Value(np.ones(3)) * 1.0).backward([1, None, 1]), TypeError, "must hold numbers"),
    ],
)
def test_bad_inputs_get_clear_errors(action, error, says):
    with pytest.raises(error, match=says):
        action()


def test_large_python_integers_in_a_list_become_float64_as_a_lone_one_does():
    v = Value([2**70, 1])
    assert v.dtype == np.float64 and v.data[0] == float(2**70) == Value(2**70).data
