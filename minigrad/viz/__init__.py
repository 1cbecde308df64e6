"""Seeing the graph: pictures, text traces and a step-through backward pass.

This package reads the graph; the engine never imports it.  Every traversal uses an
explicit stack or queue, so a chain of a million operations is as safe as ten.
graphviz (the Python package) is imported only when a picture object is built.

* ``draw(root)``: a graphviz.Digraph (inline in Jupyter, ``.render`` to svg/png/pdf);
  ``render_graph(root, "graph.svg")`` writes the file in one call.
* ``to_dot(root)``: the DOT source, with neither graphviz nor ``dot`` installed.
* ``trace(root)``: every step in forward order with values and gradients.
* ``ascii_tree(root)``: the graph as an indented tree, from the output down.
* ``to_json(root)``: nodes, edges, values and gradients for other tools.
* ``backward_steps(root, out_dir)``: one frame per backward step and an HTML page to step
  through them.
"""

from minigrad.viz.dot import GraphvizNotFoundError, draw, render_graph, to_dot
from minigrad.viz.stepper import BackwardStep, BackwardSteps, backward_steps
from minigrad.viz.text import ascii_tree, to_json, trace

__all__ = [
    "draw",
    "to_dot",
    "render_graph",
    "GraphvizNotFoundError",
    "trace",
    "ascii_tree",
    "to_json",
    "backward_steps",
    "BackwardSteps",
    "BackwardStep",
]
