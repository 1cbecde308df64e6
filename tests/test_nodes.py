"""Every way of making a node sets every slot of it.

``value._fill`` is the one function that sets a node's slots; ``Primitive.apply`` writes
the same lines out for speed.  A slot added to ``Value`` and forgotten on one path would
make that path's nodes raise AttributeError far from the cause (in backward, in a
picture), so every path is listed here and checked slot by slot.
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import expr
from minigrad import functions as F
from minigrad.gradcheck.localize import check_node
from minigrad.value import Value, _new_node, as_value
from tests.custom_ops import Square

SLOTS = [name for name in Value.__slots__ if not name.startswith("__")]


def unset_slots(node: Value) -> list:
    """The slots of ``node`` that were never assigned (reading them raises)."""
    missing = []
    for name in SLOTS:
        try:
            Value.__dict__[name].__get__(node, Value)
        except AttributeError:
            missing.append(name)
    return missing


def ways_of_making_a_node() -> dict:
    a = Value(np.array([1.0, -2.0]), name="a")
    s = Value(3.0)
    ways = {
        "Value(float)": lambda: Value(1.5),
        "Value(array)": lambda: Value([[1.0, 2.0]]),
        "Value(requires_grad=False)": lambda: Value(2.0, requires_grad=False),
        "as_value(float)": lambda: as_value(0.5),
        "as_value(int)": lambda: as_value(3),
        "as_value(array)": lambda: as_value(np.ones(2)),
        "detach": lambda: a.detach(),
        "a constant operand: (1 - a).parents[0]": lambda: (1 - a).parents[0],
        "one input": lambda: a.exp(),
        "two inputs": lambda: Value(1.0) * 2,
        "three inputs": lambda: F.where(np.array([True, False]), a, -a),
        "keyword parameters": lambda: a.sum(axis=0),
        "constants only": lambda: as_value(2.0) * as_value(3.0),
        "inside no_grad": lambda: _in_no_grad(lambda: a * a),
        "anomaly mode": lambda: _in_anomaly(lambda: a * s),
        "a custom Function": lambda: Square.apply(a),
        "a custom Function on constants": lambda: Square.apply(np.ones(2)),
        "a custom Function inside no_grad": lambda: _in_no_grad(lambda: Square.apply(a)),
        "a gradient with create_graph": lambda: _graph_grad(a),
        "a custom rule's gradient with create_graph": lambda: _graph_grad(a, Square.apply),
        "the expression reader": lambda: expr.evaluate("x * y", {"x": 2.0, "y": 3.0}),
        "a module's parameter": lambda: mg.nn.Linear(2, 1, seed=0).weight,
    }
    return ways


def _in_no_grad(make):
    with mg.no_grad():
        return make()


def _in_anomaly(make):
    with mg.detect_anomaly():
        return make()


def _graph_grad(a: Value, f=lambda v: v * v):
    (g,) = mg.grad(f(a).sum(), [a], create_graph=True)
    return g


@pytest.mark.parametrize("way", list(ways_of_making_a_node()))
def test_every_way_of_making_a_node_sets_every_slot(way):
    node = ways_of_making_a_node()[way]()
    assert unset_slots(node) == []
    # and the node works everywhere a slot is read: printed, sorted, drawn, detached
    repr(node)
    node.detach()
    if node.requires_grad:
        mg.autograd.topological_order(node)


def test_the_check_sees_a_slot_left_unset():
    # A node whose forward has not run yet has only _saved: the check must say so.
    assert set(unset_slots(_new_node())) == set(SLOTS) - {"_saved"}


def test_every_node_gets_a_later_number_than_its_inputs():
    a = Value(1.0)
    b = a * 2
    c = Square.apply(b)
    assert a._created < b._created < c._created


# ==================================================================== one step of the chain rule
# autograd.local_gradients is the one place a node's rule is called and its result checked
# and reduced; the backward pass, the pictures and gradcheck's localize all go through it,
# so a rule's mistake reads the same wherever it shows.


class OneGradientForTwo(mg.Function):
    @staticmethod
    def forward(ctx, a, b):
        return a * b

    @staticmethod
    def backward(ctx, grad):
        return grad  # one gradient, two inputs


class WrongShape(mg.Function):
    @staticmethod
    def forward(ctx, a):
        return a * 2

    @staticmethod
    def backward(ctx, grad):
        return np.ones(5)  # the input has shape (3,)


@pytest.mark.parametrize(
    "make, error, message",
    [
        (
            lambda x: OneGradientForTwo.apply(x, x * 1).sum(),
            RuntimeError,
            "OneGradientForTwo.backward returned 1 gradients for 2 inputs",
        ),
        (
            lambda x: WrongShape.apply(x).sum(),
            ValueError,
            "WrongShape.backward returned a gradient of shape (5,) for input 0, whose shape is "
            "(3,)",
        ),
    ],
    ids=["count", "shape"],
)
def test_a_faulty_rule_reads_the_same_in_backward_pictures_and_localize(make, error, message):
    from minigrad.viz import _rules

    x = Value(np.array([1.0, 2.0, 3.0]), name="x")
    out = make(x)
    with pytest.raises(error) as raised:
        out.backward()
    assert message in str(raised.value)
    node = out.parents[0]  # the faulty operation (out is its sum)
    with pytest.raises(error) as raised:
        _rules.contributions(node, np.ones(node.shape))
    assert message in str(raised.value)
    assert _rules.safe_contributions(node, np.ones(node.shape)) is None  # the picture goes on
    check = check_node(node, 1e-6, 1e-8, 1e-6, np.random.default_rng(0), 64)
    assert check.status == "fail" and message in check.detail


class Blend(mg.Function):
    """Three inputs: the general path of local_gradients."""

    @staticmethod
    def forward(ctx, a, b, c):
        return a + 2 * b + c

    @staticmethod
    def backward(ctx, grad):
        return grad, 2 * grad, grad


def test_local_gradients_reduce_broadcasting_and_skip_constants():
    a = Value(np.ones((2, 3)), name="a")
    b = Value(np.array([1.0, 2.0, 3.0]), name="b")  # broadcast to (2, 3)
    c = np.full((2, 3), 4.0)  # a constant
    for first, second in ((a, b), (b, a)):
        y = Blend.apply(first, second, c)
        g = np.arange(6.0).reshape(2, 3)
        to_first, to_second, to_c = mg.autograd.local_gradients(y, g)
        assert to_c is None  # a constant gets nothing
        assert np.array_equal(to_first, g if first is a else g.sum(axis=0))
        assert np.array_equal(to_second, 2 * g if second is a else 2 * g.sum(axis=0))
    assert a.grad is None and b.grad is None and y._pending_grad is None  # nothing stored


def test_the_picture_starts_where_backward_does():
    from minigrad.viz import _rules

    y = Value(np.ones(2)) * 3
    for gradient in (None, np.ones(3)):
        with pytest.raises((RuntimeError, ValueError)) as in_backward:
            y.backward(gradient)
        with pytest.raises(type(in_backward.value)) as in_picture:
            _rules.seed(y, gradient)
        assert str(in_picture.value) == str(in_backward.value)


def test_the_backward_pass_takes_the_step_local_gradients_describes():
    # The backward loop runs a fused copy of local_gradients (for speed): adding up what
    # local_gradients says each node sends must give the gradients backward stores, on
    # one, two and three inputs, broadcasting, constants and an input used twice.
    x = Value(np.array([[0.5, -1.0, 2.0]]), name="x")
    w = Value(np.array([[1.5], [-0.5], [0.25]]), name="w")
    b = Value(np.array([0.1, 0.2]), name="b")  # broadcast over the rows
    k = Value(3.0, name="k")
    h = (x.T * x + b[0]).tanh()  # an input used twice, a broadcast
    y = F.where(np.eye(3, dtype=bool), h * k, h @ (w * w) + b[1])  # three inputs, constants
    out = (Blend.apply(y, 2.0, y.exp()) * k).sum()
    out.backward()
    sent_to = {id(out): 1.0}
    for node in mg.autograd.topological_order(out):
        if node.grad_fn is None:
            continue
        g = sent_to.pop(id(node))
        assert np.allclose(g, node.grad)  # what reached the node is what it stored
        for parent, c in zip(node.parents, mg.autograd.local_gradients(node, g)):
            if c is not None:
                sent_to[id(parent)] = sent_to.get(id(parent), 0.0) + c
    for leaf in (x, w, b, k):
        assert np.allclose(sent_to[id(leaf)], leaf.grad), leaf.name
