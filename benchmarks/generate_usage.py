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
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb

RESOURCE_CLASS_SEED = Path(__file__).resolve().parents[1] / "dbt_like_sql" / "seeds" / "circleci_resource_classes.csv"
MACOS_CLASSES = (("m4pro.medium", 2, 200), ("m4pro.large", 4, 400))  # (name, size_rank, credits/min)
DLC_CREDITS = 200  # CircleCI charges docker layer caching per job run
PROBE_SESSIONS, PROBE_FIXED = 20_000, 2_000
MAX_SESSIONS = 1_000_000  # per day and stream: keys are spelled out in decimal places
WARM_UP_DAYS = 2  # pipelines created this many days before `start` still put jobs in its files
GZIP_LEVEL = 1


@dataclass(frozen=True)
class Project:
    name: str
    org: int
    family: str = "docker"  # where its test and build jobs run: docker | linux_vm | arm_vm | macos
    main_pct: int | None = None  # share of its webhook pushes to main (None: the shape's)


@dataclass(frozen=True)
class Job:
    template: str  # the workflow it belongs to (= WORKFLOW_NAME)
    name: str
    stage: int  # stage n starts when stage n-1 is done
    base_seconds: int
    size: int  # desired size_rank of its resource class (1 small .. 6 2xlarge)
    fail_weight: int  # how likely this job is the one that breaks a failing workflow
    min_shards: int = 0  # only in projects with at least this many test shards
    docker_only: bool = False  # checkout, lint and deploys stay on docker whatever the project
    dlc: bool = False  # uses docker layer caching in projects that pay for it


@dataclass(frozen=True)
class Shape:
    orgs: tuple[tuple[str, int], ...]  # (name, first busy UTC hour of a 9-hour working day)
    projects: tuple[Project, ...]  # biggest first
    zipf: float  # project weight ~ 1 / rank ** zipf
    main_pct: int
    scheduled_pct: int
    api_pct: int
    workflows: tuple[tuple[str, str, int, int], ...]  # (pipeline kind, template, pct, delay s)
    jobs: tuple[Job, ...]
    # template -> basis points of first attempts that fail, infra-fail, time out, are canceled
    outcomes: dict[str, tuple[int, int, int, int]]
    supersede_pct: int  # share of a branch's runs that a newer push cancels (auto-cancel, or by hand)
    rerun_pct: int = 5  # share of failed workflows re-run
    deploys_per_day: int = 0  # project 0's pushes to main a day (times the day weight), besides the drawn ones
    weights: tuple[float, ...] = ()  # explicit weights of the first projects instead of Zipf's


_BUILD_AND_TEST = (
    Job("build-and-test", "checkout", 0, 14, 1, 1, docker_only=True),
    Job("build-and-test", "lint", 1, 75, 2, 3, docker_only=True),
    Job("build-and-test", "test-1", 1, 380, 3, 6),
    Job("build-and-test", "test-2", 1, 380, 3, 6, min_shards=2),
    Job("build-and-test", "test-3", 1, 380, 3, 6, min_shards=3),
    Job("build-and-test", "test-4", 1, 380, 3, 6, min_shards=4),
    Job("build-and-test", "integration-test", 2, 540, 4, 5, min_shards=3),
    Job("build-and-test", "build", 2, 230, 4, 2, dlc=True),
)
_DEPLOY = (
    Job("deploy", "build-image", 0, 190, 3, 2, docker_only=True, dlc=True),
    Job("deploy", "deploy-staging", 1, 110, 1, 3, docker_only=True),
    Job("deploy", "deploy-production", 2, 160, 1, 3, docker_only=True),
)
_BY_KIND = (  # (pipeline kind, template, pct, delay s)
    ("main", "build-and-test", 100, 0), ("main", "deploy", 100, 0),
    ("branch", "build-and-test", 100, 0), ("scheduled", "build-and-test", 100, 0),
    ("api", "build-and-test", 100, 0),
)

SHAPE_SPECS: dict[str, Shape] = {
    "realistic": Shape(
        orgs=(("acme", 7), ("acme-us", 15), ("acme-mobile", 0)),
        projects=tuple(
            Project(name, org, family)
            for name, org, family in (
                ("web-app", 0, "docker"), ("api-gateway", 1, "docker"), ("payments", 0, "docker"),
                ("mobile-ios", 2, "macos"), ("data-pipeline", 1, "linux_vm"), ("search-indexer", 0, "docker"),
                ("billing-service", 1, "docker"), ("auth-service", 0, "docker"), ("mobile-android", 2, "linux_vm"),
                ("notifications", 1, "docker"), ("admin-portal", 0, "docker"), ("order-service", 1, "docker"),
                ("inventory-service", 0, "docker"), ("recommendation-engine", 1, "linux_vm"),
                ("design-system", 0, "docker"), ("graphql-gateway", 1, "docker"), ("infra-terraform", 0, "docker"),
                ("shipping-service", 1, "docker"), ("user-profile", 0, "docker"), ("analytics-etl", 1, "docker"),
                ("feature-flags", 0, "docker"), ("ml-training", 1, "linux_vm"), ("sdk-python", 2, "docker"),
                ("sdk-js", 2, "docker"), ("docs-site", 0, "docker"), ("log-shipper", 1, "arm_vm"),
                ("cdn-config", 0, "docker"), ("email-templates", 1, "docker"), ("chat-service", 0, "docker"),
                ("video-transcoder", 1, "linux_vm"), ("pdf-renderer", 0, "docker"), ("k8s-manifests", 1, "docker"),
                ("sdk-go", 2, "arm_vm"), ("cli", 2, "docker"), ("load-tests", 0, "docker"),
                ("monitoring-dashboards", 1, "docker"), ("e2e-tests", 0, "linux_vm"), ("legacy-monolith", 1, "docker"),
                ("website", 0, "docker"), ("status-page", 1, "docker"),
            )
        ),
        zipf=1.1,
        main_pct=25,
        scheduled_pct=7,
        api_pct=7,
        workflows=_BY_KIND,
        jobs=_BUILD_AND_TEST + _DEPLOY,
        outcomes={"build-and-test": (850, 70, 40, 220), "deploy": (500, 40, 20, 100)},
        supersede_pct=10,
    ),
    "one_job_per_workflow": Shape(
        orgs=(("northwind", 7), ("northwind-platform", 14)),
        projects=tuple(
            Project(name, i % 2)
            for i, name in enumerate(
                ("platform-api", "customer-portal", "worker", "scheduler", "edge-proxy", "config-service",
                 "reporting", "identity", "webhooks", "media-service", "audit-log", "tenant-admin")
            )
        ),
        zipf=0.8,
        main_pct=75,
        scheduled_pct=4,
        api_pct=4,
        workflows=(
            ("main", "lint", 100, 0), ("main", "test", 100, 0), ("main", "build", 100, 0),
            ("main", "deploy-staging", 50, 600), ("main", "deploy-production", 40, 1200),
            ("branch", "lint", 100, 0), ("branch", "test", 100, 0),
            ("scheduled", "test", 100, 0), ("api", "deploy-production", 100, 0),
        ),
        jobs=(
            Job("lint", "lint", 0, 70, 2, 1, docker_only=True),
            Job("test", "test", 0, 420, 3, 1),
            Job("build", "build", 0, 240, 4, 1, dlc=True),
            Job("deploy-staging", "deploy-staging", 0, 120, 1, 1, docker_only=True),
            Job("deploy-production", "deploy-production", 0, 170, 1, 1, docker_only=True),
        ),
        outcomes={
            "lint": (500, 40, 10, 100), "test": (1000, 60, 40, 150), "build": (400, 60, 20, 100),
            "deploy-staging": (500, 40, 20, 80), "deploy-production": (600, 40, 20, 80),
        },
        supersede_pct=8,
    ),
    "monorepo": Shape(
        orgs=(("globex", 8), ("globex-oss", 13)),
        projects=(Project("monorepo", 0, main_pct=0),) + tuple(
            Project(name, 1 if name.startswith("sdk") else 0)
            for name in ("marketing-site", "infra-terraform", "sdk-js", "sdk-python", "docs", "cli",
                         "status-page", "design-tokens", "load-tests", "data-exports", "slack-bot",
                         "k8s-charts", "email-templates", "pdf-renderer", "e2e-tests")
        ),
        zipf=1.0,
        weights=(3.0,),  # the monorepo's feature branches: about half of the drawn sessions
        main_pct=30,
        scheduled_pct=5,
        api_pct=3,
        workflows=_BY_KIND,
        jobs=_BUILD_AND_TEST
        + (
            Job("deploy", "build-image", 0, 190, 3, 1, docker_only=True, dlc=True),
            Job("deploy", "deploy-staging", 1, 110, 1, 2, docker_only=True),
            Job("deploy", "deploy-production", 2, 160, 1, 12, docker_only=True),
        ),
        outcomes={"build-and-test": (900, 70, 40, 150), "deploy": (900, 30, 20, 50)},
        supersede_pct=8,
        deploys_per_day=100,
    ),
}
SHAPES: tuple[str, ...] = tuple(SHAPE_SPECS)

# The real export's column order (JOB_RUN_NUMBER before JOB_ID, unlike the docs table). `j` is a
# job row, `p` its project (and org) and `f` its job profile, as structs.
_COLUMNS_SQL = """
    p.org_id as ORGANIZATION_ID,
    p.org_name as ORGANIZATION_NAME,
    p.org_created as ORGANIZATION_CREATED_DATE,
    p.project_id as PROJECT_ID,
    p.project_name as PROJECT_NAME,
    p.project_created as PROJECT_CREATED_DATE,
    make_timestamp(j.last_stop_s * 1000000 + j.project_idx * 7919 % 1000 * 1000) as LAST_BUILD_FINISHED_AT,
    'github' as VCS_NAME,
    'https://github.com/' || p.org_name || '/' || p.project_name as VCS_URL,
    j.branch as VCS_BRANCH,
    uuid_of('pipeline', j.pipeline_key) as PIPELINE_ID,
    make_timestamp(j.created_us) as PIPELINE_CREATED_AT,
    j.pipeline_number as PIPELINE_NUMBER,
    j.unregistered as IS_UNREGISTERED_USER,
    j.trigger_source as PIPELINE_TRIGGER_SOURCE,
    uuid_of('user', p.org_idx * 1000000 + j.user_no) as PIPELINE_TRIGGER_USER_ID,
    uuid_of('workflow', j.wf_key) as WORKFLOW_ID,
    f.template as WORKFLOW_NAME,
    make_timestamp(j.wf_queued_s * 1000000) as WORKFLOW_FIRST_JOB_QUEUED_AT,
    make_timestamp(j.wf_started_s * 1000000) as WORKFLOW_FIRST_JOB_STARTED_AT,
    make_timestamp(j.wf_stopped_s * 1000000) as WORKFLOW_STOPPED_AT,
    j.wf_ok as IS_WORKFLOW_SUCCESSFUL,
    f.job_name as JOB_NAME,
    j.job_run_number as JOB_RUN_NUMBER,
    uuid_of('job', j.wf_key * 100 + f.job_idx) as JOB_ID,
    date '1970-01-01' + j.run_dn::int as JOB_RUN_DATE,
    make_timestamp(j.queued_s * 1000000) as JOB_RUN_QUEUED_AT,
    make_timestamp(j.started_s * 1000000) as JOB_RUN_STARTED_AT,
    make_timestamp(j.stopped_s * 1000000) as JOB_RUN_STOPPED_AT,
    j.status as JOB_BUILD_STATUS,
    f.resource_class as RESOURCE_CLASS,
    f.operating_system as OPERATING_SYSTEM,
    f.executor as EXECUTOR,
    1 as PARALLELISM,
    j.stopped_s - j.started_s as JOB_RUN_SECONDS,
    j.median_cpu as MEDIAN_CPU_UTILIZATION_PCT,
    j.max_cpu as MAX_CPU_UTILIZATION_PCT,
    j.median_ram as MEDIAN_RAM_UTILIZATION_PCT,
    j.max_ram as MAX_RAM_UTILIZATION_PCT,
    j.compute_credits as COMPUTE_CREDITS,
    j.dlc_credits as DLC_CREDITS,
    0 as USER_CREDITS,
    j.storage_credits as STORAGE_CREDITS,
    j.network_credits as NETWORK_CREDITS,
    0 as LEASE_CREDITS,
    0 as LEASE_OVERAGE_CREDITS,
    j.ipranges_credits as IPRANGES_CREDITS,
    j.compute_credits + j.dlc_credits + j.storage_credits + j.network_credits + j.ipranges_credits as TOTAL_CREDITS
"""


def _values(rows: list[tuple], columns: str) -> str:
    """A literal table; values are numbers or names from the specs above (no quotes in them)."""
    def literal(v: object) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        return str(v) if isinstance(v, (int, float)) else f"'{v}'"

    body = ", ".join("(" + ", ".join(literal(v) for v in row) + ")" for row in rows)
    return f"select * from (values {body}) t({columns})"


def _project_rows(spec: Shape) -> list[tuple]:
    """Projects with their traffic share as slots out of 10,000 and a size tier from that share."""
    weights = [
        spec.weights[i] if i < len(spec.weights) else 1 / (i + 1) ** spec.zipf for i in range(len(spec.projects))
    ]
    total, rows, low = sum(weights), [], 0
    for i, (project, weight) in enumerate(zip(spec.projects, weights)):
        high = round(10_000 * sum(weights[: i + 1]) / total)
        share = weight / total
        tier = 3 if share >= 0.10 else 2 if share >= 0.04 else 1 if share >= 0.015 else 0
        main_pct = spec.main_pct if project.main_pct is None else project.main_pct
        rows.append((i, project.name, project.org, project.family, main_pct, low, high, tier))
        low = high
    return rows


def _setup(con: duckdb.DuckDBPyConnection, spec: Shape, key: str, start_dn: int) -> None:
    """The small fixed tables every day draws from: orgs, projects, job profiles, rates."""
    con.execute("create macro draw(k, salt, n) as (hash(k, salt) % n)::bigint")
    # 128 bits from two hashes of unique integer keys, printed as a UUID
    con.execute(f"create macro uuid_of(kind, k) as "
                f"((hash({key}, kind, k)::uhugeint << 64) | hash(k, kind, {key}))::uuid")
    templates = list(dict.fromkeys(job.template for job in spec.jobs))
    con.execute("create table templates as " + _values(list(enumerate(templates)), "template_no, template"))
    con.execute("create table orgs_spec as " + _values(
        [(i, name, hour) for i, (name, hour) in enumerate(spec.orgs)], "org_idx, org_name, busy_from"))
    con.execute("create table projects_spec as " + _values(
        _project_rows(spec), "project_idx, project_name, org_idx, family, main_pct, slot_lo, slot_hi, tier"))
    con.execute(f"""
        create table projects as
        select s.*,
            uuid_of('project', project_idx) as project_id,
            date '1970-01-01' + ({start_dn} - 30 - draw(hash({key}, project_idx), 'created', 1500))::int
                as project_created,
            upper(left(replace(project_name, '-', ''), 3)) as ticket_prefix,
            60 + 45 * tier + draw(hash({key}, project_idx), 'speed', 40) as speed_pct,
            draw(hash({key}, project_idx), 'dlc', 100) < 40 as pays_dlc,
            1 + draw(hash({key}, project_idx), 'pipelines', 3000) as first_pipeline_number,
            1 + draw(hash({key}, project_idx), 'jobs', 90000) as first_job_number,
            1 + tier as shards,
            20 + 80 * tier as open_branches  -- feature branches alive at a time, each for about 10 days
        from projects_spec s
    """)
    con.execute(f"""
        create table orgs as
        select o.*,
            uuid_of('org', o.org_idx) as org_id,
            min(p.project_created) - draw(hash({key}, o.org_idx), 'created', 300)::int as org_created,
            15 + 4 * count(*) as developers
        from orgs_spec o join projects p using (org_idx) group by o.org_idx, o.org_name, o.busy_from
    """)
    con.execute("create table project_slots as select s.i as slot, p.project_idx "
                "from range(10000) s(i) join projects p on s.i >= p.slot_lo and s.i < p.slot_hi")
    con.execute("create table workflow_plan as select kind, template_no, pct, delay_s from ("
                + _values(list(spec.workflows), "kind, template, pct, delay_s") + ") join templates using (template)")
    outcomes = _values([(t, *bp) for t, bp in spec.outcomes.items()],
                       "template, failed_bp, infra_bp, timedout_bp, cancel_bp")
    con.execute(f"create table outcome_bp as select * exclude (template) from ({outcomes}) "
                "join templates using (template)")
    con.execute("create table job_spec as select * from (" + _values(
        [(j.template, i, j.name, j.stage, j.base_seconds, j.size, j.fail_weight, j.min_shards, j.docker_only, j.dlc)
         for i, j in enumerate(spec.jobs)],
        "template, job_idx, job_name, stage, base_seconds, size, fail_weight, min_shards, docker_only, dlc",
    ) + ") join templates using (template)")
    con.execute(f"""
        create table resource_classes as
        select executor, resource_class, family, size_rank, credits_per_minute::int as credits_per_minute,
               'linux' as operating_system
        from read_csv('{RESOURCE_CLASS_SEED}', header = true)
        union all
        {_values([("macos", n, "macos", r, c, "macos") for n, r, c in MACOS_CLASSES],
                 "executor, resource_class, family, size_rank, credits_per_minute, operating_system")}
    """)
    # One profile per (project, job): its resource class and its stable CPU/RAM level. About a
    # third are "lean": they use far less than their class offers (the over-provisioned ones).
    con.execute(f"""
        create table job_profiles as
        with wanted as (
            select p.project_idx, p.org_idx, j.*, p.speed_pct, p.pays_dlc,
                case when j.docker_only then 'docker' else p.family end as family,
                hash({key}, p.project_idx, j.job_idx) as ph,
                least(6, greatest(1, j.size + draw(ph, 'size', 3) - 1 + (p.tier >= 2)::int)) as want_rank
            from projects p join job_spec j on p.shards >= j.min_shards
        ),
        classed as (
            select w.*, arg_min(r.resource_class, abs(r.size_rank - w.want_rank) * 10 + r.size_rank) as resource_class
            from wanted w join resource_classes r using (family) group by all
        )
        select row_number() over (order by c.project_idx, c.job_idx) as profile_id,
            c.project_idx, c.template_no, c.template, c.job_idx, c.job_name, c.stage,
            c.base_seconds * c.speed_pct // 100 as run_seconds,
            r.resource_class, r.executor, r.operating_system, r.credits_per_minute,
            draw(c.ph, 'lean', 100) < 35 as lean,
            case when lean then 8 + draw(c.ph, 'cpu', 18) else 45 + draw(c.ph, 'cpu', 45) end as cpu_level,
            case when lean then 8 + draw(c.ph, 'ram', 18) else 40 + draw(c.ph, 'ram', 50) end as ram_level,
            c.dlc and c.pays_dlc and c.family in ('docker', 'linux_vm') as uses_dlc,
            c.org_idx = 0 and c.job_name = 'deploy-production' as uses_ip_ranges,
            sum(c.fail_weight) over (partition by c.project_idx, c.template_no order by c.job_idx) - c.fail_weight
                as fail_from,
            sum(c.fail_weight) over (partition by c.project_idx, c.template_no order by c.job_idx) as fail_to,
            sum(c.fail_weight) over (partition by c.project_idx, c.template_no) as fail_total
        from classed c join resource_classes r using (family, resource_class)
    """)
    # Project and profile attributes as lists, so writing needs no join (joins would not keep row order).
    con.execute("""
        set variable projects = (
            select list({'project_id': p.project_id, 'project_name': p.project_name, 'project_created': p.project_created,
                         'org_idx': p.org_idx, 'org_id': o.org_id, 'org_name': o.org_name, 'org_created': o.org_created}
                        order by p.project_idx)
            from projects p join orgs o using (org_idx)
        )
    """)
    con.execute("""
        set variable profiles = (
            select list({'template': template, 'job_idx': job_idx, 'job_name': job_name, 'resource_class': resource_class,
                         'executor': executor, 'operating_system': operating_system} order by profile_id)
            from job_profiles
        )
    """)
    con.execute("create table counters as select project_idx, 0::bigint as pipelines, 0::bigint as jobs from projects")


def _pipelines_sql(spec: Shape, key: str, plan: str) -> str:
    """Push sessions of the planned days, expanded into pipelines.

    Keys are integers that spell out where an entity comes from, so they are unique without any
    numbering pass: session (day, stream, number), pipeline = session * 10 + push,
    workflow = pipeline * 100 + template * 2 + attempt.
    """
    first_api = spec.scheduled_pct + spec.api_pct
    return f"""
    create or replace temp table pipelines as
    with plan as ({plan}),
    sessions as (   -- a developer's burst of pushes to one branch, or one schedule or API trigger
        select dn, false as fixed, unnest(range(n_pool)) as session from plan
        union all
        select dn, true as fixed, unnest(range(n_fixed)) as session from plan
    ),
    keyed as (
        select *, (dn * 2 + fixed::int) * {MAX_SESSIONS} + session as session_key, hash({key}, session_key) as sk
        from sessions
    ),
    drawn as (  -- the fixed stream is project 0's pushes to main; the pool draws a project by weight
        select k.*, coalesce(s.project_idx, 0) as project_idx, draw(k.sk, 'trigger', 100) as trigger_u
        from keyed k left join project_slots s on not k.fixed and s.slot = draw(k.sk, 'project', 10000)
    ),
    kinds as (
        select d.*, p.org_idx, p.ticket_prefix, p.open_branches, o.busy_from, o.developers,
            case when fixed then 'main'
                 when trigger_u < {spec.scheduled_pct} then 'scheduled'
                 when trigger_u < {first_api} then 'api'
                 when draw(sk, 'main', 100) < p.main_pct then 'main'
                 else 'branch' end as kind
        from drawn d join projects p using (project_idx) join orgs o using (org_idx)
    ),
    shaped as (
        select *,
            case when kind = 'branch' then 1 + (draw(sk, 'pushes', 100) >= 55)::int
                     + (draw(sk, 'pushes', 100) >= 80)::int + (draw(sk, 'pushes', 100) >= 92)::int
                 when kind = 'main' and not fixed then 1 + (draw(sk, 'pushes', 100) < 20)::int
                 else 1 end as pushes,
            90 + draw(sk, 'gap', 600) as gap_s,
            case when kind = 'scheduled' then 7200 + project_idx * 211 % 3600 + draw(sk, 'second', 60)
                 when draw(sk, 'busy', 100) < 80 then busy_from * 3600 + draw(sk, 'second', 9 * 3600)
                 else draw(sk, 'second', 86400) end as wanted_second,
            -- ticket numbers move on a tenth of the open branches a day, so a branch lives about 10 days
            dn % 3650 * open_branches // 10 + draw(sk, 'ticket', open_branches) as ticket,
            kind = 'branch' and draw(sk, 'bot', 100) < 6 as is_bot
        from kinds
    ),
    pushes as (
        select *, unnest(range(pushes)) as push,
            -- keep a session's pipelines on its own day, so numbers follow creation order
            dn * 86400 + least(wanted_second, 86399 - (pushes - 1) * gap_s) as session_s
        from shaped
    )
    select session_key * 10 + push as pipeline_key, project_idx, fixed, kind,
        hash(sk, push) as ph,
        session_s + push * gap_s as created_s,
        (session_s + push * gap_s) * 1000000 + draw(hash(sk, push), 'ms', 1000) * 1000 as created_us,
        case when push < pushes - 1 then session_s + (push + 1) * gap_s end as next_push_s,
        case when kind <> 'branch' then 'main'
             when is_bot then 'dependabot/npm_and_yarn/'
                 || ['lodash', 'axios', 'react', 'webpack', 'eslint', 'jest', 'express', 'typescript'
                    ][1 + draw(sk, 'package', 8)]
                 || '-' || (1 + draw(sk, 'major', 9)) || '.' || draw(sk, 'minor', 30) || '.' || draw(sk, 'patch', 10)
             else 'feature/' || ticket_prefix || '-' || ticket || '-'
                 || ['fix-login', 'add-metrics', 'retry-timeouts', 'bump-deps', 'new-checkout', 'refactor-auth',
                     'cache-warmup', 'dark-mode', 'rate-limits', 'cleanup', 'search-filters', 'export-csv'
                    ][1 + draw(hash({key}, project_idx, ticket), 'slug', 12)]
        end as branch,
        case kind when 'scheduled' then 'scheduled_pipeline' when 'api' then 'api' else 'webhook' end as trigger_source,
        case when kind = 'scheduled' then -1 when kind = 'api' then -2 when is_bot then -3
             when kind = 'branch' then draw(hash({key}, project_idx, ticket), 'developer', developers)  -- one author
             else draw(sk, 'developer', developers) end as user_no
    from pushes
    """


def _workflows_sql(spec: Shape) -> str:
    """First attempts: which workflows each pipeline runs, how each will end, and any cancel."""
    return f"""
    create or replace temp table workflows as
    with planned as (
        select p.pipeline_key * 100 + w.template_no * 2 as wf_key, p.pipeline_key, p.project_idx, w.template_no,
            hash(p.ph, w.template_no) as wh, p.created_s + 1 + w.delay_s as ready_s, p.next_push_s
        from pipelines p join workflow_plan w using (kind)
        where draw(hash(p.ph, w.template_no), 'runs', 100) < w.pct
    ),
    drawn as (
        select pl.*, b.*, draw(wh, 'outcome', 10000) as u, ready_s + draw(wh, 'start', 4) as start_s
        from planned pl join outcome_bp b using (template_no)
    )
    select wf_key, pipeline_key, project_idx, template_no, wh, start_s,
        case when u < failed_bp then 'failed'
             when u < failed_bp + infra_bp then 'infrastructure_fail'
             when u < failed_bp + infra_bp + timedout_bp then 'timedout'
             else 'success' end as outcome,
        case when u >= 10000 - cancel_bp then start_s + 30 + draw(wh, 'cancel', 900)  -- someone cancels it
             when draw(wh, 'superseded', 100) < {spec.supersede_pct} then next_push_s + 15  -- a newer push came
        end as cancel_s
    from drawn
    """


def _jobs_sql(workflows: str) -> str:
    """The jobs that run for the workflow runs in table `workflows`, with their times and status."""
    return f"""
    with broken as (    -- the one job a failing workflow fails at, picked by weight
        select w.wf_key, j.job_idx as broken_job, j.stage as broken_stage
        from {workflows} w join job_profiles j using (project_idx, template_no)
        where w.outcome <> 'success' and draw(w.wh, 'breaks', j.fail_total) between j.fail_from and j.fail_to - 1
    ),
    ran as (            -- stages after the broken one never run
        select w.*, j.profile_id, j.stage, j.run_seconds, hash(w.wh, j.job_idx) as jh,
            coalesce(j.job_idx = b.broken_job, false) as breaks
        from {workflows} w join job_profiles j using (project_idx, template_no) left join broken b using (wf_key)
        where j.stage <= coalesce(b.broken_stage, j.stage)
    ),
    timed as (
        select *,
            case when not breaks then full_s
                 when outcome = 'failed' then greatest(3, full_s * (20 + draw(jh, 'failed-at', 70)) // 100)
                 when outcome = 'infrastructure_fail' then 5 + draw(jh, 'infra-at', 60)
                 else full_s // 2 + 600 end as run_s,  -- timedout: 10 minutes without output
            case when draw(jh, 'busy', 100) < 4 then 30 + draw(jh, 'queue', 570) else 1 + draw(jh, 'queue', 15) end
                as queue_s
        from (select *, greatest(3, run_seconds * (75 + draw(jh, 'speed', 60)) // 100) as full_s from ran)
    ),
    stages as (         -- a stage is queued when the previous one's last job has stopped
        select wf_key, stage,
            coalesce(sum(stage_s) over (partition by wf_key order by stage
                                        rows between unbounded preceding and 1 preceding), 0)::bigint as offset_s
        from (select wf_key, stage, max(queue_s + run_s) + 2 as stage_s from timed group by all)
    ),
    placed as (
        select t.*, t.start_s + s.offset_s as queued_s, t.start_s + s.offset_s + t.queue_s as started_s,
            t.start_s + s.offset_s + t.queue_s + t.run_s as stopped_s
        from timed t join stages s using (wf_key, stage)
    )
    select wf_key, pipeline_key, project_idx, template_no, profile_id, jh, queued_s, started_s,
        least(stopped_s, coalesce(cancel_s, stopped_s)) as stopped_s,
        case when stopped_s > cancel_s then 'canceled' when breaks then outcome else 'success' end as status
    from placed
    where cancel_s is null or started_s < cancel_s   -- a cancel drops the jobs not started yet
    """


def _reruns_sql(spec: Shape, key: str) -> str:
    """About rerun_pct of the failed first attempts run again, minutes to a day after they stopped."""
    return f"""
    create or replace temp table reruns as
    with failed as (
        select wf_key + 1 as wf_key, pipeline_key, project_idx, template_no, max(stopped_s) as stopped_s
        from first_jobs group by all
        having bool_or(status in ('failed', 'infrastructure_fail', 'timedout'))
    ),
    chosen as (
        select *, hash({key}, wf_key) as wh from failed
        where draw(hash({key}, wf_key), 'chosen', 100) < {spec.rerun_pct}
    )
    select wf_key, pipeline_key, project_idx, template_no, wh,
        stopped_s + case when draw(wh, 'delay', 100) < 50 then 120 + draw(wh, 'delay-s', 1680)  -- 2-30 minutes
                         when draw(wh, 'delay', 100) < 85 then 1800 + draw(wh, 'delay-s', 19800)  -- 30 min-6 h
                         else 21600 + draw(wh, 'delay-s', 72000) end as start_s,  -- 6-26 hours
        case when draw(wh, 'outcome', 100) < 20 then 'failed' else 'success' end as outcome,
        null::bigint as cancel_s
    from chosen
    """


_PIPELINE_NUMBERS_SQL = """
    create or replace temp table pipelines as
    select pl.*, p.first_pipeline_number - 1 + c.pipelines
        + row_number() over (partition by pl.project_idx order by pl.created_us, pl.pipeline_key) as pipeline_number
    from pipelines pl join projects p using (project_idx) join counters c using (project_idx)
"""

# Job rows as they wait to be written: numbers and workflow columns settled, strings built at write time.
_FINISHED_SQL = f"""
    with workflow_runs as (   -- first queued and started, last stopped, all succeeded
        select wf_key, min(queued_s) as wf_queued_s, min(started_s) as wf_started_s, max(stopped_s) as wf_stopped_s,
            bool_and(status = 'success') as wf_ok
        from jobs group by wf_key
    ),
    job_numbers as (          -- JOB_RUN_NUMBER counts on per project in queue order (numbered on narrow rows)
        select wf_key, profile_id,
            row_number() over (partition by project_idx order by queued_s, wf_key, profile_id) as nth
        from jobs
    ),
    numbered as (
        select j.*, f.*, w.*, c.jobs + p.first_job_number - 1 + n.nth as job_run_number,
            j.stopped_s - j.started_s as run_s,
            -- utilisation is sampled every 15 s: none for shorter jobs, and now and then none at all
            j.stopped_s - j.started_s < 15 or draw(j.jh, 'no-metrics', 100) = 0 as unmeasured,
            greatest(1, least(99, f.cpu_level + draw(j.jh, 'cpu', 9) - 4)) as median_cpu,
            greatest(1, least(99, f.ram_level + draw(j.jh, 'ram', 9) - 4)) as median_ram,
            -- how far the max lies above the median: lean jobs stay well below 40%
            case when f.lean then 3 + draw(j.jh, 'cpu-peak', 6) else 8 + draw(j.jh, 'cpu-peak', 25) end as cpu_peak,
            case when f.lean then 3 + draw(j.jh, 'ram-peak', 6) else 8 + draw(j.jh, 'ram-peak', 25) end as ram_peak
        from jobs j join workflow_runs w using (wf_key) join job_numbers n using (wf_key, profile_id)
            join (select profile_id, credits_per_minute, lean, cpu_level, ram_level, uses_dlc, uses_ip_ranges
                  from job_profiles) f using (profile_id)
            join projects p on p.project_idx = j.project_idx join counters c on c.project_idx = j.project_idx
    )
    select n.project_idx, n.pipeline_key, n.wf_key, n.profile_id,
        pl.branch, pl.created_us, pl.pipeline_number, pl.user_no, pl.trigger_source,
        pl.user_no = -3 or (pl.user_no >= 0 and pl.user_no % 25 = 24) as unregistered,  -- bots, outside contributors
        n.wf_queued_s, n.wf_started_s, n.wf_stopped_s, n.wf_ok, n.job_run_number,
        n.queued_s, n.started_s, n.stopped_s, n.status, n.started_s // 86400 as run_dn,
        case when not unmeasured then n.median_cpu end as median_cpu,
        case when not unmeasured then least(100, n.median_cpu + n.cpu_peak) end as max_cpu,
        case when not unmeasured then n.median_ram end as median_ram,
        case when not unmeasured then least(100, n.median_ram + n.ram_peak) end as max_ram,
        (n.run_s + 59) // 60 * n.credits_per_minute as compute_credits,
        case when n.uses_dlc then {DLC_CREDITS} else 0 end as dlc_credits,
        case when draw(n.jh, 'storage', 100) < 25 then 1 + draw(n.jh, 'storage-n', 3) else 0 end as storage_credits,
        (draw(n.jh, 'network', 100) < 8)::int as network_credits,
        case when n.uses_ip_ranges then 1 + draw(n.jh, 'ipranges', 3) else 0 end as ipranges_credits
    from numbered n join pipelines pl using (pipeline_key)
"""

_COUNTERS_SQL = """
    update counters c set
        pipelines = c.pipelines + (select count(*) from pipelines p where p.project_idx = c.project_idx),
        jobs = c.jobs + (select count(*) from jobs j where j.project_idx = c.project_idx)
"""


def _day_weight_sql(key: str) -> str:
    """Per-mille weight of day `dn`: weekends lighter, a little jitter; a week averages 1000."""
    return (f"(case when isodow(date '1970-01-01' + dn::int) >= 6 then 850 else 1060 end"
            f" + draw(hash({key}, 'day', dn), 'jitter', 61) - 30)")


def _epoch_day(day: date) -> int:
    return (day - date(1970, 1, 1)).days


class _Generator:
    """The DuckDB connection, and what carries from one batch of days to the next."""

    def __init__(self, shape: str, rows_per_day: int, start: date, seed: int) -> None:
        self.spec = SHAPE_SPECS[shape]
        self.key = f"'{shape}', {seed}"
        self.con = duckdb.connect()
        _setup(self.con, self.spec, self.key, _epoch_day(start))
        self._calibrate(rows_per_day)
        self.has_pending = False

    def _jobs_of_sessions(self, plan: str) -> None:
        """Tables `pipelines` and `jobs` for the sessions of `plan` (dn, n_fixed, n_pool)."""
        self.con.execute(_pipelines_sql(self.spec, self.key, plan))
        self.con.execute(_workflows_sql(self.spec))
        self.con.execute(f"create or replace temp table first_jobs as {_jobs_sql('workflows')}")
        self.con.execute(_reruns_sql(self.spec, self.key))
        self.con.execute(f"create or replace temp table jobs as "
                         f"select * from first_jobs union all ({_jobs_sql('reruns')})")

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
        weight = _day_weight_sql(self.key)
        self.plan = (
            f"select dn, n_fixed, greatest(0, round(({rows_per_day} * w / 1000 - n_fixed * {per_deploy!r})"
            f" / {per_session!r}))::bigint as n_pool"
            f" from (select dn, w, round({deploys!r} * w / 1000)::bigint as n_fixed"
            f" from (select dn, {weight} as w from range({{first}}, {{last}} + 1) r(dn)))"
        )

    def run_days(self, first: int, last: int) -> None:
        """Generate the pipelines created on epoch days first..last; their jobs join `pending`."""
        self._jobs_of_sessions(self.plan.format(first=first, last=last))
        self.con.execute(_PIPELINE_NUMBERS_SQL)
        verb = "insert into pending" if self.has_pending else "create temp table pending as"
        self.con.execute(f"{verb} {_FINISHED_SQL}")
        self.has_pending = True
        self.con.execute(_COUNTERS_SQL)

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
                select {_COLUMNS_SQL}
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
            first, last = _epoch_day(month_first), _epoch_day(month_last)
            generator.run_days(_epoch_day(batch_first), last)
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
