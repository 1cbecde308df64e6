"""What every renderer shares: which Values to show, what to call them, how to print numbers.

``select`` walks the graph once, breadth first from the output(s) with an explicit queue
(never recursion), applies the filters (``inputs``, ``hide_constants``, ``max_nodes``) and
returns a ``Selection``: the Values to show in forward order, their short ids ``v1, v2, ...``,
their labels and kinds, and an honest account of everything that was left out.

Nothing here changes a Value: the walk keeps its own ``id()`` sets instead of marking nodes.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

import numpy as np

from minigrad.value import Value, data_of

#: How many Values a picture shows unless told otherwise: dot lays this out in about a second.
DEFAULT_MAX_NODES = 300

#: Kinds of Values, in the order the legend lists them.
KINDS = ("output", "leaf", "parameter", "constant", "intermediate")

#: Operation symbols drawn in op nodes; other operations show their name.
SYMBOLS = {"add": "+", "mul": "*", "neg": "neg", "pow": "**", "matmul": "@"}

#: Attributes an operation's forward stores on its node that are worth showing ("sum(axis=0)").
_PARAMETERS = ("axis", "keepdims", "axes", "index")


# ----------------------------------------------------------------------------- arguments


def as_roots(root: Any, who: str) -> tuple[Value, ...]:
    """The output Values to draw: one Value, or a non-empty list or tuple of Values.

    Raises TypeError naming what was given instead.
    """
    if isinstance(root, Value):
        return (root,)
    if isinstance(root, (list, tuple)) and root and all(isinstance(r, Value) for r in root):
        unique: dict[int, Value] = {}
        for r in root:
            unique.setdefault(id(r), r)
        return tuple(unique.values())
    hint = ""
    if isinstance(root, (int, float, np.ndarray, np.generic)):
        hint = " (a plain number or array has no graph: compute it from minigrad Values)"
    elif isinstance(root, (list, tuple)):
        hint = " (the list must be non-empty and hold only Values)"
    raise TypeError(
        f"{who}() expects a minigrad Value (or a list of Values) whose graph it shows, "
        f"got {type(root).__name__}{hint}"
    )


def check_limit(value: Any, name: str) -> int | None:
    """None or a positive int; TypeError or ValueError otherwise."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be a positive int or None, got {type(value).__name__}")
    if value < 1:
        raise ValueError(
            f"{name} must be at least 1, got {value}; pass {name}=None to show everything"
        )
    return int(value)


def check_precision(precision: Any) -> int:
    if isinstance(precision, bool) or not isinstance(precision, (int, np.integer)):
        raise TypeError(f"precision must be an int (significant digits), got {precision!r}")
    if not 1 <= precision <= 17:
        raise ValueError(f"precision must be between 1 and 17 significant digits, got {precision}")
    return int(precision)


def parameter_names(model: Any) -> dict[int, str]:
    """``id(parameter) -> dotted name`` from ``model.named_parameters()`` or a mapping.

    Raises TypeError when ``model`` offers neither, or a pair is not (str, Value).
    """
    if model is None:
        return {}
    if hasattr(model, "named_parameters"):
        pairs = model.named_parameters()
    elif isinstance(model, Mapping):
        pairs = model
    else:
        raise TypeError(
            "model must have a named_parameters() method (a minigrad.nn Module) or be a "
            f"mapping from dotted names to Values, got {type(model).__name__}"
        )
    if isinstance(pairs, Mapping):
        pairs = pairs.items()
    names: dict[int, str] = {}
    for pair in pairs:
        try:
            name, value = pair
        except (TypeError, ValueError):
            raise TypeError(
                f"model.named_parameters() must yield (name, Value) pairs, got {pair!r}"
            ) from None
        if not isinstance(name, str) or not isinstance(value, Value):
            raise TypeError(
                "model.named_parameters() must yield (str, Value) pairs, got "
                f"({type(name).__name__}, {type(value).__name__})"
            )
        names.setdefault(id(value), name)
    return names


# ----------------------------------------------------------------------------- selection


@dataclass
class Selection:
    """The Values a renderer shows and everything it needs to know about them."""

    roots: tuple[Value, ...]
    #: The Values shown, in forward (creation) order: inputs before the Values computed from them.
    nodes: list[Value]
    #: How many Values the output(s) depend on, constants included.
    total: int
    #: Values not shown because of ``max_nodes`` (the farthest from the output).
    hidden_by_limit: int = 0
    #: Constants not shown because of ``hide_constants``.
    hidden_constants: int = 0
    #: Values not on a path from the given inputs to the output.
    hidden_off_path: int = 0
    max_nodes: int | None = None
    #: ids of shown Values with an input that ``max_nodes`` cut off.
    cut: set[int] = field(default_factory=set)
    #: ``id(node) -> [(position, constant)]``: hidden constant inputs, shown in the op instead.
    folded: dict[int, list[tuple[int, Value]]] = field(default_factory=dict)
    #: ``id(node) -> module path`` (tuple of dotted-name parts) when a model was given.
    module: dict[int, tuple[str, ...]] = field(default_factory=dict)
    parameter_name: dict[int, str] = field(default_factory=dict)
    #: ``id(node) -> label`` for the shown Values that have a name (see ``label``).
    names: dict[int, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Creation numbers of the shown Values, ascending: a Value's short id is its
        # position here, found by bisection, so a graph of a million Values needs no
        # million-entry dictionary of ids.
        self._ids = [n._created for n in self.nodes]

    def position(self, node: Value) -> int:
        """1 for the first shown Value in forward order, 2 for the next...; 0 if not shown."""
        ids = self._ids
        i = bisect_left(ids, node._created)
        if i < len(ids) and ids[i] == node._created and self.nodes[i] is node:
            return i + 1
        return 0

    def shown(self, node: Value) -> bool:
        return self.position(node) > 0

    def key(self, node: Value) -> str | None:
        """The short id ("v12") of a shown Value, None for a Value not shown."""
        i = self.position(node)
        return f"v{i}" if i else None

    def label(self, node: Value) -> str | None:
        """The Value's name, a parameter's dotted name, or its short id (None if not shown).
        A name several shown Values share gets the short id appended: ``h[v4]``."""
        named = self.names.get(id(node))
        if named is not None:
            return named
        return self.key(node)

    def kind_of(self, node: Value) -> str:
        """One of KINDS: output, leaf, parameter (of the model), constant, intermediate."""
        if node._op is not None:
            return "output" if any(node is r for r in self.roots) else "intermediate"
        if any(node is r for r in self.roots):
            return "output"
        if not node.requires_grad:
            return "constant"
        return "parameter" if id(node) in self.parameter_name else "leaf"

    def kinds(self) -> set[str]:
        """The kinds of the shown Values."""
        return {self.kind_of(n) for n in self.nodes}

    @property
    def hidden(self) -> int:
        return self.hidden_by_limit + self.hidden_constants + self.hidden_off_path


def reachable(roots: tuple[Value, ...]) -> list[Value]:
    """Every Value the roots depend on, breadth first: nearest to the outputs first."""
    seen = {id(r) for r in roots}
    queue = deque(roots)
    found = []
    keep, pop, push, add = found.append, queue.popleft, queue.append, seen.add
    while queue:
        node = pop()
        keep(node)
        for parent in node._parents:
            if id(parent) not in seen:
                add(id(parent))
                push(parent)
    return found


def _creation_order(node: Value) -> int:
    return node._created


def on_paths(everything: list[Value], inputs: Any, roots: tuple[Value, ...]) -> set[int]:
    """ids of the Values on some path from one of ``inputs`` to the outputs.

    Raises TypeError for a non-Value input and ValueError for one the outputs do not use.
    """
    if isinstance(inputs, Value):
        inputs = [inputs]
    if not isinstance(inputs, Iterable) or isinstance(inputs, (str, bytes)):
        raise TypeError(f"inputs must be a Value or a list of Values, got {type(inputs).__name__}")
    inputs = list(inputs)
    if not inputs:
        raise ValueError("inputs is empty: give the Values whose paths to the output to show")
    known = {id(n) for n in everything}
    on: set[int] = set()
    for i, x in enumerate(inputs):
        if not isinstance(x, Value):
            raise TypeError(f"inputs[{i}] is a {type(x).__name__}, not a Value")
        if id(x) not in known:
            raise ValueError(
                f"inputs[{i}] ({x._label()}) is not used to compute the output, so there is "
                "no path from it to draw"
            )
        on.add(id(x))
    for node in sorted(everything, key=_creation_order):  # inputs before their consumers
        if id(node) not in on:
            for parent in node._parents:
                if id(parent) in on:
                    on.add(id(node))
                    break
    return on


def select(
    root: Any,
    *,
    who: str,
    max_nodes: int | None = None,
    hide_constants: bool = False,
    inputs: Any = None,
    model: Any = None,
) -> Selection:
    """Walk the graph of ``root`` once and decide what to show (see the module docstring).

    ``max_nodes`` keeps the Values nearest to the output (breadth first), after the
    ``inputs`` and ``hide_constants`` filters; the output itself is always kept.
    """
    roots = as_roots(root, who)
    max_nodes = check_limit(max_nodes, "max_nodes")
    names = parameter_names(model)
    everything = reachable(roots)
    allowed = everything
    off_path = constants = 0
    if inputs is not None:
        on = on_paths(everything, inputs, roots)
        allowed = [n for n in everything if id(n) in on]
        off_path = len(everything) - len(allowed)
    if hide_constants:
        root_ids = {id(r) for r in roots}
        kept = [n for n in allowed if n.requires_grad or id(n) in root_ids]
        constants = len(allowed) - len(kept)
        allowed = kept
    by_limit = 0
    shown = allowed
    if max_nodes is not None and len(allowed) > max_nodes:
        shown = allowed[: max(max_nodes, len(roots))]
        by_limit = len(allowed) - len(shown)
    shown = sorted(shown, key=_creation_order)
    selection = Selection(
        roots=roots,
        nodes=shown,
        total=len(everything),
        hidden_by_limit=by_limit,
        hidden_constants=constants,
        hidden_off_path=off_path,
        max_nodes=max_nodes,
        parameter_name=names,
    )
    is_shown = selection.shown
    if by_limit:
        allowed_ids = {id(n) for n in allowed}
        for n in shown:
            for p in n._parents:
                if id(p) in allowed_ids and not is_shown(p):
                    selection.cut.add(id(n))
                    break
    if hide_constants:
        for n in shown:
            folded = [
                (i, p) for i, p in enumerate(n._parents) if not p.requires_grad and not is_shown(p)
            ]
            if folded:
                selection.folded[id(n)] = folded
    _name(selection)
    if names:
        _assign_modules(selection)
    return selection


_NAME = attrgetter("name")


def _name(selection: Selection) -> None:
    """Labels: a Value's own name, else its parameter name, else its short id; a name that
    several shown Values share gets the short id appended, so no label is ambiguous."""
    names = selection.parameter_name
    named = []
    counts: dict[str, int] = {}
    for n, text in zip(selection.nodes, map(_NAME, selection.nodes)):
        if text is None and names:
            text = names.get(id(n))
        if text:
            named.append((n, text))
            counts[text] = counts.get(text, 0) + 1
    for n, text in named:
        selection.names[id(n)] = f"{text}[{selection.key(n)}]" if counts[text] > 1 else text


def _common_prefix(paths: list[tuple[str, ...]]) -> tuple[str, ...]:
    first = paths[0]
    length = len(first)
    for p in paths[1:]:
        length = min(length, len(p))
        for i in range(length):
            if p[i] != first[i]:
                length = i
                break
    return first[:length]


#: Operations that count as a layer's activation when applied to its output.
_ACTIVATIONS = {"tanh", "relu", "sigmoid", "exp", "log", "abs", "neg"}


def _assign_modules(selection: Selection) -> None:
    """Give parameters their module (the dotted name without its last part) and the
    operations that belong with them.

    Forward pass: an op that consumes parameters goes to their module (the common prefix
    when they come from several); an op fed only by Values of one module goes there too
    (the additions of a neuron's weighted sum).  Backward pass: such a fed-only op stays
    only if one of its consumers is in the same module, or if it is an activation (tanh,
    relu...) applied directly to a parameter-consuming op.  So a loss computed from the
    last layer's output is not drawn inside that layer.
    """
    names = selection.parameter_name
    module = selection.module
    direct: set[int] = set()  # ops placed because they consume parameters
    for n in selection.nodes:  # forward order: inputs are assigned before their consumers
        if id(n) in names:
            path = tuple(names[id(n)].split(".")[:-1])
            if path:
                module[id(n)] = path
            continue
        if n._op is None:
            continue
        from_parameters = [
            module.get(id(p), ()) for p in n._parents if id(p) in names and p.requires_grad
        ]
        if from_parameters:
            path = _common_prefix(from_parameters)
            if path:
                module[id(n)] = path
                direct.add(id(n))
            continue
        inner = [module.get(id(p)) for p in n._parents if p.requires_grad]
        if inner and all(m is not None for m in inner):
            path = _common_prefix(inner)
            if path:
                module[id(n)] = path
    consumers: dict[int, list[Value]] = {}
    for n in selection.nodes:
        for p in n._parents:
            consumers.setdefault(id(p), []).append(n)
    for n in reversed(selection.nodes):  # consumers are settled before their inputs
        path = module.get(id(n))
        if path is None or id(n) in direct or id(n) in names:
            continue
        kept = any(module.get(id(c), ())[: len(path)] == path for c in consumers.get(id(n), ()))
        if not kept and n.op in _ACTIVATIONS:
            kept = any(id(p) in direct for p in n._parents)
        if not kept:
            del module[id(n)]


# ----------------------------------------------------------------------------- numbers


def number(x: Any, digits: int = 4) -> str:
    """A number with ``digits`` significant digits; whole numbers keep a '.0' (6.0, not 6)."""
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    text = f"{x:.{digits}g}"
    if "e" not in text and "." not in text:
        text += ".0"
    return text


def is_scalar(x: Any) -> bool:
    return type(x) is float or np.ndim(x) == 0


def one_number(x: Any) -> Any:
    """The element of a one-element array (so [[0.5]] prints as 0.5); x otherwise."""
    x = data_of(x)
    if not is_scalar(x) and np.size(x) == 1:
        return np.asarray(x).reshape(-1)[0]
    return x


def array_text(a: np.ndarray, digits: int) -> str:
    """All the elements of a small array: [[1.0, 2.0], [3.0, 4.0]]."""
    return np.array2string(
        np.asarray(a),
        separator=", ",
        formatter={"float_kind": lambda v: number(v, digits), "int_kind": str},
        max_line_width=10**9,
        threshold=10**9,
    ).replace("\n", "")


def summary(x: Any, digits: int = 4, small: int = 6) -> str:
    """A scalar's value, a small array's elements, or a large array's mean, min and max."""
    x = data_of(x)
    if is_scalar(x):
        return number(x, digits)
    a = np.asarray(x)
    if a.size == 0:
        return "empty"
    if a.size <= small:
        return array_text(a, digits)
    with np.errstate(all="ignore"):
        mean = np.mean(a, dtype=np.float64)
    low, high = number(a.min(), digits), number(a.max(), digits)
    return f"mean {number(mean, digits)} min {low} max {high}"


def shape_text(node: Value) -> str:
    """'(3, 4) float32' for arrays, '' for scalars (float64 0-d data included)."""
    if node.shape == () and node.dtype == np.float64:
        return ""
    return f"{node.shape} {node.dtype}"


def norm(x: Any) -> float:
    x = data_of(x)
    if is_scalar(x):
        return abs(float(x))
    with np.errstate(all="ignore"):
        return float(np.sqrt(np.sum(np.square(np.asarray(x, dtype=np.float64)))))


# ----------------------------------------------------------------------------- operations


def op_name(node: Value) -> str:
    return node.op


def op_symbol(node: Value) -> str:
    return SYMBOLS.get(node.op, node.op)


def _index_part(ix: Any) -> str:
    if isinstance(ix, slice):
        text = ("" if ix.start is None else str(ix.start)) + ":"
        text += "" if ix.stop is None else str(ix.stop)
        if ix.step is not None:
            text += f":{ix.step}"
        return text
    if ix is None:
        return "None"
    if ix is Ellipsis:
        return "..."
    if isinstance(ix, np.ndarray):
        if ix.size <= 6:
            return str(ix.tolist()).replace(" ", "")
        return f"<{ix.dtype} array {ix.shape}>"
    return repr(ix)


def index_text(index: Any) -> str:
    parts = index if isinstance(index, tuple) else (index,)
    return "[" + ", ".join(_index_part(p) for p in parts) + "]"


def op_parameters(node: Value) -> list[str]:
    """The non-default parameters the node's forward stored: ['axis=0', 'keepdims=True']."""
    shown = []
    for name in _PARAMETERS:
        value = getattr(node, name, None)  # getattr never creates the node's __dict__
        if value is None or value is False or callable(value):
            continue
        if name == "index":
            shown.append(f"index={index_text(value)}")
        elif name == "keepdims":
            shown.append("keepdims=True")
        else:
            shown.append(f"{name}={value}")
    return shown


# ----------------------------------------------------------------------------- gradcheck errors


def error_map(errors: Any) -> dict[int, float]:
    """``id(node) -> relative error`` from a mapping ``{Value: error}`` or an object with a
    ``node_errors`` mapping (a gradcheck report).  Array errors count by their largest
    element; None entries are skipped.  Raises TypeError for anything else."""
    if errors is None:
        return {}
    source = getattr(errors, "node_errors", errors)
    if not isinstance(source, Mapping):
        raise TypeError(
            "errors must map Values to relative errors, or have a node_errors mapping "
            f"(a gradcheck report), got {type(errors).__name__}"
        )
    found: dict[int, float] = {}
    for node, err in source.items():
        if not isinstance(node, Value):
            raise TypeError(f"errors keys must be Values, got {type(node).__name__}")
        if err is None:
            continue
        try:
            values = np.abs(np.asarray(data_of(err), dtype=np.float64))
        except (TypeError, ValueError):
            raise TypeError(
                f"the error for {node._label()} must be a number, got {err!r}"
            ) from None
        if values.size == 0:
            continue
        found[id(node)] = float("nan") if np.isnan(values).any() else float(values.max())
    return found


def check_levels(levels: Any) -> tuple[float, float]:
    try:
        low, high = (float(v) for v in levels)
    except (TypeError, ValueError):
        raise TypeError(
            f"error_levels must be two numbers (green, amber), got {levels!r}"
        ) from None
    if not 0 <= low <= high:
        raise ValueError(f"error_levels must satisfy 0 <= green <= amber, got {levels!r}")
    return low, high


def error_level(err: float, levels: tuple[float, float]) -> str:
    """'ok' (green) up to levels[0], 'warn' (amber) up to levels[1], else 'bad' (red, nan too)."""
    if math.isnan(err) or err > levels[1]:
        return "bad"
    return "ok" if err <= levels[0] else "warn"
