"""Generate CircleCI usage exports (gzip CSV) for benchmarks: realistic and adversarial shapes.

    python benchmarks/generate_usage.py --shape realistic --days 365 --rows-per-day 14000 \\
        --start 2025-12-01 --out /tmp/year [--per day|month] [--seed 1]

or, from a benchmark (with this folder on `sys.path`):

    from generate_usage import SHAPES, generate
    files = generate(Path("/tmp/year"), shape="realistic", days=365, rows_per_day=14000,
                     start=date(2025, 12, 1))

Files are what CircleCI's usage export API serves: `usage-YYYY-MM-DD.csv.gz` (`--per day`) or
`usage-YYYY-MM.csv.gz` (`--per month`), one gzip CSV each, a header of the 48 UPPERCASE columns
in a real export's order, `\\N` for null, timestamps `YYYY-MM-DD HH:MM:SS.fff` (UTC), dates
`YYYY-MM-DD`, booleans `true`/`false`. A file holds the jobs whose JOB_RUN_DATE (UTC date the job
started) falls in its day or month; a workflow running over midnight has jobs in two files.

Shapes
------
realistic
    One company with three CircleCI orgs (Europe, US and APAC working hours, so the US evening
    runs over UTC midnight) and 40 projects whose sizes follow a Zipf law (the five biggest make
    about 70% of the jobs, a long tail the rest). About 90% of pipelines come from webhooks, 5% from
    schedules (nightly, on main) and 5% from the API; a quarter of the webhook pushes go to `main`,
    the rest to feature branches (`feature/<KEY>-<ticket>-<slug>`, each alive about 10 days, one
    author) and a few `dependabot/...` branches pushed by an unregistered user. A push session is
    1-4 pushes to one branch 1.5-11.5 minutes apart, so newer pipelines start while older ones still
    run; a newer push cancels 10% of the runs it supersedes. Every pipeline runs `build-and-test`
    (checkout; lint and 1-4 test shards; build and, in big repos, integration-test: 4-8 jobs);
    pushes to main also run `deploy` (build-image, deploy-staging, deploy-production). Resource
    classes are per (project, job): docker small to 2xlarge, linux and arm machines, macOS for the
    iOS app; utilisation levels are per (project, job) too, so about a third of the pairs are clearly
    over-provisioned (median and max CPU and RAM below 40%) and the others are not. DLC (200 credits
    a run) on build jobs of 40% of the projects, small storage and network credits, IP-ranges credits
    on one org's production deploys.
one_job_per_workflow
    The awkward shape: 12 projects in two orgs, 70% of pipelines on main, and every workflow has
    exactly one job (`lint`, `test`, `build`, `deploy-staging`, `deploy-production`, the workflow
    named like its job); main pushes start their deploy workflows 10 and 20 minutes later, so about
    a fifth of the jobs are deploys.
monorepo
    One monorepo deploying to production about 100 times a weekday (fewer at weekends): every push
    to main runs an 8-job `build-and-test` and a `deploy` workflow whose deploy-production fails now
    and then (about 7%) and is almost always fixed by the next push. The monorepo's feature branches
    and 15 small projects fill the rest of the rows; with a small --rows-per-day the deploy stream
    is cut so that it never takes more than half the rows.

Outcomes are drawn per workflow (realistic: about 86% succeed, 8% fail, 4% are canceled, 1% end in
infrastructure_fail or timedout); a failing workflow breaks at one job (picked by per-job weights),
the stage's other jobs finish, later stages never run and so have no rows. About 5% of the failed
workflows are re-run in the same pipeline (new WORKFLOW_ID and JOB_IDs, same PIPELINE_ID) 2 minutes
to 26 hours after they stopped; a re-run fails 20% of the time and is never re-run itself.

Arithmetic
----------
Randomness is `hash()` of the seed, the shape and an entity's integer key, reduced modulo n
(`draw(key, salt, n)`); everything else is integer arithmetic on epoch seconds. So a (shape, days,
rows_per_day, start, seed) gives the same bytes every run on one DuckDB version (`hash()` is not
promised stable across versions), and a shorter run's files equal the first files of a longer one.

- Keys spell out where an entity comes from, so they are unique without a numbering pass:
  session = (day * 2 + stream) * 1,000,000 + n, pipeline = session * 10 + push,
  workflow = pipeline * 100 + template * 2 + attempt, job = workflow * 100 + job. The ids are two
  64-bit hashes of the key printed as a UUID.
- Rows per day: a day weight w = 1060 on weekdays, 850 at weekends, +-30 jitter (per mille; a week
  averages 1000). Jobs per push session depend on outcomes, cut-offs and re-runs, so they are
  counted rather than derived: a probe day of 20,000 sessions (and 2,000 of the monorepo's deploy
  pushes) is generated first, and each day gets round(rows_per_day * w / 1000 / jobs_per_session)
  sessions. Generation starts 2 days before `start`, so the first file also holds the jobs of
  pipelines created the evening before; jobs after the last day are dropped.
- Times: a session starts in its org's 9 busy hours (80%) or anywhere in the day; scheduled
  pipelines at a fixed time per project between 02:00 and 03:00. Jobs run in stages: a stage is
  queued when the previous stage's last job has stopped (+2 s); a job waits 1-15 s in the queue
  (4%: 30-600 s) and runs base seconds x project speed x 0.75-1.34. A failed job stops at 20-89% of
  its run, infrastructure_fail after 5-64 s, timedout after half its run + 600 s. A cancel (by hand,
  or 15 s after a newer push) marks the running jobs `canceled` at that second and drops the jobs
  not started yet.
- Workflow columns are min/max over the workflow's jobs; IS_WORKFLOW_SUCCESSFUL = every job
  succeeded. JOB_RUN_SECONDS = stopped - started. COMPUTE_CREDITS = ceil(seconds / 60) x the class's
  credits per minute (dbt_like_sql/seeds/circleci_resource_classes.csv; macOS m4pro.medium 200 and
  m4pro.large 400 are not in that table). TOTAL_CREDITS = the sum of the other eight.
  Utilisation: median = the (project, job) level +-4, max = median + 3-8 (over-provisioned pairs)
  or + 8-32; null under 15 s and for 1% of the longer runs.
- PIPELINE_NUMBER and JOB_RUN_NUMBER count on per project from a per-project base, in creation and
  queue order. LAST_BUILD_FINISHED_AT is the project's last job stop in the file.

Speed and memory: days are generated a calendar month at a time (jobs that start after the month
wait in a table for the next one). Each month is one DuckDB `COPY ... TO` a plain CSV (HEADER,
NULLSTR '\\N', TIMESTAMPFORMAT, DATEFORMAT), ordered by day; a worker thread cuts it into the day
files by row count and gzips them with zlib at level 1 (fixed header: no name, no mtime) while
DuckDB goes on with the next month. DuckDB 2.0's own `COMPRESSION gzip` wrote about 20 MB/s here
and has no level option: a year of 14,000 rows a day would take minutes instead of seconds.
"""

from __future__ import annotations

import argparse
import time
import zlib
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import duckdb

from usage_shapes import MAX_SESSIONS, SHAPE_SPECS, SHAPES, setup_tables
from usage_sql import (
    COLUMNS_SQL,
    COUNTERS_SQL,
    FINISHED_SQL,
    PIPELINE_NUMBERS_SQL,
    day_weight_sql,
    epoch_day,
    jobs_sql,
    pipelines_sql,
    reruns_sql,
    workflows_sql,
)

PROBE_SESSIONS, PROBE_FIXED = 20_000, 2_000
WARM_UP_DAYS = 2  # pipelines created this many days before `start` still put jobs in its files
GZIP_LEVEL = 1


class _Generator:
    """The DuckDB connection, and what carries from one batch of days to the next."""

    def __init__(self, shape: str, rows_per_day: int, start: date, seed: int) -> None:
        self.spec = SHAPE_SPECS[shape]
        self.key = f"'{shape}', {seed}"
        self.con = duckdb.connect()
        setup_tables(self.con, self.spec, self.key, epoch_day(start))
        self._calibrate(rows_per_day)
        self.has_pending = False

    def _jobs_of_sessions(self, plan: str) -> None:
        """Tables `pipelines` and `jobs` for the sessions of `plan` (dn, n_fixed, n_pool)."""
        self.con.execute(pipelines_sql(self.spec, self.key, plan))
        self.con.execute(workflows_sql(self.spec))
        self.con.execute(f"create or replace temp table first_jobs as {jobs_sql('workflows')}")
        self.con.execute(reruns_sql(self.spec, self.key))
        self.con.execute(f"create or replace temp table jobs as "
                         f"select * from first_jobs union all ({jobs_sql('reruns')})")

    def _calibrate(self, rows_per_day: int) -> None:
        """Jobs per session, counted on a probe day (outcomes, cut-offs and re-runs make it hard to derive)."""
        fixed = PROBE_FIXED if self.spec.deploys_per_day else 0
        self._jobs_of_sessions(f"select 0 as dn, {fixed} as n_fixed, {PROBE_SESSIONS} as n_pool")
        counts = dict(self.con.execute(
            "select p.fixed, count(*) from jobs j join pipelines p using (pipeline_key) group by p.fixed").fetchall())
        per_session = counts[False] / PROBE_SESSIONS
        per_deploy = counts.get(True, 0) / PROBE_FIXED
        # the deploy stream never takes more than half the rows, so small --rows-per-day still has a tail
        deploys = min(self.spec.deploys_per_day, rows_per_day / 2 / per_deploy) if per_deploy else 0
        weight = day_weight_sql(self.key)
        self.plan = (
            f"select dn, n_fixed, greatest(0, round(({rows_per_day} * w / 1000 - n_fixed * {per_deploy!r})"
            f" / {per_session!r}))::bigint as n_pool"
            f" from (select dn, w, round({deploys!r} * w / 1000)::bigint as n_fixed"
            f" from (select dn, {weight} as w from range({{first}}, {{last}} + 1) r(dn)))"
        )

    def run_days(self, first: int, last: int) -> None:
        """Generate the pipelines created on epoch days first..last; their jobs join `pending`."""
        self._jobs_of_sessions(self.plan.format(first=first, last=last))
        self.con.execute(PIPELINE_NUMBERS_SQL)
        verb = "insert into pending" if self.has_pending else "create temp table pending as"
        self.con.execute(f"{verb} {FINISHED_SQL}")
        self.has_pending = True
        self.con.execute(COUNTERS_SQL)

    def write(self, first: int, last: int, target: Path, per: str) -> dict[int, int]:
        """Copy the pending jobs started on days first..last, in file order, to the plain CSV `target`.

        One COPY for the whole batch (a COPY a day costs about as much again as the writing); the
        rows come day by day, so the caller splits them by the returned row count per epoch day.
        The narrow rows are sorted first; the COPY then only projects one table, which DuckDB keeps
        in order, and takes names from the project and profile lists.
        """
        file_day = "run_dn" if per == "day" else "0"
        self.con.execute(f"""
            create or replace temp table ready as
            select *, max(stopped_s) over (partition by {file_day}, project_idx) as last_stop_s  -- last build in the file
            from pending where run_dn between {first} and {last}
            order by run_dn, started_s, wf_key, profile_id
        """)
        path = str(target).replace("'", "''")
        self.con.execute(f"""
            copy (
                select {COLUMNS_SQL}
                from (select *, getvariable('projects')[project_idx + 1] as p,
                             getvariable('profiles')[profile_id] as f from ready) j
            ) to '{path}' (header, nullstr '\\N', timestampformat '%Y-%m-%d %H:%M:%S.%g', dateformat '%Y-%m-%d')
        """)
        return dict(self.con.execute("select run_dn, count(*) from ready group by run_dn").fetchall())

    def forget(self, last: int) -> None:
        """Drop the written jobs (rebuilt rather than deleted from: deleted rows would keep their memory)."""
        self.con.execute(f"create or replace temp table pending as select * from pending where run_dn > {last}")


def _gzip_parts(plain: Path, parts: list[tuple[Path, int]]) -> None:
    """Gzip consecutive runs of rows of `plain` into one file each, with the header; remove `plain`.

    Reads blocks and counts newlines (no per-line Python work); zlib with a fixed header (no name,
    mtime 0), so equal input gives equal bytes; `.part` then rename, so a file that exists is complete.
    """
    with plain.open("rb") as source:
        header = source.readline()
        block = b""
        for target, rows in parts:
            packer = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)
            part = target.with_name(target.name + ".part")
            with part.open("wb") as sink:
                sink.write(packer.compress(header))
                while rows:
                    block = block or source.read(1 << 22)
                    if (lines := block.count(b"\n")) <= rows:
                        sink.write(packer.compress(block))
                        block, rows = b"", rows - lines
                        continue
                    end = -1
                    for _ in range(rows):
                        end = block.index(b"\n", end + 1)
                    sink.write(packer.compress(block[: end + 1]))
                    block, rows = block[end + 1 :], 0
                sink.write(packer.flush())
            part.replace(target)
    plain.unlink()


def _months(first: date, last: date) -> Iterator[tuple[date, date]]:
    """Calendar months from first to last, clipped to them."""
    while first <= last:
        next_month = (first.replace(day=1) + timedelta(days=32)).replace(day=1)
        yield first, min(last, next_month - timedelta(days=1))
        first = next_month


def generate(
    out_dir: Path, *, shape: str, days: int, rows_per_day: int, start: date, per: str = "day", seed: int = 1
) -> list[Path]:
    """Write `days` days of usage export files of `shape` from `start` into `out_dir`; the files, sorted."""
    if shape not in SHAPE_SPECS:
        raise ValueError(f"unknown shape {shape!r}: one of {', '.join(SHAPES)}")
    if per not in ("day", "month"):
        raise ValueError(f"per must be 'day' or 'month', not {per!r}")
    if days < 1 or not 1 <= rows_per_day <= MAX_SESSIONS:
        raise ValueError(f"days must be at least 1 and rows_per_day between 1 and {MAX_SESSIONS:,}")
    out_dir.mkdir(parents=True, exist_ok=True)
    generator = _Generator(shape, rows_per_day, start, seed)
    last_day = start + timedelta(days=days - 1)
    files: list[Path] = []
    # one gzip worker: it keeps up with DuckDB and uses the core DuckDB leaves idle between statements
    with ThreadPoolExecutor(max_workers=1) as gzipper:
        written: list[Future] = []
        # batches of a calendar month; the first also makes the warm-up days' pipelines
        for month_first, month_last in _months(start, last_day):
            batch_first = start - timedelta(days=WARM_UP_DAYS) if month_first == start else month_first
            first, last = epoch_day(month_first), epoch_day(month_last)
            generator.run_days(epoch_day(batch_first), last)
            plain = out_dir / f".usage-{month_first:%Y-%m}.csv"
            rows = generator.write(first, last, plain, per)
            if per == "day":
                parts = [(out_dir / f"usage-{date(1970, 1, 1) + timedelta(dn):%Y-%m-%d}.csv.gz", rows.get(dn, 0))
                         for dn in range(first, last + 1)]
            else:
                parts = [(out_dir / f"usage-{month_first:%Y-%m}.csv.gz", sum(rows.values()))]
            files += [target for target, _ in parts]
            written.append(gzipper.submit(_gzip_parts, plain, parts))
            generator.forget(last)
        for future in written:
            future.result()
    return sorted(files)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\nArithmetic\n")[0], epilog="The module docstring has the arithmetic.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--shape", choices=SHAPES, default="realistic")
    parser.add_argument("--days", type=int, required=True, help="number of days of job runs")
    parser.add_argument("--rows-per-day", type=int, required=True, help="average job rows a day (weekdays more)")
    parser.add_argument("--start", type=date.fromisoformat, required=True, help="first day, YYYY-MM-DD (UTC)")
    parser.add_argument("--out", type=Path, required=True, help="folder for the .csv.gz files")
    parser.add_argument("--per", choices=("day", "month"), default="day", help="one file a day or a month")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    started = time.perf_counter()
    files = generate(args.out, shape=args.shape, days=args.days, rows_per_day=args.rows_per_day,
                     start=args.start, per=args.per, seed=args.seed)
    print(f"{len(files)} files in {args.out} in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
