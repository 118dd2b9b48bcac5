"""Dialect-specific bulk paths: binary COPY on PostgreSQL, one ``executemany`` on SQLite.

Rows go in as a pandas DataFrame whose columns are named like the table's; nothing here loops per
row in Python except the DB-API's own ``executemany`` iteration on SQLite (and not even that for
:func:`insert_frame_ignoring`, which hands SQLite one JSON array). On SQLite timestamps are
written as text in SQLAlchemy's own format (``YYYY-MM-DD HH:MM:SS.ffffff``, UTC), so they compare
exactly with the bound parameters of ORM queries.
"""

import itertools
from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
from sqlalchemy import text
from sqlalchemy.orm import Session

from driftscope.storage.db import driver_connection, is_postgres, rowcount
from driftscope.storage.pg_binary_copy import BinaryCopy, encode_binary_copy

_STAGES = itertools.count()
_UNIQUE_VIOLATION = "23505"
_TYPES_KEY = "driftscope.column_types"


def insert_frame(session: Session, table: str, frame: pd.DataFrame) -> None:
    """Insert every row of ``frame`` into ``table`` (column names must match)."""
    if frame.empty:
        return
    if is_postgres(session):
        _copy_frame(session, table, frame)
    else:
        _executemany_frame(session, table, frame)


def insert_frame_ignoring(
    session: Session,
    table: str,
    frame: pd.DataFrame,
    conflict: tuple[str, ...],
    constants: dict[str, int] | None = None,
) -> int:
    """Insert the rows of ``frame`` whose ``conflict`` key is not in ``table`` yet; return how many went in.

    ``constants`` are integer columns with one value for every row (on SQLite written as SQL
    literals instead of being sent per row). SQLite: one ``INSERT ... SELECT ... FROM json_each(?) ON CONFLICT DO
    NOTHING`` with the rows as one JSON text, so SQLite inserts them all in one call that releases
    the GIL (a collector prepares its next batch meanwhile; per-row ``executemany`` binding would
    hand the GIL back and forth for every row). PostgreSQL: first one COPY straight into ``table``
    inside a savepoint (the common case, every row new, costs no staging and no speculative
    insertion); when that hits a unique violation, back to the savepoint, COPY the same encoded
    rows into a temporary stage dropped at commit and one ``INSERT ... SELECT ... ON CONFLICT DO
    NOTHING``. Callers
    serialise writers of the same keys (a row lock), so the first path cannot race another
    transaction.
    """
    if frame.empty:
        return 0
    constants = {name: int(value) for name, value in (constants or {}).items()}
    if not is_postgres(session):
        return _sqlite_insert_ignoring(session, table, frame, conflict, constants)
    encoded = encode_binary_copy(frame.assign(**constants), _column_types(session, table))
    if _copy_if_all_new(session, table, encoded):
        return len(frame)
    stage = f"_stage_{table}_{next(_STAGES)}"
    names = ", ".join(encoded.columns)
    session.execute(text(f"CREATE TEMPORARY TABLE {stage} ON COMMIT DROP AS SELECT {names} FROM {table} WITH NO DATA"))
    _copy_encoded(session, stage, encoded)
    return rowcount(session.execute(text(
        f"INSERT INTO {table} ({names}) SELECT {names} FROM {stage} ON CONFLICT ({', '.join(conflict)}) DO NOTHING"
    )))


def _sqlite_insert_ignoring(
    session: Session, table: str, frame: pd.DataFrame, conflict: tuple[str, ...], constants: dict[str, int]
) -> int:
    names = ", ".join([*constants, *frame.columns])
    fields = [*map(str, constants.values()), *(f"json_extract(value, '$[{i}]')" for i in range(len(frame.columns)))]
    sql = (f"INSERT INTO {table} ({names}) SELECT {', '.join(fields)} FROM json_each(?) WHERE true "
           f"ON CONFLICT ({', '.join(conflict)}) DO NOTHING")
    cursor = driver_connection(session).cursor()
    try:
        cursor.execute(sql, (_json_rows(frame),))
        return int(cursor.rowcount)
    finally:
        cursor.close()


def _json_rows(frame: pd.DataFrame) -> str:
    """The rows as one JSON array of arrays (timestamps as SQLite text), for ``json_each``."""
    arrow = _sqlite_arrow_table(frame)
    return pd.DataFrame({name: arrow.column(name).to_numpy(zero_copy_only=False) for name in arrow.column_names}
                        ).to_json(orient="values")


def _copy_if_all_new(session: Session, table: str, encoded: BinaryCopy) -> bool:
    """COPY ``encoded`` into ``table`` in a savepoint; False (and nothing written) on a unique violation."""
    try:
        with session.begin_nested():
            _copy_encoded(session, table, encoded)
    except Exception as exc:
        if getattr(exc, "sqlstate", None) == _UNIQUE_VIOLATION:
            return False
        raise
    return True


def existing_values(
    session: Session, table: str, column: str, values: pd.Series, where: dict[str, int]
) -> np.ndarray:
    """Return which of ``values`` already exist in ``table.column`` under the equality filter ``where``.

    ``values`` is staged into a temporary table (COPY / executemany) and joined, so the check costs
    one round trip however large the batch.
    """
    if values.empty:
        return np.array([], dtype=object)
    stage = f"_stage_{table}_{column}"
    session.execute(text(f"DROP TABLE IF EXISTS {stage}"))
    session.execute(text(f"CREATE TEMPORARY TABLE {stage} (v VARCHAR(200) PRIMARY KEY)"))
    insert_frame(session, stage, pd.DataFrame({"v": values.astype(str).to_numpy()}))
    filters = " AND ".join(f"t.{k} = :{k}" for k in where)
    rows = session.execute(
        text(f"SELECT s.v FROM {stage} s JOIN {table} t ON t.{column} = s.v WHERE {filters}"), where
    ).scalars()
    found = np.fromiter(rows, dtype=object)
    session.execute(text(f"DROP TABLE {stage}"))
    return found


def _sqlite_arrow_table(frame: pd.DataFrame) -> pa.Table:
    """Timestamps become UTC text in SQLAlchemy's SQLite format (``YYYY-MM-DD HH:MM:SS.ffffff``)."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    columns = []
    for col in table.columns:
        if pa.types.is_timestamp(col.type):
            col = col.cast(pa.timestamp("us", tz="UTC"), safe=False).cast(pa.timestamp("us")).cast(pa.string())
        columns.append(col)
    return pa.Table.from_arrays(columns, names=table.column_names)


def _executemany_frame(session: Session, table: str, frame: pd.DataFrame) -> None:
    names = ", ".join(f'"{name}"' for name in frame.columns)
    marks = ", ".join("?" for _ in frame.columns)
    _executemany(session, f"INSERT INTO {table} ({names}) VALUES ({marks})", _sqlite_arrow_table(frame))


def _executemany(session: Session, sql: str, arrow: pa.Table) -> int:
    """Run ``sql`` once per row of ``arrow`` in one ``executemany``; return the rows changed."""
    cursor = driver_connection(session).cursor()
    try:
        cursor.executemany(sql, _rows(arrow))
        return int(cursor.rowcount)
    finally:
        cursor.close()


def _rows(table: pa.Table) -> Iterable[tuple[object, ...]]:
    columns = [col.to_numpy(zero_copy_only=False) for col in table.columns]
    converted = [c.tolist() if c.dtype.kind in "iufb" else c for c in columns]
    return zip(*converted, strict=True)


def _copy_frame(session: Session, table: str, frame: pd.DataFrame) -> None:
    """One binary COPY of ``frame`` into ``table``, typed by the table's columns as the catalog has them."""
    _copy_encoded(session, table, encode_binary_copy(frame, _column_types(session, table)))


def _copy_encoded(session: Session, table: str, encoded: BinaryCopy) -> None:
    cursor = driver_connection(session).cursor()
    names = ", ".join(f'"{name}"' for name in encoded.columns)
    with cursor.copy(f"COPY {table} ({names}) FROM STDIN WITH (FORMAT binary)") as copy:
        copy.write(encoded.payload)


def _column_types(session: Session, table: str) -> dict[str, str]:
    """Column name -> type (``format_type`` without modifier) of ``table``, temporary tables included.

    A store table's types are asked of the catalog once per database connection and kept with it
    (SQLAlchemy's ``Connection.info`` lives as long as the pooled DB-API connection): a collector
    writes the same tables in every batch, and the catalog query cost about 6 ms a call on the
    loaded reference machine. Temporary stages (names starting with ``_``) are always asked.
    """
    cache: dict[str, dict[str, str]] = session.connection().info.setdefault(_TYPES_KEY, {})
    if table in cache:
        return cache[table]
    rows = session.execute(text(
        "SELECT attname, format_type(atttypid, NULL) FROM pg_attribute "
        "WHERE attrelid = CAST(:table AS regclass) AND attnum > 0 AND NOT attisdropped"
    ), {"table": table})
    types = {name: pg_type for name, pg_type in rows}
    if not table.startswith("_"):
        cache[table] = types
    return types
