"""Read one CircleCI usage export file (`.csv` or gzip): its header, then batches of raw text rows.

The header is read here, not guessed: columns are matched by name (any order, any case), a file
missing a billing column stops the load naming the file and the columns, and columns this
project does not know are kept out of the table and named in a note. The data section is cut
into chunks and parsed by Arrow in a background thread (`usage_reader`), while the caller checks
the previous batch; a batch holds one chunk, so memory stays flat.
"""

from __future__ import annotations

import csv
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path

import polars as pl

from ciwatch_etl.landing.background import Prefetched
from ciwatch_etl.landing.usage_reader import (
    CHUNK_BYTES,
    ChunkParser,
    ChunkReader,
    LineMap,
    MalformedRecord,
    ParsedChunk,
)
from ciwatch_etl.schemas.circleci_usage_columns import PROJECT_COLUMNS, REQUIRED_COLUMNS, USAGE_COLUMNS

_GZIP_MAGIC = b"\x1f\x8b"
_COMPRESSED_READ = 1 << 20
_MAX_HEADER_BYTES = 1 << 20
_HEADER_BLOCK_BYTES = 1 << 16
_BOM = b"\xef\xbb\xbf"
_KNOWN = {c.header for c in USAGE_COLUMNS}
_READ_ERRORS = (OSError, EOFError, zlib.error)


class UsageFileError(ValueError):
    """A usage export file that cannot be landed at all (names the file and what is wrong)."""


@dataclass
class UsageHeader:
    columns: dict[str, int]  # known header -> position in the file
    width: int
    extra: list[str]  # headers this project does not know, in file order
    absent: list[str]  # known headers the file lacks (read as null)


def _looks_like(line: bytes, names: list[str]) -> str:
    """What the header row looks like when it is not a usage export's, said in a few words."""
    if line.startswith((b"\xff\xfe", b"\xfe\xff")) or line.count(b"\x00") > len(line) // 4:
        return "; the file looks UTF-16 encoded (usage exports are UTF-8)"
    if len(names) == 1:
        for name, sep in (("semicolon", ";"), ("tab", "\t"), ("pipe", "|")):
            if names[0].count(sep) >= 3:
                return f"; the header looks {name}-separated (usage exports are comma-separated)"
    if names and names[0].startswith("SEP="):
        return "; the first line is a spreadsheet's `sep=` line, not the header"
    return ""


def parse_header(path: Path, line: bytes) -> UsageHeader:
    """The header row, checked: every billing column present, none twice."""
    text = line.removeprefix(_BOM).rstrip(b"\r\n").decode("utf-8", "replace")
    if not text.strip():
        raise UsageFileError(f"{path}: the file is empty (no header row)")
    names = [name.strip().upper() for name in next(csv.reader([text], escapechar="\\"))]
    twice = sorted({n for n in names if n in _KNOWN and names.count(n) > 1})
    if twice:
        raise UsageFileError(f"{path}: the header names {', '.join(twice)} more than once")
    missing = [name.upper() for name in REQUIRED_COLUMNS if name.upper() not in names]
    if not any(name.upper() in names for name in PROJECT_COLUMNS):
        missing.append(" or ".join(name.upper() for name in PROJECT_COLUMNS))
    if missing:
        # Names as Python spells them in a string (a tab as \t, a NUL as \x00): the message stays one line.
        shown = [repr(name[:40])[1:-1] + ("..." if len(name) > 40 else "") for name in names[:8]]
        found = ", ".join(shown) + ("..." if len(names) > 8 else "")
        raise UsageFileError(
            f"{path}: not a CircleCI usage export: the header lacks billing column(s) "
            f"{', '.join(missing)} (found: {found}){_looks_like(line, names)}"
        )
    return UsageHeader(
        columns={name: i for i, name in enumerate(names) if name in _KNOWN},
        width=len(names),
        extra=[name for name in names if name not in _KNOWN],
        absent=[c.header for c in USAGE_COLUMNS if c.header not in names],
    )


def export_blocks(path: Path, block_bytes: int | None = None) -> Iterator[bytes]:
    """The file's bytes in blocks of at most `block_bytes` (default CHUNK_BYTES), gunzipped when
    it is gzip (known by its magic number, not its name; every member of a multi-member file;
    the CRC of each checked by zlib)."""
    block_bytes = block_bytes or CHUNK_BYTES
    with open(path, "rb") as handle:
        gzipped = handle.read(2) == _GZIP_MAGIC
        handle.seek(0)
        if not gzipped:
            while block := handle.read(block_bytes):
                yield block
            return
        inflate, fed = zlib.decompressobj(wbits=31), False
        while data := handle.read(min(block_bytes, _COMPRESSED_READ)):
            while data:
                fed = True
                # Bounded output: a small compressed block may stand for a huge one.
                if out := inflate.decompress(data, block_bytes):
                    yield out
                if inflate.eof:
                    data, inflate, fed = inflate.unused_data, zlib.decompressobj(wbits=31), False
                    if data and not _GZIP_MAGIC.startswith(data[:2]):
                        raise EOFError(f"{len(data):,} bytes after the end of the gzip stream are not gzip")
                else:
                    data = inflate.unconsumed_tail
        if fed and not inflate.eof:
            raise EOFError("the gzip stream ends before its end marker (an incomplete download?)")


def _split_header(path: Path, blocks: Iterator[bytes]) -> tuple[bytes, bytes]:
    """The header line and the bytes after it in the blocks read so far."""
    head = b""
    try:
        while b"\n" not in head and len(head) < _MAX_HEADER_BYTES and (block := next(blocks, None)) is not None:
            head += block
    except _READ_ERRORS as exc:
        raise UsageFileError(f"{path}: cannot be read ({exc})") from None
    cut = head.find(b"\n") + 1 or len(head)
    return head[:cut], head[cut:]


def read_header(path: Path) -> UsageHeader:
    """Only the header of `path` (all files of a load are checked before any is read)."""
    blocks = export_blocks(path, _HEADER_BLOCK_BYTES)
    try:
        line, _ = _split_header(path, blocks)
    finally:
        blocks.close()
    return parse_header(path, line)


@dataclass
class RawBatch:
    frame: pl.DataFrame  # known export columns as text (by header), `_source_row`, `_reader_flags`
    newline_marks: bool  # some text holds escaped line breaks still as marks


@dataclass
class FileScan:
    """What reading one file found besides its rows."""

    header: UsageHeader | None = None
    malformed: list[MalformedRecord] = field(default_factory=list)
    blank_lines: int = 0


class UsageFileReader:
    """Batches of one file's rows; reading and parsing run a batch ahead in a background thread."""

    def __init__(self, path: Path):
        self.path = path
        self.scan = FileScan()

    def __iter__(self) -> Iterator[RawBatch]:
        blocks = export_blocks(self.path)
        stages: list[Prefetched] = []
        try:
            line, rest = _split_header(self.path, blocks)
            header = self.scan.header = parse_header(self.path, line)
            parser = ChunkParser(header.width, {header.columns[c.header]: c.kind for c in USAGE_COLUMNS
                                                if c.header in header.columns})
            # Gunzipping runs in a thread of its own, a block ahead of the parser.
            stages.append(Prefetched(blocks))
            chunks = ChunkReader(chain([rest], stages[0]), parser, LineMap())
            stages.append(Prefetched(self._batches(chunks, header)))
            try:
                yield from stages[1]
            except _READ_ERRORS as exc:
                raise UsageFileError(f"{self.path}: cannot be read ({exc})") from None
        finally:
            for stage in reversed(stages):
                stage.close()
            blocks.close()

    def _batches(self, chunks: ChunkReader, header: UsageHeader) -> Iterator[RawBatch]:
        names = {f"c{i}": name for name, i in header.columns.items()}
        for chunk in chunks:
            self.scan.malformed += chunk.malformed
            yield self._batch(chunk, names)
        self.scan.malformed += chunks.long_lines

    def _batch(self, chunk: ParsedChunk, names: dict[str, str]) -> RawBatch:
        frame = pl.from_arrow(chunk.table).rename(names)
        # A blank line is a row of nulls only: a column without nulls (counts polars keeps)
        # shows there is none, without a pass over the rows.
        maybe_blank = all(column.null_count() for column in frame.iter_columns())
        frame = frame.with_columns(pl.Series("_source_row", chunk.records, dtype=pl.Int64))
        blank = pl.all_horizontal(pl.exclude("_source_row").is_null())
        blanks = int(frame.select(blank.sum()).item()) if maybe_blank else 0
        if blanks:
            self.scan.blank_lines += blanks
            frame = frame.filter(~blank)
        if chunk.flags:
            flags = pl.DataFrame(
                {"_source_row": list(chunk.flags), "_reader_flags": ["; ".join(f) for f in chunk.flags.values()]},
                schema={"_source_row": pl.Int64, "_reader_flags": pl.String},
            )
            frame = frame.join(flags, on="_source_row", how="left", maintain_order="left")
        else:
            frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias("_reader_flags"))
        return RawBatch(frame, chunk.has_newline_marks)
