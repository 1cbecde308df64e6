"""The step-size sweep: is a mismatch a bug, round-off or truncation error?

A finite difference has two errors that pull in opposite directions: *truncation* (the
stencil is wide, the function curves within it: O(eps^2) for central differences) and
*round-off* (f(x+eps) and f(x-eps) share most of their digits, and their difference is
mostly noise: about 1e-16 |f| / eps).  Plotted against eps on log-log axes the error
makes a V.  A wrong backward shows as an error that never comes down, whatever eps.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from minigrad.gradcheck._core import (
    DEFAULT_EPS,
    KINK,
    METHOD_TEXT,
    DomainError,
    Problem,
    Spec,
    check_callable,
    check_inputs,
    check_method,
    check_tolerances,
    default_names,
    make_seed,
    nan_max,
    workspace,
)
from minigrad.gradcheck._judge import Tolerance
from minigrad.plots import new_figure
from minigrad.value import Value

#: The default sweep: eps = 1e-1, 1e-2, ..., 1e-12.
DEFAULT_EPS_VALUES = tuple(10.0**-k for k in range(1, 13))

VERDICTS = ("ok", "bug", "round-off", "truncation", "round-off and truncation", "cannot decide")


@dataclass
class EpsSweep:
    """The check repeated for each eps in ``eps`` (largest first).

    Per eps: ``max_abs_err`` and ``max_rel_err`` (worst element), ``max_violation`` (worst
    |a - n| / (atol + rtol |n|); above 1 fails), ``n_failed``, ``passed``, and ``causes``:
    ``"ok"``, ``"truncation"`` (fails above every passing eps), ``"round-off"`` (fails
    below every passing eps, or between two), ``"bug"`` (no eps passes, or the error stays
    flat over three or more failing eps), ``"outside the domain"`` (the stencil leaves the
    region where fn is finite), ``"all excused (kinks)"`` (every row non-differentiable:
    nothing was checked, so it is not a pass) or ``"cannot check"`` (no eps passes, and
    too few fail to call it a bug: the finite differences cannot decide).  ``n_kinks``
    and ``n_undecided`` count the excused rows and the rows that cannot be checked, per
    eps.

    ``verdict`` is one of ``"ok"`` (every checked eps passes), ``"bug"`` (a bug in the
    backward), ``"round-off"`` (fails only at small eps), ``"truncation"`` (fails only at
    large eps), ``"round-off and truncation"`` (passes in the middle only: the backward is
    right) or ``"cannot decide"`` (no eps could be checked).  ``recommended_eps`` is the
    passing eps with the smallest error, so a check at it passes (with a bug, or when no
    eps passes, the method's usual step, not marked as recommended); ``explanation`` says
    all this in words.
    """

    eps: np.ndarray
    max_abs_err: np.ndarray
    max_rel_err: np.ndarray
    max_violation: np.ndarray
    n_failed: np.ndarray
    passed: np.ndarray
    causes: list[str]
    verdict: str
    recommended_eps: float
    explanation: str
    method: str
    atol: float
    rtol: float
    at_eps: float | None = None
    #: per eps: rows excused as non-differentiable, and rows that could not be checked
    n_kinks: Any = None
    n_undecided: Any = None

    @property
    def bug(self) -> bool:
        """True when no eps passes: the backward disagrees with every finite difference."""
        return self.verdict == "bug"

    def cause_at(self, eps: float) -> str:
        """The cause of a mismatch at the swept eps nearest to ``eps``."""
        k = int(np.argmin(np.abs(np.log10(self.eps) - math.log10(eps))))
        return self.causes[k]

    def as_dict(self) -> dict:
        """The numbers, as plain lists (for json or a DataFrame)."""
        return {
            "eps": self.eps.tolist(),
            "max_abs_err": self.max_abs_err.tolist(),
            "max_rel_err": self.max_rel_err.tolist(),
            "max_violation": self.max_violation.tolist(),
            "n_failed": self.n_failed.tolist(),
            "passed": self.passed.tolist(),
            "causes": list(self.causes),
            "verdict": self.verdict,
            "recommended_eps": self.recommended_eps,
        }

    def __str__(self) -> str:
        lines = [
            f"eps sweep ({METHOD_TEXT[self.method]}): {self.verdict}",
            self.explanation,
            "",
            f"{'eps':>8}  {'max abs err':>11}  {'max rel err':>11}  {'failed':>6}  "
            f"{'excused':>7}  cause",
        ]
        for k, eps in enumerate(self.eps):
            recommended = eps == self.recommended_eps and bool(self.passed[k])
            mark = "  <- recommended" if recommended else ""
            excused = self._excused(k)
            lines.append(
                f"{eps:>8.0e}  {self.max_abs_err[k]:>11.2e}  {self.max_rel_err[k]:>11.2e}  "
                f"{int(self.n_failed[k]):>6}  {excused:>7}  {self.causes[k]}{mark}"
            )
        return "\n".join(lines)

    def _excused(self, k: int) -> str:
        """Rows not counted at eps k: 'K kink' and 'U ?' (cannot be checked)."""
        parts = []
        if self.n_kinks is not None and self.n_kinks[k]:
            parts.append(f"{int(self.n_kinks[k])}k")
        if self.n_undecided is not None and self.n_undecided[k]:
            parts.append(f"{int(self.n_undecided[k])}?")
        return "+".join(parts) or "0"

    def plot(self, ax: Any = None, path: Any = None) -> Any:
        """The error curve on log-log axes (the V), failing eps in red; returns the Figure.

        ``ax``: draw into an existing matplotlib Axes.  ``path``: save the figure there
        (a standalone Agg figure, no pyplot state).  Without either, the figure is made with
        pyplot, so ``plt.show()`` and Jupyter display it.  matplotlib is imported here, not
        when minigrad is imported.
        """
        if ax is None:
            figure = new_figure(path, figsize=(6.4, 4.2))
            ax = figure.add_subplot()
        else:
            figure = ax.figure
        floor = np.finfo(np.float64).tiny
        errors = np.maximum(self.max_rel_err, floor)
        ax.loglog(self.eps, errors, marker="o", color="tab:blue", label="worst relative error")
        failing = ~self.passed
        if failing.any():
            ax.scatter(self.eps[failing], errors[failing], color="tab:red", zorder=3, label="fails")
        ax.axhline(self.rtol, color="grey", linestyle=":", label=f"rtol = {self.rtol:g}")
        ax.axvline(
            self.recommended_eps,
            color="tab:green",
            linestyle="--",
            label=f"recommended eps = {self.recommended_eps:.0e}",
        )
        ax.set_xlabel("eps (finite-difference step)")
        ax.set_ylabel("relative error, worst element")
        ax.set_title(f"eps sweep: {self.verdict}")
        ax.legend(loc="best", fontsize="small")
        if path is not None:
            figure.savefig(path)
        return figure

    def _repr_html_(self) -> str:
        import html

        rows = "".join(
            f"<tr style='background:{'transparent' if ok else '#f8d0d0'}'><td>{e:.0e}</td>"
            f"<td>{ab:.2e}</td><td>{rel:.2e}</td><td>{int(n)}</td><td>{self._excused(k)}</td>"
            f"<td>{html.escape(c)}</td></tr>"
            for k, (e, ab, rel, n, ok, c) in enumerate(zip(
                self.eps, self.max_abs_err, self.max_rel_err, self.n_failed, self.passed,
                self.causes,
            ))
        )  # fmt: skip
        return (
            f"<p><b>eps sweep: {html.escape(self.verdict)}</b><br>"
            f"{html.escape(self.explanation)}</p><table><thead><tr><th>eps</th>"
            "<th>max abs err</th><th>max rel err</th><th>failed</th><th>excused</th>"
            f"<th>cause</th></tr></thead><tbody>{rows}</tbody></table>"
        )


def eps_sweep(
    fn: Callable[..., Value],
    *inputs: Value,
    eps_values: Any = None,
    method: str = "central",
    atol: float | None = None,
    rtol: float | None = None,
    fast: bool = False,
    jacobian: bool = False,
    output_weights: Any = None,
    seed: int | np.random.Generator = 0,
) -> EpsSweep:
    """Run ``gradcheck`` for each eps (default 1e-1, 1e-2, ..., 1e-12) and classify.

    The analytic gradient is computed once; the numeric one at every eps.  Returns an
    ``EpsSweep``: the errors per eps, the verdict (bug / round-off / truncation / ok),
    the recommended eps, ``str()`` as a table, ``plot()`` for the V-shaped curve.
    Arguments are as in ``gradcheck``.
    """
    caller = "eps_sweep"
    check_callable(fn, caller)
    method = check_method(method, caller)
    tol = Tolerance.from_arguments(*check_tolerances(atol, rtol, caller))
    inputs = check_inputs(inputs, caller)
    spec = Spec(
        fn,
        inputs,
        default_names(inputs),
        caller,
        seed=make_seed(seed, caller),
        jacobian=bool(jacobian),
        output_weights=output_weights,
    )
    return sweep_spec(spec, eps_values=eps_values, method=method, tol=tol, fast=bool(fast))


def sweep_spec(
    spec: Spec,
    *,
    eps_values: Any,
    method: str,
    tol: Tolerance,
    fast: bool,
    at_eps: float | None = None,
) -> EpsSweep:
    """The sweep of an already validated check.

    Each eps is checked as ``gradcheck`` would, without re-checking rows at other steps
    (that would make every eps look alike).  An eps whose stencil leaves the function's
    domain is marked ``"outside the domain"`` and the sweep goes on.
    """
    from minigrad.gradcheck.check import run_checks

    values = _eps_values(eps_values, spec.caller)
    abs_errs, rel_errs, violations, failed, kinks, undecided, domain = [], [], [], [], [], [], []
    with workspace(spec):
        problem = Problem(spec)
        problem.start()
        analytic = problem.analytic()
        if method == "complex-step":
            problem.require_complex_support()
        for eps in values:
            try:
                results = run_checks(problem, analytic, eps, method, tol, fast, refine=False)
            except DomainError:
                for column in (abs_errs, rel_errs, violations):
                    column.append(np.nan)
                failed.append(0)
                kinks.append(0)
                undecided.append(0)
                domain.append(False)
                continue
            abs_errs.append(_worst(results, "abs_err"))
            rel_errs.append(_worst(results, "rel_err"))
            violations.append(_worst(results, "violation"))
            failed.append(sum(r.n_failed for r in results))
            kinks.append(sum(r.n_kinks for r in results))
            undecided.append(sum(r.n_undecided for r in results))
            domain.append(sum(r.n_checked for r in results) > kinks[-1])
            if not domain[-1]:
                domain[-1] = None  # in the domain, but every row excused as a kink
    eps = np.array(values)
    failed_arr, kinks_arr, undecided_arr = np.array(failed), np.array(kinks), np.array(undecided)
    rel = np.array(rel_errs)
    inside = np.array([d is not False for d in domain])
    checked = np.array([d is True for d in domain])
    passed = checked & (failed_arr == 0) & (undecided_arr == 0)
    violation = np.array(violations)
    causes = _causes(eps, passed, rel, inside, checked, failed_arr > 0)
    verdict = _verdict(causes)
    # With a bug no eps is better than another: recommend the method's usual step.
    recommended = (
        DEFAULT_EPS[method] if verdict == "bug" else _recommend(eps, violation, passed, method)
    )
    return EpsSweep(
        eps=eps,
        max_abs_err=np.array(abs_errs),
        max_rel_err=rel,
        max_violation=violation,
        n_failed=failed_arr,
        passed=passed,
        causes=causes,
        verdict=verdict,
        recommended_eps=recommended,
        explanation=_explain(verdict, eps, passed, rel, recommended, at_eps, causes),
        method=method,
        atol=tol.atol,
        rtol=tol.rtol,
        at_eps=at_eps,
        n_kinks=kinks_arr,
        n_undecided=undecided_arr,
    )


def _worst(results: list, attribute: str) -> float:
    """The largest value of an error array over every checked (non-kink) element; NaN
    when any of them is NaN."""
    worst = [getattr(r, attribute)[r.status != KINK] for r in results]
    return nan_max(np.concatenate([w.reshape(-1) for w in worst])) if worst else 0.0


def _eps_values(given: Any, caller: str) -> list[float]:
    if given is None:
        return list(DEFAULT_EPS_VALUES)
    values = np.asarray(given, dtype=np.float64).reshape(-1)
    if values.size == 0:
        raise ValueError(f"{caller}: eps_values is empty")
    if not np.all(np.isfinite(values)) or np.any(values <= 0):
        raise ValueError(f"{caller}: every eps in eps_values must be > 0, got {given!r}")
    return sorted((float(v) for v in values), reverse=True)


def _causes(
    eps: np.ndarray,
    passed: np.ndarray,
    rel: np.ndarray,
    inside: np.ndarray,
    checked: np.ndarray,
    failing: np.ndarray,
) -> list[str]:
    """Why each eps does not pass, judged by the error's trend across eps.

    Truncation error shrinks as eps does (like eps^2 for central differences), round-off
    grows (like 1/eps); a wrong backward leaves an error that does not move.  So a run of
    three or more failing eps whose errors stay within a factor of 3 of each other (and
    below 0.5) is a bug, even if some other eps happens to pass (where truncation cancels
    the bug), and so is a sweep where no eps passes while failures (not mere "cannot be
    checked" rows) occur at two eps or more.
    """
    plateau = _plateau(rel, passed, checked & failing)
    # a bug needs failures: rows that merely cannot be checked at some eps accuse nothing
    no_pass = not passed.any() and int(failing.sum()) >= 2
    largest_ok = eps[passed].max() if passed.any() else np.inf
    causes = []
    for k, (e, ok) in enumerate(zip(eps, passed)):
        if not inside[k]:
            causes.append("outside the domain")
        elif not checked[k]:
            causes.append("all excused (kinks)")
        elif ok:
            causes.append("ok")
        elif no_pass or plateau[k]:
            causes.append("bug")
        elif not passed.any():
            causes.append("cannot check")
        elif e > largest_ok:
            causes.append("truncation")
        else:  # below the passing range, or a noisy point inside it
            causes.append("round-off")
    return causes


def _plateau(rel: np.ndarray, passed: np.ndarray, checked: np.ndarray) -> np.ndarray:
    """Failing eps in runs of >= 3 neighbours whose errors stay within a factor of 3."""
    out = np.zeros(len(rel), bool)
    # An error near 1 or above is no plateau: at tiny eps f(x+eps) == f(x-eps) and the
    # numeric derivative is 0 (rel err 1), which is round-off at its worst, not a level.
    failing = checked & ~passed & np.isfinite(rel) & (rel > 0) & (rel < 0.5)
    start = 0
    while start < len(rel):
        if not failing[start]:
            start += 1
            continue
        end = start + 1
        while (
            end < len(rel)
            and failing[end]
            and (max(rel[start : end + 1]) <= 3 * min(rel[start : end + 1]))
        ):
            end += 1
        if end - start >= 3:
            out[start:end] = True
        start = end if end - start >= 3 else start + 1
    return out


def _verdict(causes: list[str]) -> str:
    kinds = set(causes) - {"ok", "outside the domain", "all excused (kinks)", "cannot check"}
    if not kinds:
        return "ok" if "ok" in causes else "cannot decide"
    if "bug" in kinds:
        return "bug"
    if kinds == {"round-off", "truncation"}:
        return "round-off and truncation"
    return kinds.pop()


def _recommend(eps: np.ndarray, violation: np.ndarray, passed: np.ndarray, method: str) -> float:
    """The passing eps with the smallest error; near-ties (within 1%) go to the one nearest
    the method's usual step.  The method's usual step when no eps passes."""
    if not passed.any():
        return DEFAULT_EPS[method]
    usual = math.log10(DEFAULT_EPS[method]) if method != "complex-step" else -6.0
    lowest = float(np.min(violation[passed]))
    candidates = [k for k in range(len(eps)) if passed[k] and violation[k] <= lowest * 1.01 + 1e-12]
    best = min(candidates, key=lambda k: abs(math.log10(eps[k]) - usual))
    return float(eps[best])


def _explain(
    verdict: str,
    eps: np.ndarray,
    passed: np.ndarray,
    rel: np.ndarray,
    recommended: float,
    at_eps: float | None,
    causes: list[str],
) -> str:
    span = f"from {eps.max():.0e} to {eps.min():.0e}"
    skipped = _skipped_text(eps, causes)
    if verdict == "cannot decide":
        return (
            "no eps could decide: at every eps the finite difference is too inaccurate to "
            "tell a right gradient from a wrong one (fn computed with few digits, float32 "
            "inside?), or every row is non-differentiable" + skipped
        )
    if verdict == "bug":
        bugs = [k for k, c in enumerate(causes) if c == "bug" and np.isfinite(rel[k])]
        k = min(bugs, key=lambda k: rel[k]) if bugs else int(np.nanargmin(rel))
        level = f"the error never falls below {rel[k]:.1e} (at eps={eps[k]:.0e})"
        if passed.any():
            flat = eps[[c == "bug" for c in causes]]
            where = f"from eps={flat.max():.0e} to {flat.min():.0e}"
            text = (
                f"the error stays flat {where} ({level}) instead of shrinking with eps "
                "(truncation) or growing as eps shrinks (round-off); the eps that pass do so by "
                "accident, where the finite difference's own error happens to cancel the bug"
            )
        else:
            text = f"no eps {span} passes: {level}"
        return (
            text + ", so it is not a matter of step size: the backward computes a different "
            "derivative than the function has (a bug in the backward, or a path cut out of the "
            "graph)" + skipped
        )
    if verdict == "ok":
        return f"every checked eps {span} passes; recommended eps={recommended:.0e}" + skipped
    good = eps[passed]
    parts = [f"the backward is right: every eps from {good.max():.0e} to {good.min():.0e} passes"]
    if "truncation" in causes:
        parts.append(
            "larger eps fail by truncation error (the stencil is too wide for the function's "
            "curvature; the error shrinks as eps does)"
        )
    if "round-off" in causes:
        parts.append(
            "smaller eps fail by round-off error (f(x+eps) and f(x-eps) share so many digits "
            "that their difference is mostly rounding noise; the error grows like 1/eps)"
        )
    text = "; ".join(parts) + f". Recommended eps={recommended:.0e}"
    if at_eps is not None:
        k = int(np.argmin(np.abs(np.log10(eps) - math.log10(at_eps))))
        if causes[k] in ("truncation", "round-off"):
            text += f". The check at eps={at_eps:g} failed because of {causes[k]} error"
    return text + skipped


def _skipped_text(eps: np.ndarray, causes: list[str]) -> str:
    out = ""
    for cause, what in (
        ("outside the domain", "the stencil leaves the region where fn is finite"),
        ("all excused (kinks)", "every row is non-differentiable there, so nothing was checked"),
    ):
        hit = [f"{e:.0e}" for e, c in zip(eps, causes) if c == cause]
        if hit:
            out += f". Not checked at eps={', '.join(hit)}: {what}"
    return out

