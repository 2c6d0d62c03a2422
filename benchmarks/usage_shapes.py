"""The shapes `generate_usage.py` draws from: orgs, projects, job templates and rates, and the
small DuckDB tables every generated day reads them from (see that module's docstring)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

RESOURCE_CLASS_SEED = Path(__file__).resolve().parents[1] / "dbt_like_sql" / "seeds" / "circleci_resource_classes.csv"
MACOS_CLASSES = (("m4pro.medium", 2, 200), ("m4pro.large", 4, 400))  # (name, size_rank, credits/min)
DLC_CREDITS = 200  # CircleCI charges docker layer caching per job run
MAX_SESSIONS = 1_000_000  # per day and stream: keys are spelled out in decimal places


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


def setup_tables(con: duckdb.DuckDBPyConnection, spec: Shape, key: str, start_dn: int) -> None:
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
