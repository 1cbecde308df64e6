"""Checking a hand-written gradient of a plain numpy function: ``gradcheck(f, x, w, grad=df)``.

People who study backpropagation derive gradients on paper and write them in numpy:
``f(*arrays)`` returns a number, ``df(*arrays)`` returns one gradient per input.  The
pair is wrapped into one custom ``Function`` whose forward is ``f`` and whose backward
is ``df``, and checked like any graph: the same report (where, how much, the factor
diagnoses), the same ``sweep()`` and ``localize()`` (which names ``df``).
"""

from __future__ import annotations

import inspect
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

from minigrad.functions import Function
from minigrad.value import Value


def hand_written(
    fn: Callable[..., Any], grad: Callable[..., Any], inputs: tuple, caller: str
) -> tuple[Callable[..., Value], tuple[Value, ...]]:
    """(a function of Values, the input Values) that check ``grad`` against ``fn``.

    ``inputs`` are numbers or numpy arrays (a single list or tuple of them is unpacked);
    each becomes a float64 Value named after ``fn``'s parameter (``def f(slope,
    intercept)`` gives 'slope' and 'intercept').  Raises TypeError for Values (use
    ``gradcheck(fn, *values)`` without ``grad=`` for minigrad graphs) and for anything
    else that is not a number or an array.
    """
    if not callable(grad):
        raise TypeError(
            f"{caller}: grad must be callable: grad(*arrays) returns one gradient per input, "
            f"got {type(grad).__name__}"
        )
    if len(inputs) == 1 and isinstance(inputs[0], (list, tuple)):
        inputs = tuple(inputs[0])
    if not inputs:
        raise ValueError(f"{caller}: give the point to check at: {caller}(f, x, w, grad=df)")
    names = _parameter_names(fn, len(inputs))
    values = []
    for i, (x, name) in enumerate(zip(inputs, names)):
        if isinstance(x, Value):
            raise TypeError(
                f"{caller}: input {i} ('{name}') is a Value; with grad= the inputs are plain "
                "numbers or numpy arrays. To check minigrad's own gradient of a function of "
                "Values, leave grad= out"
            )
        if isinstance(x, bool) or not isinstance(x, (numbers.Real, np.ndarray, np.generic)):
            raise TypeError(
                f"{caller}: input {i} ('{name}') is a {type(x).__name__}; with grad= the "
                "inputs are numbers or numpy arrays"
            )
        data = np.asarray(x)
        data = data.astype(np.float32 if data.dtype == np.float32 else np.float64)
        values.append(Value(float(data) if data.ndim == 0 else data, name=name))
    op = _function_class(fn, grad, tuple(names), tuple(np.shape(v.data) for v in values), caller)
    return (lambda *xs: op.apply(*xs)), tuple(values)


def _parameter_names(fn: Callable, n: int) -> list[str]:
    """fn's positional parameter names, or 'input i' where there are none."""
    try:
        parameters = [
            p.name
            for p in inspect.signature(fn).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):
        parameters = []
    names = [parameters[i] if i < len(parameters) else f"input {i}" for i in range(n)]
    if len(set(names)) != len(names):
        names = [f"input {i}" for i in range(n)]
    return names


def _function_class(fn: Callable, grad: Callable, names: tuple, shapes: tuple, caller: str) -> type:
    """A Function whose forward is fn and whose backward is grad (times the output's grad)."""
    fn_name = getattr(fn, "__name__", "f")
    grad_name = getattr(grad, "__name__", "grad")

    def forward(ctx: Value, *arrays: Any) -> Any:
        ctx.save_for_backward(*arrays)
        out = fn(*arrays)
        if np.ndim(out) != 0 and np.size(out) != 1:
            raise ValueError(
                f"{caller}: {fn_name} must return a number (the loss), got an array of shape "
                f"{np.shape(out)}; sum or average it inside {fn_name}"
            )
        return np.reshape(out, ()) if np.ndim(out) else out

    def backward(ctx: Value, g: Any) -> tuple:
        arrays = ctx.saved_tensors
        grads = grad(*arrays)
        if len(names) == 1 and not isinstance(grads, (tuple, list)):
            grads = (grads,)
        if not isinstance(grads, (tuple, list)) or len(grads) != len(names):
            got = len(grads) if isinstance(grads, (tuple, list)) else 1
            raise ValueError(
                f"{caller}: {grad_name} returned {got} gradient(s) for {len(names)} inputs "
                f"({', '.join(names)}); return one per input, in the order of {fn_name}'s "
                "parameters"
            )
        out = []
        for name, shape, gi in zip(names, shapes, grads):
            gi = np.asarray(gi, dtype=np.result_type(np.asarray(gi).dtype, np.float64))
            if gi.shape != shape:
                raise ValueError(_shape_message(caller, grad_name, name, shape, gi.shape))
            out.append(g * gi)
        return tuple(out)

    return type(
        fn_name if fn_name.isidentifier() else "f",
        (Function,),
        {
            "forward": staticmethod(forward),
            "backward": staticmethod(backward),
            "name": f"{fn_name} (grad={grad_name})",
        },
    )


def _shape_message(caller: str, grad_name: str, name: str, shape: tuple, got: tuple) -> str:
    hint = ""
    if int(np.prod(got)) > int(np.prod(shape)):
        hint = (
            ": a missing reduction? A gradient has the shape of its input; sum (or average, "
            "as the loss does) over the data axis"
        )
    return (
        f"{caller}: {grad_name} returned shape {got} for '{name}', which has shape {shape}" + hint
    )
