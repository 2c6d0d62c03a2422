"""The published warehouse opens in DuckDB 1.0, as the DuckDB CLI and DBeaver's driver of 1.x do.

A separate virtual environment holds the old DuckDB (it cannot share this process with the
current one); it opens the warehouse read-only and reads a mart, a raw view over the lake (a day
of it too: its day folders are read as hive partitions), an
incremental model's Parquet partitions and column comments (a mart's and a raw view's).
"""

from __future__ import annotations

import json
import subprocess
import venv
from pathlib import Path

import pytest
from cost_month import june_rows
from lake_rows import write_rows

from ciwatch_etl.landing.tables import CIRCLECI_USAGE_JOBS
from ciwatch_etl.environment import Paths
from ciwatch_etl.warehouse.build import build_warehouse

OLD_DUCKDB = "duckdb==1.0.0"
READ = """
import json, sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print(json.dumps({
    "version": duckdb.__version__,
    "mart": con.execute("select count(*), sum(total_credits) from fct_credit_usage_daily").fetchone(),
    "raw": con.execute("select count(*) from raw.circleci_usage_jobs").fetchone()[0],
    "raw_days": con.execute(
        "select job_run_date::varchar, count(*) from raw.circleci_usage_jobs group by all order by 1").fetchall(),
    "raw_last_day": con.execute(
        "select count(*) from raw.circleci_usage_jobs "
        "where job_run_date = (select max(job_run_date) from raw.circleci_usage_jobs)").fetchone()[0],
    "waste": con.execute("select count(*) from mart_credit_waste").fetchone()[0],
    "comment": con.execute(
        "select comment from duckdb_columns() where table_name = 'fct_credit_usage_daily' "
        "and column_name = 'usage_date'").fetchone()[0],
    "raw_comment": con.execute(
        "select comment from duckdb_columns() where schema_name = 'raw' "
        "and table_name = 'circleci_usage_jobs' and column_name = 'total_credits'").fetchone()[0],
}))
"""


@pytest.fixture(scope="module")
def old_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("duckdb-1.0")
    venv.create(folder, with_pip=True)
    python = folder / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", OLD_DUCKDB], check=True)
    return python


def test_duckdb_1_0_reads_marts_raw_views_and_comments(old_python: Path, ciwatch_home: Path):
    paths = Paths(ciwatch_home)
    rows = june_rows()
    write_rows(paths.lake, CIRCLECI_USAGE_JOBS, rows)
    build_warehouse(paths, 0.0006)

    done = subprocess.run([str(old_python), "-c", READ, str(paths.warehouse)], capture_output=True, text=True)

    assert done.returncode == 0, done.stderr
    read = json.loads(done.stdout)
    assert read["version"] == "1.0.0"
    assert read["raw"] == len(rows)
    # the day partitions, read as hive partitions, filter as the rows' own days do
    days = sorted({str(r["job_run_date"]) for r in rows})
    assert [day for day, _ in read["raw_days"]] == days
    assert read["raw_last_day"] == sum(1 for r in rows if str(r["job_run_date"]) == days[-1])
    assert read["mart"][1] == pytest.approx(sum(r["total_credits"] for r in rows))
    assert read["waste"] > 0
    assert read["comment"] == "UTC day the job runs began"
    assert read["raw_comment"] == "The total credits consumed by this job run instance"
