"""Read one prediction chunk's Arrow IPC blob. Reads only.

On PostgreSQL the blob is fetched in binary format: psycopg's default text format sends a
``bytea`` as hex (twice the bytes) and decodes it client-side, about three times the time of a
binary fetch for a 5 MB chunk (28 ms vs 9 ms measured on the label writer's join).
"""

from sqlalchemy import select
from sqlalchemy.orm import Session

from driftscope.storage.db import driver_connection, is_postgres
from driftscope.storage.models import PredictionChunk


def chunk_blob(session: Session, chunk_id: int) -> bytes:
    """The ``data`` of the chunk ``chunk_id`` (an Arrow IPC stream: :func:`~.arrow_frames.decode_table`).

    Raises ``LookupError`` when no chunk has that id.
    """
    if not is_postgres(session):
        blob = session.execute(select(PredictionChunk.data).where(PredictionChunk.id == chunk_id)).scalar_one_or_none()
    else:
        with driver_connection(session).cursor(binary=True) as cursor:
            cursor.execute("SELECT data FROM prediction_chunks WHERE id = %s", (chunk_id,))
            row = cursor.fetchone()
        blob = None if row is None else row[0]
    if blob is None:
        raise LookupError(f"no prediction chunk has id {chunk_id}")
    return bytes(blob)
