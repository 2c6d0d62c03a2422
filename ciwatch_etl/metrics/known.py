"""Filter values the warehouse knows: an --org or --repo it has never seen answers `not_found`,
naming the ones it has, instead of an answer of zeros that looks like a quiet month.

Known means seen in any run (fct_ci_runs) or any spend (mart_cost_breakdown), in any period: a
known repo with nothing in the window still answers, with zeros. The value is compared exactly,
as a bound parameter.
"""

from __future__ import annotations

import difflib

import duckdb

from ciwatch_etl.metrics.request import MetricsError, MetricsRequest

SOURCES = ("fct_ci_runs", "mart_cost_breakdown")
SHOWN = 20  # names listed in the message; a big org has hundreds of repos


def check_filters(con: duckdb.DuckDBPyConnection, request: MetricsRequest) -> None:
    for column, value in (("org", request.org), ("repo", request.repo)):
        if value is not None and not _seen(con, column, value):
            raise MetricsError("not_found", not_found_message(column, value, _known(con, column)))


def _seen(con: duckdb.DuckDBPyConnection, column: str, value: str) -> bool:
    found = " or ".join(f"exists (select 1 from {table} where {column} = $value)" for table in SOURCES)
    return con.execute(f"select {found}", {"value": value}).fetchone()[0]


def _known(con: duckdb.DuckDBPyConnection, column: str) -> list[str]:
    union = " union ".join(f"select {column} from {table} where {column} is not null" for table in SOURCES)
    return [name for (name,) in con.execute(f"{union} order by 1").fetchall()]


def not_found_message(column: str, value: str, known: list[str]) -> str:
    message = f"--{column} {value!r} is not in the warehouse."
    close = difflib.get_close_matches(value, known, n=3)
    if close:
        message += f" Did you mean {' or '.join(close)}?"
    if not known:
        return message + f" It knows no {column} yet."
    more = f", and {len(known) - SHOWN} more" if len(known) > SHOWN else ""
    return message + f" Known {column}s ({len(known)}): {', '.join(known[:SHOWN])}{more}."
