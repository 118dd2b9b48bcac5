"""the time a monitor run read its inputs, for the stale-window checks

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 12:00:00

``monitor_runs.read_at``: the store's clock just before a run read its data. The stale checks of
``driftscope.storage.results`` compare late labels, outcomes and profile writes with it instead of
``started_at`` (stamped when the results are stored, after the computation, so evidence landing
while a run computed was missed). Existing runs get ``read_at = started_at``: they are judged as
before. Nullable, as SQLite cannot add a NOT NULL column without a constant default; every run
stored by ``driftscope.storage.results.start_run`` sets it.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from driftscope.storage import models as storage_models

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = storage_models.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.add_column('monitor_runs', sa.Column('read_at', _TS, nullable=True))
    runs = sa.table('monitor_runs', sa.column('read_at', _TS), sa.column('started_at', _TS))
    op.execute(runs.update().values(read_at=runs.c.started_at))


def downgrade() -> None:
    # Not a batch (table copy): on SQLite with foreign keys on, dropping the copied table would
    # cascade to the runs' results. SQLite has ALTER TABLE ... DROP COLUMN since 3.35.
    op.drop_column('monitor_runs', 'read_at')
