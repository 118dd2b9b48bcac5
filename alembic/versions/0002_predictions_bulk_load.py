"""predictions bulk load: no chunk_id index, bytewise prediction ids, chunks stored uncompressed

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 16:40:00

Measured with ``bench/collect_bench.py`` (1M rows, PostgreSQL 15, 2 cores):

* ``ix_predictions_chunk_id`` cost every COPY an extra B-tree insert per row; the one query that
  used it (which rows of a partly duplicate batch went in) now looks rows up by primary key.
* ``prediction_id`` compares with ``COLLATE "C"`` on PostgreSQL (in ``predictions`` and in
  ``ground_truth``, which joins on it): ids are opaque keys, so bytewise order is all the
  primary key needs, and it spares every B-tree comparison the locale's rules. On a large store
  this step rewrites both tables and their indexes.
* ``prediction_chunks.data`` is ``STORAGE EXTERNAL`` on PostgreSQL: the chunks are LZ4-compressed
  Arrow already, so TOAST stores them without trying to compress them again. Applies to chunks
  written from now on.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID_COLUMNS = (("predictions", "prediction_id"), ("ground_truth", "prediction_id"))


def upgrade() -> None:
    with op.batch_alter_table('predictions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_predictions_chunk_id'))
    if op.get_context().dialect.name == 'postgresql':
        for table, column in _ID_COLUMNS:
            op.alter_column(table, column, type_=sa.String(length=200, collation='C'),
                            existing_type=sa.String(length=200), existing_nullable=False)
        op.execute('ALTER TABLE prediction_chunks ALTER COLUMN data SET STORAGE EXTERNAL')


def downgrade() -> None:
    if op.get_context().dialect.name == 'postgresql':
        op.execute('ALTER TABLE prediction_chunks ALTER COLUMN data SET STORAGE EXTENDED')
        for table, column in _ID_COLUMNS:
            op.alter_column(table, column, type_=sa.String(length=200, collation='default'),
                            existing_type=sa.String(length=200, collation='C'), existing_nullable=False)
    with op.batch_alter_table('predictions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_predictions_chunk_id'), ['chunk_id'], unique=False)
