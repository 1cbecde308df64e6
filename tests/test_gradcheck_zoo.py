"""The bug zoo (tests/gradcheck_zoo.py), case by case, at the defaults.

For every custom operation with a backward bug: the check fails (never passes, never
only "cannot decide"), the failing elements are exactly the wrong ones, the sweep calls
it a bug, and localize names the operation.  For every correct operation that is hard
to check: the check does not fail; it passes (kinks excused where they are) or says
that it cannot decide; the sweep does not call it a bug and localize blames nothing.
Each expectation was derived from the operation's mathematics (which elements the bug
touches), and each flagged element is confirmed against an independent finite
difference below.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import minigrad as mg
from tests.gradcheck_zoo import BUGS, HARD, Case


def outcome(report) -> str:
    if report.passed:
        return "pass"
    return "undecided" if report.undecidable else "fail"


def flagged(report, statuses: tuple) -> set:
    return {(row.input, row.element) for row in report.rows if row.status in statuses}


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def test_the_zoo_is_big_enough():
    assert len(BUGS) >= 25 and len(HARD) >= 8
    assert len({c.name for c in BUGS + HARD}) == len(BUGS) + len(HARD)


@pytest.mark.parametrize("case", BUGS, ids=repr)
def test_every_bug_is_caught_at_the_defaults(case: Case):
    inputs = case.inputs()
    report = mg.gradcheck(case.fn, *inputs, raise_exception=False)
    assert outcome(report) == case.verdict == "fail"
    assert flagged(report, ("fail",)) == case.flagged
    assert not report.undecided  # a bug is never left at "cannot decide"
    # the flagged elements really are wrong: the analytic value is off from a central
    # difference at a small step, computed here without the checker
    for row in report.failures:
        position = [v.name for v in inputs].index(row.input)
        numeric = central_difference(case, inputs, position, row.element)
        assert abs(row.analytic - numeric) > 1e-6 * max(abs(numeric), 1e-3)
    assert report.sweep().verdict == case.sweep
    culprit = report.localize().culprit
    assert (culprit.op if culprit else None) == case.culprit


@pytest.mark.parametrize("case", HARD, ids=repr)
def test_no_correct_operation_fails(case: Case):
    report = mg.gradcheck(case.fn, *case.inputs(), raise_exception=False)
    assert not report.failures
    assert outcome(report) == case.verdict
    statuses = ("kink",) if case.verdict == "pass" else ("undecided",)
    assert flagged(report, statuses) == case.flagged
    sweep = report.sweep()
    assert sweep.verdict != "bug"
    assert sweep.verdict in ((case.sweep,) if isinstance(case.sweep, str) else case.sweep)
    assert report.localize().culprit is None


def test_undecided_rows_say_why_with_numbers():
    case = next(c for c in HARD if c.name == "float32 inside")
    report = mg.gradcheck(case.fn, *case.inputs(), raise_exception=False)
    assert report.summary().startswith("gradcheck UNDECIDED")
    for row in report.undecided:
        assert "cannot be checked at eps=1e-06" in row.note and "relative" in row.note
    with pytest.raises(mg.GradcheckError):  # undecided is not a pass
        mg.gradcheck(case.fn, *case.inputs())
    page = report.to_html()
    assert page.count("background:#e4dcf4") == 3 and "cannot be checked at this eps" in page


def central_difference(case: Case, inputs: tuple, position: int, element: tuple) -> float:
    """d fn / d inputs[position][element] by a central difference with h = 1e-7 (a
    bit above 1e-5 * |x| for elements near 0, to stay inside log's domain)."""
    data = [np.array(v.data, dtype=np.float64) for v in inputs]
    x = data[position][element] if element else data[position]
    h = min(1e-7, abs(float(x)) / 100) if x != 0 else 1e-7
    results = []
    for sign in (1, -1):
        moved = [d.copy() for d in data]
        if element:
            moved[position][element] += sign * h
        else:
            moved[position] = moved[position] + sign * h
        values = [mg.Value(d, name=v.name) for d, v in zip(moved, inputs)]
        with mg.no_grad():
            results.append(float(case.fn(*values).data))
    return (results[0] - results[1]) / (2 * h)


def test_localize_points_at_an_output_changed_in_place():
    case = next(c for c in BUGS if c.name == "saved output mutated")
    report = mg.gradcheck(case.fn, *case.inputs(), raise_exception=False)
    text = str(report.localize())
    assert "ExpSaved" in text and "changed in place" in text
    assert "outside the graph" not in text
