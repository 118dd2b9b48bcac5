"""``kind: lake``: profile a hive-partitioned Parquet dataset where it lives; only profiles reach the store.

The dataset is ``<url>/<partition>=<YYYY-MM-DD>/*.parquet`` on a local path or any fsspec URL.
Each partition is one UTC day: its rows are profiled into the day's bucket (``bucket_seconds =
86400``, the partition date) of the source's model version, against the version's specs. A
partition is recorded with a fingerprint of its files (names, sizes, modification times or
ETags); an unchanged partition is skipped, a new or rewritten one is (re)computed once and its
day's profiles (and label profiles, when the rows carry their label: :mod:`.lake_labels`)
replaced, in one transaction with its new mark (compare-and-set, as the files source). A
partition rewritten without rows leaves its day without profiles; a recorded partition that is
gone has its day's profiles (and label profiles) removed and its mark dropped, in one transaction,
so a partition that reappears is profiled as new. Both mark the day changed
(:func:`driftscope.storage.profiles.days.mark_days`): roll-ups are rebuilt and the monitor runs
over the day are recomputed (:func:`driftscope.storage.results.runs_with_new_profiles`). The
source's watermark is the newest partition value profiled, a high-water mark a deleted partition
does not lower.

Engines: ``local`` reads each partition's files one after the other with pyarrow, one row group
at a time, in record batches of ``BATCH_ROWS`` rows (memory bounded by one row group plus the
profiles, whatever the partition's size); ``spark``
(:mod:`driftscope.collectors.lake_spark`) computes partial profiles of all changed partitions in
one Spark job and merges them on the driver, so the rows never leave the cluster.
"""

import hashlib
import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import fsspec
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Engine

from driftscope.collectors.config import SourceConfig
from driftscope.collectors.lake_labels import label_columns, local_label_profiles
from driftscope.collectors.target import Target, load_target
from driftscope.errors import SchemaError
from driftscope.storage.collector_state import (
    FileMark,
    add_run_counts,
    advance_file,
    advance_watermark,
    file_marks,
    forget_file,
    get_watermark,
)
from driftscope.storage.db import read_transaction, transaction
from driftscope.storage.profiles import ColumnProfile, ColumnSpec, merge
from driftscope.storage.profiles.compute import DAY, profile_table
from driftscope.storage.profiles.labelled import LabelledProfile
from driftscope.storage.profiles.labelled_store import replace_labelled, version_task
from driftscope.storage.profiles.store import BucketKey, load_specs, replace_profiles

log = logging.getLogger(__name__)
BATCH_ROWS = 65_536
_US = 1_000_000


@dataclass(frozen=True)
class Partition:
    """One partition directory: its value (``YYYY-MM-DD``), path, files and their fingerprint."""

    value: str
    path: str
    files: tuple[str, ...]
    size: int
    fingerprint: str

    @property
    def key(self) -> str:
        """The partition as recorded in the source's file marks (``column=value``)."""
        return self.path.rstrip("/").rsplit("/", 1)[-1]

    @property
    def day_micros(self) -> int:
        """The partition's UTC day as µs since the epoch."""
        try:
            day = datetime.strptime(self.value, "%Y-%m-%d").replace(tzinfo=UTC)
        except ValueError as exc:
            raise SchemaError(f"lake partition {self.path}: {self.value!r} is not a date (YYYY-MM-DD)") from exc
        return int(day.timestamp()) * _US


def partitions(fs: fsspec.AbstractFileSystem, root: str, column: str) -> list[Partition]:
    """The dataset's ``column=value`` partitions, oldest first, with their Parquet files."""
    found = []
    for entry in fs.ls(root, detail=True):
        name = entry["name"].rstrip("/").rsplit("/", 1)[-1]
        if entry["type"] != "directory" or not name.startswith(f"{column}="):
            continue
        files = sorted((f for f in fs.find(entry["name"], detail=True).values() if f["name"].endswith(".parquet")),
                       key=lambda f: f["name"])
        listing = "\n".join(f"{f['name']}|{f.get('size')}|{f.get('mtime', f.get('ETag', f.get('LastModified')))}"
                            for f in files)
        found.append(Partition(name.split("=", 1)[1], entry["name"], tuple(f["name"] for f in files),
                               int(sum(f.get("size") or 0 for f in files)),
                               hashlib.sha256(listing.encode()).hexdigest()))
    return sorted(found, key=lambda p: p.value)


def source_columns(specs: Mapping[str, ColumnSpec], target: Target, version: str) -> dict[str, str]:
    """Store column -> dataset column for every profiled column.

    ``prediction`` and ``probability`` are read from the columns the version's schema names for them,
    features under their own names; the source's ``columns`` mapping renames either.
    """
    schema = target.versions[version].schema
    return {column: target.column(schema.get(column) or column) if column in ("prediction", "probability")
            else target.column(column) for column in specs}


def local_profiles(fs: fsspec.AbstractFileSystem, partition: Partition, specs: Mapping[str, ColumnSpec],
                   columns: Mapping[str, str]) -> tuple[dict[BucketKey, ColumnProfile], int]:
    """The partition's day profiles computed with pyarrow, one record batch at a time; and its row count."""
    profiles: dict[BucketKey, ColumnProfile] = {}
    n_rows = 0
    for batch in record_batches(fs, partition.files, list(columns.values())):
        n_rows += batch.num_rows
        days = np.full(batch.num_rows, partition.day_micros, dtype=np.int64)
        for key, profile in profile_rows(batch, days, specs, columns).items():
            profiles[key] = merge(profiles[key], profile) if key in profiles else profile
    return profiles, n_rows


def record_batches(fs: fsspec.AbstractFileSystem, files: Iterable[str], columns: list[str]
                   ) -> Iterator[pa.RecordBatch]:
    """The ``columns`` each file has, in record batches of at most ``BATCH_ROWS`` rows, one file at a time.

    A file is read one row group at a time, without read-ahead or pre-buffering, so memory holds
    one row group's ``columns`` (and the batch cut from it) whatever the files' sizes and count.
    """
    for path in files:
        with fs.open(path, "rb") as handle:
            parquet = pq.ParquetFile(handle, pre_buffer=False)
            present = [c for c in columns if c in parquet.schema_arrow.names]
            yield from parquet.iter_batches(batch_size=BATCH_ROWS, columns=present, use_threads=False)


def profile_rows(batch: pa.RecordBatch, day_micros: np.ndarray, specs: Mapping[str, ColumnSpec],
                 columns: Mapping[str, str]) -> dict[BucketKey, ColumnProfile]:
    """Day profiles of one record batch, each row in the day ``day_micros`` gives (µs since the epoch)."""
    arrays = {"ts": pa.array(np.asarray(day_micros, dtype=np.int64)).cast(pa.timestamp("us", tz="UTC"))}
    arrays |= {store: batch.column(source) for store, source in columns.items() if source in batch.schema.names}
    return profile_table(pa.table(arrays), specs, bucket_seconds=DAY)


def collect_lake(engine: Engine, spec: SourceConfig, run_id: int) -> None:
    """Profile the lake's new and rewritten partitions into the store (see the module docstring)."""
    with read_transaction(engine) as session:
        target = load_target(session, source=spec.name, records=spec.records, model=spec.model,
                             version=spec.version, version_column=None, mapping=spec.columns)
        version_id = target.versions[str(spec.version)].id
        specs = load_specs(session, model_version_id=version_id)
        marks = file_marks(session, source=spec.name)
        task = version_task(session, model_version_id=version_id)
    if not specs:
        raise SchemaError(f"lake source {spec.name!r}: model {spec.model!r} version {spec.version!r} has no profile "
                          "specs; run `driftscope apply` (it builds them from the version's reference)")
    fs, root = fsspec.core.url_to_fs(str(spec.url))
    columns = source_columns(specs, target, str(spec.version))
    labelled = label_columns(target, str(spec.version))
    found = partitions(fs, root, str(spec.partition))
    changed = list(_changed(found, marks))
    for gone in _gone(found, marks, str(spec.partition)):
        _forget(engine, spec, version_id, gone)
        log.info("lake %s: %s is gone, its profiles removed", spec.name, gone.path)
    if spec.effective_engine == "spark":
        from driftscope.collectors.lake_spark import spark_profiles

        computed = spark_profiles(spec, fs, changed, specs, columns, labelled, task)
    for partition in changed:
        if spec.effective_engine == "spark":
            profiles, n_rows, by_label = computed[partition.key]
        else:
            profiles, n_rows = local_profiles(fs, partition, specs, columns)
            by_label = ({} if not labelled else
                        local_label_profiles(record_batches(fs, partition.files, list(labelled.values())),
                                             partition.day_micros, labelled, task))
        _store(engine, spec, run_id, version_id, partition, marks.get(partition.key), profiles, n_rows, by_label)
        log.info("lake %s: profiled %s (%d rows)", spec.name, partition.key, n_rows)


def _changed(found: list[Partition], marks: Mapping[str, FileMark]) -> Iterator[Partition]:
    for partition in found:
        mark = marks.get(partition.key)
        if mark is None or mark.fingerprint != partition.fingerprint:
            yield partition


def _gone(found: list[Partition], marks: Mapping[str, FileMark], column: str) -> list[FileMark]:
    """The recorded partitions of ``column`` no longer in the dataset, oldest first."""
    present = {p.key for p in found}
    return sorted((m for key, m in marks.items() if key.startswith(f"{column}=") and key not in present),
                  key=lambda m: m.path)


def _forget(engine: Engine, spec: SourceConfig, version_id: int, gone: FileMark) -> None:
    """Remove a deleted partition's day profiles and label profiles, and its mark (one transaction)."""
    day = Partition(gone.path.split("=", 1)[1], gone.path, (), 0, "").day_micros
    with transaction(engine) as session:
        forget_file(session, source=spec.name, expected=gone)
        replace_profiles(session, model_version_id=version_id, profiles={}, bucket_seconds=DAY, starts=[day])
        replace_labelled(session, model_version_id=version_id, starts=[day], profiles={}, bucket_seconds=DAY)


def _store(engine: Engine, spec: SourceConfig, run_id: int, version_id: int, partition: Partition,
           expected: FileMark | None, profiles: dict[BucketKey, ColumnProfile], n_rows: int,
           by_label: dict[int, LabelledProfile]) -> None:
    with transaction(engine) as session:
        advance_file(session, source=spec.name, expected=expected,
                     mark=FileMark(partition.key, partition.size, partition.fingerprint, n_rows, n_rows))
        replace_profiles(session, model_version_id=version_id, profiles=profiles, bucket_seconds=DAY,
                         starts=[partition.day_micros])
        replace_labelled(session, model_version_id=version_id, starts=[partition.day_micros], profiles=by_label,
                         bucket_seconds=DAY)
        watermark = get_watermark(session, source=spec.name)
        if watermark is None or partition.value > watermark:
            advance_watermark(session, source=spec.name, expected=watermark, watermark=partition.value)
        add_run_counts(session, run_id=run_id, read=n_rows, stored=n_rows, duplicate=0, quarantined=0, conflict=0)
