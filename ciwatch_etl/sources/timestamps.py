"""ISO 8601 timestamps as the JSON APIs send them, read as naive UTC (as the lake keeps them)."""

from __future__ import annotations

import re
from datetime import datetime, timezone

_FRACTION = re.compile(r"(\.\d{6})\d+")


def parse_timestamp(text: str) -> datetime:
    """ISO 8601 (`2023-03-25T17:52:15Z`, `...55.306Z`, offsets) as a naive UTC datetime."""
    moment = datetime.fromisoformat(_FRACTION.sub(r"\1", text.strip()))
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment
