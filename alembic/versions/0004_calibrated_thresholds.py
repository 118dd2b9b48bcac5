"""calibrated thresholds: null distributions per size band; effect size, q-value and mode per drift result

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 00:00:00

``null_distributions`` keeps the calibrated null draws of one (model version, column, method,
size band), computed once per reference and band (``driftscope.monitors.calibration``).
``drift_results`` gains ``threshold_mode`` (fixed | calibrated), ``q_value`` (Benjamini-Hochberg
adjusted p-value when ``fdr`` is set), ``effect_size`` and ``effect_size_kind``.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from driftscope.storage import models as storage_models

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('null_distributions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('model_version_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('feature', sa.String(length=200), nullable=False),
    sa.Column('method', sa.String(length=40), nullable=False),
    sa.Column('size_band', sa.Integer(), nullable=False),
    sa.Column('n_window', sa.BigInteger(), nullable=False),
    sa.Column('n_reference', sa.BigInteger(), nullable=False),
    sa.Column('n_draws', sa.Integer(), nullable=False),
    sa.Column('seed', sa.Integer(), nullable=False),
    sa.Column('draws', sa.LargeBinary().with_variant(postgresql.BYTEA(), 'postgresql'), nullable=False),
    sa.Column('created_at', storage_models.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'),
              nullable=False),
    sa.ForeignKeyConstraint(['model_version_id'], ['model_versions.id'],
                            name=op.f('fk_null_distributions_model_version_id_model_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_null_distributions')),
    sa.UniqueConstraint('model_version_id', 'feature', 'method', 'size_band', 'n_draws', 'seed',
                        name='uq_null_distributions_key')
    )
    with op.batch_alter_table('drift_results', schema=None) as batch_op:
        batch_op.add_column(sa.Column('threshold_mode', sa.String(length=20), server_default='fixed', nullable=False))
        batch_op.add_column(sa.Column('q_value', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('effect_size', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('effect_size_kind', sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('drift_results', schema=None) as batch_op:
        batch_op.drop_column('effect_size_kind')
        batch_op.drop_column('effect_size')
        batch_op.drop_column('q_value')
        batch_op.drop_column('threshold_mode')
    op.drop_table('null_distributions')
