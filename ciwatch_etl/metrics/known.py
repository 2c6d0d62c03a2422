"""Filter values the warehouse knows: an --org or --repo it has never seen answers `not_found`,
naming the ones it has, instead of an answer of zeros that looks like a quiet month.

Known means seen in any run (fct_ci_runs) or any spend (mart_cost_breakdown), in any period: a
known repo with nothing in the window still answers, with zeros. The value is compared exactly,
as a bound parameter (dbt_like_sql/metrics/known_*.sql).
"""

from __future__ import annotations

import difflib

import duckdb

from ciwatch_etl.metrics.request import MetricsError, MetricsRequest
from ciwatch_etl.metrics.sql_files import metric_sql, query

SHOWN = 20  # names listed in the message; a big org has hundreds of repos


def check_filters(con: duckdb.DuckDBPyConnection, request: MetricsRequest) -> None:
    for column, value in (("org", request.org), ("repo", request.repo)):
        if value is not None and not _seen(con, column, value):
            raise MetricsError("not_found", not_found_message(column, value, _known(con, column)))


def _seen(con: duckdb.DuckDBPyConnection, column: str, value: str) -> bool:
    (row,) = query(con, metric_sql("known_seen"), {"column": column, "value": value})
    return row["is_seen"]


def _known(con: duckdb.DuckDBPyConnection, column: str) -> list[str]:
    return [row["name"] for row in query(con, metric_sql("known_names"), {"column": column})]


def not_found_message(column: str, value: str, known: list[str]) -> str:
    message = f"--{column} {value!r} is not in the warehouse."
    close = difflib.get_close_matches(value, known, n=3)
    if close:
        message += f" Did you mean {' or '.join(close)}?"
    if not known:
        return message + f" It knows no {column} yet."
    more = f", and {len(known) - SHOWN} more" if len(known) > SHOWN else ""
    return message + f" Known {column}s ({len(known)}): {', '.join(known[:SHOWN])}{more}."
