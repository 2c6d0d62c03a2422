"""Benchmark: a year of usage exports landed and built from scratch, then one more night.

    python benchmarks/year_build.py [--shape realistic] [--days 365] [--rows-per-day 14000]
                                    [--repeat 3] [--work DIR]

1. Generates `--days` daily exports (`generate_usage.py`; kept in `--work` for the next run).
2. floor: DuckDB reading every file once and writing them to Parquet, in a fresh process.
3. year: `ciwatch-etl load-usage` of every day but the last into an empty data folder (landing,
   every model built from scratch, tests), against the floor; each model's seconds from the
   warehouse's `_ciwatch.models`.
4. nightly: `ciwatch-etl load-usage` of the last day into a copy of that year (incremental),
   against the same day into an empty data folder, interleaved `--repeat` times.
5. equal: a full rebuild of the night's lake gives the incremental warehouse's tables (same rows,
   sums of doubles within 1e-9).
Targets: year <= 120 s and every model <= 10 s with >= 5M rows, peak RSS <= 1.5 GiB; nightly
<= 1.5x the empty folder's. Results are appended to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import duckdb

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from measure import CLI, PYTHON, Measurement, append_results, measure, median  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from warehouse_compare import warehouse_differences  # noqa: E402

FULL_REFRESH = """
import sys
from pathlib import Path
from ciwatch_etl.environment import Paths
from ciwatch_etl.warehouse.build import build_warehouse
build_warehouse(Paths(Path(sys.argv[1])), 0.0006, full_refresh=True)
"""
FLOOR = """
import sys, duckdb
files = sys.argv[2:]
duckdb.execute("copy (select * from read_csv(?, header = true, all_varchar = true)) to '" + sys.argv[1] + "'",
               [files])
"""
MODEL_LIMIT_S = 10.0


def _year_rows(days: int, floor: Measurement | None, year: Measurement | None) -> list[str]:
    """The floor's and the year's rows of the table (said not measured when the year was reused)."""
    floor_run = f"floor: DuckDB reads the {days} gzip files once, writes Parquet"
    year_run = "year from scratch: `load-usage` (land + build + tests)"
    if floor is None or year is None:
        return [f"| {floor_run} | not measured (--reuse-year) | | | |",
                f"| {year_run} | not measured (--reuse-year) | | | |"]
    return [
        f"| {floor_run} | {floor.wall_s:.1f} | {floor.cpu_s:.1f} | {floor.max_rss_mib:.0f} | 1.0 |",
        f"| {year_run} | {year.wall_s:.1f} | {year.cpu_s:.1f} | {year.max_rss_mib:.0f} "
        f"| {year.wall_s / floor.wall_s:.1f}x |",
    ]


def exports(work: Path, shape: str, days: int, rows_per_day: int, start: date) -> list[Path]:
    folder = work / f"{shape}-{days}x{rows_per_day}"
    files = sorted(folder.glob("usage-*.csv.gz"))
    if len(files) != days:
        shutil.rmtree(folder, ignore_errors=True)
        # In a process of its own: a child's peak RSS counts this process's size when it forks
        # (Linux keeps the high-water mark across exec), and generating in here made every later
        # measurement report this process's ~1.1 GiB instead of its own.
        subprocess.run(
            [PYTHON, str(HERE / "generate_usage.py"), "--shape", shape, "--days", str(days),
             "--rows-per-day", str(rows_per_day), "--start", start.isoformat(), "--out", str(folder)],
            check=True,
        )
        files = sorted(folder.glob("usage-*.csv.gz"))
    return files


def load(home: Path, files: list[Path]) -> Measurement:
    return measure([CLI, "load-usage", *map(str, files)], env={"CIWATCH_HOME": str(home)})


def model_seconds(home: Path) -> list[tuple[str, str, int, float, float, str]]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(
            "select model, materialized, row_count, build_seconds, test_seconds, rebuilt_from "
            "from _ciwatch.models order by build_seconds + test_seconds desc"
        ).fetchall()


def fresh(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", default="realistic")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--rows-per-day", type=int, default=14000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path("/tmp/ciwatch-bench"))
    parser.add_argument("--reuse-year", action="store_true",
                        help="measure the nights on the year an earlier run built (its figures are not re-measured)")
    args = parser.parse_args()
    start = date.today() - timedelta(days=args.days + 1)
    files = exports(args.work, args.shape, args.days, args.rows_per_day, start)
    history, last_day = files[:-1], files[-1:]
    with duckdb.connect() as con:
        (rows,) = con.execute("select count(*) from read_csv(?, header = true, all_varchar = true)",
                              [[str(f) for f in history]]).fetchone()

    year_home = args.work / "year"
    floor = year = None
    if not (args.reuse_year and (year_home / "warehouse.duckdb").exists()):
        floor = measure([PYTHON, "-c", FLOOR, str(fresh(args.work / "floor.parquet")), *map(str, history)])
        year = load(fresh(year_home), history)
        print(f"year: {rows:,} rows, {year.wall_s:.1f} s, floor {floor.wall_s:.1f} s", flush=True)
    models = model_seconds(year_home)

    nightly, empty = [], []
    load_before = os.getloadavg()[0]
    for _ in range(args.repeat):
        night_home = fresh(args.work / "night")
        subprocess.run(["cp", "-al", str(year_home), str(night_home)], check=True)  # hard links: cheap
        nightly.append(load(night_home, last_day))
        empty.append(load(fresh(args.work / "empty"), last_day))
    load_after = os.getloadavg()[0]
    night_models = model_seconds(args.work / "night")
    full_home = fresh(args.work / "full")
    subprocess.run(["cp", "-al", str(args.work / "night"), str(full_home)], check=True)
    (full_home / "warehouse.duckdb").unlink()
    full = measure([PYTHON, "-c", FULL_REFRESH, str(full_home)])
    differences = warehouse_differences(args.work / "night" / "warehouse.duckdb", full_home / "warehouse.duckdb")

    lines = [
        f"{args.shape}, {rows:,} rows over {len(history)} days, then day {len(files)}",
        "",
        # Other work on the machine slows both kinds of night, not always alike: say how busy it was.
        f"load average (1 min) before the nights {load_before:.1f}, after {load_after:.1f}",
        "",
        "| run | wall s | CPU s | peak RSS MiB | ratio |",
        "|---|---:|---:|---:|---:|",
        *_year_rows(len(history), floor, year),
        f"| one more day, empty data folder (median of {args.repeat}) | {median([m.wall_s for m in empty]):.1f} "
        f"| {median([m.cpu_s for m in empty]):.1f} | {max(m.max_rss_mib for m in empty):.0f} | 1.0 |",
        f"| one more day into the year (median of {args.repeat}) | {median([m.wall_s for m in nightly]):.1f} "
        f"| {median([m.cpu_s for m in nightly]):.1f} | {max(m.max_rss_mib for m in nightly):.0f} "
        f"| {median([m.wall_s for m in nightly]) / median([m.wall_s for m in empty]):.2f}x wall, "
        f"{median([m.cpu_s for m in nightly]) / median([m.cpu_s for m in empty]):.2f}x CPU |",
        f"| full rebuild of the night's lake (build only, in-process) | {full.wall_s:.1f} | {full.cpu_s:.1f} "
        f"| {full.max_rss_mib:.0f} | |",
        "",
        "Incremental night = full rebuild, model for model: "
        + ("yes" if not differences else "NO: " + "; ".join(differences)),
        "",
        "| model | materialized | rows (year) | year build s | year tests s | night build s | night tests s "
        "| night rebuilt from |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    night = {name: (build, test, rebuilt) for name, _, _, build, test, rebuilt in night_models}
    for name, kind, count, build, test, _ in models:
        n_build, n_test, rebuilt = night[name]
        flag = " **over 10 s**" if build + test > MODEL_LIMIT_S else ""
        lines.append(f"| {name}{flag} | {kind} | {count:,} | {build:.2f} | {test:.2f} | {n_build:.2f} "
                     f"| {n_test:.2f} | {rebuilt} |")
    print("\n".join(lines))
    append_results("year_build.py", " ".join(["python benchmarks/year_build.py", *sys.argv[1:]]), lines)


if __name__ == "__main__":
    main()
