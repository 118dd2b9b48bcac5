"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-21 13:22:55.471021
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
from driftscope.storage import models as storage_models

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('collected_files',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('fingerprint', sa.String(length=200), nullable=False),
    sa.Column('offset', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('rows_read', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('updated_at', storage_models.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_collected_files')),
    sa.UniqueConstraint('source', 'path', name=op.f('uq_collected_files_source_path'))
    )
    op.create_table('collector_runs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('started_at', storage_models.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('finished_at', storage_models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('rows_read', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('rows_stored', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('rows_duplicate', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('rows_quarantined', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_collector_runs'))
    )
    with op.batch_alter_table('collector_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_collector_runs_source'), ['source', 'started_at'], unique=False)

    op.create_table('collector_state',
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('watermark', sa.Text(), nullable=True),
    sa.Column('updated_at', storage_models.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.PrimaryKeyConstraint('source', name=op.f('pk_collector_state'))
    )
    op.create_table('job_leases',
    sa.Column('job', sa.String(length=200), nullable=False),
    sa.Column('holder', sa.String(length=200), nullable=False),
    sa.Column('acquired_at', storage_models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', storage_models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('job', name=op.f('pk_job_leases'))
    )
    op.create_table('models',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('task', sa.String(length=40), nullable=False),
    sa.Column('retrain_webhook', sa.String(length=200), nullable=True),
    sa.Column('created_at', storage_models.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_models')),
    sa.UniqueConstraint('name', name=op.f('uq_models_name'))
    )
    op.create_table('scheduler_heartbeat',
    sa.Column('instance', sa.String(length=200), nullable=False),
    sa.Column('started_at', storage_models.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('beat_at', storage_models.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('next_runs', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), server_default='{}', nullable=False),
    sa.PrimaryKeyConstraint('instance', name=op.f('pk_scheduler_heartbeat'))
    )
    op.create_table('ground_truth',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('model_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('prediction_id', sa.String(length=200), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('ts', storage_models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revision', sa.Integer(), server_default='1', nullable=False),
    sa.Column('received_at', storage_models.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', storage_models.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['model_id'], ['models.id'], name=op.f('fk_ground_truth_model_id_models'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ground_truth')),
    sa.UniqueConstraint('model_id', 'prediction_id', name=op.f('uq_ground_truth_model_id_prediction_id'))
    )
    with op.batch_alter_table('ground_truth', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ground_truth_model_id'), ['model_id', 'ts'], unique=False)

    op.create_table('model_versions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('model_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('version', sa.String(length=100), nullable=False),
    sa.Column('status', sa.String(length=20), server_default='active', nullable=False),
    sa.Column('column_schema', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('schema_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', storage_models.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['model_id'], ['models.id'], name=op.f('fk_model_versions_model_id_models'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_model_versions')),
    sa.UniqueConstraint('model_id', 'version', name=op.f('uq_model_versions_model_id_version'))
    )
    op.create_table('monitors',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('model_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('schedule', sa.String(length=100), nullable=True),
    sa.Column('window_seconds', sa.Integer(), nullable=False),
    sa.Column('settings', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', storage_models.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', storage_models.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['model_id'], ['models.id'], name=op.f('fk_monitors_model_id_models'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monitors')),
    sa.UniqueConstraint('name', name=op.f('uq_monitors_name'))
    )
    op.create_table('quarantine',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('model_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('records', sa.String(length=20), nullable=False),
    sa.Column('location', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('created_at', storage_models.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['model_id'], ['models.id'], name=op.f('fk_quarantine_model_id_models'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quarantine'))
    )
    with op.batch_alter_table('quarantine', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quarantine_source'), ['source', 'created_at'], unique=False)

    op.create_table('alerts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('rule', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('model_version_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('severity', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('evidence', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), server_default='{}', nullable=False),
    sa.Column('fire_count', sa.Integer(), server_default='1', nullable=False),
    sa.Column('clean_runs', sa.Integer(), server_default='0', nullable=False),
    sa.Column('window_start', storage_models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('window_end', storage_models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('first_seen', storage_models.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('last_seen', storage_models.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('last_notified_at', storage_models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', storage_models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['model_version_id'], ['model_versions.id'], name=op.f('fk_alerts_model_version_id_model_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alerts'))
    )
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alerts_rule'), ['rule', 'model_version_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_alerts_status'), ['status', 'severity'], unique=False)

    op.create_table('label_revisions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('ground_truth_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('old_label', sa.String(length=200), nullable=False),
    sa.Column('new_label', sa.String(length=200), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('changed_at', storage_models.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['ground_truth_id'], ['ground_truth.id'], name=op.f('fk_label_revisions_ground_truth_id_ground_truth'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_label_revisions'))
    )
    with op.batch_alter_table('label_revisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_label_revisions_ground_truth_id'), ['ground_truth_id'], unique=False)

    op.create_table('monitor_runs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('monitor_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('model_version_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('window_start', storage_models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('window_end', storage_models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('n_rows', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('n_reference', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('n_labels', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('summary', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), server_default='{}', nullable=False),
    sa.Column('started_at', storage_models.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('finished_at', storage_models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('duration_s', sa.Float(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['model_version_id'], ['model_versions.id'], name=op.f('fk_monitor_runs_model_version_id_model_versions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['monitor_id'], ['monitors.id'], name=op.f('fk_monitor_runs_monitor_id_monitors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monitor_runs')),
    sa.UniqueConstraint('monitor_id', 'model_version_id', 'window_start', 'window_end', name=op.f('uq_monitor_runs_monitor_id_model_version_id_window_start_window_end'))
    )
    with op.batch_alter_table('monitor_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_monitor_runs_model_version_id'), ['model_version_id', 'window_end'], unique=False)

    op.create_table('prediction_chunks',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('model_version_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('min_ts', storage_models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('max_ts', storage_models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('n_rows', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('data', sa.LargeBinary().with_variant(postgresql.BYTEA(), 'postgresql'), nullable=False),
    sa.Column('created_at', storage_models.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['model_version_id'], ['model_versions.id'], name=op.f('fk_prediction_chunks_model_version_id_model_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_prediction_chunks'))
    )
    with op.batch_alter_table('prediction_chunks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_prediction_chunks_model_version_id'), ['model_version_id', 'min_ts', 'max_ts'], unique=False)

    op.create_table('prediction_volume',
    sa.Column('model_version_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('hour', storage_models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('n_rows', sa.BigInteger(), nullable=False),
    sa.Column('n_new_categories', sa.BigInteger(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['model_version_id'], ['model_versions.id'], name=op.f('fk_prediction_volume_model_version_id_model_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('model_version_id', 'hour', name=op.f('pk_prediction_volume'))
    )
    op.create_table('reference_datasets',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('model_version_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('n_rows', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary().with_variant(postgresql.BYTEA(), 'postgresql'), nullable=False),
    sa.Column('created_at', storage_models.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['model_version_id'], ['model_versions.id'], name=op.f('fk_reference_datasets_model_version_id_model_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reference_datasets')),
    sa.UniqueConstraint('model_version_id', name=op.f('uq_reference_datasets_model_version_id'))
    )
    op.create_table('alert_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('alert_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('actor', sa.String(length=200), server_default='driftscope', nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', storage_models.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], name=op.f('fk_alert_events_alert_id_alerts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_events'))
    )
    with op.batch_alter_table('alert_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_events_alert_id'), ['alert_id'], unique=False)

    op.create_table('detector_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('run_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('detector', sa.String(length=40), nullable=False),
    sa.Column('detected_at', storage_models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('details', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), server_default='{}', nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['monitor_runs.id'], name=op.f('fk_detector_events_run_id_monitor_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_detector_events'))
    )
    with op.batch_alter_table('detector_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_detector_events_run_id'), ['run_id'], unique=False)

    op.create_table('drift_results',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('run_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('feature', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=20), server_default='feature', nullable=False),
    sa.Column('feature_type', sa.String(length=20), nullable=False),
    sa.Column('method', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('statistic', sa.Float(), nullable=True),
    sa.Column('p_value', sa.Float(), nullable=True),
    sa.Column('threshold', sa.Float(), nullable=False),
    sa.Column('drifted', sa.Boolean(), nullable=False),
    sa.Column('missing_share_reference', sa.Float(), server_default='0', nullable=False),
    sa.Column('missing_share_current', sa.Float(), server_default='0', nullable=False),
    sa.Column('out_of_range_share', sa.Float(), nullable=True),
    sa.Column('new_categories', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), server_default='[]', nullable=False),
    sa.Column('histogram', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), server_default='{}', nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['monitor_runs.id'], name=op.f('fk_drift_results_run_id_monitor_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_drift_results')),
    sa.UniqueConstraint('run_id', 'feature', name=op.f('uq_drift_results_run_id_feature'))
    )
    op.create_table('metric_values',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('run_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('metric', sa.String(length=80), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('ci_low', sa.Float(), nullable=True),
    sa.Column('ci_high', sa.Float(), nullable=True),
    sa.Column('reference_value', sa.Float(), nullable=True),
    sa.Column('threshold', sa.Float(), nullable=True),
    sa.Column('p_value', sa.Float(), nullable=True),
    sa.Column('flagged', sa.Boolean(), server_default='0', nullable=False),
    sa.Column('n', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('details', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), server_default='{}', nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['monitor_runs.id'], name=op.f('fk_metric_values_run_id_monitor_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_metric_values')),
    sa.UniqueConstraint('run_id', 'metric', name=op.f('uq_metric_values_run_id_metric'))
    )
    op.create_table('predictions',
    sa.Column('model_version_id', sa.BigInteger(), nullable=False),
    sa.Column('prediction_id', sa.String(length=200), nullable=False),
    sa.Column('ts', storage_models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('chunk_id', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('model_version_id', 'prediction_id', name=op.f('pk_predictions'))
    )
    with op.batch_alter_table('predictions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_predictions_chunk_id'), ['chunk_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_predictions_model_version_id'), ['model_version_id', 'ts'], unique=False)

    op.create_table('retraining_requests',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('model_version_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('trigger', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('requested_by', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('idempotency_key', sa.String(length=100), nullable=False),
    sa.Column('evidence', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), server_default='{}', nullable=False),
    sa.Column('alert_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', storage_models.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', storage_models.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_by', sa.String(length=200), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], name=op.f('fk_retraining_requests_alert_id_alerts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['model_version_id'], ['model_versions.id'], name=op.f('fk_retraining_requests_model_version_id_model_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_retraining_requests')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_retraining_requests_idempotency_key'))
    )
    with op.batch_alter_table('retraining_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_retraining_requests_model_version_id'), ['model_version_id', 'created_at'], unique=False)

    op.create_table('notifications',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('channel', sa.String(length=200), nullable=False),
    sa.Column('alert_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('retraining_request_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('payload', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('next_attempt_at', storage_models.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('created_at', storage_models.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('delivered_at', storage_models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], name=op.f('fk_notifications_alert_id_alerts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['retraining_request_id'], ['retraining_requests.id'], name=op.f('fk_notifications_retraining_request_id_retraining_requests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notifications_alert_id'), ['alert_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notifications_retraining_request_id'), ['retraining_request_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notifications_status'), ['status', 'next_attempt_at'], unique=False)

    op.create_table('delivery_attempts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('notification_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('response', sa.Text(), nullable=True),
    sa.Column('duration_ms', sa.Float(), nullable=False),
    sa.Column('created_at', storage_models.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['notification_id'], ['notifications.id'], name=op.f('fk_delivery_attempts_notification_id_notifications'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery_attempts'))
    )
    with op.batch_alter_table('delivery_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delivery_attempts_notification_id'), ['notification_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('delivery_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delivery_attempts_notification_id'))

    op.drop_table('delivery_attempts')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notifications_status'))
        batch_op.drop_index(batch_op.f('ix_notifications_retraining_request_id'))
        batch_op.drop_index(batch_op.f('ix_notifications_alert_id'))

    op.drop_table('notifications')
    with op.batch_alter_table('retraining_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_retraining_requests_model_version_id'))

    op.drop_table('retraining_requests')
    with op.batch_alter_table('predictions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_predictions_model_version_id'))
        batch_op.drop_index(batch_op.f('ix_predictions_chunk_id'))

    op.drop_table('predictions')
    op.drop_table('metric_values')
    op.drop_table('drift_results')
    with op.batch_alter_table('detector_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_detector_events_run_id'))

    op.drop_table('detector_events')
    with op.batch_alter_table('alert_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alert_events_alert_id'))

    op.drop_table('alert_events')
    op.drop_table('reference_datasets')
    op.drop_table('prediction_volume')
    with op.batch_alter_table('prediction_chunks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_prediction_chunks_model_version_id'))

    op.drop_table('prediction_chunks')
    with op.batch_alter_table('monitor_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_monitor_runs_model_version_id'))

    op.drop_table('monitor_runs')
    with op.batch_alter_table('label_revisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_label_revisions_ground_truth_id'))

    op.drop_table('label_revisions')
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alerts_status'))
        batch_op.drop_index(batch_op.f('ix_alerts_rule'))

    op.drop_table('alerts')
    with op.batch_alter_table('quarantine', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quarantine_source'))

    op.drop_table('quarantine')
    op.drop_table('monitors')
    op.drop_table('model_versions')
    with op.batch_alter_table('ground_truth', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ground_truth_model_id'))

    op.drop_table('ground_truth')
    op.drop_table('scheduler_heartbeat')
    op.drop_table('models')
    op.drop_table('job_leases')
    op.drop_table('collector_state')
    with op.batch_alter_table('collector_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_collector_runs_source'))

    op.drop_table('collector_runs')
    op.drop_table('collected_files')
