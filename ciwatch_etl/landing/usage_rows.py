"""Check one batch of usage export rows: type them, run the pandera rules, shape them for the lake.

A row whose billing fields are unusable goes to quarantine with every reason; every other row
lands, carrying in `_quality_flags` the quality rules it broke, the values that did not type
or were out of bounds (and so are null), the text that was truncated and what the reader repaired on its line.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import polars as pl

from ciwatch_etl.landing.usage_typing import add_absent_columns, type_batch, unmark_newlines
from ciwatch_etl.schemas.circleci_usage import BILLING_INPUT, BILLING_SCHEMA, QUALITY_INPUT, QUALITY_SCHEMA
from ciwatch_etl.schemas.circleci_usage_columns import LOAD_COLUMNS, QUALITY_COLUMN, USAGE_COLUMNS
from ciwatch_etl.schemas.validation import reasons_by_row, rule_failures

TABLE_COLUMNS: tuple[str, ...] = (*(c.name for c in USAGE_COLUMNS), *(n for n, _ in LOAD_COLUMNS), QUALITY_COLUMN[0])
_HASHED: tuple[str, ...] = (*(c.name for c in USAGE_COLUMNS), QUALITY_COLUMN[0])
_NONE = pl.lit(None, dtype=pl.String)


@dataclass
class CheckedRows:
    valid: pl.DataFrame  # TABLE_COLUMNS, typed
    quarantine: pl.DataFrame  # source_row, reason, record (JSON of the row's typed values)
    flagged: int = 0
    flag_rules: Counter[str] = field(default_factory=Counter)  # rule -> rows it flagged


def _failures(schema, columns: tuple[str, ...], frame: pl.DataFrame) -> pl.DataFrame:
    return rule_failures(schema, frame.select(columns), upper_names=True)


def _joined(frame: pl.DataFrame, by_row: pl.DataFrame, name: str) -> pl.DataFrame:
    if not by_row.height:
        return frame.with_columns(_NONE.alias(name))
    return frame.join(by_row.rename({"_rule": name}), on="_i", how="left", maintain_order="left")


def _joined_text(*columns: str) -> pl.Expr:
    return pl.concat_str(list(columns), separator="; ", ignore_nulls=True).replace("", None)


def _counted(frame: pl.DataFrame, column: str, label: str) -> Counter[str]:
    rows = frame.get_column(column).is_not_null().sum()
    return Counter({label: rows}) if rows else Counter()


def check_rows(raw: pl.DataFrame, source: str | None, extracted_at: datetime, newline_marks: bool) -> CheckedRows:
    """Check `raw`: the export's columns as text by header, `_source_row`, `_reader_flags`.

    `source` names the file of every row; None when `raw` holds rows of several files, each
    named in a `_source_file` column and numbered in a `_file` column that the quarantine keeps.
    """
    raw = add_absent_columns(raw)
    if newline_marks:
        raw = unmark_newlines(raw)
    frame = type_batch(raw).with_row_index("_i")
    billing = _failures(BILLING_SCHEMA, BILLING_INPUT, frame)
    quality = _failures(QUALITY_SCHEMA, QUALITY_INPUT, frame)
    frame = _joined(_joined(frame, reasons_by_row(billing), "_billing"), reasons_by_row(quality), "_quality")
    frame = frame.with_columns(
        _joined_text("_unparsed_billing", "_billing").alias("_reason"),
        _joined_text("_reader_flags", "_unparsed_other", "_out_of_bounds", "_truncated", "_quality").alias(QUALITY_COLUMN[0]),
    )
    quarantined = frame.get_column("_reason").is_not_null()
    # Typed values and flags (which quote any value that did not type): rows equal in content
    # hash alike even when spelled differently (`True`/`true`, `5`/`5.0`).
    frame = frame.with_columns(frame.select(_HASHED).hash_rows(seed=0).cast(pl.String).alias("_row_hash"))
    valid = frame.filter(~quarantined)
    landed = quality.filter(pl.col("_i").is_in(valid.get_column("_i").implode()))
    rules = Counter(dict(landed.group_by("rule").agg(pl.col("_i").n_unique()).iter_rows()))
    rules += _counted(valid, "_unparsed_other", "values that did not type")
    rules += _counted(valid, "_out_of_bounds", "values out of bounds")
    rules += _counted(valid, "_truncated", "text truncated")
    for flags in valid.get_column("_reader_flags").drop_nulls().to_list():
        rules.update(flags.split("; "))
    return CheckedRows(
        valid=valid.with_columns(
            pl.col("_source_file") if source is None else pl.lit(source).alias("_source_file"),
            pl.lit(extracted_at).cast(pl.Datetime("us")).alias("_extracted_at"),
        ).select(TABLE_COLUMNS),
        quarantine=frame.filter(quarantined).select(
            pl.col("_source_row").alias("source_row"),
            pl.col("_reason").alias("reason"),
            # Typed values by header (what did not type is quoted in the reason): the same JSON
            # whether Arrow typed the batch while parsing or the text was typed afterwards.
            pl.struct([pl.col(c.name).alias(c.header) for c in USAGE_COLUMNS]).struct.json_encode().alias("record"),
            *([pl.col("_file")] if source is None else []),
        ),
        flagged=int(valid.get_column(QUALITY_COLUMN[0]).is_not_null().sum()),
        flag_rules=rules,
    )
