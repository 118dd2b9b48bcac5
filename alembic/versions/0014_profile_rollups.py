"""daily roll-ups of the hourly profiles, and the day revisions that keep them exact

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 11:00:00

* ``profile_days``: per (version, UTC day) the revision of its profiles, bumped by every profile
  write, and the revision its roll-ups were built at (see ``driftscope.storage.profiles.days``).
* ``profile_rollups``: per (version, column, UTC day) the merge of the day's hourly profiles.

Upgrading an existing store records revision 1 for every day that has profiles; the roll-ups
themselves are built later, off the migration, by the scheduler's tick.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from driftscope.storage import models as storage_models

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = storage_models.UTCDateTime(timezone=True)
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
_BLOB = sa.LargeBinary().with_variant(postgresql.BYTEA(), 'postgresql')
_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('profile_days',
    sa.Column('model_version_id', _ID, nullable=False),
    sa.Column('day', _TS, nullable=False),
    sa.Column('revision', sa.BigInteger(), nullable=False),
    sa.Column('rolled_revision', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('changed_at', _TS, server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['model_version_id'], ['model_versions.id'],
                            name=op.f('fk_profile_days_model_version_id_model_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('model_version_id', 'day', name=op.f('pk_profile_days'))
    )
    op.create_table('profile_rollups',
    sa.Column('model_version_id', _ID, nullable=False),
    sa.Column('column', sa.String(length=200), nullable=False),
    sa.Column('day', _TS, nullable=False),
    sa.Column('revision', sa.BigInteger(), nullable=False),
    sa.Column('n_hours', sa.Integer(), nullable=False),
    sa.Column('n_rows', sa.BigInteger(), nullable=False),
    sa.Column('n_missing', sa.BigInteger(), nullable=False),
    sa.Column('minimum', sa.Float(), nullable=True),
    sa.Column('maximum', sa.Float(), nullable=True),
    sa.Column('mean', sa.Float(), nullable=True),
    sa.Column('m2', sa.Float(), nullable=True),
    sa.Column('counts', _JSON, nullable=False),
    sa.Column('new_categories', _JSON, nullable=False),
    sa.Column('other', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('sketch', _BLOB, nullable=False),
    sa.ForeignKeyConstraint(['model_version_id'], ['model_versions.id'],
                            name=op.f('fk_profile_rollups_model_version_id_model_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('model_version_id', 'column', 'day', name=op.f('pk_profile_rollups'))
    )
    _record_days()


def _record_days() -> None:
    """Revision 1 for every (version, UTC day) with profiles (days computed here: no dialect date functions)."""
    bind = op.get_bind()
    profiles = sa.table('profiles', sa.column('model_version_id'), sa.column('bucket_start', _TS))
    starts = bind.execute(sa.select(profiles.c.model_version_id, profiles.c.bucket_start).distinct()).all()
    days = {(version_id, start.replace(hour=0, minute=0, second=0, microsecond=0)) for version_id, start in starts}
    if days:
        op.bulk_insert(sa.table('profile_days', sa.column('model_version_id'), sa.column('day', _TS),
                                sa.column('revision')),
                       [{"model_version_id": v, "day": d, "revision": 1} for v, d in sorted(days)])


def downgrade() -> None:
    op.drop_table('profile_rollups')
    op.drop_table('profile_days')
