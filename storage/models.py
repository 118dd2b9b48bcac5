"""SQLAlchemy 2.x declarative models of the store.

Conventions: every timestamp is timezone-aware UTC (:class:`UTCDateTime`) with a server default
where the database stamps it; constraint names follow :data:`NAMING_CONVENTION`; relationships are
``lazy="raise"`` so no query hides in attribute access.

Feature values are stored columnar: each ingested batch becomes one Arrow IPC blob per model version
and UTC day (:class:`PredictionChunk`), and :class:`Prediction` keeps one narrow row per prediction
(id, timestamp, chunk) for uniqueness, label joins and counts. Reading a 1M-row window decodes a few
blobs instead of parsing a million rows (``bench/store_read_bench.py`` measures both).
"""

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import BYTEA, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

BigId = BigInteger().with_variant(Integer, "sqlite")
Json = JSON().with_variant(JSONB(), "postgresql")
Blob = LargeBinary().with_variant(BYTEA(), "postgresql")
PredictionId = String(200).with_variant(String(200, collation="C"), "postgresql")
"""A prediction id: opaque text, compared bytewise on PostgreSQL (``COLLATE "C"``) in keys and joins."""


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as UTC and always returned timezone-aware (UTC).

    Naive datetimes are refused on the way in: a naive timestamp is ambiguous.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass a timezone-aware (UTC) timestamp")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _now() -> Any:
    return func.current_timestamp()


class Base(DeclarativeBase):
    """Declarative base with the naming convention."""

    # every mapped class here maps one Table (never a join or a select), so its DML methods type-check
    __table__: ClassVar[Table]
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime, dict[str, Any]: Json, list[Any]: Json}


class Model(Base):
    """A model, e.g. ``credit-default``."""

    __tablename__ = "models"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    task: Mapped[str] = mapped_column(String(40))
    retrain_webhook: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(server_default=_now())
    versions: Mapped[list["ModelVersion"]] = relationship(back_populates="model", lazy="raise")


class ModelVersion(Base):
    """A deployed version of a model with its column schema and status."""

    __tablename__ = "model_versions"
    __table_args__ = (UniqueConstraint("model_id", "version"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"))
    version: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), server_default="active")
    column_schema: Mapped[dict[str, Any]]
    schema_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(server_default=_now())
    model: Mapped[Model] = relationship(back_populates="versions", lazy="raise")


class ReferenceDataset(Base):
    """The reference rows of a model version, as one Arrow IPC blob."""

    __tablename__ = "reference_datasets"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    model_version_id: Mapped[int] = mapped_column(
        ForeignKey("model_versions.id", ondelete="CASCADE"), unique=True
    )
    source: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    n_rows: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(Blob)
    created_at: Mapped[datetime] = mapped_column(server_default=_now())


class PredictionChunk(Base):
    """Columnar feature values of one batch, one model version and one UTC day (Arrow IPC).

    On PostgreSQL ``data`` is ``STORAGE EXTERNAL`` (migration 0002; SQLAlchemy has no way to say
    it): the blobs are LZ4-compressed already, so TOAST stores them without compressing again.
    """

    __tablename__ = "prediction_chunks"
    __table_args__ = (Index(None, "model_version_id", "min_ts", "max_ts"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    model_version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id", ondelete="CASCADE"))
    min_ts: Mapped[datetime]
    max_ts: Mapped[datetime]
    n_rows: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(200))
    data: Mapped[bytes] = mapped_column(Blob)
    created_at: Mapped[datetime] = mapped_column(server_default=_now())


class Prediction(Base):
    """One logged prediction: unique per (model version, prediction id), its timestamp and chunk.

    This is the table a collector bulk-loads, so it carries only what queries need and every
    index costs each inserted row (``bench/collect_bench.py``): no foreign keys (on PostgreSQL
    their two per-row checks halved COPY throughput), no index on ``chunk_id`` (only a partly
    duplicate batch asks which of its ids a chunk holds, and it looks them up by primary key),
    and ids that compare bytewise on PostgreSQL. Integrity comes from the one writer,
    :func:`driftscope.storage.predictions.write_predictions`, which writes a chunk and its index rows in one
    transaction; nothing deletes model versions or chunks that rows point to.
    """

    __tablename__ = "predictions"
    __table_args__ = (Index(None, "model_version_id", "ts"),)
    model_version_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    prediction_id: Mapped[str] = mapped_column(PredictionId, primary_key=True)
    ts: Mapped[datetime]
    chunk_id: Mapped[int] = mapped_column(BigInteger)


class PredictionVolume(Base):
    """Predictions stored per model version and UTC hour, kept up to date at ingest."""

    __tablename__ = "prediction_volume"
    model_version_id: Mapped[int] = mapped_column(
        ForeignKey("model_versions.id", ondelete="CASCADE"), primary_key=True
    )
    hour: Mapped[datetime] = mapped_column(primary_key=True)
    n_rows: Mapped[int] = mapped_column(BigInteger)
    n_new_categories: Mapped[int] = mapped_column(BigInteger, server_default="0")


class GroundTruth(Base):
    """The label of a prediction; arrives late, may be corrected (see :class:`LabelRevision`)."""

    __tablename__ = "ground_truth"
    __table_args__ = (UniqueConstraint("model_id", "prediction_id"), Index(None, "model_id", "ts"))
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"))
    prediction_id: Mapped[str] = mapped_column(PredictionId)
    label: Mapped[str] = mapped_column(String(200))
    ts: Mapped[datetime]
    revision: Mapped[int] = mapped_column(Integer, server_default="1")
    received_at: Mapped[datetime] = mapped_column(server_default=_now())
    updated_at: Mapped[datetime] = mapped_column(server_default=_now())


class Outcome(Base):
    """A business result of a prediction (a click, revenue): arrives late, joins by prediction id; first wins.

    ``value`` is 0/1 for binary outcomes, the number for numeric ones; ``ts`` is when it happened
    (the row's timestamp, else the time it was received).
    """

    __tablename__ = "outcomes"
    __table_args__ = (UniqueConstraint("model_id", "prediction_id", "outcome"), Index(None, "model_id", "ts"))
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"))
    prediction_id: Mapped[str] = mapped_column(PredictionId)
    outcome: Mapped[str] = mapped_column(String(60))
    value: Mapped[float] = mapped_column(Float)
    ts: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(server_default=_now())


class ExperimentLook(Base):
    """An experiment as seen after one window (:mod:`driftscope.monitors.experiments`), one row per window.

    ``arms`` keeps the window's own figures per arm (``{"control": {"n", "total", "total_sq",
    "requests", <guardrail>: value}, "treatment": {...}}``), from which the cumulative look is
    recomputed; the look's columns (``n_*`` and the effect with its confidence sequence bounds) are
    cumulative over the experiment's windows so far. ``decided_at`` is the end of the window in which
    the verdict was reached; ``alert_id`` the alert an ``experiment_decided`` rule raised for it.
    """

    __tablename__ = "experiment_looks"
    __table_args__ = (UniqueConstraint("experiment", "treatment_version_id", "window_start"),
                      Index(None, "experiment", "window_end"))
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    experiment: Mapped[str] = mapped_column(String(200))
    control_version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id", ondelete="CASCADE"))
    treatment_version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id", ondelete="CASCADE"))
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    arms: Mapped[dict[str, Any]] = mapped_column(server_default="{}")
    n_control: Mapped[int] = mapped_column(BigInteger)
    n_treatment: Mapped[int] = mapped_column(BigInteger)
    control_mean: Mapped[float | None] = mapped_column(Float)
    treatment_mean: Mapped[float | None] = mapped_column(Float)
    effect: Mapped[float | None] = mapped_column(Float)
    low: Mapped[float | None] = mapped_column(Float)
    high: Mapped[float | None] = mapped_column(Float)
    verdict: Mapped[str] = mapped_column(String(30))
    decided: Mapped[bool] = mapped_column(Boolean)
    decided_at: Mapped[datetime | None]
    reason: Mapped[str] = mapped_column(Text)
    breaches: Mapped[list[Any]] = mapped_column(server_default="[]")
    samples_needed: Mapped[float | None] = mapped_column(Float)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id", ondelete="SET NULL"))
    computed_at: Mapped[datetime] = mapped_column(server_default=_now())


class LabelRevision(Base):
    """A correction of a label: the old and the new value."""

    __tablename__ = "label_revisions"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ground_truth_id: Mapped[int] = mapped_column(ForeignKey("ground_truth.id", ondelete="CASCADE"), index=True)
    old_label: Mapped[str] = mapped_column(String(200))
    new_label: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(200))
    changed_at: Mapped[datetime] = mapped_column(server_default=_now())


class QuarantinedRow(Base):
    """A row that failed validation, kept with its reason and where it came from."""

    __tablename__ = "quarantine"
    __table_args__ = (Index(None, "source", "created_at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source: Mapped[str] = mapped_column(String(200))
    model_id: Mapped[int | None] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"))
    records: Mapped[str] = mapped_column(String(20))
    location: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=_now())


class CollectorState(Base):
    """A source's watermark or cursor, committed with the rows it covers."""

    __tablename__ = "collector_state"
    source: Mapped[str] = mapped_column(String(200), primary_key=True)
    watermark: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(server_default=_now())


class CollectedFile(Base):
    """What a files source has taken from one file: identity and how far it has read."""

    __tablename__ = "collected_files"
    __table_args__ = (UniqueConstraint("source", "path"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source: Mapped[str] = mapped_column(String(200))
    path: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(BigInteger)
    fingerprint: Mapped[str] = mapped_column(String(200))
    offset: Mapped[int] = mapped_column(BigInteger, server_default="0")
    rows_read: Mapped[int] = mapped_column(BigInteger, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(server_default=_now())


class CollectorRun(Base):
    """One run of one source, with the row-count identity read = stored + duplicates + conflicts + quarantined."""

    __tablename__ = "collector_runs"
    __table_args__ = (Index(None, "source", "started_at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[datetime] = mapped_column(server_default=_now())
    finished_at: Mapped[datetime | None]
    rows_read: Mapped[int] = mapped_column(BigInteger, server_default="0")
    rows_stored: Mapped[int] = mapped_column(BigInteger, server_default="0")
    rows_duplicate: Mapped[int] = mapped_column(BigInteger, server_default="0")
    rows_quarantined: Mapped[int] = mapped_column(BigInteger, server_default="0")
    rows_conflict: Mapped[int] = mapped_column(BigInteger, server_default="0")
    error: Mapped[str | None] = mapped_column(Text)


class MonitorDefinition(Base):
    """A configured monitor, registered by ``driftscope apply``."""

    __tablename__ = "monitors"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    schedule: Mapped[str | None] = mapped_column(String(100))
    window_seconds: Mapped[int] = mapped_column(Integer)
    settings: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(server_default=_now())
    updated_at: Mapped[datetime] = mapped_column(server_default=_now())


class MonitorRun(Base):
    """One computation of one monitor for one model version and window."""

    __tablename__ = "monitor_runs"
    __table_args__ = (
        UniqueConstraint("monitor_id", "model_version_id", "window_start", "window_end"),
        Index(None, "model_version_id", "window_end"),
        Index(None, "evaluated_at"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    monitor_id: Mapped[int] = mapped_column(ForeignKey("monitors.id", ondelete="CASCADE"))
    model_version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id", ondelete="CASCADE"))
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20))
    n_rows: Mapped[int] = mapped_column(BigInteger, server_default="0")
    n_reference: Mapped[int] = mapped_column(BigInteger, server_default="0")
    n_labels: Mapped[int] = mapped_column(BigInteger, server_default="0")
    summary: Mapped[dict[str, Any]] = mapped_column(server_default="{}")
    started_at: Mapped[datetime] = mapped_column(server_default=_now())
    """When the run's results were stored (the store's clock)."""
    read_at: Mapped[datetime | None]
    """The store's clock just before the run read its inputs: evidence (labels, outcomes, profiles)
    stamped at or after it may be missing from the results, so it marks the window stale. Set by
    every run since 0017, which filled it from ``started_at`` for older runs."""
    finished_at: Mapped[datetime | None]
    duration_s: Mapped[float | None] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(Text)
    evaluated_at: Mapped[datetime | None]
    """When the alert rules judged this run; NULL: a finished run still in the rules' outbox."""


class DriftResult(Base):
    """One (run, feature, test) result: statistic, p-value, threshold, verdict, quality figures."""

    __tablename__ = "drift_results"
    __table_args__ = (UniqueConstraint("run_id", "feature"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("monitor_runs.id", ondelete="CASCADE"))
    feature: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20), server_default="feature")
    feature_type: Mapped[str] = mapped_column(String(20))
    method: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))
    statistic: Mapped[float | None] = mapped_column(Float)
    p_value: Mapped[float | None] = mapped_column(Float)
    threshold: Mapped[float] = mapped_column(Float)
    drifted: Mapped[bool] = mapped_column(Boolean)
    missing_share_reference: Mapped[float] = mapped_column(Float, server_default="0")
    missing_share_current: Mapped[float] = mapped_column(Float, server_default="0")
    out_of_range_share: Mapped[float | None] = mapped_column(Float)
    new_categories: Mapped[list[Any]] = mapped_column(server_default="[]")
    histogram: Mapped[dict[str, Any]] = mapped_column(server_default="{}")
    threshold_mode: Mapped[str] = mapped_column(String(20), server_default="fixed")
    q_value: Mapped[float | None] = mapped_column(Float)
    effect_size: Mapped[float | None] = mapped_column(Float)
    effect_size_kind: Mapped[str | None] = mapped_column(String(20))
    path: Mapped[str] = mapped_column(String(20), server_default="rows")
    """How the result was computed: ``rows`` (the window's raw rows) or ``profile`` (its stored profiles)."""
    error_bound: Mapped[float | None] = mapped_column(Float)
    """Profile path: the bound on the statistic's error from the quantile sketches (NULL when exact)."""


class NullDistribution(Base):
    """Calibrated null draws of one (version, column, method, size band): float64 little-endian, sorted."""

    __tablename__ = "null_distributions"
    __table_args__ = (UniqueConstraint("model_version_id", "feature", "method", "size_band", "n_draws", "seed",
                                       name="uq_null_distributions_key"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    model_version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id", ondelete="CASCADE"))
    feature: Mapped[str] = mapped_column(String(200))
    method: Mapped[str] = mapped_column(String(40))
    size_band: Mapped[int] = mapped_column(Integer)
    n_window: Mapped[int] = mapped_column(BigInteger)
    n_reference: Mapped[int] = mapped_column(BigInteger)
    n_draws: Mapped[int] = mapped_column(Integer)
    seed: Mapped[int] = mapped_column(Integer)
    draws: Mapped[bytes] = mapped_column(Blob)
    created_at: Mapped[datetime] = mapped_column(server_default=_now())


class MetricValue(Base):
    """A performance or concept-drift figure of one run: value, bootstrap bounds, reference, verdict.

    For an ``estimated_performance`` run ``value`` is the estimate, ``ci_low``/``ci_high`` its band,
    ``state`` says whether labels have landed and ``realized_value`` holds the realized metric then.
    """

    __tablename__ = "metric_values"
    __table_args__ = (UniqueConstraint("run_id", "metric"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("monitor_runs.id", ondelete="CASCADE"))
    metric: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(20))
    value: Mapped[float | None] = mapped_column(Float)
    ci_low: Mapped[float | None] = mapped_column(Float)
    ci_high: Mapped[float | None] = mapped_column(Float)
    reference_value: Mapped[float | None] = mapped_column(Float)
    threshold: Mapped[float | None] = mapped_column(Float)
    p_value: Mapped[float | None] = mapped_column(Float)
    flagged: Mapped[bool] = mapped_column(Boolean, server_default="0")
    n: Mapped[int] = mapped_column(BigInteger, server_default="0")
    details: Mapped[dict[str, Any]] = mapped_column(server_default="{}")
    #: estimated_performance runs: ``estimated`` or ``realized`` (None for measured metrics)
    state: Mapped[str | None] = mapped_column(String(20))
    #: the realized metric stored beside the estimate (``value``) once the window has its labels
    realized_value: Mapped[float | None] = mapped_column(Float)
    path: Mapped[str] = mapped_column(String(20), server_default="rows")
    """How the figure was computed: ``rows`` (the window's labelled rows) or ``profile`` (its label profiles)."""
    error_bound: Mapped[float | None] = mapped_column(Float)
    """Profile path: the bound on the value's error from binning (ROC AUC; NULL when exact)."""


class DetectorEvent(Base):
    """A change point found by a concept-drift detector on the error stream."""

    __tablename__ = "detector_events"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("monitor_runs.id", ondelete="CASCADE"), index=True)
    detector: Mapped[str] = mapped_column(String(40))
    detected_at: Mapped[datetime]
    details: Mapped[dict[str, Any]] = mapped_column(server_default="{}")


class Alert(Base):
    """One alert per incident of (rule, model version); later breaching windows update it.

    Wall-clock times (``first_seen``: created, ``last_seen``: last changed, ``last_notified_at``,
    ``resolved_at``) are kept apart from data time: ``data_start`` is the start of the incident's
    first breaching window, ``data_end`` the end of its newest breaching window, and
    ``resolved_window_end`` the end of the window after which it was resolved.
    """

    __tablename__ = "alerts"
    __table_args__ = (Index(None, "rule", "model_version_id", "status"), Index(None, "status", "severity"))
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    rule: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    model_version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id", ondelete="CASCADE"))
    severity: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(Text)
    evidence: Mapped[dict[str, Any]] = mapped_column(server_default="{}")
    fire_count: Mapped[int] = mapped_column(Integer, server_default="1")
    clean_runs: Mapped[int] = mapped_column(Integer, server_default="0")
    window_start: Mapped[datetime | None]
    window_end: Mapped[datetime | None]
    first_seen: Mapped[datetime] = mapped_column(server_default=_now())
    last_seen: Mapped[datetime] = mapped_column(server_default=_now())
    last_notified_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    data_start: Mapped[datetime | None]
    data_end: Mapped[datetime | None]
    resolved_window_end: Mapped[datetime | None]


class RuleVerdict(Base):
    """What one rule concluded about one window of one model version, as last evaluated.

    ``verdict`` is ``breach``, ``clean`` or ``none`` (no verdict: no data, too few labels, failed
    run). ``clearance`` is how far the value is on the clean side of the threshold, as a share of
    the threshold (negative when breaching); ``effect`` is the finding's effect size. The log makes
    rule state a function of the results in window order, and shows which verdicts a recomputation
    changed.
    """

    __tablename__ = "rule_verdicts"
    __table_args__ = (UniqueConstraint("rule", "model_version_id", "window_start", "window_end"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    rule: Mapped[str] = mapped_column(String(200))
    model_version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id", ondelete="CASCADE"))
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    run_id: Mapped[int | None] = mapped_column(ForeignKey("monitor_runs.id", ondelete="SET NULL"))
    verdict: Mapped[str] = mapped_column(String(10))
    clearance: Mapped[float | None] = mapped_column(Float)
    effect: Mapped[float | None] = mapped_column(Float)
    title: Mapped[str] = mapped_column(Text, server_default="")
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id", ondelete="SET NULL"))
    evaluated_at: Mapped[datetime] = mapped_column(server_default=_now())


class AlertEvent(Base):
    """History of an alert: opened, fired again, notified, acknowledged, resolved (with actor, note)."""

    __tablename__ = "alert_events"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(200), server_default="driftscope")
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=_now())


class RetrainingRequest(Base):
    """A request to retrain a model version; status pending -> sent -> acknowledged -> completed/failed."""

    __tablename__ = "retraining_requests"
    __table_args__ = (Index(None, "model_version_id", "created_at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    model_version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id", ondelete="CASCADE"))
    trigger: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    evidence: Mapped[dict[str, Any]] = mapped_column(server_default="{}")
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(server_default=_now())
    updated_at: Mapped[datetime] = mapped_column(server_default=_now())
    updated_by: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)


class Notification(Base):
    """A message owed to a channel (alert or retraining request), retried until delivered."""

    __tablename__ = "notifications"
    __table_args__ = (Index(None, "status", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(200))
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    retraining_request_id: Mapped[int | None] = mapped_column(
        ForeignKey("retraining_requests.id", ondelete="CASCADE"), index=True
    )
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(server_default=_now())
    created_at: Mapped[datetime] = mapped_column(server_default=_now())
    delivered_at: Mapped[datetime | None]


class DeliveryAttempt(Base):
    """One attempt to deliver a notification: status code, error, duration."""

    __tablename__ = "delivery_attempts"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id", ondelete="CASCADE"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    ok: Mapped[bool] = mapped_column(Boolean)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    response: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(server_default=_now())


class SchedulerHeartbeat(Base):
    """The scheduler's last beat and its next planned runs, for the dashboard."""

    __tablename__ = "scheduler_heartbeat"
    instance: Mapped[str] = mapped_column(String(200), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(server_default=_now())
    beat_at: Mapped[datetime] = mapped_column(server_default=_now())
    next_runs: Mapped[dict[str, Any]] = mapped_column(server_default="{}")


class JobLease(Base):
    """A lease on a job: at most one holder across processes until ``expires_at``."""

    __tablename__ = "job_leases"
    job: Mapped[str] = mapped_column(String(200), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    acquired_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class JobClaim(Base):
    """A scheduled slot that has run: one row per (job, scheduled time), so no slot runs twice.

    The lease stops two processes running a job at once; the claim stops the second of two schedulers
    from running the same scheduled time again after the first finished it.
    """

    __tablename__ = "job_claims"
    job: Mapped[str] = mapped_column(String(200), primary_key=True)
    scheduled_at: Mapped[datetime] = mapped_column(primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    claimed_at: Mapped[datetime] = mapped_column(server_default=_now())


class LoginThrottle(Base):
    """Failed dashboard sign-ins of one user name or one client, shared by every dashboard process.

    ``key`` is a SHA-256 digest (the name or address itself is not stored).
    """

    __tablename__ = "login_throttle"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failure_at: Mapped[datetime]
    locked_until: Mapped[datetime]


class StreamOffset(Base):
    """The next offset to read of one partition of a stream source's topic.

    Advanced in the same transaction as the rows (and quarantined rows) of the messages before it,
    so a committed offset and the rows it covers are never apart (the idempotent-sink pattern).
    ``last_ts`` is the broker timestamp of the last message taken (UTC), for the time-lag bound.
    """

    __tablename__ = "stream_offsets"
    source: Mapped[str] = mapped_column(String(200), primary_key=True)
    topic: Mapped[str] = mapped_column(String(255), primary_key=True)
    partition: Mapped[int] = mapped_column(Integer, primary_key=True)
    next_offset: Mapped[int] = mapped_column(BigInteger)
    last_ts: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(server_default=_now())


class StreamLag(Base):
    """How far behind one partition was at the end of a collector run: messages, and seconds at most."""

    __tablename__ = "stream_lag"
    __table_args__ = (Index(None, "source", "recorded_at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("collector_runs.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(200))
    topic: Mapped[str] = mapped_column(String(255))
    partition: Mapped[int] = mapped_column(Integer)
    next_offset: Mapped[int] = mapped_column(BigInteger)
    end_offset: Mapped[int] = mapped_column(BigInteger)
    lag_messages: Mapped[int] = mapped_column(BigInteger)
    lag_seconds: Mapped[float] = mapped_column(Float)
    recorded_at: Mapped[datetime] = mapped_column(server_default=_now())


class ArchiveSegment(Base):
    """Raw rows of one model version and UTC day moved to a verified Parquet file of the archive.

    Recorded in the transaction that deletes the rows from the store, after the file was read
    back and matched ``sha256`` and ``n_rows``; ``restored_at`` is set when the rows were put back.
    ``kind`` is ``predictions``, ``labels``, ``label_revisions``, ``outcomes`` or ``id_filter`` (a Bloom
    filter of the predictions' ids: :mod:`driftscope.storage.archive_ids`).
    """

    __tablename__ = "archive_segments"
    __table_args__ = (Index(None, "model_version_id", "day"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    model_version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    day: Mapped[datetime]
    path: Mapped[str] = mapped_column(Text)
    n_rows: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    archived_at: Mapped[datetime] = mapped_column(server_default=_now())
    restored_at: Mapped[datetime | None]


class ProfileSpec(Base):
    """The histogram edges or reference categories a (version, column) is profiled against (JSON)."""

    __tablename__ = "profile_specs"
    model_version_id: Mapped[int] = mapped_column(
        ForeignKey("model_versions.id", ondelete="CASCADE"), primary_key=True
    )
    column: Mapped[str] = mapped_column(String(200), primary_key=True)
    spec: Mapped[dict[str, Any]]


class ProfileValues:
    """The values of one column's mergeable profile (:class:`driftscope.storage.profiles.ColumnProfile`):
    row and missing counts, min/max, mean and M2, histogram or category ``counts``, the most frequent
    new categories and the rest's count (``other``), and a serialized KLL ``sketch`` (empty: none).
    """

    n_rows: Mapped[int] = mapped_column(BigInteger)
    n_missing: Mapped[int] = mapped_column(BigInteger)
    minimum: Mapped[float | None] = mapped_column(Float)
    maximum: Mapped[float | None] = mapped_column(Float)
    mean: Mapped[float | None] = mapped_column(Float)
    m2: Mapped[float | None] = mapped_column(Float)
    counts: Mapped[list[Any]]
    new_categories: Mapped[dict[str, Any]]
    other: Mapped[int] = mapped_column(BigInteger, server_default="0")
    sketch: Mapped[bytes] = mapped_column(Blob)


class ColumnProfileRow(ProfileValues, Base):
    """The mergeable profile of one column of one version in one UTC time bucket.

    ``bucket_start`` is aligned on the Unix epoch to ``bucket_seconds`` (3600 for stored rows,
    86400 for lake day partitions). ``counts`` are per histogram cell or reference category (see
    :mod:`driftscope.storage.profiles.spec`), ``sketch`` a serialized KLL sketch (empty: none).
    """

    __tablename__ = "profiles"
    __table_args__ = (Index(None, "model_version_id", "bucket_start"),)
    model_version_id: Mapped[int] = mapped_column(
        ForeignKey("model_versions.id", ondelete="CASCADE"), primary_key=True
    )
    column: Mapped[str] = mapped_column(String(200), primary_key=True)
    bucket_start: Mapped[datetime] = mapped_column(primary_key=True)
    bucket_seconds: Mapped[int] = mapped_column(Integer, primary_key=True)
    updated_at: Mapped[datetime] = mapped_column(server_default=_now())


class ProfileDay(Base):
    """The revision of one version's profiles of one UTC day: bumped by every write to them.

    Every profile write (:func:`driftscope.storage.profiles.store.add_profiles`,
    ``replace_profiles``, a spec change) upserts ``revision + 1`` for the days it touched in its own
    transaction, so a day's roll-up (:class:`ProfileRollupRow`) built at revision ``r`` is valid
    exactly while the day is still at ``r``. ``rolled_revision`` is the revision at which every
    column's roll-up of the day was built (a column without hourly rows that day has no roll-up
    row). The sum of the revisions only grows, so it is also the dashboard's change stamp of the
    profiles.
    """

    __tablename__ = "profile_days"
    model_version_id: Mapped[int] = mapped_column(
        ForeignKey("model_versions.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[datetime] = mapped_column(primary_key=True)
    revision: Mapped[int] = mapped_column(BigInteger)
    rolled_revision: Mapped[int] = mapped_column(BigInteger, server_default="0")
    changed_at: Mapped[datetime] = mapped_column(server_default=_now())


class ProfileRollupRow(ProfileValues, Base):
    """The merge of one column's hourly profiles (``bucket_seconds`` 3600) of one UTC day.

    Fields as :class:`ColumnProfileRow`; ``n_hours`` is the number of hourly profiles merged and
    ``revision`` the day's :class:`ProfileDay` revision the roll-up was built from (valid only while
    they are equal).
    """

    __tablename__ = "profile_rollups"
    model_version_id: Mapped[int] = mapped_column(
        ForeignKey("model_versions.id", ondelete="CASCADE"), primary_key=True
    )
    column: Mapped[str] = mapped_column(String(200), primary_key=True)
    day: Mapped[datetime] = mapped_column(primary_key=True)
    revision: Mapped[int] = mapped_column(BigInteger)
    n_hours: Mapped[int] = mapped_column(Integer)


class LabelProfileRow(Base):
    """What the performance metrics need from one version's labelled predictions in one UTC time bucket.

    ``cells`` holds, column-wise, each cell's label, prediction, score bin and ``[n, sum p, sum p^2,
    sum ln p, sum ln(1 - p)]`` (classification) and, for multiclass rows with per-class
    probabilities, ``scores`` (:mod:`driftscope.storage.profiles.class_scores`); ``moments`` the
    error moments (regression: 13 values, 9 in rows stored before R²'s standard error); see
    :mod:`driftscope.storage.profiles.labelled`. Buckets as :class:`ColumnProfileRow`.
    """

    __tablename__ = "label_profiles"
    model_version_id: Mapped[int] = mapped_column(
        ForeignKey("model_versions.id", ondelete="CASCADE"), primary_key=True
    )
    bucket_start: Mapped[datetime] = mapped_column(primary_key=True)
    bucket_seconds: Mapped[int] = mapped_column(Integer, primary_key=True)
    n_labelled: Mapped[int] = mapped_column(BigInteger)
    cells: Mapped[dict[str, Any]]
    moments: Mapped[list[Any]]
    updated_at: Mapped[datetime] = mapped_column(server_default=_now())
