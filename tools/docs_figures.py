"""MkDocs hook: the figures of the documentation, made from the code on the page at build time.

A code block fenced as ```` ```python figure ```` is shown as an ordinary Python block and
also run when the site is built; what it shows follows it on the page:

* the value of its last line, if that line is an expression: a graph picture
  (``minigrad.draw``) becomes an SVG image, a matplotlib Figure a PNG image, an object
  with ``_repr_html_`` (a gradient-check report) its HTML, a string a text block;
* a step-through page (``minigrad.backward_steps``), copied into the site and shown in a
  frame, with a link to open it on its own;
* every pyplot figure the block left open, as a PNG image;
* what it printed, as a text block.

The figure blocks of a page run in order in one namespace, so a later block can use what
an earlier one computed.  An exception stops the build with the page and block named,
unless the fence says the block raises it (```` ```python figure raises="GradcheckError" ````,
for a page that then quotes the message itself): then the build stops if the block does
*not* raise it.
Images are written into ``figures/`` in the built site.  The fence may also carry
``alt="..."``, the images' alternative text.

On the notebooks' pages, the TeX of markdown cells becomes MathML (``on_post_page``), so
that formulas are drawn by the browser with nothing loaded from the network.
"""

from __future__ import annotations

import contextlib
import html
import io
import re
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display at build time

_FENCE = re.compile(r"^```python figure(?P<info>[^\n]*)\n(?P<code>.*?)^```[ \t]*$", re.S | re.M)
_ALT = re.compile(r'alt="([^"]*)"')
_RAISES = re.compile(r'raises="([^"]*)"')

#: Images made during this build: site-relative path -> bytes, written after the build.
_images: dict[str, bytes] = {}


def on_pre_build(config: Any) -> None:
    _images.clear()


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if "```python figure" not in markdown:
        return markdown
    stem = Path(page.file.src_uri).with_suffix("").as_posix().replace("/", "-")
    namespace: dict[str, Any] = {"__name__": f"docs_{stem}"}
    count = 0

    def replace(match: re.Match) -> str:
        nonlocal count
        count += 1
        code = match.group("code")
        alt_match = _ALT.search(match.group("info"))
        alt = alt_match.group(1) if alt_match else "the figure made by the code above"
        raises_match = _RAISES.search(match.group("info"))
        raises = raises_match.group(1) if raises_match else None
        where = f"docs/{page.file.src_uri}, figure block {count}"
        shown = _run(code, namespace, where, raises)
        parts = [f"```python\n{code}```\n"]
        for k, (kind, content) in enumerate(shown, 1):
            if kind == "text":
                parts.append(f"```text\n{content.rstrip()}\n```\n")
            elif kind == "steps":
                name = f"figures/{stem}-{count}-{k}-steps.html"
                _images[name] = content
                parts.append(
                    f'<iframe class="mg-steps" src="{name}" title="{html.escape(alt)}"></iframe>\n'
                    f'<p><a href="{name}">Open the step-through page on its own</a></p>\n'
                )
            elif kind == "html":
                body = re.sub(r"\n\s*\n", "\n", content.strip())  # a blank line would end it
                parts.append(f'<div class="mg-output">\n{body}\n</div>\n')
            else:  # an image: kind is the file suffix
                name = f"figures/{stem}-{count}-{k}.{kind}"
                _images[name] = content
                # A wide graph is shrunk to the page's width; a click opens it full size.
                parts.append(
                    f'<figure class="mg-figure"><a href="{name}" title="open full size">'
                    f'<img src="{name}" alt="{html.escape(alt)}"></a></figure>\n'
                )
        return "\n".join(parts)

    return _FENCE.sub(replace, markdown)


def _run(
    code: str, namespace: dict[str, Any], where: str, raises: str | None = None
) -> list[tuple[str, Any]]:
    """Run one block; return what it shows as (kind, content) pairs."""
    import ast

    import matplotlib.pyplot as plt

    plt.close("all")
    tree = ast.parse(code, where)
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = ast.Expression(tree.body.pop().value)
    printed = io.StringIO()
    failure = False
    value = None
    try:
        with contextlib.redirect_stdout(printed):
            exec(compile(tree, where, "exec"), namespace)  # noqa: S102
            value = eval(compile(last, where, "eval"), namespace) if last else None  # noqa: S307
    except Exception as error:
        if type(error).__name__ != raises:
            raise RuntimeError(f"{where} failed: {type(error).__name__}: {error}") from error
        failure = True
    if raises is not None and not failure:
        raise RuntimeError(f"{where} was expected to raise {raises}, and did not")
    shown: list[tuple[str, Any]] = []
    if printed.getvalue().strip():
        shown.append(("text", printed.getvalue()))
    figures = [plt.figure(n) for n in plt.get_fignums()]
    if value is not None:
        shown += _show(value, figures)
    for figure in figures:
        shown.append(("png", _png(figure)))
    plt.close("all")
    return shown


def _show(value: Any, figures: list[Any]) -> list[tuple[str, Any]]:
    from matplotlib.figure import Figure

    if hasattr(value, "pipe") and hasattr(value, "source"):  # a graph picture
        return [("svg", value.pipe(format="svg"))]
    if hasattr(value, "html") and hasattr(value, "frames"):  # a step-through page
        return [("steps", Path(value.html).read_bytes())]
    if isinstance(value, Figure):
        if value in figures:  # shown once, with the open pyplot figures
            return []
        return [("png", _png(value))]
    if hasattr(value, "_repr_html_"):
        return [("html", value._repr_html_())]
    if isinstance(value, str):
        return [("text", str(value))]
    return [("text", repr(value))]


def _png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=96, bbox_inches="tight")
    return buffer.getvalue()


def on_post_build(config: Any) -> None:
    site = Path(config["site_dir"])
    for name, data in _images.items():
        path = site / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


# ----------------------------------------------------------------------------- notebook math

_MARKDOWN_CELL = re.compile(
    r'(<div class="jp-RenderedHTMLCommon jp-RenderedMarkdown[^>]*>)(.*?)(</div>)', re.S
)
_CODE = re.compile(r"(<code>.*?</code>|<pre>.*?</pre>)", re.S)
_DISPLAY_MATH = re.compile(r"\$\$(.+?)\$\$", re.S)
_INLINE_MATH = re.compile(r"(?<![\\$])\$([^$\n]+?)\$")
#: What mkdocs-jupyter writes for MathJax when no MathJax address is configured.
_EMPTY_SCRIPT = '<script src=""> </script>'


def on_post_page(output: str, page: Any, config: Any) -> str:
    """Notebook pages: TeX in markdown cells becomes MathML, which browsers draw without
    any script (mkdocs-jupyter would load MathJax from the network)."""
    if not page.file.src_uri.endswith(".ipynb"):
        return output
    output = output.replace(_EMPTY_SCRIPT, "")
    return _MARKDOWN_CELL.sub(
        lambda m: m.group(1) + _math_outside_code(m.group(2)) + m.group(3), output
    )


def _math_outside_code(text: str) -> str:
    parts = _CODE.split(text)
    for i in range(0, len(parts), 2):  # the even parts are outside <code> and <pre>
        part = _DISPLAY_MATH.sub(lambda m: _mathml(m.group(1), "block"), parts[i])
        parts[i] = _INLINE_MATH.sub(lambda m: _mathml(m.group(1), "inline"), part)
    return "".join(parts)


def _mathml(tex: str, display: str) -> str:
    from latex2mathml.converter import convert

    return convert(html.unescape(tex).strip(), display=display)
