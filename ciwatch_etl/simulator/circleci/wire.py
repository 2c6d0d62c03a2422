"""How CircleCI's JSON endpoints spell values, and how they read query parameters.

Recorded responses differ by endpoint: pipelines and Insights carry milliseconds
(`2021-06-28T13:42:55.306Z`), the workflow and job lists of a pipeline whole seconds
(`2023-03-25T17:52:15Z`). Both are UTC with a `Z`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime


class BadRequest(Exception):
    """A request the API answers with 400 and this message."""


# RFC 3339's date-time, the spec's `format: date-time`; "T" and "Z" may be lower case.
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})", re.IGNORECASE)


def iso_ms(value: datetime) -> str:
    return f"{value.astimezone(UTC):%Y-%m-%dT%H:%M:%S}.{value.microsecond // 1000:03d}Z"


def iso_seconds(value: datetime) -> str:
    return f"{value.astimezone(UTC):%Y-%m-%dT%H:%M:%S}Z"


def date_time_param(params: dict[str, str], name: str) -> datetime | None:
    value = params.get(name)
    if value is None:
        return None
    if not _RFC3339.fullmatch(value):
        raise BadRequest(f"{name} must be an RFC 3339 date-time, e.g. 2025-07-01T00:00:00Z; got {value!r}.")
    try:
        return datetime.fromisoformat(value.upper()).astimezone(UTC)
    except ValueError:  # e.g. month 13
        raise BadRequest(f"{name} must be an RFC 3339 date-time, e.g. 2025-07-01T00:00:00Z; got {value!r}.") from None


def boolean_param(params: dict[str, str], name: str) -> bool | None:
    value = params.get(name)
    if value is None:
        return None
    lowered = value.lower()
    if lowered not in {"true", "false"}:
        raise BadRequest(f"{name} must be true or false; got {value!r}.")
    return lowered == "true"


def choice_param(params: dict[str, str], name: str, choices: tuple[str, ...], default: str) -> str:
    value = params.get(name, default)
    if value not in choices:
        raise BadRequest(f"{name} must be one of {', '.join(choices)}; got {value!r}.")
    return value
