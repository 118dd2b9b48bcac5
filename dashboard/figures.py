"""Figures built once per data stamp: the same chart of the same data is not rebuilt on every run.

Building a Plotly figure validates every trace and shape (tens to hundreds of milliseconds per chart on a
busy machine). A rerun (a widget change elsewhere on the page, the next visitor of the same alert link)
reuses the figure while the store's data stamp (:func:`driftscope.dashboard.data.stamp`) is unchanged.
Figures are shared between sessions and read-only: ``st.plotly_chart`` serializes a copy
(``Figure.to_dict``) and never changes the object, and no page changes a figure after building it.
"""

from collections.abc import Callable, Hashable

import plotly.graph_objects as go
import streamlit as st

from driftscope.dashboard import data
from driftscope.dashboard.data import Store

FIGURE_TTL_S = data.READ_TTL_S


@st.cache_resource(ttl=FIGURE_TTL_S, max_entries=128, show_spinner=False)
def _figure(url: str, stamp: str, key: tuple[Hashable, ...], _build: Callable[[], go.Figure]) -> go.Figure:
    return _build()


def cached(store: Store, key: tuple[Hashable, ...], build: Callable[[], go.Figure]) -> go.Figure:
    """``build()``, once per ``key`` and data stamp of ``store``.

    ``key`` names the chart and holds every input that changes it (version id, range, metric, the
    chart frame...): two calls with equal keys on the same data get the same figure object.
    """
    return _figure(store.url, data.stamp(store), key, build)
