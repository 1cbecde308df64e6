"""Pictures of the graph: DOT source written here, laid out and drawn by Graphviz.

``to_dot`` needs neither the graphviz Python package nor a renderer: it returns DOT text.
``draw`` wraps the same text in a ``graphviz.Digraph`` (shown inline by Jupyter, rendered
to files with ``.render``), and ``render_graph`` writes an svg/png/pdf file in one call.
Images come from the system's ``dot`` program when it is on PATH and from Graphviz compiled
to WebAssembly (a dependency of minigrad) otherwise; see ``_render``.

Layout of a picture: each Value is a record ``{ label | shape dtype | data ... | grad ... }``;
each operation is a small separate node (``*``, ``+``, ``tanh``, ``@``, a custom Function's
name) between its inputs and its result, so the picture reads like the expression.
"""

from __future__ import annotations

import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from minigrad.value import Value
from minigrad.viz import _graph as G
from minigrad.viz import _render
from minigrad.viz import _rules as R

if TYPE_CHECKING:  # pragma: no cover
    import graphviz

RANKDIRS = ("LR", "TB", "RL", "BT")

#: Formats render_graph infers from a file name; draw accepts everything Graphviz knows.
FILE_FORMATS = ("svg", "png", "pdf")

# The error raised when no renderer can make an image lives with the renderers.
GraphvizNotFoundError = _render.GraphvizNotFoundError


# ----------------------------------------------------------------------------- styles

_VALUE_STYLE = {
    "intermediate": {"fillcolor": "#ffffff", "color": "#444444"},
    "leaf": {"fillcolor": "#dceaff", "color": "#1f5fa8"},
    "parameter": {"fillcolor": "#ece0f8", "color": "#6a3d9a", "penwidth": "1.8"},
    "constant": {
        "fillcolor": "#f2f2f2",
        "color": "#999999",
        "fontcolor": "#555555",
        "style": "filled,dashed",
    },
    "output": {"fillcolor": "#ffffff", "color": "#000000", "penwidth": "2.8"},
}
#: The legend's words: short, so that no legend entry is wider than a node of the graph.
_KIND_TEXT = {
    "output": "output",
    "leaf": "input (leaf)",
    "parameter": "parameter",
    "constant": "constant",
    "intermediate": "computed",
}
_ERROR_FILL = {"ok": "#bfe8b8", "warn": "#ffdf80", "bad": "#f4a09a"}
_OP_STYLE = {"shape": "ellipse", "style": "filled", "fillcolor": "#f4f4f4", "color": "#777777"}
_CUSTOM_OP_FILL = "#fff1d6"
_HIGHLIGHT = {"color": "#d62728", "penwidth": "3"}
_HIGHLIGHT_FILL = "#ffd9d9"
_SENT_EDGE = {"color": "#d62728", "fontcolor": "#d62728", "penwidth": "2"}


# ----------------------------------------------------------------------------- DOT text

_PLAIN_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|-?(\.[0-9]+|[0-9]+(\.[0-9]*)?)")
_KEYWORDS = {"node", "edge", "graph", "digraph", "subgraph", "strict"}


def dot_id(text: str) -> str:
    """``text`` as a DOT identifier: bare when it can be, otherwise a quoted string."""
    if _PLAIN_ID.fullmatch(text) and text.lower() not in _KEYWORDS:
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def attributes(attrs: dict[str, str]) -> str:
    return " ".join(f"{name}={dot_id(str(value))}" for name, value in attrs.items())


def _label_line(text: str) -> str:
    """One line of a label, with DOT's escapes (\\n, \\N...) neutralised."""
    return text.replace("\\", "\\\\")


def label(lines: list[str]) -> str:
    """A quoted multi-line label (lines joined by DOT's centred line break)."""
    body = "\\n".join(_label_line(line) for line in lines)
    return '"' + body.replace('"', '\\"') + '"'


_RECORD_SPECIAL = re.compile(r'([{}|<>"])')


def record(fields: list[str], across: bool = True) -> str:
    """A quoted record label; record punctuation in the text is escaped.

    ``across=True`` gives ``{ a | b | c }`` (fields side by side when the graph runs left to
    right, stacked when it runs top to bottom); ``across=False`` gives ``a | b | c``,
    which turns the other way.
    """
    escaped = " | ".join(_RECORD_SPECIAL.sub(r"\\\1", _label_line(f)) for f in fields)
    return f'"{{ {escaped} }}"' if across else f'"{escaped}"'


# ----------------------------------------------------------------------------- options


@dataclass
class Options:
    """How a picture is drawn (see ``draw`` for the meaning of each)."""

    rankdir: str = "LR"
    show_data: bool = True
    show_grad: bool = True
    chain_rule: bool = False
    legend: bool = True
    precision: int = 4
    small: int = 6
    errors: dict[int, float] = field(default_factory=dict)
    error_levels: tuple[float, float] = (1e-6, 1e-3)
    title: str = ""
    full_layout: bool = False
    #: Edges ``(id(result), input index)`` drawn from a copy of their input (see ``plan_layout``).
    copied: set[tuple[int, int]] = field(default_factory=set)


@dataclass
class Frame:
    """The state of a backward pass part-way through, for the stepper's pictures.

    ``grads`` holds each Value's gradient so far (absent: nothing reached it yet);
    ``final`` the Values whose gradient is complete; ``current`` the Value being processed;
    ``sent`` what its rule sends each input: ``{(id(child), input index): contribution}``.
    ``every_send`` is what each edge sends at its own step, over the whole pass, and
    ``done`` the edges whose step is over: every frame labels every edge that ever sends
    (in red at its step, grey after, invisible before), so that all frames have the same
    labels, the same layout, and every node stays in its place.
    """

    grads: dict[int, Any]
    final: set[int]
    current: int | None = None
    sent: dict[tuple[int, int], Any] = field(default_factory=dict)
    every_send: dict[tuple[int, int], Any] = field(default_factory=dict)
    done: set[tuple[int, int]] = field(default_factory=set)


def make_options(
    *,
    rankdir: str,
    show_data: bool,
    show_grad: bool,
    chain_rule: bool,
    legend: bool,
    precision: int,
    errors: Any,
    error_levels: Any,
    title: str = "",
    full_layout: bool = False,
) -> Options:
    """Validated Options; TypeError or ValueError naming the bad argument."""
    if not isinstance(rankdir, str) or rankdir.upper() not in RANKDIRS:
        raise ValueError(f"rankdir must be one of {', '.join(RANKDIRS)}, got {rankdir!r}")
    return Options(
        rankdir=rankdir.upper(),
        show_data=bool(show_data),
        show_grad=bool(show_grad),
        chain_rule=bool(chain_rule),
        legend=bool(legend),
        precision=G.check_precision(precision),
        errors=G.error_map(errors),
        error_levels=G.check_levels(
            _default_levels(errors) if error_levels is None else error_levels
        ),
        title=str(title),
        full_layout=bool(full_layout),
    )


def _default_levels(errors: Any) -> tuple[float, float]:
    """Green up to 1e-6; red above the report's own tolerance (rtol) or above 1e-3."""
    rtol = getattr(errors, "rtol", None)
    high = float(rtol) if isinstance(rtol, (int, float)) and rtol > 0 else 1e-3
    return (min(1e-6, high), high)


def check_overlap(selection: G.Selection, options: Options) -> None:
    """Warn when none of the Values given errors is drawn: a gradcheck report's
    ``node_errors`` belong to the graph it rebuilt (``report.localization.output``)."""
    errors = options.errors
    if errors and not any(id(n) in errors for n in selection.nodes):
        warnings.warn(
            f"none of the {len(errors)} Values in errors= is in this picture, so nothing is "
            "coloured; a gradcheck report's node_errors belong to the graph localize() "
            "rebuilt: draw report.localization.output",
            UserWarning,
            stacklevel=4,  # the caller of draw or to_dot (via _prepare)
        )


# ----------------------------------------------------------------------------- layout cost

#: dot's layout time grows much faster than the number of nodes when edges are long: an
#: edge spanning k ranks becomes k hidden nodes, all positioned together.  ``x*x*...*x``
#: with 70 factors has about 4,700 of them and takes dot 25 s (100 factors: minutes).
#: Above this many (about a second of layout), long edges are drawn from copies.
LAYOUT_BUDGET = 2000

#: In a simplified layout, an edge spanning more ranks than this starts from a copy.
LONG_EDGE = 4


def _ranks(selection: G.Selection) -> dict[int, int]:
    """The rank dot would give each shown Value and operation, roughly: the longest path
    from an input (Values by id, operations by -id)."""
    rank: dict[int, int] = {}
    shown = selection.shown
    for node in selection.nodes:  # forward order: inputs first
        if node._op is None:
            rank[id(node)] = 0
            continue
        inputs = [rank[id(p)] for p in node._parents if shown(p) and id(p) in rank]
        rank[-id(node)] = max(inputs, default=-1) + 1
        rank[id(node)] = rank[-id(node)] + 1
    return rank


def plan_layout(
    selection: G.Selection, options: Options, who: str, stacklevel: int = 4
) -> None:
    """Decide which edges to draw from copies so that dot finishes quickly.

    The cost estimate is the number of hidden nodes dot adds for long edges (doubled when
    every edge has a label).  Over LAYOUT_BUDGET, each edge spanning more than LONG_EDGE
    ranks starts from a small copy of its input drawn next to the operation ("x (again)"),
    and a UserWarning says so; ``full_layout=True`` keeps the full layout.
    """
    options.copied = set()
    if options.full_layout:
        return
    rank = _ranks(selection)
    shown = selection.shown
    spans: list[tuple[int, tuple[int, int]]] = []
    for node in selection.nodes:
        if node._op is None:
            continue
        for index, parent in enumerate(node._parents):
            if shown(parent):
                spans.append((rank[-id(node)] - rank[id(parent)], (id(node), index)))
    factor = 2 if options.chain_rule else 1
    cost = factor * sum(span - 1 for span, _ in spans if span > 1)
    if cost <= LAYOUT_BUDGET:
        return
    options.copied = {edge for span, edge in spans if span > LONG_EDGE}
    if options.copied:
        warnings.warn(
            f"{who}: laying out this graph in full would take Graphviz a long time "
            f"({len(options.copied)} long edges), so each of them starts from a copy of its "
            "input drawn beside the operation, marked '(again)'; pass full_layout=True for "
            "the full layout",
            UserWarning,
            stacklevel=stacklevel,
        )


# ----------------------------------------------------------------------------- the builder


class _Builder:
    """Turns a Selection into the lines of a DOT graph body."""

    def __init__(self, selection: G.Selection, options: Options, frame: Frame | None = None):
        self.s = selection
        self.o = options
        self.frame = frame
        self.lines: list[str] = []
        # Gradient contributions along each drawn edge: (id(child), index) -> value.
        self.local: dict[tuple[int, int], Any] = {}
        self.carried: dict[tuple[int, int], Any] = {}
        # How many drawn edges leave each Value: more than one means its gradient is a sum.
        self.uses: dict[int, int] = {}
        self.received: dict[int, list[Any]] = {}

    # -------------------------------------------------------------- numbers and fields

    def num(self, x: Any) -> str:
        return G.summary(x, self.o.precision, self.o.small)

    def _prepare_edges(self) -> None:
        shown = self.s.shown
        for node in self.s.nodes:
            if node._op is None:
                continue
            for parent in node._parents:
                if parent.requires_grad and shown(parent):
                    self.uses[id(parent)] = self.uses.get(id(parent), 0) + 1
            if not self.o.chain_rule or self.frame is not None:
                continue
            local = R.local_derivatives(node)
            carried = R.safe_contributions(node, node.grad)
            for index, parent in enumerate(node._parents):
                if not shown(parent):
                    continue
                if local is not None and local[index] is not None:
                    self.local[(id(node), index)] = local[index]
                if carried is not None and carried[index] is not None:
                    self.carried[(id(node), index)] = carried[index]
                    self.received.setdefault(id(parent), []).append(carried[index])

    def grad_field(self, node: Value) -> str | None:
        if not self.o.show_grad:
            return None
        frame = self.frame
        if frame is not None:
            if not node.requires_grad:
                return None
            if id(node) not in frame.grads:
                return "grad ..."
            g = frame.grads[id(node)]
            text = f"grad {self.num(g)}"
            return text if id(node) in frame.final else f"grad so far {self.num(g)}"
        g = node.grad
        if g is None:
            return None
        text = f"grad {self.num(g)}"
        parts = self.received.get(id(node))
        if parts and self.uses.get(id(node), 0) > 1 and len(parts) > 1:
            pieces = " + ".join(self.num(p) for p in parts)
            if _adds_up(G.data_of(g), parts):
                return f"{text} = {pieces}"
            # The gradient also holds contributions from elsewhere (another output, an
            # earlier backward call): say which part came through the drawn edges.
            return f"{text} (here: {pieces})"
        return text

    def value_fields(self, node: Value) -> list[str]:
        fields = [self.s.label(node)]
        shape = G.shape_text(node)
        if shape:
            fields.append(shape)
        if self.o.show_data:
            fields.append(f"data {self.num(node.data)}")
        grad = self.grad_field(node)
        if grad is not None:
            fields.append(grad)
        err = self.o.errors.get(id(node))
        if err is not None:
            fields.append(f"rel. error {G.number(err, 2)}")
        return fields

    def value_style(self, node: Value) -> dict[str, str]:
        kind = self.s.kind_of(node)
        style = {"shape": "record", "style": "filled"}
        style.update(_VALUE_STYLE[kind])
        err = self.o.errors.get(id(node))
        if err is not None:
            style["fillcolor"] = _ERROR_FILL[G.error_level(err, self.o.error_levels)]
        if self.frame is not None and self.frame.current == id(node):
            style.update(_HIGHLIGHT)
            style["fillcolor"] = _HIGHLIGHT_FILL
        where = getattr(node, "created_at", None)
        if isinstance(where, str):
            style["tooltip"] = f"{self.s.label(node)} created at {where}"
        return style

    def op_lines(self, node: Value) -> list[str]:
        lines = [G.op_symbol(node)]
        lines += G.op_parameters(node)
        for _, const in self.s.folded.get(id(node), ()):
            lines.append(f"const {self.num(const.data)}")
        return lines

    def op_style(self, node: Value) -> dict[str, str]:
        from minigrad.functions import is_primitive

        style = dict(_OP_STYLE)
        if not is_primitive(node._op):
            style["fillcolor"] = _CUSTOM_OP_FILL
            style["tooltip"] = f"custom Function {node._op.__name__}"
        err = self.o.errors.get(id(node))
        if err is not None:  # a gradcheck error is the error of this operation's backward
            style["fillcolor"] = _ERROR_FILL[G.error_level(err, self.o.error_levels)]
        if self.frame is not None and self.frame.current == id(node):
            style.update(_HIGHLIGHT)
            style["fillcolor"] = _HIGHLIGHT_FILL
        return style

    def edge_label(self, node: Value, index: int) -> dict[str, str]:
        """Attributes of the edge from input ``index`` of ``node`` into its op node."""
        parent = node._parents[index]
        reused = self.uses.get(id(parent), 0) > 1
        if self.frame is not None:
            edge = (id(node), index)
            sent = self.frame.every_send.get(edge, self.frame.sent.get(edge))
            if sent is None:
                return {}
            attrs = {"label": label([f"+= {self.num(sent)}"])}
            if edge in self.frame.sent:
                attrs.update(_SENT_EDGE)
            elif edge in self.frame.done:
                attrs["fontcolor"] = "#888888"
            else:  # its step is still to come: the label keeps its place, unseen
                attrs["fontcolor"] = "#ffffff00"
            return attrs
        if not self.o.chain_rule or not parent.requires_grad:
            return {}
        local = self.local.get((id(node), index))
        carried = self.carried.get((id(node), index))
        lines = []
        prefix = "+= " if reused else ""
        if local is not None and np.size(local) == 1:
            # A one-element result: d(result)/d(input) is a number (or a few, per element).
            local_text = self.num(G.one_number(local))
            lines.append(f"local {local_text}")
            g = node.grad
            if carried is not None and g is not None:
                g_text = self.num(G.one_number(g))
                lines.append(f"{prefix}{local_text} x {g_text} = {self.num(G.one_number(carried))}")
        elif carried is not None:
            lines.append(f"{prefix}|grad| {G.number(G.norm(carried), self.o.precision)}")
            lines.append(G.shape_text(parent) or "scalar")
        if not lines:
            return {}
        return {"label": label(lines)}

    # -------------------------------------------------------------- the graph

    def build(self) -> list[str]:
        o = self.o
        out = self.lines
        graph = {"rankdir": o.rankdir, "fontname": "Helvetica", "fontsize": "11"}
        graph.update({"nodesep": "0.25", "ranksep": "0.35"})
        if o.title:
            graph.update({"label": o.title, "labelloc": "t"})
        out.append(f"\tgraph [{attributes(graph)}]\n")
        out.append('\tnode [fontname=Helvetica fontsize=10 height=0.3 margin="0.08,0.03"]\n')
        out.append('\tedge [arrowsize=0.6 color="#555555" fontname=Helvetica fontsize=9]\n')
        self._prepare_edges()
        self._nodes()
        self._edges()
        self._hidden()
        if o.legend:
            self._legend()
        return out

    def _value_statements(self, node: Value) -> list[str]:
        k = self.s.key(node)
        style = attributes(self.value_style(node))
        # Fields are stacked across the direction of the graph (label above data above grad
        # in a picture running left to right), so that a picture stays narrow enough for a
        # page or a notebook cell; a row per Value, as micrograd draws, would make the demo's
        # neuron over 2,000 pixels wide.
        across = self.o.rankdir not in ("LR", "RL")
        fields = record(self.value_fields(node), across)
        lines = [f"\t{k} [label={fields} {style}]\n"]
        if node._op is not None:
            lines.append(
                f"\t{k}_op [label={label(self.op_lines(node))} {attributes(self.op_style(node))}]\n"
            )
        return lines

    def _nodes(self) -> None:
        module = self.s.module
        loose = [n for n in self.s.nodes if id(n) not in module]
        for node in loose:
            self.lines.extend(self._value_statements(node))
        if not module:
            return
        members: dict[tuple[str, ...], list[Value]] = {}
        for node in self.s.nodes:
            path = module.get(id(node))
            if path is not None:
                members.setdefault(path, []).append(node)
        # Every prefix of a module path is a cluster too, so layers.0 holds layers.0.neurons.1.
        paths = set()
        for path in members:
            for i in range(1, len(path) + 1):
                paths.add(path[:i])
        children: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
        for path in sorted(paths):
            children.setdefault(path[:-1], []).append(path)
        numbers = {path: i for i, path in enumerate(sorted(paths), 1)}
        # Nested clusters, opened and closed with an explicit stack.
        stack: list[tuple[str, tuple[str, ...]]] = [("open", p) for p in reversed(children[()])]
        depth = 1
        while stack:
            action, path = stack.pop()
            if action == "close":
                depth -= 1
                self.lines.append("\t" * depth + "}\n")
                continue
            indent = "\t" * depth
            self.lines.append(f"{indent}subgraph cluster_m{numbers[path]} {{\n")
            name = ".".join(path)
            self.lines.append(
                f'{indent}\tgraph [label={dot_id(name)} style="rounded,dashed" color="#8c8c8c"]\n'
            )
            depth += 1
            for node in members.get(path, ()):
                for line in self._value_statements(node):
                    self.lines.append("\t" * (depth - 1) + line)
            stack.append(("close", path))
            for child in reversed(children.get(path, ())):
                stack.append(("open", child))

    def _edges(self) -> None:
        key = self.s.key
        for node in self.s.nodes:
            if node._op is None:
                continue
            k = key(node)
            for index, parent in enumerate(node._parents):
                pk = key(parent)
                if pk is None:
                    continue
                if (id(node), index) in self.o.copied:
                    pk = self._copy_of(parent, f"{pk}_again_{k}_{index}")
                extra = self.edge_label(node, index)
                suffix = f" [{attributes_raw(extra)}]" if extra else ""
                self.lines.append(f"\t{pk} -> {k}_op{suffix}\n")
            self.lines.append(f"\t{k}_op -> {k}\n")

    def _copy_of(self, node: Value, name: str) -> str:
        """A small node standing for ``node`` beside a far-away use (simplified layout)."""
        style = {"shape": "box", "style": "filled,dashed"}
        style.update({k: v for k, v in _VALUE_STYLE[self.s.kind_of(node)].items()
                      if k in ("fillcolor", "color", "fontcolor")})  # fmt: skip
        text = label([f"{self.s.label(node)} (again)"])
        self.lines.append(f"\t{name} [label={text} {attributes(style)}]\n")
        return name

    def _hidden(self) -> None:
        s = self.s
        if not s.hidden_by_limit:
            return
        lines = [
            f"{s.hidden_by_limit:,} more Values not drawn",
            f"(the farthest from the output; max_nodes={s.max_nodes})",
        ]
        style = {"shape": "note", "style": "dashed", "color": "#888888", "fontcolor": "#444444"}
        self.lines.append(f"\thidden [label={label(lines)} {attributes(style)}]\n")
        for node in s.nodes:
            if id(node) in s.cut and node._op is not None:
                self.lines.append(f'\thidden -> {s.key(node)}_op [style=dashed color="#999999"]\n')

    def _legend(self) -> None:
        """The legend: one small node per kind present, stacked in the graph's first
        column (the inputs'), with short words and notes wrapped to short lines, so that it
        is about as wide as an input's record and widens the picture by little or nothing."""
        s, o = self.s, self.o
        entries: list[str] = []
        present = s.kinds()
        for kind in G.KINDS:
            if kind not in present:
                continue
            style = {"shape": "box", "style": "filled"}
            style.update(_VALUE_STYLE[kind])
            entries.append(f"legend_{kind} [label={label([_KIND_TEXT[kind]])} {attributes(style)}]")
        if any(n._op is not None for n in s.nodes):
            entries.append(f"legend_op [label={label(['operation'])} {attributes(_OP_STYLE)}]")
        if o.errors:
            low, high = o.error_levels
            texts = {
                "ok": [f"rel. error <= {G.number(low, 2)}"],
                "warn": [f"rel. error <= {G.number(high, 2)}"],
                "bad": [f"rel. error > {G.number(high, 2)}", "or nan"],
            }
            for level, lines in texts.items():
                style = {"shape": "box", "style": "filled", "fillcolor": _ERROR_FILL[level]}
                entries.append(f"legend_{level} [label={label(lines)} {attributes(style)}]")
        if self.frame is not None:
            style = {"shape": "box", "style": "filled", "fillcolor": _HIGHLIGHT_FILL}
            style.update(_HIGHLIGHT)
            entries.append(
                f"legend_current [label={label(['being processed'])} {attributes(style)}]"
            )
        notes = []
        if o.chain_rule and self.frame is None:
            notes += [
                "edge: local = d(result)/d(input);",
                "local x grad of result",
                "= the gradient sent back;",
                "+= : a Value used several",
                "times gets the sum",
            ]
        if s.hidden_by_limit:
            notes += [
                f"not drawn: {s.hidden_by_limit:,} of {s.total:,}",
                f"Values (max_nodes={s.max_nodes})",
            ]
        if s.hidden_constants:
            notes += [f"hidden: {s.hidden_constants:,} constants", "(shown inside their ops)"]
        if s.hidden_off_path:
            notes += [f"not drawn: {s.hidden_off_path:,} Values", "off the paths from the inputs"]
        if o.copied:
            notes += ["(again): a Value drawn once", "more beside a far-away use,",
                      "to keep the layout quick"]  # fmt: skip
        if notes:
            style = {"shape": "plaintext", "fontsize": "8"}
            entries.append(f"legend_notes [label={label_left(notes)} {attributes(style)}]")
        if not entries:
            return
        self.lines.append("\tsubgraph cluster_legend {\n")
        self.lines.append('\t\tgraph [label=legend color="#bbbbbb" fontsize=8 style=dashed]\n')
        self.lines.append('\t\tnode [fontsize=8 height=0.2 margin="0.05,0.02"]\n')
        for entry in entries:
            self.lines.append(f"\t\t{entry}\n")
        if len(entries) > 1 and o.rankdir in ("TB", "BT"):
            # Left to right, entries without edges share the first column, one above the
            # other; top to bottom, invisible edges stack them the same way.
            names = [entry.split(" ", 1)[0] for entry in entries]
            self.lines.append(f"\t\t{' -> '.join(names)} [style=invis]\n")
        self.lines.append("\t}\n")


def attributes_raw(attrs: dict[str, str]) -> str:
    """Like ``attributes``, but a value already quoted (a label) is written as is."""
    parts = []
    for name, value in attrs.items():
        text = str(value)
        parts.append(f"{name}={text}" if text.startswith('"') else f"{name}={dot_id(text)}")
    return " ".join(parts)


def _adds_up(total: Any, parts: list[Any]) -> bool:
    """True when the contributions sum to the whole gradient (to rounding)."""

    try:
        summed = np.sum(np.stack([np.asarray(p, dtype=np.float64) for p in parts]), axis=0)
        return bool(np.allclose(summed, np.asarray(total, dtype=np.float64), rtol=1e-9, atol=1e-12))
    except ValueError:
        return False


def label_left(lines: list[str]) -> str:
    """A quoted label whose lines are left-aligned (DOT's \\l line ends)."""
    body = "".join(_label_line(line) + "\\l" for line in lines)
    return '"' + body.replace('"', '\\"') + '"'


def dot_source(selection: G.Selection, options: Options, frame: Frame | None = None) -> str:
    """The whole DOT text, byte for byte what ``graphviz.Digraph.source`` would give."""
    body = _Builder(selection, options, frame).build()
    return "digraph {\n" + "".join(body) + "}\n"


def body_lines(selection: G.Selection, options: Options, frame: Frame | None = None) -> list[str]:
    return _Builder(selection, options, frame).build()


# ----------------------------------------------------------------------------- public API


# draw's keyword arguments (all but format) spelled out again, so that help(to_dot) shows
# them; both functions hand them to _prepare.
def to_dot(
    root: Value | list[Value],
    *,
    rankdir: str = "LR",
    show_data: bool = True,
    show_grad: bool = True,
    chain_rule: bool = False,
    max_nodes: int | None = G.DEFAULT_MAX_NODES,
    hide_constants: bool = False,
    inputs: Value | list[Value] | None = None,
    model: Any = None,
    errors: Any = None,
    error_levels: tuple[float, float] | None = None,
    legend: bool = True,
    precision: int = 4,
    title: str = "",
    full_layout: bool = False,
) -> str:
    """The DOT source of the picture ``draw`` makes; needs neither graphviz nor a renderer.

    Same arguments as ``draw`` (without ``format``).  The text is deterministic: the same
    graph gives the same source, with Values numbered v1, v2, ... in forward order.
    """
    selection, options = _prepare(
        "to_dot", root, max_nodes, hide_constants, inputs, model,
        rankdir=rankdir, show_data=show_data, show_grad=show_grad, chain_rule=chain_rule,
        legend=legend, precision=precision, errors=errors, error_levels=error_levels,
        title=title, full_layout=full_layout,
    )  # fmt: skip
    return dot_source(selection, options)


def _prepare(
    who: str,
    root: Any,
    max_nodes: int | None,
    hide_constants: bool,
    inputs: Any,
    model: Any,
    **style: Any,
) -> tuple:
    """What ``draw`` and ``to_dot`` share: the Values to draw, the validated drawing
    options, and the check that an ``errors`` mapping refers to drawn Values."""
    selection = G.select(
        root,
        who=who,
        max_nodes=max_nodes,
        hide_constants=hide_constants,
        inputs=inputs,
        model=model,
    )
    options = make_options(**style)
    check_overlap(selection, options)
    plan_layout(selection, options, who)
    return selection, options


def _graphviz() -> Any:
    """The graphviz package, imported on first use (never when only DOT text is needed)."""
    try:
        import graphviz
    except ImportError as error:
        raise ImportError(
            "pictures need the graphviz Python package: pip install graphviz.  "
            "minigrad.to_dot(root) gives the DOT source without it."
        ) from error
    return graphviz


def check_format(format: Any) -> str:
    """A Graphviz output format name, validated; ValueError naming the known ones."""
    graphviz = _graphviz()
    if not isinstance(format, str) or format.lower() not in graphviz.FORMATS:
        raise ValueError(
            f"unknown image format {format!r}: use 'svg', 'png' or 'pdf' "
            f"(or another Graphviz format: {', '.join(sorted(graphviz.FORMATS))})"
        )
    return format.lower()


def picture(
    body: list[str], format: str = "svg", roots: tuple[Value, ...] = ()
) -> graphviz.Digraph:
    """A graphviz.Digraph holding ``body``, rendered by whichever renderer is there; with
    none, Jupyter shows the text tree of ``roots`` instead."""
    _graphviz()
    from minigrad.viz._picture import GraphPicture

    graph = GraphPicture(format=format)
    graph.body.extend(body)
    if roots:
        graph.text_fallback = lambda: _text_of(roots)
    return graph


def _text_of(roots: tuple[Value, ...]) -> str:
    from minigrad.viz.text import ascii_tree

    return "\n\n".join(ascii_tree(root, max_lines=60) for root in roots)


def draw(
    root: Value | list[Value],
    *,
    format: str = "svg",
    rankdir: str = "LR",
    show_data: bool = True,
    show_grad: bool = True,
    chain_rule: bool = False,
    max_nodes: int | None = G.DEFAULT_MAX_NODES,
    hide_constants: bool = False,
    inputs: Value | list[Value] | None = None,
    model: Any = None,
    errors: Any = None,
    error_levels: tuple[float, float] | None = None,
    legend: bool = True,
    precision: int = 4,
    title: str = "",
    full_layout: bool = False,
) -> graphviz.Digraph:
    """A picture of the computation graph of ``root``, as a ``graphviz.Digraph``.

    In Jupyter the returned object displays itself; ``.render(filename)`` writes an image
    (``format``: 'svg', 'png', 'pdf'...), ``.pipe()`` returns its bytes and ``.source`` is
    the DOT text (the same as ``to_dot``).  Images come from Graphviz's ``dot`` program
    when it is on PATH, otherwise from Graphviz in WebAssembly (svg; png and pdf through
    cairosvg); ``.renderer`` says which made the last one.  With neither,
    ``GraphvizNotFoundError`` says what to install, and Jupyter shows the text tree.

    Each Value is a record: its label (its ``name``, a model parameter's dotted name, or a
    short id ``v1, v2, ...`` numbered in forward order), shape and dtype for arrays, ``data``
    (a scalar, the elements of an array of at most 6, otherwise mean/min/max) and ``grad``
    once a backward pass has filled it.  Operations are separate small nodes.  Leaves,
    parameters, constants and the output are styled differently; a legend says how.

    Options:

    * ``chain_rule=True`` labels each edge input -> operation with the local derivative
      d(result)/d(input) (for one-element results) and the gradient it carries
      (local x grad of the result; for arrays, the norm of what the rule sends), and marks
      with ``+=`` the edges of a Value used several times, whose gradient is their sum.
    * ``max_nodes`` (default 300; None for no limit) keeps the Values nearest to the
      output, breadth first; a dashed note node says how many were left out.
    * ``hide_constants=True`` leaves out constants and writes them inside their operation.
    * ``inputs=[x, ...]`` draws only the Values on paths from those inputs to the output.
    * ``model=`` (anything with ``named_parameters()``, or a ``{name: Value}`` mapping)
      labels parameters with their dotted names and groups them, and the operations that
      consume them, into one cluster per module ("layers.0").
    * ``errors=`` (a gradcheck report, or ``{Value: relative error}``) colours those Values
      green (error <= error_levels[0]), amber (<= error_levels[1]) or red, and prints it.
      ``error_levels`` defaults to (1e-6, the report's rtol, or 1e-3).  A report's
      ``node_errors`` belong to the graph ``localize()`` rebuilt: draw
      ``report.localization.output`` (a warning says so when nothing matches).
    * A graph whose full layout would take Graphviz long (many long edges, as in
      ``x*x*...*x``) is drawn with a copy of the input beside each far-away use, and a
      UserWarning says so; ``full_layout=True`` keeps the full layout.

    Drawing never changes the graph, any ``.data`` or any ``.grad``.

    Raises TypeError if ``root`` is not a Value (or list of Values), ValueError for an
    unknown format or rankdir, and ValueError if ``max_nodes`` < 1.
    """
    format = check_format(format)
    selection, options = _prepare(
        "draw", root, max_nodes, hide_constants, inputs, model,
        rankdir=rankdir, show_data=show_data, show_grad=show_grad, chain_rule=chain_rule,
        legend=legend, precision=precision, errors=errors, error_levels=error_levels,
        title=title, full_layout=full_layout,
    )  # fmt: skip
    return picture(body_lines(selection, options), format, selection.roots)


def writable_file(path: Any, who: str) -> Path:
    """``path`` as a Path whose folder exists and can be written; OSError otherwise."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            f"{who}: the path must be a string or os.PathLike, got {type(path).__name__}"
        )
    path = Path(path)
    folder = path.parent
    if not folder.is_dir():
        raise FileNotFoundError(
            f"{who}: cannot write {str(path)!r}: the folder {str(folder)!r} does not exist"
        )
    if path.is_dir():
        raise IsADirectoryError(f"{who}: cannot write {str(path)!r}: it is a directory")
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise PermissionError(f"{who}: cannot write {str(path)!r}: permission denied")
    return path


def render_graph(
    root: Value | list[Value],
    path: str | os.PathLike,
    *,
    format: str | None = None,
    **options: Any,
) -> Path:
    """Draw the graph of ``root`` and write the image to ``path``; return the path.

    ``format`` defaults to the file's suffix ('svg', 'png' or 'pdf'); other keyword
    arguments are ``draw``'s.  Only the image is written (no DOT file beside it).

    Raises ValueError for an unknown format, FileNotFoundError / PermissionError /
    IsADirectoryError for a path that cannot be written, and GraphvizNotFoundError when
    no renderer can make the format (its message says what to install).
    """
    if format is None:
        suffix = (
            Path(os.fspath(path)).suffix.lower().lstrip(".")
            if isinstance(path, (str, os.PathLike))
            else ""
        )
        if suffix not in FILE_FORMATS:
            raise ValueError(
                f"render_graph: cannot tell the format from {str(path)!r}: end the file name "
                f"with .svg, .png or .pdf, or pass format="
            )
        format = suffix
    format = check_format(format)
    target = writable_file(path, "render_graph")
    image = draw(root, format=format, **options).pipe(format=format)
    try:
        target.write_bytes(image)
    except OSError as error:
        raise type(error)(
            f"render_graph: cannot write {str(target)!r}: {error.strerror or error}"
        ) from error
    return target
