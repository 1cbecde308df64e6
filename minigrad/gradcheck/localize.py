"""Finding the faulty operation: each node's own backward against its own forward.

For a node ``y = op(a, b, ...)`` and a random output gradient ``g``, the node's backward
must return ``d<g, op(a, b)>/da``, ``d<g, op(a, b)>/db``...  That is checked against finite
differences of ``<g, op.forward(fresh ctx, a', b, ...)>``, re-running the operation's own
forward on perturbed copies of its inputs' data with the same parameters.  Each check
involves one operation only, so the first node (from the inputs to the output) that
fails is the operation whose backward is wrong.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from minigrad import functions as F
from minigrad.anomaly import AnomalyError, detect_anomaly
from minigrad.autograd import fit_gradient, topological_order
from minigrad.gradcheck._core import Problem, Spec, passes, relative_error, workspace
from minigrad.gradcheck.report import diagnose
from minigrad.value import Value


class _CannotRerun(Exception):
    """The operation's forward cannot be re-run from what its ctx recorded."""


@dataclass
class NodeCheck:
    """The check of one node's backward rule.

    ``status``: ``"ok"``, ``"fail"``, ``"kink"`` (every perturbation would cross a kink of
    the operation) or ``"skipped"`` (``detail`` says why).  ``rel_err``: the worst
    relative error over its inputs (nan when skipped); ``input_errors``: per input, or
    None for inputs that need no gradient.
    """

    node: Value
    op: str
    name: str | None
    shape: tuple
    created_at: str | None
    status: str
    rel_err: float
    abs_err: float
    input_errors: list = field(default_factory=list)
    detail: str = ""

    @property
    def passed(self) -> bool:
        return self.status != "fail"

    def describe(self) -> str:
        name = f"node '{self.name}'" if self.name else "unnamed node"
        site = f", created at {self.created_at}" if self.created_at else ""
        return f"{self.op} ({name}, shape {self.shape}){site}"


class Localization:
    """The result of ``report.localize()``.

    ``checks``: one ``NodeCheck`` per operation node, from the inputs to the output.
    ``culprit``: the first failing one, or None.  ``output``: the output Value of the graph
    that was rebuilt and checked.  ``node_errors``: ``{node: rel_err}`` for every checked
    node (a graph renderer colours nodes by it).
    """

    def __init__(self, checks: list[NodeCheck], output: Value, notes: list[str]):
        self.checks = checks
        self.output = output
        self.notes = notes
        self.failures = [c for c in checks if c.status == "fail"]
        self.culprit = self.failures[0] if self.failures else None
        self.node_errors: dict[Value, float] = {
            c.node: c.rel_err for c in checks if c.status in ("ok", "fail")
        }

    def __str__(self) -> str:
        lines = [
            f"localize: checked {len(self.checks)} operations, from the inputs to the output, "
            "each backward against finite differences of its own forward"
        ]
        lines += [f"  note: {n}" for n in self.notes]
        if self.culprit is None:
            lines.append(
                "every operation's backward agrees with its own forward. If the gradient is "
                "still wrong, the error is outside the graph: a value that depends on the "
                "inputs was computed from .data or numpy, or the path was cut with detach() or "
                "no_grad(), so the backward cannot see it"
            )
        else:
            c = self.culprit
            lines.append(f"the first operation whose backward disagrees: {c.describe()}")
            lines.append(f"  {c.detail}")
            if len(self.failures) > 1:
                others = ", ".join(f.op for f in self.failures[1:6])
                lines.append(f"  {len(self.failures) - 1} later operations disagree too: {others}")
        shown = [c for c in self.checks if c.status != "ok" and c is not self.culprit][:10]
        if shown:
            lines.append("  other operations not ok:")
            for c in shown:
                error = "" if np.isnan(c.rel_err) else f", rel err {c.rel_err:.1e}"
                lines.append(f"    {c.status:<7} {c.describe()}{error}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        who = self.culprit.op if self.culprit else "none"
        return f"<Localization: {len(self.checks)} operations checked, culprit: {who}>"


def localize_spec(
    spec: Spec, *, eps: float, atol: float, rtol: float, max_elements: int = 64
) -> Localization:
    """Rebuild fn's graph (under detect_anomaly, to record where each node was created)
    and check every operation node's backward, from the inputs to the output."""
    notes: list[str] = []
    with workspace(spec):
        problem = Problem(spec)
        try:
            with detect_anomaly():
                out = problem.call(record=True)
        except AnomalyError as error:
            notes.append(
                "creation sites not recorded: anomaly mode stopped at a non-finite value "
                f"({str(error).splitlines()[0]})"
            )
            out = problem.call(record=True)
        rng = np.random.default_rng([spec.seed, 5])
        order = topological_order(out)[::-1] if out.requires_grad else []
        checks = [
            check_node(node, eps, atol, rtol, rng, max_elements)
            for node in order
            if node.grad_fn is not None
        ]
    return Localization(checks, out, notes)


# ============================================================================ one node


def check_node(
    node: Value, eps: float, atol: float, rtol: float, rng: np.random.Generator, max_elements: int
) -> NodeCheck:
    """Check ``node.grad_fn.backward`` at this node against its own forward."""
    cls = node.grad_fn
    parents = node._parents

    def result(status: str, rel: float, ab: float, errors: list, detail: str) -> NodeCheck:
        return NodeCheck(
            node=node,
            op=node.op,
            name=node.name,
            shape=node.shape,
            created_at=node.__dict__.get("created_at"),
            status=status,
            rel_err=rel,
            abs_err=ab,
            input_errors=errors,
            detail=detail,
        )

    if issubclass(cls, F._NotDifferentiable):
        return result("skipped", np.nan, np.nan, [], "holds a gradient from a custom backward")
    try:
        params = forward_params(cls, node, len(parents))
        forward = _forward(cls, node, params)
        again = forward([p.data for p in parents])
        if np.shape(again) != node.shape or not np.allclose(
            again, node.data, rtol=1e-12, atol=1e-300, equal_nan=True
        ):
            raise _CannotRerun(
                f"re-running {cls.__name__}.forward with the parameters found on ctx does not "
                "reproduce this node's value; store every parameter of forward on ctx under "
                "its own name (ctx.k = k) so that it can be re-run"
            )
    except _CannotRerun as reason:
        return result("skipped", np.nan, np.nan, [], str(reason))
    except Exception as error:  # noqa: BLE001 - any failure to re-run is reported, not raised
        return result(
            "skipped", np.nan, np.nan, [], f"could not re-run forward: {type(error).__name__}: "
            f"{error}"
        )  # fmt: skip

    g = rng.standard_normal(node.shape)
    g_arg: Any = float(g) if type(node.data) is float else g
    try:
        grads = cls.backward(node, g_arg)
        if type(grads) is not tuple:
            grads = (grads,)
        if len(grads) != len(parents):
            raise ValueError(f"backward returned {len(grads)} gradients for {len(parents)} inputs")
        analytic = []
        for index, (p, gi) in enumerate(zip(parents, grads)):
            if gi is None or not p.requires_grad:
                analytic.append(None)
                continue
            fitted = fit_gradient(_plain(gi), p.data, cls.__name__, index)
            analytic.append(np.asarray(fitted, dtype=np.float64))
    except Exception as error:  # noqa: BLE001 - a broken backward is the finding
        return result(
            "fail", np.inf, np.inf, [], f"its backward raised {type(error).__name__}: {error}"
        )

    def objective(datas: list) -> float:
        return float(np.sum(g * np.asarray(forward(datas), dtype=np.float64)))

    errors: list = []
    worst_rel, worst_abs, failing, kinks, detail = 0.0, 0.0, [], 0, ""
    base = [p.data for p in parents]
    for index, p in enumerate(parents):
        if not p.requires_grad:
            errors.append(None)
            continue
        a = analytic[index] if analytic[index] is not None else np.zeros(np.shape(p.data))
        near = kink_mask(cls, node, index, eps)
        try:
            if np.size(p.data) <= max_elements:
                outcome = _elementwise(objective, base, index, a, near, eps, atol, rtol)
            else:
                outcome = _directional(objective, base, index, a, near, eps, atol, rtol, rng)
        except FloatingPointError as error:
            return result("skipped", np.nan, np.nan, errors, str(error))
        ok, rel, ab, n_kinks, numeric_shown, analytic_shown, mask = outcome
        kinks += n_kinks
        if not np.any(mask):  # every element of this input sits at a kink: nothing checked
            errors.append(None)
            continue
        errors.append(rel)
        worst_rel, worst_abs = max(worst_rel, rel), max(worst_abs, ab)
        if not ok:
            failing.append(index)
            if not detail:
                diagnosis = diagnose(analytic_shown, numeric_shown, atol, rtol, mask=mask)
                detail = (
                    f"its gradient for input {index} ({_parent_label(p)}) is off: relative "
                    f"error {rel:.1e}" + (f"; {diagnosis}" if diagnosis else "")
                )
    if failing:
        return result("fail", worst_rel, worst_abs, errors, detail)
    checked = [e for e in errors if e is not None]
    if kinks and not checked:
        return result("kink", np.nan, np.nan, errors, "every perturbation crosses a kink")
    return result("ok", worst_rel, worst_abs, errors, "")


def _elementwise(
    objective: Any,
    base: list,
    index: int,
    analytic: np.ndarray,
    near: np.ndarray | None,
    eps: float,
    atol: float,
    rtol: float,
) -> tuple:
    shape = np.shape(base[index])
    numeric = np.zeros(shape)
    flat_numeric = numeric.reshape(-1)
    checked = np.ones(shape, dtype=bool)
    flat_checked = checked.reshape(-1)
    near_flat = None if near is None else np.asarray(near).reshape(-1)
    for j in range(max(int(np.prod(shape)), 1)):
        if near_flat is not None and near_flat[j]:
            flat_checked[j] = False
            continue
        plus = objective(_moved(base, index, j, eps))
        minus = objective(_moved(base, index, j, -eps))
        if not (np.isfinite(plus) and np.isfinite(minus)):
            raise FloatingPointError(
                "the finite-difference stencil leaves the operation's domain (log, pow or a "
                "division near 0?)"
            )
        flat_numeric[j] = (plus - minus) / (2 * eps)
    a = np.reshape(analytic, shape)
    good = passes(a, numeric, atol, rtol) | ~checked
    rel = relative_error(a, numeric)[checked]
    ab = np.abs(a - numeric)[checked]
    return (
        bool(good.all()),
        float(rel.max()) if rel.size else 0.0,
        float(ab.max()) if ab.size else 0.0,
        int((~checked).sum()),
        numeric,
        a,
        checked,
    )


def _directional(
    objective: Any,
    base: list,
    index: int,
    analytic: np.ndarray,
    near: np.ndarray | None,
    eps: float,
    atol: float,
    rtol: float,
    rng: np.random.Generator,
) -> tuple:
    shape = np.shape(base[index])
    # Entries within +-4, so that no element moves farther than the reach of kink_mask.
    u = np.clip(rng.standard_normal(shape), -4.0, 4.0)
    if near is not None:
        u = np.where(near, 0.0, u)
    if not u.any():
        return True, 0.0, 0.0, int(np.size(u)), np.zeros(1), np.zeros(1), np.zeros(1, bool)
    checked = np.ones(1, bool)
    moved_plus = list(base)
    moved_plus[index] = np.asarray(base[index], dtype=np.float64) + eps * u
    moved_minus = list(base)
    moved_minus[index] = np.asarray(base[index], dtype=np.float64) - eps * u
    plus, minus = objective(moved_plus), objective(moved_minus)
    if not (np.isfinite(plus) and np.isfinite(minus)):
        raise FloatingPointError("the finite-difference stencil leaves the operation's domain")
    n = np.array([(plus - minus) / (2 * eps)])
    a = np.array([float(np.sum(np.reshape(analytic, shape) * u))])
    ok = bool(passes(a, n, atol, rtol).all())
    return (
        ok,
        float(relative_error(a, n)[0]),
        float(abs(a[0] - n[0])),
        int(near.sum()) if near is not None else 0,
        n,
        a,
        checked,
    )


def _moved(base: list, index: int, j: int, step: float) -> list:
    moved = list(base)
    data = base[index]
    if type(data) is float:
        moved[index] = data + step
    else:
        copy = np.array(data, dtype=np.float64, order="C")
        copy[np.unravel_index(j, copy.shape)] += step
        moved[index] = copy
    return moved


def _plain(g: Any) -> Any:
    return g.data if isinstance(g, Value) else g


def _parent_label(p: Value) -> str:
    if p.name:
        return f"'{p.name}'"
    return f"{p.op or 'leaf'} of shape {p.shape}"


# ============================================================================ re-running forward


def forward_params(cls: type, node: Value, n_inputs: int) -> dict:
    """The keyword parameters ``forward`` was called with, recovered from the ctx.

    Every parameter of ``forward`` beyond its inputs is looked up on the node (a forward
    stores its parameters as ctx attributes: ``ctx.axis = axis``); ``shape`` is the
    node's own shape (reshape, broadcast_to, scatter); parameters with defaults that were
    not stored keep their defaults (the caller verifies the result reproduces the node).
    """
    signature = inspect.signature(cls.forward)
    params = list(signature.parameters.values())[1:]  # skip ctx
    found: dict[str, Any] = {}
    consumed = 0
    for p in params:
        if p.kind is inspect.Parameter.VAR_POSITIONAL:
            consumed = n_inputs
            continue
        if p.kind is inspect.Parameter.VAR_KEYWORD:
            continue
        positional = p.kind in (
            inspect.Parameter.POSITIONAL_ONLY,
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
        )
        if positional and consumed < n_inputs:
            consumed += 1
            continue
        if p.name in node.__dict__:
            found[p.name] = node.__dict__[p.name]
        elif p.name == "shape":
            found["shape"] = node.shape
        elif p.default is inspect.Parameter.empty:
            raise _CannotRerun(
                f"{cls.__name__}.forward needs the parameter '{p.name}', which it did not store "
                f"on ctx; add ctx.{p.name} = {p.name} to forward so that localize can re-run it"
            )
    return found


def _forward(cls: type, node: Value, params: dict) -> Any:
    """A function of the inputs' data that runs ``cls.forward`` on a fresh ctx."""

    def run(datas: list) -> Any:
        ctx = Value(0.0, requires_grad=False)
        ctx._parents = node._parents  # so that ctx.needs_input_grad answers as in the graph
        return cls.forward(ctx, *datas, **params)

    return run


def kink_mask(cls: type, node: Value, index: int, eps: float) -> np.ndarray | None:
    """The elements of input ``index`` within reach of a kink of this operation."""
    data = node._parents[index].data
    reach = 5 * eps  # an element moves by eps (elementwise) or at most 4 eps (directional)
    if issubclass(cls, (F.Relu, F.Abs)):
        return np.abs(np.asarray(data)) <= reach
    if issubclass(cls, F.Max) and np.ndim(data):
        axis = node.__dict__.get("axis")
        top = np.max(data, axis=axis, keepdims=True)
        near_top = (top - data) <= reach
        contested = near_top.sum(axis=axis, keepdims=True) > 1
        return near_top & contested
    return None
