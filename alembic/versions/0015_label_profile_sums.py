"""label profiles: the sums of R²'s standard error and the per-class scores of multiclass models

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 11:00:00

No schema change: ``label_profiles.moments`` gains four values (13 instead of 9) for regression
models and ``label_profiles.cells`` a ``scores`` part for multiclass models that log per-class
probabilities (see ``driftscope.storage.profiles.labelled``). Rows without them still load (R²
then has no interval, the multiclass probability metrics stay undefined); upgrading rebuilds the
hourly label profiles of the versions that have such rows from their stored chunks and labels
(``driftscope db backfill-profiles`` does the same on demand; a lake's day buckets are left to the
lake source). Downgrading strips the new values, so the code of 0013 and 0014 reads every row.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
_LEGACY_MOMENTS = 9


def upgrade() -> None:
    from driftscope.storage.profiles.labelled_store import backfill_labelled_legacy

    backfill_labelled_legacy(Session(bind=op.get_bind()))


def downgrade() -> None:
    table = sa.table('label_profiles', sa.column('model_version_id'), sa.column('bucket_start'),
                     sa.column('bucket_seconds'), sa.column('cells', _JSON), sa.column('moments', _JSON))
    bind = op.get_bind()
    keys = (table.c.model_version_id, table.c.bucket_start, table.c.bucket_seconds)
    for version_id, start, seconds, cells, moments in bind.execute(sa.select(*keys, table.c.cells, table.c.moments)):
        if 'scores' not in cells and len(moments) <= _LEGACY_MOMENTS:
            continue
        bind.execute(table.update().where(table.c.model_version_id == version_id, table.c.bucket_start == start,
                                          table.c.bucket_seconds == seconds).values(
            cells={k: v for k, v in cells.items() if k != 'scores'}, moments=list(moments)[:_LEGACY_MOMENTS]))
