"""Benchmark: landing usage exports against the floor of DuckDB reading the same files once.

    python benchmarks/load_usage.py --rows 1000000 [--rows 10000000] [--runs 3] [--shape NAME ...]

For each shape and size the export files are generated once; then floor and land run
interleaved `--runs` times (the order alternates), each in a fresh Python process:

  floor  DuckDB reads the gzip file(s) once, every column as text, and writes one Parquet file:
         copy (select * from read_csv(files, header, columns all varchar, escape '\\',
         nullstr '\\N', strict_mode false)) to 'x.parquet' (DuckDB's nearest to the dialect)
  land   `land_usage_files` into an empty lake: read, type, check, write the day partitions

Each process reports the wall and CPU seconds (user + system, all threads) of that statement
alone (imports not counted) and its peak RSS. The table has the medians, and land/floor ratios of
wall and CPU time; it is printed and appended to benchmarks/RESULTS.md with the machine and the
command line.

Shapes:
  synthetic    one file, rows round-robin over 365 days (out of date order), short values
  adversarial  one file, 365 days in shuffled order, 1% of job names 2-4 KB long and one in
               100,000 of 100 KB (truncated, flagged), branches and workflow names with escaped
               commas, quotes and backslashes, quoted fields, `\\N`
  realistic    benchmarks/generate_usage.py's realistic shape, one file per month (when that
               generator is present)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import zlib
from datetime import date, datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHAPES = ("synthetic", "adversarial", "realistic")

_COLUMNS = """
    'org-' || (i % 3) as ORGANIZATION_ID, 'org ' || (i % 3) as ORGANIZATION_NAME,
    '2023-04-27' as ORGANIZATION_CREATED_DATE, 'proj-' || (i % 40) as PROJECT_ID,
    'project-' || (i % 40) as PROJECT_NAME, '2024-01-01' as PROJECT_CREATED_DATE,
    '2025-07-02 18:31:31.424' as LAST_BUILD_FINISHED_AT, 'github' as VCS_NAME,
    'https://github.com/acme/project-' || (i % 40) as VCS_URL, {branch} as VCS_BRANCH,
    'pipe-' || (i // 6) as PIPELINE_ID, '2025-07-02 18:25:46.234' as PIPELINE_CREATED_AT,
    (i // 6)::varchar as PIPELINE_NUMBER, 'false' as IS_UNREGISTERED_USER, 'webhook' as PIPELINE_TRIGGER_SOURCE,
    'user-' || (i % 50) as PIPELINE_TRIGGER_USER_ID, 'wf-' || (i // 3) as WORKFLOW_ID,
    {workflow} as WORKFLOW_NAME, '2025-07-02 18:25:47.000' as WORKFLOW_FIRST_JOB_QUEUED_AT,
    '2025-07-02 18:25:48.000' as WORKFLOW_FIRST_JOB_STARTED_AT, '2025-07-02 18:27:17.000' as WORKFLOW_STOPPED_AT,
    'true' as IS_WORKFLOW_SUCCESSFUL, {job} as JOB_NAME, i::varchar as JOB_RUN_NUMBER,
    'job-id-' || i as JOB_ID, strftime(date '2025-01-01' + ({day})::int, '%Y-%m-%d') as JOB_RUN_DATE,
    '2025-07-02 18:26:08.000' as JOB_RUN_QUEUED_AT, '2025-07-02 18:26:10.000' as JOB_RUN_STARTED_AT,
    '2025-07-02 18:26:18.000' as JOB_RUN_STOPPED_AT,
    case when i % 11 = 0 then 'failed' else 'success' end as JOB_BUILD_STATUS,
    'medium' as RESOURCE_CLASS, 'linux' as OPERATING_SYSTEM, 'docker' as EXECUTOR, '1' as PARALLELISM,
    (60 + i % 600)::varchar as JOB_RUN_SECONDS,
    case when i % 4 = 0 then '\\N' else (i % 90)::varchar end as MEDIAN_CPU_UTILIZATION_PCT,
    (i % 100)::varchar as MAX_CPU_UTILIZATION_PCT, (i % 80)::varchar as MEDIAN_RAM_UTILIZATION_PCT,
    (i % 100)::varchar as MAX_RAM_UTILIZATION_PCT, '10' as COMPUTE_CREDITS, '0' as DLC_CREDITS,
    '1' as USER_CREDITS, '0' as STORAGE_CREDITS, '0' as NETWORK_CREDITS, '0' as LEASE_CREDITS,
    '0' as LEASE_OVERAGE_CREDITS, '0' as IPRANGES_CREDITS, '11' as TOTAL_CREDITS
"""
_SYNTHETIC = {
    "branch": "case when i % 5 = 0 then 'main' else 'feature-' || (i % 97) end",
    "workflow": "'build-and-test'",
    "job": "'job-' || (i % 7)",
    "day": "i % 365",
}
# Values already spelled in the export's dialect: backslash escapes outside quotes, quoted fields
# with escaped quotes inside, `\N` nulls, long names; days in a shuffled order.
_ADVERSARIAL = {
    "branch": "case i % 4 when 0 then 'main' when 1 then 'feature/a\\, b-' || (i % 97) "
              "when 2 then '\"fix \\\"quoted\\\" ' || (i % 13) || '\"' else 'C:\\\\tmp\\\\' || (i % 7) end",
    "workflow": "case when i % 3 = 0 then '\\N' else 'build\\, test and deploy' end",
    "job": "case when i % 100000 = 1 then repeat('y', 100000) when i % 100 = 0 "
           "then 'job-' || (i % 7) || '-' || repeat('x', 2000 + (hash(i) % 2000)::int) else 'job-' || (i % 7) end",
    "day": "hash(i * 7919) % 365",
}


def _gzip(plain: Path, target: Path) -> None:
    """gzip at level 1 (DuckDB's own gzip writer is slow), then drop the plain file."""
    deflate = zlib.compressobj(1, zlib.DEFLATED, 31)
    with plain.open("rb") as source, target.open("wb") as out:
        while block := source.read(1 << 24):
            out.write(deflate.compress(block))
        out.write(deflate.flush())
    plain.unlink()


def generate(shape: str, rows: int, folder: Path) -> list[Path]:
    """The export file(s) of `rows` rows of `shape` in `folder`."""
    import duckdb

    folder.mkdir(parents=True, exist_ok=True)
    if shape == "realistic":
        sys.path.insert(0, str(HERE))
        from generate_usage import generate as generate_realistic

        days = 365 if rows >= 5_000_000 else 71
        return generate_realistic(folder, shape="realistic", days=days, rows_per_day=rows // days,
                                  start=date(2025, 1, 1), per="month")
    values = _SYNTHETIC if shape == "synthetic" else _ADVERSARIAL
    plain = folder / "usage.csv"
    duckdb.execute("set enable_progress_bar = false")
    duckdb.execute(
        f"copy (select {_COLUMNS.format(**values)} from range({rows}) t(i)) to '{plain}' "
        "(header, quote '', escape '')"
    )
    target = folder / "usage.csv.gz"
    _gzip(plain, target)
    return [target]


_MEASURE = r"""
import json, resource, sys, time
def clock():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return time.perf_counter(), usage.ru_utime + usage.ru_stime
paths, out = json.loads(sys.argv[1]), sys.argv[2]
"""
_FLOOR = _MEASURE + r"""
import csv, gzip, duckdb
with gzip.open(paths[0], "rt", newline="") as handle:
    header = next(csv.reader(handle))
columns = {name: "varchar" for name in header}
wall, cpu = clock()
duckdb.execute(
    "copy (select * from read_csv($1, header = true, auto_detect = false, columns = $2, quote = '\"', "
    "escape = '\\', nullstr = '\\N', strict_mode = false)) "
    f"to '{out}/floor.parquet' (format parquet)", [paths, columns])
rows = duckdb.execute(f"select count(*) from '{out}/floor.parquet'").fetchone()[0]
"""
_LAND = _MEASURE + r"""
from datetime import datetime
from pathlib import Path
from ciwatch_etl.landing.usage_load import UsageFile, land_usage_files
files = [UsageFile(Path(p), Path(p).name, Path(p).name) for p in paths]
wall, cpu = clock()
report = land_usage_files(Path(out) / "lake", files, extracted_at=datetime(2026, 1, 1))
rows = report.rows_read
"""
# Peak RSS from VmHWM: ru_maxrss would also count the parent's peak (Linux keeps it across exec).
_REPORT = r"""
end_wall, end_cpu = clock()
with open("/proc/self/status") as status:
    peak_kib = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print(json.dumps({"rows": rows, "wall": end_wall - wall, "cpu": end_cpu - cpu, "rss_mib": peak_kib / 1024}))
"""


def _measure(script: str, files: list[Path], scratch: Path) -> dict:
    with tempfile.TemporaryDirectory(dir=scratch) as out:
        done = subprocess.run(
            [sys.executable, "-c", script + _REPORT, json.dumps([str(f) for f in files]), out],
            check=True, capture_output=True, text=True,
        )
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(shape: str, rows: int, runs: int, scratch: Path) -> dict:
    files = generate(shape, rows, scratch / f"{shape}-{rows}")
    floors, lands = [], []
    for n in range(runs):
        order = [(_FLOOR, floors), (_LAND, lands)]
        for script, results in order if n % 2 == 0 else reversed(order):
            results.append(_measure(script, files, scratch))
            print(f"  {shape} {rows:,} run {n + 1}: {'floor' if script is _FLOOR else 'land '} "
                  f"{results[-1]['wall']:.1f} s wall, {results[-1]['cpu']:.1f} s CPU, "
                  f"{results[-1]['rss_mib']:.0f} MiB", flush=True)
    read = {r["rows"] for r in floors + lands}
    assert len(read) == 1, f"floor and land read different row counts: {read}"

    def median(results: list[dict], key: str) -> float:
        return statistics.median(r[key] for r in results)

    return {
        "shape": shape,
        "rows": read.pop(),
        "files": len(files),
        "gzip_mib": sum(f.stat().st_size for f in files) / 2**20,
        **{f"floor_{k}": median(floors, k) for k in ("wall", "cpu")},
        **{f"land_{k}": median(lands, k) for k in ("wall", "cpu")},
        "floor_rss": max(r["rss_mib"] for r in floors),
        "land_rss": max(r["rss_mib"] for r in lands),
    }


def _machine() -> str:
    import duckdb
    import polars
    import pyarrow

    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{platform.node() or 'host'}: {os.cpu_count()} CPUs, {memory:.0f} GiB, {platform.platform()}, "
            f"Python {platform.python_version()}, duckdb {duckdb.__version__}, pyarrow {pyarrow.__version__}, "
            f"polars {polars.__version__}")


HEADER = (
    "| shape | rows | files | gzip MiB | floor s | land s | land/floor wall | floor CPU s | land CPU s "
    "| land/floor CPU | floor RSS MiB | land RSS MiB |\n"
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
)


def _line(r: dict) -> str:
    return (
        f"| {r['shape']} | {r['rows']:,} | {r['files']} | {r['gzip_mib']:.0f} | {r['floor_wall']:.1f} "
        f"| {r['land_wall']:.1f} | {r['land_wall'] / r['floor_wall']:.2f}x | {r['floor_cpu']:.1f} "
        f"| {r['land_cpu']:.1f} | {r['land_cpu'] / r['floor_cpu']:.2f}x | {r['floor_rss']:.0f} | {r['land_rss']:.0f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, action="append", help="rows per shape (repeatable), default 1,000,000")
    parser.add_argument("--runs", type=int, default=3, help="interleaved floor/land runs, median reported")
    parser.add_argument("--shape", choices=SHAPES, action="append", help="default: every shape available")
    parser.add_argument("--scratch", type=Path, default=None, help="folder for the files (default: a temp folder)")
    args = parser.parse_args()
    shapes = args.shape or [s for s in SHAPES if s != "realistic" or (HERE / "generate_usage.py").exists()]
    command = "python benchmarks/load_usage.py " + " ".join(sys.argv[1:])
    results = []
    with tempfile.TemporaryDirectory(dir=args.scratch) as tmp:
        for rows in args.rows or [1_000_000]:
            for shape in shapes:
                results.append(run(shape, rows, args.runs, Path(tmp)))
                print(_line(results[-1]), flush=True)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    text = (f"\n### load_usage.py, {stamp}\n\n{_machine()}\n\n`{command}` (medians of {args.runs} "
            "interleaved runs, each in a fresh process)\n\n" + HEADER + "\n" + "\n".join(map(_line, results)) + "\n")
    print(text)
    with (HERE / "RESULTS.md").open("a") as out:
        out.write(text)


if __name__ == "__main__":
    main()
