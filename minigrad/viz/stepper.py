"""Step through a backward pass: one picture per step and a page to flip through them.

``backward_steps`` replays the chain rule exactly as ``backward()`` runs it: the Values
that require grad in reverse topological order (largest creation number first, the order
the engine uses), each one handing its complete gradient to its operation's own
``backward`` rule, which sends one contribution to each input.  The replay keeps its
gradients in a dictionary of its own, so the graph and every ``.grad`` are left as they
were; after it, ``root.backward()`` fills ``.grad`` with the values the last frame shows.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from minigrad.value import Value
from minigrad.viz import _graph as G
from minigrad.viz import _render
from minigrad.viz import _rules as R
from minigrad.viz import dot as D

#: Pages beyond this many steps get slow to render and to read; raise it on purpose.
DEFAULT_MAX_STEPS = 200


@dataclass
class BackwardStep:
    """One step of the backward pass: the Value processed and what its rule sent."""

    #: 1 for the output, then one more per Value processed.
    index: int
    #: The Value's label (its name, or its short id as in the pictures and the trace).
    node: str
    #: Its operation ('' for a leaf).
    op: str
    #: Its complete gradient at this step (None if no gradient reached it).
    grad: Any
    #: The derivative rule applied, in words.
    rule: str
    #: ``(input label, contribution)`` for each input the rule sent a gradient to.
    sent: list[tuple[str, Any]]
    #: The sentence the page shows under the picture.
    caption: str


@dataclass
class BackwardSteps:
    """What ``backward_steps`` wrote: one frame file per step and the HTML page."""

    steps: list[BackwardStep]
    frames: list[Path]
    html: Path
    #: True when the frames are SVG pictures; False when they are DOT source (no ``dot``).
    rendered: bool
    #: Says how the frames were made (and, without ``dot``, how to get pictures).
    note: str = ""
    #: ``label -> gradient`` once every step is done: what ``backward()`` would store.
    grads: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.steps)


def _output_dir(out_dir: Any) -> Path:
    if not isinstance(out_dir, (str, os.PathLike)):
        raise TypeError(
            f"backward_steps: out_dir must be a string or os.PathLike, got {type(out_dir).__name__}"
        )
    folder = Path(out_dir)
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(
            f"backward_steps: cannot write frames into {str(folder)!r}: it is a file, not a folder"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise type(error)(
            f"backward_steps: cannot create the folder {str(folder)!r}: {error.strerror or error}"
        ) from error
    if not os.access(folder, os.W_OK):
        raise PermissionError(
            f"backward_steps: cannot write into {str(folder)!r}: permission denied"
        )
    return folder


def _write(path: Path, data: str | bytes) -> None:
    try:
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data, encoding="utf-8")
    except OSError as error:
        raise type(error)(
            f"backward_steps: cannot write {str(path)!r}: {error.strerror or error}"
        ) from error


def _caption(
    step: int,
    total: int,
    node: Value,
    g: Any,
    sent: list[tuple[str, Any]],
    labels: Callable[[Value], str | None],
    digits: int,
    seeded: bool,
) -> str:
    label = labels(node)
    num = lambda x: G.summary(x, digits, 6)  # noqa: E731
    head = f"Step {step} of {total}: "
    if g is None:
        return head + f"{label}: no gradient reached it (its consumers sent none); skipped."
    if step == 1:
        start = (
            f"start at the output {label} with d({label})/d({label}) = {num(g)}"
            if seeded
            else f"start at the output {label} with the given gradient {num(g)}"
        )
        head += start + ". "
    else:
        head += f"{label} has received everything its consumers send: grad {num(g)}. "
    if node._op is None:
        return head + (
            f"{label} is a leaf, so there is nothing further to send: this is {label}.grad "
            "after backward()."
        )
    args = ", ".join(labels(p) or "const" for p in node._parents)
    text = head + f"{label} = {node.op}({args}); rule: {R.rule_text(node)}."
    if sent:
        text += " Sends " + ", ".join(f"{name} += {num(value)}" for name, value in sent) + "."
    else:
        text += " None of its inputs needs a gradient."
    return text


_STYLE = """
body { font-family: Helvetica, Arial, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.3em; margin: 0 0 .6em 0; }
.controls { display: flex; gap: .6em; align-items: center; margin-bottom: .8em; }
.controls input[type=range] { flex: 1; max-width: 40em; }
button { font-size: 1em; padding: .25em .9em; }
.caption { background: #f6f6f6; border-left: 4px solid #d62728; padding: .5em .8em;
           margin: 0 0 .8em 0; line-height: 1.4; }
.picture svg { max-width: 100%; height: auto; }
.state { font-family: Menlo, Consolas, monospace; font-size: .85em; white-space: pre;
         color: #444; }
.note { color: #8a5a00; }
kbd { border: 1px solid #bbb; border-radius: 3px; padding: 0 .3em; font-size: .85em; }
"""

_SCRIPT = """
(function () {
  var frames = document.querySelectorAll('.frame');
  var slider = document.getElementById('slider');
  var counter = document.getElementById('counter');
  var prev = document.getElementById('prev');
  var next = document.getElementById('next');
  var current = 0;
  function show(i) {
    i = Math.max(0, Math.min(frames.length - 1, i));
    frames[current].hidden = true;
    frames[i].hidden = false;
    current = i;
    slider.value = i + 1;
    counter.textContent = 'step ' + (i + 1) + ' / ' + frames.length;
    prev.disabled = i === 0;
    next.disabled = i === frames.length - 1;
  }
  prev.addEventListener('click', function () { show(current - 1); });
  next.addEventListener('click', function () { show(current + 1); });
  slider.addEventListener('input', function () { show(parseInt(slider.value, 10) - 1); });
  document.addEventListener('keydown', function (event) {
    if (event.target === slider) { return; }
    if (event.key === 'ArrowLeft') { show(current - 1); event.preventDefault(); }
    else if (event.key === 'ArrowRight') { show(current + 1); event.preventDefault(); }
    else if (event.key === 'Home') { show(0); event.preventDefault(); }
    else if (event.key === 'End') { show(frames.length - 1); event.preventDefault(); }
  });
  show(0);
})();
"""


def _inline_svg(svg: str, prefix: str) -> str:
    """An SVG document as an element to embed: no XML prolog, ids made unique per frame."""
    start = svg.find("<svg")
    svg = svg[start:] if start >= 0 else svg
    return svg.replace(' id="', f' id="{prefix}')


def _page(title: str, frames: list[tuple[str, str, str, str]], note: str) -> str:
    """The self-contained HTML page: frames are (caption, picture html, state text, DOT)."""
    count = len(frames)
    parts = [
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n',
        f"<title>{html.escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n",
        f"<h1>{html.escape(title)}</h1>\n",
        '<div class="controls">\n'
        '<button id="prev" type="button">&#9664; previous</button>\n'
        f'<input id="slider" type="range" min="1" max="{count}" value="1" '
        'aria-label="backward step">\n'
        '<button id="next" type="button">next &#9654;</button>\n'
        f'<span id="counter">step 1 / {count}</span>\n'
        "<span>(<kbd>&larr;</kbd> <kbd>&rarr;</kbd> keys)</span>\n</div>\n",
    ]
    if note:
        parts.append(f'<p class="note">{html.escape(note)}</p>\n')
    for i, (caption, picture, state, source) in enumerate(frames, 1):
        hidden = "" if i == 1 else " hidden"
        parts.append(
            f'<div class="frame" id="step-{i}"{hidden}>\n'
            f'<p class="caption">{html.escape(caption)}</p>\n'
            f'<div class="picture">{picture}</div>\n'
            f'<details class="grads"{"" if picture else " open"}><summary>gradients so far'
            f'</summary><div class="state">{html.escape(state)}</div></details>\n'
            f'<details class="source"><summary>DOT source of this frame</summary>'
            f'<pre class="state">{html.escape(source)}</pre></details>\n</div>\n'
        )
    parts.append(f"<script>{_SCRIPT}</script>\n</body>\n</html>\n")
    return "".join(parts)


def backward_steps(
    root: Value,
    out_dir: str | os.PathLike,
    *,
    gradient: Any = None,
    max_steps: int | None = DEFAULT_MAX_STEPS,
    render: bool = True,
    hide_constants: bool = False,
    show_data: bool = True,
    rankdir: str = "LR",
    precision: int = 4,
    title: str | None = None,
    full_layout: bool = False,
) -> BackwardSteps:
    """Write the backward pass of ``root`` as one frame per step, plus ``index.html``.

    Step k processes the k-th Value in the order ``backward()`` uses (reverse topological:
    the output first, every consumer before its inputs).  Its frame highlights that Value,
    shows every gradient filled in so far ("grad so far" while contributions are still
    arriving, "grad ..." before any has), and labels the edges with what its rule sends
    (``+= contribution``).  The caption names the Value, the rule and the contributions.

    Frames are ``frame_001.svg``, ``frame_002.svg``... when Graphviz's ``dot`` program is
    available (and ``render=True``), otherwise ``frame_001.dot``... (DOT source) and the
    result's ``note`` says so.  ``index.html`` embeds every frame inline, with previous /
    next buttons, a slider and the arrow keys; it loads nothing from anywhere.

    ``gradient`` is the starting gradient (needed when ``root`` is not a scalar, as for
    ``backward``).  Nothing is modified: not the graph, not ``.data``, not ``.grad``.

    Raises TypeError if ``root`` is not a Value, RuntimeError if it does not require grad
    (or is not a scalar and no gradient is given), ValueError if the pass has more than
    ``max_steps`` steps, and OSError (NotADirectoryError, PermissionError...) naming the
    path when ``out_dir`` cannot be written.
    """
    if not isinstance(root, Value):
        raise TypeError(
            f"backward_steps() expects the minigrad Value to backpropagate from, "
            f"got {type(root).__name__}"
        )
    max_steps = G.check_limit(max_steps, "max_steps")
    digits = G.check_precision(precision)
    start = R.seed(root, gradient)
    selection = G.select(root, who="backward_steps", hide_constants=hide_constants)
    order = sorted(
        (n for n in G.reachable((root,)) if n.requires_grad), key=lambda n: n._created, reverse=True
    )
    if max_steps is not None and len(order) > max_steps:
        raise ValueError(
            f"the backward pass of this graph has {len(order):,} steps, more than "
            f"max_steps={max_steps}; pass a larger max_steps (or None) to write them all, "
            "or step through a smaller graph"
        )
    options = D.make_options(
        rankdir=rankdir,
        show_data=show_data,
        show_grad=True,
        chain_rule=False,
        legend=True,
        precision=digits,
        errors=None,
        error_levels=None,
        full_layout=full_layout,
    )
    D.plan_layout(selection, options, "backward_steps", stacklevel=3)
    folder = _output_dir(out_dir)
    labels = selection.label

    # Replay the chain rule into our own dictionary (the engine's loop, without storing).
    grads: dict[int, Any] = {id(root): start}
    final: set[int] = set()
    steps: list[BackwardStep] = []
    frames: list[D.Frame] = []
    for k, node in enumerate(order, 1):
        g = grads.get(id(node))
        final.add(id(node))
        sent_edges: dict[tuple[int, int], Any] = {}
        sent: list[tuple[str, Any]] = []
        if node._op is not None and g is not None:
            for index, (parent, c) in enumerate(zip(node._parents, R.contributions(node, g))):
                if c is None:
                    continue
                previous = grads.get(id(parent))
                grads[id(parent)] = c if previous is None else previous + c  # never in place
                sent_edges[(id(node), index)] = c
                sent.append((labels(parent) or "?", c))
        caption = _caption(k, len(order), node, g, sent, labels, digits, gradient is None)
        steps.append(
            BackwardStep(
                index=k,
                node=labels(node),
                op=node.op,
                grad=g,
                rule=R.rule_text(node),
                sent=sent,
                caption=caption,
            )
        )
        frame = D.Frame(grads=dict(grads), final=set(final), current=id(node), sent=sent_edges)
        frames.append(frame)
    # Every frame labels every edge that sends at some step (see D.Frame), so that all
    # frames share one layout.
    every_send: dict[tuple[int, int], Any] = {}
    for frame in frames:
        frame.done = set(every_send)
        every_send.update(frame.sent)
    for frame in frames:
        frame.every_send = every_send

    name = labels(root)
    page_title = title if title is not None else f"Backward pass of {name}, step by step"
    width = max(3, len(str(len(order))))
    rendered = bool(render)
    note = ""
    written: list[Path] = []
    pictures: list[str] = []
    options.title = ""  # the page says which step; a per-step title would move the nodes
    bodies = [D.body_lines(selection, options, frame) for frame in frames]
    if rendered:
        bodies = _same_sizes(bodies)
    sources: list[str] = []
    for k, body in enumerate(bodies, 1):
        sources.append("digraph {\n" + "".join(body) + "}\n")
        svg = None
        if rendered:
            try:
                svg = D.picture(body, "svg").pipe(format="svg", encoding="utf-8")
            except (D.GraphvizNotFoundError, ImportError):
                rendered = False
                note = (
                    "No renderer for pictures was found, so the frames are DOT source "
                    "(.dot files) and this page shows each step as text.  For pictures: "
                    f"{_render.INSTALL_HINT}; then run backward_steps again."
                )
        if svg is not None:
            path = folder / f"frame_{k:0{width}d}.svg"
            _write(path, svg)
            pictures.append(_inline_svg(svg, f"s{k}-"))
        else:
            path = folder / f"frame_{k:0{width}d}.dot"
            _write(path, sources[-1])
            pictures.append("")
        written.append(path)
    if rendered:
        note = f"{len(written)} SVG frames in {folder}"
    elif not note:
        note = "render=False: the frames are DOT source (.dot files)"

    states = [_state_text(selection, frame, digits) for frame in frames]
    page = _page(
        page_title,
        [(s.caption, p, t, d) for s, p, t, d in zip(steps, pictures, states, sources)],
        "" if rendered else note,
    )
    html_path = folder / "index.html"
    _write(html_path, page)
    final_grads = {labels(n): grads.get(id(n)) for n in reversed(order)}
    return BackwardSteps(
        steps=steps, frames=written, html=html_path, rendered=rendered, note=note, grads=final_grads
    )


_NODE_LINE = re.compile(r"^(\t+)([A-Za-z_][A-Za-z0-9_]*) \[label=(\"(?:[^\"\\\\]|\\\\.)*\")(.*)\]$")


def _same_sizes(bodies: list[list[str]]) -> list[list[str]]:
    """The frames' DOT bodies with every node given one fixed size in all of them.

    A node's text changes from frame to frame ("grad ...", "grad so far 0.5", "grad 0.5"),
    and Graphviz sizes nodes by their text, so the layout, and every node's place, would
    change too.  One layout of a frame whose nodes carry their longest text gives each
    node its size; every frame then gets ``width``, ``height`` and ``fixedsize``.  Without
    a renderer (or if the measuring layout fails) the bodies are returned as they are.
    """
    longest: dict[str, str] = {}
    for body in bodies:
        for line in body:
            match = _NODE_LINE.match(line.rstrip("\n"))
            if match:
                name, text = match.group(2), match.group(3)
                if len(text) > len(longest.get(name, "")):
                    longest[name] = text
    measure = []
    for line in bodies[0]:
        match = _NODE_LINE.match(line.rstrip("\n"))
        if match and match.group(2) in longest:
            indent, name, _, rest = match.groups()
            line = f"{indent}{name} [label={longest[name]}{rest}]\n"
        measure.append(line)
    try:
        plain, _ = _render.render("digraph {\n" + "".join(measure) + "}\n", "plain")
    except RuntimeError:
        return bodies
    sizes = {}
    for row in plain.decode("utf-8", "replace").splitlines():
        fields = row.split()
        if len(fields) >= 6 and fields[0] == "node":
            sizes[fields[1]] = (float(fields[4]), float(fields[5]))
    fixed = []
    for body in bodies:
        lines = []
        for line in body:
            match = _NODE_LINE.match(line.rstrip("\n"))
            if match and match.group(2) in sizes:
                w, h = sizes[match.group(2)]
                line = line.rstrip("\n")[:-1] + f" width={w:.4f} height={h:.4f} fixedsize=true]\n"
            lines.append(line)
        fixed.append(lines)
    return fixed


def _state_text(selection: G.Selection, frame: D.Frame, digits: int) -> str:
    """The gradients of a frame as text, one Value per line, in forward order."""
    rows = []
    for node in selection.nodes:
        if not node.requires_grad:
            continue
        label = selection.label(node)
        marker = ">" if frame.current == id(node) else " "
        if id(node) not in frame.grads:
            rows.append(f"{marker} {label}: ...")
            continue
        g = G.summary(frame.grads[id(node)], digits, 6)
        done = "" if id(node) in frame.final else "  (so far)"
        rows.append(f"{marker} {label}: {g}{done}")
    return "\n".join(rows)
