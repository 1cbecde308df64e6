"""Issue 14, "wrong today": a real bug must never come out as a confident pass.

Each test here failed on the checker before the fix: a smooth custom operation's bug was
excused as a kink, the sweep called a flat error round-off, crashed near a domain
boundary, NaN was reported as a number, localize blamed a correct custom relu, missed a
stateful backward and misdescribed an in-place edit of the gradient, and a 7e-5 relative
bug passed at the defaults.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad import Function, Value
from minigrad.gradcheck import GradcheckError, GradcheckWarning
from tests.custom_ops import Square
from tests.gradcheck_zoo import CachedSquare, Log, PowerOfTwoRoundedLn2
from tests.gradcheck_zoo import LogSafeEpsilon as LogSafe  # 1.3% off at x = 1e-5
from tests.gradcheck_zoo import Relu as MyRelu


class SquareTwoPercent(Square):
    """x^2 with backward 2.02 x: 1% off everywhere."""

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 2.02 * grad * x


def numeric_log_derivative(x: float, h: float) -> float:
    return (math.log(x + h) - math.log(x - h)) / (2 * h)


# ---------------------------------------------------------------------------- item 1


def test_a_smooth_custom_op_near_log0_is_not_excused_as_a_kink():
    x = Value(np.array([1e-5, 0.5, 2.0]), name="x")
    report = mg.gradcheck(lambda x: LogSafe.apply(x), x, raise_exception=False)
    assert not report.passed and not report.kinks
    assert [r.element for r in report.failures] == [(0,)]
    row = report.failures[0]
    # the row's numeric derivative is an honest finite difference of log at 1e-5, taken at
    # the step the note names, and the true derivative 1e5 is far from the analytic one
    step = float(row.note.split("checked at eps=")[1].split(",")[0])
    assert step < 1e-6
    weight = report["x"].analytic[0, 0] * (1e-5 + 1e-7)  # the output weight of element 0
    assert row.numeric == pytest.approx(weight * numeric_log_derivative(1e-5, step), rel=1e-6)
    assert abs(row.analytic / (weight * 1e5) - 1) > 5e-3


def test_the_same_op_written_right_is_not_failed():
    x = Value(np.array([1e-5, 0.5, 2.0]), name="x")
    report = mg.gradcheck(lambda x: Log.apply(x), x)
    assert report.passed and not report.kinks


def test_a_real_kink_of_a_custom_op_is_still_excused():
    x = Value(np.array([0.0, 1.0, -1.0]), name="x")
    report = mg.gradcheck(lambda x: MyRelu.apply(x * 1.5).sum(), x)
    assert report.passed
    assert [r.element for r in report.kinks] == [(0,)]


# ---------------------------------------------------------------------------- item 2


def test_the_sweep_calls_a_flat_error_a_bug():
    x = Value(np.array([0.5, -1.0, 2.0]), name="x")
    report = mg.gradcheck(lambda x: SquareTwoPercent.apply(x).sum(), x, raise_exception=False)
    sweep = report.sweep()
    assert sweep.verdict == "bug"
    assert not sweep.passed.any()
    assert np.allclose(sweep.max_rel_err, 0.01 / 1.01, rtol=0.05)
    assert "<- recommended" not in str(sweep)


class ExpOff(Function):
    """exp x whose backward is (1 + 1e-4/6) too large: at eps = 1e-2 the central
    difference's truncation error, eps^2/6 relative, cancels the bug exactly."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.exp(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * np.exp(x) * (1 + 1e-4 / 6)


def test_a_bug_that_passes_at_one_eps_by_accident_is_still_a_bug():
    x = Value(np.array([0.3, -0.5, 1.1]), name="x")
    sweep = mg.eps_sweep(lambda x: ExpOff.apply(x).sum(), x)
    assert sweep.passed[1]  # eps = 1e-2: the accident
    assert sweep.verdict == "bug"
    flat = [c for c in sweep.causes if c == "bug"]
    assert len(flat) >= 3  # the plateau: the error stays at 1.67e-5 from 1e-3 down
    assert np.allclose(sweep.max_rel_err[2:8], 1e-4 / 6, rtol=0.05)
    assert "by accident" in sweep.explanation
    assert "<- recommended" not in str(sweep)


def test_an_eps_whose_rows_are_all_excused_does_not_pass():
    x = Value(np.array([0.0]), name="x")
    sweep = mg.eps_sweep(lambda x: x.relu().sum() * 2.0, x, eps_values=[1e-1, 1e-3, 1e-6])
    assert not sweep.passed.any()
    assert sweep.causes == ["all excused (kinks)"] * 3
    assert sweep.verdict == "cannot decide"
    assert list(sweep.n_kinks) == [1, 1, 1]
    assert "1k" in str(sweep)  # the excused count is shown per eps


def test_the_recommended_eps_passes_when_used():
    x = Value(np.array([0.4, 1.0, -0.3]), name="x")
    fn = lambda x: (x * 3.0).exp().sum() + (x * x).sum() * 1e6  # noqa: E731
    sweep = mg.eps_sweep(fn, x)
    assert sweep.passed[list(sweep.eps).index(sweep.recommended_eps)]
    assert mg.gradcheck(fn, x, eps=sweep.recommended_eps).passed


# ---------------------------------------------------------------------------- item 3


def test_the_sweep_marks_eps_that_leave_the_domain_and_goes_on():
    x = Value(np.array([1e-5, 0.5, 2.0]), name="x")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        sweep = mg.gradcheck(lambda x: x.log(), x, raise_exception=False).sweep()
    outside = [e for e, c in zip(sweep.eps, sweep.causes) if c == "outside the domain"]
    assert outside == [1e-1, 1e-2, 1e-3, 1e-4, 1e-5]  # every step larger than x[0]
    assert np.isnan(sweep.max_rel_err[:5]).all() and not sweep.passed[:5].any()
    assert sweep.verdict != "bug" and sweep.passed.any()
    assert "leaves the region where fn is finite" in sweep.explanation


# ---------------------------------------------------------------------------- item 5


class NanAtZero(Square):
    """x^2 whose backward computes 2 x as 2 x^2 / x: NaN at 0, where f is fine."""

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        with np.errstate(invalid="ignore", divide="ignore"):
            return grad * 2 * x * x / x


def test_nan_is_reported_as_nan_everywhere():
    x = Value(np.array([0.0, 1.0, -2.0]), name="x")
    report = mg.gradcheck(lambda x: NanAtZero.apply(x).sum(), x, raise_exception=False)
    assert not report.passed
    row = report.failures[0]
    assert row.element == (0,) and math.isnan(row.analytic)
    assert math.isnan(row.rel_err) and math.isnan(row.abs_err)
    assert math.isnan(report["x"].max_rel_err)
    text = str(report)
    assert "max rel err nan" in text
    table_row = next(line for line in text.splitlines() if line.startswith("x      (0,)"))
    assert table_row.split()[2:6] == ["nan", "0", "nan", "nan"]
    assert "NaN or inf" in report["x"].diagnosis


def test_relative_error_of_infinities():
    from minigrad.gradcheck._core import relative_error

    out = relative_error([np.inf, 1.0, np.nan, np.inf], [1.0, np.inf, 1.0, np.inf])
    assert out[0] == np.inf and out[1] == np.inf and np.isnan(out[2]) and out[3] == 0


# ---------------------------------------------------------------------------- item 6


def test_a_factor_close_to_one_prints_enough_digits():
    class Slightly(Square):
        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 2 * grad * x * 1.000068

    x = Value(np.array([0.5, -1.0, 2.0]), name="x")
    report = mg.gradcheck(lambda x: Slightly.apply(x).sum(), x, raise_exception=False)
    assert "analytic = 1.000068 x numeric" in report["x"].diagnosis


def test_the_kink_note_names_the_custom_op_with_the_kink():
    x = Value(np.array([0.0, 1.0]), name="x")
    report = mg.gradcheck(lambda x: Square.apply(MyRelu.apply(x * 1.5) + 0.5).sum(), x)
    assert report.kinks and "Relu" in report.kinks[0].note
    assert "Square" not in report.kinks[0].note


def test_the_float32_warning_points_at_the_callers_line():
    x = Value(np.array([1.0, 2.0], dtype=np.float32), name="x")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mg.gradcheck(lambda x: (x * x).sum(), x)
    ours = [w for w in caught if issubclass(w.category, GradcheckWarning)]
    assert ours and ours[0].filename == __file__


def test_a_relu_kink_summary_does_not_contradict_its_table():
    x = Value(np.array([0.0, 0.0]), name="x")
    report = mg.gradcheck(lambda x: x.relu().sum() * 2.0, x)
    summary = report["x"].summary()
    assert "0.0e+00" not in summary and "nothing left to check" in summary
    assert "checked nothing" in report.summary()
    mixed = mg.gradcheck(lambda x: x.relu().sum(), Value(np.array([0.0, 1.0]), name="x"))
    assert "over the 1 checked" in mixed["x"].summary()


# ---------------------------------------------------------------------------- item 4


def test_localize_does_not_blame_a_correct_custom_relu_at_its_kink():
    x = Value(np.array([0.0, 1.0, -1.0]), name="x")
    report = mg.gradcheck(lambda x: MyRelu.apply(x * 1.0).sum() * 2.0, x)
    localization = report.localize()
    assert localization.culprit is None
    assert [c.status for c in localization.checks if c.op == "Relu"] == ["ok"]


def test_localize_catches_a_stateful_backward():
    # CachedSquare's backward reads x from a cache on the class, not from ctx: with two
    # nodes, the first one's backward sees the second one's x.
    x = Value(np.array([0.5, -1.0, 2.0]), name="x")
    fn = lambda x: (CachedSquare.apply(x) + CachedSquare.apply(x * 3.0)).sum()  # noqa: E731
    report = mg.gradcheck(fn, x, raise_exception=False)
    assert not report.passed
    culprit = report.localize().culprit
    assert culprit is not None and culprit.op == "CachedSquare"
    assert "depends on state outside ctx" in culprit.detail


class InPlace(Function):
    """tanh whose backward multiplies its incoming gradient in place."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.tanh(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        grad *= 1 - np.tanh(x) ** 2
        return grad


def test_localize_describes_an_in_place_edit_of_the_gradient():
    x = Value(np.array([0.5, -1.0, 2.0]), name="x")
    fn = lambda x: (InPlace.apply(x) * x).sum()  # noqa: E731
    try:
        report = mg.gradcheck(fn, x, raise_exception=False)
    except ValueError as error:  # an engine that hands backward a read-only gradient
        assert "read-only" in str(error)
        return
    culprit = report.localize().culprit
    assert culprit is not None and culprit.op == "InPlace"
    assert "edits its incoming gradient in place" in culprit.detail
    assert "relative error" not in culprit.detail  # not called a wrong derivative


def test_localize_describes_a_read_only_gradient():
    from minigrad.gradcheck.localize import BackwardRun, check_node

    x = Value(np.array([0.5, -1.0]), name="x", requires_grad=True)
    out = InPlace.apply(x)
    grad = np.ones(2)
    grad.flags.writeable = False
    try:
        InPlace.backward(out, grad)
    except ValueError as error:
        run = BackwardRun(grad, None, error, False)
    check = check_node(out, 1e-6, 1e-5, 1e-3, np.random.default_rng(0), 64, run)
    assert check.status == "fail" and "read-only" in check.detail
    assert "instead of editing grad in place" in check.detail


# ---------------------------------------------------------------------------- item 7


def test_the_defaults_catch_a_small_relative_bug():
    # 2^x, whose backward writes ln 2 as 0.6931: 7e-5 relative off
    x = Value(np.array([0.3, -1.2, 2.5]), name="x")
    with pytest.raises(GradcheckError) as info:
        mg.gradcheck(lambda x: PowerOfTwoRoundedLn2.apply(x).sum(), x)
    report = info.value.report
    assert report["x"].n_failed == 3
    assert "analytic = 0.99993" in report["x"].diagnosis  # 0.6931 / ln 2 = 0.999932


@pytest.mark.parametrize("relative", [1e-5, -1e-5, 3e-5])
def test_a_1e5_relative_bug_is_caught_in_float64(relative):
    class Off(Square):
        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 2 * grad * x * (1 + relative)

    x = Value(np.array([[0.5, -1.2, 2.0], [0.3, 0.7, -0.4]]), name="x")
    c = np.array([1.3, -0.4, 2.2])
    report = mg.gradcheck(lambda x: (Off.apply(x * 0.7) * c).sum(), x, raise_exception=False)
    assert report["x"].n_failed == 6


def test_a_bug_below_the_round_off_is_reported_as_undecidable():
    # f = x^2 + 1e12 per element: at eps=1e-6 the round-off of the difference is ~1e-1,
    # far above a 1e-5 bug; the checker must not pass it confidently
    class Off(Square):
        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 2 * grad * x * (1 + 1e-5)

    x = Value(np.array([0.5, 1.5]), name="x")
    fn = lambda x: (Off.apply(x) + 1e12).sum()  # noqa: E731
    report = mg.gradcheck(fn, x, raise_exception=False)
    assert not report.passed
    assert report.undecidable or report.failures
    if report.undecidable:
        assert "cannot be checked" in str(report)
