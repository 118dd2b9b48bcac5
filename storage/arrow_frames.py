"""Encode DataFrames as Arrow IPC blobs (LZ4-compressed) and decode them back.

String columns are dictionary-encoded, so they come back as ``pandas.Categorical`` (codes, not a
million Python strings); timestamps are ``timestamp[us, UTC]``.
"""

import io
from collections.abc import Callable, Sequence

import pandas as pd
import pyarrow as pa
import pyarrow.ipc as ipc

_WRITE_OPTIONS = ipc.IpcWriteOptions(compression="lz4")


def encode_frame(frame: pd.DataFrame) -> bytes:
    """Serialise ``frame`` (no index) to Arrow IPC stream bytes (see :func:`encode_table`).

    Examples
    --------
    >>> blob = encode_frame(pd.DataFrame({"a": [1.5, None], "b": ["x", "y"]}))
    >>> decode_frames([blob])["b"].dtype.name
    'category'
    """
    return encode_table(pa.Table.from_pandas(frame, preserve_index=False))


def encode_table(table: pa.Table) -> bytes:
    """Serialise ``table`` to Arrow IPC stream bytes, LZ4-compressed, without schema metadata.

    Text columns are stored dictionary-encoded with int32 indices (pandas categoricals included),
    so chunks written from different sources concatenate without promotion.
    """
    table = table.combine_chunks()
    columns = [_as_dictionary(col) for col in table.columns]
    table = pa.Table.from_arrays(columns, names=table.column_names)
    sink = io.BytesIO()
    with ipc.new_stream(sink, table.schema, options=_WRITE_OPTIONS) as writer:
        writer.write_table(table)
    return sink.getvalue()


def _as_dictionary(column: pa.ChunkedArray) -> pa.ChunkedArray:
    kind = column.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return column.cast(pa.string()).dictionary_encode()
    if pa.types.is_dictionary(kind) and pa.types.is_string(kind.value_type) and kind.index_type != pa.int32():
        return column.cast(pa.dictionary(pa.int32(), pa.string()))
    return column


def decode_table(blob: bytes, columns: Callable[[str], bool] | None = None) -> pa.Table:
    """Read one Arrow IPC stream blob into a table; only the columns whose name ``columns`` accepts, if given.

    The columns left out are not decompressed. A table none of whose columns is accepted comes
    back with its rows and no columns.

    Examples
    --------
    >>> blob = encode_frame(pd.DataFrame({"a": [1, 2], "b": ["x", "y"], "c": [0.5, 1.5]}))
    >>> decode_table(blob, lambda name: name != "b").column_names
    ['a', 'c']
    """
    buffer = pa.py_buffer(blob)
    if columns is None:
        return ipc.open_stream(buffer).read_all()
    fields = [i for i, name in enumerate(ipc.open_stream(buffer).schema.names) if columns(name)]
    if not fields:
        return ipc.open_stream(buffer).read_all().select([])
    return ipc.open_stream(buffer, options=ipc.IpcReadOptions(included_fields=fields)).read_all()


def decode_frames(blobs: list[bytes], tables: Sequence[pa.Table] = ()) -> pd.DataFrame:
    """Decode and concatenate blobs, after ``tables`` (their schemas may differ: missing columns become nulls)."""
    every = [*tables, *(decode_table(b) for b in blobs)]
    if not every:
        return pd.DataFrame()
    table = pa.concat_tables(every, promote_options="permissive").unify_dictionaries()
    table = table.combine_chunks()
    return table.to_pandas(split_blocks=True, self_destruct=True)
