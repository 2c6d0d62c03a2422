"""JSON for `metrics`: dates as ISO strings, one object per line of output."""

from __future__ import annotations

import json
from datetime import date, datetime


def _default(value: object) -> str:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def to_json(document: dict[str, object]) -> str:
    return json.dumps(document, default=_default, indent=2)
