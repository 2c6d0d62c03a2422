"""JSON items as a pull hands them on: plain records, still as the API gave them.

A client says which raw table its items are for and where they came from; typing them into rows
is `schemas`' (`JsonTable.frame_of`), landing them `landing`'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

Pair = tuple[Mapping[str, Any], Mapping[str, Any]]  # an item, and the context of its request


@dataclass(frozen=True)
class Items:
    """The JSON items of one listing (or response) bound for one raw table, as the API gave them.

    Each item comes with its request's context: what the item itself does not say but its row
    needs (the project asked for, the snapshot day, the parent workflow). `schemas` turns them
    into typed rows.
    """

    table: str  # the raw table they land in
    pairs: tuple[Pair, ...]
    source: str  # where they came from, for `_source_file`: the request and the pages read
    key: str  # the identity their quarantine is kept under (`source_key`)
