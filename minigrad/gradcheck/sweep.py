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
    FAIL,
    KINK,
    METHOD_TEXT,
    Problem,
    Spec,
    check_callable,
    check_inputs,
    check_method,
    check_tolerances,
    default_names,
    make_seed,
    workspace,
)
from minigrad.value import Value

#: The default sweep: eps = 1e-1, 1e-2, ..., 1e-12.
DEFAULT_EPS_VALUES = tuple(10.0**-k for k in range(1, 13))

VERDICTS = ("ok", "bug", "round-off", "truncation", "round-off and truncation")


@dataclass
class EpsSweep:
    """The check repeated for each eps in ``eps`` (largest first).

    Per eps: ``max_abs_err`` and ``max_rel_err`` (worst element), ``max_violation`` (worst
    |a - n| / (atol + rtol |n|); above 1 fails), ``n_failed``, ``passed``, and ``causes``:
    ``"ok"``, ``"truncation"`` (fails above every passing eps), ``"round-off"`` (fails
    below every passing eps, or between two) or ``"bug"`` (no eps passes).

    ``verdict`` is one of ``"ok"`` (passes at every eps), ``"bug"`` (fails at every eps: a
    bug in the backward), ``"round-off"`` (fails only at small eps), ``"truncation"``
    (fails only at large eps), ``"round-off and truncation"`` (passes in the middle only:
    the backward is right).  ``recommended_eps`` has the smallest error (with a bug, where
    no eps is better, the method's usual step); ``explanation`` says all this in words.
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
            f"{'eps':>8}  {'max abs err':>11}  {'max rel err':>11}  {'failed':>6}  cause",
        ]
        for k, eps in enumerate(self.eps):
            mark = "  <- recommended" if eps == self.recommended_eps and not self.bug else ""
            lines.append(
                f"{eps:>8.0e}  {self.max_abs_err[k]:>11.2e}  {self.max_rel_err[k]:>11.2e}  "
                f"{int(self.n_failed[k]):>6}  {self.causes[k]}{mark}"
            )
        return "\n".join(lines)

    def plot(self, ax: Any = None, path: Any = None) -> Any:
        """The error curve on log-log axes (the V), failing eps in red; returns the Figure.

        ``ax``: draw into an existing matplotlib Axes.  ``path``: save the figure there
        (a standalone Agg figure, no pyplot state).  Without either, the figure is made with
        pyplot, so ``plt.show()`` and Jupyter display it.  matplotlib is imported here, not
        when minigrad is imported.
        """
        if ax is None:
            figure = _new_figure(path, figsize=(6.4, 4.2))
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
            f"<td>{ab:.2e}</td><td>{rel:.2e}</td><td>{int(n)}</td><td>{html.escape(c)}</td></tr>"
            for e, ab, rel, n, ok, c in zip(
                self.eps, self.max_abs_err, self.max_rel_err, self.n_failed, self.passed,
                self.causes,
            )
        )  # fmt: skip
        return (
            f"<p><b>eps sweep: {html.escape(self.verdict)}</b><br>"
            f"{html.escape(self.explanation)}</p><table><thead><tr><th>eps</th>"
            "<th>max abs err</th><th>max rel err</th><th>failed</th><th>cause</th></tr>"
            f"</thead><tbody>{rows}</tbody></table>"
        )


def eps_sweep(
    fn: Callable[..., Value],
    *inputs: Value,
    eps_values: Any = None,
    method: str = "central",
    atol: float = 1e-5,
    rtol: float = 1e-3,
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
    atol, rtol = check_tolerances(atol, rtol, caller)
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
    return sweep_spec(
        spec, eps_values=eps_values, method=method, atol=atol, rtol=rtol, fast=bool(fast)
    )


def sweep_spec(
    spec: Spec,
    *,
    eps_values: Any,
    method: str,
    atol: float,
    rtol: float,
    fast: bool,
    at_eps: float | None = None,
) -> EpsSweep:
    """The sweep of an already validated check."""
    from minigrad.gradcheck.check import run_checks

    values = _eps_values(eps_values, spec.caller)
    abs_errs, rel_errs, violations, failed = [], [], [], []
    with workspace(spec):
        problem = Problem(spec)
        problem.start()
        analytic = problem.analytic()
        if method == "complex-step":
            problem.require_complex_support()
        for eps in values:
            results = run_checks(problem, analytic, eps, method, atol, rtol, fast)
            abs_errs.append(_worst(results, "abs_err"))
            rel_errs.append(_worst(results, "rel_err"))
            violations.append(_worst(results, "violation"))
            failed.append(sum(int((r.status == FAIL).sum()) for r in results))
    eps = np.array(values)
    failed_arr = np.array(failed)
    passed = failed_arr == 0
    violation = np.array(violations)
    causes = _causes(eps, passed)
    verdict = _verdict(causes)
    # With a bug no eps is better than another: recommend the method's usual step.
    recommended = DEFAULT_EPS[method] if verdict == "bug" else _recommend(eps, violation, method)
    return EpsSweep(
        eps=eps,
        max_abs_err=np.array(abs_errs),
        max_rel_err=np.array(rel_errs),
        max_violation=violation,
        n_failed=failed_arr,
        passed=passed,
        causes=causes,
        verdict=verdict,
        recommended_eps=recommended,
        explanation=_explain(verdict, eps, passed, np.array(rel_errs), recommended, at_eps, causes),
        method=method,
        atol=atol,
        rtol=rtol,
        at_eps=at_eps,
    )


def _worst(results: list, attribute: str) -> float:
    """The largest value of an error array over every checked (non-kink) element."""
    worst = 0.0
    for r in results:
        checked = r.status != KINK
        if checked.any():
            worst = max(worst, float(getattr(r, attribute)[checked].max()))
    return worst


def _eps_values(given: Any, caller: str) -> list[float]:
    if given is None:
        return list(DEFAULT_EPS_VALUES)
    values = np.asarray(given, dtype=np.float64).reshape(-1)
    if values.size == 0:
        raise ValueError(f"{caller}: eps_values is empty")
    if not np.all(np.isfinite(values)) or np.any(values <= 0):
        raise ValueError(f"{caller}: every eps in eps_values must be > 0, got {given!r}")
    return sorted((float(v) for v in values), reverse=True)


def _causes(eps: np.ndarray, passed: np.ndarray) -> list[str]:
    if not passed.any():
        return ["bug"] * len(eps)
    largest_ok = eps[passed].max()
    causes = []
    for e, ok in zip(eps, passed):
        if ok:
            causes.append("ok")
        elif e > largest_ok:
            causes.append("truncation")
        else:  # below the passing range, or a noisy point inside it
            causes.append("round-off")
    return causes


def _verdict(causes: list[str]) -> str:
    kinds = set(causes) - {"ok"}
    if not kinds:
        return "ok"
    if "bug" in kinds:
        return "bug"
    if kinds == {"round-off", "truncation"}:
        return "round-off and truncation"
    return kinds.pop()


def _recommend(eps: np.ndarray, violation: np.ndarray, method: str) -> float:
    """The eps with the smallest error; near-ties (within 1%) go to the one nearest the
    method's usual step."""
    usual = math.log10(DEFAULT_EPS[method]) if method != "complex-step" else -6.0
    lowest = float(violation.min())
    candidates = [k for k in range(len(eps)) if violation[k] <= lowest * 1.01 + 1e-12]
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
    if verdict == "bug":
        k = int(np.argmin(rel))
        return (
            f"wrong at every eps {span}: the error never falls below {rel[k]:.1e} "
            f"(at eps={eps[k]:.0e}), so it is not a matter of step size: the backward computes "
            "a different derivative than the function has (a bug in the backward, or a path "
            "cut out of the graph)"
        )
    if verdict == "ok":
        return f"passes at every eps {span}; recommended eps={recommended:.0e}"
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
        if causes[k] != "ok":
            text += f". The check at eps={at_eps:g} failed because of {causes[k]} error"
    return text


def _new_figure(path: Any, figsize: tuple[float, float]) -> Any:
    """A pyplot figure to show, or (with ``path``) a bare Agg-backed Figure to save."""
    if path is None:
        import matplotlib.pyplot as plt

        return plt.figure(figsize=figsize)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=figsize)
    FigureCanvasAgg(figure)
    return figure
