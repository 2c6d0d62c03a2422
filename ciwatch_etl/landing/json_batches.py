"""JSON items a pull gathered (`sources.items.Items`) as the typed batches `records.land_batches` lands.

Each request's items become one batch under its own source (name and quarantine key), typed by
its table's `JsonTable`; items for a table the load was not given are an error, not a silent drop.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from ciwatch_etl.landing.records import SourceBatch
from ciwatch_etl.landing.staged import Source
from ciwatch_etl.schemas.json_table import JsonTable
from ciwatch_etl.sources.items import Items


def batches_by_table(
    items: Mapping[str, Sequence[Items]], tables: Iterable[JsonTable]
) -> dict[str, list[SourceBatch]]:
    """The batches of every table in `tables` (an empty list for a table nothing was pulled for)."""
    by_name = {table.name: table for table in tables}
    unknown = sorted(set(items) - set(by_name))
    if unknown:
        raise ValueError(f"items pulled for tables this load does not land: {', '.join(unknown)}")
    return {
        name: [SourceBatch(table.frame_of(i.pairs), Source(i.source, i.key)) for i in items.get(name, ())]
        for name, table in by_name.items()
    }
