"""The graph without pictures: a step-by-step trace, an ASCII tree and JSON.

None of these needs Graphviz.  They share the labels of the pictures (a Value's name, or
a short id ``v1, v2, ...`` numbered in forward order), so a line of the trace and a node
of the picture of the same graph have the same name.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from minigrad.value import Value
from minigrad.viz import _graph as G


class GraphText(str):
    """The text of a trace or a tree: an ordinary ``str`` that Jupyter and IPython show as
    the text itself (line breaks and all), not as a quoted string with ``\\n`` in it."""

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))

    def _repr_html_(self) -> str:
        import html

        return f"<pre>{html.escape(str(self))}</pre>"


_TAGS = {"leaf": "leaf", "parameter": "parameter", "constant": "constant", "output": "output"}
_GRAD_COLUMN_LIMIT = 72


def value_text(x: Any, digits: int, small: int = 8) -> str:
    """A scalar, a small array's elements, or 'array(shape) mean .. min .. max ..'; a dtype
    other than float64 is named."""
    x = G.data_of(x)
    if type(x) is float:
        return G.number(x, digits)
    a = np.asarray(x)
    dtype = "" if a.dtype == np.float64 else f" {a.dtype}"
    if a.ndim == 0:
        return G.number(a, digits) + dtype
    if a.size == 0:
        return f"array{a.shape} empty{dtype}"
    if a.size <= small:
        return G.array_text(a, digits) + dtype
    return f"array{a.shape} {G.summary(a, digits, 0)}{dtype}"


class _Describer:
    """Formats one Value as ``label = op(inputs) = value`` (the left part of a trace line)."""

    def __init__(self, selection: G.Selection, digits: int):
        self.s = selection
        self.digits = digits

    def name_of(self, node: Value) -> str:
        label = self.s.label(node)
        if label is not None:
            return label
        if not node.requires_grad:  # a hidden constant: show its value instead
            return value_text(node.data, self.digits, 4)
        return "<not shown>"

    def left(self, node: Value) -> str:
        s = self.s
        label = s.label(node)
        value = value_text(node.data, self.digits)
        if node._op is None:
            text = f"{label} = {value}"
        else:
            args = [self.name_of(p) for p in node._parents]
            args += G.op_parameters(node)
            text = f"{label} = {node.op}({', '.join(args)}) = {value}"
        tag = _TAGS.get(s.kind_of(node))
        return f"{text}  ({tag})" if tag else text

    def grad(self, node: Value) -> str:
        g = node.grad
        return "" if g is None else f"grad {value_text(g, self.digits)}"


def trace(
    root: Value | list[Value],
    *,
    precision: int = 6,
    max_lines: int | None = None,
    hide_constants: bool = False,
    show_grad: bool = True,
) -> GraphText:
    """Every step of the computation of ``root``, one line per Value in forward order
    (inputs first, the output last), with its value and, after a backward pass, its
    gradient::

        x1 = 2.0  (leaf)                  grad -1.5
        v6 = mul(x1, w1) = -6.0           grad 0.5

    Values are named by their ``name`` or a short id (``v6``) as in the pictures; arrays
    show their elements when there are at most 8, otherwise their shape, mean, min and max.
    ``hide_constants=True`` writes constants inside the operations that use them.
    ``max_lines`` keeps the first and last steps of a long graph and says how many were
    left out.  Iterative: a chain of a million steps is fine (give ``max_lines`` to keep
    the text short).

    The result is a ``str`` that Jupyter displays as the text itself.

    Raises TypeError if ``root`` is not a Value; ValueError if ``max_lines`` < 1.
    """
    digits = G.check_precision(precision)
    max_lines = G.check_limit(max_lines, "max_lines")
    selection = G.select(root, who="trace", hide_constants=hide_constants)
    nodes = selection.nodes
    omitted = 0
    if max_lines is not None and len(nodes) > max_lines:
        head = max_lines // 2
        omitted = len(nodes) - max_lines
        parts = [nodes[:head], nodes[len(nodes) - (max_lines - head) :]]
    else:
        head = len(nodes)
        parts = [nodes]
    describe = _Describer(selection, digits)
    rows = [
        (describe.left(n), describe.grad(n) if show_grad else "") for part in parts for n in part
    ]
    width = min(max((len(left) for left, _ in rows), default=0), _GRAD_COLUMN_LIMIT)
    lines = [f"{left.ljust(width)}   {grad}" if grad else left for left, grad in rows]
    if omitted:
        lines.insert(head, f"... {omitted:,} more steps not shown (max_lines={max_lines}) ...")
    return GraphText("\n".join(lines))


def ascii_tree(
    root: Value,
    *,
    precision: int = 6,
    max_depth: int | None = 100,
    max_lines: int | None = None,
    hide_constants: bool = False,
    unicode: bool = False,
) -> GraphText:
    """The graph as a tree printed from the output down to its inputs::

        o = tanh(n) = 0.707107  (output)  grad 1.0
        `-- n = add(v8, b) = 0.881374  grad 0.5
            |-- v8 = add(v6, v7) = -6.0  grad 0.5
            ...

    A Value used more than once is printed in full the first time and then referenced
    (``x (see above)``), so the text grows with the graph, not with the number of paths.
    Deeper than ``max_depth`` levels the tree says what it left out; ``max_lines`` cuts
    the text.  ``unicode=True`` draws the branches with box-drawing characters.
    Iterative (explicit stack).  The result is a ``str`` that Jupyter displays as the text
    itself.

    Raises TypeError if ``root`` is not a Value; ValueError for limits < 1.
    """
    digits = G.check_precision(precision)
    max_depth = G.check_limit(max_depth, "max_depth")
    max_lines = G.check_limit(max_lines, "max_lines")
    if isinstance(root, (list, tuple)):
        raise TypeError("ascii_tree() draws one output: pass a single Value")
    selection = G.select(root, who="ascii_tree", hide_constants=hide_constants)
    describe = _Describer(selection, digits)
    if unicode:
        tee, last, pipe, blank = "├── ", "└── ", "│   ", "    "
    else:
        tee, last, pipe, blank = "|-- ", "`-- ", "|   ", "    "

    def line(node: Value) -> str:
        grad = describe.grad(node)
        return f"{describe.left(node)}  {grad}" if grad else describe.left(node)

    lines = [line(root)]
    printed = {id(root)}
    shown = selection.shown
    truncated = False
    # Pre-order, depth first: each entry is (node, prefix of its line, is it the last
    # input of its consumer, depth).  Inputs are pushed in reverse so the first pops first,
    # and a node's whole subtree is printed before its next sibling.
    stack: list[tuple[Value, str, bool, int]] = []

    def push_inputs(node: Value, prefix: str, depth: int) -> None:
        children = [p for p in node._parents if shown(p)]
        if not children:
            return
        if max_depth is not None and depth >= max_depth:
            lines.append(f"{prefix}{last}... inputs deeper than max_depth={max_depth} not shown")
            return
        for i in range(len(children) - 1, -1, -1):
            stack.append((children[i], prefix, i == len(children) - 1, depth + 1))

    push_inputs(root, "", 0)
    while stack:
        if max_lines is not None and len(lines) >= max_lines:
            truncated = True
            break
        node, prefix, is_last, depth = stack.pop()
        branch = last if is_last else tee
        if id(node) in printed:
            lines.append(f"{prefix}{branch}{selection.label(node)} (see above)")
            continue
        printed.add(id(node))
        lines.append(f"{prefix}{branch}{line(node)}")
        push_inputs(node, prefix + (blank if is_last else pipe), depth)
    if truncated:
        lines.append(f"... cut at max_lines={max_lines}")
    return GraphText("\n".join(lines))


# ----------------------------------------------------------------------------- JSON


def _json_number(x: float) -> float | str:
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def json_data(x: Any, max_elements: int) -> Any:
    """A number, a nested list (arrays of at most ``max_elements``) or a summary dict;
    nan and inf become the strings "nan", "inf", "-inf" so the JSON stays valid."""
    x = G.data_of(x)
    if x is None:
        return None
    if G.is_scalar(x):
        return _json_number(float(x))
    a = np.asarray(x, dtype=np.float64)
    if a.size <= max_elements:
        if np.isfinite(a).all():
            return a.tolist()
        as_objects = a.astype(object)
        for index in zip(*np.nonzero(~np.isfinite(a))):
            as_objects[index] = _json_number(float(a[index]))
        return as_objects.tolist()
    with np.errstate(all="ignore"):
        return {
            "summary": True,
            "mean": _json_number(float(np.mean(a))),
            "min": _json_number(float(np.min(a))),
            "max": _json_number(float(np.max(a))),
            "norm": _json_number(float(np.sqrt(np.sum(a * a)))),
        }


def graph_dict(
    root: Value | list[Value],
    *,
    max_nodes: int | None = None,
    hide_constants: bool = False,
    inputs: Any = None,
    model: Any = None,
    max_elements: int = 64,
) -> dict:
    """The dictionary ``to_json`` serialises (see there)."""
    max_elements = G.check_limit(max_elements, "max_elements")
    s = G.select(
        root,
        who="to_json",
        max_nodes=max_nodes,
        hide_constants=hide_constants,
        inputs=inputs,
        model=model,
    )
    nodes = []
    edges = []
    for node in s.nodes:
        k = s.key(node)
        entry: dict[str, Any] = {
            "id": k,
            "label": s.label(node),
            "name": node.name,
            "kind": s.kind_of(node),
            "op": node.op or None,
            "shape": list(node.shape),
            "dtype": str(node.dtype),
            "requires_grad": node.requires_grad,
            "data": json_data(node.data, max_elements),
            "grad": json_data(node.grad, max_elements),
            "parents": [s.key(p) for p in node._parents],
        }
        params = G.op_parameters(node)
        if params:
            entry["params"] = params
        if id(node) in s.parameter_name:
            entry["parameter"] = s.parameter_name[id(node)]
        if id(node) in s.module:
            entry["module"] = ".".join(s.module[id(node)])
        if id(node) in s.cut:
            entry["inputs_not_shown"] = True
        where = getattr(node, "created_at", None)
        if isinstance(where, str):
            entry["created_at"] = where
        nodes.append(entry)
        for index, parent in enumerate(node._parents):
            pk = s.key(parent)
            if pk is not None:
                edges.append({"source": pk, "target": k, "input": index})
    return {
        "format": "minigrad-graph",
        "version": 1,
        "outputs": [s.key(r) for r in s.roots],
        "nodes": nodes,
        "edges": edges,
        "hidden": {
            "total_values": s.total,
            "by_max_nodes": s.hidden_by_limit,
            "constants": s.hidden_constants,
            "off_path": s.hidden_off_path,
        },
    }


# graph_dict's arguments (and indent) spelled out again, so that help(to_json) shows them.
def to_json(
    root: Value | list[Value],
    *,
    max_nodes: int | None = None,
    hide_constants: bool = False,
    inputs: Any = None,
    model: Any = None,
    max_elements: int = 64,
    indent: int | None = None,
) -> str:
    """The graph as JSON, for other tools: ``{"format": "minigrad-graph", "version": 1,
    "outputs": [...], "nodes": [...], "edges": [...], "hidden": {...}}``.

    Each node has ``id`` (v1, v2... in forward order), ``label``, ``name``, ``kind``
    (output, leaf, parameter, constant, intermediate), ``op`` (null for leaves), ``shape``,
    ``dtype``, ``requires_grad``, ``data``, ``grad`` (null before backward) and ``parents``
    (ids, in argument order; null for an input not included).  Arrays of at most
    ``max_elements`` are nested lists, larger ones ``{"summary": true, "mean", "min",
    "max", "norm"}``; nan and inf are the strings "nan", "inf", "-inf".  Each edge is
    ``{"source", "target", "input"}``.  ``hidden`` counts what the filters left out
    (``max_nodes``, ``hide_constants``, ``inputs`` as in ``draw``).

    Raises TypeError if ``root`` is not a Value; ValueError for limits < 1.
    """
    return json.dumps(
        graph_dict(
            root,
            max_nodes=max_nodes,
            hide_constants=hide_constants,
            inputs=inputs,
            model=model,
            max_elements=max_elements,
        ),
        indent=indent,
        allow_nan=False,
    )
