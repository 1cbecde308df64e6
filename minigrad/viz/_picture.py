"""The graphviz.Digraph that ``draw`` returns; imported only when a picture is made.

It is an ordinary ``graphviz.Digraph`` (shown inline by Jupyter, ``.render``, ``.pipe``,
``.view``, ``.source``) whose rendering turns graphviz's terse "executable not found"
into ``GraphvizNotFoundError``, which says how to install Graphviz and where the DOT
source is.  Jupyter's display and ``.view`` go through ``pipe`` and ``render``.
"""

from __future__ import annotations

from typing import Any

import graphviz

from minigrad.viz.dot import GraphvizNotFoundError


class GraphPicture(graphviz.Digraph):
    """A graphviz.Digraph of a minigrad graph (see ``minigrad.draw``)."""

    def pipe(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().pipe(*args, **kwargs)
        except graphviz.ExecutableNotFound as error:
            raise GraphvizNotFoundError() from error

    def render(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().render(*args, **kwargs)
        except graphviz.ExecutableNotFound as error:
            raise GraphvizNotFoundError() from error
