"""label profiles: per-bucket summaries of labelled predictions, and the path of a metric value

Revision ID: 0013
Revises: 0008
Create Date: 2026-12-01 08:00:00

* ``label_profiles``: per (version, UTC bucket) the confusion cells with score-histogram bins and
  probability sums (classification) or the error moments (regression) of the labelled predictions
  (see ``driftscope.storage.profiles.labelled``).
* ``metric_values.path`` (``rows`` or ``profile``) and ``metric_values.error_bound``.

Upgrading an existing store backfills the hourly label profiles of every version from its stored
chunks and labels (``driftscope db backfill-profiles`` does the same on demand).
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from driftscope.storage import models as storage_models

revision: str = '0013'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = storage_models.UTCDateTime(timezone=True)
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table('label_profiles',
    sa.Column('model_version_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('bucket_start', _TS, nullable=False),
    sa.Column('bucket_seconds', sa.Integer(), nullable=False),
    sa.Column('n_labelled', sa.BigInteger(), nullable=False),
    sa.Column('cells', _JSON, nullable=False),
    sa.Column('moments', _JSON, nullable=False),
    sa.Column('updated_at', _TS, server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['model_version_id'], ['model_versions.id'],
                            name=op.f('fk_label_profiles_model_version_id_model_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('model_version_id', 'bucket_start', 'bucket_seconds', name=op.f('pk_label_profiles'))
    )
    with op.batch_alter_table('metric_values', schema=None) as batch_op:
        batch_op.add_column(sa.Column('path', sa.String(length=20), server_default='rows', nullable=False))
        batch_op.add_column(sa.Column('error_bound', sa.Float(), nullable=True))
    from driftscope.storage.profiles.labelled_store import backfill_labelled_all

    backfill_labelled_all(Session(bind=op.get_bind()))


def downgrade() -> None:
    with op.batch_alter_table('metric_values', schema=None) as batch_op:
        batch_op.drop_column('error_bound')
        batch_op.drop_column('path')
    op.drop_table('label_profiles')
