"""The sql source: rows of a table (or a query's result) past a watermark, read in pages.

Pages are ordered by ``(watermark, key)``, where the key is the source column of the schema's id,
and the next page starts strictly after the last row's pair: ``watermark > w OR (watermark = w AND
key > k)``. Rows sharing one watermark value are therefore neither skipped at a page boundary nor
read twice. The position ``(w, k)`` is committed with the page's rows; a later correction of a
row must move its watermark forward (an ``updated_at`` column) to be read again.

Columns are read untyped, so values reach the watermark exactly as the database driver returns
them and are bound back the same way (text timestamps in SQLite compare as text, PostgreSQL
timestamps as timestamps). Rows whose watermark is NULL are never read (they cannot be ordered);
each run logs how many there are. Rows with a NULL key sort first within their watermark value.
"""

import json
import logging
from collections.abc import Callable, Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import (
    Engine,
    MetaData,
    Table,
    and_,
    column,
    create_engine,
    func,
    literal_column,
    or_,
    select,
    table,
    text,
)
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, NoSuchTableError, SQLAlchemyError
from sqlalchemy.sql import FromClause

from driftscope.collectors.base import Batch, SourceState, WatermarkCheckpoint, rows_as_json
from driftscope.collectors.config import SourceConfig
from driftscope.errors import ConfigError, SchemaError, SourceError

log = logging.getLogger(__name__)


def encode_position(value: Any, key: Any) -> str:
    """The watermark text of a ``(watermark value, key)`` pair, keeping the driver's types.

    Examples
    --------
    >>> encode_position(datetime(2026, 1, 1, 12), "r-7")
    '{"value": ["datetime", "2026-01-01T12:00:00"], "key": ["plain", "r-7"]}'
    """
    return json.dumps({"value": _tag(value), "key": _tag(key)})


def decode_position(watermark: str) -> tuple[Any, Any]:
    """The ``(value, key)`` pair of :func:`encode_position`.

    Raises
    ------
    SourceError
        ``watermark`` was not written by a sql source (the source's kind or name changed).
    """
    try:
        data = json.loads(watermark)
        return _untag(data["value"]), _untag(data["key"])
    except (ValueError, KeyError, TypeError) as exc:
        raise SourceError(f"the stored watermark {watermark[:120]!r} is not a sql source position; if the source "
                          "was renamed or changed kind, give it a new name to start from the beginning") from exc


def _tag(value: Any) -> list[Any]:
    if isinstance(value, datetime):
        return ["datetime", value.isoformat()]
    if isinstance(value, date):
        return ["date", value.isoformat()]
    if isinstance(value, Decimal):
        return ["decimal", str(value)]
    if isinstance(value, np.generic):
        value = value.item()
    return ["plain", value if value is None or isinstance(value, int | float | str | bool) else str(value)]


def _untag(tagged: list[Any]) -> Any:
    kind, value = tagged
    converters: dict[str, Callable[[str], Any]] = {
        "datetime": datetime.fromisoformat, "date": date.fromisoformat, "decimal": Decimal,
    }
    return converters[kind](value) if kind in converters else value


def source_engine(url: str, timeout_s: float) -> Engine:
    """An engine on the source database (psycopg 3 for PostgreSQL) with connect and statement timeouts."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise SourceError(f"not a SQLAlchemy URL: {url!r}") from exc
    connect_args: dict[str, Any] = {}
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "postgresql":
        connect_args = {"connect_timeout": max(1, int(timeout_s)),
                        "options": f"-c statement_timeout={int(timeout_s * 1000)}"}
    elif parsed.get_backend_name() == "sqlite":
        connect_args = {"timeout": timeout_s}
    return create_engine(parsed, connect_args=connect_args)


class SqlSource:
    """Pages of a table or query, ordered by ``(watermark, key)``; see the module docstring."""

    def __init__(self, spec: SourceConfig, *, key_column: str) -> None:
        self.name = spec.name
        self.spec = spec
        self.key_column = key_column
        self.relation_name = spec.table or "query"
        if spec.watermark is None:
            raise ConfigError(f"source {spec.name!r}: a sql source needs 'watermark' (a timestamp or increasing id)")
        self.watermark_column: str = spec.watermark

    def batches(self, state: SourceState) -> Iterator[Batch]:
        """Yield pages after the committed position until a short page."""
        engine = source_engine(str(self.spec.url), self.spec.timeout.total_seconds())
        try:
            with engine.connect() as conn:
                yield from self._pages(conn, state.watermark)
        except SQLAlchemyError as exc:
            safe_url = make_url(str(self.spec.url)).render_as_string(hide_password=True)
            raise SourceError(f"source {self.name!r}: reading {self.relation_name} at {safe_url} failed: "
                              f"{exc.__class__.__name__}: {str(exc).splitlines()[0]}") from exc
        finally:
            engine.dispose()

    def _pages(self, conn: Connection, watermark: str | None) -> Iterator[Batch]:
        relation = self._relation(conn)
        missing = [c for c in (self.watermark_column, self.key_column) if c not in relation.c]
        if missing:
            raise SchemaError(f"source {self.name!r}: {self.relation_name} has no column {', '.join(missing)} "
                              f"(columns: {', '.join(relation.c.keys())}); check `watermark:` and the id mapping")
        mark, key = relation.c[self.watermark_column], relation.c[self.key_column]
        self._warn_null_watermarks(conn, relation, mark)
        position = decode_position(watermark) if watermark else None
        while True:
            query = select(relation).where(mark.is_not(None)).order_by(mark, key.nulls_first())
            if position is not None:
                query = query.where(_after(mark, key, *position))
            result = conn.execute(query.limit(self.spec.page_size))
            rows = result.fetchall()
            if not rows:
                return
            last = rows[-1]._mapping
            encoded = encode_position(last[mark.name], last[key.name])
            if encoded == watermark:
                raise SourceError(f"source {self.name!r}: the watermark did not advance past {encoded}; the "
                                  f"{self.watermark_column} column must be comparable in the source database")
            frame = pd.DataFrame.from_records(rows, columns=list(result.keys()))
            yield self._batch(frame, WatermarkCheckpoint(watermark, encoded))
            watermark, position = encoded, (last[mark.name], last[key.name])
            if len(rows) < self.spec.page_size:
                return

    def _relation(self, conn: Connection) -> FromClause:
        if self.spec.table is not None:
            schema, _, name = self.spec.table.rpartition(".")
            try:
                reflected = Table(name, MetaData(), schema=schema or None, autoload_with=conn)
            except NoSuchTableError as exc:
                raise SourceError(f"source {self.name!r}: no table {self.spec.table!r} in the source database") from exc
            return table(name, *(column(c.name) for c in reflected.columns), schema=schema or None)
        query = self.spec.query
        if query is None:
            raise ConfigError(f"source {self.name!r}: a sql source needs 'table' or 'query'")
        probe = text(query).columns().subquery("q")
        names = list(conn.execute(select(literal_column("*")).select_from(probe).limit(0)).keys())
        return text(query).columns(*(column(n) for n in names)).subquery("q")

    def _warn_null_watermarks(self, conn: Connection, relation: FromClause, mark: Any) -> None:
        n_null = conn.execute(select(func.count()).select_from(relation).where(mark.is_(None))).scalar_one()
        if n_null:
            log.warning("source %s: %d rows of %s have a NULL %s and are not collected; give them a value",
                        self.name, n_null, self.relation_name, self.watermark_column)

    def _batch(self, frame: pd.DataFrame, checkpoint: WatermarkCheckpoint) -> Batch:
        keys = frame[self.key_column]

        def locate(positions: np.ndarray) -> list[str]:
            return [f"{self.relation_name} {self.key_column}={k}" for k in keys.iloc[positions].tolist()]

        return Batch(frame, f"{self.relation_name}", locate, rows_as_json(frame), checkpoint)


def _after(mark: Any, key: Any, value: Any, last_key: Any) -> Any:
    """Rows strictly after ``(value, last_key)`` in ``(watermark, key NULLS FIRST)`` order."""
    same_value = key.is_not(None) if last_key is None else key > last_key
    return or_(mark > value, and_(mark == value, same_value))
