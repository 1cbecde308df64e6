"""What a check found: rows, per-input results, the report, its table, and the error.

A *row* is one checked number: an element of an input (or, with ``jacobian=True``, one
output element against one input element; in fast mode, one random direction per input),
its analytic and numeric derivative, their absolute and relative error, and a status:
``"ok"``, ``"fail"``, ``"kink"`` (non-differentiable here, not counted as a failure) or
``"undecided"`` (cannot be checked at this eps: the finite difference is not accurate
enough to tell; not a pass either).  NaN and inf are reported as NaN and inf, never as
small errors.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from minigrad.gradcheck._core import (
    FAIL,
    KINK,
    METHOD_TEXT,
    OK,
    UNDECIDED,
    Spec,
    nan_max,
    relative_error,
)
from minigrad.gradcheck._judge import RESOLUTION, Tolerance

if TYPE_CHECKING:  # pragma: no cover
    from minigrad.gradcheck.localize import Localization
    from minigrad.gradcheck.sweep import EpsSweep
    from minigrad.value import Value

STATUS_NAMES = {OK: "ok", FAIL: "fail", KINK: "kink", UNDECIDED: "undecided"}
STATUS_TEXT = {
    "ok": "ok",
    "fail": "FAIL",
    "kink": "non-differentiable here",
    "undecided": "cannot be checked at this eps",
}
_RANK = {"fail": 0, "undecided": 1, "kink": 2, "ok": 3}

RULE = "|analytic - numeric| <= atol + rtol * |numeric|"
MEASURED_RULE = (
    "|analytic - numeric| <= atol + rtol * |numeric| (+ the finite difference's measured "
    "error, when it is below {resolution:g} relative)"
)


@dataclass(frozen=True)
class GradcheckRow:
    """One checked derivative.

    ``element`` is the index into the input (a tuple; ``()`` for a scalar) or the string
    ``"direction"`` in fast mode; ``output`` is the output index with ``jacobian=True``,
    else None.  ``violation`` = abs_err / (atol + rtol |numeric| + 2 x the measured error
    of numeric): above 1 the difference is more than the rule allows; rows are ranked by
    it.  ``note`` says why a row is a kink, was checked at another eps, or cannot be
    checked.
    """

    input: str
    element: tuple | str
    analytic: float
    numeric: float
    abs_err: float
    rel_err: float
    status: str
    violation: float
    output: tuple | None = None
    note: str = ""

    @property
    def passed(self) -> bool:
        """True for ok and kink rows (a kink cannot be checked, and is not a failure);
        False for failures and for rows that cannot be checked at this eps."""
        return self.status in ("ok", "kink")


@dataclass
class InputResult:
    """Everything checked for one input.

    ``analytic``, ``numeric`` and ``status`` are 2-D: one row per output weighting (one
    row, or one per output element with ``jacobian=True``), one column per input element
    (one column in fast mode, the random direction being ``direction``).
    """

    name: str
    position: int
    shape: tuple
    kind: str  # "element", "jacobian" or "direction"
    analytic: np.ndarray
    numeric: np.ndarray
    status: np.ndarray
    atol: float
    rtol: float
    out_shape: tuple = ()
    notes: dict = field(default_factory=dict)  # column -> why it is a kink, or undecided
    direction: Any = None
    #: the measured error of each numeric derivative (nan where it was not needed)
    error: Any = None
    #: the input's data (float64), for diagnoses such as "wrong only where x < 0"
    data: Any = None

    @property
    def passed(self) -> bool:
        """No failure and no element that cannot be checked at this eps."""
        return not bool(((self.status == FAIL) | (self.status == UNDECIDED)).any())

    @property
    def n_checked(self) -> int:
        return int(self.status.size)

    @property
    def n_failed(self) -> int:
        return int((self.status == FAIL).sum())

    @property
    def n_kinks(self) -> int:
        return int((self.status == KINK).sum())

    @property
    def n_undecided(self) -> int:
        return int((self.status == UNDECIDED).sum())

    @property
    def abs_err(self) -> np.ndarray:
        return np.abs(self.analytic - self.numeric)

    @property
    def rel_err(self) -> np.ndarray:
        return relative_error(self.analytic, self.numeric)

    @property
    def violation(self) -> np.ndarray:
        """abs_err / allowed error; NaN where a number is NaN."""
        with np.errstate(invalid="ignore", over="ignore"):
            measured = 0.0 if self.error is None else 2 * np.nan_to_num(self.error, nan=0.0)
            return self.abs_err / (self.atol + self.rtol * np.abs(self.numeric) + measured + 1e-300)

    @property
    def max_abs_err(self) -> float:
        """The worst abs_err over the checked (not non-differentiable) rows; NaN if any is."""
        return nan_max(self.abs_err[self.status != KINK])

    @property
    def max_rel_err(self) -> float:
        """The worst rel_err over the checked (not non-differentiable) rows; NaN if any is."""
        return nan_max(self.rel_err[self.status != KINK])

    @property
    def analytic_grad(self) -> np.ndarray:
        """The analytic gradient in the input's shape (the Jacobian with jacobian=True)."""
        return self._shaped(self.analytic)

    @property
    def numeric_grad(self) -> np.ndarray:
        """The numeric gradient in the input's shape (the Jacobian with jacobian=True)."""
        return self._shaped(self.numeric)

    def _shaped(self, array: np.ndarray) -> np.ndarray:
        if self.kind == "direction":
            return array.reshape(())
        if self.kind == "jacobian":
            return array.reshape(self.out_shape + self.shape)
        return array.reshape(self.shape)

    @property
    def diagnosis(self) -> str | None:
        """A guess at what kind of mistake the failing elements show, in words."""
        if self.passed:
            return None
        checked = self.status != KINK
        failing = self.status == FAIL
        return diagnose(
            self.analytic_grad if self.kind != "direction" else self.analytic,
            self.numeric_grad if self.kind != "direction" else self.numeric,
            self.atol,
            self.rtol,
            mask=self._shaped(checked) if self.kind != "direction" else checked,
            data=self.data if self.kind == "element" else None,
            failing=self._shaped(failing) if self.kind != "direction" else failing,
        )

    def rows(self) -> list[GradcheckRow]:
        """Every row of this input, in element order."""
        rows = []
        abs_err, rel_err, violation = self.abs_err, self.rel_err, self.violation
        n_rows, n_cols = self.analytic.shape
        for r in range(n_rows):
            output = _unravel(r, self.out_shape) if self.kind == "jacobian" else None
            for c in range(n_cols):
                status = STATUS_NAMES[int(self.status[r, c])]
                element = "direction" if self.kind == "direction" else _unravel(c, self.shape)
                rows.append(
                    GradcheckRow(
                        input=self.name,
                        element=element,
                        analytic=float(self.analytic[r, c]),
                        numeric=float(self.numeric[r, c]),
                        abs_err=float(abs_err[r, c]),
                        rel_err=float(rel_err[r, c]),
                        status=status,
                        violation=float(violation[r, c]),
                        output=output,
                        note=self.notes.get(c, ""),
                    )
                )
        return rows

    def summary(self) -> str:
        """One line: the verdict for this input."""
        if self.kind == "direction":
            what = "checked along a random direction"
        else:
            agree = self.n_checked - self.n_failed - self.n_kinks - self.n_undecided
            what = f"{agree} of {self.n_checked} agree"
        kinks = f", {self.n_kinks} non-differentiable here" if self.n_kinks else ""
        if self.n_undecided:
            kinks += f", {self.n_undecided} cannot be checked at this eps"
        if self.n_kinks == self.n_checked:
            worst = "nothing left to check"
        elif self.n_kinks:
            checked = self.n_checked - self.n_kinks
            worst = f"max rel err {self.max_rel_err:.1e} over the {checked} checked"
        else:
            worst = f"max rel err {self.max_rel_err:.1e}"
        if self.passed:
            return f"ok    {what}{kinks}, {worst}"
        if not self.n_failed:
            return f"???   {what}{kinks}, {worst}"
        line = f"FAIL  {self.n_failed} of {self.n_checked} wrong{kinks}, {worst}"
        diagnosis = self.diagnosis
        return f"{line}: {diagnosis}" if diagnosis else line


def _unravel(k: int, shape: tuple) -> tuple:
    if not shape:
        return ()
    return tuple(int(i) for i in np.unravel_index(k, shape))


# ============================================================================ diagnosis


def diagnose(
    analytic: np.ndarray,
    numeric: np.ndarray,
    atol: float,
    rtol: float,
    mask: Any = None,
    data: Any = None,
    failing: Any = None,
) -> str | None:
    """Name the pattern of a wrong gradient, when it has a simple one.

    Recognised: NaN or inf, zero gradient (a cut path), a constant factor (-1: a flipped
    sign), a transposition, the right numbers in the wrong places, errors only where the
    input is negative (or positive), errors confined to some rows or columns of a matrix.
    ``data``: the input's values, of the gradient's shape; ``failing``: which elements
    failed (default: those outside atol + rtol |numeric|).  None when no simple pattern fits.
    """
    a = np.asarray(analytic, dtype=np.float64)
    n = np.asarray(numeric, dtype=np.float64)
    checked = np.ones(a.shape, bool) if mask is None else np.asarray(mask, bool)
    with np.errstate(invalid="ignore"):
        ok = (np.abs(a - n) <= atol + rtol * np.abs(n)) | ~checked
    if failing is not None:
        ok = ~np.asarray(failing, bool) | ~checked
    if ok.all():
        return None
    av, nv = a[checked], n[checked]
    if not (np.isfinite(av).all() and np.isfinite(nv).all()):
        side = "analytic" if not np.isfinite(av).all() else "numeric"
        return (
            f"the {side} gradient holds NaN or inf (a division by zero, log(0) or 0 * inf "
            "in the backward?)"
            if side == "analytic"
            else "the numeric gradient holds NaN or inf: the function is not finite near x"
        )
    where = _sign_pattern(a, n, ok, checked, data)
    if rtol < 1e-4:  # the measured rule: patterns are judged at the classic precision
        atol, rtol = max(atol, 1e-12), 1e-4
    meaningful = np.abs(nv) > atol
    if np.all(np.abs(av) <= atol) and meaningful.any():
        return (
            "the analytic gradient is zero where the numeric one is not: the backward sends "
            "nothing back, or the path from this input is cut (.data, detach, no_grad)"
        )
    if meaningful.sum() >= 1:
        ratios = av[meaningful] / nv[meaningful]
        factor = float(np.median(ratios))
        if np.all(np.abs(ratios - factor) <= 10 * rtol * abs(factor) + 1e-12) and np.allclose(
            av[~meaningful], 0, atol=10 * atol
        ):
            if abs(factor + 1) <= 10 * rtol:
                return "sign flipped: analytic = -numeric"
            return f"off by a constant factor: analytic = {_factor_text(factor)} x numeric"
    if a.ndim == 2 and a.shape[0] == a.shape[1] and a.shape[0] > 1:
        if np.allclose(a, n.T, atol=atol, rtol=rtol):
            return "transposed: analytic = numeric.T"
    if a.size > 1 and np.allclose(np.sort(av), np.sort(nv), atol=atol, rtol=rtol):
        return (
            "the right numbers in the wrong places (a permutation: a wrong reshape, "
            "transpose or index?)"
        )
    if where:
        return where
    wrong = ~ok
    if a.ndim == 2 and wrong.sum() < checked.sum():
        rows = sorted({int(r) for r in np.nonzero(wrong.any(axis=1))[0]})
        cols = sorted({int(c) for c in np.nonzero(wrong.any(axis=0))[0]})
        if len(rows) < a.shape[0]:
            return f"wrong only in row{'s' if len(rows) > 1 else ''} {_few(rows)}"
        if len(cols) < a.shape[1]:
            return f"wrong only in column{'s' if len(cols) > 1 else ''} {_few(cols)}"
    return None


def _factor_text(factor: float) -> str:
    """Enough digits to tell the factor from the nearest integer when it truly differs
    (1.000068 is not '1'), four when the difference is measurement noise."""
    gap = abs(factor - round(factor))
    digits = 4
    if gap > 1e-7 * abs(factor):
        digits = max(4, min(12, int(-np.floor(np.log10(gap))) + 2))
    return f"{factor:.{digits}g}"


def _sign_pattern(a: np.ndarray, n: np.ndarray, ok: np.ndarray, checked: np.ndarray, data: Any):
    """'wrong only where x < 0' (or > 0) when the failures follow the input's sign."""
    if data is None or np.shape(data) != a.shape or a.size < 2:
        return None
    x = np.asarray(data, dtype=np.float64)
    wrong = ~ok & checked
    for side, mask in (("< 0", x < 0), ("> 0", x > 0)):
        # two or more elements on each side, so that one lucky agreement is no pattern
        enough = (mask & checked).sum() >= 2 and (checked & ~mask).sum() >= 2
        if enough and np.array_equal(wrong, mask & checked):
            return f"wrong only where the input is {side} (the backward's branch for x {side}?)"
    return None


def _few(items: list) -> str:
    shown = ", ".join(str(i) for i in items[:6])
    return shown + (", ..." if len(items) > 6 else "")


# ============================================================================ the report


class GradcheckReport:
    """The result of ``gradcheck`` (and ``gradgradcheck``, ``gradcheck_module``).

    ``passed``: True when no row fails.  ``inputs``: one ``InputResult`` per input
    (``report["W"]`` finds one by name).  ``rows``: every row; ``failures`` and ``kinks``:
    the failing and non-differentiable rows, worst first.  ``str(report)`` is the
    plain-text table, ``_repr_html_`` the same table for Jupyter.  ``sweep()`` runs the
    step-size sweep, ``localize()`` finds the first operation whose backward is wrong and
    fills ``node_errors``.

    ``node_errors``: ``{node: relative error of its own backward}`` for every operation
    node of the graph that ``localize()`` rebuilt (``localization.output`` is that graph's
    output); empty until ``localize()`` has run.  A graph renderer can colour nodes by it.
    """

    def __init__(
        self,
        *,
        title: str,
        inputs: list[InputResult],
        method: str,
        eps: float,
        tolerance: Tolerance,
        mode: str,
        spec: Spec | None = None,
        warnings: list[str] | None = None,
        notes: list[str] | None = None,
        weighted: bool = False,
    ):
        self.title = title
        self.inputs = inputs
        self.method = method
        self.eps = eps
        self.tolerance = tolerance
        #: the tolerances as given (the measured rule's atol is per input: atol * max|numeric|)
        self.atol = tolerance.atol
        self.rtol = tolerance.rtol
        self.mode = mode
        self.warnings = list(warnings or [])
        self.notes = list(notes or [])
        self.weighted = weighted
        self.localization: Localization | None = None
        self.node_errors: dict[Value, float] = {}
        self.switched_to_eval: list[str] = []
        self.dropout_layers: list[str] = []
        self._spec = spec

    # ------------------------------------------------------------------ contents

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.inputs)

    def __bool__(self) -> bool:
        return self.passed

    @property
    def rule(self) -> str:
        """The pass rule that was applied, with its numbers."""
        if self.tolerance.measured:
            return (
                MEASURED_RULE.format(resolution=RESOLUTION)
                + f"  (rtol={self.rtol:g}, atol={self.atol:g} x the input's largest |numeric|)"
            )
        return f"{RULE}  (atol={self.atol:g}, rtol={self.rtol:g})"

    @property
    def rows(self) -> list[GradcheckRow]:
        """Every row, input by input, in element order."""
        return [row for result in self.inputs for row in result.rows()]

    @property
    def failures(self) -> list[GradcheckRow]:
        """The failing rows, worst first."""
        return sorted((r for r in self.rows if r.status == "fail"), key=_worst_first)

    @property
    def undecided(self) -> list[GradcheckRow]:
        """The rows that cannot be checked at this eps (not passes, not failures)."""
        return [r for r in self.rows if r.status == "undecided"]

    @property
    def kinks(self) -> list[GradcheckRow]:
        """The rows that are non-differentiable here (not failures)."""
        return [r for r in self.rows if r.status == "kink"]

    def worst(self, n: int = 10) -> list[GradcheckRow]:
        """The n worst rows: failures first, then kinks, then the rest; by relative error."""
        return sorted(self.rows, key=_worst_first)[:n]

    def __getitem__(self, name: str) -> InputResult:
        for result in self.inputs:
            if result.name == name:
                return result
        known = ", ".join(repr(r.name) for r in self.inputs)
        raise KeyError(f"no input named {name!r} in this report; inputs: {known}")

    # ------------------------------------------------------------------ follow-ups

    def sweep(self, eps_values: Any = None) -> EpsSweep:
        """Re-run the check for eps from 1e-1 to 1e-12 and say why it fails (see eps_sweep)."""
        from minigrad.gradcheck.sweep import sweep_spec

        self._need_spec("sweep")
        return sweep_spec(
            self._spec,
            eps_values=eps_values,
            method=self.method,
            tol=self.tolerance,
            fast=self.mode == "fast",
            at_eps=self.eps,
        )

    def localize(self, max_elements: int = 64) -> Localization:
        """Check each operation's own backward against its forward; name the first wrong one.

        Fills ``localization`` and ``node_errors`` and returns the ``Localization``.
        """
        from minigrad.gradcheck.localize import localize_spec

        self._need_spec("localize")
        self.localization = localize_spec(
            self._spec,
            eps=self.eps,
            atol=self.atol,
            rtol=self.rtol,
            measured=self.tolerance.measured,
            max_elements=max_elements,
        )
        self.node_errors = self.localization.node_errors
        return self.localization

    def _need_spec(self, what: str) -> None:
        if self._spec is None:
            raise RuntimeError(f"this report cannot {what}: it does not know the function")

    # ------------------------------------------------------------------ text

    def summary(self) -> str:
        total = sum(r.n_checked for r in self.inputs)
        failed = sum(r.n_failed for r in self.inputs)
        kinks = sum(r.n_kinks for r in self.inputs)
        undecided = sum(r.n_undecided for r in self.inputs)
        kink_text = f", {kinks} non-differentiable here (not failures)" if kinks else ""
        if undecided:
            kink_text += f", {undecided} cannot be checked at this eps (not passes)"
        if self.passed:
            agree = total - kinks
            if agree == 0:
                return (
                    f"{self.title} passed, but checked nothing: all {total} checks are "
                    "non-differentiable here"
                )
            return f"{self.title} passed: {agree} of {total} checks agree{kink_text}"
        if not failed:
            kink_text = f", {kinks} non-differentiable here" if kinks else ""
            return (
                f"{self.title} UNDECIDED: {undecided} of {total} checks cannot be checked at "
                f"eps={self.eps:g} (the finite difference is not accurate enough there), none "
                f"disagrees{kink_text}"
            )
        where = ", ".join(f"'{r.name}': {r.n_failed}" for r in self.inputs if r.n_failed)
        return f"{self.title} FAILED: {failed} of {total} checks disagree ({where}){kink_text}"

    @property
    def undecidable(self) -> bool:
        """True when nothing fails but some rows cannot be checked at this eps."""
        return not self.passed and not any(r.n_failed for r in self.inputs)

    def describe_method(self) -> str:
        what = {
            "full": "every element checked",
            "jacobian": "every output element against every input element (full Jacobian)",
            "fast": "fast mode: each input along one random direction u (checks v^T J u)",
        }[self.mode]
        weights = (
            "; non-scalar output reduced to sum(w * output) with fixed random weights w"
            if self.weighted
            else ""
        )
        return f"method: {METHOD_TEXT[self.method]}, eps={self.eps:g}; {what}{weights}"

    def table(self, max_rows: int = 20) -> str:
        """The report as plain text: summary, method, pass rule, the worst rows, per input."""
        lines = [self.summary(), self.describe_method(), f"pass rule: {self.rule}"]
        lines += [f"warning: {w}" for w in self.warnings]
        lines += [f"note: {n}" for n in self.notes]
        rows = self.worst(max_rows)
        jacobian = self.mode == "jacobian"
        header = ["input", "element"] + (["output"] if jacobian else [])
        header += ["analytic", "numeric", "abs err", "rel err", "status"]
        body = []
        for r in rows:
            cells = _cells(r, jacobian)
            body.append(cells)
        lines.append("")
        lines += _columns(header, body, right={k + jacobian for k in (2, 3, 4, 5)})
        total = sum(r.n_checked for r in self.inputs)
        if total > len(rows):
            lines.append(
                f"... {total - len(rows)} more rows, all better than these "
                "(report.rows has every row)"
            )
        kinks = [r for r in rows if r.status == "kink" and r.note]
        if kinks:
            lines.append("")
            lines.append(
                "non-differentiable here: the finite-difference stencil crosses a point where "
                "the function has no derivative, so the element cannot be checked (not a "
                "failure)."
            )
            for note in dict.fromkeys(r.note for r in kinks):
                lines.append(f"  {note}")
        others = [r for r in rows if r.status != "kink" and r.note]
        if others:
            lines.append("")
            lines.append("notes on rows:")
            for r in others:
                lines.append(f"  {r.input} {_index_text(r.element)}: {r.note}")
        lines.append("")
        lines.append("per input:")
        width = max(len(r.name) for r in self.inputs)
        shape_width = max(len(str(r.shape)) for r in self.inputs)
        for r in self.inputs:
            lines.append(f"  {r.name:<{width}}  {str(r.shape):<{shape_width}}  {r.summary()}")
        if self.localization is not None:
            lines.append("")
            lines.append(str(self.localization))
        elif not self.passed and self._spec is not None:
            lines.append("")
            lines.append(
                "next: report.localize() names the operation whose backward is wrong; "
                "report.sweep() tells a bug from round-off or truncation error"
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()

    def __repr__(self) -> str:
        state = "passed" if self.passed else "FAILED"
        return f"<GradcheckReport {self.title} {state}: {len(self.inputs)} inputs, {self.mode}>"

    def _repr_html_(self, max_rows: int = 20) -> str:
        """How Jupyter shows the report: the table of ``to_html``."""
        return self.to_html(max_rows)

    def to_html(self, max_rows: int = 20) -> str:
        """The table as an HTML fragment: failures red, rows that cannot be checked at this
        eps lilac, non-differentiable rows yellow."""
        esc = html.escape
        colour = {"fail": "#f8d0d0", "undecided": "#e4dcf4", "kink": "#fff3c4", "ok": "transparent"}
        jacobian = self.mode == "jacobian"
        head = ["input", "element"] + (["output"] if jacobian else [])
        head += ["analytic", "numeric", "abs err", "rel err", "status"]
        parts = [
            "<div class='minigrad-gradcheck'>",
            f"<p><b>{esc(self.summary())}</b><br>{esc(self.describe_method())}<br>"
            f"pass rule: <code>{esc(self.rule)}</code></p>",
        ]
        for w in self.warnings:
            parts.append(f"<p>warning: {esc(w)}</p>")
        for n in self.notes:
            parts.append(f"<p>note: {esc(n)}</p>")
        parts.append("<table><thead><tr>")
        parts += [f"<th>{esc(h)}</th>" for h in head]
        parts.append("</tr></thead><tbody>")
        for r in self.worst(max_rows):
            cells = _cells(r, jacobian)
            title = f" title='{esc(r.note)}'" if r.note else ""
            parts.append(f"<tr style='background:{colour[r.status]}'{title}>")
            parts += [f"<td>{esc(c)}</td>" for c in cells]
            parts.append("</tr>")
        parts.append("</tbody></table><ul>")
        for r in self.inputs:
            parts.append(f"<li><b>{esc(r.name)}</b> {esc(str(r.shape))}: {esc(r.summary())}</li>")
        parts.append("</ul>")
        if self.localization is not None:
            parts.append(f"<pre>{esc(str(self.localization))}</pre>")
        parts.append("</div>")
        return "".join(parts)


def _worst_first(row: GradcheckRow) -> tuple:
    return (_RANK[row.status], -row.rel_err, -row.violation)


def _cells(r: GradcheckRow, jacobian: bool) -> list[str]:
    """One row of the table as text, the same for the plain and the HTML table."""
    cells = [r.input, _index_text(r.element)]
    if jacobian:
        cells.append(_index_text(r.output))
    return cells + [
        f"{r.analytic:.8g}",
        f"{r.numeric:.8g}",
        f"{r.abs_err:.2e}",
        f"{r.rel_err:.2e}",
        STATUS_TEXT[r.status],
    ]


def _index_text(index: Any) -> str:
    if index is None:
        return ""
    if isinstance(index, str):
        return index
    return str(tuple(index)) if index else "()"


def _columns(header: list[str], body: list[list[str]], right: set) -> list[str]:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *body)]

    def line(cells: list[str]) -> str:
        out = []
        for k, (cell, width) in enumerate(zip(cells, widths)):
            out.append(f"{cell:>{width}}" if k in right else f"{cell:<{width}}")
        return "  ".join(out).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return [line(header), rule] + [line(cells) for cells in body]


class GradcheckError(AssertionError):
    """A gradient check failed.  The message is the report's table; ``.report`` is the report."""

    def __init__(self, report: GradcheckReport):
        super().__init__(report.table())
        self.report = report
