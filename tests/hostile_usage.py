"""The hostile usage corpus's cases and how a case is checked (see tests/end_to_end/test_hostile_usage.py):
what each corpus file must do, a copy of a seeded lake per case, and the outcome's assertions."""

from __future__ import annotations

import math
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ciwatch_etl.cli import cli
from ciwatch_etl.landing.usage_load import UsageFile, land_usage_files
from ciwatch_etl.pipeline import RunSummary
from usage_landing import lake_files, lake_rows, quarantine_rows

CORPUS = Path(__file__).resolve().parent / "fixtures" / "hostile"
DAY = "2025-08-01"
BASE = (CORPUS.parent / "usage" / "utilisation.csv").read_text().splitlines()
HEADER, ROW = BASE[0].split(","), BASE[2].split(",")


@dataclass(frozen=True)
class Lands:
    credits: dict[str, float]  # job id -> TOTAL_CREDITS in the DAY partition
    quarantined: dict[int, str] = field(default_factory=dict)  # data row -> part of its reason
    flagged: dict[str, str] = field(default_factory=dict)  # job id -> part of its _quality_flags
    says: str = ""  # part of the output (a note; rich wraps the rest of it)


@dataclass(frozen=True)
class Stops:
    says: str  # part of the one-line error, after the file's name


SIX = {"api-job-2": 6.0}

CASES: dict[str, Lands | Stops] = {
    # -- not a usage export at all ------------------------------------------------------------
    "empty.csv": Stops("the file is empty (no header row)"),
    "blank_lines.csv": Stops("the file is empty (no header row)"),
    "empty_gzip.csv.gz": Stops("the file is empty (no header row)"),
    "no_header.csv": Stops("not a CircleCI usage export: the header lacks billing column(s) JOB_ID"),
    "semicolon.csv": Stops("the header looks semicolon-separated"),
    "tab.csv": Stops("the header looks tab-separated"),
    "excel_sep_line.csv": Stops("the first line is a spreadsheet's `sep=` line"),
    "utf16.csv": Stops("the file looks UTF-16 encoded"),
    "github_actions_usage.csv": Stops("not a CircleCI usage export"),
    "gitlab_ci_minutes.csv": Stops("not a CircleCI usage export"),
    "insights_export.csv": Stops("(found: PROJECT_SLUG, WORKFLOW_NAME, SUCCESS_RATE"),
    # -- damaged or mislabelled compression -------------------------------------------------
    "truncated.csv.gz": Stops("cannot be read (the gzip stream ends before its end marker"),
    "trailing_garbage.csv.gz": Stops("cannot be read (16 bytes after the end of the gzip stream are not gzip)"),
    "gzip_named_csv.csv": Lands(SIX),
    "plain_named_gz.csv.gz": Lands(SIX),
    # -- headers ---------------------------------------------------------------------------
    "header_only.csv": Lands({}),
    "duplicate_credit_header.csv": Stops("the header names TOTAL_CREDITS more than once"),
    "duplicate_extra_header.csv": Lands(SIX, says="REGION, REGION"),
    "missing_total_header.csv": Stops("the header lacks billing column(s) TOTAL_CREDITS"),
    "missing_job_name_header.csv": Lands(SIX, says="JOB_NAME"),
    "lowercase_spaced_header.csv": Lands(SIX),
    # -- encodings and line ends ----------------------------------------------------------
    "bom_crlf.csv": Lands(SIX),
    "latin1_name.csv": Lands(SIX, flagged={"api-job-2": "invalid UTF-8 replaced with U+FFFD"}),
    "nul_byte.csv": Lands(SIX),
    # -- records ------------------------------------------------------------------------
    "short_and_long_rows.csv": Lands(SIX, quarantined={
        2: "line 3: malformed CSV record: 10 field(s), the header has 48",
        3: "line 4: malformed CSV record: 49 field(s), the header has 48",
    }),
    "empty_and_null_ids.csv": Lands(SIX, quarantined={
        2: "JOB_ID: not_nullable (got null)", 3: "JOB_ID: not_nullable (got null)",
        4: "ORGANIZATION_ID: not_nullable (got null)",
    }),
    "duplicate_job_rows.csv": Lands({"api-job-2": 9.0}),  # the later row of the job wins
    # -- numbers: credits over the 1e9 bound, negative or non-finite never land ---------------
    "negative_credits.csv": Lands(SIX, quarantined={2: "TOTAL_CREDITS: in_range(0, 1000000000.0) (got -6.0)"}),
    "inf_credits.csv": Lands(SIX, quarantined={
        2: "TOTAL_CREDITS: in_range(0, 1000000000.0) (got inf)",
        3: "TOTAL_CREDITS: in_range(0, 1000000000.0) (got -inf)",
    }),
    "nan_credits.csv": Lands(SIX, quarantined={
        2: "TOTAL_CREDITS: in_range(0, 1000000000.0) (got NaN)", 3: "TOTAL_CREDITS: not_nullable (got NaN)",
    }),
    "huge_credits.csv": Lands(SIX, quarantined={
        2: "TOTAL_CREDITS: in_range(0, 1000000000.0) (got 1e+308)",
        3: "TOTAL_CREDITS: in_range(0, 1000000000.0) (got inf)",  # 1e309
        4: "TOTAL_CREDITS: in_range(0, 1000000000.0) (got 1000000001.0)",
    }),
    "number_spellings.csv": Lands({"api-job-2": 6.0, "api-job-5": 7.0}, quarantined={  # " 7 " reads as 7
        2: "TOTAL_CREDITS: not a number (got 0x10)", 3: "TOTAL_CREDITS: not a number (got 1,234)",
    }),
    # Outside the billing columns a non-finite or absurd number is nulled and flags the row.
    "non_finite_seconds.csv": Lands(
        {f"api-job-{n}": 6.0 for n in range(2, 7)},
        flagged={
            "api-job-3": "JOB_RUN_SECONDS: not a finite number within ±1e9 (got inf)",
            "api-job-4": "MEDIAN_CPU_UTILIZATION_PCT: not a finite number within ±1e9 (got NaN)",
            "api-job-5": "JOB_RUN_SECONDS: not a finite number within ±1e9 (got 1e+308)",
            "api-job-6": "MAX_RAM_UTILIZATION_PCT: not a finite number within ±1e9 (got -inf)",
        },
    ),
    # -- dates: a billing day outside 2011-01-01 .. 2099-12-31 quarantines, another time is nulled
    "far_future.csv": Lands(
        {"api-job-2": 6.0, "api-job-5": 6.0},
        quarantined={
            2: "JOB_RUN_DATE: in_range(2011-01-01, 2099-12-31) (got 9999-12-31)",
            3: "JOB_RUN_DATE: in_range(2011-01-01, 2099-12-31) (got 0001-01-01)",
        },
        flagged={"api-job-5": "JOB_RUN_STOPPED_AT: outside 2011-01-01 .. 2099-12-31 (got 9999-12-31 23:59:59"},
    ),
    # -- injection strings are text, kept as they are --------------------------------------
    "injection.csv": Lands({"api-job-2": 6.0, "api-job-3'); drop table raw.circleci_usage_jobs; --": 6.0}),
}



def export_row(job_id: str, **values: str) -> str:
    out = list(ROW)
    out[HEADER.index("JOB_ID")] = job_id
    for name, value in values.items():
        out[HEADER.index(name)] = value
    return ",".join(out) + "\n"


def export_text(*rows: str) -> str:
    return ",".join(HEADER) + "\n" + "".join(rows)



@pytest.fixture(scope="module")
def seeded_lake(tmp_path_factory: pytest.TempPathFactory, refs_dir: Path) -> Path:
    """A lake holding the real sample (2025-07-02), copied for each case."""
    lake = tmp_path_factory.mktemp("seed") / "lake"
    sample = refs_dir / "circleci/usage_export/faros/usage-export.csv"
    land_usage_files(lake, [UsageFile(sample, "sample", "sample")], extracted_at=datetime(2026, 1, 1))
    return lake


@pytest.fixture
def home(ciwatch_home: Path, seeded_lake: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(seeded_lake, ciwatch_home / "lake")
    # The rebuild after landing is stubbed: these tests are about what lands.
    monkeypatch.setattr("ciwatch_etl.pipeline.materialize", lambda *args, **kwargs: RunSummary([]))
    return ciwatch_home


def load(*args: str) -> Result:
    result = CliRunner().invoke(cli, ["load-usage", *args])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def assert_numbers_are_bounded(lake: Path) -> None:
    credits = [c for (c,) in lake_rows(lake, "total_credits")]
    assert credits and all(math.isfinite(c) and 0 <= c <= 1e9 for c in credits)
    others = lake_rows(
        lake, "job_run_seconds, median_cpu_utilization_pct, max_cpu_utilization_pct, "
        "median_ram_utilization_pct, max_ram_utilization_pct",
    )
    assert all(math.isfinite(v) and abs(v) <= 1e9 for row in others for v in row if v is not None)


def assert_outcome(home: Path, path: Path, expected: Lands | Stops, before: dict[Path, bytes]) -> None:
    result = load("--", str(path))
    lake = home / "lake"
    if isinstance(expected, Stops):
        assert result.exit_code == 2, result.output
        lines = [line for line in result.output.splitlines() if line.strip()]
        errors = [line for line in lines if line.startswith("error: ")]
        assert len(errors) == 1, result.output
        assert f"{path}: " in errors[0] and expected.says in errors[0]
        assert lake_files(lake) == before  # nothing half-written, nothing left in staging
        return
    assert result.exit_code == 0, result.output
    assert expected.says in result.output
    after = lake_files(lake)
    assert {p: after.get(p) for p in before} == before  # the earlier landed day is untouched
    assert not list(lake.glob("_staging/*"))
    assert dict(lake_rows(lake, "job_id, total_credits", f"job_run_date = '{DAY}'")) == expected.credits
    quarantined = {row: reason for source, row, reason, _ in quarantine_rows(lake) if source == str(path)}
    assert set(quarantined) == set(expected.quarantined)
    for row, reason in expected.quarantined.items():
        assert reason in quarantined[row]
    flags = dict(lake_rows(lake, "job_id, _quality_flags", f"job_run_date = '{DAY}' and _quality_flags is not null"))
    assert set(flags) == set(expected.flagged)
    for job, flag in expected.flagged.items():
        assert flag in flags[job]
    assert_numbers_are_bounded(lake)
