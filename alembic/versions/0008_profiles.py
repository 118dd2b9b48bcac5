"""profiles: mergeable per-bucket column profiles, their specs, and the path of a drift result

Revision ID: 0008
Revises: 0009
Create Date: 2026-12-01 04:30:00

* ``profile_specs``: per (version, column) the histogram edges or reference categories, fixed from
  the reference.
* ``profiles``: per (version, column, UTC bucket) counts, moments, histogram, categories and a KLL
  sketch (see ``driftscope.storage.profiles``).
* ``drift_results.path`` (``rows`` or ``profile``) and ``drift_results.error_bound``.

The specs and hourly profiles of a store's existing versions are backfilled by migration 0016,
once the tables the profile writers also use exist (``driftscope db backfill-profiles`` does the
same on demand).
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from driftscope.storage import models as storage_models

revision: str = '0008'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = storage_models.UTCDateTime(timezone=True)
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
_BLOB = sa.LargeBinary().with_variant(postgresql.BYTEA(), 'postgresql')


def upgrade() -> None:
    op.create_table('profile_specs',
    sa.Column('model_version_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('column', sa.String(length=200), nullable=False),
    sa.Column('spec', _JSON, nullable=False),
    sa.ForeignKeyConstraint(['model_version_id'], ['model_versions.id'],
                            name=op.f('fk_profile_specs_model_version_id_model_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('model_version_id', 'column', name=op.f('pk_profile_specs'))
    )
    op.create_table('profiles',
    sa.Column('model_version_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('column', sa.String(length=200), nullable=False),
    sa.Column('bucket_start', _TS, nullable=False),
    sa.Column('bucket_seconds', sa.Integer(), nullable=False),
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
    sa.Column('updated_at', _TS, server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['model_version_id'], ['model_versions.id'],
                            name=op.f('fk_profiles_model_version_id_model_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('model_version_id', 'column', 'bucket_start', 'bucket_seconds', name=op.f('pk_profiles'))
    )
    with op.batch_alter_table('profiles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_profiles_model_version_id'), ['model_version_id', 'bucket_start'],
                              unique=False)
    with op.batch_alter_table('drift_results', schema=None) as batch_op:
        batch_op.add_column(sa.Column('path', sa.String(length=20), server_default='rows', nullable=False))
        batch_op.add_column(sa.Column('error_bound', sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('drift_results', schema=None) as batch_op:
        batch_op.drop_column('error_bound')
        batch_op.drop_column('path')
    with op.batch_alter_table('profiles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_profiles_model_version_id'))
    op.drop_table('profiles')
    op.drop_table('profile_specs')
