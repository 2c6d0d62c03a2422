"""An incremental build gives the tables of a full rebuild over the same lake (on the demo's data).

The demo's lake is replayed into a fresh data folder in steps, as nights would land it: the
first half of its days, then one more day, then the rest, then an old day landed again with a
changed row (a later export correcting it). After each step the incremental warehouse must
equal a full rebuild of the same lake, model for model, and report the same row counts (a
partitioned view's counted from its changed days on, the others' kept from the last build).
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from ciwatch_etl.landing.tables import CIRCLECI_USAGE_JOBS
from ciwatch_etl.environment import Paths
from ciwatch_etl.warehouse.build import build_warehouse
from ciwatch_etl.warehouse.build_report import BuildReport
from ciwatch_etl.warehouse.lake_files import list_lake_files
from ciwatch_etl.warehouse.models import load_models
from demo_run import DemoRun
from warehouse_compare import warehouse_differences

PRICE = 0.0006


def copy_partitions(source: Path, target: Path, first: date, last: date) -> None:
    """Copy the raw day partitions within [first, last] (and all quarantine files) to `target`."""
    for file in list_lake_files(source):
        if file.partition is None or first <= file.partition <= last:
            destination = target / Path(file.path).relative_to(source)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(file.path, destination)


def full_rebuild_differences(incremental: Paths, report: BuildReport, tmp_path: Path) -> list[str]:
    """How the incremental warehouse and its build `report` differ from a full rebuild's."""
    full = Paths(tmp_path / "full")
    shutil.rmtree(full.home, ignore_errors=True)
    shutil.copytree(incremental.lake, full.lake, ignore=shutil.ignore_patterns("_models"))
    full_report = build_warehouse(full, PRICE, full_refresh=True)
    counts = [
        f"{model.name}: reported {model.row_count} rows against {full_report.model(model.name).row_count}"
        for model in report.models if model.row_count != full_report.model(model.name).row_count
    ]
    return counts + warehouse_differences(incremental.warehouse, full.warehouse)


def correct_one_row(lake: Path, day: date) -> None:
    """Land an old usage partition again with one job's compute (and so total) credits raised."""
    path = CIRCLECI_USAGE_JOBS.partition_file(lake, day.isoformat())
    table = pq.read_table(path)
    for column in ("compute_credits", "total_credits"):
        credits = table.column(column).to_pylist()
        credits[0] = (credits[0] or 0) + 100
        table = table.set_column(table.schema.get_field_index(column), column,
                                 pa.array(credits, table.schema.field(column).type))
    pq.write_table(table, path)


def test_incremental_builds_equal_full_rebuilds_night_after_night(demo_run: DemoRun, tmp_path: Path):
    assert demo_run.exit_code == 0, demo_run.output
    demo_lake = demo_run.home / "lake"
    days = sorted({f.partition for f in list_lake_files(demo_lake) if f.partition is not None})
    middle = days[len(days) // 2]
    incremental = Paths(tmp_path / "incremental")

    copy_partitions(demo_lake, incremental.lake, days[0], middle)
    report = build_warehouse(incremental, PRICE)
    assert full_rebuild_differences(incremental, report, tmp_path) == []

    copy_partitions(demo_lake, incremental.lake, middle, days[len(days) // 2 + 1])
    report = build_warehouse(incremental, PRICE)
    classified = report.model("int_job_runs_classified")
    assert classified.rebuilt_from not in ("all", "none")
    # the preview shows the newest day's rows; the row count is the stored days' (from their hashes)
    day_column = [c.name for c in classified.columns].index("usage_date")
    with duckdb.connect(str(incremental.warehouse), read_only=True) as con:
        assert classified.row_count == con.execute("select count(*) from int_job_runs_classified").fetchone()[0]
        newest = con.execute("select max(usage_date) from int_job_runs_classified").fetchone()[0]
    assert classified.preview and {row[day_column] for row in classified.preview} == {newest}
    assert full_rebuild_differences(incremental, report, tmp_path) == []

    copy_partitions(demo_lake, incremental.lake, days[0], days[-1])
    report = build_warehouse(incremental, PRICE)
    assert full_rebuild_differences(incremental, report, tmp_path) == []

    usage_days = sorted(f.partition for f in list_lake_files(incremental.lake) if f.table == CIRCLECI_USAGE_JOBS.name)
    correct_one_row(incremental.lake, usage_days[1])
    report = build_warehouse(incremental, PRICE)
    assert report.model("fct_credit_usage_daily").rebuilt_from == usage_days[1].isoformat()
    assert report.model("stg_circleci__usage_jobs").row_count > 0
    assert full_rebuild_differences(incremental, report, tmp_path) == []


def test_clustered_models_store_each_row_group_in_day_order(demo_run: DemoRun):
    assert demo_run.exit_code == 0, demo_run.output
    clustered = {m.name: m.materialization.cluster_by for m in load_models() if m.materialization.cluster_by}
    assert "int_ci_runs" in clustered
    with duckdb.connect(str(demo_run.home / "warehouse.duckdb"), read_only=True) as con:
        files = con.execute("select distinct model, path from _ciwatch.model_days").fetchall()
    checked = 0
    for model, path in files:
        if model not in clustered:
            continue
        parquet = pq.ParquetFile(path)
        for group in range(parquet.num_row_groups):
            values = parquet.read_row_group(group, columns=list(clustered[model])).to_pylist()
            assert values == sorted(values, key=lambda row: tuple(row.values())), (model, path, group)
            checked += 1
    assert checked >= len(clustered) - 2  # every clustered model with rows (gocdnext, SourceCraft may have none)
