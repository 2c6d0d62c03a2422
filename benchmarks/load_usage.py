"""Benchmark: landing a large usage export against the floor of DuckDB reading the CSV once.

    python benchmarks/load_usage.py --rows 2000000 [--rows 8000000 ...]

For each size it writes a synthetic 48-column usage export (gzip CSV), then measures, each in
a fresh process so peak memory (max RSS) is its own:
  floor  DuckDB reading every column of the file once (count of a varchar column),
  land   ciwatch_etl's loader: parse, type, validate, stage and merge into the Parquet lake.
Results are appended to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent

_GENERATE = r"""
copy (
    select
        'org-' || (i % 3) as ORGANIZATION_ID, 'org ' || (i % 3) as ORGANIZATION_NAME,
        '2023-04-27' as ORGANIZATION_CREATED_DATE, 'proj-' || (i % 40) as PROJECT_ID,
        'project-' || (i % 40) as PROJECT_NAME, '2024-01-01' as PROJECT_CREATED_DATE,
        '2025-07-02 18:31:31.424' as LAST_BUILD_FINISHED_AT, 'github' as VCS_NAME,
        'https://github.com/acme/project-' || (i % 40) as VCS_URL,
        case when i % 5 = 0 then 'main' else 'feature-' || (i % 97) end as VCS_BRANCH,
        'pipe-' || (i // 6) as PIPELINE_ID, '2025-07-02 18:25:46.234' as PIPELINE_CREATED_AT,
        i // 6 as PIPELINE_NUMBER, 'false' as IS_UNREGISTERED_USER, 'webhook' as PIPELINE_TRIGGER_SOURCE,
        'user-' || (i % 50) as PIPELINE_TRIGGER_USER_ID, 'wf-' || (i // 3) as WORKFLOW_ID,
        'build-and-test' as WORKFLOW_NAME, '2025-07-02 18:25:47.000' as WORKFLOW_FIRST_JOB_QUEUED_AT,
        '2025-07-02 18:25:48.000' as WORKFLOW_FIRST_JOB_STARTED_AT, '2025-07-02 18:27:17.000' as WORKFLOW_STOPPED_AT,
        'true' as IS_WORKFLOW_SUCCESSFUL, 'job-' || (i % 7) as JOB_NAME, i as JOB_RUN_NUMBER,
        'job-id-' || i as JOB_ID,
        strftime(date '2025-01-01' + (i % 365)::int, '%Y-%m-%d') as JOB_RUN_DATE,
        '2025-07-02 18:26:08.000' as JOB_RUN_QUEUED_AT, '2025-07-02 18:26:10.000' as JOB_RUN_STARTED_AT,
        '2025-07-02 18:26:18.000' as JOB_RUN_STOPPED_AT,
        case when i % 11 = 0 then 'failed' else 'success' end as JOB_BUILD_STATUS,
        'medium' as RESOURCE_CLASS, 'linux' as OPERATING_SYSTEM, 'docker' as EXECUTOR, 1 as PARALLELISM,
        60 + i % 600 as JOB_RUN_SECONDS,
        case when i % 4 = 0 then '\N' else (i % 90)::varchar end as MEDIAN_CPU_UTILIZATION_PCT,
        (i % 100)::varchar as MAX_CPU_UTILIZATION_PCT, (i % 80)::varchar as MEDIAN_RAM_UTILIZATION_PCT,
        (i % 100)::varchar as MAX_RAM_UTILIZATION_PCT, 10 as COMPUTE_CREDITS, 0 as DLC_CREDITS,
        1 as USER_CREDITS, 0 as STORAGE_CREDITS, 0 as NETWORK_CREDITS, 0 as LEASE_CREDITS,
        0 as LEASE_OVERAGE_CREDITS, 0 as IPRANGES_CREDITS, 11 as TOTAL_CREDITS
    from range($rows) t(i)
) to '$path' (header, compression gzip)
"""

_FLOOR = r"""
import duckdb, json, resource, sys, time
t = time.perf_counter()
n = duckdb.sql("select count(JOB_ID) from read_csv(?, header=true, all_varchar=true, nullstr='\\N')",
               params=[sys.argv[1]]).fetchall()[0][0]
print(json.dumps({"rows": n, "seconds": time.perf_counter() - t,
                  "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

_LAND = r"""
import json, resource, sys, time
from datetime import datetime
from pathlib import Path
from ciwatch_etl.landing.usage_load import UsageFile, land_usage_files
t = time.perf_counter()
report = land_usage_files(Path(sys.argv[2]), [UsageFile(Path(sys.argv[1]), "bench.csv.gz", "bench")],
                          extracted_at=datetime(2026, 1, 1))
print(json.dumps({"rows": report.rows_valid, "seconds": time.perf_counter() - t,
                  "partitions": len(report.merge.partitions),
                  "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _measure(script: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, "-c", script, *args], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(rows: int, work: Path) -> dict:
    import duckdb

    export = work / f"usage-{rows}.csv.gz"
    started = time.perf_counter()
    duckdb.sql(_GENERATE.replace("$rows", str(rows)).replace("$path", str(export)))
    generated = time.perf_counter() - started
    floor = _measure(_FLOOR, str(export))
    land = _measure(_LAND, str(export), str(work / f"lake-{rows}"))
    assert floor["rows"] == rows and land["rows"] == rows, (floor, land)
    return {
        "rows": rows,
        "file_mib": export.stat().st_size / 2**20,
        "generate_s": generated,
        "floor_s": floor["seconds"],
        "floor_rss_mib": floor["max_rss_mib"],
        "land_s": land["seconds"],
        "land_rss_mib": land["max_rss_mib"],
        "ratio": land["seconds"] / floor["seconds"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, action="append", help="rows per export (repeatable)")
    args = parser.parse_args()
    sizes = args.rows or [1_000_000]
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        for rows in sizes:
            r = run(rows, Path(tmp))
            line = (
                f"| {r['rows']:,} | {r['file_mib']:.0f} | {r['floor_s']:.1f} | {r['floor_rss_mib']:.0f} "
                f"| {r['land_s']:.1f} | {r['land_rss_mib']:.0f} | {r['ratio']:.1f}x |"
            )
            print(line, flush=True)
            lines.append(line)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    with (HERE / "RESULTS.md").open("a") as results:
        results.write(f"\n### load_usage.py, {stamp}, {platform.node() or 'host'}, {platform.python_version()}\n\n")
        results.write("| rows | gzip MiB | floor s | floor RSS MiB | land s | land RSS MiB | land/floor |\n")
        results.write("|---:|---:|---:|---:|---:|---:|---:|\n")
        results.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
