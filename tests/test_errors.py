"""Every row of the bad-input catalogue raises what docs/errors.md says it raises."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from tests.errors_catalogue import ROWS, render

DOC = Path(__file__).resolve().parent.parent / "docs" / "errors.md"


@pytest.mark.parametrize("row", ROWS, ids=lambda r: f"{r.area}: {r.bad_input}")
def test_bad_input_gets_a_clear_error(row):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(row.error) as info:
            row.run()
    assert row.says in str(info.value)
    assert row.untouched(), "the error left the user's data or model changed"


def test_docs_errors_page_is_up_to_date():
    assert DOC.read_text() == render(), (
        "docs/errors.md is out of date: python -m tests.errors_catalogue > docs/errors.md"
    )


def test_every_row_is_listed_once():
    described = [(r.area, r.bad_input) for r in ROWS]
    assert len(described) == len(set(described))


def test_the_catalogue_covers_at_least_thirty_bad_inputs_across_areas():
    assert len(ROWS) >= 30
    areas = {r.area for r in ROWS}
    assert {
        "engine",
        "gradcheck",
        "rendering",
        "nn",
        "optim",
        "training",
        "checkpoints",
        "cli",
    } <= areas
