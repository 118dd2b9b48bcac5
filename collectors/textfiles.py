"""Read CSV and JSON Lines files from a byte offset, in batches that end on a record boundary.

Each batch covers whole records (at most ``page_size`` of them); its checkpoint is the byte offset
after its last record and the number of lines consumed, so line numbers in quarantine locations
are 1-based file lines that count the header (CSV) and blank lines. A CSV record may span lines
(a quoted value holding newlines, RFC 4180): it is never split across batches, and its location
is the line it starts on. Record ends are found with numpy: a newline ends a record when the
quotes before it are balanced; when Arrow's parse disagrees (a stray quote inside an unquoted
value, which Arrow reads as a character), that batch is parsed again by Python's ``csv`` module,
which reads it as Arrow does and counts lines the same way. Until such a file settles, the lines
after a stray quote wait, as an unterminated last line does.

CSV values are read as text (the empty string is missing) and typed by validation. Rejected with
their line number and raw bytes (``\\xff`` for a byte that is not UTF-8): a line that is not valid
UTF-8, a CSV record whose field count differs from the header's, a JSON Lines line that is not a
JSON object. A byte order mark starts a JSON Lines file as it may a CSV file, and is skipped.
"""

import csv
import io
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.json as pajson

from driftscope.collectors.base import Batch, FileCheckpoint, Rejected, rows_as_json
from driftscope.errors import SourceError
from driftscope.storage.collector_state import FileMark

BLOCK_BYTES = 8 * 2**20
MAX_LINE_BYTES = 64 * 2**20
HEADER_CHUNK = 64 * 2**10
_MAX_ARROW_BLOCK = 2**31 - 1
_BOM = b"\xef\xbb\xbf"
_NEWLINE, _QUOTE = 10, 34
_ARROW_TEXT = {pa.string(): pd.StringDtype("pyarrow"), pa.large_string(): pd.StringDtype("pyarrow")}


@dataclass(frozen=True)
class TextRead:
    """What to read of one text file: from ``offset`` (bytes; ``line`` lines consumed) up to ``size``.

    A ``compression`` (fsspec's name) makes offsets count uncompressed bytes and the file is read
    to the end of its stream (``size`` is then the compressed size, recorded in the marks only);
    the mark of the batch that reaches the end gets ``end_tag`` appended to its fingerprint.
    """

    path: str
    display: str
    fmt: str
    size: int
    offset: int
    line: int
    settled: bool
    page_size: int
    fingerprint: str
    compression: str | None = None
    end_tag: str = ""


@dataclass(frozen=True)
class Parsed:
    """Rows of a run of lines: the frame, each row's line number, the raw lines (JSONL, as bytes), rejected lines."""

    frame: pd.DataFrame
    numbers: np.ndarray
    raw: list[bytes] | None
    rejected: Rejected


def read_text(fs: Any, read: TextRead, *, expected: FileMark | None) -> Iterator[Batch]:
    """Yield batches of the lines of ``read.path`` past ``read.offset``."""
    with fs.open(read.path, "rb", compression=read.compression) as handle:
        offset, line, header = read.offset, read.line, None
        if read.fmt == "csv":
            header, header_end = _header(handle, read)
            if header is None:
                return
            if offset == 0:
                offset, line = header_end, 1
        elif offset == 0 and handle.read(len(_BOM)) == _BOM:
            offset = len(_BOM)
        handle.seek(offset)
        blocks = _Blocks(handle, None if read.compression else read.size - offset, read.size)
        mark, buffer = expected, b""
        while True:
            buffer += blocks.next()
            take, n_lines = _cut(buffer, read.page_size, final=blocks.at_end and read.settled, full=blocks.at_end,
                                 quoted=header is not None)
            if take == 0:
                if blocks.at_end:
                    return
                if len(buffer) > MAX_LINE_BYTES:
                    raise SourceError(f"line {line + 1} is longer than {MAX_LINE_BYTES} bytes")
                continue
            data, buffer = buffer[:take], buffer[take:]
            if not buffer:
                buffer = blocks.next()
            parsed = parse_csv(data, header, line + 1, read.display) if header else parse_jsonl(
                data, line + 1, read.display)
            tag = read.end_tag if blocks.at_end and not buffer else ""
            new_mark = FileMark(read.display, read.size, read.fingerprint + tag, offset + take, line + n_lines)
            yield _batch(parsed, read.display, FileCheckpoint(mark, new_mark))
            mark, offset, line = new_mark, offset + take, line + n_lines


class _Blocks:
    """The bytes of an open file in blocks of at most :data:`BLOCK_BYTES`.

    ``remaining`` is how many bytes are left to read, or None to read to the end of the stream
    (a decompressed file, whose length is not listed); ``size`` is the listed size, for errors.
    """

    def __init__(self, handle: Any, remaining: int | None, size: int) -> None:
        self.handle, self.remaining, self.size = handle, remaining, size
        self.at_end = remaining is not None and remaining <= 0

    def next(self) -> bytes:
        """The next block (b"" once at the end, which ``at_end`` then says)."""
        if self.at_end:
            return b""
        data = self.handle.read(BLOCK_BYTES if self.remaining is None else min(BLOCK_BYTES, self.remaining))
        if self.remaining is None:
            self.at_end = not data
            return data
        if not data:
            raise SourceError(f"the file ended at byte {self.size - self.remaining}, before the {self.size} "
                              "bytes listed (it shrank while being read)")
        self.remaining -= len(data)
        self.at_end = self.remaining <= 0
        return data


def _cut(buffer: bytes, page_size: int, *, final: bool, full: bool, quoted: bool) -> tuple[int, int]:
    """Bytes to take from ``buffer`` (whole records, at most ``page_size``) and how many lines they are.

    Takes nothing while fewer than ``page_size`` records are buffered and more can be read, unless
    the buffer is already a block. ``final`` also takes an unterminated last record. ``quoted``
    (CSV): a newline inside a quoted value does not end a record.
    """
    data = np.frombuffer(buffer, dtype=np.uint8)
    newlines = np.flatnonzero(data == _NEWLINE)
    ends = _record_ends(data, newlines) if quoted else newlines
    if len(ends) >= page_size:
        take = int(ends[page_size - 1]) + 1
        return take, int(np.searchsorted(newlines, take))
    if final and buffer:
        return len(buffer), len(newlines) + (0 if buffer.endswith(b"\n") else 1)
    if (full or len(buffer) >= BLOCK_BYTES) and len(ends):
        take = int(ends[-1]) + 1
        return take, int(np.searchsorted(newlines, take))
    return 0, 0


def _record_ends(data: np.ndarray, newlines: np.ndarray) -> np.ndarray:
    r"""The newlines that end a CSV record: those with an even number of quotes before them.

    Examples
    --------
    >>> raw = b'a,"x\ny",b\nc,d,e\n'
    >>> _record_ends(np.frombuffer(raw, np.uint8), np.flatnonzero(np.frombuffer(raw, np.uint8) == 10)).tolist()
    [9, 15]
    """
    quotes = np.flatnonzero(data == _QUOTE)
    if len(quotes) == 0:
        return newlines
    return newlines[np.searchsorted(quotes, newlines) % 2 == 0]


def _header(handle: Any, read: TextRead) -> tuple[list[str] | None, int]:
    """The CSV header's column names and the byte offset after it; None while it is incomplete."""
    head = b""
    end = -1
    limit = MAX_LINE_BYTES if read.compression else min(read.size, MAX_LINE_BYTES)
    while end < 0 and len(head) < limit:
        chunk = handle.read(min(HEADER_CHUNK, limit - len(head)))
        if not chunk:
            break
        head += chunk
        end = head.find(b"\n")
    if end < 0 and not (read.settled and head):
        return None, 0
    line = head if end < 0 else head[:end]
    text = line.decode("utf-8", errors="replace").lstrip("\ufeff").rstrip("\r")
    names = next(csv.reader([text]), [])
    if not names:
        raise SourceError("the first line is empty; a CSV file needs a header line naming its columns")
    return names, (len(head) if end < 0 else end + 1)


def _lines(data: bytes, first_line: int) -> tuple[list[bytes], np.ndarray]:
    """The non-blank lines of ``data`` and their line numbers."""
    lines = data.split(b"\n")
    if data.endswith(b"\n"):
        lines.pop()
    lengths = np.fromiter(map(len, map(bytes.strip, lines)), dtype=np.int64, count=len(lines))
    kept = lengths > 0
    return list(itertools.compress(lines, kept)), first_line + np.flatnonzero(kept)


def _records(data: bytes, first_line: int) -> tuple[list[bytes], np.ndarray]:
    """The non-blank CSV records of ``data`` and the file line each starts on."""
    raw = np.frombuffer(data, dtype=np.uint8)
    newlines = np.flatnonzero(raw == _NEWLINE)
    ends = _record_ends(raw, newlines)
    if len(ends) == len(newlines):
        return _lines(data, first_line)
    starts = np.concatenate([[0], ends + 1])
    stops = np.concatenate([ends, [len(data)]])
    records = [data[a:b] for a, b in zip(starts.tolist(), stops.tolist(), strict=True)]
    kept = np.fromiter(map(len, map(bytes.strip, records)), dtype=np.int64, count=len(records)) > 0
    lines = first_line + np.searchsorted(newlines, starts)
    return list(itertools.compress(records, kept)), lines[kept]


def _valid_utf8(records: list[bytes], numbers: np.ndarray, display: str) -> tuple[list[bytes], np.ndarray, Rejected]:
    """Drop the records that are not valid UTF-8 into a :class:`Rejected` (checked one by one only if one is bad)."""
    try:
        b"".join(records).decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return records, numbers, Rejected()
    rejected = Rejected()
    kept: list[int] = []
    for i, record in enumerate(records):
        try:
            record.decode("utf-8")
        except UnicodeDecodeError as exc:
            rejected.locations.append(f"{display} line {numbers[i]}")
            rejected.reasons.append(_utf8_reason(record, exc))
            rejected.payloads.append(record.decode("utf-8", errors="backslashreplace"))
        else:
            kept.append(i)
    return [records[i] for i in kept], numbers[kept], rejected


def _utf8_reason(record: bytes, exc: UnicodeDecodeError) -> str:
    return (f"not valid UTF-8: byte 0x{record[exc.start]:02x} at byte {exc.start + 1} of the line; "
            "save the file as UTF-8")


def parse_csv(data: bytes, header: list[str], first_line: int, display: str) -> Parsed:
    """Parse whole CSV records (no header) with Arrow, every column as text."""
    records, numbers = _records(data, first_line)
    records, numbers, not_utf8 = _valid_utf8(records, numbers, display)
    invalid: list[tuple[int, str, int]] = []

    def on_invalid(row: Any) -> str:
        invalid.append((row.number - 1, row.text, row.actual_columns))
        return "skip"

    body = b"\n".join(records) + b"\n"
    table = pacsv.read_csv(
        io.BytesIO(body),
        read_options=pacsv.ReadOptions(column_names=header, use_threads=False,
                                       block_size=min(max(len(body) + 1, 1 << 20), _MAX_ARROW_BLOCK)),
        parse_options=pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=on_invalid),
        convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(header, pa.string()), null_values=[""],
                                             strings_can_be_null=True, quoted_strings_can_be_null=True),
    ) if records else None
    if table is not None and table.num_rows + len(invalid) != len(records):
        return _parse_csv_python(records, numbers, header, display, not_utf8)
    bad = np.array([i for i, _, _ in invalid], dtype=np.int64)
    rejected = Rejected(
        [*not_utf8.locations, *(f"{display} line {numbers[i]}" for i, _, _ in invalid)],
        [*not_utf8.reasons, *(f"CSV line has {n} fields, the header has {len(header)}" for _, _, n in invalid)],
        [*not_utf8.payloads, *(text for _, text, _ in invalid)],
    )
    frame = table.to_pandas(types_mapper=_ARROW_TEXT.get) if table is not None else pd.DataFrame(columns=header)
    return Parsed(frame, np.delete(numbers, bad), None, rejected)


def _parse_csv_python(records: list[bytes], numbers: np.ndarray, header: list[str], display: str,
                      rejected: Rejected) -> Parsed:
    """The slow path for a batch whose quotes Arrow reads differently (a stray quote in an unquoted value).

    Python's ``csv`` module reads the batch again, counting file lines as it goes.
    """
    text = b"\n".join(records).decode("utf-8") + "\n"
    line_of = np.concatenate([[0], np.cumsum([record.count(b"\n") + 1 for record in records])])
    reader = csv.reader(io.StringIO(text, newline=""))
    rows, kept = [], []
    start = 0
    for fields in reader:
        record = int(np.searchsorted(line_of, start, side="right")) - 1
        line = int(numbers[record]) + start - int(line_of[record])
        start = reader.line_num
        if not fields or fields == [""]:
            continue
        if len(fields) != len(header):
            rejected.locations.append(f"{display} line {line}")
            rejected.reasons.append(f"CSV line has {len(fields)} fields, the header has {len(header)}")
            rejected.payloads.append(",".join(fields))
            continue
        rows.append([value if value != "" else None for value in fields])
        kept.append(line)
    frame = pd.DataFrame(rows, columns=header, dtype=pd.StringDtype("pyarrow"))
    return Parsed(frame, np.asarray(kept, dtype=np.int64), None, rejected)


def parse_jsonl(data: bytes, first_line: int, display: str) -> Parsed:
    """Parse JSON Lines with Arrow; when a line breaks that, parse line by line and reject the bad ones."""
    lines, numbers = _lines(data, first_line)
    if not lines:
        return Parsed(pd.DataFrame(), numbers, [], Rejected())
    body = b"\n".join(lines)
    try:
        body.decode("utf-8")  # Arrow's JSON reader does not check UTF-8; the per-line path names the line
        table = pajson.read_json(io.BytesIO(body), read_options=pajson.ReadOptions(
            use_threads=False, block_size=min(len(body) + 1, _MAX_ARROW_BLOCK)))
        if table.num_rows == len(lines):
            return Parsed(table.to_pandas(), numbers, lines, Rejected())
    except (UnicodeDecodeError, pa.ArrowInvalid):
        pass
    return _parse_jsonl_lines(lines, numbers, display)


def _parse_jsonl_lines(lines: list[bytes], numbers: np.ndarray, display: str) -> Parsed:
    """The slow path for a block holding a bad line: one ``json.loads`` per line."""
    objects, kept, raw = [], [], []
    rejected = Rejected()
    for number, line in zip(numbers.tolist(), lines, strict=True):
        text = line.decode("utf-8", errors="backslashreplace")
        try:
            value = json.loads(line.decode("utf-8"))
        except UnicodeDecodeError as exc:
            reason = _utf8_reason(line, exc)
        except ValueError as exc:
            reason = f"not valid JSON: {getattr(exc, 'msg', exc)} at column {getattr(exc, 'colno', '?')}"
        else:
            if isinstance(value, dict):
                objects.append(value)
                kept.append(number)
                raw.append(line)
                continue
            reason = f"a JSON {type(value).__name__} where an object was expected"
        rejected.locations.append(f"{display} line {number}")
        rejected.reasons.append(reason)
        rejected.payloads.append(text)
    return Parsed(pd.DataFrame.from_records(objects), np.asarray(kept, dtype=np.int64), raw, rejected)


def _batch(parsed: Parsed, display: str, checkpoint: FileCheckpoint) -> Batch:
    frame, numbers, raw = parsed.frame.reset_index(drop=True), parsed.numbers, parsed.raw

    def locate(positions: np.ndarray) -> list[str]:
        return [f"{display} line {n}" for n in numbers[positions].tolist()]

    def payloads(positions: np.ndarray) -> list[str]:
        if raw is None:
            return rows_as_json(frame)(positions)
        return [raw[i].decode("utf-8", errors="replace") for i in positions.tolist()]

    return Batch(frame, f"file {display}", locate, payloads, checkpoint, parsed.rejected)
