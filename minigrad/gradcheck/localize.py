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
from minigrad.autograd import local_gradients, topological_order
from minigrad.gradcheck._core import (
    Problem,
    Spec,
    is_builtin,
    nan_max,
    passes,
    relative_error,
    workspace,
)
from minigrad.gradcheck._judge import U64
from minigrad.gradcheck.report import diagnose
from minigrad.value import Value, data_of


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
        unreproduced = [c for c in self.checks if "does not reproduce" in c.detail]
        if self.culprit is None and unreproduced:
            lines.append(
                f"no operation that could be checked disagrees, but {unreproduced[0].describe()} "
                "could not be re-run to its own value: its output was changed in place after "
                "it was computed, or forward keeps a parameter off ctx. An output changed in "
                "place corrupts what backward saved; check that operation and the ones after it"
            )
        elif self.culprit is None:
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
    spec: Spec,
    *,
    eps: float,
    atol: float,
    rtol: float,
    measured: bool = False,
    max_elements: int = 64,
) -> Localization:
    """Rebuild fn's graph (under detect_anomaly, to record where each node was created)
    and check every operation node's backward, from the inputs to the output.

    Every backward runs first, right after the forward pass and from the output back, as
    in a real backward pass: no forward is re-run before it, so a backward that reads
    state a later forward overwrote (a cache on the class, a global) is caught.
    ``measured``: the gradcheck's measured rule (atol scales with the node's gradient,
    and the finite difference's error, from eps against 2 eps, is allowed for)."""
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
        nodes = [node for node in order if node.grad_fn is not None]
        # every backward before any forward is re-run (from the output back, as the engine)
        backwards = {id(node): run_backward(node, rng) for node in reversed(nodes)}
        checks = [
            check_node(node, eps, atol, rtol, rng, max_elements, backwards[id(node)], measured)
            for node in nodes
        ]
    return Localization(checks, out, notes)


# ============================================================================ one node


@dataclass
class BackwardRun:
    """One node's backward, run on a random output gradient ``g``: what it sent each input
    (``grads``, reduced to the inputs' shapes by ``autograd.local_gradients``), or the
    exception it raised, and whether it wrote into ``g``."""

    g: np.ndarray
    grads: tuple | None
    error: Exception | None
    edited_grad: bool


def run_backward(node: Value, rng: np.random.Generator) -> BackwardRun:
    """Call the node's backward on a random output gradient; never raises.

    The rule gets a copy of ``g``; if the copy comes back changed, the rule edited its
    incoming gradient in place (``grad *= ...``), which corrupts every other rule that is
    handed the same array.  ``g`` itself stays untouched, for the finite differences.
    """
    g = rng.standard_normal(node.shape)
    given = g.copy()
    g_arg: Any = float(g) if type(node.data) is float else given
    try:
        grads = local_gradients(node, g_arg)
    except Exception as error:  # noqa: BLE001 - a broken backward is the finding
        return BackwardRun(g, None, error, False)
    edited = isinstance(g_arg, np.ndarray) and not np.array_equal(given, g)
    return BackwardRun(g, grads, None, edited)


EDITED_GRAD = (
    "its backward edits its incoming gradient in place (grad *= ..., grad[...] = ... or an "
    "out= argument): that array may be shared with other operations, whose gradients it "
    "corrupts. Compute a new array instead (grad * s)"
)
READ_ONLY_GRAD = (
    "its backward tries to write into its incoming gradient, which is read-only ({error}): "
    "compute a new array (grad * s) instead of editing grad in place (grad *= s, "
    "grad[...] = ...)"
)


def check_node(
    node: Value,
    eps: float,
    atol: float,
    rtol: float,
    rng: np.random.Generator,
    max_elements: int,
    backward: BackwardRun | None = None,
    measured: bool = False,
) -> NodeCheck:
    """Check ``node.grad_fn.backward`` at this node against its own forward.

    ``backward``: the rule's output, run before any forward was re-run (see
    ``localize_spec``); run here when not given.  ``measured``: allow for the finite
    difference's own error (from eps against 2 eps), as gradcheck's default rule does."""
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
    if backward is None:
        backward = run_backward(node, rng)
    if backward.error is not None:
        error = backward.error
        text = f"{type(error).__name__}: {error}"
        if isinstance(error, ValueError) and "read-only" in str(error):
            return result("fail", np.inf, np.inf, [], READ_ONLY_GRAD.format(error=text))
        return result("fail", np.inf, np.inf, [], f"its backward raised {text}")
    try:
        params = forward_params(cls, node, len(parents))
        forward = _forward(cls, node, params)
        again = forward([p.data for p in parents])
        if np.shape(again) != node.shape or not np.allclose(
            again, node.data, rtol=1e-12, atol=1e-300, equal_nan=True
        ):
            raise _CannotRerun(
                f"re-running {cls.__name__}.forward with the parameters found on ctx does not "
                "reproduce this node's value: either forward has a parameter it did not store "
                "on ctx under its own name (ctx.k = k), or this node's output was changed in "
                "place after it was computed (a later operation editing its input, which "
                "may be an array saved for backward)"
            )
    except _CannotRerun as reason:
        return result("skipped", np.nan, np.nan, [], str(reason))
    except Exception as error:  # noqa: BLE001 - any failure to re-run is reported, not raised
        return result(
            "skipped", np.nan, np.nan, [], f"could not re-run forward: {type(error).__name__}: "
            f"{error}"
        )  # fmt: skip

    g = backward.g
    analytic = [None if gi is None else np.asarray(gi, dtype=np.float64) for gi in backward.grads]

    def objective(datas: list) -> float:
        return float(np.sum(g * np.asarray(forward(datas), dtype=np.float64)))

    custom = not is_builtin(cls)
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
                outcome = _elementwise(
                    objective, base, index, a, near, eps, atol, rtol, measured, custom
                )
            else:
                outcome = _directional(objective, base, index, a, near, eps, atol, rtol, rng)
        except FloatingPointError as error:
            return result("skipped", np.nan, np.nan, errors, str(error))
        ok, rel, ab, n_kinks, numeric_shown, analytic_shown, mask = outcome[:7]
        kinks += n_kinks
        if not np.any(mask):  # every element of this input sits at a kink: nothing checked
            errors.append(None)
            continue
        errors.append(rel)
        worst_rel, worst_abs = max(worst_rel, rel), max(worst_abs, ab)
        if not ok:
            failing.append(index)
            if not detail:
                diagnosis = diagnose(
                    analytic_shown, numeric_shown, atol, rtol, mask=mask, failing=~ok_mask(outcome)
                )
                detail = (
                    f"its gradient for input {index} ({_parent_label(p)}) is off: relative "
                    f"error {rel:.1e}" + (f"; {diagnosis}" if diagnosis else "")
                )
    if failing:
        if backward.edited_grad:
            detail = f"{EDITED_GRAD}; {detail}"
        stateful = _stateful(cls, node, forward, g, backward.grads)
        if stateful:
            detail = f"{stateful}; {detail}"
        return result("fail", worst_rel, worst_abs, errors, detail)
    checked = [e for e in errors if e is not None]
    if backward.edited_grad:
        return result("fail", worst_rel, worst_abs, errors, EDITED_GRAD)
    if kinks and not checked:
        return result("kink", np.nan, np.nan, errors, "every perturbation crosses a kink")
    return result("ok", worst_rel, worst_abs, errors, "")


def ok_mask(outcome: tuple) -> np.ndarray:
    """The elements that passed, from an _elementwise / _directional outcome."""
    return outcome[7] if len(outcome) > 7 else np.ones(np.shape(outcome[4]), bool)


def _stateful(cls: type, node: Value, forward: Any, g: np.ndarray, first: tuple) -> str:
    """Does the rule read state outside ctx?  Re-run this node's forward (which refreshes
    any cache it writes), run backward again, and compare with what it returned during
    the real backward pass."""
    try:
        forward([p.data for p in node._parents])
        again = local_gradients(node, float(g) if type(node.data) is float else g.copy())
        for before, after in zip(first, again):
            if before is None or after is None:
                continue
            if not np.allclose(data_of(before), data_of(after), rtol=1e-12, atol=0, equal_nan=True):
                return (
                    "its backward depends on state outside ctx: right after re-running this "
                    "node's forward it returns something else than it did in the backward "
                    "pass, after the whole forward pass (a cache on the class or a global "
                    "that a later call of forward overwrote?). Keep what backward needs with "
                    "ctx.save_for_backward"
                )
    except Exception:  # noqa: BLE001 - only a hint; the failure itself is reported anyway
        return ""
    return ""


def _elementwise(
    objective: Any,
    base: list,
    index: int,
    analytic: np.ndarray,
    near: np.ndarray | None,
    eps: float,
    atol: float,
    rtol: float,
    measured: bool = False,
    custom: bool = False,
) -> tuple:
    """Element by element: (all ok, worst rel err, worst abs err, kinks left out, numeric,
    analytic, checked mask, ok mask).

    ``measured``: atol scales with the largest numeric derivative, and twice the finite
    difference's measured error (|D(eps) - D(2 eps)| plus round-off) is allowed.
    ``custom``: a user's Function, whose kinks no mask knows; a failing element whose
    one-sided slopes differ, and still differ at eps/100, is left out as a kink.
    """
    shape = np.shape(base[index])
    numeric = np.zeros(shape)
    error = np.zeros(shape)
    flat_numeric, flat_error = numeric.reshape(-1), error.reshape(-1)
    checked = np.ones(shape, dtype=bool)
    flat_checked = checked.reshape(-1)
    near_flat = None if near is None else np.asarray(near).reshape(-1)
    center = objective(base)
    size = max(int(np.prod(shape)), 1)
    for j in range(size):
        if near_flat is not None and near_flat[j]:
            flat_checked[j] = False
            continue
        plus, minus = _pair(objective, base, index, j, eps)
        flat_numeric[j] = (plus - minus) / (2 * eps)
        # measured: the error of the difference (eps against 2 eps, and round-off); when
        # it is too coarse to judge, look again with steps 10 and 100 times smaller, then
        # (round-off rather than truncation) 10 and 100 times larger
        steps = iter((eps / 10, eps / 100, eps * 10, eps * 100))
        step = eps
        while measured and not plus == minus == center:  # a constant is exactly 0
            plus2, minus2 = _pair(objective, base, index, j, 2 * step)
            wide = (plus2 - minus2) / (4 * step)
            biggest = max(abs(plus), abs(minus), abs(center))
            flat_error[j] = 2 * abs(flat_numeric[j] - wide) + 4 * U64 * biggest / step
            if flat_error[j] <= 1e-4 * abs(flat_numeric[j]):
                break
            step = next(steps, None)
            if step is None:
                break
            try:
                plus, minus = _pair(objective, base, index, j, step)
            except FloatingPointError:  # this step leaves the domain: keep what we have
                break
            if plus == minus == center:
                # the output does not move at all: computed with too few digits for this
                # step (float32 inside?); the element cannot be judged, so it is left out
                flat_checked[j] = False
                break
            flat_numeric[j] = (plus - minus) / (2 * step)
    a = np.reshape(analytic, shape)
    if measured:
        finite = np.abs(numeric[np.isfinite(numeric)])
        atol = atol * (float(finite.max()) if finite.size else 0.0)
    with np.errstate(invalid="ignore"):
        good = (np.abs(a - numeric) <= atol + rtol * np.abs(numeric) + 2 * error) | ~checked
    if custom and not good.all():
        flat_good, flat_a = good.reshape(-1), a.reshape(-1)
        for j in np.nonzero(~flat_good)[0]:
            if _persistent_kink(objective, base, index, int(j), flat_a[j], center, eps, atol, rtol):
                flat_checked[j] = False
                flat_good[j] = True
    rel = relative_error(a, numeric)[checked]
    ab = np.abs(a - numeric)[checked]
    return (
        bool(good.all()),
        nan_max(rel),
        nan_max(ab),
        int((~checked).sum()),
        numeric,
        a,
        checked,
        good,
    )


def _pair(objective: Any, base: list, index: int, j: int, step: float) -> tuple[float, float]:
    plus = objective(_moved(base, index, j, step))
    minus = objective(_moved(base, index, j, -step))
    if not (np.isfinite(plus) and np.isfinite(minus)):
        raise FloatingPointError(
            "the finite-difference stencil leaves the operation's domain (log, pow or a "
            "division near 0?)"
        )
    return plus, minus


def _persistent_kink(
    objective: Any,
    base: list,
    index: int,
    j: int,
    analytic: float,
    center: float,
    eps: float,
    atol: float,
    rtol: float,
) -> bool:
    """A kink of a custom operation at element j: the one-sided slopes differ at eps and
    still at eps/100 (curvature would shrink the gap 100-fold), and the analytic value
    lies between them."""
    gaps = []
    for step in (eps, eps / 10, eps / 100):
        try:
            plus, minus = _pair(objective, base, index, j, step)
        except FloatingPointError:
            return False
        right, left = (plus - center) / step, (center - minus) / step
        tol = atol + rtol * max(abs(right), abs(left))
        if not (min(right, left) - tol <= analytic <= max(right, left) + tol):
            return False
        gaps.append(abs(right - left))
    # a kink's gap stays; curvature shrinks it 100-fold, rounding noise grows it
    return gaps[0] > atol and all(0.3 * gaps[0] <= gap <= 3 * gaps[0] for gap in gaps[1:])


# The arguments of _elementwise, and its result tuple: the caller picks one or the other
# by the input's size, so the two are alike by design (element by element, or one direction).
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
