"""The columns of a CircleCI usage export and of the raw table they land in.

Source: the "Report Fields" table of CircleCI's official OpenAPI spec (Usage tag) and a real
48-column export. Files name columns in UPPER_SNAKE and their order differs between files, so
everything is matched by header name. The raw table keeps every column, lower-cased and typed.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class UsageColumn:
    header: str
    kind: str  # text | date | timestamp | integer | number | boolean

    @property
    def name(self) -> str:
        return self.header.lower()

    @property
    def duckdb_type(self) -> str:
        return _DUCKDB_TYPES[self.kind]


_DUCKDB_TYPES = {
    "text": "varchar",
    "date": "date",
    "timestamp": "timestamp",
    "integer": "bigint",
    "number": "double",
    "boolean": "boolean",
}

# In the order of the official docs table (a real file orders JOB_RUN_NUMBER before JOB_ID).
USAGE_COLUMNS: tuple[UsageColumn, ...] = tuple(
    UsageColumn(header, kind)
    for header, kind in [
        ("ORGANIZATION_ID", "text"),
        ("ORGANIZATION_NAME", "text"),
        ("ORGANIZATION_CREATED_DATE", "date"),
        ("PROJECT_ID", "text"),
        ("PROJECT_NAME", "text"),
        ("PROJECT_CREATED_DATE", "date"),
        ("LAST_BUILD_FINISHED_AT", "timestamp"),
        ("VCS_NAME", "text"),
        ("VCS_URL", "text"),
        ("VCS_BRANCH", "text"),
        ("PIPELINE_ID", "text"),
        ("PIPELINE_CREATED_AT", "timestamp"),
        ("PIPELINE_NUMBER", "integer"),
        ("IS_UNREGISTERED_USER", "boolean"),
        ("PIPELINE_TRIGGER_SOURCE", "text"),
        ("PIPELINE_TRIGGER_USER_ID", "text"),
        ("WORKFLOW_ID", "text"),
        ("WORKFLOW_NAME", "text"),
        ("WORKFLOW_FIRST_JOB_QUEUED_AT", "timestamp"),
        ("WORKFLOW_FIRST_JOB_STARTED_AT", "timestamp"),
        ("WORKFLOW_STOPPED_AT", "timestamp"),
        ("IS_WORKFLOW_SUCCESSFUL", "boolean"),
        ("JOB_NAME", "text"),
        ("JOB_ID", "text"),
        ("JOB_RUN_NUMBER", "integer"),
        ("JOB_RUN_DATE", "date"),
        ("JOB_RUN_QUEUED_AT", "timestamp"),
        ("JOB_RUN_STARTED_AT", "timestamp"),
        ("JOB_RUN_STOPPED_AT", "timestamp"),
        ("JOB_BUILD_STATUS", "text"),
        ("RESOURCE_CLASS", "text"),
        ("OPERATING_SYSTEM", "text"),
        ("EXECUTOR", "text"),
        ("PARALLELISM", "integer"),
        ("JOB_RUN_SECONDS", "number"),
        ("MEDIAN_CPU_UTILIZATION_PCT", "number"),
        ("MAX_CPU_UTILIZATION_PCT", "number"),
        ("MEDIAN_RAM_UTILIZATION_PCT", "number"),
        ("MAX_RAM_UTILIZATION_PCT", "number"),
        ("COMPUTE_CREDITS", "number"),
        ("DLC_CREDITS", "number"),
        ("USER_CREDITS", "number"),
        ("STORAGE_CREDITS", "number"),
        ("NETWORK_CREDITS", "number"),
        ("LEASE_CREDITS", "number"),
        ("LEASE_OVERAGE_CREDITS", "number"),
        ("IPRANGES_CREDITS", "number"),
        ("TOTAL_CREDITS", "number"),
    ]
)

CREDIT_COLUMNS: tuple[str, ...] = tuple(c.name for c in USAGE_COLUMNS if c.name.endswith("_credits"))
UTILISATION_COLUMNS: tuple[str, ...] = tuple(c.name for c in USAGE_COLUMNS if c.name.endswith("_pct"))

# What a bill needs. A file whose header lacks one of these (or both project columns) is not
# landed at all; a row whose value is unusable is quarantined. Every other rule only flags.
PROJECT_COLUMNS: tuple[str, ...] = ("project_id", "project_name")
REQUIRED_COLUMNS: tuple[str, ...] = ("job_id", "job_run_date", "organization_id", *CREDIT_COLUMNS)
BILLING_COLUMNS: frozenset[str] = frozenset((*REQUIRED_COLUMNS, *PROJECT_COLUMNS))

# Load bookkeeping carried by every raw row: where it came from and when it was pulled.
LOAD_COLUMNS: tuple[tuple[str, str], ...] = (
    ("_source_file", "varchar"),
    ("_source_row", "bigint"),
    ("_extracted_at", "timestamp"),
    ("_row_hash", "varchar"),
)
LOAD_COLUMN_DOCS: tuple[tuple[str, str], ...] = (
    ("_source_file", "Export file name, local path or API request the row came from"),
    ("_source_row", "1-based data row within that file (header not counted)"),
    ("_extracted_at", "UTC time the export was pulled or the file was loaded"),
    ("_row_hash", "Hash of the row's values: re-loading identical rows changes nothing"),
)

# The rules a landed row broke, '; '-separated (null when clean): they flag, never drop, a row.
QUALITY_COLUMN: tuple[str, str] = ("_quality_flags", "varchar")
QUALITY_COLUMN_DOC = "The quality rules the row broke, '; '-separated (null when clean): it landed, flagged"


PARTITION_COLUMN = "job_run_date"

# Job statuses of CircleCI API v2 (job enum). Others are kept and flagged, never dropped.
KNOWN_JOB_STATUSES: frozenset[str] = frozenset(
    {
        "success", "running", "not_run", "failed", "retried", "queued", "not_running",
        "infrastructure_fail", "timedout", "on_hold", "terminated-unknown", "blocked",
        "canceled", "unauthorized",
    }
)
