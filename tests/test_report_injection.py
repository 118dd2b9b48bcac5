"""Evidently reports are opened by people: a category value must never run as script (issue #18 item 11)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from playwright.sync_api import sync_playwright
from test_dashboard_browser import CHROMIUM, LAUNCH_ARGS, chromium_or_skip

from driftscope.monitors.report import build_report, escape_embedded_data

pytestmark = pytest.mark.slow

PAYLOADS = ["<script>alert('xss')</script>", "</script><script>alert(1)</script>", "<!--<script>alert(2)//",
            "<img src=x onerror=alert(3)>", "\u2028</ScRiPt ><svg onload=alert(4)>"]


def _frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(0)
    reference = pd.DataFrame({"region": rng.choice(["north", "south"], 300), "income": rng.normal(0, 1, 300)})
    current = pd.DataFrame({"region": rng.choice(["north", *PAYLOADS], 300), "income": rng.normal(1, 1, 300)})
    return reference, current


def _open(html_file: Path) -> tuple[list[str], str]:
    """The messages of every dialog the page opens while it loads and draws, and its text (headless Chromium)."""
    seen: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        try:
            page = browser.new_page()
            page.on("dialog", lambda dialog: (seen.append(dialog.message), dialog.dismiss()))
            page.route("**/*", lambda route: route.abort() if not route.request.url.startswith("file:")
                       else route.continue_())
            page.goto(html_file.as_uri(), wait_until="load", timeout=60_000)
            page.wait_for_timeout(1500)
            text = page.inner_text("body")
        finally:
            browser.close()
    return seen, text


def test_category_values_in_the_report_never_run_as_script(tmp_path: Path) -> None:
    chromium_or_skip()
    reference, current = _frames()
    html = build_report(reference, current, {"region": "categorical", "income": "numeric"}).get_html_str(False)
    raw, safe = tmp_path / "raw.html", tmp_path / "safe.html"
    raw.write_text(html, encoding="utf-8")
    safe.write_text(escape_embedded_data(html), encoding="utf-8")
    fired, _ = _open(raw)
    assert fired, "the unescaped report should fire the injected dialogs (else this test proves nothing)"
    fired, text = _open(safe)
    assert fired == []
    assert "region" in text and "income" in text, "the escaped report did not draw"
    assert "</script><script>alert" not in safe.read_text()


def test_a_report_without_the_expected_data_block_is_refused() -> None:
    with pytest.raises(RuntimeError, match="no data block"):
        escape_embedded_data("<html><script>var x = 1;</script></html>")
