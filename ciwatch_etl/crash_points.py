"""Named points where a test can end the process as a crash would (power cut, OOM kill, SIGKILL).

`crash_point("name")` costs a few dictionary look-ups and does nothing unless the environment
asks for it:

- `CIWATCH_CRASH_AT=<name>`: the process ends there at once with `os._exit(CRASH_EXIT_CODE)`:
  no `finally`, no `atexit`, no buffers flushed, as if the machine had died;
- `CIWATCH_PAUSE_AT=<name>`: the process prints `PAUSE_MARK + name` on stderr and waits there
  for a signal (how a test sends SIGTERM at a known moment, not after a sleep and a hope);
- `CIWATCH_CRASH_LOG=<file>`: every point reached is appended to the file, so a test can check
  that an uninterrupted run reaches every point listed here.

Every point is listed below, in the order a run reaches them; the crash tests parametrize over
these tuples.
"""

from __future__ import annotations

import os
import sys
import time

CRASH_EXIT_CODE = 86
PAUSE_MARK = "ciwatch: paused at "

# Reached by `ciwatch-etl load-usage` of files that add days and change landed ones (the usage
# and warehouse points are reached by `ciwatch-etl run` too).
LOAD_USAGE_POINTS = (
    "usage.staged",  # every file read into the load's staging folder, nothing published
    "usage.merged",  # the changed days' merged files written in staging, none renamed yet
    "usage.day_published",  # the first day partition renamed into the lake, others not yet
    "usage.days_published",  # every day partition in place, quarantine not yet published
    "lake.quarantine_published",  # the first file's quarantine replaced, others not yet
    "usage.landed",  # everything published, the staging folder not yet removed
    "load_usage.landed",  # the write lock released, the warehouse not yet rebuilt
    "warehouse.model_files_written",  # the first incremental model's Parquet files written
    "warehouse.built",  # the new warehouse complete under its building name, not yet swapped
    "warehouse.swapped",  # the new warehouse in place, old model files not yet removed
    "load_usage.rebuilt",  # the rebuild done, its summary not yet printed
)

# Reached only by `ciwatch-etl run` (the usage export download, the API sources' landing, the
# SQL models' asset).
RUN_POINTS = (
    "download.finished",  # export files in the run's download folder, the write lock not yet taken
    "download.landed",  # the files landed, the download folder not yet removed
    "records.staged",  # an API pull's batches staged, nothing merged
    "lake.dimension_written",  # a dimension's new file written in staging, not yet renamed
    "lake.partitions_written",  # a table's changed day files written in staging, none renamed
    "lake.partition_replaced",  # the first of those day files renamed into the lake
    "sql_models.published",  # the warehouse published by the asset, its results not yet reported
)

CRASH_POINTS = LOAD_USAGE_POINTS + RUN_POINTS


def crash_point(name: str) -> None:
    """End the process here, pause here, or note that it came here, as the environment asks."""
    log = os.environ.get("CIWATCH_CRASH_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as reached:
            reached.write(name + "\n")
    if os.environ.get("CIWATCH_CRASH_AT") == name:
        os._exit(CRASH_EXIT_CODE)
    if os.environ.get("CIWATCH_PAUSE_AT") == name:
        print(PAUSE_MARK + name, file=sys.stderr, flush=True)
        while True:  # until a signal handler raises
            time.sleep(3600)
