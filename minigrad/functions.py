"""The derivative table: the ``Function`` protocol and every primitive operation.

Each primitive is one class with a ``forward`` that computes the value from plain data
(Python floats or numpy arrays) and a ``backward`` that turns the gradient of the output
into one gradient per input: the chain rule, one line or two per operation.  Everything
else minigrad offers (division, subtraction, mean, min, sqrt, softmax, the losses...) is
composed from these.

How a rule is written:

* ``forward(ctx, *inputs, **params)`` receives the inputs' data and returns the output's
  data.  ``ctx`` is the output node being built (as in PyTorch, where ``ctx`` is the
  node's ``grad_fn``): ``ctx.save_for_backward(...)`` keeps what backward needs, and plain
  attributes (``ctx.axis = axis``) keep non-array parameters.
* ``backward(ctx, grad)`` returns one gradient per input (a single value for one input,
  a tuple otherwise; None where an input needs none).  It may return a gradient of the
  broadcast shape: the engine reduces it to the input's shape in one place
  (``autograd.fit_gradient``), so no rule sums over broadcast axes itself.
* Rules use only arithmetic operators and the helpers below (``log``, ``div``, ``power``,
  ``reshape``, ``broadcast_to``, ``where``, ``scatter``...), which accept floats, arrays and
  Values alike.  On the normal path the engine hands backward plain data, so it costs no
  more than hand-written numpy.  With ``create_graph=True`` it hands backward Values
  instead (``ctx.saved_tensors`` then holds the Values the saved data belongs to), so the
  very same line records its own graph, and gradients can be differentiated again.
"""

from __future__ import annotations

import functools
import inspect
import math
from typing import Any

import numpy as np

from minigrad import anomaly
from minigrad.autograd import read_only
from minigrad.grad_mode import ANOMALY, state
from minigrad.value import Value, _fill, _new_node, as_value, data_of, node_ids

_new = object.__new__


# ============================================================================ the protocol


class _GuardsRules(type):
    """The class of ``Function`` classes: a user's ``backward`` assigned to the class after
    its definition (a notebook swapping in a new version of a rule) is guarded too
    (``_guard_user_rule``).  The table's own rules are left as they are."""

    def __setattr__(cls, name: str, value: Any) -> None:
        if name == "backward" and cls._untrusted:
            value = _guard_user_rule(value)
        super().__setattr__(name, value)


class Function(metaclass=_GuardsRules):
    """Base class of every differentiable operation; subclass it for your own.

    Example::

        class Softplus(minigrad.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return numpy.logaddexp(0, x)

            @staticmethod
            def backward(ctx, grad):
                (x,) = ctx.saved_tensors
                return grad / (1 + numpy.exp(-x))

        y = Softplus.apply(x)

    ``apply`` accepts Values, numbers and arrays (numbers and arrays become constants) and
    returns a Value that is a node of the graph like any built-in result: it is drawn with
    the class name, checked by ``gradcheck``, and reached by ``backward``.

    A custom ``backward`` normally works on numpy arrays, so it can be used for first
    derivatives only; differentiating through it a second time raises an error that says
    so.  Set ``differentiable_backward = True`` on the class if its ``backward`` is written
    with operations that also work on Values (arithmetic and the helpers of
    ``minigrad.functions``), and ``create_graph=True`` will differentiate it too.
    """

    #: The name shown in graphs, traces and error messages.  Defaults to the class name.
    name: str = ""
    #: One line for the pictures and the backward stepper: the derivative the rule applies
    #: ("out" is the node's value).  A Primitive that sets it is registered (see REGISTRY);
    #: on a user's Function it replaces the docstring's first line in the pictures.
    caption: str = ""
    #: True when ``backward`` also works on Values (see the class docstring).
    differentiable_backward: bool = False
    #: A user's rule gets its incoming gradient as a read-only view (``autograd.read_only``),
    #: and what it returns is copied: see ``_guard_user_rule``.
    _untrusted: bool = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" not in cls.__dict__:
            cls.name = cls.__name__
        # Wrapped once here, when the class is defined, rather than checked for every node
        # of every backward pass: the table's own rules (Primitive) are not wrapped.  The
        # rule may come from a base class that is not a Function (a mixin).
        if cls._untrusted:
            rule = inspect.getattr_static(cls, "backward")
            if rule is not Function.__dict__["backward"]:
                cls.backward = rule  # guarded by _GuardsRules.__setattr__

    @staticmethod
    def forward(ctx: Value, *inputs: Any, **params: Any) -> Any:
        raise NotImplementedError("a Function subclass must define forward(ctx, *inputs)")

    @staticmethod
    def backward(ctx: Value, grad: Any) -> Any:
        raise NotImplementedError("a Function subclass must define backward(ctx, grad)")

    @classmethod
    def apply(cls, *inputs: Any, **params: Any) -> Value:
        """Run ``forward`` on the inputs' data and record the result as a node of the graph."""
        if cls.forward is Function.forward:
            raise NotImplementedError(f"{cls.__name__} does not define forward(ctx, *inputs)")
        if cls.backward is Function.backward:
            raise NotImplementedError(f"{cls.__name__} does not define backward(ctx, grad)")
        parents = tuple(as_value(x) for x in inputs)
        node = _new_node()
        try:
            data = cls.forward(node, *[p.data for p in parents], **params)
        except (ValueError, TypeError, IndexError, ArithmeticError) as error:
            raise _explain(cls, parents, error) from error
        return finish_node(node, cls, parents, _check_output(cls, node, parents, data))

    @classmethod
    def _backward_graph(cls, node: Value, grad: Value) -> Any:
        """backward in create_graph mode, where ``grad`` and the saved tensors are Values."""
        ctx = GradContext(node)
        if cls.differentiable_backward:
            return cls.backward(ctx, grad)
        # The rule only understands arrays: run it on data, and record results that
        # explain themselves if anyone tries to differentiate through them.
        grads = cls.backward(ctx.node, grad.data)
        if type(grads) is not tuple:
            grads = (grads,)
        return tuple(
            None
            if gi is None
            else _NotDifferentiable.apply(grad, *ctx.node._parents, value=gi, function=cls)
            for gi in grads
        )


class Primitive(Function):
    """A built-in operation.  Same protocol as ``Function``; its rules are trusted to be
    written with Value-compatible operations, and its ``apply`` skips the checks a user's
    operation gets, because it runs for every node of every graph.

    Defining a subclass with its own ``caption`` registers it (``REGISTRY``): from then on
    the generated tests check it, the pictures draw it as a built-in operation with that
    caption, gradcheck treats it as part of the table, and, when it also has a
    ``summary``, the expression reader of the ``minigrad`` command can call it by name.
    A subclass without a caption of its own (a test's deliberately wrong variant of a
    rule, say) is not registered: it is shown and checked as a custom Function.

    Class attributes a primitive may set besides ``name`` and ``caption``:

    * ``summary``: a few words for the expression reader's function list; with it, a
      one-input primitive is callable as ``name(x)`` in ``minigrad graph "..."``.
    * ``complex_unsafe``: why complex-step differentiation cannot pass through it
      ("compares its input with 0 ..."), or "" when it is complex-analytic.
    * ``branch(node)``: a staticmethod returning what decides which smooth piece the
      node is on (a mask, the signs of the input), for piecewise rules; gradcheck compares
      it at x - eps, x and x + eps to recognise kinks.
    """

    differentiable_backward = True
    _untrusted = False  # the table's own rules never edit their incoming gradient
    summary: str = ""
    complex_unsafe: str = ""
    branch = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Without a caption of its own a subclass is not part of the table: a user's
        # variant of a rule, guarded like any user's rule.
        cls._untrusted = "caption" not in cls.__dict__
        super().__init_subclass__(**kwargs)
        if not cls._untrusted:
            _register(cls)

    @classmethod
    def apply(cls, *parents: Value, **params: Any) -> Value:
        node = _new(Value)  # value._new_node, written out (see below)
        node._saved = ()
        try:
            # Arithmetic (two inputs, no parameters) and elementwise functions (one input)
            # are nearly every call: hand them their data without building a list.
            positional = len(parents) if not params else 0  # 0: call with keywords
            if positional == 2:
                data = cls.forward(node, parents[0]._data, parents[1]._data)
            elif positional == 1:
                data = cls.forward(node, parents[0]._data)
            elif positional == 3:  # affine, where
                data = cls.forward(node, parents[0]._data, parents[1]._data, parents[2]._data)
            else:
                data = cls.forward(node, *[p._data for p in parents], **params)
        except (ValueError, TypeError, IndexError, ArithmeticError) as error:
            raise _explain(cls, parents, error) from error
        # finish_node and value._fill, written out: this runs once per operation of every
        # graph, and calling them made a scalar network's forward pass half as slow again
        # (docs/performance.md).  tests/test_nodes.py checks that it sets every slot.
        node._data = data
        node._grad = None
        node._owns_grad = False
        node.name = None
        node._pending_grad = None
        node._visit = 0
        node._created = next(node_ids)
        recording = state.recording
        if recording:
            for p in parents:
                if p.requires_grad:
                    node.requires_grad = True
                    node._op = cls
                    node._parents = parents
                    if recording == ANOMALY:
                        anomaly.check_forward(node)
                    return node
        node.requires_grad = False
        node._op = None
        node._parents = ()
        node._saved = ()
        return node


#: Every registered primitive by its name, in the order they were defined: the table.
#: ``PRIMITIVES`` (a tuple) and ``is_primitive`` are read from it, so a primitive defined
#: anywhere (a test file, a notebook) is known everywhere as soon as its class exists.
REGISTRY: dict[str, type] = {}


def _register(cls: type) -> None:
    """Add a primitive to REGISTRY; a second, different class under the same name is an
    error (re-defining the same class, as a reloaded module does, replaces it)."""
    if not cls.name or not cls.caption.strip():
        raise TypeError(f"primitive {cls.__name__} needs a non-empty name and caption")
    known = REGISTRY.get(cls.name)
    if known is not None and known.__qualname__ + known.__module__ != (
        cls.__qualname__ + cls.__module__
    ):
        raise TypeError(
            f"primitive {cls.__name__}: the name {cls.name!r} is already taken by "
            f"{known.__module__}.{known.__qualname__}; choose another name"
        )
    REGISTRY[cls.name] = cls


def is_primitive(op: Any) -> bool:
    """Whether ``op`` (a node's grad_fn) is a registered primitive of the table."""
    return op is not None and REGISTRY.get(getattr(op, "name", None)) is op


def __getattr__(name: str) -> Any:
    # PRIMITIVES is derived from the registry on every read, never stored: a primitive
    # defined later (in a test file) is in it too.
    if name == "PRIMITIVES":
        return tuple(REGISTRY.values())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _guard_user_rule(rule: Any) -> Any:
    """A user's ``backward`` (a staticmethod, classmethod or plain function) wrapped so
    that it can corrupt no gradient, whatever it does with its arrays.

    * It receives its incoming gradient, when that is an array, as a read-only view: the
      array may also be another node's ``.grad`` or another input's gradient, and
      ``grad *= 2`` would silently change those; with the view, numpy raises "assignment
      destination is read-only".
    * The arrays it returns are copied, as plain numpy arrays: the backward pass stores
      gradients as they come (``Value.grad`` makes them their own only when read), and a
      rule may keep what it returns (a buffer it reuses) and write into it again later.
      (An array subclass, such as a masked array, would escape the engine's checks.)

    The table's own rules do neither, and run unwrapped.  Wrapping twice changes nothing.
    """
    kind = type(rule)
    function = rule.__func__ if kind in (staticmethod, classmethod) else rule
    if getattr(function, "_guarded", False):
        return rule

    @functools.wraps(function)
    def backward(*args: Any) -> Any:
        *head, grad = args
        grads = function(*head, read_only(grad) if type(grad) is np.ndarray else grad)
        if type(grads) is tuple:
            return tuple(np.array(g) if isinstance(g, np.ndarray) else g for g in grads)
        return np.array(grads) if isinstance(grads, np.ndarray) else grads

    backward._guarded = True
    return classmethod(backward) if kind is classmethod else staticmethod(backward)


def finish_node(node: Value, cls: type, parents: tuple, data: Any) -> Value:
    """Make ``node`` (from ``value._new_node``, after its forward) the result of ``cls``
    on ``parents``: a node of the graph when grad mode is on and an input requires grad,
    otherwise a constant that keeps nothing for backward."""
    recording = state.recording
    if recording and any(p.requires_grad for p in parents):
        _fill(node, data, True, cls, parents, node._saved)
        if recording == ANOMALY:
            anomaly.check_forward(node)
        return node
    return _fill(node, data, False, None, (), ())


_CANONICAL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _check_output(cls: type, node: Value, parents: tuple, data: Any) -> Any:
    """A user's forward must return float data; say so plainly when it does not.

    Canonical data is kept as the very same object, because ``save_for_backward(out)``
    refers to it and create_graph mode recognises the output by identity.
    """
    if state.complex_data and _complex_output(cls, parents, data):
        return np.asarray(data, dtype=np.complex128) if np.ndim(data) else np.complex128(data)
    if type(data) is float or type(data) is np.float32:  # a float32 loss, e.g.
        return data
    if isinstance(data, np.ndarray) and data.ndim and data.dtype in _CANONICAL_DTYPES:
        return data
    try:
        canonical = Value(data, requires_grad=False).data
    except (TypeError, ValueError) as error:
        raise TypeError(f"{cls.__name__}.forward returned unusable data: {error}") from None
    node._saved = tuple(canonical if item is data else item for item in node._saved)
    return canonical


def _complex_output(cls: type, parents: tuple, data: Any) -> bool:
    """Inside ``autograd.complex_data()``: is ``data`` complex output to let through?

    A forward that turns complex inputs into real numbers dropped the imaginary part that
    carries the derivative; that is an error, named here."""
    if np.iscomplexobj(data):
        return True
    if any(np.iscomplexobj(p.data) for p in parents):
        raise TypeError(
            f"{cls.__name__}.forward returned real numbers for complex inputs, dropping the "
            "imaginary part that carries the derivative (abs, comparisons, float() and math.* "
            "functions do that); write it with numpy functions that accept complex numbers"
        )
    return False


def _explain(cls: type, parents: tuple, error: Exception) -> Exception:
    """Re-raise a numpy error with the operation's name and its inputs' shapes in front."""
    shapes = ", ".join(str(np.shape(p.data)) for p in parents)
    kind = ValueError if isinstance(error, (ValueError, ArithmeticError)) else type(error)
    text = str(error)
    if not text.startswith(f"{cls.name}: "):  # numpy's matmul names itself already
        text = f"{cls.name}: {text}"
    return kind(f"{text} (input shapes: {shapes})")


class GradContext:
    """What a backward rule sees as ``ctx`` with ``create_graph=True``.

    Attributes are the node's, except ``saved_tensors``: each saved array is replaced by the
    Value it is the data of (the node's output or one of its inputs), so the rule's
    arithmetic is recorded; other saved arrays become constants.
    """

    __slots__ = ("node", "saved_tensors")

    def __init__(self, node: Value):
        self.node = node
        parents = node._parents
        saved = []
        for position, item in enumerate(node._saved):
            saved.append(_owner_of(item, node, parents, position))
        self.saved_tensors = tuple(saved)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.node, name)


def _owner_of(item: Any, node: Value, parents: tuple, position: int) -> Any:
    if isinstance(item, Value):
        return item
    if item is node.data:
        return node
    # Prefer the input at the same position: forward(ctx, a, b) usually saves (a, b).
    if position < len(parents) and parents[position].data is item:
        return parents[position]
    for p in parents:
        if p.data is item:
            return p
    if isinstance(item, (float, np.ndarray, np.floating)):
        return Value(item, requires_grad=False)
    return item


class _NotDifferentiable(Primitive):
    """Holds a gradient computed by a user rule that only understands arrays."""

    name = "backward-of"

    @staticmethod
    def forward(ctx, grad, *inputs, value, function):
        # Its parents are the incoming gradient and the inputs of the operation, on which
        # the value truly depends; its backward refuses to pretend it knows how.
        ctx.function = function
        return value

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError(
            f"cannot differentiate through {ctx.function.__name__}.backward a second time: "
            "it computes with numpy arrays.  Write it with arithmetic on its arguments and "
            "minigrad.functions helpers, then set differentiable_backward = True on the class"
        )


# ============================================================================ helpers
# Rules call these instead of numpy so that one line serves floats, arrays and Values.


def _scalar(function: Any, fallback: Any, x: float) -> float:
    """math.* is fast on floats but raises on overflow and log(0); numpy returns the IEEE
    answer (inf, nan) with a RuntimeWarning, which is what a learner should see."""
    try:
        return function(x)
    except (OverflowError, ValueError, ZeroDivisionError):
        return float(fallback(np.float64(x)))


def _canonical(out: Any) -> Any:
    """numpy's 0-d float64 results as Python floats, the form Values keep scalars in."""
    if type(out) is np.float64:
        return float(out)
    if type(out) is np.ndarray and out.ndim == 0:
        return float(out) if out.dtype == np.float64 else out.dtype.type(out)
    return out


def sigmoid(x: Any) -> Any:
    """σ(x) = 1 / (1 + e^-x) of a Value (recorded), a float or an array (stable: exp only
    ever sees -|x|)."""
    if isinstance(x, Value):
        return x.sigmoid()
    if type(x) is float:
        return Sigmoid.forward(_Scratch(), x)
    x = np.asarray(x)
    e = np.exp(-np.abs(x))
    return _canonical(np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(e.dtype, copy=False))


def _unary_data(function: Any, numpy_function: Any, x: Any) -> Any:
    """``function`` (from math) on a float, ``numpy_function`` on an array: plain data."""
    if type(x) is float:
        return _scalar(function, numpy_function, x)
    return _canonical(numpy_function(x))


def _unary_helper(function: Any, numpy_function: Any, primitive: str) -> Any:
    """A helper for rules: the primitive's node for a Value, plain data otherwise."""

    def helper(x: Any) -> Any:
        if isinstance(x, Value):
            return REGISTRY[primitive].apply(x)
        return _unary_data(function, numpy_function, x)

    helper.__name__ = primitive
    helper.__doc__ = f"{primitive}(x) of a Value (recorded), a float or an array."
    return helper


sin = _unary_helper(math.sin, np.sin, "sin")
cos = _unary_helper(math.cos, np.cos, "cos")
sinh = _unary_helper(math.sinh, np.sinh, "sinh")
cosh = _unary_helper(math.cosh, np.cosh, "cosh")
expm1 = _unary_helper(math.expm1, np.expm1, "expm1")


def cumsum(x: Any, axis: int) -> Any:
    """Running sums along ``axis`` of a Value (recorded) or an array."""
    return Cumsum.apply(x, axis=axis) if isinstance(x, Value) else np.cumsum(x, axis=axis)


def cumprod(x: Any, axis: int) -> Any:
    """Running products along ``axis`` of a Value (recorded) or an array."""
    return Cumprod.apply(x, axis=axis) if isinstance(x, Value) else np.cumprod(x, axis=axis)


def zeros_like(x: Any) -> Any:
    """Zeros of x's shape and dtype; a constant Value for a Value (no graph to record)."""
    data = data_of(x)
    if type(data) is float:
        zeros: Any = 0.0
    elif np.ndim(data) == 0:
        zeros = np.asarray(data).dtype.type(0)
    else:
        zeros = np.zeros_like(data)
    return Value(zeros, requires_grad=False) if isinstance(x, Value) else zeros


def exp(x: Any) -> Any:
    if type(x) is float:
        return _scalar(math.exp, np.exp, x)
    return x.exp() if isinstance(x, Value) else np.exp(x)


def log(x: Any) -> Any:
    if type(x) is float:
        return _scalar(math.log, np.log, x)
    return x.log() if isinstance(x, Value) else np.log(x)


def power(x: Any, p: Any) -> Any:
    if type(x) is float and type(p) is float:
        try:
            result = x**p
        except (ZeroDivisionError, OverflowError):
            return float(np.power(np.float64(x), p))
        # numpy's answer where Python's differs: a negative base (Python: complex), and
        # p = 0.5, which numpy (as PyTorch) takes as sqrt: sqrt(-inf) = nan (C's pow gives
        # inf) and sqrt(-0.0) = -0.0, so that floats and arrays agree.
        if type(result) is complex or (p == 0.5 and x <= 0.0):
            return float(np.power(np.float64(x), p))
        return result
    if isinstance(x, Value) or isinstance(p, Value):
        return as_value(x) ** p
    return np.power(x, p)


def div(x: Any, y: Any) -> Any:
    if type(y) is float:
        try:
            return x / y
        except ZeroDivisionError:
            return x * float(np.divide(1.0, np.float64(y)))
    return x / y


def reshape(x: Any, shape: tuple) -> Any:
    if type(x) is float:
        if shape == ():
            return x
        return np.reshape(np.array(x), shape)  # checks the size and resolves -1, as numpy
    return x.reshape(shape)


def broadcast_to(x: Any, shape: tuple) -> Any:
    if isinstance(x, Value):
        return x if x.shape == shape else BroadcastTo.apply(x, shape=shape)
    return np.broadcast_to(x, shape)


def transpose(x: Any, axes: tuple | None = None) -> Any:
    return x.transpose(axes)


def swap_last(x: Any) -> Any:
    """Swap the last two axes (the matrix transpose of a stack of matrices)."""
    if type(x) is np.ndarray:
        return x.swapaxes(-1, -2)
    axes = list(range(np.ndim(data_of(x))))
    axes[-1], axes[-2] = axes[-2], axes[-1]
    return x.transpose(tuple(axes))


def select(condition: Any, x: Any, y: Any) -> Any:
    """Elementwise ``x`` where ``condition`` holds, else ``y``, for floats, arrays or Values;
    the condition is not differentiated (it is data, or a Value whose data is used)."""
    condition = np.asarray(data_of(condition), dtype=bool)
    if isinstance(x, Value) or isinstance(y, Value):
        return Where.apply(as_value(x), as_value(y), condition=condition)
    return np.where(condition, x, y)


def scatter(x: Any, index: Any, shape: tuple) -> Any:
    """An array of ``shape``, zero except ``result[index] += x``: the adjoint of indexing."""
    if isinstance(x, Value):
        return Scatter.apply(x, index=index, shape=shape)
    return _scatter_data(x, index, shape)


def _scatter_data(x: Any, index: Any, shape: tuple) -> np.ndarray:
    out = np.zeros(shape, dtype=np.result_type(x))
    np.add.at(out, index, x)  # add.at, not +=, so that repeated indices accumulate
    return out


def _keepdims_shape(shape: tuple, axis: Any) -> tuple:
    """The shape a reduction over ``axis`` has with keepdims=True."""
    if axis is None:
        return (1,) * len(shape)
    axes = (axis,) if isinstance(axis, int) else axis
    axes = {a % len(shape) for a in axes}
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _normalize_axis(axis: Any, ndim: int, op: str) -> Any:
    """``axis`` as a non-negative int, a sorted tuple of them, or None (every axis).

    Negative axes count from the end, as in numpy; rules then only ever see non-negative
    ones, so a rule that inverts a permutation or rebuilds a shape cannot get them wrong.
    A 0-d input accepts axis 0 and -1, as PyTorch does (it is one element either way).
    Raises TypeError for an axis that is not an integer (a float, a bool) and ValueError
    for one out of range or given twice.
    """
    if axis is None:
        return None
    single = isinstance(axis, (int, np.integer))
    if single:
        axes = (axis,)
    elif isinstance(axis, (tuple, list)):
        axes = tuple(axis)
    else:
        axes = (axis,)
    for a in axes:
        if not isinstance(a, (int, np.integer)) or isinstance(a, (bool, np.bool_)):
            raise TypeError(f"{op}: axis must be an int, a tuple of ints or None, got {axis!r}")
    size = max(ndim, 1)
    for a in axes:
        if not -size <= a < size:
            raise ValueError(f"{op}: axis {a} is out of range for a Value with {ndim} dimensions")
    normal = [int(a) % size for a in axes]
    if len(set(normal)) != len(normal):
        raise ValueError(f"{op}: axis {axis!r} names the same axis twice")
    if ndim == 0:
        return None
    return normal[0] if single else tuple(sorted(normal))


# ============================================================================ primitives
# The whole table.  d/da, d/db... of each output, times the incoming gradient.


class Add(Primitive):
    name = "add"
    caption = "d(a + b)/da = 1, d(a + b)/db = 1: the gradient is passed to both inputs unchanged"

    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


class Mul(Primitive):
    name = "mul"
    caption = "d(a * b)/da = b, d(a * b)/db = a"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return grad * b, grad * a


class Clone(Primitive):
    """A copy of the data, recorded in the graph (PyTorch's ``clone``).  With
    ``create_graph=True`` the backward pass stores a clone of each gradient as ``.grad``:
    ``add`` hands one gradient Value to both of its inputs, and in-place arithmetic inside
    ``no_grad()`` changes a Value's data."""

    name = "clone"
    caption = "d clone(a)/da = 1: a copy of the data, the gradient passed on unchanged"

    @staticmethod
    def forward(ctx, a):
        return a if type(a) is float else a.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad


class Neg(Primitive):
    name = "neg"
    caption = "d(-a)/da = -1"

    @staticmethod
    def forward(ctx, a):
        return -a

    @staticmethod
    def backward(ctx, grad):
        return -grad


class Pow(Primitive):
    name = "pow"
    caption = "d(a ** b)/da = b * a ** (b - 1), d(a ** b)/db = a ** b * log(a)"

    @staticmethod
    def forward(ctx, a, b):
        out = power(a, b)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        b_data = data_of(b)
        if type(b_data) is float and b_data != 0.0:  # x**2, 1/x, sqrt: nearly every call
            grad_a = grad * b * power(a, b - 1)
        else:  # a^0 = 1 is constant: d/da is 0 where b == 0 (not 0 * 0^-1 = nan), as PyTorch
            with np.errstate(divide="ignore", invalid="ignore"):
                grad_a = select(b_data != 0, grad * b * power(a, b - 1), 0.0)
        if not ctx.needs_input_grad[1]:
            return grad_a, None
        # d(a^b)/db = a^b log a.  At a == 0 that is 0 for b >= 0 (the limit of the product)
        # and -inf for b < 0 (inf * log 0), as in PyTorch.
        a_data = data_of(a)
        if not np.any(a_data == 0):  # the usual case: no zero base to take care of
            safe_a = a
        elif np.ndim(a_data) or np.ndim(b_data):
            safe_a = select((a_data == 0) & (b_data >= 0), 1.0, a)
        else:
            safe_a = 1.0 if b_data >= 0 else a
        return grad_a, grad * out * log(safe_a)


class Exp(Primitive):
    name = "exp"
    caption = "d exp(a)/da = exp(a) = out"

    @staticmethod
    def forward(ctx, a):
        out = exp(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out


class Log(Primitive):
    name = "log"
    caption = "d log(a)/da = 1 / a"

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return log(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return div(grad, a)


class Tanh(Primitive):
    """Fused rather than built from exp: exp(2x) overflows at x = 355, tanh never does."""

    name = "tanh"
    caption = "d tanh(a)/da = 1 - out ** 2"

    @staticmethod
    def forward(ctx, a):
        out = math.tanh(a) if type(a) is float else np.tanh(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * (1.0 - out * out)


class Sigmoid(Primitive):
    """Fused for stability: 1 / (1 + exp(-x)) through Exp overflows for x < -709 and its
    gradient becomes inf * 0 = nan; here exp only ever sees -|x|."""

    name = "sigmoid"
    caption = "d sigmoid(a)/da = out * (1 - out)"
    complex_unsafe = "uses |x| and the sign of x in its numerically stable formula"

    @staticmethod
    def forward(ctx, a):
        if type(a) is float:
            if a >= 0:
                out = 1.0 / (1.0 + math.exp(-a))
            else:
                e = math.exp(a)
                out = e / (1.0 + e)
        else:
            e = np.exp(-np.abs(a))
            out = np.where(a >= 0, 1 / (1 + e), e / (1 + e)).astype(e.dtype, copy=False)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out * (1.0 - out)


class Relu(Primitive):
    name = "relu"
    caption = "d relu(a)/da = 1 where a > 0, else 0"
    complex_unsafe = "compares its input with 0 (max(x, 0) is not complex-analytic)"

    @staticmethod
    def branch(node):
        return np.asarray(node._parents[0].data) > 0

    @staticmethod
    def forward(ctx, a):
        out = (0.0 if a <= 0 else a) if type(a) is float else np.maximum(a, 0)  # keeps NaN
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        # The derivative is taken to be 0 at 0, and 1 at NaN (as PyTorch: "not out <= 0").
        (out,) = ctx.saved_tensors
        if type(out) is float:
            return grad if not out <= 0 else 0.0
        if type(out) is Value:  # create_graph: the mask is a constant of the output's dtype
            data = out.data
            if type(data) is float:
                return grad * float(not data <= 0)
            return grad * (~(data <= 0)).astype(data.dtype)
        return grad * ~(out <= 0)


class Abs(Primitive):
    name = "abs"
    caption = "d |a|/da = sign(a)"
    complex_unsafe = "takes the magnitude |x|, which is not complex-analytic"

    @staticmethod
    def branch(node):
        return np.sign(node._parents[0].data)

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return abs(a) if type(a) is float else np.abs(a)

    @staticmethod
    def backward(ctx, grad):
        # sign(a), taken to be 0 at 0 and at NaN, as in PyTorch (numpy's sign(nan) is nan).
        a = data_of(ctx.saved_tensors[0])
        if type(a) is float:
            return grad * float((a > 0) - (a < 0))
        return grad * ((a > 0).astype(a.dtype) - (a < 0))


class Sum(Primitive):
    name = "sum"
    caption = "every summed element receives the gradient of the sum"

    @staticmethod
    def forward(ctx, a, axis=None, keepdims=False):
        ctx.in_shape, ctx.axis, ctx.keepdims = np.shape(a), axis, keepdims
        if type(a) is float:
            return a
        return np.sum(a, axis=axis, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        if not ctx.keepdims:
            grad = reshape(grad, _keepdims_shape(ctx.in_shape, ctx.axis))
        return broadcast_to(grad, ctx.in_shape)


class Max(Primitive):
    """The gradient goes to the maximal elements; tied maxima share it equally."""

    name = "max"
    caption = "the gradient goes to the largest element(s), shared equally among ties"
    complex_unsafe = "compares elements with each other (max is not complex-analytic)"

    @staticmethod
    def branch(node):
        a = node._parents[0].data
        return a == np.max(a, axis=node.__dict__.get("axis"), keepdims=True) if np.ndim(a) else None

    @staticmethod
    def forward(ctx, a, axis=None, keepdims=False):
        ctx.in_shape, ctx.axis, ctx.keepdims = np.shape(a), axis, keepdims
        if type(a) is float:
            return a
        top = np.max(a, axis=axis, keepdims=True)
        ctx.save_for_backward(a, top)
        return top if keepdims else top.reshape(np.shape(np.max(a, axis=axis)))

    @staticmethod
    def backward(ctx, grad):
        if not ctx.in_shape:
            return grad
        a, top = (data_of(t) for t in ctx.saved_tensors)
        mask = (a == top) | (np.isnan(a) & np.isnan(top))  # a NaN maximum: to the NaNs
        share = (mask / mask.sum(axis=ctx.axis, keepdims=True)).astype(a.dtype, copy=False)
        if not ctx.keepdims:
            grad = reshape(grad, _keepdims_shape(ctx.in_shape, ctx.axis))
        return grad * share


class BroadcastTo(Primitive):
    name = "broadcast_to"
    caption = "the gradients of the copies are summed back to the input's shape"

    @staticmethod
    def forward(ctx, a, shape):
        return np.broadcast_to(a, shape)

    @staticmethod
    def backward(ctx, grad):
        return grad  # the engine sums it back to the input's shape


class Reshape(Primitive):
    name = "reshape"
    caption = "the gradient is reshaped back to the input's shape"

    @staticmethod
    def forward(ctx, a, shape):
        ctx.in_shape = np.shape(a)
        if type(a) is float:
            return reshape(a, shape) if shape != () else a
        out = a.reshape(shape)
        return float(out) if out.shape == () and out.dtype == np.float64 else out

    @staticmethod
    def backward(ctx, grad):
        return reshape(grad, ctx.in_shape)


class Transpose(Primitive):
    name = "transpose"
    caption = "the gradient is transposed back"

    @staticmethod
    def forward(ctx, a, axes=None):
        ctx.axes = axes
        return a if type(a) is float or a.ndim == 0 else np.transpose(a, axes)

    @staticmethod
    def backward(ctx, grad):
        if ctx.axes is None:
            return transpose(grad)
        return transpose(grad, tuple(np.argsort(ctx.axes)))


class GetItem(Primitive):
    name = "getitem"
    caption = "the gradient is put back at the indexed positions, zeros elsewhere"

    @staticmethod
    def forward(ctx, a, index):
        ctx.index, ctx.in_shape = index, np.shape(a)
        out = np.asarray(a)[index] if type(a) is float else a[index]
        if type(out) is np.float64:
            return float(out)
        return out if out.ndim else out.dtype.type(out)  # x[...] of a 0-d input

    @staticmethod
    def backward(ctx, grad):
        if not ctx.in_shape:  # a 0-d input indexed with None, ... or ()
            return reshape(grad, ())
        return scatter(grad, ctx.index, ctx.in_shape)


class Scatter(Primitive):
    """Zeros of ``shape`` with ``x`` added at ``index``: how indexing sends gradients back."""

    name = "scatter"
    caption = "the gradient is read back at the scattered positions"

    @staticmethod
    def forward(ctx, a, index, shape):
        ctx.index = index
        return _scatter_data(a, index, shape)

    @staticmethod
    def backward(ctx, grad):
        return grad[ctx.index]


class Concat(Primitive):
    name = "concat"
    caption = "the gradient is split back into the pieces that were joined"

    @staticmethod
    def forward(ctx, *arrays, axis=0):
        ctx.axis = axis
        ctx.bounds = np.cumsum([0] + [np.shape(a)[axis] for a in arrays])
        return np.concatenate(arrays, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        ndim = np.ndim(data_of(grad))
        axis = ctx.axis % ndim
        lead = (slice(None),) * axis
        b = ctx.bounds
        return tuple(grad[lead + (slice(b[i], b[i + 1]),)] for i in range(len(b) - 1))


class Where(Primitive):
    name = "where"
    caption = "the gradient goes to a where the condition holds, to b elsewhere"

    @staticmethod
    def branch(node):
        return node.__dict__.get("condition")

    @staticmethod
    def forward(ctx, a, b, condition):
        ctx.condition = condition
        return np.where(condition, a, b)

    @staticmethod
    def backward(ctx, grad):
        c = ctx.condition
        return select(c, grad, 0.0), select(c, 0.0, grad)


class MatMul(Primitive):
    """numpy's matmul, with its rules for 1-D operands and stacks of matrices."""

    name = "matmul"
    caption = "d(A @ B): A receives G @ B.T, B receives A.T @ G"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        if type(a) is float or type(b) is float or a.ndim == 0 or b.ndim == 0:
            raise ValueError("matmul needs arrays of at least one dimension; use * for scalars")
        return np.matmul(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        a_nd, b_nd = np.ndim(data_of(a)), np.ndim(data_of(b))
        if a_nd == 1 and b_nd == 1:  # dot product
            return grad * b, grad * a
        if a_nd == 1:  # (k,) @ (..., k, n) -> (..., n): treat a as a (1, k) row
            g = reshape(grad, np.shape(data_of(grad))[:-1] + (1, -1))
            grad_a = (g @ swap_last(b)) if need_a else None
            grad_b = (reshape(a, (-1, 1)) * g) if need_b else None
            return (None if grad_a is None else reshape(grad_a, _drop_axis(grad_a, -2))), grad_b
        if b_nd == 1:  # (..., m, k) @ (k,) -> (..., m): treat b as a (k, 1) column
            g = reshape(grad, np.shape(data_of(grad)) + (1,))
            grad_a = (g * b) if need_a else None
            grad_b = (swap_last(a) @ g) if need_b else None
            return grad_a, (None if grad_b is None else reshape(grad_b, _drop_axis(grad_b, -1)))
        return (grad @ swap_last(b)) if need_a else None, (swap_last(a) @ grad) if need_b else None


#: ``ndarray.sum`` without numpy's Python-level wrapper around it (a third of its cost on
#: small arrays): the same C reduction, the same result.
_add_reduce = np.add.reduce


class Affine(Primitive):
    """``x @ W + b`` as one node: x (..., k), W (k, n), b (n,) -> (..., n).

    A layer's pre-activation, fused: the bias is added in place to the product (one pass
    over the output, no temporary), the graph holds one node instead of two, and
    backward sums the bias gradient directly instead of through a broadcast reduction.
    ``minigrad.nn.functional.affine`` builds it; ``nn.Layer`` uses it.
    """

    name = "affine"
    caption = "d(X @ W + b): X receives G @ W.T, W receives X.T @ G, b the sum of G over rows"

    @staticmethod
    def forward(ctx, x, W, b):
        ctx.save_for_backward(x, W)
        out = np.matmul(x, W)
        if getattr(b, "dtype", None) == out.dtype or out.dtype == np.result_type(out, b):
            out += b
        else:  # b would promote the result (float64 bias, float32 weights): as x @ W + b does
            out = out + b
        return out

    @staticmethod
    def backward(ctx, grad):
        x, W = ctx.saved_tensors
        need_x, need_W, need_b = ctx.needs_input_grad
        if type(grad) is np.ndarray and x.ndim == 2:  # a batch of arrays: nearly every call
            return (
                (grad @ W.T) if need_x else None,
                (x.T @ grad) if need_W else None,
                _add_reduce(grad, 0) if need_b else None,  # grad.sum(axis=0)
            )
        ndim = np.ndim(data_of(x))
        grad_x = (grad @ swap_last(W)) if need_x else None
        grad_W = grad_b = None
        if need_W:
            if ndim == 1:  # one example: the outer product x ⊗ G
                grad_W = reshape(x, (-1, 1)) * reshape(grad, (1, -1))
            elif ndim == 2:
                grad_W = swap_last(x) @ grad
            else:  # a stack of examples: every row of every matrix is one example
                k, n = np.shape(data_of(W))
                grad_W = swap_last(reshape(x, (-1, k))) @ reshape(grad, (-1, n))
        if need_b:
            grad_b = grad if ndim == 1 else grad.sum(axis=tuple(range(ndim - 1)))
        return grad_x, grad_W, grad_b


# ---------------------------------------------------------------------------- fused rules
# Compositions that overflow, or whose kinks give the engine a wrong one-sided derivative,
# fused into one node each.  ``nn.functional`` checks the inputs and calls them.

#: .max() and .sum() without numpy's Python wrapper, for the once-per-step loss.
_maximum_reduce = np.maximum.reduce


class LogSumExp(Primitive):
    """log Σ exp(x) along ``axis``, computed as m + log Σ exp(x - m) with m = max(x).

    Fused because the composition overflows (exp(710) = inf) where this never does;
    the derivative is d/dx_i = exp(x_i - lse) = softmax(x)_i.  ``axis`` is None, a
    non-negative int or a sorted tuple of them (``nn.functional.logsumexp`` normalises it).
    """

    name = "logsumexp"
    caption = "d logsumexp(a)/da = exp(a - out) = softmax(a)"

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        ctx.axis, ctx.keepdims, ctx.in_shape = axis, keepdims, np.shape(x)
        x = np.asarray(x)
        m = np.max(x, axis=axis, keepdims=True, initial=-np.inf)  # -inf: an empty row
        m = np.where(np.isfinite(m), m, 0).astype(x.dtype, copy=False)  # rows of all -inf
        with np.errstate(divide="ignore"):  # log 0 = -inf: the logsumexp of nothing
            out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
        ctx.save_for_backward(x, out)
        return _canonical(out if keepdims else out.reshape(np.shape(np.sum(x, axis=axis))))

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        kept = _keepdims_shape(ctx.in_shape, ctx.axis)
        if isinstance(grad, Value):  # create_graph: recompute softmax from the input Value
            probs = exp(x - LogSumExp.apply(x, axis=ctx.axis, keepdims=True))
        else:
            probs = np.exp(x - out)
        return reshape(grad, kept) * probs


def softmax_of(x: Any, axis: int) -> Any:
    """softmax(x) along ``axis`` for an array or a Value (recorded), from ``LogSumExp``."""
    if isinstance(x, Value):
        return exp(x - LogSumExp.apply(x, axis=axis, keepdims=True))
    return np.exp(x - LogSumExp.forward(_Scratch(), x, axis=axis, keepdims=True))


class _Scratch:
    """A throw-away ctx, for calling a forward rule on plain data."""

    def save_for_backward(self, *arrays: Any) -> None:
        pass


class CrossEntropy(Primitive):
    """Softmax cross-entropy of logits (n, C) with integer targets (n,), fused.

    loss_k = logsumexp(z_k) - z_k[t_k];  d loss_k / d z_k = softmax(z_k) - onehot(t_k).
    Fused for speed (one node, one subtraction in backward) and stability (no exp of a
    large logit anywhere).  ``nn.functional.cross_entropy`` checks the inputs and calls it
    (class weights, label smoothing, ignored classes and probability targets are
    compositions there).
    """

    name = "cross_entropy"
    caption = "d loss/d logits = (softmax(logits) - onehot(targets)) / n"

    @staticmethod
    def forward(ctx, logits, targets, reduction="mean"):
        # np.maximum.reduce and np.add.reduce are .max() and .sum() without numpy's Python
        # wrapper: this runs once per training step, on small arrays.
        shifted = logits - _maximum_reduce(logits, axis=1, keepdims=True)
        probs = np.exp(shifted)
        totals = _add_reduce(probs, axis=1, keepdims=True)
        n, n_classes = logits.shape
        # Each example's target as an index into the flattened (n, C) array: one ``take``
        # here and one indexed subtraction in backward, cheaper than [rows, targets] twice.
        flat = np.arange(0, n * n_classes, n_classes) + targets
        losses = np.log(totals[:, 0]) - shifted.take(flat)
        probs /= totals  # the softmax, for backward
        ctx.flat, ctx.targets, ctx.reduction = flat, targets, reduction
        ctx.save_for_backward(logits, probs)
        if reduction == "none":
            return losses
        total = _add_reduce(losses)
        total = total / n if reduction == "mean" else total  # the mean, as losses.mean()
        return float(total) if type(total) is np.float64 else total  # canonical, as Value's

    @staticmethod
    def backward(ctx, grad):
        logits, probs = ctx.saved_tensors
        reduction, n = ctx.reduction, len(ctx.targets)
        if isinstance(grad, Value):  # create_graph: softmax of the input Value, recorded
            onehot = np.zeros(logits.shape, dtype=logits.dtype)
            onehot.reshape(-1)[ctx.flat] = 1
            diff = softmax_of(logits, 1) - onehot
            if reduction == "none":
                return diff * reshape(grad, (n, 1))
            return diff * (grad * (1.0 / n)) if reduction == "mean" else diff * grad
        # (softmax - onehot) * scale, as scale * softmax minus scale at the targets: a new
        # array (probs stays intact for a second backward pass) in one pass over it.
        if reduction == "none":
            diff = probs * np.reshape(grad, (n, 1))
        else:
            grad = grad * (1.0 / n) if reduction == "mean" else grad
            diff = probs * grad
        diff.reshape(-1)[ctx.flat] -= grad
        return diff


class BinaryCrossEntropyWithLogits(Primitive):
    """Elementwise -[y log σ(z) + (1 - y) log(1 - σ(z))], computed stably as
    max(z, 0) - z·y + log(1 + exp(-|z|)).

    d/dz = σ(z) - y and d/dy = -z.  Fused because the stable composition has kinks at
    z = 0 where the engine's one-sided derivatives give the wrong gradient (relu'(0) =
    abs'(0) = 0 gives -y instead of σ(0) - y = 0.5 - y, exactly where a zero-initialised
    model starts).
    """

    name = "binary_cross_entropy_with_logits"
    caption = "d bce/dz = sigmoid(z) - y, d bce/dy = -z"

    @staticmethod
    def forward(ctx, z, y):
        ctx.save_for_backward(z, y)
        z_arr = np.asarray(z)
        return _canonical(np.maximum(z_arr, 0) - z_arr * y + np.log1p(np.exp(-np.abs(z_arr))))

    @staticmethod
    def backward(ctx, grad):
        z, y = ctx.saved_tensors
        need_z, need_y = ctx.needs_input_grad
        grad_z = grad * (sigmoid(z) - y) if need_z else None
        grad_y = -(grad * z) if need_y else None
        return grad_z, grad_y


# ---------------------------------------------------------------------------- elementwise math
# One input, one output of its shape.  Each derivative is written with the helpers, so a
# second derivative records its own graph.  ``summary`` makes each callable by name from
# the expression reader.  The classes repeat one shape (save the input, apply the
# derivative) on purpose: this is the table a reader studies one rule at a time, as
# PyTorch's derivatives.yaml, and a generated class would hide the rule it exists to show.


class Sin(Primitive):
    name = "sin"
    caption = "d sin(a)/da = cos(a)"
    summary = "sine (radians)"

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return sin(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * cos(a)


class Cos(Primitive):
    name = "cos"
    caption = "d cos(a)/da = -sin(a)"
    summary = "cosine (radians)"

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return cos(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return -(grad * sin(a))


class Tan(Primitive):
    name = "tan"
    caption = "d tan(a)/da = 1 + out ** 2"
    summary = "tangent (radians)"

    @staticmethod
    def forward(ctx, a):
        out = _unary_data(math.tan, np.tan, a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * (1.0 + out * out)


class Arcsin(Primitive):
    name = "arcsin"
    caption = "d arcsin(a)/da = 1 / sqrt(1 - a ** 2)"
    summary = "inverse sine (-1 <= x <= 1)"

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return _unary_data(math.asin, np.arcsin, a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * power(1.0 - a * a, -0.5)


class Arccos(Primitive):
    name = "arccos"
    caption = "d arccos(a)/da = -1 / sqrt(1 - a ** 2)"
    summary = "inverse cosine (-1 <= x <= 1)"

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return _unary_data(math.acos, np.arccos, a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return -(grad * power(1.0 - a * a, -0.5))


class Arctan(Primitive):
    name = "arctan"
    caption = "d arctan(a)/da = 1 / (1 + a ** 2)"
    summary = "inverse tangent"

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return _unary_data(math.atan, np.arctan, a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return div(grad, 1.0 + a * a)


class Sinh(Primitive):
    name = "sinh"
    caption = "d sinh(a)/da = cosh(a)"
    summary = "hyperbolic sine"

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return sinh(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * cosh(a)


class Cosh(Primitive):
    name = "cosh"
    caption = "d cosh(a)/da = sinh(a)"
    summary = "hyperbolic cosine"

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return cosh(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * sinh(a)


class Log1p(Primitive):
    """log(1 + a), accurate for tiny a (where 1 + a rounds to 1)."""

    name = "log1p"
    caption = "d log1p(a)/da = 1 / (1 + a)"
    summary = "log(1 + x), accurate near 0"

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return _unary_data(math.log1p, np.log1p, a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return div(grad, 1.0 + a)


class Expm1(Primitive):
    """exp(a) - 1, accurate for tiny a."""

    name = "expm1"
    caption = "d expm1(a)/da = exp(a) = out + 1"
    summary = "exp(x) - 1, accurate near 0"

    @staticmethod
    def forward(ctx, a):
        out = expm1(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * (out + 1.0)


class Erf(Primitive):
    """The error function erf(a) = 2/√π ∫_0^a exp(-t²) dt (the exact GELU uses it)."""

    name = "erf"
    caption = "d erf(a)/da = 2 / sqrt(pi) * exp(-a ** 2)"
    summary = "the error function"

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        if type(a) is float:
            return math.erf(a)
        # numpy has no erf: math.erf element by element, in float64, then a's dtype
        flat = [math.erf(v) for v in np.asarray(a, dtype=np.float64).reshape(-1).tolist()]
        return _canonical(np.array(flat, dtype=np.float64).reshape(np.shape(a)).astype(a.dtype))

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * (2.0 / math.sqrt(math.pi)) * exp(-(a * a))


class _Flat(Primitive):
    """A piecewise-constant function: its derivative is 0 wherever it exists (and taken to
    be 0 at the jumps too, as in PyTorch).  Not registered itself; each subclass is."""

    complex_unsafe = "is piecewise constant (it compares its input with thresholds)"

    @staticmethod
    def forward(ctx, a):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, grad):
        return zeros_like(grad)


class Sign(_Flat):
    """-1, 0 or +1; sign(NaN) is 0, as PyTorch's."""

    name = "sign"
    caption = "d sign(a)/da = 0 (0 at a = 0 too, where it jumps)"
    summary = "-1, 0 or +1 (gradient 0)"

    @staticmethod
    def forward(ctx, a):
        if type(a) is float:
            return float((a > 0) - (a < 0))
        return ((a > 0).astype(a.dtype) - (a < 0)).astype(a.dtype, copy=False)


class Floor(_Flat):
    name = "floor"
    caption = "d floor(a)/da = 0 (taken to be 0 at the integers too)"
    summary = "round down (gradient 0)"

    @staticmethod
    def forward(ctx, a):
        return _canonical(np.floor(a))


class Ceil(_Flat):
    name = "ceil"
    caption = "d ceil(a)/da = 0 (taken to be 0 at the integers too)"
    summary = "round up (gradient 0)"

    @staticmethod
    def forward(ctx, a):
        return _canonical(np.ceil(a))


class Round(_Flat):
    """Rounds halves to the even neighbour (2.5 -> 2), as numpy and PyTorch do."""

    name = "round"
    caption = "d round(a)/da = 0 (taken to be 0 at the halves too)"
    summary = "round to the nearest integer, halves to even (gradient 0)"

    @staticmethod
    def forward(ctx, a):
        return _canonical(np.round(a))


class LogAddExp(Primitive):
    """log(exp(a) + exp(b)) without overflow.

    d/da = exp(a - out) = σ(a - b) and d/db = σ(b - a): the softmax of (a, b).  Written
    with σ rather than exp(a - out), whose second derivative loses float32 precision to
    the cancellation in 1 - exp(a - out).
    """

    name = "logaddexp"
    caption = "d/da = sigmoid(a - b), d/db = sigmoid(b - a): the softmax of (a, b)"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _canonical(np.logaddexp(a, b))

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return grad * sigmoid(a - b), grad * sigmoid(b - a)


class Clip(Primitive):
    """a limited to [low, high] (either bound may be None).

    The derivative is 1 where low <= a <= high, bounds included, and 0 outside: PyTorch's
    choice for ``clamp``.  NaN stays NaN and gets gradient 0.
    """

    name = "clip"
    caption = "d clip(a, low, high)/da = 1 where low <= a <= high (bounds included), else 0"
    complex_unsafe = "compares its input with the bounds"

    @staticmethod
    def branch(node):
        return node.inside

    @staticmethod
    def forward(ctx, a, low=None, high=None):
        ctx.low, ctx.high = low, high
        lo = -np.inf if low is None else low
        hi = np.inf if high is None else high
        if type(a) is float:
            ctx.inside = lo <= a <= hi
            return a if a != a else min(max(a, lo), hi)  # NaN stays NaN
        ctx.inside = (a >= lo) & (a <= hi)
        return _canonical(np.clip(a, lo, hi).astype(a.dtype, copy=False))

    @staticmethod
    def backward(ctx, grad):
        return select(ctx.inside, grad, 0.0)


class _Extremum(Primitive):
    """Elementwise maximum or minimum of two inputs.  Where they tie, each receives half
    of the gradient (PyTorch's rule); where one is NaN, both receive all of it."""

    complex_unsafe = "compares its two inputs"

    @staticmethod
    def branch(node):
        return node.shares

    @staticmethod
    def backward(ctx, grad):
        share_a, share_b = ctx.shares
        return grad * share_a, grad * share_b

    @staticmethod
    def _shares(ctx, a, b, a_loses, b_loses):
        tie = 0.5 * (np.asarray(a) == b)
        dtype = np.result_type(a, b)
        ctx.shares = (
            _canonical((1.0 - a_loses - tie).astype(dtype)),
            _canonical((1.0 - b_loses - tie).astype(dtype)),
        )


class Maximum(_Extremum):
    name = "maximum"
    caption = "the gradient goes to the larger input; ties give each half"

    @staticmethod
    def forward(ctx, a, b):
        _Extremum._shares(ctx, a, b, np.asarray(a) < b, np.asarray(a) > b)
        return _canonical(np.maximum(a, b))


class Minimum(_Extremum):
    name = "minimum"
    caption = "the gradient goes to the smaller input; ties give each half"

    @staticmethod
    def forward(ctx, a, b):
        _Extremum._shares(ctx, a, b, np.asarray(a) > b, np.asarray(a) < b)
        return _canonical(np.minimum(a, b))


# ---------------------------------------------------------------------------- running products
# ``axis`` is a non-negative int here (the Value methods normalise it, and flatten for
# axis=None).  Rules move that axis last (``_to_last``), work on rows, and move it back.


def _to_last(x: Any, axis: int) -> Any:
    ndim = np.ndim(data_of(x))
    if axis == ndim - 1:
        return x
    order = tuple(i for i in range(ndim) if i != axis) + (axis,)
    return transpose(x, order)


def _from_last(x: Any, axis: int) -> Any:
    ndim = np.ndim(data_of(x))
    if axis == ndim - 1:
        return x
    order = tuple(i for i in range(ndim) if i != axis) + (axis,)
    return transpose(x, tuple(int(i) for i in np.argsort(order)))


def _reversed(x: Any, axis: int) -> Any:
    """x read backwards along ``axis`` (a view of an array; a getitem node of a Value)."""
    return x[(slice(None),) * axis + (slice(None, None, -1),)]


def _others_excluded(x: Any, n: int) -> Any:
    """(..., n) -> (..., n, n): row i is x with its element i replaced by 1."""
    shape = np.shape(data_of(x))
    rows = broadcast_to(reshape(x, shape[:-1] + (1, n)), shape[:-1] + (n, n))
    return select(np.eye(n, dtype=bool), 1.0, rows)


class Prod(Primitive):
    """The product of the elements along ``axis`` (an int, or None for a 0-d or 1-d input).

    d/dx_i = the product of the other elements, computed without dividing (so an input
    holding zeros gets the right gradient, as in PyTorch): from running products from
    the left and from the right.
    """

    name = "prod"
    caption = "d prod(a)/da_i = the product of the other elements"

    @staticmethod
    def forward(ctx, a, axis=None, keepdims=False):
        ctx.in_shape, ctx.axis, ctx.keepdims = np.shape(a), axis, keepdims
        if type(a) is float or np.ndim(a) == 0:
            return a
        ctx.save_for_backward(a)
        return _canonical(np.prod(a, axis=axis, keepdims=keepdims))

    @staticmethod
    def backward(ctx, grad):
        if not ctx.in_shape:
            return grad
        (a,) = ctx.saved_tensors
        axis = 0 if ctx.axis is None else ctx.axis
        n = ctx.in_shape[axis]
        if n == 0:  # the empty product is 1, a constant
            return zeros_like(a)
        rows = _to_last(a, axis)
        if isinstance(rows, Value):  # create_graph: the products of the others, recorded
            others = Prod.apply(_others_excluded(rows, n), axis=rows.ndim)
        else:
            ones = np.ones(rows.shape[:-1] + (1,), dtype=rows.dtype)
            left = np.cumprod(np.concatenate([ones, rows[..., :-1]], axis=-1), axis=-1)
            right = np.cumprod(np.concatenate([ones, rows[..., :0:-1]], axis=-1), axis=-1)
            others = left * right[..., ::-1]
        if not ctx.keepdims:
            grad = reshape(grad, _keepdims_shape(ctx.in_shape, ctx.axis))
        return grad * _from_last(others, axis)


class Cumsum(Primitive):
    """Running sums along ``axis``: out_j = Σ_{i<=j} a_i; d/da_i = Σ_{j>=i} grad_j."""

    name = "cumsum"
    caption = "each element receives the sum of the gradients of the running sums it is in"

    @staticmethod
    def forward(ctx, a, axis=0):
        ctx.axis = axis
        if type(a) is float or np.ndim(a) == 0:
            return a
        return np.cumsum(a, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        if np.ndim(data_of(grad)) == 0:
            return grad
        return _reversed(cumsum(_reversed(grad, ctx.axis), ctx.axis), ctx.axis)


class Cumprod(Primitive):
    """Running products along ``axis``: out_j = Π_{i<=j} a_i.

    d/da_i = Σ_{j>=i} grad_j · out_j / a_i where no element is 0 (or tiny); with zeros, the
    product of the others is formed explicitly (n² numbers per row), so zeros get the
    right gradient, as in PyTorch.
    """

    name = "cumprod"
    caption = "d out_j/da_i = the product of a_0..a_j without a_i, for i <= j"

    @staticmethod
    def forward(ctx, a, axis=0):
        ctx.axis = axis
        if type(a) is float or np.ndim(a) == 0:
            return a
        out = np.cumprod(a, axis=axis)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        if np.ndim(data_of(grad)) == 0:
            return grad
        a, out = ctx.saved_tensors
        axis = ctx.axis
        values = data_of(a)
        # Dividing by a_i is exact enough unless some a_i is 0 or so tiny that products
        # with it lose their digits (subnormals); then the division-free table.
        if np.all(np.abs(values) >= np.sqrt(np.finfo(values.dtype).tiny)):
            weighted = _reversed(cumsum(_reversed(grad * out, axis), axis), axis)
            return weighted / a
        rows, g = _to_last(a, axis), _to_last(grad, axis)
        n = np.shape(data_of(rows))[-1]
        # products[..., i, j] = Π_{k<=j, k!=i} a_k; only j >= i counts
        products = cumprod(_others_excluded(rows, n), np.ndim(data_of(rows)))
        later = np.triu(np.ones((n, n), dtype=bool))
        shape = np.shape(data_of(g))
        terms = select(later, products * reshape(g, shape[:-1] + (1, n)), 0.0)
        return _from_last(terms.sum(axis=len(shape)), axis)


class LogCumSumExp(Primitive):
    """Running logsumexp along ``axis``: out_j = log Σ_{i<=j} exp(a_i), without overflow.

    d/da_i = Σ_{j>=i} grad_j · exp(a_i - out_j), each factor at most 1 (out_j >= a_i);
    formed as an n x n table per row.
    """

    name = "logcumsumexp"
    caption = "d out_j/da_i = exp(a_i - out_j) for i <= j (the softmax of a_0..a_j)"

    @staticmethod
    def forward(ctx, a, axis=0):
        ctx.axis = axis
        if type(a) is float or np.ndim(a) == 0:
            return a
        out = np.logaddexp.accumulate(a, axis=axis)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        if np.ndim(data_of(grad)) == 0:
            return grad
        a, out = ctx.saved_tensors
        rows, totals, g = (_to_last(t, ctx.axis) for t in (a, out, grad))
        shape = np.shape(data_of(rows))
        n = shape[-1]
        gaps = reshape(rows, shape + (1,)) - reshape(totals, shape[:-1] + (1, n))
        later = np.triu(np.ones((n, n), dtype=bool))  # [i, j]: j >= i
        weights = exp(select(later, gaps, -np.inf))
        terms = weights * reshape(g, shape[:-1] + (1, n))
        return _from_last(terms.sum(axis=len(shape)), ctx.axis)


def _drop_axis(x: Any, axis: int) -> tuple:
    shape = list(np.shape(data_of(x)))
    del shape[axis]
    return tuple(shape)


# ============================================================================ n-ary helpers


def concat(values: Any, axis: int = 0) -> Value:
    """Join Values (or arrays) along an existing axis, like ``numpy.concatenate``."""
    values = [as_value(v) for v in values]
    if not values:
        raise ValueError("concat needs at least one Value")
    ndim = values[0].ndim
    if ndim == 0:
        raise ValueError("concat: scalars have no axis to join along; use stack")
    return Concat.apply(*values, axis=_normalize_axis(axis, ndim, "concat"))


def stack(values: Any, axis: int = 0) -> Value:
    """Join Values (or arrays) of one shape along a new axis, like ``numpy.stack``."""
    values = [as_value(v) for v in values]
    if not values:
        raise ValueError("stack needs at least one Value")
    shapes = {v.shape for v in values}
    if len(shapes) > 1:
        raise ValueError(f"stack: all Values must have the same shape, got {sorted(shapes)}")
    shape = values[0].shape
    axis = _normalize_axis(axis, len(shape) + 1, "stack") % (len(shape) + 1)
    expanded = shape[:axis] + (1,) + shape[axis:]
    return Concat.apply(*[v.reshape(expanded) for v in values], axis=axis)


def where(condition: Any, x: Any, y: Any) -> Value:
    """Like ``numpy.where``: ``x`` where ``condition`` holds, else ``y``; differentiable in
    ``x`` and ``y`` (either may be a Value, an array or a number), not in the condition."""
    return Where.apply(as_value(x), as_value(y), condition=np.asarray(data_of(condition), bool))


def _bound(value: Any, op: str, which: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        raise TypeError(f"{op}: {which} must be a number or None, got {type(value).__name__}")
    value = float(value)
    if value != value:
        raise ValueError(f"{op}: {which} is NaN; give a number or None")
    return value


def clip(x: Any, min: float | None = None, max: float | None = None) -> Value:
    """x limited to [min, max], elementwise; either bound may be None (but not both).

    d/dx is 1 where min <= x <= max (bounds included, as PyTorch's ``clamp``) and 0
    outside.  When min > max every element becomes max, as in numpy and PyTorch.
    """
    low, high = _bound(min, "clip", "min"), _bound(max, "clip", "max")
    if low is None and high is None:
        raise ValueError("clip: give min, max or both (with neither, nothing is clipped)")
    return Clip.apply(as_value(x), low=low, high=high)


def maximum(a: Any, b: Any) -> Value:
    """The larger of a and b, elementwise (broadcasting).  Where they are equal each gets
    half of the gradient, as in PyTorch; where one is NaN the result is NaN."""
    return Maximum.apply(as_value(a), as_value(b))


def minimum(a: Any, b: Any) -> Value:
    """The smaller of a and b, elementwise (broadcasting); ties share the gradient."""
    return Minimum.apply(as_value(a), as_value(b))


def logaddexp(a: Any, b: Any) -> Value:
    """log(exp(a) + exp(b)), elementwise (broadcasting), without overflow."""
    return LogAddExp.apply(as_value(a), as_value(b))


def _drop_axes(shape: tuple, axes: Any) -> tuple:
    """The shape a reduction over ``axes`` (None, an int or a tuple) has without keepdims."""
    if axes is None:
        return ()
    dropped = {axes} if isinstance(axes, int) else set(axes)
    return tuple(n for i, n in enumerate(shape) if i not in dropped)


# ============================================================================ convolution
# Images are NCHW (batch, channels, height, width) and convolution weights OIHW (output
# channels, input channels per group, kernel height, kernel width), as in PyTorch.
#
# Three linear operations close the table under differentiation:
#
#   conv2d(x, w)            y[n,o,p,q] = Σ_{c,i,j} x_pad[n, c, p·s + i·d, q·s + j·d] w[o, c, i, j]
#   conv_transpose2d(g, w)  its adjoint in x: each output's g spread back over its window
#   conv2d_weight(x, g)     its adjoint in w: Σ over batch and positions of x's window · g
#
# The derivative of each one is one of the three others, so every rule below is written
# with the three helpers ``_conv``, ``_conv_transpose`` and ``_conv_weight``: on plain data
# they compute with numpy; on Values (``create_graph=True``) they record nodes, and second
# derivatives of a convolutional network work.  Each is a matrix product with the
# unfolded input (im2col): no Python loop over positions or channels, only, in the
# adjoint "fold", a loop over the kh·kw kernel offsets.

_as_strided = np.lib.stride_tricks.as_strided


class ConvGeometry(tuple):
    """(kernel, stride, padding, dilation, groups) of a 2-d convolution, each spatial one a
    pair (height, width): one hashable object shared by a convolution and its adjoints."""

    __slots__ = ()

    def __new__(cls, kernel: tuple, stride: tuple, padding: tuple, dilation: tuple, groups: int):
        return super().__new__(cls, (kernel, stride, padding, dilation, groups))

    kernel = property(lambda self: self[0])
    stride = property(lambda self: self[1])
    padding = property(lambda self: self[2])
    dilation = property(lambda self: self[3])
    groups = property(lambda self: self[4])

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        """(OH, OW), with OH = (H + 2·pad - dil·(k - 1) - 1) // stride + 1."""
        return tuple(  # type: ignore[return-value]
            (n + 2 * p - d * (k - 1) - 1) // s + 1
            for n, k, s, p, d in zip(
                (height, width), self.kernel, self.stride, self.padding, self.dilation
            )
        )


def _windows(x: np.ndarray, geometry: ConvGeometry, pad_value: float = 0.0) -> np.ndarray:
    """A read-only view (N, C, kh, kw, OH, OW) of x (N, C, H, W), padded with ``pad_value``:
    element [n, c, i, j, p, q] is x_pad[n, c, p·s_h + i·d_h, q·s_w + j·d_w].  No copy of
    the windows is made (only of the padded image when there is padding)."""
    (ph, pw), (sh, sw), (dh, dw) = geometry.padding, geometry.stride, geometry.dilation
    if ph or pw:  # (np.pad, slower on small arrays, computes the same)
        n, c, h, w = x.shape
        padded = np.full((n, c, h + 2 * ph, w + 2 * pw), pad_value, dtype=x.dtype)
        padded[:, :, ph : ph + h, pw : pw + w] = x
        x = padded
    oh, ow = geometry.output_size(x.shape[2] - 2 * ph, x.shape[3] - 2 * pw)
    n_str, c_str, h_str, w_str = x.strides
    shape = x.shape[:2] + geometry.kernel + (oh, ow)
    strides = (n_str, c_str, h_str * dh, w_str * dw, h_str * sh, w_str * sw)
    return _as_strided(x, shape, strides, writeable=False)


# The unfolded input is laid out (C, kh, kw, OH, OW, N): the batch is the innermost axis,
# so that im2col and col2im move runs of OW·N contiguous numbers instead of runs of OW
# (numpy's strided copies cost per run; with 4x4 feature maps, runs of 4 made col2im five
# times slower).  Images are handled as (C, H, W, N) internally, and the outputs are
# (N, C, H, W) views of that memory: numpy's elementwise operations keep the layout, so
# the next convolution finds its input already in the order it wants.


def _batch_last(x: np.ndarray) -> np.ndarray:
    """(N, C, H, W) -> (C, H, W, N) in contiguous memory (a view if it already is)."""
    return np.ascontiguousarray(x.transpose(1, 2, 3, 0))


def _unfold_data(x: np.ndarray, geometry: ConvGeometry, size: Any = None) -> np.ndarray:
    """im2col: the windows of x (N, C, H, W) as a contiguous array (C, kh, kw, OH, OW, N),
    so that ``reshape(C·kh·kw, OH·OW·N)`` is the matrix every convolution product uses.
    ``size`` (OH, OW) keeps only the first windows: a transposed convolution's
    output_padding adds rows and columns that no window of the forward convolution read."""
    (ph, pw), (sh, sw), (dh, dw) = geometry.padding, geometry.stride, geometry.dilation
    n, c, h, w = x.shape
    if ph or pw:  # padded and put batch-last in one copy
        image = np.zeros((c, h + 2 * ph, w + 2 * pw, n), dtype=x.dtype)
        image[:, ph : ph + h, pw : pw + w] = x.transpose(1, 2, 3, 0)
    else:
        image = _batch_last(x)
    oh, ow = size or geometry.output_size(h, w)
    c_str, h_str, w_str, n_str = image.strides
    windows = _as_strided(
        image,
        (c,) + geometry.kernel + (oh, ow, n),
        (c_str, h_str * dh, w_str * dw, h_str * sh, w_str * sw, n_str),
        writeable=False,
    )
    return np.ascontiguousarray(windows)


def _fold_data(cols: np.ndarray, x_shape: tuple, geometry: ConvGeometry) -> np.ndarray:
    """col2im, the adjoint of ``_unfold_data``: cols (C, kh, kw, OH, OW, N) summed back to
    an image (N, C, H, W) (a view of (C, H, W, N) memory); an input pixel in several
    windows receives the sum.  One strided addition per kernel offset (kh·kw of them)."""
    n, c, h, w = x_shape
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = geometry[:4]
    oh, ow = cols.shape[3:5]
    out = np.zeros((c, h + 2 * ph, w + 2 * pw, n), dtype=cols.dtype)
    for i in range(kh):
        rows = slice(i * dh, i * dh + sh * (oh - 1) + 1, sh)
        for j in range(kw):
            out[:, rows, j * dw : j * dw + sw * (ow - 1) + 1 : sw] += cols[:, i, j]
    return out[:, ph : ph + h, pw : pw + w].transpose(3, 0, 1, 2)


def _grouped(cols: np.ndarray, groups: int) -> np.ndarray:
    """(C, kh, kw, OH, OW, N) -> (G, C/G·kh·kw, OH·OW·N): one matrix per group (a view)."""
    c, kh, kw, oh, ow, n = cols.shape
    return cols.reshape(groups, (c // groups) * kh * kw, oh * ow * n)


def _products(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """One matrix product per group, (G, m, k) @ (G, k, n); a plain 2-d product for one
    group (numpy's stacked matmul is slower on large single matrices)."""
    if a.shape[0] == 1:
        return np.matmul(a[0], b[0])[None]
    return np.matmul(a, b)


def _conv_data(x: np.ndarray, w: np.ndarray, geometry: ConvGeometry, cols: Any = None) -> Any:
    """conv2d on arrays: (output (N, O, OH, OW), the unfolded input)."""
    if cols is None:
        cols = _unfold_data(x, geometry)
    groups, o = geometry.groups, w.shape[0]
    out = _products(w.reshape(groups, o // groups, -1), _grouped(cols, groups))  # (G, O/G, L)
    return out.reshape((o,) + cols.shape[3:]).transpose(3, 0, 1, 2), cols


def _grad_matrix(g: np.ndarray, groups: int) -> np.ndarray:
    """An output-shaped gradient (N, O, OH, OW) as (G, O/G, OH·OW·N)."""
    return _batch_last(g).reshape(groups, g.shape[1] // groups, -1)


def _conv_transpose_data(
    g: np.ndarray, w: np.ndarray, x_shape: tuple, geometry, g_matrix: Any = None
) -> np.ndarray:
    """The adjoint of conv2d in x: dx = fold(wᵀ · g), an image of ``x_shape``."""
    groups, (kh, kw) = geometry.groups, geometry.kernel
    if g_matrix is None:
        g_matrix = _grad_matrix(g, groups)
    w_mat = w.reshape(groups, w.shape[0] // groups, -1)  # (G, O/G, C/G·kh·kw)
    cols = _products(w_mat.transpose(0, 2, 1), g_matrix)  # (G, C/G·kk, L)
    n, _, oh, ow = g.shape
    return _fold_data(cols.reshape(x_shape[1], kh, kw, oh, ow, n), x_shape, geometry)


def _conv_weight_data(
    x: np.ndarray, g: np.ndarray, w_shape: tuple, geometry, cols=None, g_matrix: Any = None
):
    """The adjoint of conv2d in w: dw = g · unfold(x)ᵀ, summed over batch and positions."""
    if cols is None:
        cols = _unfold_data(x, geometry, g.shape[2:])
    groups = geometry.groups
    if g_matrix is None:
        g_matrix = _grad_matrix(g, groups)
    dw = _products(g_matrix, _grouped(cols, groups).transpose(0, 2, 1))
    return dw.reshape(w_shape)


def _add_channel_bias(out: np.ndarray, bias: np.ndarray) -> np.ndarray:
    if out.dtype == np.result_type(out, bias):
        out += bias.reshape(-1, 1, 1)
        return out
    return out + bias.reshape(-1, 1, 1)


def _any_value(*items: Any) -> bool:
    return any(isinstance(item, Value) for item in items)


def _conv(x: Any, w: Any, geometry: ConvGeometry, size: tuple) -> Any:
    """conv2d(x, w), cropped to ``size`` (OH, OW) (see ``_windows``)."""
    if _any_value(x, w):
        out = Conv2d.apply(as_value(x), as_value(w), geometry=geometry)
    else:
        out = _conv_data(x, w, geometry)[0]
    if out.shape[2:] != size:
        out = out[:, :, : size[0], : size[1]]
    return out


def _conv_transpose(g: Any, w: Any, x_shape: tuple, geometry: ConvGeometry) -> Any:
    if _any_value(g, w):
        return ConvTranspose2d.apply(as_value(g), as_value(w), x_shape=x_shape, geometry=geometry)
    return _conv_transpose_data(g, w, x_shape, geometry)


def _conv_weight(x: Any, g: Any, w_shape: tuple, geometry: ConvGeometry) -> Any:
    if _any_value(x, g):
        return Conv2dWeight.apply(as_value(x), as_value(g), w_shape=w_shape, geometry=geometry)
    return _conv_weight_data(x, g, w_shape, geometry)


def _channel_sum(g: Any) -> Any:
    """Σ over batch and positions of an (N, C, H, W) gradient: a per-channel bias gradient."""
    return g.sum(axis=(0, 2, 3))


class Conv2d(Primitive):
    """y = conv2d(x, w) (+ b): x (N, C, H, W), w (O, C/groups, kh, kw), b (O,) optional.

    y[n, o, p, q] = b[o] + Σ_{c, i, j} x_pad[n, c, p·s + i·d, q·s + j·d] · w[o, c, i, j]
    (c runs over the group of o).  Computed as one matrix product per group,
    w (O, C·kh·kw) @ unfold(x) (C·kh·kw, OH·OW·N).

    Backward: both gradients are convolutions again.  dx = conv_transpose2d(g, w) (the
    same weights, run backwards: each output's gradient spread over the window it read);
    dw = conv2d_weight(x, g) (x's windows correlated with g); db = Σ g over n, p, q.
    """

    name = "conv2d"
    caption = (
        "d conv2d(x, w): x receives conv_transpose2d(G, w) (the convolution run backwards), "
        "w receives conv2d_weight(x, G) (x's windows correlated with G), b the sum of G over "
        "batch and positions"
    )

    @staticmethod
    def forward(ctx, x, w, *bias, geometry):
        out, cols = _conv_data(x, w, geometry)
        ctx.save_for_backward(x, w)
        ctx.geometry, ctx.cols, ctx.x_shape, ctx.w_shape = geometry, cols, x.shape, w.shape
        return _add_channel_bias(out, bias[0]) if bias else out

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors[:2]
        need = ctx.needs_input_grad
        geometry = ctx.geometry
        if isinstance(grad, Value):  # create_graph: the rules as nodes of the table
            grad_x = _conv_transpose(grad, w, ctx.x_shape, geometry) if need[0] else None
            grad_w = _conv_weight(x, grad, ctx.w_shape, geometry) if need[1] else None
        else:  # the same two products on arrays, sharing g's matrix and the saved im2col
            g_matrix = _grad_matrix(grad, geometry.groups)
            grad_x = grad_w = None
            if need[0]:
                grad_x = _conv_transpose_data(grad, w, ctx.x_shape, geometry, g_matrix)
            if need[1]:
                grad_w = _conv_weight_data(x, grad, ctx.w_shape, geometry, ctx.cols, g_matrix)
        if len(need) == 2:
            return grad_x, grad_w
        return grad_x, grad_w, (_channel_sum(grad) if need[2] else None)


class ConvTranspose2d(Primitive):
    """dx = conv_transpose2d(g, w) (+ b): the adjoint of conv2d in its input, to an image of
    ``x_shape``; g (N, O, OH, OW), w (O, C/groups, kh, kw) -> (N, C, H, W).

    dx[n, c, h, v] = Σ over (o, i, j, p, q) with h = p·s + i·d - pad, v = q·s + j·d - pad of
    g[n, o, p, q] · w[o, c, i, j]: fold(wᵀ @ g).  As a layer it upsamples (PyTorch's
    ``conv_transpose2d``, whose weight (C_in, C_out/groups, kh, kw) is this w).

    Backward: d/dg = conv2d(G, w) (a convolution again) and d/dw = conv2d_weight(G, g).
    """

    name = "conv_transpose2d"
    caption = (
        "the adjoint of conv2d: its input receives conv2d(G, w), w receives "
        "conv2d_weight(G, input)"
    )

    @staticmethod
    def forward(ctx, g, w, *bias, x_shape, geometry):
        ctx.save_for_backward(g, w)
        ctx.geometry, ctx.g_shape, ctx.w_shape, ctx.x_shape = geometry, g.shape, w.shape, x_shape
        out = _conv_transpose_data(g, w, x_shape, geometry)
        return _add_channel_bias(out, bias[0]) if bias else out

    @staticmethod
    def backward(ctx, grad):
        g, w = ctx.saved_tensors[:2]
        need = ctx.needs_input_grad
        grad_g = _conv(grad, w, ctx.geometry, ctx.g_shape[2:]) if need[0] else None
        grad_w = _conv_weight(grad, g, ctx.w_shape, ctx.geometry) if need[1] else None
        if len(need) == 2:
            return grad_g, grad_w
        return grad_g, grad_w, (_channel_sum(grad) if need[2] else None)


class Conv2dWeight(Primitive):
    """dw = conv2d_weight(x, g): the adjoint of conv2d in its weights, of shape ``w_shape``.

    dw[o, c, i, j] = Σ_{n, p, q} x_pad[n, c, p·s + i·d, q·s + j·d] · g[n, o, p, q]: the
    correlation of the input with the output gradient, g (O, OH·OW·N) @ unfold(x)ᵀ.

    Backward: d/dx = conv_transpose2d(g, G) and d/dg = conv2d(x, G).
    """

    name = "conv2d_weight"
    caption = "x receives conv_transpose2d(g, G), g receives conv2d(x, G)"

    @staticmethod
    def forward(ctx, x, g, w_shape, geometry):
        ctx.save_for_backward(x, g)
        ctx.geometry, ctx.x_shape, ctx.g_shape, ctx.w_shape = geometry, x.shape, g.shape, w_shape
        return _conv_weight_data(x, g, w_shape, geometry)

    @staticmethod
    def backward(ctx, grad):
        x, g = ctx.saved_tensors
        need_x, need_g = ctx.needs_input_grad
        grad_x = _conv_transpose(g, grad, ctx.x_shape, ctx.geometry) if need_x else None
        grad_g = _conv(x, grad, ctx.geometry, ctx.g_shape[2:]) if need_g else None
        return grad_x, grad_g


class Unfold(Primitive):
    """im2col: x (N, C, H, W) -> (N, C·kh·kw, L), column l holding the l-th window (row
    c·kh·kw + i·kw + j is channel c at kernel offset (i, j)), L = OH·OW.  PyTorch's
    ``unfold``.  Backward: fold (the sum of each window's gradient back onto its pixels)."""

    name = "unfold"
    caption = "fold: each pixel receives the sum of the gradients of its window entries"

    @staticmethod
    def forward(ctx, x, geometry):
        ctx.geometry, ctx.x_shape = geometry, x.shape
        cols = _unfold_data(x, geometry)  # (C, kh, kw, OH, OW, N)
        n, positions = x.shape[0], cols.shape[3] * cols.shape[4]
        return np.ascontiguousarray(cols.reshape(-1, positions, n).transpose(2, 0, 1))

    @staticmethod
    def backward(ctx, grad):
        return _fold(grad, ctx.x_shape, ctx.geometry)


class Fold(Primitive):
    """col2im, the adjoint of ``Unfold``: columns (N, C·kh·kw, L) summed back into an image
    (N, C, H, W); overlapping windows add.  Backward: unfold."""

    name = "fold"
    caption = "unfold: each window entry receives its pixel's gradient"

    @staticmethod
    def forward(ctx, cols, x_shape, geometry):
        ctx.geometry, ctx.x_shape = geometry, x_shape
        n, c = x_shape[:2]
        oh, ow = geometry.output_size(*x_shape[2:])
        blocks = cols.transpose(1, 2, 0).reshape((c,) + geometry.kernel + (oh, ow, n))
        return _fold_data(blocks, x_shape, geometry)

    @staticmethod
    def backward(ctx, grad):
        return _unfold(grad, ctx.geometry)


def _unfold(x: Any, geometry: ConvGeometry) -> Any:
    if isinstance(x, Value):
        return Unfold.apply(x, geometry=geometry)
    return Unfold.forward(_new_node(), x, geometry)


def _fold(cols: Any, x_shape: tuple, geometry: ConvGeometry) -> Any:
    if isinstance(cols, Value):
        return Fold.apply(cols, x_shape=x_shape, geometry=geometry)
    return Fold.forward(_new_node(), cols, x_shape, geometry)


class MaxPool2d(Primitive):
    """y[n, c, p, q] = max over the window of x_pad (padding counts as -inf, never chosen).

    The gradient of each output goes to one input: the first maximum of its window in
    row-major order (a NaN wins, the last one), as PyTorch does; padding is skipped, so a
    window whose real pixels are all -inf sends it to its first real pixel, not to the
    padding that ties with them.  Ties are not split: in
    [[1, 1], [1, 1]] only the top-left element gets the gradient; an input that is the
    chosen maximum of several overlapping windows receives the sum.  Backward is a
    scatter of g to the chosen positions, whose own derivative is the matching gather.

    Both passes loop over the kh·kw kernel offsets, each step working on every window at
    once through a strided view of the input (no copy of the windows): forward takes a
    running ``maximum``; backward hands each output's gradient to the first offset whose
    value equals the maximum.
    """

    name = "max_pool2d"
    caption = (
        "each window's gradient goes to its first maximum (ties are not split, as in PyTorch)"
    )

    @staticmethod
    def forward(ctx, x, geometry):
        windows = _windows(x, geometry, pad_value=-np.inf)  # (N, C, kh, kw, OH, OW)
        kh, kw = geometry.kernel
        out = windows[:, :, 0, 0].copy(order="K")  # keeps the input's memory layout
        for k in range(1, kh * kw):
            np.maximum(out, windows[:, :, k // kw, k % kw], out=out)  # NaN propagates
        ctx.geometry, ctx.x_shape, ctx.windows = geometry, x.shape, windows
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        geometry, x_shape, windows = ctx.geometry, ctx.x_shape, ctx.windows
        out = data_of(ctx.saved_tensors[0])
        n, c, h, w = x_shape
        (kh, kw), (sh, sw), (ph, pw), (dh, dw) = geometry[:4]
        oh, ow = out.shape[2:]
        real = None  # the padding (-inf) ties with a window's maximum only when it is -inf
        if (ph or pw) and np.isneginf(out).any():
            real = _real_taps(x_shape, geometry, oh, ow)
        if isinstance(grad, Value) or np.isnan(out).any():
            choice = _pool_choice(windows, out, real)
            if isinstance(grad, Value):  # create_graph: scatter by flat index, differentiable
                return _pool_scatter(grad, choice, x_shape, geometry)
            hits = [choice == k for k in range(windows.shape[2] * windows.shape[3])]
        else:
            hits = _first_hits(windows, out, real)
        tiled = (sh, sw) == (kh, kw) and (dh, dw) == (1, 1) and (h, w) == (oh * kh, ow * kw)
        disjoint = sh >= dh * (kh - 1) + 1 and sw >= dw * (kw - 1) + 1
        # Windows that tile the image write every pixel once: no zeros to start from.
        make = np.empty if tiled and not (ph or pw) else np.zeros
        # (C, H, W, N) memory, the layout the convolutions produce and read.
        image = make((c, h + 2 * ph, w + 2 * pw, n), dtype=grad.dtype).transpose(3, 0, 1, 2)
        zero = grad.dtype.type(0)
        for k, hit in enumerate(hits):
            i, j = divmod(k, kw)
            rows = slice(i * dh, i * dh + sh * (oh - 1) + 1, sh)
            columns = slice(j * dw, j * dw + sw * (ow - 1) + 1, sw)
            if disjoint:
                np.copyto(image[:, :, rows, columns], np.where(hit, grad, zero))
            else:
                image[:, :, rows, columns] += np.where(hit, grad, zero)
        return image[:, :, ph : ph + h, pw : pw + w] if ph or pw else image


def _real_taps(x_shape: tuple, geometry: ConvGeometry, oh: int, ow: int) -> list:
    """For each kernel offset k, an (OH, OW) mask of the windows in which offset k reads a
    pixel of the input rather than the padding."""
    h, w = x_shape[2:]
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = geometry[:4]
    rows = np.arange(oh)[:, None] * sh + np.arange(kh) * dh - ph  # (OH, kh): rows read
    columns = np.arange(ow)[:, None] * sw + np.arange(kw) * dw - pw  # (OW, kw)
    rows_in, columns_in = (rows >= 0) & (rows < h), (columns >= 0) & (columns < w)
    return [rows_in[:, k // kw, None] & columns_in[None, :, k % kw] for k in range(kh * kw)]


def _first_hits(windows: np.ndarray, out: np.ndarray, real: list | None = None) -> list:
    """For each kernel offset, where it holds its window's first maximum (no NaN); with
    ``real`` (from ``_real_taps``), offsets that read padding are never a hit."""
    kh, kw = windows.shape[2:4]
    taken = windows[:, :, 0, 0] == out
    if real is not None:
        taken &= real[0]
    hits = [taken]
    for k in range(1, kh * kw):
        hit = windows[:, :, k // kw, k % kw] == out
        if real is not None:
            hit &= real[k]
        hit &= ~taken
        taken = taken | hit
        hits.append(hit)
    return hits


def _pool_choice(windows: np.ndarray, out: np.ndarray, real: list | None = None) -> np.ndarray:
    """The kernel offset each window's gradient goes to: its first maximum (never the
    padding, given ``real``), or for a window holding NaN, its last NaN (PyTorch's rule: a
    NaN replaces the running maximum)."""
    kh, kw = windows.shape[2:4]
    choice = np.full(out.shape, -1, dtype=np.intp)
    for k, hit in enumerate(_first_hits(windows, out, real)):
        choice[hit] = k
    nan_windows = np.isnan(out)
    if nan_windows.any():
        for k in range(kh * kw):
            choice[nan_windows & np.isnan(windows[:, :, k // kw, k % kw])] = k
    return choice


def _pool_scatter(grad: Value, choice: np.ndarray, x_shape: tuple, geometry) -> Value:
    """The max-pooling backward on Values: grad[n, c, p, q] added at the flat index of the
    chosen input in the padded image, then the padding cropped."""
    n, c, h, w = x_shape
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = geometry[:4]
    hp, wp = h + 2 * ph, w + 2 * pw
    oh, ow = choice.shape[2:]
    i, j = np.divmod(choice, kw)
    rows = np.arange(oh).reshape(oh, 1) * sh + i * dh
    columns = np.arange(ow) * sw + j * dw
    planes = np.arange(n * c).reshape(n, c, 1, 1)
    index = ((planes * hp + rows) * wp + columns).reshape(-1)
    image = scatter(reshape(grad, (-1,)), index, (n * c * hp * wp,))
    return reshape(image, (n, c, hp, wp))[:, :, ph : ph + h, pw : pw + w]

