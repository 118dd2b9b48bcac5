"""The ``models`` section: models, their versions and the column schema their logged rows follow.

Every layer reads it (collectors validate rows against the schema, monitors know the task, storage
registers versions), so it belongs to the shared base.
"""

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, Field, field_validator, model_validator

from driftscope.errors import NotFoundError
from driftscope.sections import OptionalStr, Strict

Task = Literal["binary_classification", "multiclass_classification", "regression"]
FeatureType = Literal["numeric", "categorical", "binary"]
VersionStatus = Literal["active", "shadow", "retired"]
#: canonical (stored) name of a class's probability column is this prefix plus the class name
PROBABILITY_PREFIX = "probability:"


def probability_column(cls: str) -> str:
    """Canonical name of the column holding the probability of class ``cls`` (multiclass schemas).

    Examples
    --------
    >>> probability_column("basic")
    'probability:basic'
    """
    return f"{PROBABILITY_PREFIX}{cls}"


def probability_columns(schema: dict[str, Any]) -> dict[str, str]:
    """Class -> canonical probability column of a stored schema (empty without ``probabilities``).

    Examples
    --------
    >>> probability_columns({"probabilities": {"a": "p_a", "b": "p_b"}})
    {'a': 'probability:a', 'b': 'probability:b'}
    """
    return {str(cls): probability_column(str(cls)) for cls in (schema.get("probabilities") or {})}


OutcomeType = Literal["binary", "numeric"]
OUTCOME_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
"""Outcome names become metric names (``outcome:<name>``): letters, digits, ``_``, ``.``, ``-``."""


class SchemaConfig(Strict):
    """Column roles and types of a model's logged rows."""

    id: str
    timestamp: str
    prediction: str
    probability: OptionalStr = None
    probabilities: dict[str, str] | None = Field(
        default=None, description="class -> column holding its probability (multiclass tasks)"
    )
    target: OptionalStr = None
    positive_label: Any = Field(default=1, description="class counted as positive (binary tasks)")
    latency: OptionalStr = Field(default=None, description="serving time of the request, milliseconds")
    status: OptionalStr = Field(default=None, description="ok | error | timeout; failed requests may lack a prediction")
    features: dict[str, FeatureType] = Field(min_length=1)
    outcomes: dict[str, OutcomeType] = Field(
        default_factory=dict, description="business results joined by id (outcome name: binary | numeric)")

    @field_validator("outcomes")
    @classmethod
    def _outcome_names(cls, value: dict[str, OutcomeType]) -> dict[str, OutcomeType]:
        bad = sorted(name for name in value if not re.fullmatch(OUTCOME_NAME, name) or len(name) > 60)
        if bad:
            raise ValueError(f"outcome names {', '.join(map(repr, bad))}: use at most 60 letters, digits, '_', '.' "
                             "or '-' (they become metric names outcome:<name>)")
        return value

    @model_validator(mode="after")
    def _roles_distinct(self) -> "SchemaConfig":
        roles = [self.id, self.timestamp, self.prediction, self.probability, self.target, self.latency, self.status]
        named = ([r for r in roles if r is not None] + list((self.probabilities or {}).values()) + list(self.features)
                 + list(self.outcomes))
        clashes = sorted({c for c in named if named.count(c) > 1})
        if clashes:
            raise ValueError(f"columns used for two roles: {', '.join(clashes)}")
        if self.probabilities is not None:
            if self.probability is not None:
                raise ValueError("set 'probability' (binary tasks) or 'probabilities' (multiclass), not both")
            if len(self.probabilities) < 2:
                raise ValueError("'probabilities' needs one column per class, at least two classes")
        return self


class VersionConfig(Strict):
    """One version of a model and the reference data it was validated on."""

    version: str
    reference: str
    status: VersionStatus = "active"
    trained_at: AwareDatetime | None = Field(default=None, description="when the model was trained (its age)")
    schema_: SchemaConfig | None = Field(default=None, alias="schema")

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, value: Any) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            raise ValueError(f'quote the version ("{value}") so YAML keeps it as text')
        return value

    @field_validator("trained_at", mode="before")
    @classmethod
    def _zoned(cls, value: Any) -> Any:
        if isinstance(value, datetime) and value.tzinfo is None:
            raise ValueError(f"trained_at {value.isoformat()} has no time zone: write it in UTC, e.g. "
                             f"{value.isoformat()}Z")
        return value


class ModelConfig(Strict):
    """A model, its versions and the schema they share unless a version overrides it."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    task: Task
    retrain_webhook: OptionalStr = None
    versions: list[VersionConfig] = Field(min_length=1)
    schema_: SchemaConfig = Field(alias="schema")

    def schema_for(self, version: str) -> SchemaConfig:
        """Return the schema of ``version`` (its override, or the model's)."""
        for v in self.versions:
            if v.version == version:
                return v.schema_ or self.schema_
        valid = ", ".join(v.version for v in self.versions)
        raise NotFoundError(f"model {self.name!r} has no version {version!r}; configured: {valid}")

    @model_validator(mode="after")
    def _unique_versions(self) -> "ModelConfig":
        seen = [v.version for v in self.versions]
        dupes = sorted({v for v in seen if seen.count(v) > 1})
        if dupes:
            raise ValueError(f"version listed twice: {', '.join(dupes)}")
        schemas = [self.schema_, *(v.schema_ for v in self.versions if v.schema_ is not None)]
        if self.task != "multiclass_classification" and any(s.probabilities for s in schemas):
            raise ValueError(f"'probabilities' is for multiclass models; a {self.task} model logs 'probability'")
        if self.task == "multiclass_classification" and any(s.probability for s in schemas):
            raise ValueError("a multiclass model logs one column per class under 'probabilities: {class: column}'")
        return self
