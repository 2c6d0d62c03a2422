"""CircleCI's usage export dialect, stated: what a byte sequence means before Arrow parses it.

The dialect (CircleCI's own tooling reads exports as `escapechar="\\"`, `na_values=["\\N"]`):

- comma-separated, one record per line (LF, CRLF or CR), `"` quotes a field optionally;
- `\\` escapes the next character inside and outside quotes: `test\\, lint` is one field
  `test, lint`, `C:\\\\tmp` is `C:\\tmp`, `\\"` is a quote, `\\` + line break is a line break;
- `\\N` as a whole field, quoted or not, is null; an empty field is null too;
- UTF-8; a byte sequence that is not UTF-8 becomes U+FFFD and the record is flagged.

Arrow's CSV parser speaks all of this except `\\N`: it unescapes `\\N` to `N` like any other
escaped character, so a null and the text "N" would look alike. This module therefore rewrites
each chunk in place, in C-speed numpy operations over the bytes, before Arrow sees it:

- a whole-field `\\N` becomes NULL_MARK (U+0080, two bytes like `\\N`), which Arrow reads as null;
- an escaped line break becomes NEWLINE_MARK (U+0081), so every line is one record and the
  parser never has to guess; the mark is turned back into a line break after parsing.

Both marks are C1 control characters, which export text never holds; one found in the input is
treated like invalid UTF-8 (replaced, flagged), so a mark always means what this module made it.
Quotes that do not close on their line are made literal text (see `repair_quotes`), so a stray
`"` can never swallow the lines after it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

NULL_MARK = "\x80"
NEWLINE_MARK = "\x81"
_MARK_LEAD = 0xC2
_NULL_TRAIL = 0x80
_NEWLINE_TRAIL = 0x81
_MARKS_IN_INPUT = re.compile("[\x80\x81]")
_REPLACEMENT = "\ufffd"

_BACKSLASH, _NEWLINE, _N = ord("\\"), ord("\n"), ord("N")
# Bytes that can stand right before a whole field (field start) or right after it (field end).
_FIELD_EDGE = np.zeros(256, dtype=bool)
_FIELD_EDGE[[ord(","), _NEWLINE, ord('"')]] = True

FLAG_INVALID_UTF8 = "invalid UTF-8 replaced with U+FFFD"
FLAG_UNCLOSED_QUOTE = "a quote does not close on its line: quotes read as text"

# One line of the dialect whose quotes all close on the line. After a closing quote Arrow reads
# the rest of the field as text (`"deploy" prod` is `deploy prod`), and so does this pattern.
_QUOTED = rb'"(?:[^"\\]|\\.|"")*"(?:[^,\\]|\\.)*'
_PLAIN = rb'(?:[^,"\\]|\\.)(?:[^,\\]|\\.)*'
_FIELD = rb"(?:" + _QUOTED + rb"|" + _PLAIN + rb")?"
LINE_WITH_CLOSED_QUOTES = re.compile(_FIELD + rb"(?:," + _FIELD + rb")*", re.DOTALL)
_QUOTE_OR_ESCAPE = re.compile(rb'\\.|"', re.DOTALL)


@dataclass
class LineFlags:
    """Flags found while rewriting a chunk, by line offset within the chunk (0-based)."""

    by_offset: dict[int, list[str]]

    def add(self, offsets: list[int], flag: str) -> None:
        for offset in offsets:
            self.by_offset.setdefault(offset, []).append(flag)


def normalise_line_ends(block: bytes) -> bytes:
    """CRLF and lone CR become LF (cheap: only blocks holding a CR are rewritten)."""
    if b"\r" not in block:
        return block
    return block.replace(b"\r\n", b"\n").replace(b"\r", b"\n")


def repair_utf8(region: bytes, flags: LineFlags) -> bytes | None:
    """The region with invalid UTF-8 (and stray mark characters) replaced, or None if clean.

    `region` holds whole lines, so no character is split at its ends.
    """
    if region.isascii():
        return None
    try:
        text = region.decode("utf-8")
        if not _MARKS_IN_INPUT.search(text):
            return None
    except UnicodeDecodeError:
        text = region.decode("utf-8", "replace")
    text = _MARKS_IN_INPUT.sub(_REPLACEMENT, text)
    flags.add([i for i, line in enumerate(text.split("\n")) if _REPLACEMENT in line], FLAG_INVALID_UTF8)
    return text.encode("utf-8")


_SCAN_BYTES = 1 << 20  # compared a cache-sized slice at a time: faster than all at once


def _escape_starts(data: np.ndarray) -> np.ndarray:
    """Positions of backslashes that escape the next byte (the 1st, 3rd, ... of each run)."""
    slashes = np.concatenate(
        [np.flatnonzero(data[i:i + _SCAN_BYTES] == _BACKSLASH) + i for i in range(0, len(data), _SCAN_BYTES)]
        or [np.empty(0, dtype=np.intp)]
    )
    if not len(slashes):
        return slashes
    index = np.arange(len(slashes))
    run_start = np.ones(len(slashes), dtype=bool)
    run_start[1:] = np.diff(slashes) != 1
    first_of_run = np.maximum.accumulate(np.where(run_start, index, 0))
    return slashes[(index - first_of_run) % 2 == 0]


def _contains(ordered: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Whether each value is in `ordered` (sorted): a binary search, no hashing."""
    at = np.searchsorted(ordered, values)
    found = np.zeros(len(values), dtype=bool)
    inside = at < len(ordered)
    found[inside] = ordered[at[inside]] == values[inside]
    return found


def mark_escapes(data: np.ndarray) -> np.ndarray:
    """Write NULL_MARK over whole-field `\\N` and NEWLINE_MARK over escaped line breaks, in place.

    `data` is a writable uint8 view of whole lines (ending in LF). Returns the positions of the
    escaped line breaks that were marked (their LF byte), for line accounting.
    """
    escapes = _escape_starts(data)
    if not len(escapes):
        return escapes
    escaped = data[escapes + 1]
    newlines = escapes[escaped == _NEWLINE]
    nulls = escapes[escaped == _N]
    if len(nulls):
        before = nulls - 1
        at_start = before < 0
        opens_field = at_start | _FIELD_EDGE[data[np.maximum(before, 0)]]
        # A delimiter that is itself escaped (`\,\N`) is text, so that `\N` is inside a field.
        opens_field &= at_start | ~_contains(escapes, before - 1)
        closes_field = _FIELD_EDGE[data[nulls + 2]]
        nulls = nulls[opens_field & closes_field]
        data[nulls] = _MARK_LEAD
        data[nulls + 1] = _NULL_TRAIL
    data[newlines] = _MARK_LEAD
    data[newlines + 1] = _NEWLINE_TRAIL
    return newlines + 1


def repair_quotes(region: bytes, flags: LineFlags) -> bytes:
    """Escape every quote of the lines whose quotes do not close on the line, and flag them."""
    lines = region.split(b"\n")
    repaired = []
    for offset, line in enumerate(lines):
        if b'"' in line and not LINE_WITH_CLOSED_QUOTES.fullmatch(line):
            line = _QUOTE_OR_ESCAPE.sub(lambda m: m.group(0) if len(m.group(0)) == 2 else b'\\"', line)
            repaired.append(offset)
        lines[offset] = line
    flags.add(repaired, FLAG_UNCLOSED_QUOTE)
    return b"\n".join(lines)


def last_line_closes_quotes(line: bytes) -> bool:
    """Whether a chunk's last line closes its quotes (Arrow would close them at the chunk's end)."""
    return b'"' not in line or LINE_WITH_CLOSED_QUOTES.fullmatch(line) is not None


def unmark(text: str) -> str:
    """Text of a record as the file spelled it, for quarantine (marks back to escapes)."""
    return text.replace(NULL_MARK, "\\N").replace(NEWLINE_MARK, "\\\n")
