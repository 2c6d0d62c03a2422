"""The usage export reader: the dialect's byte rewriting, chunk boundaries, gzip, odd files."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from ciwatch_etl.landing import usage_csv, usage_reader
from ciwatch_etl.landing.usage_csv import UsageFileError
from ciwatch_etl.landing.usage_dialect import LineFlags, mark_escapes, repair_quotes
from usage_landing import FIXTURES, lake_files, lake_rows, land, quarantine_rows

NULL, BREAK = "\x80".encode(), "\x81".encode()


@pytest.mark.parametrize(
    ("line", "marked"),
    [
        (b"\\N,a\n", NULL + b",a\n"),  # first field
        (b"a,\\N\n", b"a," + NULL + b"\n"),  # last field
        (b'a,"\\N",b\n', b'a,"' + NULL + b'",b\n'),  # quoted
        (b"a,\\N,\\N,\\N\n", b"a," + NULL + b"," + NULL + b"," + NULL + b"\n"),  # side by side
        (b"a,x\\N,b\n", b"a,x\\N,b\n"),  # inside a field: an escaped N
        (b"a,\\Nx,b\n", b"a,\\Nx,b\n"),
        (b"a,\\\\N,b\n", b"a,\\\\N,b\n"),  # an escaped backslash, then N: the text \N
        (b"a,\\\\,\\N\n", b"a,\\\\," + NULL + b"\n"),  # escaped backslash ends a field; then null
        (b"a,\\,\\N,b\n", b"a,\\,\\N,b\n"),  # an escaped comma is text: \N is inside that field
        (b"a,x\\\ny,b\n", b"a,x" + BREAK + b"y,b\n"),  # an escaped line break
    ],
)
def test_mark_escapes(line: bytes, marked: bytes):
    data = np.frombuffer(bytearray(line), dtype=np.uint8)
    mark_escapes(data)
    assert data.tobytes() == marked


def test_repair_quotes_makes_only_unclosed_quotes_text():
    flags = LineFlags({})
    region = b'1,"ok",x\n2,"open,y\n3,"a\\"b",z\n4,wi"p,w'
    assert repair_quotes(region, flags) == b'1,"ok",x\n2,\\"open,y\n3,"a\\"b",z\n4,wi"p,w'
    assert flags.by_offset == {1: ["a quote does not close on its line: quotes read as text"]}


QUIRKS = ["escaped_comma.csv", "escaped_backslash.csv", "escaped_quote.csv", "leading_quote.csv", "bom.csv",
          "crlf.csv", "latin1.csv", "utilisation.csv", "extra_columns.csv", "malformed.csv", "bad_credits.csv"]


def _landed(lake: Path, name: str) -> tuple:
    report = land(lake, FIXTURES / name)
    counts = (report.rows_read, report.rows_landed, report.rows_quarantined, report.rows_flagged, report.notes)
    return counts, lake_rows(lake), [q[1:] for q in quarantine_rows(lake)]


@pytest.mark.parametrize("name", QUIRKS)
def test_chunk_boundaries_anywhere_change_nothing(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Reads of one byte, a chunk cut as soon as a line ends past 1000 bytes, parse blocks
    shorter than some lines: every boundary case (CRLF, escapes, marks), same rows."""
    whole = _landed(tmp_path / "whole", name)
    monkeypatch.setattr(usage_csv, "CHUNK_BYTES", 1)
    monkeypatch.setattr(usage_reader, "CHUNK_BYTES", 1000)
    monkeypatch.setattr(usage_reader, "PARSE_BLOCK_BYTES", 1100)
    assert _landed(tmp_path / "cut", name) == whole


def test_a_line_longer_than_the_limit_is_quarantined_unread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(usage_csv, "CHUNK_BYTES", 1000)
    monkeypatch.setattr(usage_reader, "CHUNK_BYTES", 1000)
    monkeypatch.setattr(usage_reader, "MAX_RECORD_BYTES", 5000)
    header, first, second = (FIXTURES / "utilisation.csv").read_text().splitlines()
    path = tmp_path / "long.csv"
    path.write_text("\n".join([header, first.replace("test-job", "t" * 20_000), second]) + "\n")
    lake = tmp_path / "lake"
    report = land(lake, path)
    assert (report.rows_read, report.rows_landed, report.rows_quarantined) == (2, 1, 1)
    [(_, row, reason, _)] = quarantine_rows(lake)
    assert row == 1 and reason.startswith("line 2: record longer than") and "not read" in reason
    assert lake_rows(lake, "job_id") == [("api-job-2",)]


def test_gzip_by_magic_number_with_several_members(tmp_path: Path):
    lines = (FIXTURES / "escaped_comma.csv").read_bytes().splitlines(keepends=True)
    path = tmp_path / "export.csv"  # gzip whatever the name says
    path.write_bytes(gzip.compress(b"".join(lines[:2])) + gzip.compress(b"".join(lines[2:])))
    report = land(tmp_path / "lake", path)
    assert (report.rows_read, report.rows_landed) == (3, 3)


def test_a_truncated_gzip_stops_the_load_and_the_lake_is_unchanged(tmp_path: Path):
    lake = tmp_path / "lake"
    land(lake, FIXTURES / "bom.csv")
    before = lake_files(lake)
    data = gzip.compress((FIXTURES / "escaped_comma.csv").read_bytes())
    broken = tmp_path / "broken.csv.gz"
    broken.write_bytes(data[: len(data) - 30])
    with pytest.raises(UsageFileError, match="broken.csv.gz: cannot be read"):
        land(lake, FIXTURES / "utilisation.csv", broken)
    assert lake_files(lake) == before
    assert not list((lake / "_staging").iterdir())


def test_empty_file_and_header_only_file(tmp_path: Path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(UsageFileError, match="empty.csv: the file is empty"):
        land(tmp_path / "lake", empty)
    header_only = tmp_path / "header.csv"
    header_only.write_text((FIXTURES / "bom.csv").read_text(encoding="utf-8-sig").splitlines()[0])
    report = land(tmp_path / "lake", header_only)
    assert (report.rows_read, report.rows_landed, report.merge.partitions) == (0, 0, ())


def test_blank_lines_are_no_records(tmp_path: Path):
    header, first, second = (FIXTURES / "utilisation.csv").read_text().splitlines()
    path = tmp_path / "blank.csv"
    path.write_text("\n".join([header, first, "", second, "", ""]) + "\n")
    report = land(tmp_path / "lake", path)
    assert (report.rows_read, report.rows_landed, report.rows_quarantined) == (2, 2, 0)
    assert report.notes == ["blank.csv: 3 blank line(s) skipped"]
    assert lake_rows(tmp_path / "lake", "job_id, _source_row") == [("api-job-1", 1), ("api-job-2", 3)]


def test_a_billing_column_twice_stops_the_load(tmp_path: Path):
    header, row = (FIXTURES / "malformed.csv").read_text().splitlines()[:2]
    path = tmp_path / "twice.csv"
    path.write_text(f"{header},JOB_ID\n{row},other\n")
    with pytest.raises(UsageFileError, match="twice.csv: the header names JOB_ID more than once"):
        land(tmp_path / "lake", path)
