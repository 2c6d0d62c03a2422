"""`report waste` says how much of the month it covers: a month without data writes nothing, a
source without data is named, and a month not over, or not fully covered, is marked partial with
the days it covers, on the page and in the workbook."""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from cost_month import FLAKY_TEST, PRICE, at, june_rows, usage_row
from lake_rows import write_rows

from ciwatch_etl.cli import cli
from ciwatch_etl.landing.tables import CIRCLECI_USAGE_JOBS
from ciwatch_etl.report.coverage import Coverage, partial_reasons
from ciwatch_etl.schemas.circleci_insights import FLAKY_TESTS
from ciwatch_etl.environment import Paths
from ciwatch_etl.warehouse.build import build_warehouse

JUNE, JUNE_30 = date(2026, 6, 1), date(2026, 6, 30)
NOT_LOADED = "No data from CircleCI pipelines (runs), SourceCraft (runs), gocdnext (runs):"


def one_job(job_id: str, day: date) -> dict[str, object]:
    start, stop = at(day, "09:00:00"), at(day, "09:05:00")
    return usage_row(job_id, pipeline=f"p-{job_id}", workflow_id=f"w-{job_id}", workflow="build", job="test",
                     status="success", credits=10, started=start, stopped=stop, workflow_queued=start,
                     workflow_started=start, workflow_stopped=stop)


def this_month() -> date:
    return datetime.now(timezone.utc).date().replace(day=1)


@pytest.fixture(scope="module")
def wide(tmp_path_factory: pytest.TempPathFactory) -> Paths:
    """June inside the usage export's days (a job on May 20 and July 2 around it), one Insights
    snapshot on July 12 only, and a job on the first day of the current month (UTC)."""
    paths = Paths(tmp_path_factory.mktemp("wide"))
    extra = [one_job(f"x{n}", day) for n, day in enumerate((date(2026, 5, 20), date(2026, 7, 2), this_month()))]
    write_rows(paths.lake, CIRCLECI_USAGE_JOBS, [*june_rows(), *extra])
    write_rows(paths.lake, FLAKY_TESTS.table, [FLAKY_TEST | {"snapshot_date": date(2026, 7, 12)}])
    build_warehouse(paths, PRICE)
    return paths


def report(home: Path, month: date, out: Path) -> tuple[str, openpyxl.Workbook]:
    result = CliRunner().invoke(cli, ["report", "waste", "--month", f"{month:%Y-%m}", "--out", str(out)],
                                env={"CIWATCH_HOME": str(home)})
    assert result.exit_code == 0, result.output
    html, xlsx = (Path(line) for line in result.output.split())
    return html.read_text(encoding="utf-8"), openpyxl.load_workbook(xlsx)


def summary(book: openpyxl.Workbook) -> dict[str, object]:
    return {row[0]: row[1] for row in book["Summary"].iter_rows(values_only=True)}


def coverage_sheet(book: openpyxl.Workbook) -> dict[str, dict[str, object]]:
    header, *body = book["Coverage"].iter_rows(values_only=True)
    return {row[0]: dict(zip(header, row)) for row in body}


def test_a_month_without_data_exits_non_zero_and_writes_nothing(june: Paths, tmp_path: Path):
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["report", "waste", "--month", "2026-03", "--out", str(out)])
    assert result.exit_code == 1
    assert result.output.strip() == ("error: no CI data for March 2026 in the warehouse "
                                     "(it holds 2026-06-01 to 2026-06-12); no report written")
    assert not out.exists()


def test_a_source_without_data_this_month_is_named_on_the_page_and_in_the_workbook(wide: Paths, tmp_path: Path):
    text, book = report(wide.home, JUNE, tmp_path)
    assert 'id="partial">partial<' in text
    assert ("CircleCI Insights (flaky tests): no data this month (the warehouse holds 2026-07-12); used for "
            "telling flaky tests from failures.") in text
    assert NOT_LOADED in text
    assert ("<td>CircleCI usage export (credits)</td><td>credits, spend and waste</td>"
            '<td class="nowrap">2026-06-01 to 2026-06-30</td><td class="nowrap">complete</td>') in text

    cells = summary(book)
    assert cells["Status"] == "Partial month"
    assert cells["Partial because (1)"].startswith("CircleCI Insights (flaky tests): no data this month")
    assert cells["Coverage: CircleCI Insights (flaky tests)"] == "no data this month (the warehouse holds 2026-07-12)"
    assert cells["Coverage: SourceCraft (runs)"] == "not loaded: the warehouse holds no data from it"
    assert cells["Coverage: CircleCI usage export (credits)"] == "complete: 2026-06-01 to 2026-06-30"
    assert {name: row["This month"] for name, row in coverage_sheet(book).items()} == {
        "CircleCI usage export (credits)": "complete",
        "CircleCI Insights (flaky tests)": "no data this month",
        "CircleCI pipelines (runs)": "not loaded",
        "SourceCraft (runs)": "not loaded",
        "gocdnext (runs)": "not loaded",
    }


def test_the_current_month_is_partial_with_the_days_so_far(wide: Paths, tmp_path: Path):
    month = this_month()
    today = datetime.now(timezone.utc).date()
    text, book = report(wide.home, month, tmp_path)
    assert 'id="partial">partial<' in text
    assert f"The month is not over: today is {today.isoformat()} (UTC), so these are the days so far." in text
    assert f"CircleCI usage export (credits): {month.isoformat()} only; used for credits, spend and waste." in text

    cells = summary(book)
    assert cells["Status"] == "Partial month"
    assert cells["Partial because (1)"].startswith("The month is not over")
    usage = coverage_sheet(book)["CircleCI usage export (credits)"]
    assert usage["This month"] == "partial"
    assert usage["First day covered"].date() == usage["Last day covered"].date() == month


def test_a_source_covering_some_days_makes_the_month_partial(june: Paths, tmp_path: Path):
    text, book = report(june.home, JUNE, tmp_path)
    assert "CircleCI usage export (credits): 2026-06-01 to 2026-06-11 only;" in text
    assert "CircleCI Insights (flaky tests): 2026-06-12 only;" in text
    usage = coverage_sheet(book)["CircleCI usage export (credits)"]
    assert usage["This month"] == "partial"
    assert (usage["First day covered"].date(), usage["Last day covered"].date()) == (JUNE, date(2026, 6, 11))
    assert summary(book)["Coverage: CircleCI usage export (credits)"] == "partial: 2026-06-01 to 2026-06-11"


def covering(first: date | None, last: date | None, held: tuple[date, date] | None = None) -> Coverage:
    held_first, held_last = held or (first, last)
    return Coverage("source", "spend", held_first, held_last, first, last)


@pytest.mark.parametrize(("coverage", "today", "reasons"), [
    ([covering(JUNE, JUNE_30, (date(2026, 5, 1), date(2026, 7, 9)))], date(2026, 7, 10), []),
    ([covering(JUNE, JUNE_30), covering(None, None)], date(2026, 7, 1), []),  # a source never loaded
    ([covering(JUNE, JUNE_30)], JUNE_30, ["The month is not over: today is 2026-06-30"]),
    ([covering(date(2026, 6, 3), JUNE_30)], date(2026, 7, 1), ["source: 2026-06-03 to 2026-06-30 only"]),
    ([covering(None, None, (date(2026, 7, 2), date(2026, 7, 2)))], date(2026, 8, 1),
     ["source: no data this month (the warehouse holds 2026-07-02)"]),
])
def test_a_month_is_complete_only_when_over_and_covered_by_every_loaded_source(coverage, today, reasons):
    found = partial_reasons(coverage, JUNE, JUNE_30, today)
    assert len(found) == len(reasons) and all(f.startswith(r) for f, r in zip(found, reasons)), found
