"""Publishing a load into the lake: once per row, merged by job id, idempotent to the byte."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from ciwatch_etl.landing import day_partitions, usage_load
from ciwatch_etl.landing.tables import CIRCLECI_USAGE_JOBS
from usage_landing import FIXTURES, lake_files, lake_rows, land


def _with(path: Path, out: Path, only: int | None = None, **changes: str) -> Path:
    """A copy of a fixture (no escaped commas) with columns of every row, or of row `only`,
    changed (`{}` stands for the old value)."""
    header, *rows = path.read_text().splitlines()
    names = header.split(",")
    lines = [header]
    for n, row in enumerate(rows, start=1):
        fields = row.split(",")
        for column, value in changes.items():
            if only in (None, n):
                fields[names.index(column)] = value.replace("{}", fields[names.index(column)])
        lines.append(",".join(fields))
    out.write_text("\n".join(lines) + "\n")
    return out


def test_new_days_are_the_staged_files_renamed(tmp_path: Path):
    lake = tmp_path / "lake"
    report = land(lake, FIXTURES / "escaped_comma.csv")
    assert (report.merge.rows_new, report.merge.partitions) == (3, ("2025-08-01", "2025-08-02"))
    day = CIRCLECI_USAGE_JOBS.partition_file(lake, "2025-08-01")
    assert pq.ParquetFile(day).metadata.num_rows == 2
    assert not list((lake / "_staging").iterdir())


def test_landing_the_same_files_again_changes_no_byte(tmp_path: Path):
    lake = tmp_path / "lake"
    files = [FIXTURES / "bad_credits.csv", FIXTURES / "leading_quote.csv", FIXTURES / "latin1.csv"]
    land(lake, *files)
    before = lake_files(lake)
    report = land(lake, *files)
    assert lake_files(lake) == before
    # 8 landed: api-job-1 and api-job-2 come twice (the later file wins), the other 6 as before.
    assert (report.rows_landed, report.rows_superseded) == (8, 2)
    assert (report.merge.rows_new, report.merge.rows_changed, report.merge.rows_unchanged) == (0, 0, 6)
    assert report.merge.partitions == ()


def test_a_changed_row_replaces_the_lake_row_and_others_keep_theirs(tmp_path: Path):
    lake = tmp_path / "lake"
    land(lake, FIXTURES / "utilisation.csv")
    later = _with(FIXTURES / "utilisation.csv", tmp_path / "later.csv", only=1, JOB_BUILD_STATUS="failed")
    more = _with(FIXTURES / "extra_columns.csv", tmp_path / "more.csv", JOB_RUN_DATE="2025-08-01", JOB_ID="more-{}")
    report = land(lake, later, more)
    assert (report.merge.rows_new, report.merge.rows_changed, report.merge.rows_unchanged) == (2, 1, 1)
    assert lake_rows(lake, "job_id, job_build_status, _source_file") == [
        ("api-job-1", "failed", "later.csv"),  # changed: the later export's row
        ("api-job-2", "success", "utilisation.csv"),  # identical: the lake's row, as it was
        ("more-api-job-1", "success", "more.csv"),
        ("more-web-job-2", "success", "more.csv"),
    ]


def test_the_latest_file_wins_within_one_load(tmp_path: Path):
    lake = tmp_path / "lake"
    first = _with(FIXTURES / "utilisation.csv", tmp_path / "a.csv", TOTAL_CREDITS="1", COMPUTE_CREDITS="1")
    second = _with(FIXTURES / "utilisation.csv", tmp_path / "b.csv", TOTAL_CREDITS="2", COMPUTE_CREDITS="2")
    report = land(lake, first, second)
    assert (report.rows_landed, report.rows_superseded, report.merge.rows_new) == (4, 2, 2)
    assert lake_rows(lake, "job_id, total_credits, _source_file") == [
        ("api-job-1", 2.0, "b.csv"), ("api-job-2", 2.0, "b.csv"),
    ]


def test_a_lake_written_before_quality_flags_merges(tmp_path: Path):
    """Partitions written by the previous loader lack `_quality_flags`: they still merge."""
    lake = tmp_path / "lake"
    land(lake, FIXTURES / "utilisation.csv")
    day = CIRCLECI_USAGE_JOBS.partition_file(lake, "2025-08-01")
    pq.write_table(pq.read_table(day).drop_columns(["_quality_flags"]), day)
    later = _with(FIXTURES / "utilisation.csv", tmp_path / "later.csv", JOB_BUILD_STATUS="failed")
    report = land(lake, later)
    assert report.merge.rows_changed == 2
    assert lake_rows(lake, "job_id, _quality_flags") == [
        ("api-job-1", "MAX_CPU_UTILIZATION_PCT: in_range(0, 100) (got 100.4)"), ("api-job-2", None),
    ]


@pytest.mark.parametrize("days", [3, 40])
def test_many_days_in_any_order_land_once_each(tmp_path: Path, days: int):
    header, row = (FIXTURES / "malformed.csv").read_text().splitlines()[:2]
    names = header.split(",")
    lines = [header]
    for n in range(days * 3):
        fields = row.split(",")
        fields[names.index("JOB_ID")] = f"job-{n}"
        fields[names.index("JOB_RUN_DATE")] = f"2025-{1 + (n * 7) % days // 28:02d}-{1 + (n * 7) % days % 28:02d}"
        lines.append(",".join(fields))
    path = tmp_path / "days.csv"
    path.write_text("\n".join(lines) + "\n")
    report = land(tmp_path / "lake", path)
    assert (report.merge.rows_new, len(report.merge.partitions)) == (days * 3, days)
    assert len(lake_rows(tmp_path / "lake", "job_id")) == days * 3


def test_a_day_staged_in_several_parts_lands_as_one_file_with_the_same_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    files = [
        FIXTURES / "bom.csv",
        _with(FIXTURES / "extra_columns.csv", tmp_path / "more.csv", JOB_ID="more-{}"),
        _with(FIXTURES / "utilisation.csv", tmp_path / "util.csv", JOB_ID="util-{}"),
    ]
    land(tmp_path / "plain", *files)
    # One file open at most, each file's rows checked and written alone: the days' files close
    # and reopen as new parts, which the publisher merges into each day's one file.
    monkeypatch.setattr(usage_load, "SMALL_BATCH_ROWS", 1)
    monkeypatch.setattr(day_partitions, "MAX_OPEN_FILES", 1)
    monkeypatch.setattr(day_partitions, "MAX_PENDING_BYTES", 0)
    staged: list[dict[str, list[Path]]] = []
    close = day_partitions.DayPartitionWriter.close
    monkeypatch.setattr(day_partitions.DayPartitionWriter, "close", lambda self: staged.append(close(self)) or staged[-1])
    report = land(tmp_path / "parts", *files)
    assert {day: len(parts) for day, parts in staged[0].items()} == {"2025-08-01": 3, "2025-08-02": 2}
    assert report.rows_superseded == 0
    assert report.merge.partitions == ("2025-08-01", "2025-08-02")
    columns = "job_id, job_run_date, total_credits, _source_file, _source_row, _row_hash"
    assert lake_rows(tmp_path / "parts", columns) == lake_rows(tmp_path / "plain", columns)
    assert lake_rows(tmp_path / "parts", "count(*)") == [(report.rows_landed,)] == [(6,)]
