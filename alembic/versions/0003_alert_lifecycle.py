"""alert lifecycle in data time: alerts' data span, the rules' outbox of runs, the verdict log

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 10:00:00

* ``alerts.data_start`` / ``data_end`` / ``resolved_window_end``: the data time an incident began,
  was last seen and was resolved (window bounds), apart from the wall-clock columns. Existing
  alerts take their last window as both ends.
* ``monitor_runs.evaluated_at``: NULL marks a finished run the rules have not judged yet (the
  outbox a crash cannot lose). Existing finished runs count as judged.
* ``rule_verdicts``: one row per (rule, model version, window): the verdict the rule last reached.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from driftscope.storage import models as storage_models

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_TIME = storage_models.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('data_start', _TIME, nullable=True))
        batch_op.add_column(sa.Column('data_end', _TIME, nullable=True))
        batch_op.add_column(sa.Column('resolved_window_end', _TIME, nullable=True))
    op.execute('UPDATE alerts SET data_start = window_start, data_end = window_end')
    op.execute("UPDATE alerts SET resolved_window_end = window_end WHERE status = 'resolved'")
    with op.batch_alter_table('monitor_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('evaluated_at', _TIME, nullable=True))
        batch_op.create_index(batch_op.f('ix_monitor_runs_evaluated_at'), ['evaluated_at'], unique=False)
    op.execute("UPDATE monitor_runs SET evaluated_at = COALESCE(finished_at, started_at) WHERE status <> 'running'")
    op.create_table('rule_verdicts',
    sa.Column('id', _ID, nullable=False),
    sa.Column('rule', sa.String(length=200), nullable=False),
    sa.Column('model_version_id', _ID, nullable=False),
    sa.Column('window_start', _TIME, nullable=False),
    sa.Column('window_end', _TIME, nullable=False),
    sa.Column('run_id', _ID, nullable=True),
    sa.Column('verdict', sa.String(length=10), nullable=False),
    sa.Column('clearance', sa.Float(), nullable=True),
    sa.Column('effect', sa.Float(), nullable=True),
    sa.Column('title', sa.Text(), server_default='', nullable=False),
    sa.Column('alert_id', _ID, nullable=True),
    sa.Column('evaluated_at', _TIME, server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], name=op.f('fk_rule_verdicts_alert_id_alerts'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['model_version_id'], ['model_versions.id'],
                            name=op.f('fk_rule_verdicts_model_version_id_model_versions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['run_id'], ['monitor_runs.id'], name=op.f('fk_rule_verdicts_run_id_monitor_runs'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rule_verdicts')),
    sa.UniqueConstraint('rule', 'model_version_id', 'window_start', 'window_end',
                        name=op.f('uq_rule_verdicts_rule_model_version_id_window_start_window_end'))
    )


def downgrade() -> None:
    op.drop_table('rule_verdicts')
    with op.batch_alter_table('monitor_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_monitor_runs_evaluated_at'))
        batch_op.drop_column('evaluated_at')
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_column('resolved_window_end')
        batch_op.drop_column('data_end')
        batch_op.drop_column('data_start')
