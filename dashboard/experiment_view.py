"""The Experiment view of Compare versions: a canary / A-B experiment between the two versions.

Shown when the store holds looks of an experiment comparing them (``experiments:`` in the config,
evaluated by ``driftscope monitor run`` or the scheduler): the verdict and the window in which it
was reached, the effect with its confidence sequence over time, the traffic split, the samples
still needed, and each window's guardrails.
"""

import math

import pandas as pd
import streamlit as st

from driftscope.dashboard import charts_experiment, data, fmt, ui
from driftscope.dashboard import markdown as md
from driftscope.dashboard.data import VersionInfo

VERDICTS = {"better": "better", "worse": "worse", "no_detectable_difference": "no detectable difference yet"}


def experiment_for(ctx: ui.PageState, pair: list[VersionInfo]) -> pd.Series | None:
    """The newest experiment with looks comparing the two versions, or None."""
    found = data.experiments_between(ctx.store, version_ids=[v.id for v in pair])
    return None if found.empty else found.iloc[0]


def render(experiment: pd.Series, ctx: ui.PageState, pair: list[VersionInfo], labels: list[str]) -> None:
    """The whole view for one experiment (``labels`` name the pair as the other tabs do)."""
    names = {v.id: v.version for v in pair}
    control, treatment = names[int(experiment["control_version_id"])], names[int(experiment["treatment_version_id"])]
    looks = data.experiment_looks(ctx.store, experiment=str(experiment["experiment"]),
                                  treatment_version_id=int(experiment["treatment_version_id"]))
    if looks.empty:
        ui.empty("This experiment has no looks yet.", "Run `driftscope monitor run` (or wait for the scheduler).")
        return
    latest = looks.iloc[-1]
    st.subheader(f"Experiment {md.text(str(experiment['experiment']))}: {md.text(treatment)} (treatment) vs "
                 f"{md.text(control)} (control)")
    verdict(latest, looks)
    cols = st.columns(4)
    cols[0].metric("Effect (treatment - control)", fmt.num(latest["effect"]),
                   help=f"confidence sequence {fmt.num(latest['low'])} to {fmt.num(latest['high'])}")
    cols[1].metric("Units (control / treatment)", f"{ui.fmt_int(latest['n_control'])} / "
                                                  f"{ui.fmt_int(latest['n_treatment'])}")
    cols[2].metric("Traffic split (treatment share)", ui.fmt_pct(charts_experiment.traffic_split(looks)))
    cols[3].metric("Samples still needed", samples_text(latest["samples_needed"]),
                   help="further units (both arms) until an effect of the minimum size would be declared, "
                        "at the current split and variances")
    st.plotly_chart(charts_experiment.effect_chart(looks, kpi=kpi_name(looks)), key="compare.effect_chart",
                    config={"displaylogo": False})
    st.caption("The band is an always-valid confidence sequence: it may be read after every window without "
               "inflating false positives. Guardrails are checked on each window's own data.")
    guardrails(looks)


def verdict(latest: pd.Series, looks: pd.DataFrame) -> None:
    """The verdict and the window in which it was reached."""
    text = VERDICTS.get(str(latest["verdict"]), str(latest["verdict"]))
    if bool(latest["decided"]):
        deciding = looks[looks["decided"].astype(bool)].iloc[0]
        where = fmt.span(deciding["window_start"], deciding["window_end"])
        message = f"Verdict: **{text}**, reached in the window {where}: {md.text(str(deciding['reason']))}"
        (st.error if latest["verdict"] == "worse" else st.success)(message)
    else:
        st.info(f"Verdict: **{text}** ({md.text(str(latest['reason']))}) after "
                f"{fmt.span(looks.iloc[0]['window_start'], latest['window_end'])} UTC.")


def guardrails(looks: pd.DataFrame) -> None:
    """Each window's guardrail values per arm, breaches first."""
    table = charts_experiment.guardrail_table(looks)
    st.markdown("**Guardrails** (each window's own data)")
    if table.empty:
        st.caption("This experiment has no guardrails.")
        return
    shown = pd.DataFrame({
        "window": [fmt.span(a, b) for a, b in zip(table["window_start"], table["window_end"], strict=True)],
        "guardrail": table["guardrail"], "control": table["control"].map(fmt.num),
        "treatment": table["treatment"].map(fmt.num), "breached": table["breached"].map({True: "yes", False: ""}),
    }).sort_values("breached", ascending=False, kind="stable")
    st.dataframe(shown, hide_index=True, width="stretch")


def kpi_name(looks: pd.DataFrame) -> str:
    """The primary KPI the looks were computed for (``outcome:clicked``, ``accuracy``)."""
    return str((looks.iloc[-1]["arms"] or {}).get("primary") or "the primary KPI")


def samples_text(value: object) -> str:
    """``0`` (enough), a count, or ``n/a`` (not estimable yet, or out of reach)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return ui.fmt_int(value)
