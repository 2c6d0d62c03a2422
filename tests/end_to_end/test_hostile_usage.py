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
import random
from collections.abc import Callable
from pathlib import Path

import pytest
from hostile_usage import CASES, CORPUS, SIX, Lands, Stops, assert_outcome, export_row, export_text
from usage_landing import lake_files

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
    path.write_text(export_text(export_row("api-job-2", JOB_NAME="n" * (3 << 20))))
    return path


def _huge_id(folder: Path) -> Path:
    path = folder / "huge-id.csv"
    path.write_text(export_text(export_row("api-job-2"), export_row("i" * 100_000)))
    return path


def _zeros_bomb(folder: Path) -> Path:
    """40 MB of zeros in a 40 KB gzip: one record of one field, after a good row."""
    path = folder / "bomb.csv.gz"
    path.write_bytes(gzip.compress(export_text(export_row("api-job-2")).encode() + b"0" * (40 << 20) + b"\n", mtime=0))
    return path


GENERATED: dict[str, tuple[Callable[[Path], Path], Lands | Stops]] = {
    "binary": (_binary, Stops("not a CircleCI usage export")),
    "binary gzip": (_binary_gzip, Stops("cannot be read")),
    "3 MiB header without a line break": (_header_without_end, Stops("not a CircleCI usage export")),
    "3 MiB job name": (_huge_field, Lands(SIX, flagged={"api-job-2": "JOB_NAME: truncated from 3145728 bytes"})),
    "100 KB job id": (_huge_id, Lands(SIX, quarantined={2: "JOB_ID: str_length(1, 1024)"})),
    "gzip of 40 MB of zeros": (_zeros_bomb, Lands(SIX, quarantined={2: "malformed CSV record: 1 field(s)"})),
}



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

