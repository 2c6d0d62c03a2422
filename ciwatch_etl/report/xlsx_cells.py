"""Typed, formula-safe cells and tables for the workbook (XlsxWriter).

Numbers are number cells, days are date cells, and text is always a text cell: a project or job
named `=HYPERLINK(...)`, `+1`, `-1`, `@SUM(...)` or starting with a tab or carriage return is
written as a string with Excel's quote prefix, so no spreadsheet runs it as a formula, not even
after someone edits the cell. A table has readable headings, a frozen heading row, an autofilter
and a width and number format per column.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from ciwatch_etl.report.columns import Column

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# The number format of each column kind; text, flag and unknown kinds take none.
FORMATS = {
    "usd": '"$"#,##0.00',
    "rate": '"$"0.00######',  # a credit price of $0.0006 keeps its digits
    "credits": "#,##0.00",
    "pct": "0.0%",
    "count": "#,##0",
    "minutes": "#,##0.0",
    "hours": "#,##0.0",
    "day": "yyyy-mm-dd",
    "month": "yyyy-mm",
    "moment": "yyyy-mm-dd hh:mm",
    "number": "#,##0.00",
    "small": "0.00######",  # a number below 1 of no known kind keeps its digits
}


def open_workbook(path: Path) -> xlsxwriter.Workbook:
    # No guessing from text: a string stays the string it is, never a formula, URL or number.
    return xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False,
                                           "strings_to_numbers": False})


class Cells:
    """Writes typed cells and tables into the worksheets of one workbook, sharing its formats."""

    def __init__(self, book: xlsxwriter.Workbook) -> None:
        self.formats: dict[str, Format] = {kind: book.add_format({"num_format": spec}) for kind, spec in FORMATS.items()}
        self.quoted = book.add_format({"quote_prefix": True})
        self.text = book.add_format({"text_wrap": True, "valign": "top"})
        self.heading = book.add_format({"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#EEF1F5",
                                        "bottom": 1})
        self.title = book.add_format({"bold": True, "font_size": 14})
        self.strong = book.add_format({"bold": True})

    def write(self, sheet: Worksheet, row: int, col: int, value: object, kind: str = "text") -> None:
        if value is None:
            sheet.write_blank(row, col, None)
        elif isinstance(value, bool):
            sheet.write_boolean(row, col, value)
        elif isinstance(value, (int, float, Decimal)):
            sheet.write_number(row, col, float(value) if isinstance(value, Decimal) else value,
                               self._number_format(value, kind))
        elif isinstance(value, datetime):
            sheet.write_datetime(row, col, value, self.formats["moment"])
        elif isinstance(value, date):
            sheet.write_datetime(row, col, datetime(value.year, value.month, value.day),
                                 self.formats["month" if kind == "month" else "day"])
        else:
            text = str(value)
            sheet.write_string(row, col, text, self.quoted if text.startswith(FORMULA_PREFIXES) else None)

    def _number_format(self, value: float, kind: str) -> Format | None:
        if kind in self.formats and kind not in ("day", "month", "moment"):
            return self.formats[kind]
        if isinstance(value, int):
            return self.formats["count"]
        return self.formats["small" if 0 < abs(value) < 1 else "number"]

    def table(self, sheet: Worksheet, first_row: int, columns: tuple[Column, ...],
              records: list[dict[str, object]]) -> None:
        """Headings on `first_row`, one row per record below, frozen and filterable."""
        for col, column in enumerate(columns):
            sheet.write_string(first_row, col, column.heading, self.heading)
            sheet.set_column(col, col, column.width)
        for offset, record in enumerate(records, start=1):
            for col, column in enumerate(columns):
                self.write(sheet, first_row + offset, col, column.value(record), column.kind)
        sheet.freeze_panes(first_row + 1, 0)
        sheet.autofilter(first_row, 0, first_row + len(records), len(columns) - 1)
