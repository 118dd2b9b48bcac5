"""experiment_looks: canary / A-B experiments as seen after each window

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 05:00:00

One row per (experiment, treatment version, window): the window's own figures per arm and the
cumulative look (effect, confidence sequence bounds, verdict, samples still needed).
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from driftscope.storage import models as storage_models

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table('experiment_looks',
    sa.Column('id', _ID, nullable=False),
    sa.Column('experiment', sa.String(length=200), nullable=False),
    sa.Column('control_version_id', _ID, nullable=False),
    sa.Column('treatment_version_id', _ID, nullable=False),
    sa.Column('window_start', storage_models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('window_end', storage_models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('arms', _JSON, server_default='{}', nullable=False),
    sa.Column('n_control', sa.BigInteger(), nullable=False),
    sa.Column('n_treatment', sa.BigInteger(), nullable=False),
    sa.Column('control_mean', sa.Float(), nullable=True),
    sa.Column('treatment_mean', sa.Float(), nullable=True),
    sa.Column('effect', sa.Float(), nullable=True),
    sa.Column('low', sa.Float(), nullable=True),
    sa.Column('high', sa.Float(), nullable=True),
    sa.Column('verdict', sa.String(length=30), nullable=False),
    sa.Column('decided', sa.Boolean(), nullable=False),
    sa.Column('decided_at', storage_models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('breaches', _JSON, server_default='[]', nullable=False),
    sa.Column('samples_needed', sa.Float(), nullable=True),
    sa.Column('alert_id', _ID, nullable=True),
    sa.Column('computed_at', storage_models.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'),
              nullable=False),
    sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], name=op.f('fk_experiment_looks_alert_id_alerts'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['control_version_id'], ['model_versions.id'],
                            name=op.f('fk_experiment_looks_control_version_id_model_versions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['treatment_version_id'], ['model_versions.id'],
                            name=op.f('fk_experiment_looks_treatment_version_id_model_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_experiment_looks')),
    sa.UniqueConstraint('experiment', 'treatment_version_id', 'window_start',
                        name=op.f('uq_experiment_looks_experiment_treatment_version_id_window_start'))
    )
    with op.batch_alter_table('experiment_looks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_experiment_looks_experiment'), ['experiment', 'window_end'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('experiment_looks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_experiment_looks_experiment'))
    op.drop_table('experiment_looks')
