"""Label profiles of a lake partition whose rows carry their label (the version schema's ``target`` column).

Read in the record batches of :func:`driftscope.collectors.lake.record_batches`, as the features are; labels
become text as the collectors store them (:func:`driftscope.collectors.coerce.as_text`), so a
lake day's label profile is what ingesting the same rows with their labels would have built.
Datasets without the target column have no label profiles. The Spark engine builds the same
profiles inside its tasks (:func:`batch_label_profiles`).
"""

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
import pyarrow as pa

from driftscope.collectors.coerce import as_text
from driftscope.collectors.target import Target
from driftscope.modelspec import probability_column
from driftscope.storage.profiles.labelled import LabelledProfile, merge, profile_rows


def label_columns(target: Target, version: str) -> dict[str, str]:
    """Store column -> dataset column of ``prediction``, ``probability``, the per-class probabilities
    (``probability:<class>``) and ``label`` (empty without a target)."""
    schema = target.versions[version].schema
    if schema.get("target") is None:
        return {}
    per_class = {probability_column(str(cls)): name for cls, name in (schema.get("probabilities") or {}).items()}
    names = {"prediction": schema.get("prediction"), "probability": schema.get("probability"), **per_class,
             "label": schema.get("target")}
    return {column: target.column(name) for column, name in names.items() if name is not None}


def local_label_profiles(batches: Iterable[pa.RecordBatch], day_micros: int, columns: Mapping[str, str],
                         task: str) -> dict[int, LabelledProfile]:
    """The day's label profile (keyed by the day's start, µs) from its record batches; none when they
    lack the label or the prediction column."""
    found: dict[int, LabelledProfile] = {}
    for batch in batches:
        found = batch_label_profiles(batch, np.full(batch.num_rows, day_micros, dtype=np.int64), columns, task, found)
    return {day: profile for day, profile in found.items() if profile.n_labelled}


def batch_label_profiles(batch: pa.RecordBatch, day_micros: np.ndarray, columns: Mapping[str, str], task: str,
                         into: dict[int, LabelledProfile]) -> dict[int, LabelledProfile]:
    """``into`` with one record batch's rows added to the label profile of their day (``day_micros``, µs).

    A batch without the label or prediction column adds nothing.
    """
    names = batch.schema.names
    if columns.get("label") not in names or columns.get("prediction") not in names:
        return into
    frame = _label_frame(batch, {store: source for store, source in columns.items() if source in names})
    days = np.asarray(day_micros)
    for day in np.unique(days).tolist():
        part = profile_rows(frame.loc[days == day].reset_index(drop=True), task)
        into[day] = merge(into[day], part) if day in into else part
    return into


def _label_frame(batch: pa.RecordBatch, present: Mapping[str, str]) -> pd.DataFrame:
    frame = pd.DataFrame({store: batch.column(source).to_pandas() for store, source in present.items()})
    frame["label"] = as_text(frame["label"]).values
    return frame
