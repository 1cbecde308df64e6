"""The chain rule, replayed for display: local derivatives, contributions, rule captions
(each primitive carries its own caption, ``Primitive.caption``, in the table).

Everything here calls an operation's own ``backward`` rule (the one the engine uses) on
the node, with a gradient we choose, and reduces the results to the inputs' shapes with
the engine's ``fit_gradient``.  Rules only read the node (its saved tensors and
parameters), so nothing in the user's graph changes; ``.grad`` is never touched.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.autograd import initial_gradient, local_gradients
from minigrad.value import Value, data_of


def rule_text(node: Value) -> str:
    """The derivative rule ``node``'s operation applies, in words or as a formula."""
    op = node._op
    if op is None:
        return ""
    from minigrad.functions import is_primitive

    if is_primitive(op):  # the table's own rule: the caption it carries
        return op.caption
    # A user's rule (or a variant of a primitive that replaces its backward): say so, with
    # the caption it declares itself, else the first line of its docstring.
    own = op.__dict__.get("caption") or ""
    doc = (op.__doc__ or "").strip().splitlines()
    text = f"the custom rule {op.__name__}.backward(ctx, grad)"
    first = own or (doc[0] if doc else "")
    return f"{text}: {first}" if first else text


def contributions(node: Value, grad: Any) -> tuple:
    """What the node's backward rule sends each input for an incoming ``grad``, reduced to
    the input's shape; None for inputs that get nothing (constants, None from the rule).

    The engine's own step (``autograd.local_gradients``), with numpy's warnings silenced
    (a picture shows an inf; it does not warn about it).  Raises what that raises.
    """
    if node._op is None:
        return ()
    with np.errstate(all="ignore"):
        return local_gradients(node, grad)


def unit(node: Value) -> Any:
    """A gradient of ones shaped like ``node``: d(node)/d(node)."""
    if type(node.data) is float:
        return 1.0
    if node.shape == ():
        return node.dtype.type(1)
    return np.ones(node.shape, dtype=node.dtype)


def local_derivatives(node: Value) -> tuple | None:
    """d(node)/d(input) for each input of a one-element node (``backward(node, 1)``);
    None when the node has several elements (its Jacobian is not one number per input)
    or when the rule fails."""
    if node._op is None or node.size != 1:
        return None
    try:
        return contributions(node, unit(node))
    except Exception:  # a broken custom rule must not stop the picture
        return None


def safe_contributions(node: Value, grad: Any) -> tuple | None:
    if node._op is None or grad is None:
        return None
    try:
        return contributions(node, data_of(grad))
    except Exception:
        return None


def seed(root: Value, gradient: Any) -> Any:
    """The gradient a backward pass from ``root`` starts with, checked as ``backward``
    checks it (``autograd.initial_gradient``)."""
    return initial_gradient(root, gradient)
