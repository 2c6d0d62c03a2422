"""How the simulator spells each value in a usage-export file, in each of its three file styles."""

from __future__ import annotations

import csv
import gzip
import io
from datetime import date, datetime
from decimal import Decimal

import pytest

from ciwatch_etl.simulator.circleci.usage_csv import DOCS_ORDER, FILE_STYLES, format_value, render_file


@pytest.mark.parametrize(("value", "spelled"), [
    (None, "\\N"),
    ("acme", "acme"),
    (7, "7"),
    (8.0, "8"),  # whole numbers as the real file writes them
    (0.35, "0.35"),
    (datetime(2026, 5, 1, 12, 0, 3, 250999), "2026-05-01 12:00:03.250"),  # milliseconds, cut not rounded
    (datetime(2026, 5, 1, 12, 0, 3), "2026-05-01 12:00:03.000"),
    (date(2026, 5, 1), "2026-05-01"),
    (Decimal("1.5"), "1.5"),  # any other type: its str
])
def test_a_value_is_spelled_the_same_in_every_style(value, spelled):
    for style in FILE_STYLES:
        assert format_value(value, style) == spelled
        assert _cells(render_file([{column: value for column in DOCS_ORDER}], style)) == [spelled] * len(DOCS_ORDER)


def test_booleans_follow_the_files_style():
    row = {column: True for column in DOCS_ORDER} | {"IS_UNREGISTERED_USER": False}
    spelled = [_cells(render_file([row], style)) for style in FILE_STYLES]
    assert [cells.count("true") + cells.count("True") for cells in spelled] == [47, 47, 47]
    assert [cells[style.columns.index("IS_UNREGISTERED_USER")] for cells, style in zip(spelled, FILE_STYLES)] == [
        "false", "False", "False"]


def _cells(blob: bytes) -> list[str]:
    header, row = csv.reader(io.StringIO(gzip.decompress(blob).decode()))
    assert len(header) == len(DOCS_ORDER)
    return row
