"""A JSON item's typed row: computed columns see the typed values and the context."""

from __future__ import annotations

from datetime import datetime

from ciwatch_etl.schemas.json_rows import JsonField, typed_row


def test_a_computed_column_reads_typed_values_and_the_context_and_covers_no_path():
    fields = (
        JsonField("started_at", "timestamp", "started_at"),
        JsonField("finished_at", "timestamp", "finished_at"),
        JsonField("host", "varchar"),
        JsonField("label", "varchar", "steps",
                  compute=lambda item, row: f"{row['host']}: {len(item['steps'])} steps, "
                                            f"{(row['finished_at'] - row['started_at']).total_seconds():g} s"),
    )
    item = {"started_at": "2026-04-28T12:00:00Z", "finished_at": "2026-04-28T12:01:30Z", "steps": [{}, {}]}
    assert typed_row(item, fields, {"host": "ci"}) == (
        datetime(2026, 4, 28, 12), datetime(2026, 4, 28, 12, 1, 30), "ci", "ci: 2 steps, 90 s", None)
    assert fields[3].paths == ()
