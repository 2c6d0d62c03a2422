"""Write the waste report files atomically: a reader never opens a half-written report."""

from __future__ import annotations

import os
from datetime import date, datetime, timezone
from pathlib import Path

from ciwatch_etl.data_folder import DataFolderError, why, writable_folder
from ciwatch_etl.metrics.published_warehouse import open_warehouse
from ciwatch_etl.report.data import gather
from ciwatch_etl.report.html import render
from ciwatch_etl.report.xlsx import write_workbook


def write_waste_report(warehouse: Path, month: date, out: Path, today: date | None = None) -> list[Path]:
    """`credit-waste-YYYY-MM.html` and `.xlsx` in `out`; returns their paths.

    A month without any data raises MetricsError before anything, not even `out`, is made; a
    folder that cannot be written (or a folder where a report file goes) raises DataFolderError,
    and the reports already there are left as they were.
    """
    with open_warehouse(warehouse) as con:
        data = gather(con, month, today or datetime.now(timezone.utc).date())
    writable_folder(out, "report folder")
    stem = f"credit-waste-{month:%Y-%m}"
    html_path, xlsx_path = out / f"{stem}.html", out / f"{stem}.xlsx"
    html_tmp, xlsx_tmp = out / f".{stem}.html.tmp", out / f".{stem}.xlsx.tmp"
    for path in (html_path, xlsx_path):
        if path.is_dir():
            raise DataFolderError(f"report {path} cannot be written: a folder has that name")
    try:
        html_tmp.write_text(render(data), encoding="utf-8")
        write_workbook(data, xlsx_tmp)
        os.replace(html_tmp, html_path)
        os.replace(xlsx_tmp, xlsx_path)
    except OSError as error:
        raise DataFolderError(f"report folder {out} cannot be written: {why(error, out)}") from None
    finally:
        html_tmp.unlink(missing_ok=True)
        xlsx_tmp.unlink(missing_ok=True)
    return [html_path, xlsx_path]
