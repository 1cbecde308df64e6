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
from minigrad.value import Value, _new_node, as_value

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


class Square(mg.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 2 * x * grad


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
