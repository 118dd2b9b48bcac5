"""The Feature page's range view: a column over the whole selected range, from its merged profiles.

Counts, missing values, the histogram on the reference's bins and category counts are exact;
quantiles come from the merged KLL sketch and carry its rank error, which the table and the
chart's hover state. Works for lake-backed versions, which store profiles but no rows.
"""

import pandas as pd
import streamlit as st

from driftscope.dashboard import charts, charts_drift, data, figures, fmt, ui
from driftscope.dashboard import markdown as md
from driftscope.dashboard.data import RangeProfile, VersionInfo


def range_profile(ctx: ui.PageState, version: VersionInfo, feature: str) -> RangeProfile | None:
    """The feature's merged profile over the selected range; None when it has no profiled rows there."""
    profile = data.range_profile(ctx.store, version_id=version.id, feature=feature, start=ctx.start, end=ctx.end)
    return profile if profile is not None and profile.profile.n_rows > 0 else None


def range_section(ctx: ui.PageState, version: VersionInfo, feature: str, kind: str,
                  profile: RangeProfile | None = None) -> None:
    """Rows, missing share, distribution and quantiles of ``feature`` over the selected range."""
    profile = profile or range_profile(ctx, version, feature)
    if profile is None:
        ui.empty(f"No profile of {md.text(feature)} in this range.",
                 "Profiles are kept from the version's reference on (`driftscope apply`); widen the range, or "
                 "run `driftscope db backfill-profiles` for rows stored before.")
        return
    p = profile.profile
    cols = st.columns(4)
    cols[0].metric("Rows", ui.fmt_int(p.n_rows))
    cols[1].metric("Missing", ui.fmt_pct(profile.missing_share), help="Null, NaN or infinite values (exact)")
    if profile.spec.kind == "numeric":
        cols[2].metric("Mean", ui.fmt_num(p.mean))
        cols[3].metric("Std", ui.fmt_num(p.variance ** 0.5 if p.n_values else None), help="Population (ddof=0)")
    else:
        new = int(sum(p.new.values()) + p.other)
        cols[2].metric("Categories", ui.fmt_int(len(profile.spec.categories)), help="In the reference")
        cols[3].metric("New categories (rows)", ui.fmt_int(new), help="Values not in the reference (exact count)")
    dist = data.range_distribution(profile)
    quantiles = data.range_quantiles(profile)
    key = ("range", version.id, feature, ctx.start, ctx.end)
    figure = figures.cached(ctx.store, key, lambda: charts_drift.range_distribution_chart(
        dist, quantiles, feature=feature, feature_type=kind))
    st.plotly_chart(figure, key="feature.range_distribution", config=charts.PLOT_CONFIG)
    st.caption(f"Merged from {profile.n_buckets:,} stored profiles ({fmt.span(ctx.start, ctx.end)}): counts, missing "
               "values and the bins are exact. Bins are the reference's quantile bins; the outer bins run to the "
               "range's minimum and maximum.")
    if not quantiles.empty:
        _quantile_table(quantiles)
    if p.new:
        st.caption("New categories: " + ", ".join(f"{md.code(c)} ({n:,})" for c, n in list(p.new.items())[:30]))


def _quantile_table(quantiles: pd.DataFrame) -> None:
    error = float(quantiles["rank_error"].max())
    shown = pd.DataFrame({"quantile": [f"p{q * 100:g}" for q in quantiles["q"]],
                          "value": quantiles["value"].map(ui.fmt_num)})
    st.dataframe(shown.set_index("quantile").T, width="stretch")
    st.caption("Quantiles from the merged KLL sketch: "
               + (f"each value's true rank lies within ±{error:.2%} of the stated one (99 % confidence)."
                  if error > 0 else "exact (the sketch still holds every value)."))
