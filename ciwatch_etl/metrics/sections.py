"""A `metrics` answer as flat sections of records, for the csv and table formats.

The answer's top-level figures make one record, section `summary`; each list in it (by_repo,
by_workflow, recommendations, ...) is a section of its own, one record per item. A nested object
is flattened into its parent record, its keys joined with dots (`deployment_frequency.tier`,
`filters.repo`, `previous_period.runs`).
"""

from __future__ import annotations

SUMMARY = "summary"

Record = dict[str, object]


def sections(data: dict[str, object]) -> list[tuple[str, list[Record]]]:
    """(section, records) pairs: the summary first, then each list in the answer's order."""
    summary: Record = {}
    lists: list[tuple[str, list[Record]]] = []
    for key, value in data.items():
        if isinstance(value, list):
            lists.append((key, [_flat(item) for item in value]))
        else:
            summary.update(_flat({key: value}))
    return [(SUMMARY, [summary]), *lists]


def _flat(value: dict[str, object], prefix: str = "") -> Record:
    record: Record = {}
    for key, item in value.items():
        name = f"{prefix}{key}"
        if isinstance(item, dict):
            record.update(_flat(item, f"{name}."))
        else:
            record[name] = item
    return record
