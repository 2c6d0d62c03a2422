"""Benchmark: `ciwatch-etl metrics costs|performance|dora --period-days 365` on a year's warehouse.

    python benchmarks/metrics_cli.py --home /tmp/ciwatch-bench/year [--repeat 5]

The floor is a fresh Python process that runs the very queries the command runs (recorded here
once, with their parameters) on a read-only DuckDB connection, and nothing else. Each command
must take <= 1.5 s and <= 1.5x its floor. Run `year_build.py` first for a year's warehouse.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from datetime import date
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import CLI, PYTHON, append_results, measure, median  # noqa: E402

from ciwatch_etl.metrics.request import parse_request  # noqa: E402

METRICS = ("costs", "performance", "dora")
FLOOR = """
import json, sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
for sql, params in json.load(open(sys.argv[2])):
    con.execute(sql, params).fetchall()
"""


class Recorder:
    """A connection that notes every query it runs, with its parameters."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con
        self.queries: list[tuple[str, object]] = []

    def execute(self, sql: str, params=None):
        self.queries.append((sql, params))
        return self.con.execute(sql, params)


def last_day(warehouse: Path) -> date:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("select max(usage_date) from fct_credit_usage_daily").fetchone()[0]


def record(warehouse: Path, name: str, as_of: date, out: Path) -> None:
    compute = getattr(importlib.import_module(f"ciwatch_etl.metrics.{name}"), name)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        recorder = Recorder(con)
        compute(recorder, parse_request("365", as_of.isoformat(), None, None, None))
    out.write_text(json.dumps([(sql, _jsonable(params)) for sql, params in recorder.queries]))


def _jsonable(params):
    if isinstance(params, dict):
        return {k: v.isoformat() if isinstance(v, date) else v for k, v in params.items()}
    return params


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=Path("/tmp/ciwatch-bench/year"))
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    warehouse = args.home / "warehouse.duckdb"
    as_of = last_day(warehouse)
    lines = [
        f"warehouse {warehouse}, --period-days 365 --as-of {as_of}",
        "",
        "| command | wall s | CPU s | floor wall s | floor CPU s | ratio (wall) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name in METRICS:
        queries = args.home / f"{name}-queries.json"
        record(warehouse, name, as_of, queries)
        command, floor = [], []
        for _ in range(args.repeat):
            command.append(measure([CLI, "metrics", name, "--period-days", "365", "--as-of", as_of.isoformat()],
                                   env={"CIWATCH_HOME": str(args.home)}))
            floor.append(measure([PYTHON, "-c", FLOOR, str(warehouse), str(queries)]))
        wall, cpu = median([m.wall_s for m in command]), median([m.cpu_s for m in command])
        f_wall, f_cpu = median([m.wall_s for m in floor]), median([m.cpu_s for m in floor])
        lines.append(f"| metrics {name} | {wall:.2f} | {cpu:.2f} | {f_wall:.2f} | {f_cpu:.2f} | {wall / f_wall:.2f}x |")
        print(lines[-1], flush=True)
    append_results("metrics_cli.py", " ".join(["python benchmarks/metrics_cli.py", *sys.argv[1:]]), lines)


if __name__ == "__main__":
    main()
