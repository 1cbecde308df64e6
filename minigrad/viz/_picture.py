"""The graphviz.Digraph that ``draw`` returns; imported only when a picture is made.

It is an ordinary ``graphviz.Digraph`` (``.source``, ``.pipe``, ``.render``, ``.view``,
shown inline by Jupyter) whose images come from ``_render``: the system's ``dot`` program
when it is on PATH, Graphviz in WebAssembly otherwise.  ``renderer`` says which one made
the last image.  In Jupyter it never shows a traceback: with no renderer at all it shows
the graph as a text tree and one line saying how to get pictures.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import graphviz

from minigrad.viz import _render

_SVG_OPEN = re.compile(r"<svg\b")


def fit_to_width(svg: str) -> str:
    """The SVG with a style that shrinks it to its container's width (never enlarges it),
    so a wide graph fits a notebook cell or a page instead of being cut off."""
    return _SVG_OPEN.sub('<svg style="max-width:100%;height:auto"', svg, count=1)


class GraphPicture(graphviz.Digraph):
    """A graphviz.Digraph of a minigrad graph (see ``minigrad.draw``)."""

    #: The renderer that made the last image ("dot" or "wasm"), None before the first.
    renderer: _render.Renderer | None = None
    #: Gives the text shown instead of a picture when nothing can render one.
    text_fallback: Callable[[], str] | None = None

    def pipe(  # type: ignore[override]
        self,
        format: str | None = None,
        renderer: str | None = None,
        formatter: str | None = None,
        neato_no_op: Any = None,
        quiet: bool = False,
        *,
        engine: str | None = None,
        encoding: str | None = None,
    ) -> Any:
        """The image as bytes (or text with ``encoding``), from whichever renderer is there."""
        if renderer or formatter or neato_no_op or (engine and engine != "dot"):
            return self._pipe_with_graphviz(format, renderer, formatter, neato_no_op, quiet,
                                            engine, encoding)  # fmt: skip
        data, used = _render.render(self.source, format or self.format)
        self.renderer = used
        return data.decode(encoding) if encoding is not None else data

    def _pipe_with_graphviz(
        self,
        format: str | None,
        renderer: str | None,
        formatter: str | None,
        neato_no_op: Any,
        quiet: bool,
        engine: str | None,
        encoding: str | None,
    ) -> Any:
        """Graphviz's own options (other engines, renderers) need the dot program."""
        try:
            return super().pipe(format, renderer, formatter, neato_no_op, quiet,
                                engine=engine, encoding=encoding)  # fmt: skip
        except graphviz.ExecutableNotFound as error:
            raise _render.GraphvizNotFoundError(
                "engine=, renderer= and formatter= need Graphviz's dot program, which is not "
                "on PATH; without them the picture is drawn in WebAssembly"
            ) from error

    def render(  # type: ignore[override]
        self,
        filename: str | os.PathLike | None = None,
        directory: str | os.PathLike | None = None,
        view: bool = False,
        cleanup: bool = False,
        format: str | None = None,
        *,
        outfile: str | os.PathLike | None = None,
        **options: Any,
    ) -> str:
        """Save the DOT source and write the image beside it, as graphviz does
        (``render("g", format="png")`` writes ``g`` and ``g.png``); return the image path.
        ``cleanup=True`` removes the source; ``view=True`` opens the image.  graphviz's
        ``quiet``, ``quiet_view`` and ``overwrite_source`` are accepted (and have nothing to
        do here); ``engine``, ``renderer`` and ``formatter`` are refused."""
        for harmless in ("quiet", "quiet_view", "overwrite_source"):
            options.pop(harmless, None)
        if options:
            raise TypeError(
                f"render(): {', '.join(sorted(options))} not supported here: use "
                "graphviz.Source(picture.source).render(...) with Graphviz installed"
            )
        if outfile is not None:
            out = Path(outfile)
            format = format or out.suffix.lstrip(".").lower() or self.format
            if filename is None:
                filename = out.with_suffix(".gv").name
                directory = directory or out.parent
        format = format or self.format
        source_path = Path(self.save(filename, directory=directory))
        image_path = Path(outfile) if outfile is not None else Path(f"{source_path}.{format}")
        image_path.write_bytes(self.pipe(format=format))
        if cleanup:
            source_path.unlink()
        if view:
            graphviz.view(image_path)
        return os.fspath(image_path)

    def _repr_mimebundle_(
        self, include: Any = None, exclude: Any = None, **_: Any
    ) -> dict[str, str]:
        """Jupyter's display: the SVG (shrunk to the cell's width when wider), or, with
        no renderer, the text tree and one line on how to get pictures."""
        try:
            svg = self.pipe(format="svg", encoding="utf-8")
        except _render.GraphvizNotFoundError as error:
            return {"text/plain": self._as_text(str(error))}
        except RuntimeError as error:  # a layout that timed out, Graphviz's own complaint
            return {"text/plain": self._as_text(f"No picture: {error}")}
        return {"image/svg+xml": fit_to_width(svg)}

    def _as_text(self, why: str) -> str:
        body = self.text_fallback() if self.text_fallback is not None else self.source
        first = why.split(".  ")[0].rstrip(".")
        return f"{body}\n\n({first}.  For pictures: {_render.INSTALL_HINT}.)"
