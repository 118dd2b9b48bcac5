"""Mergeable window profiles: per (model version, column, time bucket) summaries of the logged rows.

A profile holds what the drift tests need without the rows: counts, missing values, min/max,
mean and variance as mergeable moments, a histogram over bins fixed per (version, column) from the
reference (:mod:`.spec`), category counts, and a KLL quantile sketch (:mod:`.sketch`). Profiles merge
associatively (:func:`.profile.merge`), so a 30-day window is the merge of its 30 daily or 720
hourly profiles. :mod:`.compute` builds them from Arrow tables, vectorised per column;
:mod:`.store` keeps them in the ``profiles`` and ``profile_specs`` tables.
"""

from driftscope.storage.profiles.profile import ColumnProfile, empty_profile, merge, merge_all
from driftscope.storage.profiles.spec import ColumnSpec, build_specs

__all__ = ["ColumnProfile", "ColumnSpec", "build_specs", "empty_profile", "merge", "merge_all"]
