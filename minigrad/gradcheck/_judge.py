"""Deciding one checked element: ok, fail, non-differentiable here, or cannot be checked.

A finite difference is an estimate with an error of its own: truncation (the stencil is
wide for the function's curvature) and round-off (f(x+eps) and f(x-eps) share most of
their digits).  With the default tolerances the checker *measures* that error at every
element it cannot pass outright, instead of assuming one fixed rtol fits every function:

    numeric error  ~  2 |D(eps) - D(2 eps)|          truncation (and any noise)
                    + 0.5 |f(x-2h) - 4 f(x-h) + 6 f(x) - 4 f(x+h) + f(x+2h)| / eps
                                                     noise in f's values (central only)
                    + 4 u max|f| / eps               float64 round-off, u = 2.2e-16

An element then

* passes when |analytic - numeric| <= atol + rtol |numeric| (+ 4 u |f| / eps when that
  is below ``RESOLUTION`` relative): the tight test, rtol = 1e-6 by default, so a 1e-5
  relative bug fails it;
* else fails when the difference is larger than ``atol + rtol |numeric| + 2 * error``:
  the analytic value is farther from the numeric one than the numeric one can be from
  the truth (unless the stencil crosses a kink);
* else passes when the numeric error is below ``RESOLUTION`` relative: the finite
  difference was accurate enough to judge;
* else *cannot be checked at this eps*: the numbers cannot tell right from wrong.  The
  element is re-checked at steps 10, 100, 1000 times smaller and larger (smaller first
  when truncation dominates, larger first when noise does); the first step that can
  decide, decides, and the row says which step it was.  A step at which f takes three
  or fewer distinct values over the stencil decides nothing (f is computed with fewer
  digits than the step needs, and its noise cannot be measured).  A failure found at
  another step must be confirmed at the next one (noise can fake one, rarely two); a
  failure followed by an agreement decides nothing.  When f
  hardly moves over the stencil, and does not change at all over +-max(1000 eps, 1e-4)
  while the analytic derivative says it should, the element fails (the derivative is
  0 there).

With explicit ``atol``/``rtol`` the classic rule |a - n| <= atol + rtol |n| is used
as given, with no error measurement.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from minigrad.gradcheck._core import FAIL, KINK, OK, UNDECIDED, DomainError, Problem

#: float64's unit round-off.
U64 = float(np.finfo(np.float64).eps)

#: Default tolerances of the measured rule (``atol`` is relative to the input's largest
#: numeric derivative: AUTO_ATOL * max |numeric|).
AUTO_RTOL = 1e-6
AUTO_ATOL = 1e-9

#: An element passes only when the finite difference is accurate to this relative error
#: (or better); a coarser one cannot vouch for a gradient.
RESOLUTION = 1e-4

#: The classic rule's defaults (used when only one of atol / rtol is given).
CLASSIC_ATOL = 1e-5
CLASSIC_RTOL = 1e-3


@dataclass(frozen=True)
class Tolerance:
    """How elements are judged: the measured rule (``measured``) or the classic one."""

    atol: float
    rtol: float
    measured: bool

    @classmethod
    def from_arguments(cls, atol: float | None, rtol: float | None) -> Tolerance:
        if atol is None and rtol is None:
            return cls(AUTO_ATOL, AUTO_RTOL, True)
        return cls(
            CLASSIC_ATOL if atol is None else float(atol),
            CLASSIC_RTOL if rtol is None else float(rtol),
            False,
        )

    def scaled(self, numeric: np.ndarray) -> Tolerance:
        """The tolerance for one input: the measured rule's atol scales with its gradient."""
        if not self.measured:
            return self
        finite = np.abs(numeric[np.isfinite(numeric)])
        scale = float(finite.max()) if finite.size else 0.0
        return Tolerance(self.atol * scale, self.rtol, True)

    def allowed(self, numeric: Any) -> np.ndarray:
        return self.atol + self.rtol * np.abs(numeric)


@dataclass
class Judgement:
    """The verdict on one element (vectors over the output rows with ``jacobian``)."""

    status: np.ndarray
    numeric: np.ndarray
    error: np.ndarray  # the measured error of ``numeric``; nan where not measured
    note: str = ""


def roundoff_floor(values: list, eps: float) -> np.ndarray:
    """4 u max|f| / eps: the float64 round-off of a difference quotient of these values."""
    biggest = np.max([np.abs(np.asarray(v, dtype=np.float64)) for v in values], axis=0)
    return 4 * U64 * biggest / eps


def measure(problem: Problem, i: int, where: Any, eps: float, method: str, numeric: Any) -> tuple:
    """(measured error of ``numeric``, its truncation part, its noise part), or None
    when the extra points leave the function's domain on both sides."""
    numeric = np.asarray(numeric, dtype=np.float64)
    if method == "complex-step":
        other = np.asarray(problem.derivative(i, where, 2 * eps, method), dtype=np.float64)
        trunc = 2 * np.abs(numeric - other)
        floor = 4 * U64 * np.abs(numeric)
        return trunc + floor, trunc, floor
    for small in (eps, eps / 2):
        big = 2 * small
        try:
            values = {k: np.asarray(problem.move(i, where, k * small)[0]) for k in (-2, -1, 1, 2)}
        except DomainError:
            continue
        f0 = np.asarray(problem.base)
        # where f hardly moves over the stencil (computed with fewer digits than eps
        # needs, float32 inside?) its noise cannot be measured: the error is unknown
        unknown = np.reshape(_flat(f0, values), np.shape(numeric))
        if method == "central":
            d_small = (values[1] - values[-1]) / (2 * small)
            d_big = (values[2] - values[-2]) / (2 * big)
        else:
            d_small = np.asarray(problem.derivative(i, where, small, method))
            d_big = np.asarray(problem.derivative(i, where, big, method))
        other = d_big if small == eps else d_small
        trunc = 2 * np.abs(numeric - other)
        floor = roundoff_floor([f0, *values.values()], eps)
        noise = floor
        if method == "central":
            fourth = values[-2] - 4 * values[-1] + 6 * f0 - 4 * values[1] + values[2]
            noise = noise + 0.5 * np.abs(fourth) / eps
        error = np.where(unknown, np.inf, trunc + noise)
        return error, np.where(unknown, np.inf, trunc), noise
    return None


def _flat(f0: np.ndarray, values: dict) -> np.ndarray:
    """Per output row: three or fewer distinct values among the five points of the
    stencil, so f moves in steps coarser than the stencil resolves, or not at all."""
    stacked = np.stack([np.reshape(v, -1) for v in (f0, *values.values())])
    return np.array([len(np.unique(stacked[:, k])) <= 3 for k in range(stacked.shape[1])])


def judge(
    problem: Problem,
    i: int,
    where: Any,
    analytic: np.ndarray,
    numeric: np.ndarray,
    eps: float,
    method: str,
    tol: Tolerance,
    refine: bool = True,
) -> Judgement:
    """Decide one element (see the module docstring for the rule)."""
    a = np.asarray(analytic, dtype=np.float64)
    n = np.asarray(numeric, dtype=np.float64)
    error = np.full(a.shape, np.nan)
    with np.errstate(invalid="ignore", over="ignore"):
        difference = np.abs(a - n)
        finite = np.isfinite(a) & np.isfinite(n)
        tight = tol.allowed(n)
        if tol.measured:
            # float64 round-off of the quotient: allowed, as long as it is small enough
            floor = 4 * U64 * np.abs(problem.base) / eps
            tight = np.where(floor <= RESOLUTION * np.abs(n) + tol.atol, tight + floor, tight)
        ok = finite & (difference <= tight)
    status = np.where(ok, OK, FAIL).astype(np.int8)
    if ok.all():
        return Judgement(status, n, error)
    note = ""
    towards_larger = False
    if tol.measured:
        measured = measure(problem, i, where, eps, method, n)
        if measured is None:
            status = np.where(ok | ~finite, status, UNDECIDED).astype(np.int8)
            note = (
                "the error of the finite difference could not be measured (2 eps leaves the domain)"
            )
        else:
            error, trunc, noise = (np.asarray(m, dtype=np.float64) for m in measured)
            with np.errstate(invalid="ignore", over="ignore"):
                within = finite & (difference <= tol.allowed(n) + 2 * error)
                coarse = 2 * error > RESOLUTION * np.abs(n) + tol.atol
            status = np.where(ok, OK, np.where(within, np.where(coarse, UNDECIDED, OK), FAIL))
            status = status.astype(np.int8)
            towards_larger = bool(np.any(noise > trunc))
            if np.isinf(error).any():  # f hardly moved over the stencil: does it move at all?
                # far enough that any f computed in float32 or better moves
                wide = max(1000 * eps, 1e-4)
                flat = _constant_but_sloped(problem, i, where, a, wide)
                if flat is not None and (flat & (status == UNDECIDED)).any():
                    status = np.where(flat & (status == UNDECIDED), FAIL, status).astype(np.int8)
                    return Judgement(status, n, error, (
                        f"f does not change at all between x - {wide:.0e} and x + {wide:.0e}, "
                        "yet the analytic derivative says it changes: the derivative is 0 here"
                    ))  # fmt: skip
    # A row that is not ok may sit at a kink.
    candidates = (status != OK) & finite
    smooth_custom = np.zeros(a.shape, bool)
    if candidates.any():
        kink, kink_note = problem.kink(i, where, eps, a, tol.atol, max(tol.rtol, 1e-8))
        kink = np.asarray(kink) & candidates
        if kink.any():
            status = np.where(kink, KINK, status).astype(np.int8)
            note = kink_note
        elif problem.custom_ops:
            # not a kink: a custom operation's curvature; look closer before judging
            smooth_custom = candidates
    retry = (status == UNDECIDED) | (smooth_custom & (status == FAIL) & (not tol.measured))
    if refine and retry.any():
        return _refine(problem, i, where, a, n, eps, method, tol, status, error, note, retry,
                       towards_larger and not smooth_custom.any())  # fmt: skip
    if (status == UNDECIDED).any() and not note:
        note = _undecided_note(n, error, eps)
    return Judgement(status, n, error, note)


def _refine(
    problem: Problem,
    i: int,
    where: Any,
    a: np.ndarray,
    n: np.ndarray,
    eps: float,
    method: str,
    tol: Tolerance,
    status: np.ndarray,
    error: np.ndarray,
    note: str,
    retry: np.ndarray,
    larger: bool,
) -> Judgement:
    """Re-check the undecided rows at other steps; the first step that decides, decides."""
    smaller, wider = (0.1, 0.01, 0.001), (10.0, 100.0, 1000.0)
    factors = wider + smaller if larger else smaller + wider
    tried = []
    pending: tuple | None = None  # a failure waiting to be confirmed at another step
    unconfirmed: float | None = None  # a step whose failure the next step contradicted
    for factor in factors:
        step = eps * factor
        try:
            numeric = np.asarray(problem.derivative(i, where, step, method), dtype=np.float64)
            again = judge(problem, i, where, a, numeric, step, method, tol, refine=False)
        except DomainError:
            continue
        tried.append(step)
        decided = retry & np.isin(again.status, (OK, FAIL))
        if not decided.any():
            continue
        if (again.status[decided] == FAIL).any() and pending is None:
            # noise can fake a failure at one step, not at two: confirm it at the next
            pending = (step, again, decided)
            continue
        if pending is not None and not (again.status[decided] == FAIL).any():
            unconfirmed = pending[0]
            pending = None  # one step failed, the next agrees: neither decides
            continue
        step, again, decided = (step, again, decided) if pending is None else pending
        status = np.where(decided, again.status, status).astype(np.int8)
        n = np.where(decided, again.numeric, n)
        error = np.where(decided, again.error, error)
        verdict = "agrees" if (again.status[decided] == OK).all() else "disagrees"
        note = (
            f"checked at eps={step:.0e}, where the finite difference is accurate enough "
            f"to decide (it {verdict}); at eps={eps:.0e} it was not"
            + (f" ({note})" if note else "")
        )
        return Judgement(status, n, error, note)
    undecided = _undecided_note(n, error, eps)
    if tried:
        undecided += f"; nor at eps={', '.join(f'{t:.0e}' for t in tried)}"
    unconfirmed = pending[0] if pending is not None else unconfirmed
    if unconfirmed is not None:
        undecided += f" (it disagrees at eps={unconfirmed:.0e}, but no other step confirms it)"
    return Judgement(status, n, error, note or undecided)


def _constant_but_sloped(
    problem: Problem, i: int, where: Any, a: np.ndarray, step: float
) -> np.ndarray | None:
    """Rows where f is exactly constant over x +- step although the analytic derivative
    predicts a change well above float64 resolution; None when that cannot be tested."""
    try:
        plus = np.asarray(problem.move(i, where, step)[0])
        minus = np.asarray(problem.move(i, where, -step)[0])
    except DomainError:
        return None
    base = np.asarray(problem.base)
    unchanged = (plus == base) & (minus == base)
    visible = np.abs(a) * step > 1e3 * U64 * np.maximum(np.abs(base), 1e-300)
    return unchanged & visible


def _undecided_note(numeric: np.ndarray, error: np.ndarray, eps: float) -> str:
    """Why a row cannot be checked at ``eps``, with the measured error."""
    error = np.asarray(error, dtype=np.float64)
    if np.isinf(error).any():
        return (
            f"cannot be checked at eps={eps:.0e}: f takes three or fewer distinct values over "
            "the stencil, so it is computed with fewer digits than this step needs (float32 "
            "inside?) and the finite difference's error cannot be measured"
        )
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.maximum(np.abs(numeric), 1e-300)
        relative = np.nanmax(error / scale) if np.isfinite(error).any() else np.nan
    if not np.isfinite(relative):
        return (
            f"cannot be checked at eps={eps:.0e}: the finite difference's error could not be "
            "measured (the wider stencil leaves the domain)"
        )
    return (
        f"cannot be checked at eps={eps:.0e}: the finite difference's own error here is about "
        f"{relative:.1e} relative, more than the {RESOLUTION:.0e} a check needs to tell a right "
        "gradient from a wrong one"
    )
