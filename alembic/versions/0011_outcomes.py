"""outcomes: business results of predictions (clicks, revenue), joined by prediction id like labels

Revision ID: 0011
Revises: 0004
Create Date: 2026-12-01 00:00:00

``outcomes`` keeps one value per (model, prediction id, outcome name); the first statement wins
(``ON CONFLICT DO NOTHING``), so re-reading a source stores nothing twice. Latency and status of
requests need no schema change: they are extra columns of the prediction chunks (Arrow blobs).
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from driftscope.storage import models as storage_models

revision: str = '0011'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('outcomes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('model_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('prediction_id', sa.String(length=200).with_variant(sa.String(length=200, collation='C'), 'postgresql'),
              nullable=False),
    sa.Column('outcome', sa.String(length=60), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('ts', storage_models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('received_at', storage_models.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'),
              nullable=False),
    sa.ForeignKeyConstraint(['model_id'], ['models.id'], name=op.f('fk_outcomes_model_id_models'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outcomes')),
    sa.UniqueConstraint('model_id', 'prediction_id', 'outcome', name=op.f('uq_outcomes_model_id_prediction_id_outcome'))
    )
    with op.batch_alter_table('outcomes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outcomes_model_id'), ['model_id', 'ts'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outcomes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outcomes_model_id'))
    op.drop_table('outcomes')
