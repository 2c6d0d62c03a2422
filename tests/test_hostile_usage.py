"""The hostile usage corpus: what `ciwatch-etl load-usage` does with files no export should be.

Files in tests/fixtures/hostile/ (written by its make_corpus.py from the clean row `api-job-2`
of tests/fixtures/usage/utilisation.csv: project `api`, 2025-08-01, 6 credits) and a few made
here in tmp_path (binary, big, many files, odd names, symbolic links). Each case is one of:

- `Lands`: exit 0; exactly these jobs and credits in the 2025-08-01 partition; the rows named
  are quarantined with a reason, the jobs named are flagged;
- `Stops`: exit 2 and one line `error: <file>: <what is wrong>`; the lake keeps every byte.

For every case the lake first holds the real sample (refs/.../faros, 2025-07-02), which must not
change; no output holds `Traceback`; no credit in the lake is NaN, infinite, negative or over
1e9, and no other number is non-finite or over 1e9 in size (the bounds of
`schemas.circleci_usage` and `landing.usage_typing`), so none reaches a sum. The warehouse
rebuild is stubbed for the per-case runs (it is the landing that is tested); one test loads
every landing case with the real rebuild and checks `metrics costs` and `report waste`.
"""

from __future__ import annotations

import gzip
import json
import math
import os
import random
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import openpyxl
import pytest
from click.testing import CliRunner, Result

from ciwatch_etl.cli import cli
from ciwatch_etl.landing import usage_load
from ciwatch_etl.landing.usage_load import UsageFile, land_usage_files
from ciwatch_etl.pipeline import RunSummary
from usage_landing import land, lake_files, lake_rows, quarantine_rows

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


def _row(job_id: str, **values: str) -> str:
    out = list(ROW)
    out[HEADER.index("JOB_ID")] = job_id
    for name, value in values.items():
        out[HEADER.index(name)] = value
    return ",".join(out) + "\n"


def _export(*rows: str) -> str:
    return ",".join(HEADER) + "\n" + "".join(rows)


def _binary(folder: Path) -> Path:
    data = random.Random(14).randbytes(8192)
    path = folder / "binary.csv"
    path.write_bytes(b"\x89PNG" + data)  # not gzip's magic
    return path


def _binary_gzip(folder: Path) -> Path:
    path = folder / "binary.csv.gz"
    path.write_bytes(b"\x1f\x8b" + random.Random(15).randbytes(8192))
    return path


def _header_without_end(folder: Path) -> Path:
    path = folder / "one-line.csv"
    path.write_bytes(b"JOB_ID" + b"x" * (3 << 20))  # 3 MiB and no line break
    return path


def _huge_field(folder: Path) -> Path:
    path = folder / "huge-field.csv"
    path.write_text(_export(_row("api-job-2", JOB_NAME="n" * (3 << 20))))
    return path


def _huge_id(folder: Path) -> Path:
    path = folder / "huge-id.csv"
    path.write_text(_export(_row("api-job-2"), _row("i" * 100_000)))
    return path


def _zeros_bomb(folder: Path) -> Path:
    """40 MB of zeros in a 40 KB gzip: one record of one field, after a good row."""
    path = folder / "bomb.csv.gz"
    path.write_bytes(gzip.compress(_export(_row("api-job-2")).encode() + b"0" * (40 << 20) + b"\n", mtime=0))
    return path


GENERATED: dict[str, tuple[Callable[[Path], Path], Lands | Stops]] = {
    "binary": (_binary, Stops("not a CircleCI usage export")),
    "binary gzip": (_binary_gzip, Stops("cannot be read")),
    "3 MiB header without a line break": (_header_without_end, Stops("not a CircleCI usage export")),
    "3 MiB job name": (_huge_field, Lands(SIX, flagged={"api-job-2": "JOB_NAME: truncated from 3145728 bytes"})),
    "100 KB job id": (_huge_id, Lands(SIX, quarantined={2: "JOB_ID: str_length(1, 1024)"})),
    "gzip of 40 MB of zeros": (_zeros_bomb, Lands(SIX, quarantined={2: "malformed CSV record: 1 field(s)"})),
}


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


def test_the_corpus_has_every_case_and_no_stray_file():
    files = {p.name for p in CORPUS.iterdir() if p.suffix != ".py"}
    assert files == set(CASES)
    assert len(CASES) + len(GENERATED) >= 40


def outcome(expected: Lands | Stops) -> str:
    """The expected outcome in a few words, for the test's id (`pytest -v` lists the corpus)."""
    if isinstance(expected, Stops):
        return "stops"
    parts = [f"lands {len(expected.credits)}"]
    if expected.flagged:
        parts.append(f"flags {len(expected.flagged)}")
    if expected.quarantined:
        parts.append(f"quarantines {len(expected.quarantined)}")
    return ", ".join(parts)


@pytest.mark.parametrize("name", [pytest.param(n, id=f"{n}: {outcome(CASES[n])}") for n in sorted(CASES)])
def test_corpus_file(name: str, home: Path):
    assert_outcome(home, CORPUS / name, CASES[name], lake_files(home / "lake"))


@pytest.mark.parametrize("name", [pytest.param(n, id=f"{n}: {outcome(GENERATED[n][1])}") for n in sorted(GENERATED)])
def test_generated_file(name: str, home: Path, tmp_path: Path):
    make, expected = GENERATED[name]
    assert_outcome(home, make(tmp_path), expected, lake_files(home / "lake"))


def test_odd_file_names_land_and_are_named_as_they_are(home: Path, tmp_path: Path):
    names = ["my export (1).csv", "отчёт-😀.csv", "-starts-with-dash.csv", "it's \"quoted\"; x.csv.gz", " space.CSV"]
    paths = []
    for n, name in enumerate(names):
        path = tmp_path / name
        data = _export(_row(f"odd-{n}")).encode()
        path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
        paths.append(path)
    result = load("--", *map(str, paths))
    assert result.exit_code == 0, result.output
    lake = home / "lake"
    assert dict(lake_rows(lake, "job_id, _source_file", f"job_run_date = '{DAY}'")) == {
        f"odd-{n}": str(path) for n, path in enumerate(paths)
    }
    # Without `--` a leading dash reads as an option: click's one-line usage error.
    dashed = load(str(paths[2].name))
    assert dashed.exit_code == 2 and "Error: No such option '-s'." in dashed.output


def test_symbolic_link_loops_and_links_land_each_file_once(home: Path, tmp_path: Path):
    folder = tmp_path / "exports"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.csv").write_text(_export(_row("link-a")))
    (folder / "sub" / "b.csv").write_text(_export(_row("link-b")))
    (folder / "sub" / "up").symlink_to("..")  # a folder loop
    (folder / "self.csv").symlink_to("self.csv")  # a file loop
    (folder / "sub" / "again.csv").symlink_to(folder / "a.csv")  # the same file by another name
    (folder / "folder.csv").mkdir()  # a folder named like a file
    result = load(str(folder))
    assert result.exit_code == 0, result.output
    assert lake_rows(home / "lake", "job_id, _source_file", f"job_run_date = '{DAY}'") == [
        ("link-a", str(folder / "a.csv")), ("link-b", str(folder / "sub" / "b.csv")),
    ]
    named = load(str(folder / "self.csv"))
    assert named.exit_code == 2
    assert named.output.strip() == f"error: {folder / 'self.csv'}: a symbolic link that leads nowhere (broken, or a loop)"


def test_special_files_stop_in_one_line_and_never_block(home: Path, tmp_path: Path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)  # opening it to read would wait for a writer for ever
    for path, says in ((fifo, "not a regular file"), (Path("/dev/null"), "not a regular file"),
                       (tmp_path / "nothing-here", "no .csv or .csv.gz files in")):
        if path.name == "nothing-here":
            path.mkdir()
        result = load(str(path))
        assert result.exit_code == 2
        assert result.output.strip().startswith("error: ") and says in result.output
        assert len(result.output.strip().splitlines()) == 1
    # In a folder, a FIFO is no usage file: the folder's real file lands.
    (tmp_path / "exports").mkdir()
    os.mkfifo(tmp_path / "exports" / "pipe.csv")
    (tmp_path / "exports" / "real.csv").write_text(_export(_row("real-1")))
    assert load(str(tmp_path / "exports")).exit_code == 0
    assert lake_rows(home / "lake", "job_id", f"job_run_date = '{DAY}'") == [("real-1",)]


def _tiny_files(folder: Path, count: int) -> dict[str, float]:
    credits = {}
    for n in range(count):
        sub = folder / f"batch-{n // 500:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        day = f"2025-08-{n % 28 + 1:02d}"
        (sub / f"tiny-{n:05d}.csv").write_text(_export(_row(
            f"tiny-{n}", JOB_RUN_DATE=day, TOTAL_CREDITS=str(n % 7), COMPUTE_CREDITS=str(n % 7),
        )))
        credits[f"tiny-{n}"] = float(n % 7)
    return credits


def test_thousands_of_tiny_files_land_every_row(home: Path, tmp_path: Path):
    credits = _tiny_files(tmp_path / "tiny", 2000)
    result = load(str(tmp_path / "tiny"))
    assert result.exit_code == 0, result.output
    assert dict(lake_rows(home / "lake", "job_id, total_credits", "job_id like 'tiny-%'")) == credits


def test_one_bad_file_among_many_stops_the_load_and_lands_nothing(home: Path, tmp_path: Path):
    _tiny_files(tmp_path / "tiny", 100)
    # Its header reads well: it fails only when read in full, after the others were staged.
    bad = tmp_path / "tiny" / "batch-00" / "tiny-zzz.csv.gz"
    bad.write_bytes((CORPUS / "truncated.csv.gz").read_bytes())
    before = lake_files(home / "lake")
    result = load(str(tmp_path / "tiny"))
    assert result.exit_code == 2
    assert [line for line in result.output.splitlines() if line.startswith("error")] == [
        f"error: {bad}: cannot be read (the gzip stream ends before its end marker (an incomplete download?))"
    ]
    assert lake_files(home / "lake") == before


def test_small_files_checked_together_land_as_each_checked_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Rows of small files are checked in one batch (`usage_load._Checker`): typed by Arrow in
    one file and as text in another, rejected in some. The lake and quarantine are those of the
    same load with every file's batch checked alone."""
    paths = [CORPUS / name for name, expected in sorted(CASES.items()) if isinstance(expected, Lands)]
    land(tmp_path / "together", *paths)
    monkeypatch.setattr(usage_load, "SMALL_BATCH_ROWS", 0)
    land(tmp_path / "alone", *paths)
    assert lake_rows(tmp_path / "together") == lake_rows(tmp_path / "alone")
    assert quarantine_rows(tmp_path / "together") == quarantine_rows(tmp_path / "alone")
    assert len(quarantine_rows(tmp_path / "together")) == sum(len(CASES[p.name].quarantined) for p in paths)


def _strict_json(text: str) -> object:
    def refuse(constant: str) -> float:
        raise AssertionError(f"non-finite number in JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


def test_every_landing_case_with_the_real_rebuild_gives_finite_metrics_and_a_report(
    ciwatch_home: Path, tmp_path: Path
):
    """All the corpus that lands, in one load with the real warehouse rebuild: `metrics costs`
    prints JSON without Infinity or NaN, and `report waste` writes the month, its cells text."""
    folder = tmp_path / "lands"
    folder.mkdir()
    for name, expected in CASES.items():
        if isinstance(expected, Lands):
            # The injection file last: the job id api-job-2 of the other files must not win over it.
            shutil.copy(CORPUS / name, folder / ("zz-" + name if name == "injection.csv" else name))
    result = CliRunner().invoke(cli, ["load-usage", str(folder)])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    metrics = CliRunner().invoke(cli, ["metrics", "costs", "--as-of", "2025-08-31", "--period-days", "31"])
    assert metrics.exit_code == 0, metrics.output
    answer = _strict_json(metrics.stdout)
    assert "data" in answer
    with duckdb.connect(str(ciwatch_home / "warehouse.duckdb"), read_only=True) as con:
        sums = con.execute(
            "select sum(total_credits), sum(duration_seconds) from int_job_runs_priced"
        ).fetchone()
    assert all(value is not None and math.isfinite(value) for value in sums)
    report = CliRunner().invoke(cli, ["report", "waste", "--month", "2025-08", "--out", str(tmp_path / "out")])
    assert report.exit_code == 0, report.output
    assert "Traceback" not in report.output
    [workbook] = (tmp_path / "out").glob("*.xlsx")
    cells = [cell for sheet in openpyxl.load_workbook(workbook).worksheets for row in sheet.iter_rows() for cell in row]
    [job_name] = [cell for cell in cells if cell.value == "@SUM(1+1)*cmd|' /C calc'!A0"]
    assert job_name.data_type == "s"  # text, never a formula
    assert not [cell for cell in cells if cell.data_type == "f"]
