"""Kinks: an element whose finite-difference stencil crosses a point with no derivative is
"non-differentiable here", not a failure; real bugs next to kinks still fail."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import Value
from minigrad import functions as F
from tests.gradcheck_zoo import Relu


def statuses(report, name="x"):
    return {r.element: r.status for r in report[name].rows()}


def test_relu_at_and_within_eps_of_zero():
    x = Value(np.array([0.0, 3e-7, -4e-7, 1.0, -1.0]), name="x")
    report = mg.gradcheck(lambda x: x.relu().sum(), x)
    assert report.passed
    assert statuses(report) == {
        (0,): "kink",
        (1,): "kink",
        (2,): "kink",
        (3,): "ok",
        (4,): "ok",
    }
    assert all("kink of relu" in r.note for r in report.kinks)
    text = str(report)
    assert "non-differentiable here" in text
    assert "3 non-differentiable here (not failures)" in text.splitlines()[0]


def test_abs_near_zero():
    x = Value(np.array([0.0, 3e-7, 2.0]), name="x")
    report = mg.gradcheck(lambda x: x.abs().sum(), x)
    # at exactly 0 the central difference (|eps| - |-eps|) / 2eps = 0 equals the rule's 0
    assert statuses(report) == {(0,): "ok", (1,): "kink", (2,): "ok"}
    assert "kink of abs" in report.kinks[0].note


def test_max_ties():
    three = Value(np.array([1.0, 3.0, 3.0, 3.0]), name="x")
    report = mg.gradcheck(lambda x: x.max() * 2.0, three)
    assert report.passed
    assert statuses(report) == {(0,): "ok", (1,): "kink", (2,): "kink", (3,): "kink"}
    # a two-way tie: the shared gradient 1/2 is also the central difference, so it passes
    two = Value(np.array([3.0, 3.0, 1.0]), name="x")
    assert set(statuses(mg.gradcheck(lambda x: x.max(), two)).values()) == {"ok"}


def test_kink_deep_in_the_graph():
    W = Value(np.array([[1.0, -1.0], [0.5, 0.2]]), name="W")
    x = Value(np.array([0.7, 0.7]), name="x")  # W[0] @ x == 0: the first unit sits on its kink
    report = mg.gradcheck(lambda W, x: (W @ x).relu().sum(), W, x)
    assert report.passed
    kinks = {(r.input, r.element) for r in report.kinks}
    assert kinks == {("W", (0, 0)), ("W", (0, 1)), ("x", (0,)), ("x", (1,))}
    assert statuses(report, "W")[(1, 0)] == "ok"


def test_where_on_the_data_and_python_branches():
    x = Value(np.array([0.0, 1.0]), name="x")
    report = mg.gradcheck(lambda x: mg.where(x.data > 0, x * 2.0, x * -3.0).sum(), x)
    assert statuses(report) == {(0,): "kink", (1,): "ok"}
    assert "kink of where" in report.kinks[0].note

    s = Value(0.0, name="x")
    report = mg.gradcheck(lambda s: s * 3.0 if s.data > 0 else s.tanh(), s)
    assert statuses(report) == {(): "kink"}
    assert "the graph itself changes" in report.kinks[0].note


class MyRelu(Relu):
    """gradcheck_zoo's custom relu under a name of its own: the kink note must name the
    custom operation, and "Relu" is also the built-in relu's name."""


def test_custom_function_kink_found_by_one_sided_differences():
    x = Value(np.array([0.0, 2.0]), name="x")
    # at 0 exactly: the one-sided slopes are 0 and 1.5 at every eps; the rule's 0 is one
    report = mg.gradcheck(lambda x: MyRelu.apply(x * 1.5).sum(), x)
    assert statuses(report) == {(0,): "kink", (1,): "ok"}
    assert "keep disagreeing when eps shrinks" in report.kinks[0].note
    assert "kink of the custom operation MyRelu" in report.kinks[0].note
    # 3e-7 from the kink: the slope jump vanishes at eps/100, so it is no kink; the element
    # is checked at a step that does not reach the kink, and agrees there
    near = Value(np.array([3e-7, 2.0]), name="x")
    report = mg.gradcheck(lambda x: MyRelu.apply(x).sum(), near)
    assert statuses(report) == {(0,): "ok", (1,): "ok"}
    assert "checked at eps=1e-07" in report["x"].notes[0]


def test_a_wrong_derivative_next_to_a_kink_still_fails():
    class TooSteep(F.Relu):
        @staticmethod
        def backward(ctx, grad):
            (out,) = ctx.saved_tensors
            return 5.0 * grad * (out > 0)

    x = Value(np.array([3e-7, 1.0, -1.0]), name="x")
    report = mg.gradcheck(lambda x: TooSteep.apply(x).sum(), x, raise_exception=False)
    # 5 lies outside the one-sided differences [0.3, 1] at the kink: a bug, not a kink
    assert statuses(report) == {(0,): "fail", (1,): "fail", (2,): "ok"}


def test_truncation_error_is_not_called_a_kink():
    x = Value(np.array([0.5, 1.0]), name="x")
    fn = lambda x: (x * 3.0).exp().sum()  # noqa: E731
    report = mg.gradcheck(fn, x, eps=0.1, atol=1e-5, rtol=1e-3, raise_exception=False)
    assert not report.passed and not report.kinks
    # with the measured rule the element cannot be checked at 0.1, and is at 0.001
    report = mg.gradcheck(fn, x, eps=0.1)
    assert not report.kinks and "checked at eps=1e-03" in report["x"].notes[0]


def test_fast_mode_redraws_directions_that_cross_a_kink():
    x = Value(np.zeros(4), name="x")
    report = mg.gradcheck(lambda x: x.relu().sum(), x, fast=True)
    assert report.passed and report["x"].n_kinks == 1
    y = Value(np.array([0.5, -1.0, 2.0]), name="x")
    report = mg.gradcheck(lambda x: x.relu().sum(), y, fast=True)
    assert report.passed and report["x"].n_kinks == 0


@pytest.mark.parametrize("data, status", [([0.0, 1.0, -1.0], "ok"), ([0.0], "kink")])
def test_localize_skips_elements_at_a_kink(data, status):
    x = Value(np.array(data), name="x")
    report = mg.gradcheck(lambda x: (x * 1.0).relu().sum(), x)
    relu = [c for c in report.localize().checks if c.op == "relu"][0]
    assert relu.status == status


def test_localize_still_finds_a_wrong_relu_with_inputs_at_zero():
    class WrongRelu(F.Relu):
        @staticmethod
        def backward(ctx, grad):
            (out,) = ctx.saved_tensors
            return 2.0 * grad * (out > 0)

    x = Value(np.array([0.0, 1.0, -1.0]), name="x")
    report = mg.gradcheck(lambda x: WrongRelu.apply(x * 1.0).sum(), x, raise_exception=False)
    assert not report.passed
    assert report.localize().culprit.op == "WrongRelu"
