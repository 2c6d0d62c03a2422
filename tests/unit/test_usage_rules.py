"""Billing rules quarantine, every other rule flags: credits never vanish for a non-billing reason.

tests/fixtures/usage/bad_credits.csv, worked by hand (all rows org faros-test-org):

    row  job          day         what is wrong                            outcome
    1    api-job-1    2025-08-01  nothing (5 credits)                      lands
    2-4  api-job-2..4 2025-08-01  TOTAL_CREDITS inf, nan, 1e309            quarantined: not finite
    5    api-job-5    2025-08-01  2e9 credits                              quarantined: over 1e9
    6    api-job-6    2025-08-01  DLC_CREDITS -1                           quarantined: negative
    7    api-job-7    2025-08-01  USER_CREDITS "lots"                      quarantined: not a number
    8    api-job-8    2025-08-01  TOTAL_CREDITS \\N                         quarantined: no total
    9    api-job-9    2025-13-01  not a date                               quarantined: no date
    10   N-job-10     2025-08-01  PROJECT_ID and PROJECT_NAME \\N           quarantined: no project
                                  (the id is spelled \\N-job-10: an escaped N)
    11   web-job-11   2025-08-02  unknown status, -3 s, parallelism "zero" lands, flagged (2 credits)

So 11 read = 2 landed + 9 quarantined; 1 flagged; credits: api 2025-08-01 = 5, web 2025-08-02 = 2.
"""

from __future__ import annotations

import math
from pathlib import Path

from usage_landing import FIXTURES, direct_credits, lake_credits, lake_rows, land, quarantine_rows

BAD = FIXTURES / "bad_credits.csv"
QUARANTINED = {f"api-job-{n}" for n in range(2, 10)} | {"N-job-10"}


def test_unusable_billing_fields_quarantine_with_every_reason(tmp_path: Path):
    lake = tmp_path / "lake"
    report = land(lake, BAD)
    assert (report.rows_read, report.rows_landed, report.rows_quarantined, report.rows_flagged) == (11, 2, 9, 1)
    assert lake_credits(lake) == direct_credits(BAD, QUARANTINED) == {("api", "2025-08-01"): 5.0, ("web", "2025-08-02"): 2.0}
    reasons = {row: reason for _, row, reason, _ in quarantine_rows(lake)}
    assert reasons == {
        2: "TOTAL_CREDITS: in_range(0, 1000000000.0) (got inf)",
        3: "TOTAL_CREDITS: not_nullable (got NaN); TOTAL_CREDITS: in_range(0, 1000000000.0) (got NaN)",
        4: "TOTAL_CREDITS: in_range(0, 1000000000.0) (got inf)",
        5: "COMPUTE_CREDITS: in_range(0, 1000000000.0) (got 2000000000.0); "
        "TOTAL_CREDITS: in_range(0, 1000000000.0) (got 2000000000.0)",
        6: "DLC_CREDITS: in_range(0, 1000000000.0) (got -1.0)",
        7: "USER_CREDITS: not a number (got lots)",
        8: "TOTAL_CREDITS: not_nullable (got null)",
        9: "JOB_RUN_DATE: not a date (got 2025-13-01); JOB_RUN_DATE: not_nullable (got null)",
        10: "PROJECT_ID and PROJECT_NAME both empty",
    }


def test_non_finite_credits_never_land(tmp_path: Path):
    lake = tmp_path / "lake"
    land(lake, BAD)
    credits = [value for (value,) in lake_rows(lake, "total_credits")]
    assert credits and all(math.isfinite(c) and 0 <= c <= 1e9 for c in credits)


def test_non_billing_rules_flag_the_row_and_it_lands(tmp_path: Path):
    lake = tmp_path / "lake"
    report = land(lake, BAD)
    [(flags, status, seconds, parallelism)] = lake_rows(
        lake, "_quality_flags, job_build_status, job_run_seconds, parallelism", "job_id = 'web-job-11'"
    )
    assert flags == (
        "PARALLELISM: not an integer (got zero); JOB_RUN_SECONDS: greater_than_or_equal_to(0) (got -3.0); "
        "JOB_BUILD_STATUS: not a known job status (got exploded)"
    )
    assert (status, seconds, parallelism) == ("exploded", -3.0, None)  # kept as read; untyped is null
    assert report.flag_rules == {
        "JOB_BUILD_STATUS: not a known job status": 1,
        "JOB_RUN_SECONDS: greater_than_or_equal_to(0)": 1,
        "values that did not type": 1,
    }
    assert lake_rows(lake, "_quality_flags", "job_id = 'api-job-1'") == [(None,)]


def test_timestamps_out_of_order_flag(tmp_path: Path):
    rows = (FIXTURES / "utilisation.csv").read_text().splitlines()
    header = rows[0].split(",")
    late = rows[2].split(",")
    late[header.index("JOB_RUN_STARTED_AT")] = "2025-08-01 11:00:00.000"  # after it stopped
    path = tmp_path / "order.csv"
    path.write_text("\n".join([rows[0], ",".join(late)]) + "\n")
    lake = tmp_path / "lake"
    report = land(lake, path)
    assert (report.rows_landed, report.rows_flagged) == (1, 1)
    assert lake_rows(lake, "_quality_flags") == [
        ("timestamps out of order: JOB_RUN_STOPPED_AT before JOB_RUN_STARTED_AT",)
    ]


def test_values_type_by_their_column_kind(tmp_path: Path):
    """ISO spellings type leniently and land clean; a value of the wrong kind is named in a flag."""
    rows = (FIXTURES / "utilisation.csv").read_text().splitlines()
    header = rows[0].split(",")
    row = rows[2].split(",")
    row[header.index("JOB_RUN_QUEUED_AT")] = "2025-08-01T10:00:00.500Z"
    row[header.index("IS_WORKFLOW_SUCCESSFUL")] = "Y"
    row[header.index("PIPELINE_NUMBER")] = " 529.0 "
    row[header.index("WORKFLOW_STOPPED_AT")] = "yesterday"
    path = tmp_path / "kinds.csv"
    path.write_text("\n".join([rows[0], ",".join(row)]) + "\n")
    lake = tmp_path / "lake"
    land(lake, path)
    [(queued, successful, number, stopped, flags)] = lake_rows(
        lake, "job_run_queued_at::varchar, is_workflow_successful, pipeline_number, workflow_stopped_at, _quality_flags"
    )
    assert (queued, successful, number, stopped) == ("2025-08-01 10:00:00.5", True, 529, None)
    assert flags == "WORKFLOW_STOPPED_AT: not a timestamp (got yesterday)"
