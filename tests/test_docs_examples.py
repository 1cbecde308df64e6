"""The code examples of the guides run, and print what the text says they print.

Blocks fenced as ```python (and ```python figure, whose output the site shows: see
tools/docs_figures.py) are run in order, one namespace per page; blocks fenced as ```py
are excerpts (shown, not run).
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"

#: For each page, text its examples must print (computed by hand in the page's comments).
EXPECTED = {
    "index.md": ["0.99999999999"],
    "getting-started.md": ["15.0", "8.0", "mul ['x', 'x']", "(2, 2)"],
    "concepts.md": ["tanh True True", "5.0", "['mul', 'add', 'mul', 'a']", "[4. 4. 4.]"],
    "adding-an-operation.md": ["[0.11920292 0.5        0.95257413]", "True"],
}


def _blocks(page: str) -> list[str]:
    text = (DOCS / page).read_text()
    return re.findall(r"^```python(?: figure[^\n]*)?\n(.*?)^```", text, re.S | re.M)


@pytest.mark.parametrize("page", sorted(EXPECTED))
def test_examples_run_and_print_what_the_page_says(page):
    blocks = _blocks(page)
    assert blocks, f"{page} has no runnable example"
    namespace: dict = {"__name__": f"docs_{page}"}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        for block in blocks:
            exec(compile(block, f"docs/{page}", "exec"), namespace)  # noqa: S102
    for text in EXPECTED[page]:
        assert text in printed.getvalue(), f"{page}: {text!r} not printed"


def test_higher_order_examples_give_the_closed_forms():
    namespace: dict = {}
    for block in _blocks("concepts.md"):
        exec(compile(block, "docs/concepts.md", "exec"), namespace)  # noqa: S102
    assert namespace["dy"].item() == 27.0 and namespace["d2y"] == 18.0  # 3x², 6x at x = 3
    namespace = {}
    for block in _blocks("adding-an-operation.md"):
        exec(compile(block, "docs/adding-an-operation.md", "exec"), namespace)  # noqa: S102
    assert namespace["d1"].item() == pytest.approx(0.5)  # sigmoid(0)
    assert namespace["d2"] == pytest.approx(0.25)  # sigmoid'(0)


def test_the_api_reference_lists_properties_as_properties():
    """mkdocstrings reads the source: Value's read-only attributes must be plain
    ``@property`` there, or the reference lists them as methods (and ``v.shape()`` fails)."""
    griffe = pytest.importorskip("griffe")
    value = griffe.load("minigrad.value", search_paths=[str(DOCS.parent)])["Value"]
    for name in ("shape", "ndim", "size", "dtype", "op", "grad_fn", "parents", "is_leaf", "T"):
        member = value.members[name]
        assert member.is_attribute and "property" in member.labels, name


def test_read_only_properties_still_explain_themselves():
    from minigrad import Value

    v = Value([1.0, 2.0])
    assert v.shape == (2,) and v.ndim == 1 and v.T.shape == (2,)
    with pytest.raises(AttributeError, match="'shape' is a read-only attribute.*ctx.saved_shape"):
        v.shape = (1, 2)
