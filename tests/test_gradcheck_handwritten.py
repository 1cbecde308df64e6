"""gradcheck(f, x, w, grad=df): a hand-written numpy gradient against finite differences
of a plain numpy function, with the same report as a minigrad graph gets."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import data


def apartments():
    X, y = data.linear()
    return np.asarray(X, dtype=np.float64).reshape(-1), np.asarray(y, dtype=np.float64).reshape(-1)


SQM, PRICE = apartments()


def loss(slope, intercept):
    """The apartment regression's mean squared error (notebook 3)."""
    errors = PRICE - (slope * SQM + intercept)
    return (errors**2).mean()


def gradient(slope, intercept):
    """Notebook 3's formulas: d_slope = -2 mean(sqm * errors), d_intercept = -2 mean(errors)."""
    errors = PRICE - (slope * SQM + intercept)
    return -2 * (SQM * errors).mean(), -2 * errors.mean()


def test_the_apartment_formulas_pass():
    report = mg.gradcheck(loss, 1500.0, 20000.0, grad=gradient)
    assert report.passed
    assert [r.name for r in report.inputs] == ["slope", "intercept"]
    # the numbers are the formulas' own, and agree with a central difference computed here
    slope_row = report["slope"].rows()[0]
    assert slope_row.analytic == pytest.approx(gradient(1500.0, 20000.0)[0], rel=1e-12)
    h = 1e-3
    numeric = (loss(1500.0 + h, 20000.0) - loss(1500.0 - h, 20000.0)) / (2 * h)
    assert slope_row.numeric == pytest.approx(numeric, rel=1e-6)
    assert "hand-written gradient grad=gradient" in str(report)


def test_a_sign_slip_is_found_diagnosed_and_localized():
    def gradient_slip(slope, intercept):
        errors = PRICE - (slope * SQM + intercept)
        return -2 * (SQM * errors).mean(), 2 * errors.mean()

    report = mg.gradcheck(loss, 1500.0, 20000.0, grad=gradient_slip, raise_exception=False)
    assert [r.input for r in report.failures] == ["intercept"]
    assert report["intercept"].diagnosis == "sign flipped: analytic = -numeric"
    culprit = report.localize().culprit
    assert culprit is not None and "gradient_slip" in culprit.op
    assert report.sweep().verdict == "bug"


def test_a_forgotten_factor_of_the_mean():
    def gradient_sum(slope, intercept):  # forgot to divide by n: a sum, not a mean
        errors = PRICE - (slope * SQM + intercept)
        return -2 * (SQM * errors).sum(), -2 * errors.sum()

    report = mg.gradcheck(loss, 1500.0, 20000.0, grad=gradient_sum, raise_exception=False)
    assert f"analytic = {len(SQM)} x numeric" in report["slope"].diagnosis


def test_a_transposed_matrix_gradient():
    x = np.array([0.5, -1.0, 2.0])
    t = np.array([0.3, -0.2, 0.1])

    def f(W):
        r = W @ x - t
        return (r * r).sum()

    def df_transposed(W):
        r = W @ x - t
        return np.outer(2 * r, x).T

    W = np.array([[0.2, -0.4, 0.7], [1.1, 0.3, -0.5], [-0.6, 0.8, 0.1]])
    report = mg.gradcheck(f, W, grad=df_transposed, raise_exception=False)
    assert report["W"].diagnosis == "transposed: analytic = numeric.T"


def test_wrong_only_where_the_input_is_negative():
    def leaky(x):
        return np.where(x > 0, x, 0.1 * x).sum() * 2.0

    def d_leaky(x):
        return np.where(x > 0, 2.0, 0.01 * 2.0)  # 0.01: the slope of another leaky relu

    x = np.array([0.5, -1.0, 2.0, -0.3, 1.2])
    report = mg.gradcheck(leaky, x, grad=d_leaky, raise_exception=False)
    assert {r.element for r in report.failures} == {(1,), (3,)}
    assert "wrong only where the input is < 0" in report["x"].diagnosis


def test_a_missing_reduction_is_named():
    def per_apartment(slope, intercept):  # forgot .mean(): one gradient per apartment
        errors = PRICE - (slope * SQM + intercept)
        return -2 * SQM * errors, -2 * errors

    with pytest.raises(ValueError, match=r"shape \(20,\) for 'slope'.*missing reduction"):
        mg.gradcheck(loss, 1500.0, 20000.0, grad=per_apartment)


def test_bad_uses():
    with pytest.raises(TypeError, match="with grad= the inputs are plain numbers"):
        mg.gradcheck(loss, mg.Value(1.0), 2.0, grad=gradient)
    with pytest.raises(TypeError, match="grad must be callable"):
        mg.gradcheck(loss, 1.0, 2.0, grad="d_slope")
    with pytest.raises(ValueError, match="returned 1 gradient"):
        mg.gradcheck(loss, 1.0, 2.0, grad=lambda s, i: np.float64(s))
    with pytest.raises(ValueError, match="must return a number"):
        mg.gradcheck(lambda x: x * 2, np.array([1.0, 2.0]), grad=lambda x: 2 * np.ones(2))
    with pytest.raises(TypeError, match="numbers or numpy arrays"):
        mg.gradcheck(loss, "1", 2.0, grad=gradient)


def test_inputs_given_as_one_list_and_left_untouched():
    W = np.array([[0.2, -0.4], [1.1, 0.3]])
    before = W.copy()
    report = mg.gradcheck(lambda W: np.tanh(W).sum(), [W], grad=lambda W: 1 - np.tanh(W) ** 2)
    assert report.passed and np.array_equal(W, before)


# ---------------------------------------------------------------------------- the command

LINE = ["sum((y - (a*x + b))**2)", "x=[1,2,3]", "y=[2,4,7]", "a=1.5", "b=0.2"]


def test_the_command_checks_hand_written_gradients(capsys):
    from minigrad.cli import main

    right = ["--grad", "a=-2*sum(x*(y-(a*x+b)))", "--grad", "b=-2*sum(y-(a*x+b))"]
    assert main(["gradcheck", *LINE, *right]) == 0
    out = capsys.readouterr().out
    assert "gradcheck passed: 2 of 2 checks agree" in out
    assert "d out / d a = -2*sum(x*(y-(a*x+b)))" in out
    # the numbers: -2 sum(x (y - a x - b)) at a=1.5, b=0.2 is -17.6
    assert "a      ()          -17.6    -17.6" in out
    wrong = ["--grad", "a=-2*sum(x*(y-(a*x+b)))", "--grad", "b=2*sum(y-(a*x+b))"]
    assert main(["gradcheck", *LINE, *wrong]) == 1
    out = capsys.readouterr().out
    assert "FAILED: 1 of 2 checks disagree ('b': 1)" in out and "sign flipped" in out


def test_the_command_checks_only_the_names_given_and_refuses_bad_ones(capsys):
    from minigrad.cli import main

    assert main(["gradcheck", *LINE, "--grad", "b=-2*sum(y-(a*x+b))"]) == 0
    assert "1 of 1 checks agree" in capsys.readouterr().out  # a, x, y are data here
    assert main(["gradcheck", *LINE, "--grad", "c=1"]) == 2
    assert "the expression has no name 'c'" in capsys.readouterr().err
    assert main(["gradcheck", *LINE, "--grad", "a"]) == 2
    assert "is not NAME=EXPRESSION" in capsys.readouterr().err
    assert main(["gradcheck", *LINE, "--grad", "a=2*z"]) == 2
    assert "unknown name 'z'" in capsys.readouterr().err
