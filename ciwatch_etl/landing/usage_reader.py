"""Cut a usage export's byte stream into chunks of whole lines and parse each with Arrow's CSV reader.

One chunk (about CHUNK_BYTES of whole lines) is rewritten in place to the stated dialect (see
`usage_dialect`) and parsed by Arrow (`ChunkParser`). A chunk is checked to have given exactly
one record per line; if a quote spanned a line break, the lines whose quotes do not close are
made literal and the chunk parsed again, so a stray quote costs at most its own line a flag,
never the lines after it.

Record numbers are line numbers of the data section with escaped line breaks folded in
(1 = the line after the header); `line_of` turns one back into the file's line number.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from ciwatch_etl.landing.usage_dialect import (
    NULL_MARK,
    LineFlags,
    last_line_closes_quotes,
    mark_escapes,
    normalise_line_ends,
    repair_quotes,
    repair_utf8,
    unmark,
)

CHUNK_BYTES = 16 << 20
PARSE_BLOCK_BYTES = 1 << 20
MAX_RECORD_BYTES = 64 << 20  # a longer line is quarantined unread (no export line is near it)
_TEXT_IN_QUARANTINE = 4096  # characters of a malformed record kept in its quarantine entry
_NEWLINE_MARK_BYTES = b"\xc2\x81"


@dataclass(frozen=True)
class MalformedRecord:
    record: int
    line: int
    reason: str
    text: str


@dataclass
class ParsedChunk:
    """Raw text of one chunk's well-formed records, and what else the chunk held."""

    table: pa.Table  # columns c<i> of the header's known positions, typed or all text
    records: np.ndarray  # record number of each table row
    malformed: list[MalformedRecord]
    flags: dict[int, list[str]]  # record number -> flags found while rewriting the bytes
    has_newline_marks: bool


@dataclass
class LineMap:
    """Record number -> file line, knowing where escaped line breaks added lines."""

    header_lines: int = 1
    _records: list[int] = field(default_factory=list)  # record holding escaped line breaks
    _extra: list[int] = field(default_factory=list)  # lines added up to and including it

    def add(self, record: int, breaks: int) -> None:
        self._records.append(record)
        self._extra.append((self._extra[-1] if self._extra else 0) + breaks)

    def line_of(self, record: int) -> int:
        before = int(np.searchsorted(self._records, record, side="left"))
        return record + self.header_lines + (self._extra[before - 1] if before else 0)


# Booleans stay text here: Arrow matches every spelling in a trie, slower than polars later.
_ARROW_TYPES = {"date": pa.date32(), "timestamp": pa.timestamp("us"), "integer": pa.int64(), "number": pa.float64()}


class ChunkParser:
    """Parses chunks of one file: fixed column names, the kept positions, invalid rows captured.

    A chunk is first parsed with its columns typed by Arrow (dates, ISO timestamps, numbers),
    which skips a text stage for every value; if some value does not type, Arrow
    stops and the chunk is parsed again as text, to be typed value by value with reasons.
    """

    def __init__(self, width: int, kinds: dict[int, str]):
        self.width = width
        self.names = [f"c{i}" for i in range(width)]
        self.text = {self.names[i]: pa.string() for i in kinds}
        self.typed = {self.names[i]: _ARROW_TYPES.get(kind, pa.string()) for i, kind in kinds.items()}
        self._invalid: list[tuple[int, int, str]] = []

    def _on_invalid(self, row: pacsv.InvalidRow) -> str:
        self._invalid.append((row.number, row.actual_columns, row.text[: _TEXT_IN_QUARANTINE + 1]))
        return "skip"

    def parse(self, data: memoryview | bytes) -> tuple[pa.Table, list[tuple[int, int, str]]]:
        """Rows of `data` (whole lines), and the rejected ones as (1-based line, fields, text).

        Parsed in blocks of PARSE_BLOCK_BYTES (cache-sized: three times faster than one big
        block) on the calling thread: Arrow's threads took twice the CPU for the same chunk
        (0.088 s against 0.045 s for 20 MiB), and the load's other stages use the other core;
        one thread is also the only way Arrow numbers the rows it rejects. A chunk holding a
        longer line is parsed as one block.
        """
        block_size = PARSE_BLOCK_BYTES
        types = self.typed
        while True:
            try:
                return self._parse(data, block_size, types)
            except pa.ArrowInvalid as exc:
                if "straddl" in str(exc) and block_size <= len(data):
                    block_size = len(data) + 1
                elif "conversion error" in str(exc) and types is not self.text:
                    types = self.text
                else:
                    raise

    def _parse(
        self, data: memoryview | bytes, block_size: int, types: dict[str, pa.DataType]
    ) -> tuple[pa.Table, list[tuple[int, int, str]]]:
        self._invalid = []
        table = pacsv.read_csv(
            pa.py_buffer(data),
            read_options=pacsv.ReadOptions(column_names=self.names, use_threads=False, block_size=block_size),
            parse_options=pacsv.ParseOptions(
                escape_char="\\", ignore_empty_lines=False, invalid_row_handler=self._on_invalid
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=types,
                include_columns=list(types),
                null_values=[NULL_MARK, ""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
                check_utf8=False,  # repair_utf8 already made every chunk valid UTF-8
            ),
        )
        return table, self._invalid


class ChunkReader:
    """Chunks of one file's data section, from its bytes after the header line (in any blocks)."""

    def __init__(self, blocks: Iterable[bytes], parser: ChunkParser, lines: LineMap):
        self.blocks = iter(blocks)
        self.parser = parser
        self.lines = lines
        self.buffer = bytearray()
        self.next_record = 1
        self.checked = 0  # bytes at the buffer's start already repaired and marked
        self.breaks_carried = False
        self.long_lines: list[MalformedRecord] = []

    def __iter__(self) -> Iterator[ParsedChunk]:
        pending_cr = b""
        for block in self.blocks:
            if pending_cr:
                block, pending_cr = pending_cr + block, b""
            if block.endswith(b"\r"):  # a CRLF may be split between two reads
                block, pending_cr = block[:-1], b"\r"
            self.buffer += normalise_line_ends(block)
            if len(self.buffer) >= CHUNK_BYTES and (chunk := self._next_chunk()) is not None:
                yield chunk
        self.buffer += normalise_line_ends(pending_cr)
        # The last line may lack its line break, or end in an escaped one: close it until read.
        while self.buffer:
            if not self.buffer.endswith(b"\n"):
                self.buffer += b"\n"
            if (chunk := self._next_chunk()) is not None:
                yield chunk

    def _next_chunk(self) -> ParsedChunk | None:
        end = self.buffer.rfind(b"\n") + 1
        if not end:
            if len(self.buffer) > MAX_RECORD_BYTES:
                self._skip_long_line()
            return None
        flags = LineFlags({})
        # Bytes carried over from the last chunk are repaired and marked already: their marks
        # are not stray mark characters of the input.
        start = self.checked
        if not self.buffer.isascii():
            repaired = repair_utf8(bytes(self.buffer[start:end]), flags)
            if repaired is not None:
                self.buffer[start:end] = repaired
                end = start + len(repaired)
        data = np.frombuffer(self.buffer, dtype=np.uint8, count=end)
        breaks = len(mark_escapes(data)) > 0 or self.breaks_carried
        del data
        marked = end
        end = self.buffer.rfind(b"\n", 0, marked) + 1  # the last line break may have been escaped
        self.checked = marked - end
        self.breaks_carried = breaks and self.checked > 0
        if not end:
            return None
        chunk = self._parse(end, flags, breaks)
        # What is left (the start of a line) begins the next chunk's buffer.
        self.buffer = self.buffer[end:]
        return chunk

    def _parse(self, end: int, flags: LineFlags, breaks: bool) -> ParsedChunk:
        view = memoryview(self.buffer)[:end]
        try:
            try:
                table, invalid = self.parser.parse(view)
            except pa.ArrowInvalid:  # a quote left open where a parse block ends
                table, invalid = None, []
            # Without a quote no record can span lines: then the records are the lines.
            quoted = self.buffer.find(b'"', 0, end) >= 0
            if quoted or table is None:
                lines = self.buffer.count(b"\n", 0, end)
            else:
                lines = table.num_rows + len(invalid)
            last_line = bytes(view[self.buffer.rfind(b"\n", 0, end - 1) + 1:end - 1]) if quoted else b""
            spanned = table is None or table.num_rows + len(invalid) != lines
            if spanned or not last_line_closes_quotes(last_line):
                fixed = repair_quotes(bytes(view[:-1]), flags) + b"\n"
                table, invalid = self.parser.parse(fixed)
            if breaks:
                self._map_escaped_breaks(view)
        finally:
            del view
        first = self.next_record
        self.next_record += lines
        if table.num_rows + len(invalid) != lines:
            raise RuntimeError(f"{table.num_rows} rows and {len(invalid)} rejected records from {lines} lines")
        rows = np.arange(first, first + lines, dtype=np.int64)
        if invalid:
            rows = np.delete(rows, [number - 1 for number, _, _ in invalid])
        malformed = [self._malformed(first + number - 1, fields, text) for number, fields, text in invalid]
        by_record = {first + offset: found for offset, found in flags.by_offset.items()}
        return ParsedChunk(table, rows, malformed, by_record, breaks)

    def _map_escaped_breaks(self, view: memoryview) -> None:
        data = bytes(view)
        start = self.next_record
        offset, line = 0, 0
        while (found := data.find(_NEWLINE_MARK_BYTES, offset)) >= 0:
            line += data.count(b"\n", offset, found)
            self.lines.add(start + line, 1)
            offset = found + len(_NEWLINE_MARK_BYTES)

    def _malformed(self, record: int, fields: int, text: str) -> MalformedRecord:
        reason = f"malformed CSV record: {fields} field(s), the header has {self.parser.width}"
        return MalformedRecord(record, self.lines.line_of(record), reason, unmark(text[:_TEXT_IN_QUARANTINE]))

    def _skip_long_line(self) -> None:
        """Drop a line over MAX_RECORD_BYTES up to its line break; it is quarantined unread."""
        text = self.buffer[:_TEXT_IN_QUARANTINE].decode("utf-8", "replace")
        size = len(self.buffer)
        while True:
            block = normalise_line_ends(next(self.blocks, b""))
            end = block.find(b"\n")
            if not block or end >= 0:
                size += end if end >= 0 else 0
                self.buffer = bytearray(block[end + 1:] if end >= 0 else b"")
                break
            size += len(block)
        self.checked, self.breaks_carried = 0, False
        record = self.next_record
        self.next_record += 1
        reason = f"record longer than {MAX_RECORD_BYTES >> 20} MiB ({size:,} bytes), not read"
        self.long_lines.append(MalformedRecord(record, self.lines.line_of(record), reason, text))
