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
import operator
from typing import Any

import numpy as np

from minigrad.grad_mode import state

#: The clock: every node gets the next number when it is created (``Value._created``;
#: autograd sorts by it), and every change to a Value's data is stamped on it
#: (``autograd.note_change``), so that "changed after that node was computed" is one
#: comparison.
node_ids = itertools.count()


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
        "_data", "_grad", "_owns_grad", "requires_grad", "name",
        "_op", "_parents", "_saved", "_pending_grad", "_visit", "_created",
        "__dict__", "__weakref__",
    )  # fmt: skip

    # numpy must hand ``array * value`` to Value.__rmul__ instead of looping over the array.
    __array_ufunc__ = None

    def __init__(self, data: Any, requires_grad: bool = True, name: str | None = None):
        if name is not None and not isinstance(name, str):
            raise TypeError(f"name must be a string or None, got {type(name).__name__}")
        _fill(self, _to_data(data), _flag(requires_grad, "requires_grad"), None, (), (), name)
        if type(data) is not float and _boolean(data):
            self._from_bools = True

    # ----------------------------------------------------------------- data

    @property
    def data(self) -> Any:
        """The value: a Python float or a float32/float64 numpy array.

        Assigning it (``v.data = ...``, and ``v.data -= ...``, which Python turns into an
        assignment) records the change, so that a backward pass through a graph built from
        the old data refuses instead of mixing old and new values.  A write into the array
        itself (``v.data[0] = 5``) cannot be seen; assign the attribute instead.
        """
        return self._data

    @data.setter
    def data(self, new: Any) -> None:
        self._data = new
        if self._from_bools:  # new data: no longer the booleans it was made from
            del self._from_bools
        autograd.note_change(self)

    @property
    def grad(self) -> Any:
        """d(out)/d(this Value) after ``out.backward()``: a float, or an array of this
        Value's shape and dtype that is its own (editing it in place, ``v.grad *= 0.5``,
        changes no other gradient); None before any backward pass.

        The backward pass hands one array to several places (``add`` sends its incoming
        gradient to both inputs), and copying every one of them would cost a tenth of a
        pass over small arrays.  So it stores a gradient as it comes, and the first read
        makes it this Value's own, copying it only if something else still holds it
        (``autograd.own_grad``).  A further pass adds into a new array (PyTorch adds in
        place), so an array held from before keeps the old gradient.
        """
        if not self._owns_grad and type(self._grad) is np.ndarray:  # (floats are immutable)
            autograd.own_grad(self)
        return self._grad

    @grad.setter
    def grad(self, new: Any) -> None:
        self._grad = new
        # The caller's array, taken as given (as PyTorch does); None: the next backward
        # pass stores an array that has not been checked yet.
        self._owns_grad = new is not None

    def _touch(self) -> None:
        """Record a change made to the data in place (by an optimizer, or a loaded checkpoint)."""
        autograd.note_change(self)

    #: When the data was last changed, on the clock that numbers nodes; 0: never.  Not a
    #: slot: it is set on the few Values whose data changes (parameters), in __dict__, so
    #: creating a node costs nothing more.
    _changed = 0

    #: Made from booleans (``Value(mask)``), which it holds as 1.0 and 0.0: indexing with
    #: it is refused, since it would read as the integer indices 1 and 0 (numpy and
    #: PyTorch read a boolean index as a mask).  In __dict__, set on those Values only.
    _from_bools = False

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

    def __bool__(self) -> bool:
        """The truth of a one-element Value; ambiguous (an error) for more, as in numpy."""
        if self.size != 1:
            raise ValueError(
                f"the truth value of {self._label()} is ambiguous: it has {self.size} "
                "elements; use (v.data > 0).any() or .all() to say which you mean"
            )
        return bool(self.item())

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        """``numpy.asarray(v)``: the data, for a Value that does not require grad.

        For one that does, numpy would silently drop the graph, so it is refused (as
        PyTorch refuses ``numpy()`` on a tensor that requires grad).
        """
        if self.requires_grad:
            raise TypeError(
                f"numpy cannot convert {self._label()}: it requires grad, and an array "
                "would drop its graph.  Use v.data (or v.numpy()) for the numbers, or "
                "call numpy on v.detach()"
            )
        array = np.asarray(self._data, dtype=dtype)
        return array.copy() if copy else array

    def numpy(self) -> np.ndarray:
        """A copy of the data as a numpy array."""
        return np.array(self.data)

    def clone(self) -> Value:
        """A copy of this Value with its own data, recorded in the graph (the gradient
        passes through it unchanged), as PyTorch's ``clone``."""
        out = _F.Clone.apply(self)
        if self._from_bools:
            out._from_bools = True
        return out

    def detach(self) -> Value:
        """A new leaf with the same data (shared, not copied) and no history."""
        out = _leaf(self.data, False, self.name)
        if self._from_bools:
            out._from_bools = True
        return out

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

    # In-place arithmetic.  On a parameter (a leaf that requires grad) with grad mode on it
    # is refused: Python would otherwise rebind the name to a new node (``p -= lr * p.grad``
    # in a loop over parameters changes nothing), which is never what was meant.  Inside
    # no_grad(), and on constants, it changes the data in place and returns the same Value,
    # as in PyTorch.  On a computed Value it is ordinary arithmetic (``h += 1`` is h = h + 1).

    def __iadd__(self, other: Any) -> Value:
        return self._in_place(other, "+=", np.add)

    def __isub__(self, other: Any) -> Value:
        return self._in_place(other, "-=", np.subtract)

    def __imul__(self, other: Any) -> Value:
        return self._in_place(other, "*=", np.multiply)

    def __itruediv__(self, other: Any) -> Value:
        return self._in_place(other, "/=", np.divide)

    def __ipow__(self, other: Any) -> Value:
        return self._in_place(other, "**=", np.power)

    def _in_place(self, other: Any, symbol: str, ufunc: Any) -> Any:
        grad_mode = state.grad_enabled
        if self._op is not None and grad_mode:
            return NotImplemented  # Python falls back to the ordinary operator
        if grad_mode and self.requires_grad:
            raise RuntimeError(
                f"'{symbol}' on {self._label()}, a leaf that requires grad, would replace it "
                f"with a new node of the graph instead of changing it.  To update a parameter, "
                f"change its data (p.data {symbol} ...), use an optimizer, or do it inside "
                "minigrad.no_grad()"
            )
        data = self._data
        new = ufunc(data, other.data if isinstance(other, Value) else _plain(other))
        if np.shape(new) != self.shape:
            raise ValueError(
                f"'{symbol}' in place cannot change the shape of {self._label()} to {np.shape(new)}"
            )
        if type(data) is np.ndarray and data.flags.writeable:
            data[...] = new  # in place: views and references to the array stay valid
            self._touch()
        else:
            self.data = float(new) if type(data) is float else self.dtype.type(new)
        return self

    def __matmul__(self, other: Any) -> Value:
        return _F.MatMul.apply(self, as_value(other))

    def __rmatmul__(self, other: Any) -> Value:
        return _F.MatMul.apply(as_value(other), self)

    # ----------------------------------------------------------------- elementwise
    # One method per operation, written out rather than made in a loop, so that help(),
    # editors and the API reference see each one with its own docstring.

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

    def sin(self) -> Value:
        return _F.Sin.apply(self)

    def cos(self) -> Value:
        return _F.Cos.apply(self)

    def tan(self) -> Value:
        return _F.Tan.apply(self)

    def arcsin(self) -> Value:
        return _F.Arcsin.apply(self)

    def arccos(self) -> Value:
        return _F.Arccos.apply(self)

    def arctan(self) -> Value:
        return _F.Arctan.apply(self)

    def sinh(self) -> Value:
        return _F.Sinh.apply(self)

    def cosh(self) -> Value:
        return _F.Cosh.apply(self)

    def log1p(self) -> Value:
        return _F.Log1p.apply(self)

    def expm1(self) -> Value:
        return _F.Expm1.apply(self)

    def erf(self) -> Value:
        return _F.Erf.apply(self)

    def log2(self) -> Value:
        """log2(x) = log(x) / log(2)."""
        return _F.Log.apply(self) * (1.0 / _LN2)

    def log10(self) -> Value:
        """log10(x) = log(x) / log(10)."""
        return _F.Log.apply(self) * (1.0 / _LN10)

    def exp2(self) -> Value:
        """2 ** x = exp(x log 2)."""
        return _F.Exp.apply(self * _LN2)

    def reciprocal(self) -> Value:
        """1 / x."""
        return _F.Pow.apply(self, _MINUS_ONE)

    def square(self) -> Value:
        """x * x."""
        return _F.Mul.apply(self, self)

    def sign(self) -> Value:
        """-1, 0 or +1 elementwise (0 for NaN); its gradient is 0."""
        return _F.Sign.apply(self)

    def floor(self) -> Value:
        """Rounded down; gradient 0 (also at the integers, as in PyTorch)."""
        return _F.Floor.apply(self)

    def ceil(self) -> Value:
        """Rounded up; gradient 0 (also at the integers, as in PyTorch)."""
        return _F.Ceil.apply(self)

    def round(self) -> Value:
        """Rounded to the nearest integer, halves to even (2.5 -> 2); gradient 0."""
        return _F.Round.apply(self)

    def clip(self, min: float | None = None, max: float | None = None) -> Value:
        """Limited to [min, max] (either may be None).  The gradient is 1 where
        min <= x <= max, bounds included (PyTorch's ``clamp``), and 0 outside."""
        return _F.clip(self, min, max)

    # ----------------------------------------------------------------- comparisons
    # Comparisons read the data and return plain booleans (a Python bool for a scalar
    # Value, a numpy bool array otherwise): masks are not differentiated.  ``==`` between
    # two Values means "the same node", because the engine and the user's containers key
    # on nodes (``__hash__`` is identity); comparing a Value with a number or an array by
    # ``==`` would be silently False, so it is refused: use ``eq``/``ne`` for masks.

    def __lt__(self, other: Any) -> Any:
        return self._data < _compared(other, "<")

    def __le__(self, other: Any) -> Any:
        return self._data <= _compared(other, "<=")

    def __gt__(self, other: Any) -> Any:
        return self._data > _compared(other, ">")

    def __ge__(self, other: Any) -> Any:
        return self._data >= _compared(other, ">=")

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Value) or other is None:
            return self is other
        raise TypeError(
            f"{self._label()} == {type(other).__name__}: '==' between a Value and a number or "
            "array is ambiguous in minigrad ('==' between Values means the same node).  Use "
            "v.eq(x) for an elementwise mask, or v.item() == x for a number"
        )

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    __hash__ = object.__hash__  # identity: graphs and gradients are keyed by node

    def eq(self, other: Any) -> Any:
        """Elementwise equality of the data: a bool (scalar) or a numpy bool array."""
        return self._data == _compared(other, "eq")

    def ne(self, other: Any) -> Any:
        """Elementwise inequality of the data: a bool (scalar) or a numpy bool array."""
        return self._data != _compared(other, "ne")

    def isnan(self) -> Any:
        """Which elements are NaN (a bool or a numpy bool array)."""
        return _mask(np.isnan(self._data))

    def isinf(self) -> Any:
        """Which elements are +inf or -inf."""
        return _mask(np.isinf(self._data))

    def isfinite(self) -> Any:
        """Which elements are neither NaN nor infinite."""
        return _mask(np.isfinite(self._data))

    def any(self, axis: int | tuple | None = None, keepdims: bool = False) -> Any:
        """Whether any element is nonzero (along ``axis``): a bool or a bool array."""
        axis = _F._normalize_axis(axis, self.ndim, "any")
        return _mask(np.any(self._data, axis=axis, keepdims=keepdims))

    def all(self, axis: int | tuple | None = None, keepdims: bool = False) -> Any:
        """Whether every element is nonzero (along ``axis``): a bool or a bool array."""
        axis = _F._normalize_axis(axis, self.ndim, "all")
        return _mask(np.all(self._data, axis=axis, keepdims=keepdims))

    def argmax(self, axis: int | None = None, keepdims: bool = False) -> Any:
        """Index of the largest element (of the flattened data when axis is None): an int,
        or an integer array along ``axis``.  Not differentiable (an index has no slope);
        the first of tied maxima wins, as in numpy and PyTorch."""
        return _arg("argmax", np.argmax, self, axis, keepdims)

    def argmin(self, axis: int | None = None, keepdims: bool = False) -> Any:
        """Index of the smallest element; see ``argmax``."""
        return _arg("argmin", np.argmin, self, axis, keepdims)

    # ----------------------------------------------------------------- reductions

    # The keywords ``dtype`` and ``out`` are there because numpy.sum(v), numpy.mean(v),
    # numpy.max(v) call these methods with them: None works, anything else is refused.

    def sum(
        self, axis: int | tuple | None = None, keepdims: bool = False, **numpy_keywords: Any
    ) -> Value:
        _refuse_numpy_keywords("sum", numpy_keywords)
        axis = _F._normalize_axis(axis, self.ndim, "sum")
        return _F.Sum.apply(self, axis=axis, keepdims=keepdims)

    def mean(
        self, axis: int | tuple | None = None, keepdims: bool = False, **numpy_keywords: Any
    ) -> Value:
        """The sum divided by the number of elements summed."""
        _refuse_numpy_keywords("mean", numpy_keywords)
        total = self.sum(axis, keepdims)
        count = self.size // max(total.size, 1) if self.size else 0
        return total * (1.0 / count if count else float("nan"))

    def max(
        self, axis: int | tuple | None = None, keepdims: bool = False, **numpy_keywords: Any
    ) -> Value:
        _refuse_numpy_keywords("max", numpy_keywords)
        axis = _F._normalize_axis(axis, self.ndim, "max")
        if self.size == 0 and _reduces_nothing(self.shape, axis):
            raise ValueError(
                f"max of an empty Value has no value (shape {self.shape}, axis {axis}): an "
                "axis reduced has length 0"
            )
        return _F.Max.apply(self, axis=axis, keepdims=keepdims)

    def min(
        self, axis: int | tuple | None = None, keepdims: bool = False, **numpy_keywords: Any
    ) -> Value:
        """min(x) = -max(-x)."""
        _refuse_numpy_keywords("min", numpy_keywords)
        return -((-self).max(axis, keepdims))

    def prod(self, axis: int | tuple | None = None, keepdims: bool = False) -> Value:
        """The product of the elements (along ``axis``); zeros get the right gradient."""
        axes = _F._normalize_axis(axis, self.ndim, "prod")
        if axes is None:
            flat = self if self.ndim <= 1 else self.reshape(-1)
            out = _F.Prod.apply(flat, axis=0 if flat.ndim else None, keepdims=False)
            return out.reshape((1,) * self.ndim) if keepdims else out
        out = self
        for a in sorted((axes,) if isinstance(axes, int) else axes, reverse=True):
            out = _F.Prod.apply(out, axis=a, keepdims=True)
        return out if keepdims else out.reshape(_F._drop_axes(self.shape, axes))

    def cumsum(self, axis: int | None = None) -> Value:
        """Running sums along ``axis`` (of the flattened data when None, as numpy)."""
        return _running(self, _F.Cumsum, axis, "cumsum")

    def cumprod(self, axis: int | None = None) -> Value:
        """Running products along ``axis`` (of the flattened data when None)."""
        return _running(self, _F.Cumprod, axis, "cumprod")

    def logcumsumexp(self, axis: int | None = None) -> Value:
        """Running log Σ exp along ``axis`` (flattened when None), without overflow."""
        return _running(self, _F.LogCumSumExp, axis, "logcumsumexp")

    def var(
        self,
        axis: int | tuple | None = None,
        ddof: int | None = None,
        keepdims: bool = False,
        correction: int | None = None,
    ) -> Value:
        """The variance Σ (x - mean)² / (N - ddof) over ``axis``.

        ``ddof`` (numpy's name) and ``correction`` (PyTorch's) are the same number; the
        default is 0, as numpy's (PyTorch's default is 1: pass ddof=1 for the unbiased
        estimate).  NaN when N - ddof <= 0.
        """
        ddof = _ddof(ddof, correction, "var")
        axis = _F._normalize_axis(axis, self.ndim, "var")
        centred = self - self.mean(axis, keepdims=True)
        squares = (centred * centred).sum(axis, keepdims)
        count = self.size // max(squares.size, 1) if self.size else 0
        return squares * (1.0 / (count - ddof) if count > ddof else float("nan"))

    def std(
        self,
        axis: int | tuple | None = None,
        ddof: int | None = None,
        keepdims: bool = False,
        correction: int | None = None,
    ) -> Value:
        """sqrt(var(...)): the standard deviation; see ``var`` for ddof/correction.

        Where the variance is 0 (a constant input) the gradient is 0, as in PyTorch, not
        inf * 0 = NaN (sqrt has slope inf at 0).
        """
        return _ops()._power_flat_at_zero(self.var(axis, ddof, keepdims, correction), 0.5)

    def norm(
        self, ord: float = 2, axis: int | tuple | None = None, keepdims: bool = False
    ) -> Value:
        """The vector p-norm over ``axis`` (every element when None): ord 1 (Σ|x|), 2
        (sqrt Σ x², the default), inf (max |x|), or any other p > 0 ((Σ|x|^p)^(1/p)).

        At a zero vector the gradient is 0 (PyTorch's choice), not NaN, and so it is at a
        zero entry for p < 1.
        """
        return _ops().vector_norm(self, ord, axis, keepdims)

    # ----------------------------------------------------------------- shape

    def reshape(self, *shape: Any) -> Value:
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return _F.Reshape.apply(self, shape=tuple(_whole(n, "reshape", shape) for n in shape))

    def transpose(self, *axes: Any) -> Value:
        """The axes permuted (reversed when none are given), as ``numpy.transpose``;
        negative axes count from the end."""
        if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list))):
            axes = axes[0]
        axes = tuple(axes) if axes else None
        if axes is not None:
            ndim = self.ndim
            given = tuple(_whole(a, "transpose", axes) for a in axes)
            axes = tuple(a % ndim for a in given if -ndim <= a < ndim)
            if len(given) != ndim or sorted(axes) != list(range(ndim)):
                raise ValueError(f"transpose: axes {given} are not a permutation of {ndim} axes")
        return _F.Transpose.apply(self, axes=axes)

    @property
    def T(self) -> Value:
        return _F.Transpose.apply(self, axes=None)

    def squeeze(self, axis: int | tuple | None = None) -> Value:
        """Drop axes of length 1 (``minigrad.ops.squeeze``)."""
        return _ops().squeeze(self, axis)

    def unsqueeze(self, axis: int) -> Value:
        """A new axis of length 1 at ``axis`` (``minigrad.ops.unsqueeze``)."""
        return _ops().unsqueeze(self, axis)

    def flatten(self, start_axis: int = 0, end_axis: int = -1) -> Value:
        """Axes start_axis..end_axis merged into one (``minigrad.ops.flatten``)."""
        return _ops().flatten(self, start_axis, end_axis)

    def ravel(self) -> Value:
        """The elements as a 1-D Value."""
        return self.reshape(-1)

    def swapaxes(self, axis1: int, axis2: int) -> Value:
        return _ops().swapaxes(self, axis1, axis2)

    def flip(self, axis: int | tuple | None = None) -> Value:
        return _ops().flip(self, axis)

    def roll(self, shift: int, axis: int | None = None) -> Value:
        return _ops().roll(self, shift, axis)

    def repeat(self, repeats: Any, axis: int | None = None) -> Value:
        return _ops().repeat(self, repeats, axis)

    def diagonal(self, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Value:
        return _ops().diagonal(self, offset, axis1, axis2)

    def trace(self, offset: int = 0) -> Value:
        return _ops().trace(self, offset)

    def masked_fill(self, mask: Any, value: float) -> Value:
        """``value`` where ``mask`` is True (``minigrad.ops.masked_fill``)."""
        return _ops().masked_fill(self, mask, value)

    def __getitem__(self, index: Any) -> Value:
        if not self.shape and not _scalar_index(index):
            raise IndexError(
                "a 0-d Value can only be indexed with None, ... or (), as a numpy scalar can"
            )
        return _F.GetItem.apply(self, index=_plain_index(index))


# ============================================================================ input checks


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
        try:
            return float(data)
        except OverflowError:
            raise ValueError(_too_large(data)) from None
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
            array = np.array(data)
        except ValueError as error:
            raise ValueError(
                f"Value cannot hold a ragged nested list ({error}); every row must have "
                "the same length"
            ) from None
        if array.dtype == object:  # integers beyond int64, or something that is no number
            data = _object_list(array)
        else:
            data = array
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


def _boolean(data: Any) -> bool:
    """Whether ``data``, accepted by ``_to_data``, is boolean: True or False, a numpy bool
    or bool array, a nested list of bools, or a Value made from one."""
    if isinstance(data, Value):
        return data._from_bools
    if isinstance(data, (list, tuple)):
        first = data
        while isinstance(first, (list, tuple)) and first:
            first = first[0]
        return type(first) in (bool, np.bool_) and np.asarray(data).dtype == bool
    return type(data) is bool or (
        isinstance(data, (np.ndarray, np.generic)) and data.dtype == np.bool_
    )


def _too_large(number: int) -> str:
    digits = str(number)
    shown = digits if len(digits) <= 20 else f"{digits[:6]}...({len(digits)} digits)"
    return (
        f"Value cannot hold the integer {shown}: it is beyond the range of float64 (about 1.8e308)"
    )


def _object_list(array: np.ndarray) -> np.ndarray:
    """A nested list numpy could only store as objects: Python integers too large for int64
    become float64, as a lone large integer does; anything else is refused by name."""
    for item in array.flat:
        if not isinstance(item, numbers.Real):
            raise TypeError(
                f"Value cannot hold a nested list containing {type(item).__name__} "
                f"{item!r}: every element must be a real number"
            )
    try:
        return np.array(array.tolist(), dtype=np.float64)
    except OverflowError:
        largest = max((i for i in array.flat if isinstance(i, int)), key=abs)
        raise ValueError(_too_large(largest)) from None


def _flag(value: Any, name: str) -> bool:
    """A True/False argument; anything else (the string "no", a number) is refused."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise TypeError(f"{name} must be True or False, got {type(value).__name__} {value!r}")


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


def data_of(x: Any) -> Any:
    """The data of a Value, or ``x`` itself (a number, an array, a mask): for the places
    that accept either and only read the numbers."""
    return x.data if isinstance(x, Value) else x


def _leaf(data: Any, requires_grad: bool, name: str | None) -> Value:
    """A leaf around data that is already canonical (no validation, no copy)."""
    return _fill(_new(Value), data, requires_grad, None, (), (), name)


def _new_node() -> Value:
    """A node about to be computed: the ctx its operation's ``forward`` receives.

    Only ``_saved`` is set (``save_for_backward`` may replace it); ``_fill`` sets every slot
    once the forward has returned the data.
    """
    node = _new(Value)
    node._saved = ()
    return node


def _fill(
    node: Value, data: Any, requires_grad: bool, op: Any, parents: tuple, saved: tuple,
    name: str | None = None,
) -> Value:
    """Set every slot of a new node.  The one place that knows them all: a leaf
    (``Value.__init__``, constants, ``detach``) and an operation's result
    (``functions.finish_node``) are made here.  ``Primitive.apply`` writes these lines out,
    because it runs once per operation of every graph; tests/test_nodes.py checks that
    every way of making a node sets every slot."""
    node._data = data
    node._grad = None
    node._owns_grad = False
    node.requires_grad = requires_grad
    node.name = name
    node._op = op
    node._parents = parents
    node._saved = saved
    node._pending_grad = None
    node._visit = 0
    node._created = next(node_ids)
    return node


def _reduces_nothing(shape: tuple, axis: Any) -> bool:
    """Whether a reduction over ``axis`` (normalised) meets an axis of length 0: numpy and
    PyTorch refuse max there, while an empty axis that is not reduced just gives an empty
    result."""
    if axis is None:
        return True
    axes = (axis,) if isinstance(axis, int) else axis
    return any(shape[a] == 0 for a in axes)


def _ops() -> Any:
    from minigrad import ops  # composed operations import this module: load them lazily

    return ops


def _running(value: Value, primitive: type, axis: Any, op: str) -> Value:
    if axis is None:  # numpy's rule: the flattened data (a 0-d input gives shape (1,))
        flat = value if value.ndim == 1 else value.reshape(-1)
        return primitive.apply(flat, axis=0)
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, (bool, np.bool_)):
        raise TypeError(f"{op}: axis must be an int or None, got {axis!r}")
    return primitive.apply(value, axis=_F._normalize_axis(axis, value.ndim, op) or 0)


def _ddof(ddof: Any, correction: Any, op: str) -> int:
    if ddof is not None and correction is not None and ddof != correction:
        raise ValueError(f"{op}: ddof={ddof} and correction={correction} disagree; give one")
    given = ddof if ddof is not None else correction
    if given is None:
        return 0
    if isinstance(given, (bool, np.bool_)) or not isinstance(given, (int, np.integer)):
        raise TypeError(f"{op}: ddof must be a whole number, got {given!r}")
    if given < 0:
        raise ValueError(f"{op}: ddof must be >= 0, got {given}")
    return int(given)


def _compared(other: Any, op: str) -> Any:
    """The data a comparison compares with: a Value's data, a number or an array."""
    if isinstance(other, Value):
        return other._data
    if other is None or isinstance(other, (str, bytes)):
        raise TypeError(f"'{op}' compares a Value with numbers, arrays or Values, got {other!r}")
    return other


def _mask(result: Any) -> Any:
    """numpy's 0-d booleans as Python bools; arrays as they are."""
    return bool(result) if np.ndim(result) == 0 else result


def _arg(op: str, function: Any, value: Value, axis: Any, keepdims: bool) -> Any:
    if value.size == 0:
        raise ValueError(f"{op} of an empty Value (shape {value.shape}) has no answer")
    if axis is not None and not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{op}: axis must be an int or None, got {axis!r}")
    axis = _F._normalize_axis(axis, value.ndim, op)
    result = function(np.asarray(value._data), axis=axis, keepdims=keepdims)
    return int(result) if np.ndim(result) == 0 else result


def _plain(x: Any) -> Any:
    """A number or array operand as data (validated like Value data)."""
    return Value(x, requires_grad=False).data if not isinstance(x, (float, np.ndarray)) else x


def _refuse_numpy_keywords(op: str, keywords: dict) -> None:
    """numpy's reductions pass dtype= and out=; a Value has no use for them."""
    for name, given in keywords.items():
        if name not in ("dtype", "out"):
            raise TypeError(f"{op}() got an unexpected keyword argument '{name}'")
        if given is not None:
            raise TypeError(
                f"{op}: {name}= is not supported: the result is a new Value of the input's "
                "dtype (convert with v.data.astype(...) outside the graph)"
            )


def _whole(n: Any, op: str, given: Any) -> int:
    """An integer argument (a size or an axis); 2.9 is refused, never truncated to 2."""
    try:
        return operator.index(n)
    except TypeError:
        raise TypeError(f"{op}: {given!r} must be whole numbers, got {n!r}") from None


def _scalar_index(index: Any) -> bool:
    """Whether ``index`` is one a 0-d array accepts: None, ..., () or a tuple of those."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(part is None or part is Ellipsis for part in parts)


def _plain_index(index: Any) -> Any:
    """Index Values by their data; lists of integers become arrays, as numpy would use them.

    A Value holds floats, and whole numbers index as integers; but a Value made from
    booleans holds a mask as 1.0 and 0.0, which would silently pick elements 1 and 0, so it
    is refused.  (PyTorch refuses every float index tensor.)
    """
    if isinstance(index, Value):
        if index._from_bools:
            raise IndexError(
                f"cannot index with a Value made from booleans (shape {index.shape}): it holds "
                "them as 1.0 and 0.0, which would index elements 1 and 0, not mask.  Index "
                "with the boolean numpy array itself (x[mask], or x[m.data.astype(bool)]), or "
                "keep the shape with minigrad.where(mask, x, 0.0)"
            )
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
_LN2 = 0.6931471805599453  # math.log(2)
_LN10 = 2.302585092994046  # math.log(10)

from minigrad import autograd  # noqa: E402  (autograd and functions import Value from here)
from minigrad import functions as _F  # noqa: E402

_MINUS_ONE = as_value(-1.0)
_HALF = as_value(0.5)
