"""The hostile usage corpus, beyond one file a case: odd file names, symbolic links, special
files, thousands of tiny files, one bad file among many, small files checked together, and every
landing case with the real rebuild (see tests/end_to_end/test_hostile_usage.py for the rules)."""

from __future__ import annotations

import gzip
import json
import math
import os
import shutil
from pathlib import Path

import duckdb
import openpyxl
import pytest
from click.testing import CliRunner
from hostile_usage import CASES, CORPUS, DAY, Lands, export_row, export_text, load
from usage_landing import land, lake_files, lake_rows, quarantine_rows

from ciwatch_etl.cli import cli
from ciwatch_etl.landing import usage_load

def test_odd_file_names_land_and_are_named_as_they_are(home: Path, tmp_path: Path):
    names = ["my export (1).csv", "отчёт-😀.csv", "-starts-with-dash.csv", "it's \"quoted\"; x.csv.gz", " space.CSV"]
    paths = []
    for n, name in enumerate(names):
        path = tmp_path / name
        data = export_text(export_row(f"odd-{n}")).encode()
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
    assert dashed.exit_code == 2 and "error: No such option '-s'." in dashed.output


def test_symbolic_link_loops_and_links_land_each_file_once(home: Path, tmp_path: Path):
    folder = tmp_path / "exports"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.csv").write_text(export_text(export_row("link-a")))
    (folder / "sub" / "b.csv").write_text(export_text(export_row("link-b")))
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
    (tmp_path / "exports" / "real.csv").write_text(export_text(export_row("real-1")))
    assert load(str(tmp_path / "exports")).exit_code == 0
    assert lake_rows(home / "lake", "job_id", f"job_run_date = '{DAY}'") == [("real-1",)]


def _tiny_files(folder: Path, count: int) -> dict[str, float]:
    credits = {}
    for n in range(count):
        sub = folder / f"batch-{n // 500:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        day = f"2025-08-{n % 28 + 1:02d}"
        (sub / f"tiny-{n:05d}.csv").write_text(export_text(export_row(
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

