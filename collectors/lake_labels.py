"""Label profiles of a lake partition whose rows carry their label (the version schema's ``target`` column).

Read with pyarrow in record batches like :func:`driftscope.collectors.lake.local_profiles`; labels
become text as the collectors store them (:func:`driftscope.collectors.coerce.as_text`), so a
lake day's label profile is what ingesting the same rows with their labels would have built.
Datasets without the target column have no label profiles. The Spark engine does not compute
them yet (a partition profiled on Spark gets feature profiles only).
"""

from collections.abc import Mapping

import fsspec
import pandas as pd
import pyarrow.dataset as ds

from driftscope.collectors.coerce import as_text
from driftscope.collectors.target import Target
from driftscope.storage.profiles.labelled import LabelledProfile, merge, profile_rows

LABELLED = ("prediction", "probability", "label")


def label_columns(target: Target, version: str) -> dict[str, str]:
    """Store column -> dataset column of ``prediction``, ``probability`` and ``label`` (empty without a target)."""
    schema = target.versions[version].schema
    if schema.get("target") is None:
        return {}
    names = {"prediction": schema.get("prediction"), "probability": schema.get("probability"),
             "label": schema.get("target")}
    return {column: target.column(name) for column, name in names.items() if name is not None}


def local_label_profiles(fs: fsspec.AbstractFileSystem, files: tuple[str, ...], day_micros: int,
                         columns: Mapping[str, str], task: str, batch_rows: int) -> dict[int, LabelledProfile]:
    """The day's label profile (keyed by the day's start, µs), or none when the dataset has no label column."""
    dataset = ds.dataset(list(files), filesystem=fs, format="parquet")
    if columns.get("label") not in dataset.schema.names or columns.get("prediction") not in dataset.schema.names:
        return {}
    present = {store: source for store, source in columns.items() if source in dataset.schema.names}
    day = LabelledProfile()
    for batch in dataset.to_batches(columns=list(present.values()), batch_size=batch_rows):
        frame = pd.DataFrame({store: batch.column(source).to_pandas() for store, source in present.items()})
        frame["label"] = as_text(frame["label"]).values
        day = merge(day, profile_rows(frame, task))
    return {day_micros: day} if day.n_labelled else {}
