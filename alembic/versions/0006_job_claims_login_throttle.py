"""job claims (one run per scheduled slot) and the dashboard's login throttle (issue #18 items 9 and 13)

Revision ID: 0006
Revises: 0007
Create Date: 2026-11-30 23:45:00

* ``job_claims``: primary key (job, scheduled_at); a scheduler runs a slot only after inserting its
  row, so two schedulers never both run the same scheduled time.
* ``login_throttle``: failed sign-ins per user name and per client (SHA-256 keys), so the growing
  delay holds across dashboard restarts and processes.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import driftscope.storage.models as storage_models

revision: str = '0006'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('job_claims',
    sa.Column('job', sa.String(length=200), nullable=False),
    sa.Column('scheduled_at', storage_models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('holder', sa.String(length=200), nullable=False),
    sa.Column('claimed_at', storage_models.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.PrimaryKeyConstraint('job', 'scheduled_at', name=op.f('pk_job_claims'))
    )
    op.create_table('login_throttle',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failure_at', storage_models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('locked_until', storage_models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_login_throttle'))
    )


def downgrade() -> None:
    op.drop_table('login_throttle')
    op.drop_table('job_claims')
