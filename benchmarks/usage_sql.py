"""The SQL of `generate_usage.py`: a day's push sessions become pipelines, workflows, jobs and
re-runs, then export rows in the real column order (see that module's docstring for the rules)."""

from __future__ import annotations

from datetime import date

from usage_shapes import DLC_CREDITS, MAX_SESSIONS, Shape

COLUMNS_SQL = """
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


def pipelines_sql(spec: Shape, key: str, plan: str) -> str:
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


def workflows_sql(spec: Shape) -> str:
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


def jobs_sql(workflows: str) -> str:
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


def reruns_sql(spec: Shape, key: str) -> str:
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


PIPELINE_NUMBERS_SQL = """
    create or replace temp table pipelines as
    select pl.*, p.first_pipeline_number - 1 + c.pipelines
        + row_number() over (partition by pl.project_idx order by pl.created_us, pl.pipeline_key) as pipeline_number
    from pipelines pl join projects p using (project_idx) join counters c using (project_idx)
"""

# Job rows as they wait to be written: numbers and workflow columns settled, strings built at write time.
FINISHED_SQL = f"""
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

COUNTERS_SQL = """
    update counters c set
        pipelines = c.pipelines + (select count(*) from pipelines p where p.project_idx = c.project_idx),
        jobs = c.jobs + (select count(*) from jobs j where j.project_idx = c.project_idx)
"""


def day_weight_sql(key: str) -> str:
    """Per-mille weight of day `dn`: weekends lighter, a little jitter; a week averages 1000."""
    return (f"(case when isodow(date '1970-01-01' + dn::int) >= 6 then 850 else 1060 end"
            f" + draw(hash({key}, 'day', dn), 'jitter', 61) - 30)")


def epoch_day(day: date) -> int:
    return (day - date(1970, 1, 1)).days
