"""What a source's rows are validated against: the model, its versions' schemas, types and reference categories.

Loaded once per source run from the store (what ``driftscope apply`` registered), so the Python API
and the configured sources validate identically.

Type of the ``prediction`` and of the label (the *kind*: ``int``, ``float``, ``bool`` or ``str``)
follows the reference data's ``prediction`` / ``label`` column, so stored rows compare with the
reference as they are. Without a reference column: ``float`` for regression, else the type of the
schema's ``positive_label`` (``int`` for the default 1).

The two classes of a binary model are the values the reference's ``prediction`` and ``label``
columns hold together with ``positive_label``, completed with 0 (``int``, ``float``) or False
(``bool``) when fewer than two are known. When that does not give exactly two (a ``str`` model
whose reference has no labels), classes are not checked.
"""

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from driftscope.collectors.base import Records
from driftscope.collectors.coerce import as_text
from driftscope.errors import NotFoundError
from driftscope.storage.profiles import ColumnSpec
from driftscope.storage.profiles.store import load_specs
from driftscope.storage.registry import VersionInfo, get_model_id, list_versions, load_reference

Kind = str
DEFAULT_MAX_FUTURE_SKEW = timedelta(days=1)


@dataclass(frozen=True)
class VersionPlan:
    """One registered version as validation needs it, and the specs its rows are profiled against.

    ``profile_specs`` let a collector compute the profiles of a batch before its transaction
    (:func:`driftscope.storage.predictions.encode_predictions`); the writer checks them against the
    stored specs and profiles the rows itself when they changed in between.
    """

    id: int
    version: str
    schema: dict[str, Any]
    prediction_kind: Kind
    label_kind: Kind
    categories: dict[str, pd.Index]
    classes: tuple[Any, Any] | None = None
    profile_specs: dict[str, ColumnSpec] = field(default_factory=dict)

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
    max_future_skew: timedelta = DEFAULT_MAX_FUTURE_SKEW

    def column(self, schema_name: str) -> str:
        """The source column that holds the schema column ``schema_name``."""
        return self.mapping.get(schema_name, schema_name)

    @property
    def dictionary_columns(self) -> frozenset[str]:
        """Source columns a columnar reader may hand over as categoricals (Arrow dictionaries).

        The categorical features of prediction rows that every version reads as categorical and
        that hold no other schema role (id, timestamp, prediction, ...) nor the version. Read so,
        a batch holds one Python string per distinct value rather than per row, and validation
        converts only the categories (:func:`driftscope.collectors.coerce.as_category`).
        """
        if self.records != "predictions":
            return frozenset()
        kinds: dict[str, set[str]] = {}
        other = {self.version_column} if self.version_column else set()
        for plan in self.versions.values():
            for name, kind in plan.features.items():
                kinds.setdefault(self.column(name), set()).add(kind)
            other |= {self.column(name) for name in _role_columns({k: v for k, v in plan.schema.items()
                                                                   if k != "features"})}
        return frozenset(c for c, kind in kinds.items() if kind == {"categorical"} and c not in other)

    @property
    def label_plan(self) -> VersionPlan:
        """The version whose schema names the id, target (or outcomes) and timestamp columns of ground truth
        and outcome rows.

        The source's ``version`` when set, else the newest registered version.
        """
        if self.default_version is not None:
            return self.versions[self.default_version]
        return max(self.versions.values(), key=lambda plan: plan.id)


def _role_columns(schema: Any) -> set[str]:
    """Every column name a schema fragment mentions (its text values, in nested mappings and lists too)."""
    if isinstance(schema, str):
        return {schema}
    if isinstance(schema, dict):
        return set().union(*(_role_columns(v) for v in schema.values()))
    if isinstance(schema, list | tuple):
        return set().union(*(_role_columns(v) for v in schema))
    return set()


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
    max_future_skew: timedelta = DEFAULT_MAX_FUTURE_SKEW,
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
        max_future_skew=max_future_skew,
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
    classes = binary_classes(info.task, label_kind, info.column_schema.get("positive_label", 1),
                             [reference[c] for c in ("prediction", "label") if c in reference.columns])
    return VersionPlan(info.id, info.version, info.column_schema, prediction_kind, label_kind, categories, classes,
                       load_specs(session, model_version_id=info.id))


def binary_classes(task: str, kind: Kind, positive_label: Any, reference: list[pd.Series]) -> tuple[Any, Any] | None:
    """The two classes of a binary model (see the module docstring), or None when they are not known.

    Examples
    --------
    >>> binary_classes("binary_classification", "int", 1, [])
    (0, 1)
    >>> binary_classes("binary_classification", "str", "yes", [pd.Series(["no", "yes"])])
    ('no', 'yes')
    >>> binary_classes("binary_classification", "str", "yes", []) is None
    True
    """
    if task != "binary_classification":
        return None
    cast = {"int": int, "float": float, "bool": bool, "str": str}[kind]
    try:
        known = {cast(positive_label)} | {cast(v) for column in reference for v in column.dropna().unique().tolist()}
    except (TypeError, ValueError):
        return None
    if len(known) < 2 and kind != "str":
        known.add(cast(0))
    return tuple(sorted(known)) if len(known) == 2 else None


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
