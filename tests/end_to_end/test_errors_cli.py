"""Hostile places, dates and settings: one line on stderr, the exit code of `exit_codes`, nothing lost.

The tests run as root, whom permissions never stop, so an unwritable folder is made the way that
stops root too: a path at or under a regular file (the system answers "File exists" / "Not a
directory"). A folder without write permission, for a user who is not root, takes the same path
(`DataFolderError`, exit 1), with the system's "Permission denied" as the reason.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from ciwatch_etl.cli import cli
from ciwatch_etl.exit_codes import BAD_INPUT, FAILED
from ciwatch_etl.environment import Paths

NOT_A_FOLDER = "{file} is a file, not a folder"
RUN = ["run", "--select", "kind:sql"]
REPORT = ["report", "waste", "--month", "2026-06"]

# name: (arguments, environment, exit code, the one line on stderr); {file} is a regular file,
# {csv} a file named like a usage export, {june} the data folder of a built month.
CASES = {
    "run, CIWATCH_HOME is a file": (
        RUN, {"CIWATCH_HOME": "{file}"}, FAILED, f"data folder {{file}} cannot be written: {NOT_A_FOLDER}"),
    "run, CIWATCH_HOME under a file": (
        RUN, {"CIWATCH_HOME": "{file}/home"}, FAILED, f"data folder {{file}}/home cannot be written: {NOT_A_FOLDER}"),
    "load-usage, CIWATCH_HOME under a file": (
        ["load-usage", "{csv}"], {"CIWATCH_HOME": "{file}/home"}, FAILED,
        f"data folder {{file}}/home cannot be written: {NOT_A_FOLDER}"),
    "demo --home under a file": (
        ["demo", "--home", "{file}/demo", "--days", "1"], {}, FAILED,
        f"demo data folder {{file}}/demo cannot be written: {NOT_A_FOLDER}"),
    "report --out a file": (
        [*REPORT, "--out", "{file}"], {"CIWATCH_HOME": "{june}"}, FAILED,
        f"report folder {{file}} cannot be written: {NOT_A_FOLDER}"),
    "report --out under a file": (
        [*REPORT, "--out", "{file}/reports"], {"CIWATCH_HOME": "{june}"}, FAILED,
        f"report folder {{file}}/reports cannot be written: {NOT_A_FOLDER}"),
    "report, CIWATCH_HOME a file": (
        REPORT, {"CIWATCH_HOME": "{file}"}, FAILED,
        "no warehouse at {file}/warehouse.duckdb: run `ciwatch-etl demo`, `run` or `load-usage` first"),
    "report --month 0001-01": (
        ["report", "waste", "--month", "0001-01"], {"CIWATCH_HOME": "{june}"}, BAD_INPUT,
        "Invalid value for --month: 0001-01 is outside 2000-01 .. 2099-12 (see `ciwatch-etl report waste --help`)"),
    "report --month 9999-12": (
        ["report", "waste", "--month", "9999-12"], {"CIWATCH_HOME": "{june}"}, BAD_INPUT,
        "Invalid value for --month: 9999-12 is outside 2000-01 .. 2099-12 (see `ciwatch-etl report waste --help`)"),
    "run --until 0001-01-01": (
        ["run", "--until", "0001-01-01"], {}, BAD_INPUT,
        "Invalid value: --until 0001-01-01 is outside 2000-01-01 .. 2099-12-31 (see `ciwatch-etl run --help`)"),
    "run --since 9999-12-31": (
        ["run", "--since", "9999-12-31"], {}, BAD_INPUT,
        "Invalid value: --since 9999-12-31 is outside 2000-01-01 .. 2099-12-31 (see `ciwatch-etl run --help`)"),
    "run, a credit price that is no number": (
        RUN, {"CIWATCH_CREDIT_PRICE_USD": "abc"}, BAD_INPUT, "CIWATCH_CREDIT_PRICE_USD must be a number, got 'abc'"),
    "load-usage, a credit price that is no number": (
        ["load-usage", "{csv}"], {"CIWATCH_CREDIT_PRICE_USD": "abc"}, BAD_INPUT,
        "CIWATCH_CREDIT_PRICE_USD must be a number, got 'abc'"),
    "demo, a credit price that is no number": (
        ["demo", "--home", "{file}/demo", "--days", "1"], {"CIWATCH_CREDIT_PRICE_USD": "abc"}, BAD_INPUT,
        "CIWATCH_CREDIT_PRICE_USD must be a number, got 'abc'"),
    "run, a lock wait that is no number": (
        RUN, {"CIWATCH_LOCK_WAIT_SECONDS": "-1"}, BAD_INPUT,
        "CIWATCH_LOCK_WAIT_SECONDS must be a positive float, got '-1'"),
    "an unknown option": (
        ["load-usage", "-s"], {}, BAD_INPUT, "No such option '-s'. (see `ciwatch-etl load-usage --help`)"),
}


@pytest.fixture
def places(tmp_path: Path, june_warehouse: Paths, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("CIWATCH_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    file, csv = tmp_path / "a-file", tmp_path / "usage.csv"
    file.write_text("a regular file, not a folder\n")
    csv.write_text("never read: the error comes first\n")
    return {"file": str(file), "csv": str(csv), "june": str(june_warehouse.home)}


@pytest.mark.parametrize("case", CASES)
def test_each_case_is_one_line_and_its_exit_code(case: str, places: dict[str, str],
                                                  monkeypatch: pytest.MonkeyPatch):
    args, env, code, line = CASES[case]
    for name, value in env.items():
        monkeypatch.setenv(name, value.format(**places))
    result = CliRunner().invoke(cli, [arg.format(**places) for arg in args], prog_name="ciwatch-etl")
    assert result.exit_code == code, result.output
    assert result.stderr.splitlines() == [f"error: {line.format(**places)}"]
    assert result.stdout == "" and "Traceback" not in result.output


@pytest.mark.parametrize("as_of", ["0001-01-01", "9999-12-31"])
def test_metrics_answer_a_day_out_of_range_in_the_envelope(as_of: str, places: dict[str, str],
                                                           monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CIWATCH_HOME", places["june"])
    for metric in ("costs", "performance", "dora"):
        result = CliRunner().invoke(cli, ["metrics", metric, "--as-of", as_of])
        assert result.exit_code == BAD_INPUT
        assert json.loads(result.stdout) == {"error": {
            "code": "invalid_date", "message": f"--as-of {as_of} is outside 2000-01-01 .. 2099-12-31"}}


def test_metrics_and_report_use_the_price_the_warehouse_was_built_with(places: dict[str, str], tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch):
    """They read no price from the environment, so a bad one there stops neither."""
    monkeypatch.setenv("CIWATCH_HOME", places["june"])
    monkeypatch.setenv("CIWATCH_CREDIT_PRICE_USD", "abc")
    costs = CliRunner().invoke(cli, ["metrics", "costs", "--as-of", "2026-06-30"])
    assert costs.exit_code == 0, costs.output
    data = json.loads(costs.stdout)["data"]
    assert (data["credit_price_usd"], data["total_credits"], data["total_cost_usd"]) == (0.01, 812, 8.12)
    report = CliRunner().invoke(cli, [*REPORT, "--out", str(tmp_path / "reports")])
    assert report.exit_code == 0, report.output


def test_a_missing_report_folder_is_made(places: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CIWATCH_HOME", places["june"])
    out = tmp_path / "not" / "yet" / "there"
    result = CliRunner().invoke(cli, [*REPORT, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout.split() == [str(out / "credit-waste-2026-06.html"), str(out / "credit-waste-2026-06.xlsx")]


def test_a_folder_where_the_workbook_goes_stops_the_report_and_keeps_the_old_one(
    places: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("CIWATCH_HOME", places["june"])
    out = tmp_path / "reports"
    (out / "credit-waste-2026-06.xlsx").mkdir(parents=True)
    (out / "credit-waste-2026-06.html").write_text("last month's report, as sent\n")
    result = CliRunner().invoke(cli, [*REPORT, "--out", str(out)])
    assert result.exit_code == FAILED
    assert result.stderr.splitlines() == [
        f"error: report {out / 'credit-waste-2026-06.xlsx'} cannot be written: a folder has that name"]
    assert (out / "credit-waste-2026-06.html").read_text() == "last month's report, as sent\n"
    assert sorted(p.name for p in out.iterdir()) == ["credit-waste-2026-06.html", "credit-waste-2026-06.xlsx"]


def test_simulators_on_a_taken_port_are_one_line(places: dict[str, str]):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli, ["simulate", "--port", str(port), "--days", "1"])
    assert result.exit_code == FAILED
    assert result.stderr.splitlines() == [
        f"error: cannot serve the simulators on ports {port} .. {port + 3}: Address already in use"]
