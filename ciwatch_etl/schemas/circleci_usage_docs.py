"""What each column of a CircleCI usage export holds, in the words of CircleCI's API docs.

Source: the "Report Fields" table of the Usage export in CircleCI's OpenAPI spec (2025-10-17).
The warehouse puts them on `raw.circleci_usage_jobs` as column comments.
"""

from __future__ import annotations

USAGE_COLUMN_DOCS: dict[str, str] = {
    'organization_id': 'The org ID',
    'organization_name': 'The org name',
    'organization_created_date': 'The date (UTC) that the org was created',
    'project_id': 'The project ID / token',
    'project_name': (
        'The project name. For classic orgs, the project name is inherited from Github. For '
        'standalone, the org is set by the user.'
    ),
    'project_created_date': (
        'The date (UTC) that the project was created. For classic orgs, this is the date that the '
        'repo was authorized on CircleCI. For standalone orgs, this is the date that the project '
        'was created on CircleCI'
    ),
    'last_build_finished_at': 'The date (UTC) of the last pipeline run on this project',
    'vcs_name': 'The name of the VCS connected to the project on which the pipeline was run',
    'vcs_url': 'The URL of the VCS on which the pipeline was run',
    'vcs_branch': 'The branch on which the pipeline was run',
    'pipeline_id': (
        'The ID of the pipeline instance that was triggered. If a pipeline is re-run, it will share'
        ' the same pipeline ID as the original pipeline instance'
    ),
    'pipeline_created_at': 'The date (UTC) the pipeline instance was first triggered',
    'pipeline_number': 'The pipeline number',
    'is_unregistered_user': (
        'Y/N flag of whether the pipeline was triggered by a CircleCI user or a user not registered'
        ' on CircleCI. Examples of the latter include users who commit on a connected VCS and '
        'consume credits on CircleCI.'
    ),
    'pipeline_trigger_source': 'The source of the pipeline instance trigger (API, webhook, etc.)',
    'pipeline_trigger_user_id': 'The user ID / token of the user who triggered the pipeline',
    'workflow_id': 'The ID of the workflow instance that was triggered',
    'workflow_name': 'The name of the workflow',
    'workflow_first_job_queued_at': 'The timestamp (UTC) of when the workflow instance started to queue',
    'workflow_first_job_started_at': 'The timestamp (UTC) of when the workflow instance started to run',
    'workflow_stopped_at': 'The timestamp (UTC) of when the workflow instance stopped',
    'is_workflow_successful': 'Y/N flag of whether all jobs in the workflow were successfully ran',
    'job_name': 'The name of the job (the name the customer sees in the UI)',
    'job_id': 'The ID of the job run instance that was triggered',
    'job_run_number': 'The number of the job run instance that was triggered',
    'job_run_date': 'The date (UTC) of the job run instance began',
    'job_run_queued_at': 'The timestamp (UTC) of when the job started to queue',
    'job_run_started_at': 'The timestamp (UTC) of when the job started to run',
    'job_run_stopped_at': 'The timestamp (UTC) of when the job stopped',
    'job_build_status': 'The status of the job run instance',
    'resource_class': 'The resource class of the job run instance',
    'operating_system': 'The operating system of the job run instance',
    'executor': 'The executor of the job run instance',
    'parallelism': 'The parallelism of the job run instance',
    'job_run_seconds': 'The duration in seconds of the job run instance',
    'median_cpu_utilization_pct': (
        'The median CPU utilization calculated over the course of the entire job run instance. CPU '
        'utilization is logged every 15 seconds. It will not be available for any jobs under 15 '
        'seconds and occasionally will not be available for jobs greater than 15 seconds.'
    ),
    'max_cpu_utilization_pct': (
        'The max CPU utilization logged over the course of the entire job run instance. CPU '
        'utilization is logged every 15 seconds. It will not be available for any jobs under 15 '
        'seconds and occasionally will not be available for jobs greater than 15 seconds.'
    ),
    'median_ram_utilization_pct': (
        'The median RAM utilization calculated over the course of the entire job run instance. RAM '
        'utilization is logged every 15 seconds. It will not be available for any jobs under 15 '
        'seconds and occasionally will not be available for jobs greater than 15 seconds.'
    ),
    'max_ram_utilization_pct': (
        'The max RAM utilization logged over the course of the entire job run instance. RAM '
        'utilization is logged every 15 seconds. It will not be available for any jobs under 15 '
        'seconds and occasionally will not be available for jobs greater than 15 seconds.'
    ),
    'compute_credits': 'The compute credits consumed by this job run instance',
    'dlc_credits': 'The docker-layer caching credits consumed by this job run instance',
    'user_credits': 'The user credits consumed by this job run instance',
    'storage_credits': (
        'The storage credits consumed by this job run instance. Note: When an organization is below'
        ' its allocated storage threshold, a job that uses storage will have 0 storage credits '
        'applied.'
    ),
    'network_credits': 'The network credits consumed by this job run instance',
    'lease_credits': 'The lease credits consumed by this job run instance',
    'lease_overage_credits': 'The lease overage credits consumed by this job run instance',
    'ipranges_credits': 'The IP ranges credits consumed by this job run instance',
    'total_credits': 'The total credits consumed by this job run instance',
}
