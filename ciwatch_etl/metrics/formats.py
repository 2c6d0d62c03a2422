"""How `metrics` prints its answer: json (the default, `{"data": ...}`), csv or a rich table.

csv is one table for the whole answer: a `section` column, then the union of the sections'
columns (see `sections`); a record leaves the columns of other sections empty, a null is empty,
booleans are true/false, and numbers are written as the JSON writes them. table prints each
section as a table. Both show the JSON's rounded values. Errors are always the JSON envelope.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import sys

from ciwatch_etl.metrics.output import rounded, to_json
from ciwatch_etl.metrics.request import MetricsError
from ciwatch_etl.metrics.sections import Record, sections

FORMATS = ("json", "table", "csv")
# Not a terminal (a file, less -S; COLUMNS set or not): room for every table at its natural width,
# nothing wrapped.
PIPED_WIDTH = 1000


def parse_format(value: str | None) -> str:
    if value is None:
        return "json"
    if value not in FORMATS:
        raise MetricsError("invalid_argument", f"--format {value!r} is not one of {', '.join(FORMATS)}")
    return value


def render(data: dict[str, object], output_format: str) -> str:
    if output_format == "json":
        return to_json({"data": data})
    parts = sections(rounded(data))
    return _csv(parts) if output_format == "csv" else _table(parts)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value)  # numbers as in the JSON, true/false


def _csv(parts: list[tuple[str, list[Record]]]) -> str:
    columns = {"section": None}
    for _, records in parts:
        for record in records:
            columns.update(dict.fromkeys(record))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), restval="", lineterminator="\n")
    writer.writeheader()
    for section, records in parts:
        for record in records:
            writer.writerow({"section": section, **{key: _cell(value) for key, value in record.items()}})
    return out.getvalue().rstrip("\n")


def _table(parts: list[tuple[str, list[Record]]]) -> str:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    out = io.StringIO()
    width = shutil.get_terminal_size((PIPED_WIDTH, 24)).columns if sys.stdout.isatty() else PIPED_WIDTH
    console = Console(file=out, width=width, highlight=False)
    (_, (summary,)), *lists = parts
    table = Table(title="summary", title_justify="left")
    table.add_column("figure", overflow="fold")
    table.add_column("value", overflow="fold")
    for key, value in summary.items():
        table.add_row(Text(key), Text(_cell(value)))
    console.print(table)
    for section, records in lists:
        if not records:
            console.print(Text(f"{section}: none"))
            continue
        # A nested field's name on two lines (deployment_frequency / tier) keeps the columns narrow.
        table = Table(title=section, title_justify="left")
        for key in records[0]:
            table.add_column(Text(key.replace(".", "\n")), overflow="fold")  # wrapped, never cut
        for record in records:
            # Text, not markup: a repo named "[red]x" is shown as it is.
            table.add_row(*(Text(_cell(value)) for value in record.values()))
        console.print(table)
    return "\n".join(line.rstrip() for line in out.getvalue().splitlines())
