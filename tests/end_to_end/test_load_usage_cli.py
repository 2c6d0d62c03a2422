"""`ciwatch-etl load-usage` end to end: real-sample files, their variants, malformed rows, reloads."""

from __future__ import annotations

import csv
import gzip
import io
from collections import defaultdict
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from ciwatch_etl.cli import cli

BAD_JOB = "bad-credits-job"


def _sample(refs_dir: Path) -> tuple[list[str], list[dict[str, str]]]:
    text = (refs_dir / "circleci/usage_export/faros/usage-export.csv").read_text()
    reader = csv.DictReader(io.StringIO(text))
    return list(reader.fieldnames or []), list(reader)


def _variant(row: dict[str, str], job_id: str, day: str, project: str, credits: int) -> dict[str, str]:
    out = dict(row)
    out.update(
        JOB_ID=job_id,
        JOB_RUN_DATE=day,
        JOB_RUN_QUEUED_AT=f"{day} 09:59:58.000",
        JOB_RUN_STARTED_AT=f"{day} 10:00:00.000",
        JOB_RUN_STOPPED_AT=f"{day} 10:00:08.000",
        PROJECT_NAME=project,
        COMPUTE_CREDITS=str(credits),
        DLC_CREDITS="0",
        USER_CREDITS="0",
        STORAGE_CREDITS="0",
        NETWORK_CREDITS="0",
        TOTAL_CREDITS=str(credits),
    )
    return out


def _write(path: Path, header: list[str], rows: list[dict[str, str]], *, quote_all: bool, title_bools: bool) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer, fieldnames=header, quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL, lineterminator="\n"
    )
    writer.writeheader()
    for row in rows:
        if title_bools:
            row = {k: v.title() if v in ("true", "false") else v for k, v in row.items()}
        writer.writerow(row)
    data = buffer.getvalue().encode()
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)


@pytest.fixture
def exports(tmp_path: Path, refs_dir: Path) -> tuple[list[Path], dict[str, dict[str, str]]]:
    """Three exports: the real sample, an overlapping quoted/True-False one, one with bad rows.

    Returns the files (in load order) and the rows that must land, keyed by job id.
    """
    header, sample = _sample(refs_dir)
    folder = tmp_path / "exports"
    folder.mkdir()
    # 1. The real sample as recorded: unquoted, true/false, \N utilisation.
    first = folder / "2025-07-a.csv"
    first.write_text((refs_dir / "circleci/usage_export/faros/usage-export.csv").read_text())
    # 2. Overlaps the sample (same job, new credits: latest export wins), every field quoted,
    #    True/False, columns in another order, and two more days.
    later = [_variant(sample[0], sample[0]["JOB_ID"], "2025-07-02", "test-eng-services", 11)]
    later += [_variant(sample[1], f"job-b-{i}", "2025-07-03", "api", 3 + i) for i in range(3)]
    second = folder / "2025-07-b.csv.gz"
    _write(second, list(reversed(header)), later, quote_all=True, title_bools=True)
    # 3. Good rows next to bad ones: billing fields unusable (quarantined), other fields bad
    #    (flagged, landed), and a record that is not well-formed CSV (quarantined).
    good = [_variant(sample[1], f"job-c-{i}", "2025-07-04", "web", 7) for i in range(2)]
    for pct in ("MEDIAN_CPU_UTILIZATION_PCT", "MAX_CPU_UTILIZATION_PCT", "MEDIAN_RAM_UTILIZATION_PCT"):
        good[1][pct] = ""  # a short job: utilisation left empty, not \N
    negative = _variant(sample[1], BAD_JOB, "2025-07-04", "web", 5)
    negative["TOTAL_CREDITS"] = "-5"
    not_number = _variant(sample[1], "bad-seconds-job", "2025-07-04", "web", 5)
    not_number["JOB_RUN_SECONDS"] = "twelve"
    no_id = _variant(sample[1], "", "2025-07-04", "web", 5)
    too_busy = _variant(sample[1], "bad-cpu-job", "2025-07-04", "web", 5)
    too_busy["MAX_CPU_UTILIZATION_PCT"] = "150"
    third = folder / "2025-07-c.csv"
    _write(third, header, good + [negative, not_number, no_id, too_busy], quote_all=False, title_bools=False)
    with third.open("a") as handle:
        handle.write("only,three,fields\n")

    expected: dict[str, dict[str, str]] = {}
    for row in sample + later + good + [not_number, too_busy]:  # load order: later files win
        expected[row["JOB_ID"]] = row
    return [first, second, third], expected


def _load(paths: list[Path]) -> None:
    result = CliRunner().invoke(cli, ["load-usage", *map(str, paths)], catch_exceptions=False)
    assert result.exit_code == 0, result.output


def _snapshot(home: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        return {
            table: con.execute(f"select * from {table} order by all").fetchall()
            for table in ("raw.circleci_usage_jobs", "raw.quarantine", "fct_credit_usage_daily")
        }


def test_load_usage_matches_direct_computation_flags_and_quarantines_bad_rows(exports, ciwatch_home: Path):
    files, expected = exports
    _load([files[0].parent])  # a folder: files load in name order

    direct: dict[tuple[str, str], float] = defaultdict(float)
    for row in expected.values():
        direct[(row["PROJECT_NAME"], row["JOB_RUN_DATE"])] += float(row["TOTAL_CREDITS"])
    with duckdb.connect(str(ciwatch_home / "warehouse.duckdb"), read_only=True) as con:
        landed = {
            (project, str(day)): credits
            for project, day, credits in con.execute(
                "select project_name, usage_date, sum(total_credits) from fct_credit_usage_daily "
                "group by project_name, usage_date"
            ).fetchall()
        }
        jobs = dict(con.execute("select job_id, total_credits from raw.circleci_usage_jobs").fetchall())
        quarantine = con.execute(
            "select source_file, source_row, reason from raw.quarantine order by source_row"
        ).fetchall()
    assert landed == pytest.approx(dict(direct))
    assert set(jobs) == set(expected)
    assert jobs[next(iter(expected))] == 11.0  # the later export's credits won
    with duckdb.connect(str(ciwatch_home / "warehouse.duckdb"), read_only=True) as con:
        short = con.execute(
            "select median_cpu_utilization_pct, max_ram_utilization_pct, is_unregistered_user "
            "from raw.circleci_usage_jobs where job_id = 'job-c-1'"
        ).fetchall()
        title_case = con.execute(
            "select is_workflow_successful from raw.circleci_usage_jobs where job_id = 'job-b-0'"
        ).fetchall()
    assert short == [(None, None, False)]  # empty is null; the sample's \N stays null too
    assert title_case == [(True,)]  # "True" read as a boolean
    reasons = {row: reason for _, row, reason in quarantine}
    assert all(source.endswith("2025-07-c.csv") for source, _, _ in quarantine)
    assert "TOTAL_CREDITS" in reasons[3]  # negative credits (data rows: 1-2 good, 3.. bad)
    assert "JOB_ID" in reasons[5]
    # Record 7 is line 8 of the file: header + 6 rows + this.
    assert "line 8: malformed CSV record: 3 field(s)" in reasons[7]
    assert len(quarantine) == 3
    with duckdb.connect(str(ciwatch_home / "warehouse.duckdb"), read_only=True) as con:
        flags = dict(con.execute(
            "select job_id, _quality_flags from raw.circleci_usage_jobs where _quality_flags is not null"
        ).fetchall())
    assert flags == {
        "bad-seconds-job": "JOB_RUN_SECONDS: not a number (got twelve)",
        "bad-cpu-job": "MAX_CPU_UTILIZATION_PCT: in_range(0, 100) (got 150.0)",
    }


def test_loading_the_same_files_again_changes_nothing(exports, ciwatch_home: Path):
    files, _ = exports
    _load(files)
    before = _snapshot(ciwatch_home)
    lake_before = {p: p.read_bytes() for p in (ciwatch_home / "lake").rglob("*.parquet")}
    _load(files)
    assert _snapshot(ciwatch_home) == before
    assert sorted(lake_before) == sorted((ciwatch_home / "lake").rglob("*.parquet"))


def test_a_file_that_is_not_a_usage_export_stops_the_load_and_names_it(tmp_path: Path, ciwatch_home: Path):
    stray = tmp_path / "notes.csv"
    stray.write_text("name,value\na,1\n")
    result = CliRunner().invoke(cli, ["load-usage", str(stray)])
    assert result.exit_code == 2
    assert "notes.csv" in result.output and "JOB_ID" in result.output
    assert not (ciwatch_home / "lake" / "circleci").exists()


def test_missing_path_is_a_clear_error(tmp_path: Path, ciwatch_home: Path):
    result = CliRunner().invoke(cli, ["load-usage", str(tmp_path / "nope.csv.gz")])
    assert result.exit_code == 2
    assert "nope.csv.gz: no such file or folder" in result.output


def test_the_summary_counts_every_record_read(ciwatch_home: Path):
    """tests/fixtures/usage/malformed.csv: one good row and one record of 3 fields."""
    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "usage" / "malformed.csv"
    result = CliRunner().invoke(cli, ["load-usage", str(fixture)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    counts = {
        cells[0].strip(): int(cells[1].strip().replace(",", ""))
        for line in result.output.splitlines()
        if line.startswith("│") and len(cells := line.strip("│").split("│")) == 3 and cells[1].strip().isdigit()
    }
    assert {k: counts[k] for k in ("records read", "landed", "quarantined", "flagged", "new")} == {
        "records read": 2, "landed": 1, "quarantined": 1, "flagged": 0, "new": 1,
    }
