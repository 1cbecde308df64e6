"""The chain rule, replayed for display: local derivatives, contributions, rule captions.

Everything here calls an operation's own ``backward`` rule (the one the engine uses) on
the node, with a gradient we choose, and reduces the results to the inputs' shapes with
the engine's ``fit_gradient``.  Rules only read the node (its saved tensors and
parameters), so nothing in the user's graph changes; ``.grad`` is never touched.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.autograd import fit_gradient
from minigrad.value import Value

#: One line per primitive: the derivative the rule applies ("out" is the node's value).
RULES = {
    "add": "d(a + b)/da = 1, d(a + b)/db = 1: the gradient is passed to both inputs unchanged",
    "mul": "d(a * b)/da = b, d(a * b)/db = a",
    "neg": "d(-a)/da = -1",
    "pow": "d(a ** b)/da = b * a ** (b - 1), d(a ** b)/db = a ** b * log(a)",
    "exp": "d exp(a)/da = exp(a) = out",
    "log": "d log(a)/da = 1 / a",
    "tanh": "d tanh(a)/da = 1 - out ** 2",
    "sigmoid": "d sigmoid(a)/da = out * (1 - out)",
    "relu": "d relu(a)/da = 1 where a > 0, else 0",
    "abs": "d |a|/da = sign(a)",
    "sum": "every summed element receives the gradient of the sum",
    "max": "the gradient goes to the largest element(s), shared equally among ties",
    "broadcast_to": "the gradients of the copies are summed back to the input's shape",
    "reshape": "the gradient is reshaped back to the input's shape",
    "transpose": "the gradient is transposed back",
    "getitem": "the gradient is put back at the indexed positions, zeros elsewhere",
    "scatter": "the gradient is read back at the scattered positions",
    "concat": "the gradient is split back into the pieces that were joined",
    "where": "the gradient goes to a where the condition holds, to b elsewhere",
    "matmul": "d(A @ B): A receives G @ B.T, B receives A.T @ G",
    "affine": "d(X @ W + b): X receives G @ W.T, W receives X.T @ G, b the sum of G over rows",
}

# Convolution: each derivative is itself a convolution (added as a block, for easy merging).
RULES.update(
    {
        "conv2d": "d conv2d(x, w): x receives conv_transpose2d(G, w) (the convolution run "
        "backwards), w receives conv2d_weight(x, G) (x's windows correlated with G), "
        "b the sum of G over batch and positions",
        "conv_transpose2d": "the adjoint of conv2d: its input receives conv2d(G, w), "
        "w receives conv2d_weight(G, input)",
        "conv2d_weight": "x receives conv_transpose2d(g, G), g receives conv2d(x, G)",
        "unfold": "fold: each pixel receives the sum of the gradients of its window entries",
        "fold": "unfold: each window entry receives its pixel's gradient",
        "max_pool2d": "each window's gradient goes to its first maximum (ties are not split, "
        "as in PyTorch)",
    }
)


def rule_text(node: Value) -> str:
    """The derivative rule ``node``'s operation applies, in words or as a formula."""
    op = node._op
    if op is None:
        return ""
    from minigrad.functions import PRIMITIVES

    if op in PRIMITIVES and node.op in RULES:
        return RULES[node.op]
    doc = (op.__doc__ or "").strip().splitlines()
    text = f"the custom rule {op.__name__}.backward(ctx, grad)"
    return f"{text}: {doc[0]}" if doc and doc[0] else text


def contributions(node: Value, grad: Any) -> tuple:
    """What the node's backward rule sends each input for an incoming ``grad``, reduced to
    the input's shape; None for inputs that get nothing (constants, None from the rule).

    Raises whatever the rule raises, and RuntimeError if it returns the wrong count.
    """
    op = node._op
    parents = node._parents
    if op is None:
        return ()
    with np.errstate(all="ignore"):
        grads = op.backward(node, grad)
    if type(grads) is not tuple:
        grads = (grads,)
    if len(grads) != len(parents):
        raise RuntimeError(
            f"{op.__name__}.backward returned {len(grads)} gradients for {len(parents)} inputs"
        )
    sent = []
    for index, (parent, g) in enumerate(zip(parents, grads)):
        if g is None or not parent.requires_grad:
            sent.append(None)
        else:
            sent.append(fit_gradient(g, parent.data, op.__name__, index))
    return tuple(sent)


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
        return contributions(node, grad.data if isinstance(grad, Value) else grad)
    except Exception:
        return None


def seed(root: Value, gradient: Any) -> Any:
    """The gradient a backward pass from ``root`` starts with, checked like ``backward``."""
    if not root.requires_grad:
        raise RuntimeError(
            f"{root._label()} does not require grad, so there is no backward pass to show: "
            "compute it from Values with requires_grad=True, outside no_grad()"
        )
    if gradient is None:
        if root.shape != ():
            raise RuntimeError(
                f"the output has shape {root.shape}: pass gradient= (an array of that shape), "
                "or reduce it first with .sum() or .mean()"
            )
        return unit(root)
    if isinstance(gradient, Value):
        gradient = gradient.data
    if np.shape(gradient) != root.shape:
        raise ValueError(
            f"gradient has shape {np.shape(gradient)}, but the output has shape {root.shape}"
        )
    return fit_gradient(np.asarray(gradient, dtype=root.dtype), root.data, "backward", 0)
