"""The binary COPY encoder: PostgreSQL itself reads back exactly what was encoded."""

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import make_url

from driftscope.storage.pg_binary_copy import PART_ROWS, SUPPORTED_TYPES, encode_binary_copy

TYPES = {
    "i2": "smallint", "i4": "integer", "i8": "bigint", "f4": "real", "f8": "double precision", "b": "boolean",
    "t": "text", "v": "character varying", "tz": "timestamp with time zone", "naive": "timestamp without time zone",
    "by": "bytea", "j": "json", "jb": "jsonb",
}


@pytest.fixture(scope="module")
def pg(pg_url: str) -> Iterator[tuple[psycopg.Connection, str]]:
    """A plain psycopg connection to the test server and a table with a column of every supported type."""
    url = make_url(pg_url)
    conn = psycopg.connect(host=url.host, port=url.port, user=url.username, password=url.password,
                           dbname=url.database, autocommit=True)
    table = f"copy_types_{uuid.uuid4().hex[:8]}"
    conn.execute(f"CREATE TABLE {table} (k integer, {', '.join(f'{c} {t}' for c, t in TYPES.items())})")
    yield conn, table
    conn.execute(f"DROP TABLE {table}")
    conn.close()


def _round_trip(pg: tuple[psycopg.Connection, str], frame: pd.DataFrame) -> list[tuple]:
    conn, table = pg
    conn.execute(f"TRUNCATE {table}")
    encoded = encode_binary_copy(frame, {"k": "integer"} | {c: TYPES[c] for c in frame.columns if c != "k"})
    with conn.cursor().copy(f"COPY {table} ({', '.join(encoded.columns)}) FROM STDIN WITH (FORMAT binary)") as copy:
        copy.write(encoded.payload)
    return conn.execute(f"SELECT {', '.join(frame.columns)} FROM {table} ORDER BY k").fetchall()


def test_every_supported_type_reads_back(pg) -> None:
    frame = pd.DataFrame({
        "k": [0, 1, 2],
        "i2": [-32768, 7, None],
        "i4": [2**31 - 1, -1, 0],
        "i8": [2**62, None, -(2**40)],
        "f4": [1.5, None, -0.25],
        "f8": [np.pi, -1e300, np.nan],
        "b": [True, False, None],
        "t": ["héllo ✓", "", None],
        "v": ["a,b\n\"c\"", None, "x" * 200],
        "tz": pd.to_datetime(["2026-01-01T12:00:00.123456+02:00", None, "1999-12-31T23:59:59Z"], utc=True,
                             format="ISO8601"),
        "naive": pd.to_datetime(["2000-01-01 00:00:00", "1970-01-01 00:00:00.000001", None], format="ISO8601"),
        "by": [b"\x00\xff\x01", b"", None],
        "j": ['{"a": [1, 2]}', None, "[]"],
        "jb": ['{"é": 1, "b": [1.5, null]}', "[3, 4]", None],
    })
    rows = _round_trip(pg, frame)
    assert rows[0] == (0, -32768, 2**31 - 1, 2**62, 1.5, np.pi, True, "héllo ✓", 'a,b\n"c"',
                       datetime(2026, 1, 1, 10, 0, 0, 123456, tzinfo=UTC), datetime(2000, 1, 1),
                       b"\x00\xff\x01", {"a": [1, 2]}, {"é": 1, "b": [1.5, None]})
    assert rows[1] == (1, 7, -1, None, None, -1e300, False, "", None, None, datetime(1970, 1, 1, 0, 0, 0, 1),
                       b"", None, [3, 4])
    assert rows[2] == (2, None, 0, -(2**40), -0.25, None, None, None, "x" * 200,
                       datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC), None, None, [], None)


texts = st.lists(st.one_of(st.none(), st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"),
                                               max_size=30)), min_size=1, max_size=60)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=texts, data=st.data())
def test_text_and_integers_of_any_shape_read_back(pg, values: list[str | None], data: st.DataObject) -> None:
    n = len(values)
    numbers = data.draw(st.lists(st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)), min_size=n, max_size=n))
    frame = pd.DataFrame({"k": range(n), "t": pd.Series(values, dtype=object),
                          "i8": pd.Series(numbers, dtype=object)})
    assert _round_trip(pg, frame) == [(k, v, x) for k, v, x in zip(range(n), values, numbers, strict=True)]


def test_a_frame_of_several_parts_keeps_one_column_order(pg) -> None:
    n = PART_ROWS + 10
    frame = pd.DataFrame({"k": np.arange(n), "i8": pd.array(np.arange(n), dtype="Int64"),
                          "t": [f"id-{i}" for i in range(n)]})
    frame.loc[n - 1, "i8"] = None
    rows = _round_trip(pg, frame)
    assert len(rows) == n
    assert rows[0] == (0, 0, "id-0") and rows[PART_ROWS] == (PART_ROWS, PART_ROWS, f"id-{PART_ROWS}")
    assert rows[-1] == (n - 1, None, f"id-{n - 1}")


def test_the_payload_follows_the_documented_layout() -> None:
    frame = pd.DataFrame({"s": ["ab", None], "n": [1, None], "k": [2, 3]})
    encoded = encode_binary_copy(frame, {"s": "text", "n": "bigint", "k": "smallint"})
    payload = encoded.payload
    assert encoded.columns == ["k", "s", "n"]
    assert payload[:11] == b"PGCOPY\n\xff\r\n\x00" and payload[11:19] == bytes(8)
    first = (b"\x00\x03" + b"\x00\x00\x00\x02\x00\x02" + b"\x00\x00\x00\x02ab"
             + b"\x00\x00\x00\x08" + (1).to_bytes(8, "big"))
    second = b"\x00\x03" + b"\x00\x00\x00\x02\x00\x03" + b"\xff\xff\xff\xff" * 2
    assert payload[19:] == first + second + b"\xff\xff"


def test_rows_of_fixed_size_fields_only() -> None:
    frame = pd.DataFrame({"a": [1, 2], "b": [0.5, 1.0]})
    encoded = encode_binary_copy(frame, {"a": "integer", "b": "double precision"})
    row = b"\x00\x02\x00\x00\x00\x04\x00\x00\x00\x01\x00\x00\x00\x08" + np.array([0.5], ">f8").tobytes()
    assert encoded.payload[19:19 + len(row)] == row and len(encoded.payload) == 19 + 2 * len(row) + 2


@pytest.mark.parametrize(("frame", "types", "message"), [
    (pd.DataFrame({"x": ["<a/>"]}), {"x": "xml"}, r"column 'x': binary COPY of PostgreSQL type 'xml'"),
    (pd.DataFrame({"n": [1.5]}), {"n": "bigint"}, r"column 'n': integer column holds a fraction"),
])
def test_what_it_cannot_encode_is_named(frame: pd.DataFrame, types: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        encode_binary_copy(frame, types)


def test_supported_types_are_the_documented_ones() -> None:
    assert set(TYPES.values()) == SUPPORTED_TYPES
