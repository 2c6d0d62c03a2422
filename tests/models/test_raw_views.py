"""Raw views read lake files of different column layouts (an older loader's) by column name."""

from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ciwatch_etl.warehouse.raw import typed_parquet_select

COLUMNS = [("job_id", "varchar"), ("total_credits", "double"), ("job_run_date", "date")]


def _write(path: Path, table: pa.Table) -> str:
    pq.write_table(table, path)
    return str(path)


def test_files_of_other_layouts_read_by_name_and_missing_columns_read_as_null(tmp_path: Path):
    today = _write(tmp_path / "a.parquet", pa.table({
        "job_id": ["a1", "a2"], "total_credits": [1.5, 2.0], "job_run_date": pa.array([19000, 19000], pa.date32()),
    }))
    same_layout = _write(tmp_path / "b.parquet", pa.table({
        "job_id": ["b1"], "total_credits": [3.0], "job_run_date": pa.array([19001], pa.date32()),
    }))
    # an older loader: columns in another order, no job_run_date, and a column since dropped
    older = _write(tmp_path / "c.parquet", pa.table({
        "total_credits": [4.25], "retired": ["x"], "job_id": ["c1"],
    }))
    with duckdb.connect() as con:
        select = typed_parquet_select(con, COLUMNS, [today, same_layout, older])
        rows = con.execute(f"select * from ({select}) order by job_id").fetchall()
        types = [t for _, t in con.execute(f"select column_name, column_type from (describe {select})").fetchall()]
    assert select.count("read_parquet") == 2  # one scan per layout
    assert types == ["VARCHAR", "DOUBLE", "DATE"]
    assert [(job, credits, str(day) if day else None) for job, credits, day in rows] == [
        ("a1", 1.5, "2022-01-08"), ("a2", 2.0, "2022-01-08"), ("b1", 3.0, "2022-01-09"), ("c1", 4.25, None),
    ]


def test_no_files_give_an_empty_typed_relation(tmp_path: Path):
    with duckdb.connect() as con:
        select = typed_parquet_select(con, COLUMNS, [])
        assert con.execute(f"select count(*) from ({select})").fetchone() == (0,)
        types = [t for _, t in con.execute(f"select column_name, column_type from (describe {select})").fetchall()]
    assert types == ["VARCHAR", "DOUBLE", "DATE"]


def test_a_filter_on_the_day_partition_skips_the_files_of_other_days(tmp_path: Path):
    days = {}
    for number, day in enumerate((19000, 19001, 19002)):
        folder = tmp_path / f"job_run_date={date.fromordinal(day + 719163).isoformat()}"
        folder.mkdir()
        days[day] = _write(folder / "data.parquet", pa.table({
            "job_id": [f"j{number}"], "total_credits": [1.0], "job_run_date": pa.array([day], pa.date32()),
        }))
    with duckdb.connect() as con:
        select = typed_parquet_select(con, COLUMNS, list(days.values()), "job_run_date")
        Path(days[19001]).write_bytes(b"not parquet")  # damaged after the view was made
        last_day = con.execute(f"select job_id from ({select}) where job_run_date = date '2022-01-10'").fetchall()
        assert last_day == [("j2",)]
        with pytest.raises(duckdb.Error, match="data.parquet"):
            con.execute(f"select job_id from ({select})").fetchall()
