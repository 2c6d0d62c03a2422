"""Parse DuckDB SQL with sqlglot into exactly one statement, with an error message a person can read."""

from __future__ import annotations

import sqlglot
from sqlglot import exp


class SqlParseError(ValueError):
    """The text is not exactly one statement sqlglot can parse as DuckDB SQL."""


def parse_statement(sql: str) -> exp.Expression:
    """The single statement in `sql` (a trailing semicolon and comments are fine)."""
    try:
        statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
    except sqlglot.errors.ParseError as error:
        first = error.errors[0] if error.errors else {}
        where = f" at line {first['line']}, column {first['col']}" if "line" in first else ""
        raise SqlParseError(f"cannot parse SQL{where}: {first.get('description', error)}") from None
    except sqlglot.errors.SqlglotError as error:
        raise SqlParseError(f"cannot parse SQL: {error}") from None
    if len(statements) != 1:
        raise SqlParseError(f"expected one SQL statement, found {len(statements)}")
    return statements[0]
