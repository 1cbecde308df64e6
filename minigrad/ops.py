"""Operations composed from the table's primitives: shapes, indexing, einsum.

Nothing here has a derivative rule of its own.  Each function rearranges its input with
``reshape``, ``transpose``, indexing (``GetItem``, whose adjoint is ``Scatter``),
``where`` and arithmetic, so the engine differentiates it, any number of times, and a
graph shows the steps.  Negative axes are accepted everywhere and normalised first.

Index-based operations (pad, repeat, tile, roll, diagonal...) build the integer index
once, from ``numpy`` applied to ``arange``: ``pad(x, 2, "reflect")`` is x indexed by
``numpy.pad(arange(n), 2, "reflect")``, so numpy's own rules decide which element goes
where, and the gradient of every copy is added back to its source.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from minigrad import functions as F
from minigrad.value import Value, as_value, data_of

__all__ = [
    "squeeze",
    "unsqueeze",
    "expand_dims",
    "flatten",
    "ravel",
    "swapaxes",
    "moveaxis",
    "flip",
    "roll",
    "repeat",
    "tile",
    "pad",
    "tril",
    "triu",
    "diagonal",
    "diag",
    "trace",
    "outer",
    "einsum",
    "vector_norm",
    "take_along_axis",
    "gather",
    "scatter_add",
    "one_hot",
    "masked_fill",
    "nonzero",
    "argwhere",
]


def _value(x: Any, op: str) -> Value:
    try:
        return as_value(x)
    except (TypeError, ValueError) as error:
        raise type(error)(f"{op}: {error}") from None


def _int(n: Any, op: str, what: str) -> int:
    try:
        return operator.index(n)
    except TypeError:
        raise TypeError(f"{op}: {what} must be an integer, got {n!r}") from None


def _axis(axis: Any, ndim: int, op: str) -> int:
    """One axis, as a non-negative int (ValueError naming it when out of range)."""
    _int(axis, op, "axis")
    normal = F._normalize_axis(axis, ndim, op)
    return 0 if normal is None else normal


def _axes(axis: Any, ndim: int, op: str) -> tuple:
    """None (every axis), an int or a tuple, as a sorted tuple of non-negative ints."""
    if axis is None:
        return tuple(range(ndim))
    normal = F._normalize_axis(axis, ndim, op)
    if normal is None:
        return ()
    return (normal,) if isinstance(normal, int) else normal


# ============================================================================ shapes


def squeeze(x: Any, axis: Any = None) -> Value:
    """Drop axes of length 1 (all of them, or those in ``axis``); an axis in ``axis``
    whose length is not 1 is an error, as in numpy (PyTorch leaves it)."""
    x = _value(x, "squeeze")
    axes = _axes(axis, x.ndim, "squeeze")
    if axis is not None:
        wrong = [a for a in axes if x.shape[a] != 1]
        if wrong:
            raise ValueError(
                f"squeeze: axis {wrong[0]} of shape {x.shape} has length {x.shape[wrong[0]]}, "
                "not 1; only axes of length 1 can be squeezed"
            )
    else:
        axes = tuple(a for a in axes if x.shape[a] == 1)
    return x.reshape(tuple(n for i, n in enumerate(x.shape) if i not in axes))


def unsqueeze(x: Any, axis: int) -> Value:
    """A new axis of length 1 at position ``axis`` (of the result: -1 appends one)."""
    x = _value(x, "unsqueeze")
    axis = _axis(axis, x.ndim + 1, "unsqueeze")
    return x.reshape(x.shape[:axis] + (1,) + x.shape[axis:])


expand_dims = unsqueeze


def flatten(x: Any, start_axis: int = 0, end_axis: int = -1) -> Value:
    """Axes start_axis..end_axis (inclusive) merged into one, as ``torch.flatten``; with
    the defaults, a 1-D Value (a 0-d one becomes shape (1,))."""
    x = _value(x, "flatten")
    if x.ndim == 0:
        return x.reshape(1)
    start, end = _axis(start_axis, x.ndim, "flatten"), _axis(end_axis, x.ndim, "flatten")
    if start > end:
        raise ValueError(f"flatten: start_axis {start_axis} comes after end_axis {end_axis}")
    merged = int(np.prod(x.shape[start : end + 1]))
    return x.reshape(x.shape[:start] + (merged,) + x.shape[end + 1 :])


def ravel(x: Any) -> Value:
    """The elements as a 1-D Value, in row-major order."""
    return _value(x, "ravel").reshape(-1)


def swapaxes(x: Any, axis1: int, axis2: int) -> Value:
    """Axes ``axis1`` and ``axis2`` exchanged."""
    x = _value(x, "swapaxes")
    a, b = _axis(axis1, x.ndim, "swapaxes"), _axis(axis2, x.ndim, "swapaxes")
    order = list(range(x.ndim))
    order[a], order[b] = order[b], order[a]
    return x.transpose(tuple(order)) if x.ndim else x


def moveaxis(x: Any, source: int, destination: int) -> Value:
    """Axis ``source`` moved to position ``destination``, the others keeping their order."""
    x = _value(x, "moveaxis")
    src, dst = _axis(source, x.ndim, "moveaxis"), _axis(destination, x.ndim, "moveaxis")
    order = [i for i in range(x.ndim) if i != src]
    order.insert(dst, src)
    return x.transpose(tuple(order)) if x.ndim else x


def flip(x: Any, axis: Any = None) -> Value:
    """The elements in reverse order along ``axis`` (every axis when None)."""
    x = _value(x, "flip")
    axes = _axes(axis, x.ndim, "flip")
    if not axes:
        return x
    return x[tuple(slice(None, None, -1) if i in axes else slice(None) for i in range(x.ndim))]


def _along(x: Value, axis: int, positions: np.ndarray) -> Value:
    """x indexed along ``axis`` by integer ``positions`` (the other axes whole)."""
    return x[(slice(None),) * axis + (positions,)]


def roll(x: Any, shift: int, axis: int | None = None) -> Value:
    """The elements shifted by ``shift`` along ``axis``, those pushed off the end coming
    back at the start (the flattened data when axis is None, as numpy)."""
    x = _value(x, "roll")
    shift = _int(shift, "roll", "shift")
    if axis is None:
        return roll(x.reshape(-1), shift, 0).reshape(x.shape) if x.ndim else x
    axis = _axis(axis, x.ndim, "roll")
    if x.ndim == 0:
        return x
    return _along(x, axis, np.roll(np.arange(x.shape[axis]), shift))


def repeat(x: Any, repeats: Any, axis: int | None = None) -> Value:
    """Each element repeated ``repeats`` times along ``axis`` (an int, or one count per
    element), as ``numpy.repeat``; the flattened data when axis is None."""
    x = _value(x, "repeat")
    if axis is None:
        x, axis = x.reshape(-1), 0
    else:
        axis = _axis(axis, x.ndim, "repeat")
        if x.ndim == 0:
            x = x.reshape(1)
    try:
        positions = np.repeat(np.arange(x.shape[axis]), repeats)
    except (ValueError, TypeError) as error:
        raise ValueError(
            f"repeat: repeats {repeats!r} for length {x.shape[axis]}: {error}"
        ) from None
    return _along(x, axis, positions)


def tile(x: Any, reps: Any) -> Value:
    """x repeated ``reps`` times along each axis (an int or a tuple), as ``numpy.tile``."""
    x = _value(x, "tile")
    reps = (reps,) if np.ndim(reps) == 0 else tuple(reps)
    reps = tuple(_int(r, "tile", "reps") for r in reps)
    if any(r < 0 for r in reps):
        raise ValueError(f"tile: reps must be >= 0, got {reps}")
    ndim = max(x.ndim, len(reps))
    x = x.reshape((1,) * (ndim - x.ndim) + x.shape)
    reps = (1,) * (ndim - len(reps)) + reps
    index = np.ix_(*[np.tile(np.arange(n), r) for n, r in zip(x.shape, reps)])
    return x[index] if ndim else x


_PAD_MODES = {"constant", "reflect", "edge", "wrap"}


def pad(x: Any, pad_width: Any, mode: str = "constant", value: float = 0.0) -> Value:
    """x with ``pad_width`` elements added before and after along each axis, as
    ``numpy.pad``: ``pad_width`` is an int, (before, after), or one pair per axis.

    ``mode``: "constant" (``value``), "reflect" (mirrored without the edge: PyTorch's
    reflect), "edge" (the edge repeated: PyTorch's replicate) or "wrap" (circular).
    """
    x = _value(x, "pad")
    if mode not in _PAD_MODES:
        raise ValueError(f"pad: mode must be one of {sorted(_PAD_MODES)}, got {mode!r}")
    try:
        widths = np.broadcast_to(np.asarray(pad_width), (x.ndim, 2))
    except ValueError:
        raise ValueError(
            f"pad: pad_width {pad_width!r} does not fit a Value of shape {x.shape}: give an int, "
            "(before, after), or one (before, after) per axis"
        ) from None
    if widths.dtype.kind not in "iu" or np.any(widths < 0):
        raise ValueError(f"pad: pad_width must be non-negative integers, got {pad_width!r}")
    widths = [(int(b), int(a)) for b, a in widths]
    if x.ndim == 0:
        return x
    if mode == "constant":
        shape = tuple(n + b + a for n, (b, a) in zip(x.shape, widths))
        inside = tuple(slice(b, b + n) for n, (b, _) in zip(x.shape, widths))
        placed = F.scatter(x, inside, shape)
        if value == 0:
            return placed
        border = np.full(shape, value, dtype=x.dtype)
        border[inside] = 0
        return placed + border
    for n, (b, a) in zip(x.shape, widths):
        if n == 0 and (b or a):
            raise ValueError(f"pad: mode {mode!r} cannot pad an empty axis (shape {x.shape})")
    index = np.ix_(*[np.pad(np.arange(n), w, mode=mode) for n, w in zip(x.shape, widths)])
    return x[index]


def _triangle(x: Any, k: int, keep: Any, op: str) -> Value:
    x = _value(x, op)
    if x.ndim < 2:
        raise ValueError(f"{op}: needs a matrix (or a stack of them), got shape {x.shape}")
    k = _int(k, op, "k")
    mask = keep(np.ones(x.shape[-2:], dtype=bool), k)
    return F.where(mask, x, 0.0)


def tril(x: Any, k: int = 0) -> Value:
    """The lower triangle (on and below diagonal k) of the last two axes; zeros above."""
    return _triangle(x, k, np.tril, "tril")


def triu(x: Any, k: int = 0) -> Value:
    """The upper triangle (on and above diagonal k) of the last two axes; zeros below."""
    return _triangle(x, k, np.triu, "triu")


def diagonal(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Value:
    """The diagonal of axes (axis1, axis2), as a new last axis (numpy's layout)."""
    x = _value(x, "diagonal")
    if x.ndim < 2:
        raise ValueError(f"diagonal: needs at least two axes, got shape {x.shape}")
    a, b = _axis(axis1, x.ndim, "diagonal"), _axis(axis2, x.ndim, "diagonal")
    if a == b:
        raise ValueError(f"diagonal: axis1 and axis2 are the same axis ({a})")
    offset = _int(offset, "diagonal", "offset")
    rest = [i for i in range(x.ndim) if i not in (a, b)]
    moved = x.transpose(tuple(rest) + (a, b))
    rows, cols = x.shape[a], x.shape[b]
    start_row, start_col = max(-offset, 0), max(offset, 0)
    length = max(min(rows - start_row, cols - start_col), 0)
    i = np.arange(length)
    return moved[(Ellipsis, start_row + i, start_col + i)]


def diag(x: Any, k: int = 0) -> Value:
    """Of a 1-D Value: the square matrix with it on diagonal k.  Of a 2-D one: its
    diagonal k.  As ``numpy.diag``."""
    x = _value(x, "diag")
    k = _int(k, "diag", "k")
    if x.ndim == 2:
        return diagonal(x, k)
    if x.ndim != 1:
        raise ValueError(f"diag: needs a 1-D or 2-D Value, got shape {x.shape}")
    n = x.shape[0] + abs(k)
    i = np.arange(x.shape[0])
    return F.scatter(x, (i + max(-k, 0), i + max(k, 0)), (n, n))


def trace(x: Any, offset: int = 0) -> Value:
    """The sum of diagonal ``offset`` of a matrix (of the first two axes)."""
    x = _value(x, "trace")
    return diagonal(x, offset).sum(axis=-1)


def outer(a: Any, b: Any) -> Value:
    """The outer product: out[i, j] = a_i · b_j (inputs are flattened, as numpy's)."""
    a, b = _value(a, "outer"), _value(b, "outer")
    return a.reshape(-1, 1) * b.reshape(1, -1)


def einsum(subscripts: str, *operands: Any) -> Value:
    """Einstein summation, ``numpy.einsum``'s notation without ``...``: "ij,jk->ik"
    (matmul), "i,j->ij" (outer), "ii->" (trace), "bij,bjk->bik" (batched matmul)...

    Composed of primitives: each operand's repeated letters become its diagonal, the
    operands are aligned on one shared list of letters and multiplied (broadcasting),
    and the letters not in the output are summed.  So the memory is the product of all
    the letters' sizes; fine for the sizes people study, not for a large model.  Without
    "->", the output is the letters appearing once, sorted (numpy's rule).
    """
    if not isinstance(subscripts, str):
        raise TypeError(f"einsum: subscripts must be a string, got {type(subscripts).__name__}")
    spec = subscripts.replace(" ", "")
    if "." in spec:
        raise ValueError("einsum: '...' (broadcast dimensions) is not supported; name every axis")
    inputs, arrow, output = spec.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(operands):
        raise ValueError(
            f"einsum: {subscripts!r} names {len(terms)} operand(s), {len(operands)} were given"
        )
    for letter in spec.replace(",", "").replace("->", ""):
        if not letter.isalpha():
            raise ValueError(f"einsum: {letter!r} in {subscripts!r} is not a letter")
    if not arrow:
        counts = {c: inputs.count(c) for c in inputs if c != ","}
        output = "".join(sorted(c for c, n in counts.items() if n == 1))
    if len(set(output)) != len(output) or any(c not in inputs for c in output):
        raise ValueError(f"einsum: output {output!r} must use distinct letters of the inputs")
    values = [_value(v, "einsum") for v in operands]
    sizes: dict[str, int] = {}
    prepared = []
    for term, v in zip(terms, values):
        if len(term) != v.ndim:
            raise ValueError(
                f"einsum: {term!r} names {len(term)} axes, but its operand has shape {v.shape}"
            )
        for letter, n in zip(term, v.shape):
            if sizes.setdefault(letter, n) != n:
                raise ValueError(
                    f"einsum: letter {letter!r} has length {sizes[letter]} in one place and {n} "
                    f"in another (operand of shape {v.shape})"
                )
        while len(set(term)) < len(term):  # a repeated letter: take that diagonal
            letter = next(c for c in term if term.count(c) > 1)
            first = term.index(letter)
            second = term.index(letter, first + 1)
            v = diagonal(v, 0, first, second)
            term = "".join(c for i, c in enumerate(term) if i not in (first, second)) + letter
        prepared.append((term, v))
    letters = output + "".join(sorted({c for t, _ in prepared for c in t} - set(output)))
    product = None
    for term, v in prepared:
        order = sorted(range(len(term)), key=lambda i: letters.index(term[i]))
        if order != list(range(len(term))):
            v = v.transpose(tuple(order))
        present = "".join(term[i] for i in order)
        shape = tuple(sizes[c] if c in present else 1 for c in letters)
        v = v.reshape(shape)
        product = v if product is None else product * v
    summed = tuple(range(len(output), len(letters)))
    if not summed:
        return product
    return product.sum(axis=summed)


def vector_norm(x: Any, ord: float = 2, axis: Any = None, keepdims: bool = False) -> Value:
    """The p-norm of ``x`` over ``axis`` (every element when None): ord 1 (Σ|x|), 2
    (sqrt Σ x², the default), inf (max |x|), or any other p > 0 ((Σ|x|^p)^(1/p)).

    At a zero vector the gradient is 0 (PyTorch's choice), not NaN, and so it is at a
    zero entry for p < 1 (where |x|^p has slope inf).
    """
    x = as_value(x)
    if isinstance(ord, (bool, np.bool_)) or not isinstance(ord, (int, float, np.number)):
        raise TypeError(f"norm: ord must be a number (1, 2, inf...), got {ord!r}")
    p = float(ord)
    if not p > 0:
        raise ValueError(f"norm: ord must be > 0 (1, 2, inf or another p), got {ord!r}")
    axis = F._normalize_axis(axis, x.ndim, "norm")
    if p == 1:
        return x.abs().sum(axis, keepdims)
    if p == np.inf:
        if x.size == 0 and (axis is None or 0 in np.atleast_1d(np.take(x.shape, axis))):
            raise ValueError(f"norm: the inf-norm of an empty Value (shape {x.shape}) has no value")
        return x.abs().max(axis, keepdims)
    if p == 2:
        powers = x * x
    elif p < 1:  # |x|^p has slope inf at 0
        powers = _power_flat_at_zero(x.abs(), p)
    else:
        powers = x.abs() ** p
    return _power_flat_at_zero(powers.sum(axis, keepdims), 1.0 / p)


def _power_flat_at_zero(base: Value, exponent: float) -> Value:
    """base ** exponent for base >= 0, with gradient 0 where base == 0.

    For 0 < exponent < 1 (a root) the slope at 0 is inf, and the chain rule would give
    inf * 0 = NaN wherever the base's own gradient is 0 there (a zero vector's norm, a
    constant input's std).  PyTorch takes 0 there; so do we: those entries are formed as
    1 ** exponent * 0, whose value is 0 and whose gradient is 0.  Used by ``norm`` and
    ``std``.
    """
    zero = np.asarray(base.data == 0)
    shifted = base + zero.astype(base.dtype)
    power = shifted.sqrt() if exponent == 0.5 else shifted**exponent
    return power * (~zero).astype(base.dtype)


# ============================================================================ indexing


def _along_index(indices: np.ndarray, axis: int) -> tuple:
    """The full integer index that reads ``indices`` along ``axis``, every other axis in
    place: what take_along_axis and its adjoint, scatter_add, use."""
    grid = list(np.ix_(*[np.arange(n) for n in indices.shape]))
    grid[axis] = indices
    return tuple(grid)


def _index_array(indices: Any, op: str) -> np.ndarray:
    data = data_of(indices)
    array = np.asarray(data)
    if array.dtype.kind == "f" and np.all(array == np.round(array)):
        array = array.astype(np.intp)
    if array.dtype.kind not in "iu":
        raise TypeError(f"{op}: indices must be integers, got dtype {array.dtype}")
    return array


def _check_along(x: Value, indices: np.ndarray, axis: int, op: str) -> None:
    if indices.ndim != x.ndim:
        raise ValueError(
            f"{op}: indices of shape {indices.shape} need as many axes as the input "
            f"(shape {x.shape})"
        )
    n = x.shape[axis]
    bad = indices[(indices < -n) | (indices >= n)]
    if bad.size:
        raise IndexError(
            f"{op}: indices {sorted(set(bad.tolist()))[:8]} are out of range for axis {axis} "
            f"of length {n}"
        )
    for i, (a, b) in enumerate(zip(indices.shape, x.shape)):
        if i != axis and a > b:
            raise ValueError(
                f"{op}: indices of shape {indices.shape} are longer than the input "
                f"(shape {x.shape}) along axis {i}"
            )


def take_along_axis(x: Any, indices: Any, axis: int) -> Value:
    """out[..., j, ...] = x[..., indices[..., j, ...], ...] along ``axis``: numpy's
    ``take_along_axis``, PyTorch's ``gather`` (indices as long as x on the other axes, or
    shorter, as PyTorch allows).  The gradient is added back at the indexed positions."""
    x = _value(x, "take_along_axis")
    axis = _axis(axis, x.ndim, "take_along_axis")
    indices = _index_array(indices, "take_along_axis")
    _check_along(x, indices, axis, "take_along_axis")
    return x[_along_index(indices, axis)]


def gather(x: Any, axis: int, indices: Any) -> Value:
    """PyTorch's argument order for ``take_along_axis(x, indices, axis)``."""
    return take_along_axis(x, indices, axis)


def scatter_add(x: Any, axis: int, indices: Any, src: Any) -> Value:
    """x with ``src[..., j, ...]`` added at ``x[..., indices[..., j, ...], ...]`` along
    ``axis`` (repeated indices accumulate): PyTorch's ``scatter_add``, the adjoint of
    ``gather``.  Differentiable in x (gradient passed through) and in src (the gradient
    read back at the indices)."""
    x, src = _value(x, "scatter_add"), _value(src, "scatter_add")
    axis = _axis(axis, x.ndim, "scatter_add")
    indices = _index_array(indices, "scatter_add")
    _check_along(x, indices, axis, "scatter_add")
    if src.shape != indices.shape:
        src = src[tuple(slice(0, n) for n in indices.shape)]  # PyTorch reads the leading part
    return x + F.scatter(src, _along_index(indices % x.shape[axis], axis), x.shape)


def one_hot(indices: Any, num_classes: int | None = None, dtype: Any = np.float64) -> Value:
    """A constant Value of shape indices.shape + (num_classes,), 1 at each index and 0
    elsewhere.  ``num_classes`` defaults to max(indices) + 1, as PyTorch's."""
    indices = _index_array(indices, "one_hot")
    if num_classes is None:
        num_classes = int(indices.max()) + 1 if indices.size else 0
    num_classes = _int(num_classes, "one_hot", "num_classes")
    bad = indices[(indices < 0) | (indices >= num_classes)]
    if bad.size:
        raise ValueError(
            f"one_hot: class indices {sorted(set(bad.tolist()))[:8]} are out of range for "
            f"{num_classes} classes (0..{num_classes - 1})"
        )
    return Value(np.eye(num_classes, dtype=dtype)[indices], requires_grad=False)


def masked_fill(x: Any, mask: Any, value: float) -> Value:
    """x with ``value`` where ``mask`` (broadcast to x) is True: an attention score mask.
    The filled positions get no gradient; the others get theirs unchanged."""
    x = _value(x, "masked_fill")
    mask = np.asarray(data_of(mask))
    if mask.dtype != bool:
        raise TypeError(f"masked_fill: mask must be boolean, got dtype {mask.dtype}")
    try:
        np.broadcast_shapes(mask.shape, x.shape)
    except ValueError:
        raise ValueError(
            f"masked_fill: mask of shape {mask.shape} does not broadcast to shape {x.shape}"
        ) from None
    if np.broadcast_shapes(mask.shape, x.shape) != x.shape:
        raise ValueError(f"masked_fill: mask of shape {mask.shape} would enlarge shape {x.shape}")
    filler = np.full(x.shape, value, dtype=x.dtype)
    return F.where(mask, filler, x)


def nonzero(x: Any) -> tuple:
    """The indices of the nonzero elements, one integer array per axis (numpy's
    ``nonzero``): plain data, not differentiable."""
    data = data_of(x)
    return np.nonzero(np.atleast_1d(data))


def argwhere(x: Any) -> np.ndarray:
    """The indices of the nonzero elements as an (n, ndim) integer array: not
    differentiable."""
    data = data_of(x)
    return np.argwhere(data)
