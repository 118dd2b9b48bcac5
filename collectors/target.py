"""What a source's rows are validated against: the model, its versions' schemas, types and reference categories.

Loaded once per source run from the store (what ``driftscope apply`` registered), so the Python API
and the configured sources validate identically.

Type of the ``prediction`` and of the label (the *kind*: ``int``, ``float``, ``bool`` or ``str``)
follows the reference data's ``prediction`` / ``label`` column, so stored rows compare with the
reference as they are. Without a reference column: ``float`` for regression, else the type of the
schema's ``positive_label`` (``int`` for the default 1).
"""

from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from driftscope.collectors.base import Records
from driftscope.collectors.coerce import as_text
from driftscope.errors import NotFoundError
from driftscope.storage.registry import VersionInfo, get_model_id, list_versions, load_reference

Kind = str


@dataclass(frozen=True)
class VersionPlan:
    """One registered version as validation needs it."""

    id: int
    version: str
    schema: dict[str, Any]
    prediction_kind: Kind
    label_kind: Kind
    categories: dict[str, pd.Index]

    @property
    def features(self) -> dict[str, str]:
        """Feature name -> type (numeric, categorical, binary)."""
        return dict(self.schema["features"])


@dataclass(frozen=True)
class Target:
    """A source's destination: model, versions, column mapping (schema name -> source column)."""

    source: str
    records: Records
    model: str
    model_id: int
    versions: dict[str, VersionPlan]
    default_version: str | None
    version_column: str | None
    mapping: dict[str, str]
    label_time_column: str | None = None

    def column(self, schema_name: str) -> str:
        """The source column that holds the schema column ``schema_name``."""
        return self.mapping.get(schema_name, schema_name)

    @property
    def label_plan(self) -> VersionPlan:
        """The version whose schema names the id, target (or outcomes) and timestamp columns of ground truth
        and outcome rows.

        The source's ``version`` when set, else the newest registered version.
        """
        if self.default_version is not None:
            return self.versions[self.default_version]
        return max(self.versions.values(), key=lambda plan: plan.id)


def load_target(
    session: Session,
    *,
    source: str,
    records: Records,
    model: str,
    version: str | None = None,
    version_column: str | None = None,
    mapping: dict[str, str] | None = None,
    label_time_column: str | None = None,
) -> Target:
    """Read the model's registered versions and reference categories for one source run.

    Raises
    ------
    NotFoundError
        The model, or the fixed ``version``, is not registered (run ``driftscope apply``).
    """
    model_id = get_model_id(session, model)
    infos = list_versions(session, model=model)
    if not infos:
        raise NotFoundError(f"source {source!r}: model {model!r} has no registered version; run `driftscope apply`")
    known = {info.version for info in infos}
    if version is not None and version not in known:
        raise NotFoundError(
            f"source {source!r}: model {model!r} has no version {version!r} in the store "
            f"(registered: {', '.join(sorted(known))}); run `driftscope apply`"
        )
    if records in ("ground_truth", "outcomes"):
        needed = {version or max(infos, key=lambda info: info.id).version}
    else:
        needed = {version} if version is not None and version_column is None else known
    plans = {info.version: _plan(session, info) for info in infos if info.version in needed}
    return Target(
        source=source, records=records, model=model, model_id=model_id, versions=plans, default_version=version,
        version_column=version_column, mapping=dict(mapping or {}), label_time_column=label_time_column,
    )


def _plan(session: Session, info: VersionInfo) -> VersionPlan:
    try:
        reference = load_reference(session, model_version_id=info.id)
    except NotFoundError:
        reference = pd.DataFrame()
    default = default_kind(info.task, info.column_schema.get("positive_label", 1))
    prediction_kind = _kind_of(reference.get("prediction"), info.task, default)
    label_kind = _kind_of(reference.get("label"), info.task, prediction_kind)
    categories = {
        name: pd.Index(as_text(reference[name]).values.dropna().unique())
        for name, kind in info.column_schema["features"].items()
        if kind == "categorical" and name in reference.columns
    }
    return VersionPlan(info.id, info.version, info.column_schema, prediction_kind, label_kind, categories)


def default_kind(task: str, positive_label: Any) -> Kind:
    """The kind of predictions and labels when no reference column says it.

    Examples
    --------
    >>> default_kind("regression", 1), default_kind("binary_classification", 1)
    ('float', 'int')
    >>> default_kind("multiclass_classification", "cat")
    'str'
    """
    if task == "regression":
        return "float"
    if isinstance(positive_label, bool):
        return "bool"
    if isinstance(positive_label, int):
        return "int"
    return "float" if isinstance(positive_label, float) else "str"


def _kind_of(column: pd.Series | None, task: str, default: Kind) -> Kind:
    if task == "regression":
        return "float"
    if column is None or isinstance(column.dtype, pd.CategoricalDtype) or column.dtype == object:
        return default if column is None else "str"
    return {"b": "bool", "i": "int", "u": "int", "f": "float"}.get(column.dtype.kind, "str")
