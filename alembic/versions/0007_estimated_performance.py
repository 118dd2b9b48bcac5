"""estimated performance: a metric's state (estimated or realized) and the realized value beside the estimate

Revision ID: 0007
Revises: 0005
Create Date: 2026-11-30 23:30:00

``metric_values`` of an ``estimated_performance`` run keep the estimate in ``value`` (its band in
``ci_low``/``ci_high``); ``state`` is ``estimated`` until the window has ``min_labels`` labelled
rows, then ``realized`` with the realized metric in ``realized_value``. Measured metrics leave both
NULL. The estimator's track record is a query over these two columns.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('metric_values', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('realized_value', sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('metric_values', schema=None) as batch_op:
        batch_op.drop_column('realized_value')
        batch_op.drop_column('state')
