"""The files source: CSV, JSON Lines and Parquet from a local glob or any fsspec URL.

Files are taken in name order. For each, the source remembers its size, an identity (the ETag
when the filesystem gives one, else the modification time) and how far it read:

* a file never seen is read from its start;
* an unchanged, fully read file is skipped without being opened;
* a CSV or JSON Lines file that grew, and whose first bytes are unchanged, is read from where the
  last run stopped (appended lines); any other change means the file was rewritten, and it is read
  again from the start (rows already stored count as duplicates);
* a Parquet file that changed is read again from the start.

Text files are read in whole records (a CSV record may span lines inside a quoted value; see
:mod:`driftscope.collectors.textfiles`) and only up to their last complete record; an
unterminated last line is taken once the file has not changed for :data:`SETTLE_SECONDS`. A file
that cannot be read (a corrupt Parquet file) fails alone: the error names it, it is not marked as
taken, and the other files are still collected.

Compressed text files (``.csv.gz``, ``.jsonl.bz2``, ``.jsonl.xz``; ``.zst`` with the
``zstandard`` package) are taken as finished files, as log rotation writes them: one is read once
it has not changed for :data:`SETTLE_SECONDS`, to its end; after a crash it resumes where the
last committed batch ended; once fully read it is skipped without being opened; if it changes,
it is read again from the start (rows already stored count as duplicates).
"""

import hashlib
import logging
import lzma
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any

from fsspec import AbstractFileSystem
from fsspec.compression import available_compressions
from fsspec.core import url_to_fs
from fsspec.implementations.local import LocalFileSystem

from driftscope.collectors.base import Batch, SourceFailure, SourceState
from driftscope.collectors.config import SourceConfig
from driftscope.collectors.parquetfiles import read_parquet
from driftscope.collectors.textfiles import TextRead, read_text
from driftscope.errors import SourceError
from driftscope.storage.collector_state import FileMark

log = logging.getLogger(__name__)

SETTLE_SECONDS = 10.0
HEAD_BYTES = 4096
_FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl",
            ".json": "jsonl"}
_COMPRESSION = {".gz": "gzip", ".bz2": "bz2", ".xz": "xz", ".zst": "zstd"}
_ARCHIVES = (".zip", ".tar", ".tgz", ".7z")
_FULLY_READ = ";end"


@dataclass(frozen=True)
class FileInfo:
    """What the filesystem says about one file."""

    path: str
    display: str
    size: int
    identity: str
    mtime: float | None


def file_compression(path: str) -> str | None:
    """The fsspec compression of a file from its last extension (``gzip``, ``bz2``, ``xz``, ``zstd``), or None.

    Examples
    --------
    >>> file_compression("logs/day.csv.gz"), file_compression("logs/day.csv")
    ('gzip', None)
    """
    suffix = PurePosixPath(path).suffix.lower()
    if suffix in _ARCHIVES:
        raise SourceError(f"{path}: archives are not read by the files source; extract the files, or compress "
                          "each one on its own (.gz, .bz2, .xz)")
    compression = _COMPRESSION.get(suffix)
    if compression is not None and compression not in available_compressions():
        raise SourceError(f"{path}: reading {compression} files needs the 'zstandard' package (pip install zstandard)")
    return compression


def file_format(path: str, configured: str | None) -> str:
    """``csv``, ``jsonl`` or ``parquet``: the configured format, else from the extension (before any compression's).

    Examples
    --------
    >>> file_format("logs/2026-01-01.ndjson", None), file_format("x.data", "csv"), file_format("a.csv.gz", None)
    ('jsonl', 'csv', 'csv')
    """
    compression = file_compression(path)
    name = PurePosixPath(path)
    suffix = (name.with_suffix("") if compression else name).suffix.lower()
    if compression and (configured == "parquet" or suffix in (".parquet", ".pq")):
        raise SourceError(f"{path}: a compressed Parquet file cannot be read; Parquet compresses internally, "
                          "write it uncompressed")
    if configured is not None:
        return configured
    if suffix not in _FORMATS:
        raise SourceError(f"{path}: cannot tell the format from the extension {suffix or '(none)'!r}; "
                          "name it .csv, .jsonl or .parquet, or set the source's `format:`")
    return _FORMATS[suffix]


class FilesSource:
    """Reads the files matching ``spec.url``; see the module docstring for what is (re)read."""

    def __init__(self, spec: SourceConfig, *, dictionary_columns: frozenset[str] = frozenset()) -> None:
        """``dictionary_columns``: text columns of Parquet files to read as categoricals (see :func:`read_parquet`)."""
        self.name = spec.name
        self.spec = spec
        self.dictionary_columns = dictionary_columns

    def batches(self, state: SourceState) -> Iterator[Batch | SourceFailure]:
        """Yield the new rows of every matching file, file by file, in name order."""
        fs, listing = self._list()
        if not listing:
            log.info("source %s: no file matches %s", self.name, self.spec.url)
        for path, details in listing:
            try:
                info = self._info(fs, path, details)
                yield from self._read(fs, info, state.files.get(info.display))
            except (OSError, ValueError, SourceError) as exc:
                yield SourceFailure(path, f"{path}: {exc}; the file was not marked as taken and will be "
                                          "read again next run: fix or remove it")

    def _list(self) -> tuple[AbstractFileSystem, list[tuple[str, dict[str, Any]]]]:
        """The matching files, sorted by path, with what one listing call says about each."""
        try:
            fs, root = url_to_fs(self.spec.url)
            if any(ch in root for ch in "*?["):
                found = fs.glob(root, detail=True)
            else:
                found = {root: fs.info(root)} if fs.exists(root) else {}
        except (ImportError, ValueError) as exc:
            raise SourceError(f"source {self.name!r}: cannot open {self.spec.url}: {exc}; install the fsspec "
                              "extra for this URL scheme (e.g. pip install 'driftscope[s3]')") from exc
        except OSError as exc:
            raise SourceError(f"source {self.name!r}: cannot list {self.spec.url}: {exc}") from exc
        files = [(path, details) for path, details in found.items() if details.get("type") != "directory"]
        return fs, sorted(files, key=lambda item: item[0])

    def _info(self, fs: AbstractFileSystem, path: str, info: dict[str, Any]) -> FileInfo:
        mtime = _mtime(info)
        etag = info.get("ETag") or info.get("etag") or info.get("md5Hash")
        identity = f"etag={str(etag).strip(chr(34))}" if etag else f"mtime={mtime}"
        display = path if isinstance(fs, LocalFileSystem) else fs.unstrip_protocol(path)
        return FileInfo(path, display, int(info["size"]), identity[:120], mtime)

    def _read(self, fs: AbstractFileSystem, info: FileInfo, mark: FileMark | None) -> Iterator[Batch]:
        fmt = file_format(info.path, self.spec.format)
        if fmt == "parquet":
            start = _parquet_start(info, mark)
            if start is not None:
                yield from read_parquet(fs, info.path, info.display, start=start, expected=mark,
                                        identity=info.identity, size=info.size, page_size=self.spec.page_size,
                                        dictionary_columns=self.dictionary_columns)
            return
        settled = info.mtime is None or time.time() - info.mtime > SETTLE_SECONDS
        compression = file_compression(info.path)
        if compression is not None:
            yield from self._read_compressed(fs, info, mark, fmt, compression, settled)
            return
        offset, line = self._text_start(fs, info, mark)
        if mark is not None and offset >= info.size and mark.size == info.size:
            return
        read = TextRead(path=info.path, display=info.display, fmt=fmt, size=info.size, offset=offset, line=line,
                        settled=settled, page_size=self.spec.page_size, fingerprint=self._fingerprint(fs, info))
        yield from read_text(fs, read, expected=mark)

    def _read_compressed(self, fs: AbstractFileSystem, info: FileInfo, mark: FileMark | None, fmt: str,
                         compression: str, settled: bool) -> Iterator[Batch]:
        """Read a finished compressed text file to its end (see the module docstring)."""
        start = self._compressed_start(info, mark)
        if start is None:
            return
        if not settled:
            log.info("source %s: %s changed less than %.0f s ago; it is taken once it settles", self.name,
                     info.display, SETTLE_SECONDS)
            return
        read = TextRead(path=info.path, display=info.display, fmt=fmt, size=info.size, offset=start[0],
                        line=start[1], settled=True, page_size=self.spec.page_size,
                        fingerprint=self._fingerprint(fs, info), compression=compression, end_tag=_FULLY_READ)
        try:
            yield from read_text(fs, read, expected=mark)
        except (EOFError, zlib.error, lzma.LZMAError) as exc:
            raise SourceError(f"not a readable {compression} file ({exc.__class__.__name__}: {exc})") from exc

    def _compressed_start(self, info: FileInfo, mark: FileMark | None) -> tuple[int, int] | None:
        """Where to resume a compressed file (uncompressed bytes, lines consumed); None when fully read."""
        if mark is not None and mark.size == info.size and mark.fingerprint.startswith(info.identity + ";"):
            return None if mark.fingerprint.endswith(_FULLY_READ) else (mark.offset, mark.rows_read)
        if mark is not None:
            log.info("source %s: %s changed; reading it again from the start", self.name, info.display)
        return 0, 0

    def _text_start(self, fs: AbstractFileSystem, info: FileInfo, mark: FileMark | None) -> tuple[int, int]:
        """Where to resume a text file: (byte offset, lines consumed); (0, 0) to read it from its start."""
        if mark is None:
            return 0, 0
        if mark.size == info.size and mark.fingerprint.startswith(info.identity + ";"):
            return mark.offset, mark.rows_read
        if info.size >= mark.offset and _head(fs, info.path, mark.fingerprint) == _head_part(mark.fingerprint):
            return mark.offset, mark.rows_read
        log.info("source %s: %s was rewritten; reading it again from the start", self.name, info.display)
        return 0, 0

    def _fingerprint(self, fs: AbstractFileSystem, info: FileInfo) -> str:
        n = min(info.size, HEAD_BYTES)
        with fs.open(info.path, "rb") as handle:
            digest = hashlib.sha1(handle.read(n)).hexdigest()
        return f"{info.identity};head={n}:{digest}"


def _parquet_start(info: FileInfo, mark: FileMark | None) -> int | None:
    """Row to resume a Parquet file at, or None when it is unchanged and fully read."""
    if mark is None or mark.size != info.size or not mark.fingerprint.startswith(info.identity + ";"):
        return 0
    total = int(mark.fingerprint.rsplit("rows=", 1)[-1])
    return None if mark.offset >= total else mark.offset


def _head_part(fingerprint: str) -> str:
    return fingerprint.rsplit(";head=", 1)[-1]


def _head(fs: AbstractFileSystem, path: str, fingerprint: str) -> str:
    """``n:sha1`` of the first ``n`` bytes of the file now, ``n`` as recorded in ``fingerprint``."""
    n = int(_head_part(fingerprint).split(":", 1)[0])
    with fs.open(path, "rb") as handle:
        return f"{n}:{hashlib.sha1(handle.read(n)).hexdigest()}"


def _mtime(info: dict[str, Any]) -> float | None:
    """Modification time (Unix seconds) from the keys local, S3 and GCS filesystems use, or None."""
    for key in ("mtime", "LastModified", "updated", "last_modified"):
        value = info.get(key)
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, datetime):
            return value.timestamp()
        if isinstance(value, str):
            try:
                return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
            except ValueError:
                continue
    return None
