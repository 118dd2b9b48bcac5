"""Day revisions of the profiles: every profile write bumps the revision of the UTC days it touched.

A day's revision (:class:`~driftscope.storage.models.ProfileDay`) is bumped in the transaction that
changes any of the day's profiles, by the writers in :mod:`driftscope.storage.profiles.store`. It
is what keeps the daily roll-ups (:mod:`driftscope.storage.profiles.rollup`) exact: a roll-up built
at revision ``r`` is used only while its day is still at ``r``, so a late row, a re-ingest that
adds rows, a rewritten, emptied or deleted lake partition or a spec change retires it at once, whatever process or
transaction order wrote it. ``changed_at`` (the time of the last bump's transaction) tells the monitor
runner which windows over profiles to recompute (:func:`driftscope.storage.results.runs_with_new_profiles`).
The sum of all revisions only grows (rows are never deleted except with
their model version), so it changes after every profile write: the dashboard's store stamp
(:func:`driftscope.storage.version_summary.store_stamp`) includes it.

Cost on the write path: one upsert of the touched days (usually one or two) per call, about the
cost of one more small statement per ingested batch.
"""

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from driftscope.storage.db import is_postgres
from driftscope.storage.models import ProfileDay, ProfileRollupRow

DAY_US = 86_400 * 1_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def day_of(micros: int) -> datetime:
    """The UTC day (its midnight) holding the instant ``micros`` µs after the Unix epoch.

    Examples
    --------
    >>> day_of(86_400 * 1_000_000 + 1)
    datetime.datetime(1970, 1, 2, 0, 0, tzinfo=datetime.timezone.utc)
    """
    return _EPOCH + timedelta(microseconds=int(micros) - int(micros) % DAY_US)


def mark_days(session: Session, *, model_version_id: int, starts: Iterable[int]) -> None:
    """Bump the revision of the days holding the bucket starts ``starts`` (µs since the epoch, UTC).

    Call in the transaction that changes those buckets' profiles, before changing them: on
    PostgreSQL the upserted rows stay locked until commit, so writers of the same day take turns
    (in day order, so two of them cannot deadlock on these rows).
    """
    days = sorted({day_of(s) for s in starts})
    if not days:
        return
    insert = pg_insert if is_postgres(session) else sqlite_insert
    stmt = insert(ProfileDay).values([{"model_version_id": model_version_id, "day": d, "revision": 1} for d in days])
    session.execute(stmt.on_conflict_do_update(
        index_elements=["model_version_id", "day"],
        set_={"revision": ProfileDay.revision + 1, "changed_at": func.current_timestamp()}))


def mark_version(session: Session, *, model_version_id: int) -> None:
    """Bump every day of the version (its specs changed or its profiles were rebuilt); drop its roll-ups."""
    session.execute(update(ProfileDay).where(ProfileDay.model_version_id == model_version_id)
                    .values(revision=ProfileDay.revision + 1, changed_at=func.current_timestamp()))
    session.execute(ProfileRollupRow.__table__.delete().where(ProfileRollupRow.model_version_id == model_version_id))
