"""daily roll-ups of the hourly profiles, and the day revisions that keep them exact

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 11:00:00

* ``profile_days``: per (version, UTC day) the revision of its profiles, bumped by every profile
  write, and the revision its roll-ups were built at (see ``driftscope.storage.profiles.days``).
* ``profile_rollups``: per (version, column, UTC day) the merge of the day's hourly profiles.

Upgrading an existing store first backfills the specs and hourly profiles of versions that have
a reference and none (a store from before 0008; 0008 itself does not, as the profile writers use
these tables), then records revision 1 for every other day that has profiles; the roll-ups
themselves are built later, off the migration, by the scheduler's tick.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from driftscope.storage import models as storage_models

revision: str = '0016'
down_revision: str | None = '0015'
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
    _backfill_unprofiled()
    _record_days()


def _backfill_unprofiled() -> None:
    """Specs and hourly profiles of the versions with a reference and no specs: a store from before 0008.

    Run here rather than in 0008 because the profile writers also bump the day revisions of
    ``profile_days``, created above. Their days get revision 1 from the writers themselves.
    """
    from driftscope.storage.profiles.backfill import backfill_version

    session = Session(bind=op.get_bind())
    specs = sa.table('profile_specs', sa.column('model_version_id'))
    references = sa.table('reference_datasets', sa.column('model_version_id'))
    unprofiled = session.execute(sa.select(references.c.model_version_id).where(
        references.c.model_version_id.not_in(sa.select(specs.c.model_version_id)))
        .order_by(references.c.model_version_id)).scalars().all()
    for version_id in unprofiled:
        backfill_version(session, model_version_id=version_id)
    session.flush()


def _record_days() -> None:
    """Revision 1 for every (version, UTC day) with profiles and no revision yet (days computed here: no
    dialect date functions)."""
    bind = op.get_bind()
    profiles = sa.table('profiles', sa.column('model_version_id'), sa.column('bucket_start', _TS))
    starts = bind.execute(sa.select(profiles.c.model_version_id, profiles.c.bucket_start).distinct()).all()
    recorded = sa.table('profile_days', sa.column('model_version_id'), sa.column('day', _TS))
    known = {(v, d) for v, d in bind.execute(sa.select(recorded.c.model_version_id, recorded.c.day)).all()}
    days = {(version_id, start.replace(hour=0, minute=0, second=0, microsecond=0))
            for version_id, start in starts} - known
    if days:
        op.bulk_insert(sa.table('profile_days', sa.column('model_version_id'), sa.column('day', _TS),
                                sa.column('revision')),
                       [{"model_version_id": v, "day": d, "revision": 1} for v, d in sorted(days)])


def downgrade() -> None:
    op.drop_table('profile_rollups')
    op.drop_table('profile_days')
