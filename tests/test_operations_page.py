"""docs/operations.md is generated from the registry and the modules, and stays so; the
other pages that list operations agree with the registry."""

from __future__ import annotations

from pathlib import Path

from minigrad import expr
from minigrad import functions as F
from tests.operations_page import render

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_operations_page_is_up_to_date():
    assert (DOCS / "operations.md").read_text() == render(), (
        "docs/operations.md is out of date: python -m tests.operations_page > docs/operations.md"
    )


def test_every_primitive_and_reader_function_is_on_the_page():
    page = (DOCS / "operations.md").read_text()
    for name, cls in F.REGISTRY.items():
        assert f"| `{name}` | `{cls.__name__}` |" in page
    for name, spec in expr.FUNCTIONS.items():
        assert f"`{name}(a, b)`" in page if spec.arity == 2 else f"`{name}(x)`" in page


def test_the_cli_page_names_every_reader_function_or_points_to_the_list():
    page = (DOCS / "cli.md").read_text()
    assert "operations.md" in page
    for name in ("tanh", "sum", "transpose"):
        assert f"`{name}" in page


def test_the_concepts_page_names_registered_primitives_only():
    page = (DOCS / "concepts.md").read_text()
    start = page.index("The engine's core is `") + len("The engine's core is `")
    names = page[start : page.index("`", start)].split()
    assert len(names) == 21
    assert all(name in F.REGISTRY for name in names), names
