"""The eps sweep: a real bug against round-off and truncation error, the numbers, the plot."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import minigrad as mg
from minigrad import Value
from minigrad.gradcheck import EpsSweep
from tests.custom_ops import HalfSquare


def test_a_real_bug_is_wrong_at_every_eps():
    x = Value(np.array([0.5, -1.0, 2.0]), name="x")
    report = mg.gradcheck(lambda x: HalfSquare.apply(x).sum(), x, raise_exception=False)
    sweep = report.sweep()
    assert isinstance(sweep, EpsSweep)
    assert sweep.verdict == "bug" and sweep.bug
    assert sweep.causes == ["bug"] * 12
    assert not sweep.passed.any()
    # the error does not depend on eps: it is the bug, 0.5 relative
    assert np.all(np.abs(sweep.max_rel_err - 0.5) < 1e-2)
    assert "a bug in the backward" in sweep.explanation


def test_round_off_only_at_small_eps():
    # f = |y|^2 + 1e8: f(x+eps) and f(x-eps) agree in their first ~14 digits
    y = Value(np.array([0.9, 1.3]), name="y")
    fn = lambda y: (y * y).sum() + 1e8  # noqa: E731
    classic = dict(atol=1e-5, rtol=1e-3)
    report = mg.gradcheck(fn, y, raise_exception=False, **classic)
    assert not report.passed  # at the default eps=1e-6
    sweep = report.sweep()
    assert sweep.verdict == "round-off" and not sweep.bug
    assert sweep.cause_at(1e-6) == "round-off"
    assert sweep.passed[0] and not sweep.passed[-1]  # eps=1e-1 passes, 1e-12 fails
    failing = sweep.eps[~sweep.passed]
    assert failing.max() < sweep.eps[sweep.passed].min()  # all failures below all passes
    assert "The check at eps=1e-06 failed because of round-off error" in sweep.explanation
    # the advice works
    assert mg.gradcheck(fn, y, eps=sweep.recommended_eps, **classic).passed
    # round-off grows like 1/eps: ten times smaller eps, about ten times the error
    k = list(sweep.eps).index(1e-7)
    assert 3 < sweep.max_abs_err[k + 1] / sweep.max_abs_err[k] < 30
    # the measured rule sees the noise at eps=1e-6 and re-checks at a larger step
    report = mg.gradcheck(fn, y)
    assert report.passed
    step = float(report["y"].notes[0].split("checked at eps=")[1].split(",")[0])
    assert 1e-5 <= step <= 1e-3
    assert mg.eps_sweep(fn, y).verdict == "round-off"


def test_truncation_only_at_large_eps():
    x = Value(np.array([0.4, 1.0]), name="x")
    sweep = mg.eps_sweep(
        lambda x: (x * 3.0).exp().sum(), x, eps_values=[1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6]
    )
    assert sweep.verdict == "truncation"
    assert sweep.causes[0] == "truncation" and sweep.causes[-3:] == ["ok"] * 3
    # the first eps that passes is where the measured error falls below 1e-4 relative
    first = sweep.causes.index("ok")
    assert sweep.max_rel_err[first] < 1e-4 < sweep.max_rel_err[first - 1]
    # central differences: the truncation error shrinks like eps^2
    ratio = sweep.max_abs_err[1] / sweep.max_abs_err[2]
    assert 80 < ratio < 120


def test_a_right_backward_is_v_shaped():
    x = Value(np.array([[0.5, -1.2, 2.0], [0.3, 0.7, -0.4]]), name="x")
    sweep = mg.eps_sweep(lambda x: (x**3 * x.tanh()).sum(), x, eps_values=10.0 ** -np.arange(1, 15))
    assert sweep.verdict == "round-off and truncation"
    assert sweep.causes[0] == "truncation" and sweep.causes[-1] == "round-off"
    assert "the backward is right" in sweep.explanation
    best = int(np.argmin(sweep.max_rel_err))
    assert 0 < best < 13  # the bottom of the V is inside the range
    assert 1e-8 <= sweep.recommended_eps <= 1e-3
    table = str(sweep)
    assert "<- recommended" in table and table.count("\n") == 17


def test_exact_finite_differences_pass_everywhere():
    x = Value(np.array([0.5, 2.0]), name="x")
    sweep = mg.eps_sweep(lambda x: (x * 3.0).sum(), x, eps_values=[1e-1, 1e-2, 1e-3])
    assert sweep.verdict == "ok" and sweep.passed.all()
    assert sweep.recommended_eps in (1e-1, 1e-2, 1e-3)


def test_the_numbers_are_returned():
    x = Value(np.array([0.5, 2.0]), name="x")
    sweep = mg.eps_sweep(lambda x: x.tanh().sum(), x, eps_values=[1e-2, 1e-4, 1e-3])
    numbers = sweep.as_dict()
    assert numbers["eps"] == [1e-2, 1e-3, 1e-4]  # sorted, largest first
    assert set(numbers) >= {"max_abs_err", "max_rel_err", "passed", "causes", "verdict"}
    # the error at eps=1e-2 is the central difference's, computed here independently
    exact = 1 - np.tanh(x.data) ** 2
    numeric = (np.tanh(x.data + 1e-2) - np.tanh(x.data - 1e-2)) / 2e-2
    assert numbers["max_abs_err"][0] == pytest.approx(np.abs(exact - numeric).max(), rel=1e-6)


def test_fast_sweep_and_other_methods():
    x = Value(np.array([0.5, 2.0, -1.0]), name="x")
    fast = mg.eps_sweep(lambda x: x.exp().sum(), x, fast=True)
    assert fast.verdict != "bug"
    five = mg.eps_sweep(lambda x: x.exp().sum(), x, method="five-point")
    assert five.verdict != "bug"
    assert mg.eps_sweep(lambda x: x.exp().sum(), x, method="complex-step").verdict != "bug"


def test_plot_to_a_file_and_into_axes(tmp_path):
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    x = Value(np.array([0.5, -1.0]), name="x")
    sweep = mg.gradcheck(lambda x: HalfSquare.apply(x).sum(), x, raise_exception=False).sweep()
    path = tmp_path / "sweep.png"
    figure = sweep.plot(path=path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    ax = figure.axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert "bug" in ax.get_title()
    line = ax.get_lines()[0]
    np.testing.assert_allclose(line.get_xdata(), sweep.eps)
    own = Figure()
    axes = own.add_subplot()
    assert sweep.plot(ax=axes) is own and axes.get_lines()


def test_matplotlib_is_not_imported_with_minigrad():
    code = "import sys, minigrad; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_bad_eps_values():
    x = Value(np.array([0.5]))
    with pytest.raises(ValueError, match="every eps in eps_values must be > 0"):
        mg.eps_sweep(lambda x: x.sum(), x, eps_values=[1e-3, 0.0])
    with pytest.raises(ValueError, match="eps_values is empty"):
        mg.eps_sweep(lambda x: x.sum(), x, eps_values=[])


def test_html():
    x = Value(np.array([0.5]))
    page = mg.eps_sweep(lambda x: x.exp().sum(), x, eps_values=[1e-1, 1e-6])._repr_html_()
    assert page.count("<tr") == 3
