"""Read a Parquet file from a row offset, in batches of at most ``page_size`` rows.

The checkpoint of a batch is the number of rows of the file consumed; the fingerprint records the
file's row count, so a fully read file is skipped without opening it. Locations name the row
group and the row within it (both 0-based, as Parquet tools count them).
"""

from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from driftscope.collectors.base import Batch, FileCheckpoint, rows_as_json
from driftscope.errors import SourceError
from driftscope.storage.collector_state import FileMark


def read_parquet(
    fs: Any, path: str, display: str, *, start: int, expected: FileMark | None, identity: str, size: int,
    page_size: int, dictionary_columns: frozenset[str] = frozenset(),
) -> Iterator[Batch]:
    """Yield batches of the rows of ``path`` from row ``start`` on.

    Text columns named in ``dictionary_columns`` come as pandas categoricals, decoded from the
    file's dictionary pages without a Python string per row; other columns as pyarrow's
    ``to_pandas`` gives them.

    Raises
    ------
    SourceError
        The file is not readable Parquet (corrupt footer, truncated row group).
    """
    with fs.open(path, "rb") as handle:
        try:
            parquet = pq.ParquetFile(handle)
            as_dictionary = sorted(dictionary_columns & set(parquet.schema_arrow.names))
            if as_dictionary:
                parquet = pq.ParquetFile(handle, metadata=parquet.metadata, read_dictionary=as_dictionary)
        except (pa.ArrowException, OSError) as exc:
            raise SourceError(f"not a readable Parquet file ({exc})") from exc
        sizes = [parquet.metadata.row_group(i).num_rows for i in range(parquet.metadata.num_row_groups)]
        starts = np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)]).astype(np.int64)
        fingerprint = f"{identity};rows={int(starts[-1])}"
        parts: list[tuple[int, int, pa.Table]] = []
        pending = 0
        for group, (group_start, group_size) in enumerate(zip(starts[:-1].tolist(), sizes, strict=True)):
            if group_start + group_size <= start:
                continue
            table = _row_group(parquet, group)
            row = max(0, start - group_start)
            while row < group_size:
                take = min(page_size - pending, group_size - row)
                parts.append((group, row, table.slice(row, take)))
                row, pending = row + take, pending + take
                if pending == page_size:
                    mark = FileMark(display, size, fingerprint, group_start + row, group_start + row)
                    yield _batch(parts, display, FileCheckpoint(expected, mark))
                    expected, parts, pending = mark, [], 0
        if parts:
            group, row, table = parts[-1]
            end = int(starts[group]) + row + table.num_rows
            yield _batch(parts, display, FileCheckpoint(expected, FileMark(display, size, fingerprint, end, end)))


def _row_group(parquet: pq.ParquetFile, group: int) -> pa.Table:
    try:
        return parquet.read_row_group(group)
    except (pa.ArrowException, OSError) as exc:
        raise SourceError(f"row group {group} is not readable ({exc})") from exc


def _batch(parts: list[tuple[int, int, pa.Table]], display: str, checkpoint: FileCheckpoint) -> Batch:
    frame = pa.concat_tables([table for _, _, table in parts]).to_pandas()
    groups = np.concatenate([np.full(table.num_rows, group) for group, _, table in parts])
    rows = np.concatenate([np.arange(row, row + table.num_rows) for _, row, table in parts])

    def locate(positions: np.ndarray) -> list[str]:
        return [f"{display} row group {g} row {r}" for g, r in zip(groups[positions].tolist(),
                                                                    rows[positions].tolist(), strict=True)]

    return Batch(frame, f"file {display}", locate, rows_as_json(frame), checkpoint)
