"""Quirks of real usage exports, one fixture each (tests/fixtures/usage/, made from the real sample).

Every test lands the real sample (refs/circleci/usage_export/faros, 2025-07-02) first, then the
quirky file (August 2025), and checks three things: credits per project and day equal a direct
reading of the file, the quarantined and flagged counts, and that no byte of what was landed
before changed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ciwatch_etl.landing.usage_csv import UsageFileError
from usage_landing import (
    FIXTURES,
    direct_credits,
    direct_rows,
    lake_credits,
    lake_files,
    lake_rows,
    land,
    quarantine_rows,
)


@pytest.fixture
def lake(tmp_path: Path, refs_dir: Path) -> Path:
    lake = tmp_path / "lake"
    land(lake, refs_dir / "circleci/usage_export/faros/usage-export.csv")
    return lake


def _land_quirk(
    lake: Path, path: Path, *, quarantined: set[str] = frozenset(), malformed: int = 0, flagged: int, rows: int
):
    """Land `path` and check credits, counts and the earlier lake; the load report.

    `quarantined` names the jobs whose billing fields are unusable, `malformed` counts the
    records that are not well-formed CSV.
    """
    before = lake_files(lake)
    report = land(lake, path)
    days = tuple(sorted({r["JOB_RUN_DATE"] for r in direct_rows(path) if r["JOB_ID"] not in quarantined}))
    assert lake_credits(lake, days) == pytest.approx(direct_credits(path, quarantined))
    expected = (rows, len(quarantined) + malformed, flagged)
    assert (report.rows_read, report.rows_quarantined, report.rows_flagged) == expected
    assert report.rows_read == report.rows_landed + report.rows_quarantined
    after = lake_files(lake)
    assert {p: after.get(p) for p in before} == before
    return report


def _values(lake: Path, column: str) -> dict[str, object]:
    return dict(lake_rows(lake, f"job_id, {column}", "job_run_date >= '2025-08-01'"))


def test_backslash_escaped_comma_is_part_of_the_field(lake: Path):
    _land_quirk(lake, FIXTURES / "escaped_comma.csv", flagged=0, rows=3)
    assert _values(lake, "workflow_name")["api-job-1"] == "test, lint"
    assert _values(lake, "job_name")["api-job-2"] == "a,b,c"
    assert _values(lake, "vcs_branch")["api-job-2"] == "feature/x,y"


def test_escaped_backslash_is_one_backslash_and_never_a_null(lake: Path):
    _land_quirk(lake, FIXTURES / "escaped_backslash.csv", flagged=0, rows=2)
    assert _values(lake, "workflow_name")["api-job-1"] == "C:\\tmp"
    # `\\N` is the text \N; `\N` alone is null.
    assert _values(lake, "job_name") == {"api-job-1": "\\N", "web-job-2": None}
    assert _values(lake, "vcs_branch")["web-job-2"] == "ends-with\\"


def test_escaped_quote_inside_and_outside_quotes(lake: Path):
    _land_quirk(lake, FIXTURES / "escaped_quote.csv", flagged=0, rows=2)
    assert _values(lake, "workflow_name") == {"api-job-1": 'say "hi"', "api-job-2": 'say "hi", twice'}
    assert _values(lake, "job_name")["api-job-2"] is None  # "\N" quoted is null too


def test_leading_quote_in_an_unquoted_file_never_swallows_other_lines(lake: Path):
    report = _land_quirk(lake, FIXTURES / "leading_quote.csv", flagged=1, rows=4)
    assert _values(lake, "workflow_name")["api-job-1"] == "deploy prod"  # as CircleCI's pandas reads it
    assert _values(lake, "job_name")["api-job-2"] == '"deploy prod'  # never closed: read as text, flagged
    assert _values(lake, "vcs_branch")["web-job-4"] == 'wip"'  # a quote inside a field is text
    assert _values(lake, "_quality_flags")["api-job-2"] == "a quote does not close on its line: quotes read as text"
    assert report.flag_rules == {"a quote does not close on its line: quotes read as text": 1}


def test_utf8_bom_is_not_part_of_the_first_column(lake: Path):
    _land_quirk(lake, FIXTURES / "bom.csv", flagged=0, rows=2)
    assert set(_values(lake, "organization_id").values()) == {"abc42e68-1234-44e2-98d9-65607827557f"}


def test_crlf_line_ends_and_an_escaped_line_break(lake: Path):
    _land_quirk(lake, FIXTURES / "crlf.csv", flagged=0, rows=2)
    assert _values(lake, "workflow_name")["web-job-2"] == "line\nbreak"
    assert _values(lake, "total_credits") == {"api-job-1": 5.0, "web-job-2": 6.0}


def test_latin1_byte_is_replaced_and_the_row_lands_flagged(lake: Path):
    _land_quirk(lake, FIXTURES / "latin1.csv", flagged=1, rows=2)
    assert _values(lake, "_quality_flags") == {"caf\ufffd-job-1": "invalid UTF-8 replaced with U+FFFD", "api-job-2": None}


def test_ten_megabyte_field_is_truncated_and_flagged(lake: Path, tmp_path: Path):
    rows = (FIXTURES / "bom.csv").read_bytes().removeprefix(b"\xef\xbb\xbf").decode().splitlines()
    header = rows[0].split(",")
    big = rows[1].split(",")
    big[header.index("JOB_NAME")] = "x" * (10 << 20)
    path = tmp_path / "big-field.csv"
    path.write_text("\n".join([rows[0], ",".join(big), rows[2]]) + "\n")
    report = _land_quirk(lake, path, flagged=1, rows=2)
    name = _values(lake, "job_name")["api-job-1"]
    assert name == "x" * 16_384
    assert _values(lake, "_quality_flags")["api-job-1"] == "JOB_NAME: truncated from 10485760 bytes"
    assert report.flag_rules == {"text truncated": 1}


def test_missing_credit_column_stops_the_load_naming_file_and_column(lake: Path):
    before = lake_files(lake)
    with pytest.raises(UsageFileError) as error:
        land(lake, FIXTURES / "utilisation.csv", FIXTURES / "missing_credit.csv")
    assert "missing_credit.csv" in str(error.value) and "LEASE_OVERAGE_CREDITS" in str(error.value)
    assert lake_files(lake) == before  # not even the good file before it landed


def test_utilisation_over_100_lands_flagged(lake: Path):
    report = _land_quirk(lake, FIXTURES / "utilisation.csv", flagged=1, rows=2)
    assert _values(lake, "_quality_flags") == {
        "api-job-1": "MAX_CPU_UTILIZATION_PCT: in_range(0, 100) (got 100.4)",
        "api-job-2": None,
    }
    assert _values(lake, "max_cpu_utilization_pct")["api-job-1"] == 100.4
    assert report.flag_rules == {"MAX_CPU_UTILIZATION_PCT: in_range(0, 100)": 1}


def test_extra_columns_in_any_order_are_named_in_a_note(lake: Path):
    report = _land_quirk(lake, FIXTURES / "extra_columns.csv", flagged=0, rows=2)
    assert report.notes == ["extra_columns.csv: extra columns kept out of the table: GPU_MINUTES, REGION"]
    assert _values(lake, "workflow_name") == {"api-job-1": "build-and-test", "web-job-2": "deploy"}


def test_malformed_record_is_quarantined_alone_with_its_line(lake: Path):
    _land_quirk(lake, FIXTURES / "malformed.csv", malformed=1, flagged=0, rows=2)
    [(source, row, reason, record)] = quarantine_rows(lake)
    assert (source, row) == ("malformed.csv", 2)
    assert reason == "line 3: malformed CSV record: 3 field(s), the header has 48"
    assert record == '{"line": 3, "text": "only,three,fields"}'
