"""The machinery every check shares.

* validation of what the user passed (``fn``, the inputs, eps, tolerances, method);
* the *workspace*: float64 copies of the inputs' data are swapped in for the duration of a
  check and the originals (data and ``.grad``) are put back afterwards, even when ``fn``
  raises;
* ``Problem``: evaluating ``fn`` at the original point and at perturbed points, the
  analytic gradient (through ``minigrad.grad``, so no ``.grad`` is touched), the finite
  difference stencils, complex-step, and the kink detector.

The engine never imports this package; it only reads the graph the engine builds.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import os
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

import numpy as np

from minigrad import functions as F
from minigrad.autograd import complex_data, enable_grad, no_grad, topological_order
from minigrad.autograd import grad as autograd_grad
from minigrad.value import Value, data_of

#: The finite-difference methods, in order of cost.
METHODS = ("forward", "central", "five-point", "complex-step")

#: Each method's natural step when the caller gives none (``numerical_grad(eps=None)``):
#: about the step that balances truncation against round-off in float64.
DEFAULT_EPS = {"forward": 1e-7, "central": 1e-6, "five-point": 1e-3, "complex-step": 1e-20}

#: Real stencils: derivative = sum(weight * f(x + offset * eps)) / eps.
STENCILS = {
    "forward": ((0, 1), (-1.0, 1.0)),
    "central": ((-1, 1), (-0.5, 0.5)),
    "five-point": ((-2, -1, 1, 2), (1 / 12, -8 / 12, 8 / 12, -1 / 12)),
}

METHOD_TEXT = {
    "forward": "forward differences (f(x+eps) - f(x)) / eps",
    "central": "central differences (f(x+eps) - f(x-eps)) / (2 eps)",
    "five-point": "five-point stencil (-f(x+2eps) + 8f(x+eps) - 8f(x-eps) + f(x-2eps)) / (12 eps)",
    "complex-step": "complex step Im f(x + i eps) / eps",
}

# Status codes of one checked element.  UNDECIDED: the finite difference at this eps is
# not accurate enough to tell right from wrong (it is not a pass).
OK, FAIL, KINK, UNDECIDED = 0, 1, 2, 3

#: Built-in operations that complex-step cannot see through, and why.

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
#: Frames of these files are plumbing between the user's line and the warning.
_PLUMBING = (os.path.abspath(contextlib.__file__),)


def is_builtin(op: Any) -> bool:
    """A registered primitive of the table, or the engine's own wrapper of a custom rule;
    read from the registry at each call, so primitives defined later count too."""
    return F.is_primitive(op) or op is F._NotDifferentiable


class GradcheckWarning(UserWarning):
    """A gradient check ran, but under a condition the user should know about
    (for example float32 inputs, which are checked in float64)."""


class ComplexStepError(ValueError):
    """``method='complex-step'`` met an operation that does not support complex numbers."""


class DomainError(ValueError):
    """A finite-difference stencil left the region where ``fn`` is finite."""


# ============================================================================ validation


def warn(message: str) -> None:
    """Warn with the user's line (the first frame outside the minigrad package) as origin."""
    frame, level = sys._getframe(0), 1
    while frame is not None and _is_plumbing(os.path.abspath(frame.f_code.co_filename)):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, GradcheckWarning, stacklevel=level)


def _is_plumbing(path: str) -> bool:
    """minigrad's own files and contextlib (``with workspace(...)`` runs through it)."""
    return path.startswith(_PACKAGE_DIR + os.sep) or path in _PLUMBING


def check_callable(fn: Any, caller: str, what: str = "fn") -> None:
    if not callable(fn):
        raise TypeError(
            f"{caller}: {what} must be callable (a function of the input Values that returns "
            f"a Value), got {type(fn).__name__} {_short(fn)}"
        )


def check_inputs(inputs: tuple, caller: str) -> tuple[Value, ...]:
    """The inputs, validated: Values, requiring grad, finite, each passed once.

    ``check(fn, x, y)`` and ``check(fn, [x, y])`` (PyTorch's spelling) are the same: a
    single list or tuple of Values is unpacked; ``fn`` is called as ``fn(x, y)`` either way.
    """
    if len(inputs) == 1 and isinstance(inputs[0], (list, tuple)):
        inputs = tuple(inputs[0])
    if not inputs:
        raise ValueError(
            f"{caller} needs at least one input Value to differentiate with respect to: "
            f"{caller}(fn, x, w, ...)"
        )
    seen: dict[int, int] = {}
    for i, v in enumerate(inputs):
        if not isinstance(v, Value):
            raise TypeError(
                f"{caller}: input {i} is a {type(v).__name__}, not a Value; wrap it in "
                "Value(...) to check the gradient with respect to it, or capture it inside fn "
                "as a constant"
            )
        if id(v) in seen:
            raise ValueError(
                f"{caller}: input {i} ({v._label()}) is the same Value as input {seen[id(v)]}; "
                "pass each Value once"
            )
        seen[id(v)] = i
        if not v.requires_grad:
            raise ValueError(
                f"{caller}: input {i} ({v._label()}) does not require grad, so there is no "
                "gradient to check; create it with requires_grad=True, or capture it inside fn "
                "as a constant"
            )
        bad = ~np.isfinite(np.asarray(v.data))
        if bad.any():
            where = tuple(int(k) for k in np.argwhere(bad)[0]) if bad.ndim else ()
            value = np.asarray(v.data)[where] if where else v.data
            raise ValueError(
                f"{caller}: input {i} ({v._label()}) holds {int(bad.sum())} non-finite "
                f"value(s), the first {value} at element {where}; finite differences need "
                "finite inputs"
            )
    return tuple(inputs)


def check_eps(eps: Any, caller: str) -> float:
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real):
        raise TypeError(f"{caller}: eps must be a positive real number, got {_short(eps)}")
    eps = float(eps)
    if not math.isfinite(eps) or eps <= 0:
        raise ValueError(
            f"{caller}: eps must be > 0 (the finite-difference step), got {eps}; "
            "try eps=1e-6 for central differences"
        )
    return eps


def check_tolerances(atol: Any, rtol: Any, caller: str) -> tuple[float | None, float | None]:
    """atol and rtol validated; None (the default: measure the error) stays None."""
    out: list[float | None] = []
    for label, tol in (("atol", atol), ("rtol", rtol)):
        if tol is None:
            out.append(None)
            continue
        if isinstance(tol, bool) or not isinstance(tol, numbers.Real):
            raise TypeError(f"{caller}: {label} must be a real number >= 0, got {_short(tol)}")
        if not math.isfinite(float(tol)) or tol < 0:
            raise ValueError(f"{caller}: {label} must be a finite number >= 0, got {tol}")
        out.append(float(tol))
    return out[0], out[1]


def check_method(method: Any, caller: str) -> str:
    if method not in METHODS:
        raise ValueError(
            f"{caller}: unknown method {method!r}; choose one of "
            + ", ".join(repr(m) for m in METHODS)
        )
    return method


def make_seed(seed: Any, caller: str) -> int:
    """An integer seed from an int or a numpy Generator (drawn once, so reruns repeat)."""
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(2**32))
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"{caller}: seed must be an int or a numpy Generator, got {_short(seed)}")
    return int(seed)


def default_names(inputs: tuple[Value, ...]) -> tuple[str, ...]:
    """Each input's ``name``, or 'input i'; duplicates get their position appended."""
    names = [v.name or f"input {i}" for i, v in enumerate(inputs)]
    counts = {n: names.count(n) for n in names}
    return tuple(n if counts[n] == 1 else f"{n} (input {i})" for i, n in enumerate(names))


def _short(x: Any) -> str:
    text = repr(x)
    return text if len(text) <= 60 else text[:57] + "..."


# ============================================================================ workspace


@dataclass
class Spec:
    """Everything needed to (re)run a check: sweeps and localize run it again."""

    fn: Callable[..., Any]
    inputs: tuple[Value, ...]
    names: tuple[str, ...]
    caller: str = "gradcheck"
    fn_label: str = "fn"
    seed: int = 0
    jacobian: bool = False
    output_weights: Any = None
    #: entered around every run (gradcheck_module switches the model to eval mode with it)
    context: Callable[[], Any] | None = None


@contextmanager
def workspace(spec: Spec) -> Iterator[list[str]]:
    """Run a check on float64 copies of the inputs' data; put everything back afterwards.

    Yields a list of warnings issued (they also go to the report).  The original data
    objects and ``.grad`` values are restored in a ``finally`` clause: neither an exception
    in ``fn`` nor one in the check leaves an input modified.
    """
    saved = [(v, v.data, v.grad) for v in spec.inputs]
    issued: list[str] = []
    try:
        low = [n for v, n in zip(spec.inputs, spec.names) if v.dtype != np.float64]
        if low:
            message = (
                f"{spec.caller}: {_listing(low)} {'is' if len(low) == 1 else 'are'} float32; "
                "the check runs in float64 on a copy of the data (the float32 data is put back "
                "unchanged), because in float32 a finite difference keeps only about 3 of its 7 "
                "significant digits and would report false errors or hide real ones"
            )
            warn(message)
            issued.append(message)
        # ``_data``, not ``data``: these changes are undone before the check returns, so they
        # must not mark graphs built from the inputs as stale (see Value.data).
        for v in spec.inputs:
            if type(v.data) is not float:
                v._data = np.array(v.data, dtype=np.float64, order="C")
        with spec.context() if spec.context is not None else nullcontext():
            yield issued
    finally:
        for v, data, grad in saved:
            v._data = data
            v.grad = grad


def _listing(names: list[str]) -> str:
    shown = ", ".join(f"'{n}'" for n in names[:5])
    more = f" and {len(names) - 5} more" if len(names) > 5 else ""
    return f"input{'s' if len(names) > 1 else ''} {shown}{more}"


# ============================================================================ evaluation


class Problem:
    """``fn`` at its inputs: values at perturbed points, the analytic gradient, kinks.

    Use inside ``workspace(spec)``.  ``start()`` evaluates ``fn`` once with the graph
    recorded; afterwards ``analytic()``, ``derivative()`` and ``kink()`` are available.
    A non-scalar output is reduced to ``sum(weights * output)`` with fixed random weights,
    unless ``spec.jacobian`` asks for every output element.
    """

    def __init__(self, spec: Spec):
        self.spec = spec
        self.inputs = spec.inputs
        self.caller = spec.caller
        self.graph: Value | None = None
        self.weights: Any = None
        self.out_shape: tuple = ()
        self.base: Any = None
        self.signature: list = []
        self.custom_ops: set = set()
        self._complex_copies: dict[int, np.ndarray] = {}

    # ------------------------------------------------------------------ calling fn

    def call(self, record: bool) -> Value:
        with enable_grad() if record else no_grad():
            out = self.spec.fn(*self.inputs)
        if not isinstance(out, Value):
            raise TypeError(
                f"{self.caller}: {self.spec.fn_label} must return a Value, got "
                f"{type(out).__name__}; compute the result from the input Values with minigrad "
                "operations (a number computed from .data has no graph to check)"
            )
        return out

    def start(self) -> Value:
        """Evaluate fn at the inputs with the graph recorded; fix the output weights."""
        out = self.call(record=True)
        if not _finite(out.data):
            raise ValueError(
                f"{self.caller}: {self.spec.fn_label} returned a non-finite value "
                f"({_describe_nonfinite(out.data)}) at the given inputs; gradients can only be "
                "checked where the function is finite"
            )
        self.graph = out
        self.out_shape = out.shape
        self.weights = self._make_weights(out.shape)
        self.base = self.reduce(out.data)
        self.signature = branch_signature(out)
        self.custom_ops = {
            node.grad_fn
            for node in topological_order(out)
            if node.grad_fn is not None and not is_builtin(node.grad_fn)
        }
        return out

    def _make_weights(self, shape: tuple) -> Any:
        given = self.spec.output_weights
        if self.spec.jacobian:
            return None
        if given is not None:
            w = np.asarray(data_of(given), dtype=np.float64)
            if w.shape != shape:
                raise ValueError(
                    f"{self.caller}: output_weights has shape {w.shape}, but "
                    f"{self.spec.fn_label} returns shape {shape}"
                )
            return float(w) if shape == () else w
        if shape == ():
            return 1.0
        if int(np.prod(shape)) == 1:
            return np.ones(shape)
        rng = np.random.default_rng([self.spec.seed, 1])
        # Magnitudes in [0.5, 1.5] with random signs: no output element is weighted
        # (almost) zero, so no error can hide behind a tiny weight.
        return rng.uniform(0.5, 1.5, size=shape) * rng.choice([-1.0, 1.0], size=shape)

    def reduce(self, data: Any) -> Any:
        """The quantity differentiated: the weighted sum, or every output element."""
        array = np.asarray(data)
        if array.shape != self.out_shape:
            raise ValueError(
                f"{self.caller}: {self.spec.fn_label} returned shape {array.shape} at a "
                f"perturbed point but {self.out_shape} at the original one; it must be a "
                "deterministic function of its inputs"
            )
        if self.weights is None:
            kind = np.complex128 if np.iscomplexobj(array) else np.float64
            return np.array(array, dtype=kind).reshape(-1)
        total = np.sum(self.weights * array)
        return complex(total) if np.iscomplexobj(total) else float(total)

    # ------------------------------------------------------------------ analytic side

    def analytic(self) -> list[np.ndarray]:
        """d(reduced output)/d(input) for every input, as (rows, input size) float64 arrays.

        One row for the weighted sum, one row per output element with ``jacobian``.  Uses
        ``minigrad.grad``, which never writes ``.grad``.
        """
        out = self.graph
        inputs = list(self.inputs)
        rows = 1 if self.weights is not None else max(out.size, 1)
        result = [np.zeros((rows, v.size)) for v in inputs]
        if not out.requires_grad:  # the graph says fn does not depend on the inputs
            return result
        if self.weights is not None:
            seeds = [self.weights]
        else:
            seeds = []
            for k in range(rows):
                e = np.zeros(self.out_shape)
                e.reshape(-1)[k] = 1.0
                seeds.append(1.0 if self.out_shape == () else e)
        for row, seed in enumerate(seeds):
            grads = autograd_grad(out, inputs, grad_outputs=seed, allow_unused=True)
            for i, g in enumerate(grads):
                if g is not None:
                    result[i][row] = np.asarray(g, dtype=np.float64).reshape(-1)
        return result

    # ------------------------------------------------------------------ numeric side

    def move(self, i: int, where: Any, step: Any, record: bool = False) -> tuple[Any, Any]:
        """(reduced value, branch signature or None) with input ``i`` moved by ``step``.

        ``where`` is a flat element index, or an array: a direction of the input's shape.
        ``step`` is real, or imaginary for complex-step.  With ``record`` the graph is
        recorded and its branch signature read *before* the input is restored (a relu
        applied to the input itself reads the input's data).  The input is restored before
        returning, whatever happens.
        """
        v = self.inputs[i]
        base = v.data
        imaginary = isinstance(step, complex)
        if isinstance(where, (int, np.integer)):
            if type(base) is float:
                v._data = np.complex128(base + step) if imaginary else base + step
                restore = None
            else:
                work = self._complex_copy(i) if imaginary else base
                index = np.unravel_index(int(where), work.shape)
                keep = work[index]
                work[index] = keep + step
                v._data = work
                restore = (work, index, keep)
        else:
            shifted = base + step * where
            v._data = np.complex128(shifted) if imaginary and np.ndim(shifted) == 0 else shifted
            restore = None
        try:
            if imaginary:
                return self._measure_complex(i, where, step)
            return self._measure(record, i, where, step)
        finally:
            if restore is not None:
                work, index, keep = restore
                work[index] = keep
            v._data = base

    def _complex_copy(self, i: int) -> np.ndarray:
        if i not in self._complex_copies:
            self._complex_copies[i] = self.inputs[i].data.astype(np.complex128)
        return self._complex_copies[i]

    def _measure(self, record: bool, i: int, where: Any, step: Any) -> tuple[Any, Any]:
        out = self.call(record)
        if not _finite(out.data):
            raise DomainError(
                f"{self.caller}: {self.spec.fn_label} is not finite "
                f"({_describe_nonfinite(out.data)}) when {self._where(i, where)} is moved by "
                f"{step:+.3g}: the finite-difference stencil leaves the region where the "
                "function is defined (log, sqrt or a division near 0?). Check at a point "
                "farther from the boundary, or use a smaller eps"
            )
        return self.reduce(out.data), (branch_signature(out) if record else None)

    def _measure_complex(self, i: int, where: Any, step: complex) -> tuple[Any, Any]:
        with complex_mode(self.custom_ops):
            try:
                out = self.call(record=False)
            except ComplexStepError:
                raise
            except (TypeError, ValueError, AttributeError) as error:
                raise ComplexStepError(
                    f"complex-step: evaluating {self.spec.fn_label} on complex inputs failed: "
                    f"{error}. Every operation on the path from the inputs to the output must "
                    "accept complex numbers; use method='central' instead"
                ) from error
        if not np.iscomplexobj(out.data):
            raise ComplexStepError(
                f"complex-step: {self.spec.fn_label} returned real numbers for complex inputs, "
                "so the imaginary part that carries the derivative was dropped on the way "
                "(by .data arithmetic, float(), abs or a comparison?); use method='central'"
            )
        if not _finite(out.data):
            raise ValueError(
                f"{self.caller}: {self.spec.fn_label} is not finite with a complex step at "
                f"{self._where(i, where)}; use method='central'"
            )
        return self.reduce(out.data), None

    def _where(self, i: int, where: Any) -> str:
        name = self.spec.names[i]
        if isinstance(where, (int, np.integer)):
            shape = self.inputs[i].shape
            index = tuple(int(k) for k in np.unravel_index(int(where), shape)) if shape else ()
            return f"'{name}' element {index}" if shape else f"'{name}'"
        return f"'{name}' (along a random direction)"

    def derivative(self, i: int, where: Any, eps: float, method: str) -> Any:
        """The finite-difference derivative of the reduced output along ``where``."""
        if method == "complex-step":
            value, _ = self.move(i, where, 1j * eps)
            return np.imag(value) / eps
        offsets, weights = STENCILS[method]
        total: Any = 0.0
        for offset, weight in zip(offsets, weights):
            value = self.base if offset == 0 else self.move(i, where, offset * eps)[0]
            total = total + weight * value
        return total / eps

    def require_complex_support(self) -> None:
        """Raise ComplexStepError naming the first operation complex-step cannot pass."""
        for node in reversed(topological_order(self.graph)):
            reason = getattr(node.grad_fn, "complex_unsafe", "")
            if reason:
                raise ComplexStepError(
                    f"complex-step: operation '{node.op}' ({_node_label(node)}) on the "
                    f"path from the inputs to the output does not support complex "
                    f"numbers: it {reason}. Use method='central' or 'five-point'"
                )

    # ------------------------------------------------------------------ kinks

    def kink(
        self, i: int, where: Any, eps: float, analytic: np.ndarray, atol: float, rtol: float
    ) -> tuple[np.ndarray, str]:
        """Which of the (failing) rows at this element are explained by a kink, and how.

        A kink is reported when (1) the stencil crosses a non-differentiable point, and
        (2) the analytic value lies between the one-sided differences (f(x+eps) - f(x)) / eps
        and (f(x) - f(x-eps)) / eps, as any one-sided derivative or subgradient does.
        Evidence for (1) comes from the graph: the branch every relu, abs, max and where
        takes (and the sequence of operations) is compared between x - eps, x and x + eps.

        Custom Functions may hide kinks from the graph.  Then the one-sided differences
        must disagree, *and keep disagreeing by about as much* at eps/10 and eps/100: at a kink the
        slopes on either side differ by a fixed jump, while on a smooth curve their
        difference (about f''(x) eps) shrinks with eps, and rounding noise grows as eps
        shrinks.  Neither is a kink.
        """
        plus, plus_signature = self.move(i, where, eps, record=True)
        minus, minus_signature = self.move(i, where, -eps, record=True)
        note = first_difference(self.signature, plus_signature) or first_difference(
            self.signature, minus_signature
        )
        right = (np.asarray(plus) - self.base) / eps
        left = (self.base - np.asarray(minus)) / eps
        within = _between(analytic, left, right, atol, rtol)
        if note is not None:
            return np.asarray(within), note
        if not self.custom_ops:
            return np.zeros_like(within, dtype=bool), ""
        tol = atol + rtol * np.maximum(np.abs(right), np.abs(left))
        jump = np.abs(right - left)
        disagree = jump > tol
        if not disagree.any():
            return np.zeros_like(within, dtype=bool), ""
        persists = disagree & within
        narrow = {}
        for small in (eps / 10, eps / 100):
            try:
                plus_s, plus_s_signature = self.move(i, where, small, record=True)
                minus_s, minus_s_signature = self.move(i, where, -small, record=True)
            except DomainError:
                return np.zeros_like(within, dtype=bool), ""
            right_s = (np.asarray(plus_s) - self.base) / small
            left_s = (self.base - np.asarray(minus_s)) / small
            # A kink's jump stays (it may halve when x is not exactly on the kink);
            # curvature makes it 10 and 100 times smaller, rounding noise larger.
            ratio = np.abs(right_s - left_s) / np.where(jump > 0, jump, 1.0)
            persists &= (ratio >= 0.3) & (ratio <= 3.0)
            persists &= _between(analytic, left_s, right_s, atol, rtol)
            narrow = (minus_s_signature, plus_s_signature)
        kinked = persists
        if not kinked.any():
            return np.zeros_like(within, dtype=bool), ""
        culprit = self._custom_kink_node((minus_signature, plus_signature), narrow, eps)
        note = (
            "the one-sided differences disagree and keep disagreeing when eps shrinks 100-fold: "
            f"a kink of the custom operation {culprit} lies within eps"
        )
        return np.asarray(kinked), note

    def _custom_kink_node(self, wide: tuple, narrow: tuple, eps: float) -> str:
        """Name the first custom node (from the inputs) whose own output bends like a kink.

        Its second difference out(x+h) - 2 out(x) + out(x-h) is about (slope jump) * h at a
        kink, and about f'' h^2 on a smooth piece: from h = eps to eps/100 a kink's shrinks
        100-fold, a smooth node's 10,000-fold.
        """
        custom = [
            k for k, entry in enumerate(self.signature) if entry[2].grad_fn in self.custom_ops
        ]
        for k in reversed(custom):  # the signature lists consumers first; start at the inputs
            node = self.signature[k][2]
            try:
                bend_wide = np.abs(wide[1][k][2].data - 2 * node.data + wide[0][k][2].data).max()
                bend_narrow = np.abs(
                    narrow[1][k][2].data - 2 * node.data + narrow[0][k][2].data
                ).max()
            except (IndexError, ValueError, TypeError):
                continue
            if bend_wide > 0 and bend_narrow >= 0.003 * bend_wide:
                return f"{node.op} ({_node_label(node)})"
        names = sorted(op.__name__ for op in self.custom_ops)
        return names[0] if len(names) == 1 else "(one of " + ", ".join(names) + ")"


def _between(analytic: Any, left: Any, right: Any, atol: float, rtol: float) -> np.ndarray:
    """analytic lies between the two one-sided differences, within the tolerance."""
    tol = atol + rtol * np.maximum(np.abs(right), np.abs(left))
    return (np.minimum(right, left) - tol <= analytic) & (analytic <= np.maximum(right, left) + tol)


# ============================================================================ graph reading


def branch_signature(out: Value) -> list[tuple[str, Any, Value]]:
    """For every node leading to ``out``: (op, the branch it takes, node).

    The branch is what decides the local derivative of a piecewise operation: which
    inputs of relu are positive, the signs abs sees, which elements max selects, the
    condition of where.  Two points with the same signature lie on the same smooth piece.
    """
    entries = []
    for node in topological_order(out):
        op = node.grad_fn
        branch = getattr(op, "branch", None)
        key = None if branch is None else branch(node)
        entries.append((node.op, key, node))
    return entries


def first_difference(base: list, other: list) -> str | None:
    """How two signatures differ, in words; None when they agree."""
    if len(base) != len(other) or any(b[0] != o[0] for b, o in zip(base, other)):
        return "the graph itself changes within eps (fn branches on the data in Python)"
    for (op, key, node), (_, other_key, _) in zip(base, other):
        if key is None and other_key is None:
            continue
        if key is None or other_key is None or not np.array_equal(key, other_key):
            return f"the stencil crosses the kink of {op} ({_node_label(node)})"
    return None


def _node_label(node: Value) -> str:
    name = f"node '{node.name}'" if node.name else "unnamed node"
    return f"{name}, shape {node.shape}"


# ============================================================================ complex step


@contextmanager
def complex_mode(custom_ops: set) -> Iterator[None]:
    """Let custom Functions return complex data while complex-step evaluates fn.

    The engine's thread-local switch (``autograd.complex_data``) lets a user Function's
    complex output through, and makes one that drops the imaginary part raise a TypeError
    that names it (reported by the caller as a ComplexStepError).
    """
    with complex_data():
        yield


# ============================================================================ small helpers


def passes(analytic: Any, numeric: Any, atol: float, rtol: float) -> np.ndarray:
    """The pass rule: |analytic - numeric| <= atol + rtol * |numeric|, elementwise."""
    analytic, numeric = np.asarray(analytic), np.asarray(numeric)
    return np.abs(analytic - numeric) <= atol + rtol * np.abs(numeric)


def relative_error(analytic: Any, numeric: Any) -> np.ndarray:
    """|a - n| / max(|a|, |n|), and 0 where both are 0.

    NaN where either side is NaN, inf where one side is infinite and the other is not (or
    they are infinities of opposite sign): a non-finite gradient is never a small error.
    """
    analytic, numeric = np.asarray(analytic, float), np.asarray(numeric, float)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        scale = np.maximum(np.abs(analytic), np.abs(numeric))
        finite = np.isfinite(analytic) & np.isfinite(numeric)
        ratio = np.abs(analytic - numeric) / np.where(scale > 0, scale, 1)
        out = np.where(finite, np.where(scale > 0, ratio, 0.0), np.inf)
        out = np.where(analytic == numeric, 0.0, out)  # equal infinities
        return np.where(np.isnan(analytic) | np.isnan(numeric), np.nan, out)


def nan_max(values: Any) -> float:
    """The largest value, NaN if any value is NaN (numpy's max, but 0.0 for no values)."""
    values = np.asarray(values, dtype=np.float64)
    return float(values.max()) if values.size else 0.0


def _finite(data: Any) -> bool:
    return bool(np.all(np.isfinite(data)))


def _describe_nonfinite(data: Any) -> str:
    data = np.asarray(data)
    n_nan, n_inf = int(np.isnan(data).sum()), int(np.isinf(data).sum())
    parts = [f"{n_nan} NaN"] * bool(n_nan) + [f"{n_inf} inf"] * bool(n_inf)
    return " and ".join(parts) + (f" of {data.size} elements" if data.size > 1 else "")
