"""The `report` command group: `report waste` writes the month's HTML and XLSX side by side."""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

import click

from ciwatch_etl.environment import FIRST_DAY, LAST_DAY


def last_full_month(today: date) -> date:
    first = today.replace(day=1)
    return (first.replace(year=first.year - 1, month=12) if first.month == 1
            else first.replace(month=first.month - 1))


def _month(value: str | None) -> date:
    if value is None:
        return last_full_month(datetime.now(timezone.utc).date())
    try:
        month = datetime.strptime(value, "%Y-%m").date()
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a month (YYYY-MM)", param_hint="--month") from None
    if not FIRST_DAY <= month <= LAST_DAY:
        raise click.BadParameter(f"{value} is outside {FIRST_DAY:%Y-%m} .. {LAST_DAY:%Y-%m}", param_hint="--month")
    return month


@click.group()
def report() -> None:
    """Reports for people who do not query the warehouse."""


@report.command()
@click.option("--month", help="Month to report, YYYY-MM (default: the last full month, UTC).")
@click.option("--out", type=click.Path(path_type=Path),
              help="Folder for the files (default: $CIWATCH_HOME/reports).")
def waste(month: str | None, out: Path | None) -> None:
    """The monthly credit waste report for finance: self-contained HTML with charts, and XLSX."""
    from ciwatch_etl.data_folder import DataFolderError
    from ciwatch_etl.metrics.request import MetricsError
    from ciwatch_etl.report.write import write_waste_report
    from ciwatch_etl.environment import Paths

    paths = Paths.from_env()
    try:
        written = write_waste_report(paths.warehouse, _month(month), out or paths.reports)
    except MetricsError as error:
        raise click.ClickException(error.message) from None
    except DataFolderError as error:
        raise click.ClickException(str(error)) from None
    for path in written:
        click.echo(str(path))
