"""JSON for `metrics`: dates as ISO strings, floats to 10 significant digits (no 0.30000000000000004,
while a credit price of 0.00055 keeps its digits).

Rounding happens only here, at the edge: the report and the tests work with the exact sums. The
csv and table formats print these same rounded values.
"""

from __future__ import annotations

import json
from datetime import date, datetime

SIGNIFICANT_DIGITS = 10


def rounded(value: object) -> object:
    if isinstance(value, float):
        return float(f"{value:.{SIGNIFICANT_DIGITS}g}")
    if isinstance(value, dict):
        return {key: rounded(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [rounded(item) for item in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def to_json(document: dict[str, object]) -> str:
    return json.dumps(rounded(document), indent=2)
