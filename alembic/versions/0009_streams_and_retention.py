"""streams and retention: stream offsets and lag, archive segments

Revision ID: 0009
Revises: 0006
Create Date: 2026-11-30 23:40:00

* ``stream_offsets``: the next offset of each partition of a Kafka source, committed with the rows.
* ``stream_lag``: per partition, how far behind a collector run ended (messages, seconds at most).
* ``archive_segments``: raw rows of a version and UTC day moved to a verified Parquet file.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from driftscope.storage import models as storage_models

revision: str = '0009'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_TS = storage_models.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table('stream_offsets',
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('topic', sa.String(length=255), nullable=False),
    sa.Column('partition', sa.Integer(), nullable=False),
    sa.Column('next_offset', sa.BigInteger(), nullable=False),
    sa.Column('last_ts', _TS, nullable=True),
    sa.Column('updated_at', _TS, server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.PrimaryKeyConstraint('source', 'topic', 'partition', name=op.f('pk_stream_offsets'))
    )
    op.create_table('stream_lag',
    sa.Column('id', _ID, nullable=False),
    sa.Column('run_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('topic', sa.String(length=255), nullable=False),
    sa.Column('partition', sa.Integer(), nullable=False),
    sa.Column('next_offset', sa.BigInteger(), nullable=False),
    sa.Column('end_offset', sa.BigInteger(), nullable=False),
    sa.Column('lag_messages', sa.BigInteger(), nullable=False),
    sa.Column('lag_seconds', sa.Float(), nullable=False),
    sa.Column('recorded_at', _TS, server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['collector_runs.id'], name=op.f('fk_stream_lag_run_id_collector_runs'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stream_lag'))
    )
    with op.batch_alter_table('stream_lag', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stream_lag_run_id'), ['run_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_stream_lag_source'), ['source', 'recorded_at'], unique=False)
    op.create_table('archive_segments',
    sa.Column('id', _ID, nullable=False),
    sa.Column('model_version_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('day', _TS, nullable=False),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('n_rows', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('archived_at', _TS, server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('restored_at', _TS, nullable=True),
    sa.ForeignKeyConstraint(['model_version_id'], ['model_versions.id'],
                            name=op.f('fk_archive_segments_model_version_id_model_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_archive_segments'))
    )
    with op.batch_alter_table('archive_segments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_archive_segments_model_version_id'), ['model_version_id', 'day'],
                              unique=False)


def downgrade() -> None:
    op.drop_table('archive_segments')
    op.drop_table('stream_lag')
    op.drop_table('stream_offsets')
