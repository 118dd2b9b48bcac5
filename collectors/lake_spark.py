"""The ``spark`` engine of lake sources: partial profiles inside Spark tasks, merged on the driver.

All changed partitions go into one Spark job: each partition's files are read with its day as a
literal column, and each task runs :func:`driftscope.collectors.lake.profile_rows` on its Arrow
record batches (``DataFrame.mapInArrow``), yielding one row: its merged per-day profiles, its
per-day label profiles (when the rows carry their label, as
:func:`driftscope.collectors.lake_labels.local_label_profiles` builds them), pickled, and its row
counts per day. The driver collects one small row per task, never the rows.

The executors need driftscope installed, as the driver; unless ``PYSPARK_PYTHON`` says otherwise,
the workers of a local master run the driver's interpreter. ``spark_master`` picks the cluster
(``local[*]``, ``spark://…``, ``yarn``, ``k8s://…``). Needs the ``spark`` extra and Java 17.
"""

import os
import pickle
import sys
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import fsspec
import numpy as np
import pyarrow as pa

from driftscope.collectors.config import SourceConfig
from driftscope.extras import require
from driftscope.storage.profiles import ColumnProfile, ColumnSpec, merge
from driftscope.storage.profiles.labelled import LabelledProfile
from driftscope.storage.profiles.labelled import merge as merge_labelled
from driftscope.storage.profiles.store import BucketKey

if TYPE_CHECKING:
    from driftscope.collectors.lake import Partition

DAY_COLUMN = "__driftscope_day"


def spark_session(master: str) -> Any:
    """The running SparkSession, or a new one on ``master``."""
    sql = require("pyspark.sql", "spark")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    return sql.SparkSession.builder.master(master).appName("driftscope-lake").getOrCreate()


def spark_profiles(spec: SourceConfig, fs: fsspec.AbstractFileSystem, partitions: list["Partition"],
                   specs: Mapping[str, ColumnSpec], columns: Mapping[str, str], labelled: Mapping[str, str],
                   task: str) -> dict[str, tuple[dict[BucketKey, ColumnProfile], int, dict[int, LabelledProfile]]]:
    """Each partition's day profiles, row count and label profiles (by partition key), from one Spark job.

    ``labelled`` maps ``prediction``, ``probability`` and ``label`` to dataset columns (empty: no label
    profiles); ``task`` is the model's task. A partition without Parquet files (emptied) gets no
    profiles and no rows, without reading anything.
    """
    if not any(p.files for p in partitions):
        return _merge_tasks([], partitions)
    functions = require("pyspark.sql.functions", "spark")
    spark = spark_session(spec.effective_spark_master)
    # pandas and pyarrow write nanosecond timestamps, which Spark refuses to read even when the column is
    # not selected; read them as longs (partitions are bucketed by their date, not by a row timestamp)
    spark.conf.set("spark.sql.legacy.parquet.nanosAsLong", "true")
    protocols = fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,)
    wanted = list(dict.fromkeys([*columns.values(), *labelled.values()]))
    frame = None
    for partition in (p for p in partitions if p.files):
        paths = list(partition.files) if "file" in protocols else [fs.unstrip_protocol(f) for f in partition.files]
        part = spark.read.parquet(*paths)
        part = part.select(*[c for c in wanted if c in part.columns],
                           functions.lit(partition.day_micros).alias(DAY_COLUMN))
        frame = part if frame is None else frame.unionByName(part, allowMissingColumns=True)
    specs_, columns_, labelled_ = dict(specs), dict(columns), dict(labelled)

    def run_task(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from driftscope.collectors.lake import profile_rows
        from driftscope.collectors.lake_labels import batch_label_profiles

        merged: dict[BucketKey, ColumnProfile] = {}
        by_label: dict[int, LabelledProfile] = {}
        rows: Counter[int] = Counter()
        for batch in batches:
            days = batch.column(DAY_COLUMN).to_numpy()
            rows.update(dict(zip(*(a.tolist() for a in np.unique(days, return_counts=True)), strict=True)))
            for key, profile in profile_rows(batch, days, specs_, columns_).items():
                merged[key] = merge(merged[key], profile) if key in merged else profile
            by_label = batch_label_profiles(batch, days, labelled_, task, by_label)
        yield pa.RecordBatch.from_pydict({"profiles": [pickle.dumps((merged, dict(rows), by_label))]})

    assert frame is not None
    return _merge_tasks(frame.mapInArrow(run_task, "profiles binary").collect(), partitions)


def _merge_tasks(collected: list[Any], partitions: list["Partition"]
                 ) -> dict[str, tuple[dict[BucketKey, ColumnProfile], int, dict[int, LabelledProfile]]]:
    """The tasks' pickled partial profiles merged on the driver, split by partition."""
    profiles: dict[BucketKey, ColumnProfile] = {}
    by_label: dict[int, LabelledProfile] = {}
    rows: Counter[int] = Counter()
    for row in collected:
        part_profiles, part_rows, part_labels = pickle.loads(row["profiles"])
        rows.update(part_rows)
        for key, profile in part_profiles.items():
            profiles[key] = merge(profiles[key], profile) if key in profiles else profile
        for day, labels in part_labels.items():
            by_label[day] = merge_labelled(by_label[day], labels) if day in by_label else labels
    return {p.key: ({k: v for k, v in profiles.items() if k[0] == p.day_micros}, rows[p.day_micros],
                    {d: v for d, v in by_label.items() if d == p.day_micros and v.n_labelled})
            for p in partitions}
