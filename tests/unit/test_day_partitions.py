"""The day writer stages each day's rows, in the order they came, however the days are spread."""

from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest

from ciwatch_etl.landing import day_partitions
from ciwatch_etl.landing.day_partitions import DayPartitionWriter

START = date(2026, 1, 1)


def _frames() -> list[pl.DataFrame]:
    """Three batches with rows of five days interleaved (row n is of day n * 3 % 5)."""
    rows = [(f"job-{n}", START + timedelta(days=n * 3 % 5)) for n in range(60)]
    return [pl.DataFrame(rows[i:i + 20], schema={"job_id": pl.String, "job_run_date": pl.Date}, orient="row")
            for i in range(0, 60, 20)]


@pytest.mark.parametrize("sort_bytes", [0, 1 << 30])  # each batch sorted alone, or all of them together
def test_each_day_holds_its_rows_in_arrival_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sort_bytes: int):
    monkeypatch.setattr(day_partitions, "SORT_BYTES", sort_bytes)
    writer = DayPartitionWriter(tmp_path, "job_run_date")
    for frame in _frames():
        writer.add(frame)
    files = writer.close()
    expected = pl.concat(_frames())
    assert sorted(files) == [(START + timedelta(days=d)).isoformat() for d in range(5)]
    for day, paths in files.items():
        staged = [job for path in paths for job in pq.read_table(path).column("job_id").to_pylist()]
        assert staged == expected.filter(pl.col("job_run_date") == date.fromisoformat(day))["job_id"].to_list()
        assert writer.rows[day] == len(staged)



@pytest.mark.parametrize("max_open_files", [2, 1024])
def test_days_written_batch_by_batch_keep_every_row_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             max_open_files: int):
    # Every batch written as it comes: with two files open at most, five interleaved days close and
    # reopen files (a day's rows span parts); with enough files, each day's file gets a row group
    # per batch. Either way every part is a complete file holding its rows in arrival order.
    monkeypatch.setattr(day_partitions, "MAX_OPEN_FILES", max_open_files)
    monkeypatch.setattr(day_partitions, "MAX_PENDING_BYTES", 0)
    monkeypatch.setattr(day_partitions, "SORT_BYTES", 0)
    writer = DayPartitionWriter(tmp_path, "job_run_date")
    for frame in _frames():
        writer.add(frame)
    files = writer.close()
    expected = pl.concat(_frames())
    if max_open_files == 2:
        assert max(len(paths) for paths in files.values()) > 1
    else:
        assert all(len(paths) == 1 and pq.ParquetFile(paths[0]).num_row_groups == 3 for paths in files.values())
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for paths in files.values() for p in paths)
    for day, paths in files.items():
        staged = [job for path in paths for job in pq.read_table(path).column("job_id").to_pylist()]
        assert staged == expected.filter(pl.col("job_run_date") == date.fromisoformat(day))["job_id"].to_list()
