"""End to end: ``driftscope dashboard`` serves the real app over a seeded SQLite store, and headless
Chromium opens every page, fails on any exception shown, and saves a screenshot to ``tests/artifacts/``.

Without ``/usr/bin/chromium`` the browser test skips with a message, unless
``DRIFTSCOPE_REQUIRE_BROWSER=1`` (set by ``.ci/run``) makes it fail.
"""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from helpers_dashboard import seed_serving, seed_store
from playwright.sync_api import Page, sync_playwright

from driftscope.storage.db import make_engine

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync"]
SELECTION = "model=credit-default&version=1.0&start=2026-01-01&end=2026-01-15"
PAGES = {  # screenshot name -> (sidebar link text, page title)
    "overview": ("Overview", "Overview"),
    "version": ("Model version", "credit-default · version 1.0"),
    "feature": ("Feature", "Feature"),
    "compare": ("Compare versions", "Compare versions"),
    "alerts": ("Alerts", "Alerts"),
    "runs": ("Runs", "Runs"),
}
READY_S = 60
PAGE_S = 45


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + READY_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the dashboard exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"the dashboard was not ready within {READY_S} s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[str]:
    """``driftscope dashboard`` on a free 127.0.0.1 port over a seeded store; stopped (its process group) after."""
    folder = tmp_path_factory.mktemp("browser")
    store = folder / "driftscope.db"
    store.write_bytes(sqlite_template.read_bytes())
    engine = make_engine(f"sqlite:///{store}")
    seed_serving(engine, seed_store(engine))
    engine.dispose()
    config = folder / "driftscope.yaml"
    config.write_text(yaml.safe_dump({"database_url": f"sqlite:///{store}"}))
    port, log = free_port(), folder / "driftscope.dashboard.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRIFTSCOPE_")}
    command = [sys.executable, "-m", "driftscope.cli", "dashboard", "--config", str(config), "--port", str(port)]
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, process, log)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def test_the_cli_serves_the_app(server: str) -> None:
    with urllib.request.urlopen(f"{server}/version?{SELECTION}", timeout=10) as response:
        assert response.status == 200 and b"<div id=\"root\">" in response.read()


def chromium_or_skip() -> None:
    if CHROMIUM.exists():
        return
    message = f"no Chromium at {CHROMIUM}: install Debian's chromium (`make browser` as root) to run the browser test"
    if os.environ.get("DRIFTSCOPE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"DRIFTSCOPE_REQUIRE_BROWSER=1 but {message}", pytrace=False)
    pytest.skip(message)


def settle(page: Page, title: str) -> None:
    """Wait for the page titled ``title`` to finish its script run, then let the charts draw."""
    page.get_by_role("heading", name=title, exact=True).first.wait_for(timeout=PAGE_S * 1000)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=PAGE_S * 1000)
    page.wait_for_timeout(300)


def shoot(page: Page, name: str) -> None:
    """A screenshot of the whole page (Streamlit scrolls inside its main block, so grow the viewport)."""
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": 1400, "height": max(900, min(height + 40, 6000))})
    page.wait_for_timeout(300)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    page.set_viewport_size({"width": 1400, "height": 900})


def click_top_right_heatmap_cell(page: Page) -> None:
    """Click the newest window of the most drifting feature (drawn top right) in the drift heatmap."""
    heatmap = page.locator(".js-plotly-plot", has_text="Data drift by feature")
    heatmap.scroll_into_view_if_needed()
    area = heatmap.locator(".nsewdrag").first.bounding_box()
    assert area is not None
    x, y = area["x"] + area["width"] * (1 - 0.5 / 14), area["y"] + area["height"] * 0.5 / 4
    page.mouse.move(x, y)
    page.mouse.click(x, y)


@pytest.mark.browser
@pytest.mark.slow
def test_every_page_renders_in_chromium_without_exceptions(server: str) -> None:
    chromium_or_skip()
    ARTIFACTS.mkdir(exist_ok=True)
    for name in PAGES:
        (ARTIFACTS / f"{name}.png").unlink(missing_ok=True)
    problems = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(f"{server}/?{SELECTION}&feature=region", timeout=PAGE_S * 1000)
            for name, (link, title) in PAGES.items():
                page.get_by_test_id("stSidebarNav").get_by_role("link", name=link, exact=True).click()
                settle(page, title)
                shoot(page, name)
                shown = page.get_by_test_id("stException").count()
                body = page.inner_text("body")
                if shown or "Traceback" in body:
                    problems.append(f"{name}: {shown} exception box(es): {body[:500]}")
                assert "model=credit-default" in page.url and "start=2026-01-01" in page.url, page.url
            page.get_by_test_id("stSidebarNav").get_by_role("link", name="Model version", exact=True).click()
            settle(page, PAGES["version"][1])
            page.get_by_role("tab", name="Serving").click()
            page.locator(".js-plotly-plot", has_text="Latency percentiles per window").wait_for(timeout=PAGE_S * 1000)
            settle(page, PAGES["version"][1])
            shoot(page, "version-serving")
            serving = page.inner_text("body")
            assert page.get_by_test_id("stException").count() == 0 and "Traceback" not in serving, serving[:500]
            assert "Error rate" in serving and "8.00%" in serving and "420 ms" in serving
            assert page.locator(".js-plotly-plot", has_text="Error and timeout rates per window").count() == 1
            page.get_by_role("tab", name="Data drift").click()
            page.locator(".js-plotly-plot", has_text="Data drift by feature").wait_for(timeout=PAGE_S * 1000)
            settle(page, PAGES["version"][1])
            click_top_right_heatmap_cell(page)
            page.wait_for_url("**/feature?**", timeout=PAGE_S * 1000)
            settle(page, "Feature")
            assert "feature=region" in page.url
        finally:
            browser.close()
    assert problems == []
    assert all((ARTIFACTS / f"{name}.png").stat().st_size > 10_000 for name in [*PAGES, "version-serving"])



@pytest.mark.parametrize("path", ["", "overview"])
def test_the_overview_opens_at_the_root_and_at_its_own_address(server: str, path: str) -> None:
    chromium_or_skip()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(f"{server}/{path}?{SELECTION}", timeout=PAGE_S * 1000)
            settle(page, "Overview")
            page.get_by_text("Model versions", exact=True).wait_for(timeout=PAGE_S * 1000)
            body = page.inner_text("body")
        finally:
            browser.close()
    assert "Page not found" not in body, body[:3000]


# True once the script run is over, the status widget is gone, a title is drawn and every chart drew its SVG.
READY_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  if (document.querySelector('[data-testid="stStatusWidget"]')) return false;
  if (!document.querySelector('[data-testid="stMain"] h1')) return false;
  for (const chart of document.querySelectorAll('[data-testid="stPlotlyChart"]')) {
    if (!chart.querySelector('.main-svg')) return false;
  }
  return true;
}"""
# Per drawn chart: its title, the alert windows shaded on it and the number of points of each line series.
CHARTS_JS = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(gd => ({
  title: (gd.layout.title && gd.layout.title.text) || '',
  shaded: (gd.layout.shapes || []).filter(s => s.type === 'rect').map(s => String(s.x0)),
  notes: (gd.layout.annotations || []).map(a => a.text),
  lines: gd.data.filter(t => t.type === 'scatter' && String(t.mode || 'lines').includes('lines'))
    .map(t => Array.from(t.x || []).filter(x => x !== null).length).filter(n => n > 0),
}))"""


def mail_link(inbox: Path, rule: str) -> str:
    """The dashboard link of the first demo e-mail about ``rule``."""
    import email
    from email import policy

    for path in sorted(inbox.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        if rule in str(message["Subject"]):
            text = message.get_body(("plain",)).get_content()
            return next(line.split(": ", 1)[1] for line in text.splitlines() if line.startswith("Open in the dash"))
    raise AssertionError(f"no e-mail about {rule} in {inbox}")


def outside_requests(page: Page, seen: list[str]) -> None:
    """Record every request the page makes to a host other than this machine."""
    from urllib.parse import urlsplit

    def note(request) -> None:  # type: ignore[no-untyped-def]
        if urlsplit(request.url).hostname not in ("127.0.0.1", "localhost", None):
            seen.append(request.url)

    page.on("request", note)


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.timeout(1200)  # builds the demo (60 days of monitors) first
def test_an_alert_email_link_opens_the_incident_with_its_windows_shaded(demo) -> None:  # type: ignore[no-untyped-def]
    """The feature-drift e-mail opens its range with the alert's window shaded and whole series drawn;
    the no_data e-mail shows the hourly volume around the gap and the (resolved) alert; Compare versions
    opens on the canary's Experiment view with its verdict and effect chart; nothing leaves the machine."""
    from urllib.parse import parse_qs, urlsplit

    chromium_or_skip()
    ARTIFACTS.mkdir(exist_ok=True)
    drift_link = urlsplit(mail_link(demo.directory / "inbox", "credit-feature-drift"))
    gap_link = urlsplit(mail_link(demo.directory / "inbox", "credit-silent"))
    window_day = parse_qs(drift_link.query)["start"][0][:10]
    port, log = free_port(), Path(demo.directory) / "driftscope.dashboard.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRIFTSCOPE_")}
    command = [sys.executable, "-m", "driftscope", "dashboard", "--config", str(demo.config_path), "--port", str(port)]
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=demo.directory, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    url, outside = f"http://127.0.0.1:{port}", []
    try:
        wait_ready(url, process, log)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                outside_requests(page, outside)
                page.goto(f"{url}{drift_link.path}?{drift_link.query}", timeout=PAGE_S * 1000)
                page.wait_for_function(READY_JS, timeout=PAGE_S * 1000, polling=100)
                shoot(page, "incident-feature-drift")
                drawn = page.evaluate(CHARTS_JS)
                assert "Alert #" in page.inner_text("body") and page.get_by_test_id("stException").count() == 0
                assert drawn and all(any(x.startswith(window_day) for x in c["shaded"]) for c in drawn), drawn
                assert all(n > 1 for c in drawn for n in c["lines"]), drawn
                page.goto(f"{url}{gap_link.path}?{gap_link.query}", timeout=PAGE_S * 1000)
                page.wait_for_function(READY_JS, timeout=PAGE_S * 1000, polling=100)
                shoot(page, "incident-no-data")
                drawn = page.evaluate(CHARTS_JS)
                assert any("per hour" in c["title"] and "no data" in c["notes"] for c in drawn), drawn
                assert "resolved" in page.inner_text("body")
                page.goto(f"{url}/compare?model=credit-default&version=1.0&compare=2.0", timeout=PAGE_S * 1000)
                page.wait_for_function(READY_JS, timeout=PAGE_S * 1000, polling=100)
                shoot(page, "experiment")
                body, drawn = page.inner_text("body"), page.evaluate(CHARTS_JS)
                assert page.get_by_role("tab", name="Experiment").count() == 1
                assert "Verdict: worse, reached in the window" in body and "latency_p95" in body, body[:2000]
                assert any("Effect on outcome:converted" in c["title"] and c["shaded"] for c in drawn), drawn
            finally:
                browser.close()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    assert outside == [], f"requests left the machine: {outside[:3]}"
