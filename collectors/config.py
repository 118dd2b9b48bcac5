"""The ``sources`` section, owned by the collectors: where prediction logs and ground truth come from."""

from collections.abc import Sequence
from datetime import timedelta
from typing import Literal, Protocol

from pydantic import Field, model_validator

from driftscope.modelspec import ModelConfig
from driftscope.sections import Duration, OptionalSecret, OptionalStr, Schedule, Strict


class BatchConfig(Strict):
    """Micro-batches of a stream source: each is one transaction, with the offsets it advances.

    A batch closes at ``max_rows`` messages or after ``max_wait``, whichever comes first; one run
    (a schedule tick) takes at most ``max_per_run`` messages and stops at the end offsets it found
    when it started, so a busy topic never keeps a tick running forever.
    """

    max_rows: int = Field(default=50_000, gt=0)
    max_wait: Duration = timedelta(seconds=5)
    max_per_run: int = Field(default=5_000_000, gt=0)


class KafkaSecurity(Strict):
    """SASL/TLS options for production brokers (librdkafka's names); secrets only through ``${VAR}``."""

    protocol: Literal["plaintext", "ssl", "sasl_plaintext", "sasl_ssl"] = "plaintext"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"] | None = None
    username: OptionalStr = None
    password: OptionalSecret = None
    ca_location: OptionalStr = None
    certificate_location: OptionalStr = None
    key_location: OptionalStr = None
    key_password: OptionalSecret = None


KAFKA_ONLY = ("bootstrap_servers", "topic")
LAKE_ONLY = ("partition", "engine", "spark_master")


class SourceConfig(Strict):
    """Where prediction logs, ground truth or outcomes (business results joined by id) are pulled from."""

    name: str = Field(min_length=1)
    kind: Literal["files", "sql", "http", "kafka", "lake"]
    model: str
    records: Literal["predictions", "ground_truth", "outcomes"]
    url: OptionalStr = None
    bootstrap_servers: OptionalStr = None
    topic: OptionalStr = None
    batch: BatchConfig = BatchConfig()
    security: KafkaSecurity = KafkaSecurity()
    version: OptionalStr = None
    version_column: OptionalStr = None
    schedule: Schedule | None = None
    columns: dict[str, str] = Field(default_factory=dict, description="store name: source name")
    format: Literal["csv", "jsonl", "parquet", "json"] | None = None
    table: OptionalStr = None
    query: OptionalStr = None
    watermark: OptionalStr = None
    page_size: int = Field(default=50_000, gt=0)
    token: OptionalSecret = None
    timeout: Duration = timedelta(seconds=30)
    retries: int = Field(default=5, ge=0, le=20)
    partition: OptionalStr = Field(default=None, description="lake: the date partition column (YYYY-MM-DD)")
    engine: Literal["local", "spark"] | None = Field(default=None, description="lake: local (pyarrow) or spark")
    spark_master: OptionalStr = Field(default=None, description="lake, engine spark: the Spark master URL")
    max_future_skew: Duration = Field(
        default=timedelta(days=1),
        description="timestamps more than this ahead of the collector's clock are out of range (quarantined)",
    )

    @model_validator(mode="after")
    def _kind_options(self) -> "SourceConfig":
        self._kafka_options()
        self._lake_options()
        if self.kind == "sql":
            if (self.table is None) == (self.query is None):
                raise ValueError("a sql source needs exactly one of 'table' or 'query'")
            if self.watermark is None:
                raise ValueError("a sql source needs 'watermark' (a timestamp or increasing id column)")
        else:
            for key in ("table", "query", "watermark"):
                if getattr(self, key) is not None:
                    raise ValueError(f"'{key}' applies to sql sources only, not {self.kind}")
        if self.kind != "http" and self.token is not None:
            raise ValueError("'token' applies to http sources only")
        if self.kind not in ("files", "kafka", "lake") and self.format is not None:
            raise ValueError("'format' applies to files and kafka sources only")
        if self.records == "predictions" and self.version is None and self.version_column is None:
            raise ValueError("a predictions source needs 'version' or 'version_column'")
        return self

    def _lake_options(self) -> None:
        if self.kind != "lake":
            for key in LAKE_ONLY:
                if getattr(self, key) is not None:
                    raise ValueError(f"'{key}' applies to lake sources only, not {self.kind}")
            return
        if self.partition is None:
            raise ValueError("a lake source needs 'partition' (its date partition column)")
        if self.records != "predictions" or self.version is None:
            raise ValueError("a lake source profiles predictions of one model version: set 'records: predictions' "
                             "and 'version'")
        if self.format not in (None, "parquet"):
            raise ValueError(f"a lake source reads Parquet, not {self.format!r}")
        if self.spark_master is not None and self.engine != "spark":
            raise ValueError("'spark_master' needs 'engine: spark'")

    @property
    def effective_engine(self) -> str:
        """A lake source's engine: ``local`` unless set."""
        return self.engine or "local"

    @property
    def effective_spark_master(self) -> str:
        """The Spark master of a lake source on Spark: ``local[*]`` unless set."""
        return self.spark_master or "local[*]"

    def _kafka_options(self) -> None:
        if self.kind == "kafka":
            missing = [key for key in KAFKA_ONLY if getattr(self, key) is None]
            if missing:
                raise ValueError(f"a kafka source needs {' and '.join(repr(k) for k in missing)}")
            if self.url is not None:
                raise ValueError("a kafka source takes 'bootstrap_servers' and 'topic', not 'url'")
            if self.format not in (None, "json"):
                raise ValueError(f"kafka sources read format 'json' (one object per message), not {self.format!r}")
            return
        if self.url is None:
            raise ValueError(f"a {self.kind} source needs 'url'")
        if self.format == "json":
            raise ValueError("format 'json' applies to kafka sources; files take 'jsonl'")
        unset = [key for key in KAFKA_ONLY if getattr(self, key) is not None]
        if unset or "batch" in self.model_fields_set or "security" in self.model_fields_set:
            raise ValueError(f"{', '.join(unset) or 'batch/security'} apply to kafka sources only, not {self.kind}")


class CollectorSettings(Protocol):
    """What the collectors read from the whole configuration (:class:`driftscope.config.Config` has it)."""

    @property
    def sources(self) -> Sequence[SourceConfig]: ...

    def source(self, name: str) -> SourceConfig: ...

    def model(self, name: str) -> ModelConfig: ...
