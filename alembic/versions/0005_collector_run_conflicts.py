"""collector runs count conflicting duplicates apart from plain duplicates

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 10:00:00

A row whose id was seen before with different content is a *conflict* (issue #18 item 4): the
first row is kept and the newcomer quarantined; ``rows_conflict`` counts them so that
``rows_read = rows_stored + rows_duplicate + rows_conflict + rows_quarantined``. Existing runs get 0.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('collector_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rows_conflict', sa.BigInteger(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('collector_runs', schema=None) as batch_op:
        batch_op.drop_column('rows_conflict')
