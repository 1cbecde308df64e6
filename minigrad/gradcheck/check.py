"""The public checks: numerical_grad, gradcheck, gradgradcheck and gradcheck_module."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from minigrad.autograd import enable_grad
from minigrad.autograd import grad as autograd_grad
from minigrad.gradcheck._core import (
    DEFAULT_EPS,
    KINK,
    OK,
    Problem,
    Spec,
    check_callable,
    check_eps,
    check_inputs,
    check_method,
    check_tolerances,
    default_names,
    make_seed,
    workspace,
)
from minigrad.gradcheck._judge import Tolerance, judge
from minigrad.gradcheck.handwritten import hand_written
from minigrad.gradcheck.report import GradcheckError, GradcheckReport, InputResult
from minigrad.value import Value, data_of

#: How many random directions fast mode tries before it accepts that every direction it
#: draws crosses a kink.
FAST_ATTEMPTS = 3

# ============================================================================ the loops


def check_elements(
    problem: Problem, analytic: list, eps: float, method: str, tol: Tolerance, refine: bool = True
) -> list[InputResult]:
    """Full mode: every element of every input, against the analytic gradient."""
    results = []
    kind = "jacobian" if problem.spec.jacobian else "element"
    for i, v in enumerate(problem.inputs):
        a = analytic[i]
        numeric = np.zeros_like(a)
        for j in range(a.shape[1]):
            numeric[:, j] = problem.derivative(i, j, eps, method)
        own = tol.scaled(numeric)
        status = np.full(a.shape, OK, dtype=np.int8)
        error = np.full(a.shape, np.nan)
        notes: dict[int, str] = {}
        for j in range(a.shape[1]):
            verdict = judge(problem, i, j, a[:, j], numeric[:, j], eps, method, own, refine)
            status[:, j], numeric[:, j], error[:, j] = (
                verdict.status,
                verdict.numeric,
                verdict.error,
            )
            if verdict.note:
                notes[j] = verdict.note
        results.append(
            InputResult(
                name=problem.spec.names[i],
                position=i,
                shape=v.shape,
                kind=kind,
                analytic=a,
                numeric=numeric,
                status=status,
                atol=own.atol,
                rtol=own.rtol,
                out_shape=problem.out_shape,
                notes=notes,
                error=error,
                data=np.array(v.data, dtype=np.float64),
            )
        )
    return results


def check_directions(
    problem: Problem, analytic: list, eps: float, method: str, tol: Tolerance, refine: bool = True
) -> list[InputResult]:
    """Fast mode: each input along one random direction u (standard normal entries): v^T J u against
    (f(x + eps u) - f(x - eps u)) / (2 eps).  Two forward passes per input (central),
    whatever its size; the analytic side reuses the one backward pass."""
    results = []
    for i, v in enumerate(problem.inputs):
        rng = np.random.default_rng([problem.spec.seed, 2, i])
        for _attempt in range(FAST_ATTEMPTS):
            if v.shape == ():
                u: Any = float(rng.choice([-1.0, 1.0]))
            else:
                # Not normalised: each element moves by about eps, as in the full mode, and
                # v^T J u keeps the size of the gradient instead of shrinking by sqrt(size).
                u = rng.standard_normal(v.shape)
            a = np.atleast_1d(analytic[i] @ np.reshape(u, -1)).reshape(1, 1)
            n = np.asarray(problem.derivative(i, u, eps, method), dtype=np.float64).reshape(1, 1)
            own = tol.scaled(n)
            verdict = judge(problem, i, u, a[:, 0], n[:, 0], eps, method, own, refine)
            status = verdict.status.reshape(1, 1)
            n = verdict.numeric.reshape(1, 1)
            error = verdict.error.reshape(1, 1)
            notes: dict[int, str] = {0: verdict.note} if verdict.note else {}
            if (status == KINK).any():
                continue  # this direction crosses a kink: draw another
            break
        # Keyword by keyword, as sweep.py builds its EpsSweep: two records that only look alike.
        results.append(
            InputResult(
                name=problem.spec.names[i],
                position=i,
                shape=v.shape,
                kind="direction",
                analytic=a,
                numeric=n,
                status=status,
                atol=own.atol,
                rtol=own.rtol,
                notes=notes,
                direction=u,
                error=error,
            )
        )
    return results


def run_checks(
    problem: Problem,
    analytic: list,
    eps: float,
    method: str,
    tol: Tolerance,
    fast: bool,
    refine: bool = True,
) -> list[InputResult]:
    if fast:
        return check_directions(problem, analytic, eps, method, tol, refine)
    return check_elements(problem, analytic, eps, method, tol, refine)


@dataclass(frozen=True)
class Options:
    """The checked arguments that gradcheck, gradgradcheck and gradcheck_module share."""

    eps: float
    tol: Tolerance
    method: str
    fast: bool
    seed: int
    raise_exception: bool
    localize: bool


def run(
    spec: Spec,
    options: Options,
    notes: list[str] | None = None,
    attributes: dict | None = None,
) -> GradcheckReport:
    """Run one check of ``spec`` and build its report (raise on failure if asked); the
    report's title is the public function that asked, ``spec.caller``."""
    with workspace(spec) as issued:
        problem = Problem(spec)
        problem.start()
        analytic = problem.analytic()
        if options.method == "complex-step":
            problem.require_complex_support()
        results = run_checks(
            problem, analytic, options.eps, options.method, options.tol, options.fast
        )
    report = GradcheckReport(
        title=spec.caller,
        inputs=results,
        method=options.method,
        eps=options.eps,
        tolerance=options.tol,
        mode="fast" if options.fast else ("jacobian" if spec.jacobian else "full"),
        spec=spec,
        warnings=issued,
        notes=notes,
        weighted=problem.weights is not None and np.size(problem.weights) > 1,
    )
    for key, value in (attributes or {}).items():
        setattr(report, key, value)
    if not report.passed and options.localize:
        report.localize()
    if not report.passed and options.raise_exception:
        raise GradcheckError(report)
    return report


def _check_options(
    caller: str,
    eps: Any,
    atol: Any,
    rtol: Any,
    method: Any,
    fast: Any,
    seed: Any,
    raise_exception: bool,
    localize: bool,
) -> Options:
    method = check_method(method, caller)
    eps = check_eps(eps, caller)
    tol = Tolerance.from_arguments(*check_tolerances(atol, rtol, caller))
    if not isinstance(fast, (bool, np.bool_)):
        raise TypeError(f"{caller}: fast must be True or False, got {fast!r}")
    seed = make_seed(seed, caller)
    return Options(eps, tol, method, bool(fast), seed, bool(raise_exception), bool(localize))


# ============================================================================ public API


def numerical_grad(
    fn: Callable[..., Value], *inputs: Value, eps: float | None = None, method: str = "central"
) -> Any:
    """The gradient of a scalar-valued ``fn`` by finite differences, in float64.

    For each element x_j of each input (all others held fixed)::

        forward       (f(x + eps e_j) - f(x)) / eps                      error O(eps)
        central       (f(x + eps e_j) - f(x - eps e_j)) / (2 eps)        error O(eps^2)
        five-point    (-f(x+2h) + 8 f(x+h) - 8 f(x-h) + f(x-2h)) / (12 h) error O(eps^4)
        complex-step  Im f(x + i eps e_j) / eps                          no cancellation

    ``fn(*inputs)`` must return a Value with one element.  Every input must be a Value
    that requires grad.  The computation runs on float64 copies of the inputs' data
    whatever their dtype (float32 inputs get a ``GradcheckWarning``); the inputs are
    restored afterwards, even if ``fn`` raises.  ``eps=None`` picks each method's usual
    step (1e-7, 1e-6, 1e-3, 1e-20).  Complex-step needs every operation on the path to
    accept complex numbers; relu, abs, max and sigmoid do not, and a
    ``ComplexStepError`` names the first one met.

    Returns one float64 array of the input's shape per input (a float for a scalar
    input): the array itself for one input, a tuple for several.
    """
    caller = "numerical_grad"
    check_callable(fn, caller)
    method = check_method(method, caller)
    eps = DEFAULT_EPS[method] if eps is None else check_eps(eps, caller)
    inputs = check_inputs(inputs, caller)
    spec = Spec(fn, inputs, default_names(inputs), caller)
    grads = []
    with workspace(spec):
        problem = Problem(spec)
        out = problem.start()
        if out.size != 1:
            raise ValueError(
                f"numerical_grad: fn must return a scalar Value (one element), got shape "
                f"{out.shape}; reduce it with .sum() or .mean(), or use "
                "gradcheck(fn, ..., jacobian=True) for the whole Jacobian"
            )
        if method == "complex-step":
            problem.require_complex_support()
        for i, v in enumerate(inputs):
            g = np.array(
                [problem.derivative(i, j, eps, method) for j in range(v.size)], dtype=np.float64
            )
            grads.append(float(g[0]) if v.shape == () else g.reshape(v.shape))
    return grads[0] if len(grads) == 1 else tuple(grads)


def gradcheck(
    fn: Callable[..., Value],
    *inputs: Value,
    eps: float = 1e-6,
    atol: float | None = None,
    rtol: float | None = None,
    method: str = "central",
    fast: bool = False,
    raise_exception: bool = True,
    jacobian: bool = False,
    localize: bool = False,
    output_weights: Any = None,
    seed: int | np.random.Generator = 0,
    grad: Callable[..., Any] | None = None,
) -> GradcheckReport:
    """Check the gradient minigrad computes for ``fn`` against finite differences.

    ``fn(*inputs)`` returns a Value.  A scalar output is checked directly; a non-scalar
    output is reduced to ``sum(w * output)`` with fixed random weights ``w`` (or
    ``output_weights``), or, with ``jacobian=True``, every output element is checked
    against every input element.  The analytic gradient comes from ``minigrad.grad``
    (no ``.grad`` is written); the numeric one from ``method`` with step ``eps``.  Every
    number is computed in float64 on copies of the inputs' data; the inputs (data and
    ``.grad``) are restored afterwards, even when ``fn`` raises.

    With the default ``atol=None, rtol=None`` each element passes when
    ``|analytic - numeric| <= atol + rtol * |numeric|`` with rtol = 1e-6 (atol = 1e-9
    times the input's largest numeric derivative), widened by the finite difference's own
    error as measured at that element (eps against 2 eps, and the noise in f's values)
    when that error is below 1e-4 relative; when it is larger, the element "cannot be
    checked at this eps" and is re-checked at steps up to 1000 times smaller and larger;
    if none can decide, it stays undecided (not a pass).  Explicit ``atol``/``rtol``
    apply the classic rule as given (the other defaults to 1e-5 / 1e-3).  An element
    whose stencil crosses a point where the function has no derivative (relu or abs at
    0, tied maxima, or a custom Function whose one-sided slopes differ by the same jump
    at eps, eps/10 and eps/100) is reported as "non-differentiable here", not a failure.

    ``fast=True`` checks each input along one random direction u (v^T J u against a
    directional finite difference): two forward passes per input and one backward pass,
    whatever the number of elements.  ``localize=True`` runs ``report.localize()`` when
    the check fails, so the error names the operation whose backward is wrong.

    ``grad=df`` checks a hand-written gradient instead: ``fn(*arrays)`` is a plain numpy
    function that returns a number, the inputs are numbers or numpy arrays, and
    ``df(*arrays)`` returns one gradient per input (each of its input's shape).  The report
    is the same; inputs are named after ``fn``'s parameters, and ``localize()`` names
    ``df``.  A gradient of the wrong shape raises ValueError (a missing reduction?).

    Returns a ``GradcheckReport``.  When a row fails, or cannot be checked at this eps
    (``report.undecidable``), and ``raise_exception`` is True, raises ``GradcheckError``,
    whose message is the report's table (worst rows first, with the pass rule) and whose
    ``.report`` is the report.
    """
    caller = "gradcheck"
    check_callable(fn, caller)
    options = _check_options(caller, eps, atol, rtol, method, fast, seed, raise_exception, localize)
    notes = None
    if grad is not None:
        fn, inputs = hand_written(fn, grad, inputs, caller)
        notes = [
            f"checked: the hand-written gradient grad={getattr(grad, '__name__', 'df')} "
            "against finite differences of fn"
        ]
    inputs = check_inputs(inputs, caller)
    if options.fast and jacobian:
        raise ValueError(
            "gradcheck: fast=True checks one projection v^T J u per input; jacobian=True needs "
            "the full mode (fast=False)"
        )
    spec = Spec(
        fn,
        inputs,
        default_names(inputs),
        caller,
        seed=options.seed,
        jacobian=bool(jacobian),
        output_weights=output_weights,
    )
    return run(spec, options, notes)


# gradcheck's keyword arguments again, on purpose: each public function spells out its
# own, so that help() and editors show them; the work itself is shared in run().
def gradgradcheck(
    fn: Callable[..., Value],
    *inputs: Value,
    eps: float = 1e-6,
    atol: float | None = None,
    rtol: float | None = None,
    method: str = "central",
    fast: bool = False,
    raise_exception: bool = True,
    localize: bool = False,
    output_weights: Any = None,
    grad_weights: Any = None,
    seed: int | np.random.Generator = 0,
) -> GradcheckReport:
    """Check second derivatives: the gradient of the gradient, computed with
    ``create_graph=True``, against finite differences of the gradient.

    The function checked is ``g(x) = sum_i <d(v . fn)/d x_i, w_i>``: the first
    derivatives of ``fn`` (its output weighted by ``v``, random or ``output_weights``,
    when it is not a scalar), projected on fixed random weights ``w_i`` (or
    ``grad_weights``, one array per input).  Its gradient is the Hessian-vector product
    H w, whose element j is checked like ``gradcheck`` checks a first derivative; all
    other arguments are as in ``gradcheck``.

    It checks that the backward rules are differentiated correctly, assuming they are
    right in the first place: run ``gradcheck`` first.  ``method='complex-step'`` is not
    available here (ValueError): complex numbers cannot pass through the backward pass.
    """
    caller = "gradgradcheck"
    check_callable(fn, caller)
    options = _check_options(caller, eps, atol, rtol, method, fast, seed, raise_exception, localize)
    if options.method == "complex-step":
        raise ValueError(
            "gradgradcheck: method='complex-step' would have to carry complex numbers through "
            "the backward pass, where the engine creates new Values, and Values hold only real "
            "data; use method='central' or 'five-point'"
        )
    inputs = check_inputs(inputs, caller)
    weights = _grad_weights(grad_weights, inputs, options.seed)
    first_weights: dict[str, Any] = {}

    def first_derivatives(*xs: Value) -> Value:
        with enable_grad():
            out = fn(*xs)
            if not isinstance(out, Value):
                raise TypeError(f"gradgradcheck: fn must return a Value, got {type(out).__name__}")
            if not out.requires_grad:
                return Value(0.0, requires_grad=False)
            if "v" not in first_weights:
                first_weights["v"] = _first_output_weights(out.shape, output_weights, options.seed)
            grads = autograd_grad(
                out, list(xs), grad_outputs=first_weights["v"], create_graph=True,
                allow_unused=True,
            )  # fmt: skip
            total = None
            for g, w in zip(grads, weights):
                if g is None:
                    continue
                term = (g * w).sum() if g.shape else g * w
                total = term if total is None else total + term
        return total if total is not None else Value(0.0, requires_grad=False)

    spec = Spec(
        first_derivatives,
        inputs,
        default_names(inputs),
        caller,
        fn_label="fn",
        seed=options.seed,
    )
    return run(
        spec,
        options,
        notes=[
            "checked: d/dx of sum_i <dfn/dx_i, w_i> for fixed random w_i (a Hessian-vector "
            "product); analytic through create_graph=True"
        ],
    )


def _grad_weights(given: Any, inputs: tuple, seed: int) -> list:
    if given is None:
        rng = np.random.default_rng([seed, 3])
        out = []
        for v in inputs:
            w = rng.uniform(0.5, 1.5, size=v.shape) * rng.choice([-1.0, 1.0], size=v.shape)
            out.append(float(w) if v.shape == () else w)
        return out
    if isinstance(given, (np.ndarray, Value)) or not isinstance(given, (list, tuple)):
        given = [given]
    if len(given) != len(inputs):
        raise ValueError(
            f"gradgradcheck: grad_weights has {len(given)} entries for {len(inputs)} inputs"
        )
    out = []
    for i, (w, v) in enumerate(zip(given, inputs)):
        w = np.asarray(data_of(w), dtype=np.float64)
        if w.shape != v.shape:
            raise ValueError(
                f"gradgradcheck: grad_weights[{i}] has shape {w.shape}, input {i} has shape "
                f"{v.shape}"
            )
        out.append(float(w) if v.shape == () else w)
    return out


def _first_output_weights(shape: tuple, given: Any, seed: int) -> Any:
    if given is not None:
        w = np.asarray(data_of(given), dtype=np.float64)
        if w.shape != shape:
            raise ValueError(
                f"gradgradcheck: output_weights has shape {w.shape}, fn returns shape {shape}"
            )
        return float(w) if shape == () else w
    if shape == ():
        return None
    rng = np.random.default_rng([seed, 4])
    return rng.uniform(0.5, 1.5, size=shape) * rng.choice([-1.0, 1.0], size=shape)


# ============================================================================ models


# The shared keyword arguments spelled out again, as for gradgradcheck.
def gradcheck_module(
    model: Any,
    loss_fn: Callable[..., Value],
    *batch: Any,
    eps: float = 1e-6,
    atol: float | None = None,
    rtol: float | None = None,
    method: str = "central",
    fast: bool = False,
    raise_exception: bool = True,
    localize: bool = False,
    seed: int | np.random.Generator = 0,
) -> GradcheckReport:
    """Check the gradient of a model's loss with respect to every parameter.

    ``loss_fn(model, *batch)`` computes the loss (a Value; non-scalar losses are weighted
    as in ``gradcheck``) for the given batch, e.g.
    ``lambda m, x, y: cross_entropy(m(x), y)``.  Parameters are found with
    ``model.named_parameters()`` and reported by their dotted names; parameters with
    ``requires_grad=False`` are skipped (the report's notes say which).

    For the duration of the check the whole model is switched to eval mode, so dropout
    layers (modules whose class is named ``Dropout``) stop drawing random masks, which
    would make every evaluation of the loss different; the report's notes say which
    layers were affected, ``report.dropout_layers`` and ``report.switched_to_eval`` list
    their dotted names.  Each module's mode is restored afterwards, even on errors.
    Everything else is as in ``gradcheck`` (use ``fast=True`` for large models).
    """
    caller = "gradcheck_module"
    for method_name in ("named_parameters", "named_modules", "train", "eval"):
        if not callable(getattr(model, method_name, None)):
            raise TypeError(
                f"gradcheck_module: model must be a minigrad.nn.Module (with "
                f"named_parameters(), named_modules(), train() and eval()); "
                f"{type(model).__name__} has no {method_name}()"
            )
    check_callable(loss_fn, caller, what="loss_fn")
    options = _check_options(caller, eps, atol, rtol, method, fast, seed, raise_exception, localize)
    names, params, notes = _model_parameters(model)
    modules = list(model.named_modules())
    training = [(name, m) for name, m in modules if bool(getattr(m, "training", False))]
    switched = [_module_name(name) for name, _ in training]
    dropouts = [_module_name(name) for name, m in modules if type(m).__name__ == "Dropout"]
    active_dropouts = [_module_name(n) for n, m in training if type(m).__name__ == "Dropout"]
    if active_dropouts:
        notes.append(
            f"dropout layers {', '.join(repr(n) for n in active_dropouts)} switched to eval "
            "mode for the check (their random masks would make every evaluation of the loss "
            "different); modes restored afterwards"
        )
    elif switched:
        notes.append("model switched to eval mode for the check; modes restored afterwards")
    elif dropouts:
        notes.append(
            f"model already in eval mode: dropout layers {', '.join(repr(n) for n in dropouts)} "
            "were inactive"
        )

    def loss(*_params: Value) -> Value:
        return loss_fn(model, *batch)

    spec = Spec(
        loss,
        params,
        names,
        caller,
        fn_label="loss_fn(model, *batch)",
        seed=options.seed,
        context=lambda: eval_mode(model),
    )
    return run(
        spec,
        options,
        notes,
        attributes={"switched_to_eval": switched, "dropout_layers": dropouts},
    )


def _module_name(name: str) -> str:
    return name if name else "(root)"


def _model_parameters(model: Any) -> tuple[tuple[str, ...], tuple[Value, ...], list[str]]:
    named = list(model.named_parameters())
    notes = []
    names, params, frozen, seen = [], [], [], {}
    for entry in named:
        if not (isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[1], Value)):
            raise TypeError(
                "gradcheck_module: model.named_parameters() must give (dotted name, Value) "
                f"pairs, got {entry!r:.80}"
            )
        name, p = entry
        if id(p) in seen:
            notes.append(f"'{name}' is the same Value as '{seen[id(p)]}'; checked once")
            continue
        seen[id(p)] = name
        if not p.requires_grad:
            frozen.append(name)
            continue
        names.append(str(name))
        params.append(p)
    if frozen:
        notes.append(
            f"skipped parameters with requires_grad=False: {', '.join(repr(n) for n in frozen)}"
        )
    if not params:
        raise ValueError(
            "gradcheck_module: the model has no parameters that require grad, so there is "
            "nothing to check"
        )
    return tuple(names), tuple(params), notes


@contextmanager
def eval_mode(model: Any) -> Iterator[None]:
    """The model in eval mode for the block; every module's own mode restored afterwards."""
    saved = [(m, bool(m.training)) for _, m in model.named_modules()]
    model.eval()
    try:
        yield
    finally:
        # named_modules lists parents before children, so a recursive train(mode) on a
        # parent is corrected by its children's own calls that follow.
        for module, mode in saved:
            module.train(mode)
        for module, mode in saved:
            if bool(module.training) != mode:
                module.training = mode
