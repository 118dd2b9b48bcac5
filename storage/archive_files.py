"""The archive's files: Parquet parts under ``{model}/{version}/day=YYYY-MM-DD/``, a manifest per day, verified.

The archive is a folder or any fsspec URL (``s3://bucket/driftscope``). Each part is written as
bytes, read back, and accepted only when the bytes read hash to the SHA-256 of the bytes written
and decode to the expected rows. ``manifest.json`` of a day lists its parts with rows and checksums,
so the archive stays self-describing without the store. Nothing here deletes a file.
"""

import hashlib
import io
import json
import secrets
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

import pyarrow as pa
import pyarrow.parquet as pq
from fsspec.core import url_to_fs

from driftscope.errors import StorageError

MANIFEST = "manifest.json"


class ArchiveError(StorageError):
    """The archive cannot be written, read, or does not hold what the store says it does."""


@dataclass(frozen=True)
class Part:
    """One verified Parquet file: its URL, what it holds, its rows and the SHA-256 of its bytes."""

    path: str
    kind: str
    n_rows: int
    sha256: str


def day_folder(root: str, model: str, version: str, day: datetime) -> str:
    """The folder of one model version's UTC day under ``root`` (names percent-encoded).

    Examples
    --------
    >>> from datetime import UTC
    >>> day_folder("s3://b/arch/", "credit model", "1.0", datetime(2026, 1, 2, tzinfo=UTC))
    's3://b/arch/credit%20model/1.0/day=2026-01-02'
    """
    return f"{root.rstrip('/')}/{quote(model, safe='')}/{quote(version, safe='')}/day={day:%Y-%m-%d}"


def open_fs(url: str) -> tuple[Any, str]:
    """The fsspec filesystem of ``url`` and the path within it."""
    try:
        return url_to_fs(url)
    except (ImportError, ValueError) as exc:
        raise ArchiveError(f"archive {url}: cannot open it ({exc}); install the fsspec backend it needs "
                           "(pip install 'driftscope[s3]' or '[gcs]') or fix the URL; nothing was deleted") from exc


def check_writable(root: str) -> None:
    """Write, read back and remove a probe file under ``root``; raise :class:`ArchiveError` when that fails."""
    probe = f"{root.rstrip('/')}/.driftscope-probe-{secrets.token_hex(6)}"
    fs, path = open_fs(probe)
    try:
        fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
        fs.pipe_file(path, b"probe")
        if fs.cat_file(path) != b"probe":
            raise OSError("the probe file read back differs from what was written")
        fs.rm_file(path)
    except (OSError, NotImplementedError, PermissionError) as exc:
        raise ArchiveError(f"archive {root} is not writable or not reachable: {type(exc).__name__}: {exc}. "
                           "Fix `retention.archive` or its permissions; nothing was deleted from the store") from exc


def write_part(folder: str, kind: str, table: pa.Table) -> Part:
    """Write ``table`` as a new Parquet file in ``folder``, read it back and verify it; return the part."""
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    data = sink.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    url = f"{folder}/{kind}-{datetime.now().strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(4)}.parquet"
    fs, path = open_fs(url)
    try:
        fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
        fs.pipe_file(path, data)
    except (OSError, NotImplementedError) as exc:
        raise ArchiveError(f"archive: cannot write {url}: {type(exc).__name__}: {exc}; nothing was deleted") from exc
    part = Part(url, kind, table.num_rows, digest)
    verify_part(part)
    return part


def read_part(part: Part | str) -> pa.Table:
    """The table of one archive file (a :class:`Part` is verified against its checksum first)."""
    if isinstance(part, str):
        fs, path = open_fs(part)
        return pq.read_table(io.BytesIO(_cat(fs, path, part)))
    return verify_part(part)


def verify_part(part: Part) -> pa.Table:
    """Read ``part`` back; its bytes must hash to ``part.sha256`` and hold ``part.n_rows`` rows."""
    fs, path = open_fs(part.path)
    data = _cat(fs, path, part.path)
    digest = hashlib.sha256(data).hexdigest()
    if digest != part.sha256:
        raise ArchiveError(f"archive file {part.path}: SHA-256 {digest} differs from the recorded {part.sha256}: "
                           "the file was changed or damaged")
    table = pq.read_table(io.BytesIO(data))
    if table.num_rows != part.n_rows:
        raise ArchiveError(f"archive file {part.path}: {table.num_rows} rows where {part.n_rows} were recorded")
    return table


def _cat(fs: Any, path: str, url: str) -> bytes:
    try:
        return bytes(fs.cat_file(path))
    except (OSError, NotImplementedError) as exc:
        raise ArchiveError(f"archive file {url} cannot be read: {type(exc).__name__}: {exc}") from exc


def add_to_manifest(folder: str, parts: list[Part]) -> None:
    """Add ``parts`` to the day's ``manifest.json`` (written, then read back and checked)."""
    fs, path = open_fs(f"{folder}/{MANIFEST}")
    entries = read_manifest(folder)
    entries += [{**asdict(p), "path": p.path.rsplit("/", 1)[-1]} for p in parts]
    body = json.dumps({"parts": entries}, indent=1).encode()
    try:
        fs.pipe_file(path, body)
    except (OSError, NotImplementedError) as exc:
        raise ArchiveError(f"archive: cannot write {folder}/{MANIFEST}: {exc}; nothing was deleted") from exc
    if _cat(fs, path, f"{folder}/{MANIFEST}") != body:
        raise ArchiveError(f"archive: {folder}/{MANIFEST} read back differs from what was written")


def read_manifest(folder: str) -> list[dict[str, Any]]:
    """The parts listed in a day's manifest (file names relative to the folder); [] when there is none."""
    fs, path = open_fs(f"{folder}/{MANIFEST}")
    if not fs.exists(path):
        return []
    return list(json.loads(_cat(fs, path, f"{folder}/{MANIFEST}"))["parts"])
