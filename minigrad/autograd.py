"""The backward pass: topological order, the chain-rule loop and gradient reduction.

Every traversal here uses an explicit stack, never recursion, so a chain of a million
operations backpropagates as easily as a chain of ten.

Reverse-mode differentiation in one paragraph: visit the nodes that lead to the output
in reverse topological order (every consumer of a node before the node itself), keep for
each node the sum of the gradient contributions its consumers sent it, and when a node's
turn comes, hand that sum to its operation's ``backward`` rule, which returns one
contribution per input.  A node used twice receives two contributions, and they add up.
"""

from __future__ import annotations

import itertools
import math
import operator
import threading
from collections.abc import Iterable, Sequence
from sys import getrefcount
from typing import Any

import numpy as np

from minigrad import anomaly
from minigrad.grad_mode import (  # noqa: F401  (also reachable here, where they were first)
    complex_data,
    enable_grad,
    is_grad_enabled,
    no_grad,
    state,
)
from minigrad.value import Value, data_of, node_ids

# ----------------------------------------------------------------------------- ordering

_traversals = itertools.count(1)

#: The stamp of the latest change to any Value's data, on the clock that numbers nodes
#: (``value.node_ids``).  A backward pass looks for stale data only when this is later
#: than its graph's oldest operation.  (A module global, not an attribute of the Value
#: class: assigning a class attribute invalidates the interpreter's caches of attribute
#: lookups on every Value.)
last_change = 0
_change_lock = threading.Lock()


def note_change(value: Value) -> None:
    """Stamp a change to ``value``'s data (``Value.data``'s setter, optimizers, loads)."""
    global last_change
    with _change_lock:  # stamps and last_change move together, in order, across threads
        last_change = value._changed = next(node_ids)


#: One backward pass (or topological sort) at a time.  A pass keeps its bookkeeping on
#: the nodes (``_pending_grad``, the gradient received so far; ``_visit``, visited), and
#: graphs built in different threads share their parameters: without the lock two passes
#: would add into each other's pending gradients.  Re-entrant, so a rule may call
#: ``grad()`` itself.
_lock = threading.RLock()


def topological_order(roots: Value | Iterable[Value]) -> list[Value]:
    """The nodes that lead to ``roots`` and require grad, consumers before their inputs.

    Nodes are numbered when they are created, and a node is always created after its
    inputs, so sorting the reachable nodes by that number, largest first, is a valid
    reverse topological order.  Finding the reachable nodes takes one pass with an
    explicit stack; the sort runs in C.

    Raises RuntimeError when the data of a node, or of an input of one, was changed after
    that node was computed (see ``Value.data``): its rule would mix old and new values.
    """
    roots = _as_tuple(roots, "topological_order")
    with _lock:
        return _order(roots)


def _order(roots: tuple) -> list[Value]:
    """``topological_order`` of a tuple of Values (the backward pass's own entry)."""
    mark = next(_traversals)
    stack = []
    for root in roots:
        if root.requires_grad and root._visit != mark:
            root._visit = mark
            stack.append(root)
    found = []
    push, pop, keep = stack.append, stack.pop, found.append
    while stack:
        node = pop()
        keep(node)
        for parent in node._parents:
            if parent._visit != mark and parent.requires_grad:
                parent._visit = mark
                push(parent)
    found.sort(key=_creation_order, reverse=True)
    if last_change > _oldest_operation(found):  # in a training loop, never: the step came first
        _check_unchanged(found)
    return found


def _oldest_operation(order: list) -> float:
    """The creation number of the earliest operation node in ``order`` (sorted newest first)."""
    for node in reversed(order):
        if node._op is not None:
            return node._created
    return math.inf


def _check_unchanged(order: list) -> None:
    """Raise if the data of a node, or of an input of one, changed after that node was
    computed: its rule would mix old and new values.  Changes are stamped on the clock that
    numbers nodes, so "after" is one comparison."""
    for node in order:
        if node._op is None:
            continue
        created = node._created
        if node._changed > created:
            raise _changed_error(node, node)
        for parent in node._parents:
            if parent._changed > created:
                raise _changed_error(parent, node)


def _changed_error(changed: Value, node: Value) -> RuntimeError:
    if changed is node:
        what = f"cannot backpropagate through {node._label()}: its own data was changed"
    else:
        what = f"cannot backpropagate through '{node.op}': its input {changed._label()} was changed"
    return RuntimeError(
        f"{what} (by an optimizer step, a loaded checkpoint or an assignment to .data) after "
        "the graph was built, so the rule would mix old and new values.  Run the forward pass "
        "again from the current data, or call backward() before changing the data (before "
        "optimizer.step())"
    )


#: The sort key of ``topological_order``; a C-level getter is cheaper than a function.
_creation_order = operator.attrgetter("_created")


def _as_tuple(values: Any, what: str) -> tuple:
    """A Value or a sequence of Values as a tuple; anything else is refused, naming ``what``."""
    if isinstance(values, Value):
        return (values,)
    if isinstance(values, (str, bytes, np.ndarray)) or not isinstance(values, Iterable):
        raise TypeError(
            f"{what} must be a Value or a sequence of Values, got {type(values).__name__}"
        )
    values = tuple(values)
    for v in values:
        if not isinstance(v, Value):
            raise TypeError(
                f"{what} must be Values, got a {type(v).__name__} among them; "
                "wrap numbers and arrays in Value(...)"
            )
    return values


# ----------------------------------------------------------------------------- reduction


def fit_gradient(grad: Any, data: Any, op_name: str, index: int) -> Any:
    """Reduce a gradient contribution to the shape and dtype of the input it belongs to.

    This is the one place where broadcasting is undone: an input that numpy broadcast
    from shape (3,) to (4, 3) contributed to every row, so its gradient is the sum over
    the rows.  Operations' backward rules never reduce on their own.
    """
    if type(grad) is not np.ndarray and not isinstance(grad, (float, np.generic)):
        if isinstance(grad, Value):
            return _fit_gradient_value(grad, data, op_name, index)
    if type(data) is float:
        if type(grad) is float:
            return grad
        if np.ndim(grad) == 0:
            return float(grad)
        return float(np.sum(grad))
    shape = data.shape
    gshape = grad.shape if type(grad) is np.ndarray else np.shape(grad)
    if gshape != shape:
        grad = np.asarray(grad)
        axes = _broadcast_axes(gshape, shape)
        if axes is None:
            raise ValueError(
                f"{op_name}.backward returned a gradient of shape {gshape} for input {index}, "
                f"whose shape is {shape}; the gradient must have the input's shape "
                f"(or a shape the input was broadcast to)"
            )
        grad = grad.sum(axis=axes, keepdims=True).reshape(shape) if axes else grad.reshape(shape)
    dtype = data.dtype
    if getattr(grad, "dtype", None) != dtype:
        grad = np.asarray(grad, dtype=dtype) if shape else dtype.type(grad)
    return grad


def _fit_gradient_value(grad: Value, data: Any, op_name: str, index: int) -> Value:
    """``fit_gradient`` for create_graph mode: the reduction is itself recorded."""
    shape = np.shape(data)
    if grad.shape != shape:
        axes = _broadcast_axes(grad.shape, shape)
        if axes is None:
            raise ValueError(
                f"{op_name}.backward returned a gradient of shape {grad.shape} for input "
                f"{index}, whose shape is {shape}"
            )
        grad = grad.sum(axis=axes, keepdims=True).reshape(*shape) if axes else grad.reshape(*shape)
    return grad


def _broadcast_axes(gshape: tuple, shape: tuple) -> tuple | None:
    """The axes of ``gshape`` to sum so that it becomes ``shape``; None if it cannot."""
    extra = len(gshape) - len(shape)
    if extra < 0:
        return None
    axes = list(range(extra))
    for i, (g, s) in enumerate(zip(gshape[extra:], shape)):
        if g != s:
            if s != 1:
                return None
            axes.append(extra + i)
    return tuple(axes)


# ----------------------------------------------------------------------------- backward


#: What a backward pass stores in ``.grad``: nothing (``grad()``), the leaves' gradients,
#: or every node's.
STORE_NONE, STORE_LEAVES, STORE_ALL = 0, 1, 2


def backward(
    root: Value, gradient: Any = None, create_graph: bool = False, intermediate_grads: bool = True
) -> None:
    """Accumulate d(root)/d(node) into ``node.grad`` for every node that leads to ``root``
    (with ``intermediate_grads=False``, for the leaves only)."""
    seed = initial_gradient(root, gradient, create_graph)
    with _lock:
        order = _order((root,))
        root._pending_grad = seed
        _run(order, create_graph, STORE_ALL if intermediate_grads else STORE_LEAVES)


def grad(
    outputs: Value | Sequence[Value],
    inputs: Value | Sequence[Value],
    grad_outputs: Any = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> Any:
    """Return d(outputs)/d(inputs) without touching any ``.grad``.

    ``outputs`` and ``inputs`` are a Value or a sequence of Values; ``grad_outputs`` gives
    the gradient to start from for each output (needed for non-scalar outputs).  With
    ``create_graph=True`` the returned gradients are Values recorded in the graph, so they
    can be differentiated again.  An input the outputs do not depend on raises, unless
    ``allow_unused=True``, in which case its gradient is None.  An input listed twice gets
    its gradient at both positions, each an array of its own.
    """
    outputs = _as_tuple(outputs, "grad: the outputs")
    single = not isinstance(inputs, (list, tuple))
    inputs = _as_tuple(inputs, "grad: the inputs")
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    elif not isinstance(grad_outputs, (list, tuple)):
        grad_outputs = (grad_outputs,)
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad_outputs has {len(grad_outputs)} entries for {len(outputs)} outputs")
    for i, x in enumerate(inputs):
        if not x.requires_grad:
            raise ValueError(
                f"input {i} ({x._label()}) does not require grad, so it has no gradient; "
                "create it with requires_grad=True"
            )
    seeds = [initial_gradient(out, g, create_graph) for out, g in zip(outputs, grad_outputs)]
    wanted: dict = {}
    for i, x in enumerate(inputs):
        wanted.setdefault(id(x), []).append(i)
    results: list = [None] * len(inputs)
    with _lock:
        order = _order(outputs)
        for out, seed in zip(outputs, seeds):
            out._pending_grad = seed if out._pending_grad is None else out._pending_grad + seed
        _run(order, create_graph, STORE_NONE, capture=(wanted, results))
    for i, x in enumerate(inputs):
        if results[i] is None and not allow_unused:
            raise ValueError(
                f"input {i} ({x._label()}) is not used to compute the outputs; "
                "pass allow_unused=True to get None for it"
            )
    return results[0] if single else tuple(results)


def initial_gradient(root: Value, gradient: Any = None, create_graph: bool = False) -> Any:
    """The gradient a backward pass from ``root`` starts from: d(root)/d(root), or the
    ``gradient`` given for a non-scalar root (checked, and copied: the caller's array never
    becomes a node's ``.grad``).  A Value with ``create_graph=True``."""
    if not root.requires_grad:
        raise RuntimeError(
            f"{root._label()} does not require grad: it was computed from Values that all have "
            "requires_grad=False, or inside no_grad(); there is no graph to backpropagate through"
        )
    data = root.data
    shape = () if type(data) is float else data.shape
    if gradient is None:
        if shape != ():
            raise RuntimeError(
                f"backward() on a non-scalar Value of shape {shape} needs a gradient argument "
                f"of that shape (for example root.backward(numpy.ones({shape}))), "
                "or reduce it first with .sum() or .mean()"
            )
        seed = 1.0 if type(data) is float else data.dtype.type(1)
    else:
        if isinstance(gradient, Value):
            gradient = gradient if create_graph else gradient.data
        gshape = np.shape(data_of(gradient))
        if gshape != shape:
            raise ValueError(
                f"the gradient passed to backward has shape {gshape}, "
                f"but the Value has shape {shape}"
            )
        if isinstance(gradient, Value):
            return gradient
        given = np.asarray(gradient)
        if given.dtype.kind not in "biuf":
            raise TypeError(
                f"the gradient passed to backward must hold numbers, got an array of dtype "
                f"{given.dtype} (a None, a string or a Value among the numbers?)"
            )
        # A copy, always: the caller's array must never become some node's .grad.
        seed = fit_gradient(np.array(given, dtype=np.result_type(data)), data, "backward", 0)
    if create_graph:
        return Value(seed, requires_grad=False)
    return seed


def _run(order: list, create_graph: bool, store: int, capture: tuple | None = None) -> None:
    """The chain-rule loop over ``order`` (reverse topological), seeds already placed."""
    try:
        _chain_rule(order, create_graph, store, capture)
    except BaseException:
        for node in order:  # leave no half-accumulated gradient behind for the next pass
            node._pending_grad = None
        raise


def _chain_rule(order: list, create_graph: bool, store: int, capture: tuple | None) -> None:
    if capture is not None:
        wanted, results = capture
    checking = state.anomaly  # read once: the thread-local lookup is not free
    for node in order:
        g = node._pending_grad
        if g is None:  # nothing reached this node (every path to it was cut)
            continue
        node._pending_grad = None
        op = node._op
        if store == STORE_ALL or (store and op is None):
            stored = node._grad
            if stored is not None:
                node._grad = stored + g  # a new array (or node): nothing else has it
            elif create_graph:
                # A Value: add hands one to both of its inputs, the seed is the caller's,
                # and in-place arithmetic inside no_grad() changes a Value's data; a
                # clone, as PyTorch stores (its .grad then shows a copy node).
                node._grad = g.clone()
            else:
                # Stored as it comes, though the rule below may hand this very array to
                # an input (add does): reading .grad makes it the node's own (own_grad),
                # by then usually without a copy.
                node._grad = g
        elif capture is not None and id(node) in wanted:
            for position in wanted[id(node)]:  # each an array (or Value) of its own
                if create_graph:
                    results[position] = g.clone()
                else:
                    results[position] = _own(g) if type(g) is np.ndarray else g
        if op is None:
            continue
        if checking:  # anomaly mode: look at the contributions before they are added
            sent = local_gradients(node, g, create_graph)
            anomaly.check_backward(node, g, sent)
            for parent, contribution in zip(node._parents, sent):
                if contribution is not None:
                    _add_pending(parent, contribution)
        else:
            _backpropagate(node, g, create_graph)


def local_gradients(node: Value, grad: Any, create_graph: bool = False) -> tuple:
    """One step of the chain rule: what ``node``'s rule sends each of its inputs when
    ``grad`` arrives, each reduced to its input's shape and dtype (``fit_gradient``), or
    None for an input that gets nothing (a constant, or None from the rule).

    The pictures and gradcheck's ``localize`` take a node's step here, and the backward
    pass takes the same step (``_backpropagate``: the same calls, fused with adding the
    results up), so a rule's mistake (too few gradients, one of the wrong shape) raises
    the same error wherever it shows.  With ``create_graph=True``, ``grad`` is a Value and
    the rule records its own arithmetic.  Nothing in the graph is changed.
    """
    grads = _rule(node, grad, create_graph)
    op = node._op
    return tuple(
        None if g is None or not parent.requires_grad else _reduced(g, parent._data, op, i)
        for i, (parent, g) in enumerate(zip(node._parents, grads))
    )


def _rule(node: Value, grad: Any, create_graph: bool) -> tuple:
    """Call the node's backward rule: one gradient (or None) per input, as a tuple."""
    op = node._op
    grads = op._backward_graph(node, grad) if create_graph else op.backward(node, grad)
    if type(grads) is not tuple:
        grads = (grads,)
    if len(grads) != len(node._parents):
        raise RuntimeError(
            f"{op.__name__}.backward returned {len(grads)} gradients for "
            f"{len(node._parents)} inputs"
        )
    return grads


def _reduced(grad: Any, data: Any, op: type, index: int) -> Any:
    """``grad`` reduced to the shape and dtype of the input whose data is ``data``:
    ``fit_gradient``, skipped when it is already a float for a float or an array of the
    input's shape and dtype."""
    kind = type(grad)
    if kind is not type(data) or (
        kind is not float and (grad.shape != data.shape or grad.dtype != data.dtype)
    ):
        return fit_gradient(grad, data, op.__name__, index)
    return grad


def _backpropagate(node: Value, grad: Any, create_graph: bool) -> None:
    """The backward pass's step at ``node``: ``local_gradients``, each contribution added
    to what its input has received so far.

    The first two inputs are written out, with ``_reduced``'s test inline: this runs once
    per node of every backward pass, most nodes have one input or two, and the loop and
    calls cost a tenth of a scalar network's backward pass (docs/performance.md).
    tests/test_nodes.py checks that the two agree.
    """
    grads = _rule(node, grad, create_graph)
    parents = node._parents
    n_inputs = len(parents)
    first = grads[0]
    if first is not None:
        parent = parents[0]
        if parent.requires_grad:
            data = parent._data
            kind = type(first)
            if kind is not type(data) or (
                kind is not float and (first.shape != data.shape or first.dtype != data.dtype)
            ):
                first = fit_gradient(first, data, node._op.__name__, 0)
            previous = parent._pending_grad
            parent._pending_grad = first if previous is None else previous + first
    if n_inputs == 1:
        return
    second = grads[1]
    if second is not None:
        parent = parents[1]
        if parent.requires_grad:
            data = parent._data
            kind = type(second)
            if kind is not type(data) or (
                kind is not float and (second.shape != data.shape or second.dtype != data.dtype)
            ):
                second = fit_gradient(second, data, node._op.__name__, 1)
            previous = parent._pending_grad
            parent._pending_grad = second if previous is None else previous + second
    if n_inputs == 2:
        return
    for index in range(2, n_inputs):
        parent, g = parents[index], grads[index]
        if g is not None and parent.requires_grad:
            _add_pending(parent, _reduced(g, parent._data, node._op, index))


def _add_pending(parent: Value, grad: Any) -> None:
    previous = parent._pending_grad
    parent._pending_grad = grad if previous is None else previous + grad


def read_only(array: np.ndarray) -> np.ndarray:
    """A read-only view of ``array``: what a user's backward rule receives as its gradient.

    The same array may also be another node's ``.grad`` or another input's contribution,
    so a rule that edited it in place (``grad *= 2``) would silently change those; with
    the view, numpy raises "assignment destination is read-only" at the faulty line.
    """
    view = array.view()
    view.flags.writeable = False
    return view


#: How many references an array has inside ``_own`` when nothing else holds it: the one
#: place the caller keeps it (a variable, or the node's slot), ``_own``'s parameter and
#: ``getrefcount``'s argument.
_OWNED = 3


def own_grad(node: Value) -> None:
    """Make the array in ``node.grad`` the node's own (see ``Value.grad``): a copy if it
    is a view, or if a rule handed the same array to another node too, or if anything else
    holds it; the array itself otherwise.

    Under the lock, so that a read in one thread cannot store a stale copy over what a
    backward pass in another thread is adding into the same gradient.
    """
    with _lock:
        if node._owns_grad:  # another thread's read got here first
            return
        node._grad = _own(node._grad)  # no local name: _OWNED counts the slot
        node._owns_grad = True


def _own(grad: np.ndarray) -> np.ndarray:
    """A gradient array about to be handed to the user (stored as a ``.grad``, returned by
    ``grad()``), as an array of its own.

    A rule may hand back a view (a broadcast of the output gradient is read-only, a slice
    shares memory with its neighbours) or the very array it received (add sends its
    incoming gradient to both inputs), and a user who edits ``x.grad`` in place
    (``p.grad *= 0.5``, gradient clipping) must change nothing else.  An array is shared
    exactly when something besides the backward pass holds a reference to it, so, as
    PyTorch's gradient accumulation does with its use count, the array is taken as it is
    when the reference count says no one else has it, and copied otherwise.
    """
    if grad.base is not None or getrefcount(grad) > _OWNED:
        grad = grad.copy()
    return grad
