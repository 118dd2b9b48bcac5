"""The ``sources`` section, owned by the collectors: where prediction logs and ground truth come from."""

from collections.abc import Sequence
from datetime import timedelta
from typing import Literal, Protocol

from pydantic import Field, model_validator

from driftscope.modelspec import ModelConfig
from driftscope.sections import Duration, OptionalSecret, OptionalStr, Schedule, Strict


class SourceConfig(Strict):
    """Where prediction logs, ground truth or outcomes (business results joined by id) are pulled from."""

    name: str = Field(min_length=1)
    kind: Literal["files", "sql", "http"]
    model: str
    records: Literal["predictions", "ground_truth", "outcomes"]
    url: str
    version: OptionalStr = None
    version_column: OptionalStr = None
    schedule: Schedule | None = None
    columns: dict[str, str] = Field(default_factory=dict, description="store name: source name")
    format: Literal["csv", "jsonl", "parquet"] | None = None
    table: OptionalStr = None
    query: OptionalStr = None
    watermark: OptionalStr = None
    page_size: int = Field(default=50_000, gt=0)
    token: OptionalSecret = None
    timeout: Duration = timedelta(seconds=30)
    retries: int = Field(default=5, ge=0, le=20)

    @model_validator(mode="after")
    def _kind_options(self) -> "SourceConfig":
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
        if self.kind != "files" and self.format is not None:
            raise ValueError("'format' applies to files sources only")
        if self.records == "predictions" and self.version is None and self.version_column is None:
            raise ValueError("a predictions source needs 'version' or 'version_column'")
        return self


class CollectorSettings(Protocol):
    """What the collectors read from the whole configuration (:class:`driftscope.config.Config` has it)."""

    @property
    def sources(self) -> Sequence[SourceConfig]: ...

    def source(self, name: str) -> SourceConfig: ...

    def model(self, name: str) -> ModelConfig: ...
