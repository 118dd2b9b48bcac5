"""What does one chart cost in the browser, by chart library? The floor under every dashboard page.

Serves a bare Streamlit app (no driftscope code) whose page holds a title and N charts of 60 points
of one kind (``plotly``, ``subplots`` = one Plotly figure with N rows, ``scattergl``, ``vega``,
``echarts``, ``dataframe``, ``table``), opens it in a new headless Chromium session per load and
reports the median wall seconds until ready (as ``browser_bench.py`` defines it) and the CPU seconds
of the server and of Chromium. Use it to tell the cost of Streamlit itself and of a chart library
from the cost of driftscope's figures.

Run: ``python bench/chart_floor.py [--repeat N] [KIND:N ...]`` (default: title plotly:1 plotly:3
subplots:3 scattergl:1 vega:1 vega:3 echarts:1 echarts:3 dataframe:4 table:4).
"""

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from browser_bench import CHROMIUM, LAUNCH_ARGS, READY_JS, cpu_seconds, free_port

APP = '''
import numpy as np
import pandas as pd
import streamlit as st

st.set_page_config(page_title="floor", layout="wide")
st.title("Floor")
kind, n = st.query_params.get("kind", "title"), int(st.query_params.get("n", "0"))
x, y = list(range(60)), np.random.default_rng(0).random(60).tolist()
if kind in ("plotly", "scattergl", "subplots"):
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots
    trace = go.Scattergl if kind == "scattergl" else go.Scatter
    if kind == "subplots":
        fig = make_subplots(rows=n, cols=1, shared_xaxes=True)
        for i in range(n):
            fig.add_trace(go.Scatter(x=x, y=y), row=i + 1, col=1)
        st.plotly_chart(fig)
    else:
        for i in range(n):
            st.plotly_chart(go.Figure(trace(x=x, y=y)), key=f"c{i}")
for i in range(n if kind == "vega" else 0):
    st.vega_lite_chart(pd.DataFrame({"x": x, "y": y}), {"mark": "line", "encoding": {
        "x": {"field": "x", "type": "quantitative"}, "y": {"field": "y", "type": "quantitative"}}}, key=f"c{i}")
for i in range(n if kind == "echarts" else 0):
    st.echarts_chart({"xAxis": {"type": "category", "data": x}, "yAxis": {"type": "value"},
                      "series": [{"type": "line", "data": y}]}, key=f"c{i}")
for i in range(n if kind in ("dataframe", "table") else 0):
    frame = pd.DataFrame(np.random.default_rng(i).random((12, 8)))
    st.dataframe(frame, key=f"c{i}") if kind == "dataframe" else st.table(frame)
'''
DEFAULT = ("title", "plotly:1", "plotly:3", "subplots:3", "scattergl:1", "vega:1", "vega:3", "echarts:1",
           "echarts:3", "dataframe:4", "table:4")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kinds", nargs="*", default=list(DEFAULT), help="KIND:N pages to load")
    parser.add_argument("--repeat", type=int, default=3, help="loads per page, taking turns (median shown)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    folder = Path(tempfile.mkdtemp(prefix="chart_floor_"))
    (folder / "app.py").write_text(APP)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(folder / "app.py"), "--server.port", str(port),
         "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    loads: dict[str, list[tuple[float, float, float]]] = {kind: [] for kind in args.kinds}
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the Streamlit server did not start") from None
                time.sleep(0.3)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
            for _ in range(args.repeat):
                for spec in args.kinds:
                    kind, _, n = spec.partition(":")
                    context = browser.new_context(viewport={"width": 1400, "height": 900})
                    page = context.new_page()
                    own, served = cpu_seconds(os.getpid()), cpu_seconds(server.pid)
                    started = time.perf_counter()
                    page.goto(f"http://127.0.0.1:{port}/?kind={kind}&n={n or 0}", wait_until="commit")
                    page.wait_for_timeout(100)
                    page.wait_for_function(READY_JS, timeout=120_000, polling=50)
                    loads[spec].append((time.perf_counter() - started, cpu_seconds(server.pid) - served,
                                        cpu_seconds(os.getpid()) - own))
                    context.close()
            browser.close()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=15)
    print("| page | wall (s) | server CPU (s) | browser CPU (s) |\n|---|---:|---:|---:|")
    for spec, rows in loads.items():
        wall, served, own = (statistics.median(r[i] for r in rows) for i in range(3))
        print(f"| {spec} | {wall:.2f} | {served:.2f} | {own:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
