"""Dialect-specific bulk paths: COPY on PostgreSQL, one ``executemany`` on SQLite.

Rows go in as a pandas DataFrame whose columns are named like the table's; nothing here loops per
row in Python except the DB-API's own ``executemany`` iteration on SQLite.
"""

import io
from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from sqlalchemy import text
from sqlalchemy.orm import Session

from storage.db import is_postgres

SQLITE_TS_FORMAT = "%Y-%m-%d %H:%M:%S"


def insert_frame(session: Session, table: str, frame: pd.DataFrame) -> None:
    """Insert every row of ``frame`` into ``table`` (column names must match)."""
    if frame.empty:
        return
    if is_postgres(session):
        _copy_frame(session, table, frame)
    else:
        _executemany_frame(session, table, frame)


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


def _arrow_table(frame: pd.DataFrame, ts_as_text: bool) -> pa.Table:
    """Timestamps become microsecond UTC (as text in SQLAlchemy's SQLite format when asked)."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    columns = []
    for col in table.columns:
        if pa.types.is_timestamp(col.type):
            col = col.cast(pa.timestamp("us", tz="UTC"), safe=False)
            if ts_as_text:
                col = pc.strftime(col, format=SQLITE_TS_FORMAT)
        columns.append(col)
    return pa.Table.from_arrays(columns, names=table.column_names)


def _executemany_frame(session: Session, table: str, frame: pd.DataFrame) -> None:
    arrow = _arrow_table(frame, ts_as_text=True)
    names = ", ".join(arrow.column_names)
    marks = ", ".join("?" for _ in arrow.column_names)
    cursor = session.connection().connection.driver_connection.cursor()
    try:
        cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", _rows(arrow))
    finally:
        cursor.close()


def _rows(table: pa.Table) -> Iterable[tuple[object, ...]]:
    columns = [col.to_numpy(zero_copy_only=False) for col in table.columns]
    converted = [c.tolist() if c.dtype.kind in "iufb" else c for c in columns]
    return zip(*converted, strict=True)


def _copy_frame(session: Session, table: str, frame: pd.DataFrame) -> None:
    arrow = _arrow_table(frame, ts_as_text=False)
    buffer = io.BytesIO()
    pacsv.write_csv(arrow, buffer, write_options=pacsv.WriteOptions(include_header=False, quoting_style="needed"))
    names = ", ".join(arrow.column_names)
    cursor = session.connection().connection.driver_connection.cursor()
    with cursor.copy(f"COPY {table} ({names}) FROM STDIN WITH (FORMAT csv)") as copy:
        copy.write(buffer.getbuffer())
