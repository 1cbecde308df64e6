"""``Value``: a scalar or a numpy array that remembers how it was computed.

A Value is a node of the computation graph: its ``data``, the ``grad`` a backward pass
left on it, the operation (``op``) that produced it and the ``parents`` it was produced
from.  Arithmetic on Values builds the graph; ``backward()`` walks it in reverse and
applies the chain rule (see ``minigrad.autograd``).  Every operator below delegates in one
line to a primitive of ``minigrad.functions``, where the derivative rules live.

Scalars are stored as plain Python floats, arrays as numpy arrays; the same rules serve
both.
"""

from __future__ import annotations

import itertools
import numbers
from typing import Any

import numpy as np

from minigrad import autograd

#: Every node gets the next number when it is created; autograd sorts by it.
node_ids = itertools.count()
_PROMOTE = {
    np.dtype(np.float16): np.dtype(np.float32),
    np.dtype(np.longdouble): np.dtype(np.float64),
}


def _to_data(data: Any) -> Any:
    """The canonical data of a new leaf: a Python float or a float32/float64 numpy array.

    Raises TypeError or ValueError naming what was given and what is accepted.
    """
    kind = type(data)
    if kind is float:
        return data
    if kind is int or kind is bool:
        return float(data)
    if isinstance(data, Value):
        return data.data.copy() if isinstance(data.data, np.ndarray) else data.data
    if isinstance(data, (str, bytes, complex)) or (
        isinstance(data, numbers.Number) and not isinstance(data, numbers.Real)
    ):
        raise TypeError(
            f"Value cannot hold {kind.__name__} {data!r}: it accepts a real number, "
            "a nested list of numbers or a numeric numpy array"
        )
    if isinstance(data, (list, tuple)):
        try:
            data = np.array(data)
        except ValueError as error:
            raise ValueError(
                f"Value cannot hold a ragged nested list ({error}); every row must have "
                "the same length"
            ) from None
    elif isinstance(data, numbers.Real) and not isinstance(data, np.generic):
        return float(data)  # fractions, decimals and other real numbers
    elif not isinstance(data, (np.ndarray, np.generic)):
        raise TypeError(
            f"Value cannot hold a {kind.__name__}: it accepts a real number, a nested list "
            "of numbers or a numeric numpy array"
        )
    array = np.asarray(data)
    dtype = array.dtype
    if dtype.kind in "biu":
        dtype = np.dtype(np.float64)
    elif dtype.kind == "f":
        dtype = _PROMOTE.get(dtype, dtype)
    else:
        described = {"c": "complex", "O": "object", "U": "string", "S": "bytes"}.get(
            dtype.kind, str(dtype)
        )
        raise TypeError(
            f"Value cannot hold an array of dtype {dtype} ({described}): it accepts "
            "integer, boolean and floating arrays (float32 stays float32, the rest become "
            "float64)"
        )
    if array.ndim == 0:
        return float(array) if dtype == np.float64 else dtype.type(array)
    return np.array(array, dtype=dtype)  # a copy: the caller's array is never changed


def _read_only(cls: type, *names: str) -> None:
    """Give each named property of ``cls`` a setter that explains why it is read-only.

    Inside a custom Function, ``ctx`` is the output node, so ``ctx.shape = ...`` would
    collide with the node's own ``shape``; the message says what to do instead.  (The
    properties are written with a plain ``@property``, so that documentation tools list
    them as properties.)
    """
    for name in names:
        getter = getattr(cls, name).fget

        def refuse(self: Value, value: Any, name: str = name) -> None:
            raise AttributeError(
                f"'{name}' is a read-only attribute of Value (and of ctx, which is the "
                f"output node); store your own data under another name, e.g. "
                f"ctx.saved_{name}"
            )

        setattr(cls, name, property(getter, refuse, doc=getter.__doc__))


class Value:
    """A scalar or array in a computation graph, with its gradient.

    ``Value(data, requires_grad=True, name=None)``: ``data`` is a number, a nested list or a
    numpy array; it is copied.  Python numbers and integer or boolean arrays become
    float64, float32 arrays stay float32.

    After ``out.backward()``, ``v.grad`` holds d(out)/d(v) for every Value ``v`` that
    ``out`` was computed from (intermediate ones included, so you can inspect them),
    with ``v``'s shape and dtype.  Gradients *accumulate*: a second ``backward()`` adds to
    them, as in PyTorch, until you reset them with ``v.zero_grad()`` or ``v.grad = None``.
    """

    # Fixed slots keep nodes small and fast.  ``__dict__`` is there for the attributes an
    # operation's forward stores on its ctx (``ctx.axis = ...``); it is only created when used.
    __slots__ = (
        "data", "grad", "requires_grad", "name",
        "_op", "_parents", "_saved", "_g", "_mark", "_id",
        "__dict__", "__weakref__",
    )  # fmt: skip

    # numpy must hand ``array * value`` to Value.__rmul__ instead of looping over the array.
    __array_ufunc__ = None

    def __init__(self, data: Any, requires_grad: bool = True, name: str | None = None):
        self.data = _to_data(data)
        self.grad = None
        self.requires_grad = bool(requires_grad)
        if name is not None and not isinstance(name, str):
            raise TypeError(f"name must be a string or None, got {type(name).__name__}")
        self.name = name
        self._op = None
        self._parents = ()
        self._saved = ()
        self._g = None
        self._mark = 0
        self._id = next(node_ids)

    # ----------------------------------------------------------------- description

    @property
    def shape(self) -> tuple:
        return () if type(self.data) is float else self.data.shape

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return 1 if type(self.data) is float else self.data.size

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(np.float64) if type(self.data) is float else self.data.dtype

    @property
    def op(self) -> str:
        """The name of the operation that produced this Value; '' for a leaf."""
        return self._op.name if self._op is not None else ""

    @property
    def grad_fn(self) -> type | None:
        """The Function class that produced this Value, or None for a leaf."""
        return self._op

    @property
    def parents(self) -> tuple:
        """The Values this one was computed from, in argument order."""
        return self._parents

    @property
    def is_leaf(self) -> bool:
        """True for Values created by the user rather than by an operation."""
        return self._op is None

    # The ctx protocol: during forward and backward a node is its operation's ctx.

    def save_for_backward(self, *arrays: Any) -> None:
        """Keep data for the backward rule (call it from ``forward``)."""
        self._saved = arrays

    @property
    def saved_tensors(self) -> tuple:
        """What ``forward`` saved with ``save_for_backward``."""
        return self._saved

    @property
    def needs_input_grad(self) -> tuple:
        """For each input of the operation, whether it requires a gradient."""
        return tuple(p.requires_grad for p in self._parents)

    def _label(self) -> str:
        """How error messages refer to this Value."""
        kind = f"Value '{self.name}'" if self.name else "a Value"
        return f"{kind} of shape {self.shape}" + (f" (from {self.op})" if self.op else "")

    def __repr__(self) -> str:
        parts = [f"data={_show(self.data)}"]
        if self.shape:
            parts.insert(0, f"shape={self.shape}")
            if self.dtype != np.float64:
                parts.insert(1, f"dtype={self.dtype}")
        if self.grad is not None:
            parts.append(f"grad={_show(self.grad)}")
        if self._op is not None:
            parts.append(f"op={self.op!r}")
        if self.name:
            parts.append(f"name={self.name!r}")
        if not self.requires_grad:
            parts.append("requires_grad=False")
        return f"Value({', '.join(parts)})"

    # ----------------------------------------------------------------- conversions

    def item(self) -> float:
        """The value of a one-element Value as a Python float."""
        if self.size != 1:
            raise ValueError(
                f"item() needs a Value with one element, this one has shape {self.shape}"
            )
        return float(self.data) if type(self.data) is float else float(self.data.reshape(-1)[0])

    def __float__(self) -> float:
        return self.item()

    def numpy(self) -> np.ndarray:
        """A copy of the data as a numpy array."""
        return np.array(self.data)

    def detach(self) -> Value:
        """A new leaf with the same data (shared, not copied) and no history."""
        return _leaf(self.data, False, self.name)

    def zero_grad(self) -> None:
        """Forget the accumulated gradient (``grad`` becomes None)."""
        self.grad = None

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a scalar Value")
        return self.shape[0]

    # ----------------------------------------------------------------- backward

    def backward(
        self, gradient: Any = None, create_graph: bool = False, intermediate_grads: bool = True
    ) -> None:
        """Add d(self)/d(v) to ``v.grad`` for every Value ``v`` this one depends on.

        A scalar needs no ``gradient``; a non-scalar needs one of its shape (the vector in
        the vector-Jacobian product).  With ``create_graph=True`` the gradients are Values
        with their own graph, so they can be differentiated again.

        Every node of the graph gets its ``.grad`` (to inspect or draw), unless
        ``intermediate_grads=False``: then only leaves do (the Values you created, such as
        parameters), as in PyTorch, and each intermediate gradient is freed as soon as it
        has been passed on; the other nodes' ``.grad`` is left as it was.  Training loops
        use that: less memory, and faster on large arrays.
        """
        autograd.backward(self, gradient, create_graph, intermediate_grads)

    # ----------------------------------------------------------------- arithmetic

    def __add__(self, other: Any) -> Value:
        return _F.Add.apply(self, other if type(other) is Value else as_value(other))

    def __radd__(self, other: Any) -> Value:
        return _F.Add.apply(as_value(other), self)

    def __mul__(self, other: Any) -> Value:
        return _F.Mul.apply(self, other if type(other) is Value else as_value(other))

    def __rmul__(self, other: Any) -> Value:
        return _F.Mul.apply(as_value(other), self)

    def __neg__(self) -> Value:
        return _F.Neg.apply(self)

    def __sub__(self, other: Any) -> Value:  # a - b = a + (-b)
        if isinstance(other, Value):
            return _F.Add.apply(self, _F.Neg.apply(other))
        return _F.Add.apply(self, as_value(-_plain(other)))

    def __rsub__(self, other: Any) -> Value:
        return _F.Add.apply(as_value(other), _F.Neg.apply(self))

    def __truediv__(self, other: Any) -> Value:  # a / b = a * b**-1
        if isinstance(other, Value):
            return _F.Mul.apply(self, _F.Pow.apply(other, _MINUS_ONE))
        return _F.Mul.apply(self, as_value(_F.div(1.0, _plain(other))))

    def __rtruediv__(self, other: Any) -> Value:
        return _F.Mul.apply(as_value(other), _F.Pow.apply(self, _MINUS_ONE))

    def __pow__(self, exponent: Any) -> Value:
        return _F.Pow.apply(self, as_value(exponent))

    def __rpow__(self, base: Any) -> Value:
        return _F.Pow.apply(as_value(base), self)

    def __matmul__(self, other: Any) -> Value:
        return _F.MatMul.apply(self, as_value(other))

    def __rmatmul__(self, other: Any) -> Value:
        return _F.MatMul.apply(as_value(other), self)

    # ----------------------------------------------------------------- elementwise

    def exp(self) -> Value:
        return _F.Exp.apply(self)

    def log(self) -> Value:
        return _F.Log.apply(self)

    def tanh(self) -> Value:
        return _F.Tanh.apply(self)

    def sigmoid(self) -> Value:
        return _F.Sigmoid.apply(self)

    def relu(self) -> Value:
        return _F.Relu.apply(self)

    def abs(self) -> Value:
        return _F.Abs.apply(self)

    def sqrt(self) -> Value:
        return _F.Pow.apply(self, _HALF)

    # ----------------------------------------------------------------- reductions

    def sum(self, axis: int | tuple | None = None, keepdims: bool = False) -> Value:
        axis = _F._normalize_axis(axis, self.ndim, "sum")
        return _F.Sum.apply(self, axis=axis, keepdims=keepdims)

    def mean(self, axis: int | tuple | None = None, keepdims: bool = False) -> Value:
        """The sum divided by the number of elements summed."""
        total = self.sum(axis, keepdims)
        count = self.size // max(total.size, 1) if self.size else 0
        return total * (1.0 / count if count else float("nan"))

    def max(self, axis: int | tuple | None = None, keepdims: bool = False) -> Value:
        axis = _F._normalize_axis(axis, self.ndim, "max")
        if self.size == 0:
            raise ValueError("max of an empty Value has no value")
        return _F.Max.apply(self, axis=axis, keepdims=keepdims)

    def min(self, axis: int | tuple | None = None, keepdims: bool = False) -> Value:
        """min(x) = -max(-x)."""
        return -((-self).max(axis, keepdims))

    # ----------------------------------------------------------------- shape

    def reshape(self, *shape: Any) -> Value:
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return _F.Reshape.apply(self, shape=tuple(int(n) for n in shape))

    def transpose(self, *axes: Any) -> Value:
        if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list))):
            axes = axes[0]
        axes = tuple(axes) if axes else None
        if axes is not None and sorted(a % max(self.ndim, 1) for a in axes) != list(
            range(self.ndim)
        ):
            raise ValueError(f"transpose: axes {axes} are not a permutation of {self.ndim} axes")
        return _F.Transpose.apply(self, axes=axes)

    @property
    def T(self) -> Value:
        return _F.Transpose.apply(self, axes=None)

    def __getitem__(self, index: Any) -> Value:
        if not self.shape:
            raise IndexError("a scalar Value cannot be indexed")
        return _F.GetItem.apply(self, index=_plain_index(index))


def as_value(x: Any) -> Value:
    """x itself if it is a Value, otherwise a constant Value (requires_grad=False)."""
    if isinstance(x, Value):
        return x
    kind = type(x)
    if kind is float:  # the common cases, without the checks of __init__
        return _leaf(x, False, None)
    if kind is int:  # 1 - x, and sum() starting from 0
        return _leaf(float(x), False, None)
    return Value(x, requires_grad=False)


def _leaf(data: Any, requires_grad: bool, name: str | None) -> Value:
    """A leaf around data that is already canonical (no validation, no copy)."""
    leaf = _new(Value)
    leaf.data = data
    leaf.grad = None
    leaf.requires_grad = requires_grad
    leaf.name = name
    leaf._op = None
    leaf._parents = ()
    leaf._saved = ()
    leaf._g = None
    leaf._mark = 0
    leaf._id = next(node_ids)
    return leaf


def _plain(x: Any) -> Any:
    """A number or array operand as data (validated like Value data)."""
    return Value(x, requires_grad=False).data if not isinstance(x, (float, np.ndarray)) else x


def _plain_index(index: Any) -> Any:
    """Index Values by their data; lists of integers become arrays, as numpy would use them."""
    if isinstance(index, Value):
        return _integer_index(index.data)
    if isinstance(index, list):
        return _integer_index(np.asarray(index))
    if isinstance(index, tuple):
        return tuple(_plain_index(i) for i in index)
    return index


def _integer_index(array: Any) -> Any:
    array = np.asarray(array)
    if array.dtype.kind == "f":
        if not np.all(array == np.round(array)):
            raise IndexError("only integer (or boolean) arrays can index a Value")
        array = array.astype(np.intp)
    return array


def _show(x: Any) -> str:
    if type(x) is float or np.ndim(x) == 0:
        return f"{float(x):.6g}"
    if isinstance(x, Value):
        return repr(x)
    if np.size(x) <= 12:
        return np.array2string(np.asarray(x), precision=4, separator=", ").replace("\n", "")
    x = np.asarray(x)
    return f"<mean {x.mean():.4g}, min {x.min():.4g}, max {x.max():.4g}>"


_new = object.__new__
_read_only(
    Value, "shape", "ndim", "size", "dtype", "op", "grad_fn", "parents", "is_leaf",
    "saved_tensors", "needs_input_grad", "T",
)  # fmt: skip

_MINUS_ONE = None  # set below, once functions is importable
_HALF = None

from minigrad import functions as _F  # noqa: E402  (functions imports Value from here)

_MINUS_ONE = as_value(-1.0)
_HALF = as_value(0.5)
