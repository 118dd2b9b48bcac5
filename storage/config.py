"""The ``retention`` section, owned by storage: how long raw rows stay in the store and where they go.

Names and bounds only, so loading a config imports neither SQLAlchemy nor pyarrow; the roll-over
itself is :func:`driftscope.storage.archive.run_archive`.
"""

from pydantic import Field

from driftscope.sections import Duration, Schedule, Strict


class RetentionConfig(Strict):
    """``retention``: raw rows older than ``raw`` move to ``archive`` (a folder or fsspec URL) on ``schedule``."""

    raw: Duration = Field(description="keep raw rows (predictions, labels, outcomes) this long in the store")
    archive: str = Field(min_length=1, description="folder or fsspec URL of the Parquet archive")
    schedule: Schedule | None = None
