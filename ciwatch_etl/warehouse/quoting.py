"""Quoting of identifiers and literals for the few SQL statements that cannot bind parameters,
and running a batch of such statements at once.

DuckDB binds values as parameters in queries, but not in DDL such as `COMMENT ON`, and
identifiers never bind. Everything quoted here comes from our own files, yet a description with
an apostrophe must still produce valid SQL, not a broken statement.
"""

from __future__ import annotations

import duckdb


def quote_identifier(name: str) -> str:
    """`name` as a double-quoted DuckDB identifier."""
    return '"' + name.replace('"', '""') + '"'


def quote_table(schema: str, name: str) -> str:
    """`schema.name` with both parts quoted."""
    return f"{quote_identifier(schema)}.{quote_identifier(name)}"


def quote_literal(value: object) -> str:
    """A Python str, int, float or bool as a DuckDB literal (standard strings: only `'` escapes)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"cannot write {value!r} ({type(value).__name__}) as a SQL literal")


def run_in_one_transaction(con: duckdb.DuckDBPyConnection, statements: list[str]) -> None:
    """Run DDL `statements` (comments, views) as one transaction: one commit, not one each."""
    con.execute("begin transaction")
    try:
        for statement in statements:
            con.execute(statement)
    except BaseException:
        con.execute("rollback")
        raise
    con.execute("commit")
