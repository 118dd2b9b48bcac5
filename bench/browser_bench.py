"""How long does each dashboard page take to be ready in a real browser?

Starts ``driftscope dashboard`` over a store, opens every page in headless Chromium (Debian's, at
``/usr/bin/chromium``, through Playwright) by its direct URL and measures the seconds from the
navigation until the page is usable: the script run has finished (Streamlit's status widget is
gone), the page's title is drawn and every Plotly chart on it has drawn its SVG. Each page is
measured *cold* (a freshly started server: nothing cached, the first visitor after a restart) and
*warm* (a new browser session on the same server: what the next reader of the same link sees).
Every request the page makes to a host other than 127.0.0.1/localhost is counted and reported.

Besides every page's direct URL, two paths a reader takes are timed: ``email`` opens the link of the
demo's first feature-drift alert e-mail (``bench/out/demo/inbox``), ``heatmap`` clicks a cell of the
drift heatmap on that page and waits for the Feature page. Each load also reports where the time
went: CPU seconds of the dashboard server (Python) and of Chromium (all its processes: parsing the
frontend, React, drawing the charts), read from ``/proc``. On a shared machine the wall seconds swing
with the load; the CPU seconds much less.

``--before REV`` measures the code of git revision ``REV`` (exported to ``bench/out/before-REV`` and put
first on the server's ``PYTHONPATH``) in the same run, interleaved page by page with the working tree,
and prints the after/before ratio of the medians. ``--screenshots DIR`` saves each page once it is ready.

Stores: ``--config PATH`` (any driftscope.yaml), ``--demo`` (builds the demo store in
``bench/out/demo`` unless it exists) and ``--big`` (the 10M-prediction SQLite store that
``bench/dashboard_bench.py`` leaves in ``bench/out/``; build it first, ``--rows`` for another size).
Without a store option the demo store is used.

Run: ``python bench/browser_bench.py [--demo] [--big [--rows N]] [--config PATH [--query Q]] [--repeat N]
[--before REV] [--screenshots DIR]``.
"""

import argparse
import collections
import email
import os
import signal
import socket
import statistics
import subprocess
import sys
import tarfile
import time
import tomllib
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from pathlib import Path
from urllib.parse import urlsplit

import yaml

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync"]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
READY_TIMEOUT_S = 120
PAGES = ("overview", "model_version", "feature", "compare", "alerts", "runs")
PATHS = ("email", "heatmap")  # an alert e-mail's link; a heatmap-cell click from it to the Feature page
TICK = os.sysconf("SC_CLK_TCK")
# True once Streamlit finished the script run, the status widget is gone, a title is drawn and every
# Plotly chart has drawn its SVG (``.main-svg``) or its WebGL canvas.
READY_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  if (document.querySelector('[data-testid="stStatusWidget"]')) return false;
  if (!document.querySelector('[data-testid="stMain"] h1')) return false;
  if (document.querySelector('[data-testid="stSkeleton"]')) return false;
  for (const chart of document.querySelectorAll('[data-testid="stPlotlyChart"]')) {
    if (!chart.querySelector('.main-svg')) return false;
  }
  return true;
}"""


@dataclass(frozen=True)
class Store:
    """A store to measure: its label, config file, the selection every page opens with, an alert link."""

    label: str
    config: Path
    query: str
    alert_link: str | None = None


@dataclass(frozen=True)
class Code:
    """The code a server runs: the working tree (no extra path) or a git revision's export."""

    label: str
    pythonpath: Path | None = None


@dataclass
class Load:
    """One page load: wall seconds and CPU seconds of the server and of Chromium."""

    wall: float
    server_cpu: float
    browser_cpu: float


@dataclass
class Sample:
    """The loads of one scenario with one code version: the cold one and the warm ones."""

    cold: Load
    warm: list[Load] = field(default_factory=list)

    def median(self, attr: str) -> float:
        """Median of ``attr`` over the warm loads."""
        return statistics.median(getattr(load, attr) for load in self.warm)


def _processes() -> dict[int, tuple[int, float]]:
    """Every process: pid -> (parent pid, CPU seconds used so far)."""
    out = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                fields = Path(f"/proc/{name}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            out[int(name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK)
    return out


def cpu_seconds(root: int) -> float:
    """CPU seconds used so far by ``root`` and every live process below it."""
    table = _processes()
    children: dict[int, list[int]] = collections.defaultdict(list)
    for pid, (parent, _) in table.items():
        children[parent].append(pid)
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += table.get(pid, (0, 0.0))[1]
        todo += children[pid]
    return total


def export_revision(rev: str) -> Code:
    """``rev``'s source exported to ``bench/out/before-REV`` and laid out as the package (a link tree)."""
    sha = subprocess.run(["git", "rev-parse", "--short", rev], cwd=HERE.parent, check=True, capture_output=True,
                         text=True).stdout.strip()
    folder = OUT / f"before-{sha}"
    tree, path = folder / "tree", folder / "path"
    if not path.exists():
        tree.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "archive", sha], cwd=HERE.parent, check=True, capture_output=True).stdout
        with tarfile.open(fileobj=__import__("io").BytesIO(archive)) as tar:
            tar.extractall(tree, filter="data")
        dirs = tomllib.loads((tree / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]
        package = path / "driftscope"
        package.mkdir(parents=True)
        for entry in (tree / dirs["driftscope"]).iterdir():
            (package / entry.name).symlink_to(entry.resolve())
        for name, source in dirs.items():
            if name != "driftscope":
                (package / name.split(".", 1)[1]).symlink_to((tree / source).resolve())
    return Code(f"before ({sha})", path)


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def dashboard(config: Path, code: Code = Code("after")) -> Iterator[tuple[str, int]]:
    """``driftscope dashboard`` on a free port (its own process group, stopped after); yields its URL and pid."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRIFTSCOPE_")}
    if code.pythonpath is not None:
        env["PYTHONPATH"] = str(code.pythonpath)
    log = OUT / "browser_bench.dashboard.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "driftscope", "dashboard", "--config", str(config), "--port", str(port)],
            cwd=config.parent, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the dashboard did not start:\n{log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.2)
        yield url, process.pid
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def open_page(browser: object, url: str, outside: list[str], server: int, *, click: bool = False,
              shot: Path | None = None) -> Load:
    """Open ``url`` in a new browser session (a fresh profile) and time it until the page is ready.

    With ``click``, the timed part starts when a drift-heatmap cell is clicked and ends when the
    Feature page it opens is ready. ``server`` is the dashboard's pid (its CPU is counted).
    """
    context = browser.new_context(viewport={"width": 1400, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    page.on("request", lambda request: _note_outside(request.url, outside))
    me = os.getpid()
    try:
        if click:
            _ready(page, url)
            heatmap = page.locator(".js-plotly-plot", has_text="Data drift by feature")
            area = heatmap.locator(".nsewdrag").first.bounding_box()
            x, y = area["x"] + area["width"] * 0.97, area["y"] + area["height"] * 0.1
            page.mouse.move(x, y)
        server_cpu, browser_cpu = cpu_seconds(server), cpu_seconds(me)
        started = time.perf_counter()
        if click:
            page.mouse.click(x, y)
            page.wait_for_url("**/feature?**", timeout=READY_TIMEOUT_S * 1000)
            page.wait_for_timeout(100)
            page.wait_for_function(READY_JS, timeout=READY_TIMEOUT_S * 1000, polling=50)
        else:
            _ready(page, url)
        load = Load(time.perf_counter() - started, cpu_seconds(server) - server_cpu, cpu_seconds(me) - browser_cpu)
        if page.get_by_test_id("stException").count():
            raise RuntimeError(f"{url}: the page shows an exception: {page.inner_text('body')[:500]}")
        if shot is not None:
            height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
            page.set_viewport_size({"width": 1400, "height": max(900, min(height + 40, 6000))})
            page.wait_for_timeout(500)
            page.screenshot(path=str(shot), full_page=True)
        return load
    finally:
        context.close()


def _ready(page: object, url: str) -> None:
    page.goto(url, wait_until="commit", timeout=READY_TIMEOUT_S * 1000)  # type: ignore[attr-defined]
    page.wait_for_timeout(100)  # type: ignore[attr-defined]  # let the websocket connect, the script state change
    page.wait_for_function(READY_JS, timeout=READY_TIMEOUT_S * 1000, polling=50)  # type: ignore[attr-defined]


def _note_outside(url: str, outside: list[str]) -> None:
    parts = urlsplit(url)
    if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname not in LOCAL_HOSTS:
        outside.append(url)


def scenarios(store: Store) -> list[str]:
    """The pages, and the e-mail link and heatmap click when the store has an alert link."""
    return [*PAGES, *(PATHS if store.alert_link else ())]


def address(url: str, store: Store, scenario: str) -> str:
    """The URL a scenario opens on a server at ``url``."""
    if scenario in PATHS:
        assert store.alert_link is not None
        link = urlsplit(store.alert_link)
        return f"{url}{link.path}?{link.query}"
    return f"{url}/{scenario}?{store.query}"


def measure(store: Store, codes: list[Code], repeat: int, outside: list[str], shots: Path | None,
            only: list[str] | None = None) -> dict[tuple[str, str], Sample]:
    """Per scenario and code: the cold load (fresh server) and ``repeat`` warm loads (new sessions).

    The codes take turns scenario by scenario, so a change in the machine's load hits both alike.
    Requests to hosts other than this machine are appended to ``outside``.
    """
    from playwright.sync_api import sync_playwright

    samples = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        try:
            for name in [n for n in only or scenarios(store) if n in scenarios(store)]:
                for code in codes:
                    with dashboard(store.config, code) as (url, pid):
                        target, click = address(url, store, name), name == "heatmap"
                        sample = Sample(open_page(browser, target, outside, pid, click=click))
                        for i in range(repeat):
                            shot = shots / f"{store.label}-{name}-{code.label.split()[0]}.png" \
                                if shots is not None and i == repeat - 1 else None
                            sample.warm.append(open_page(browser, target, outside, pid, click=click, shot=shot))
                    samples[(name, code.label)] = sample
                    print(f"  {store.label} {name} {code.label}: cold {sample.cold.wall:.2f} s, warm "
                          f"{sample.median('wall'):.2f} s (server {sample.median('server_cpu'):.2f} s CPU, "
                          f"browser {sample.median('browser_cpu'):.2f} s CPU)", file=sys.stderr, flush=True)
        finally:
            browser.close()
    return samples


def alert_link(inbox: Path) -> str | None:
    """The dashboard link of the first feature-drift alert e-mail in ``inbox``."""
    for path in sorted(inbox.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        if "feature-drift" in str(message["Subject"]):
            body = message.get_body(("plain",))
            text = body.get_content() if body is not None else ""
            for line in text.splitlines():
                if line.startswith("Open in the dash"):
                    return line.split(": ", 1)[1].strip()
    return None


def demo_store() -> Store:
    """The demo store in ``bench/out/demo`` (built by ``driftscope demo --no-dashboard`` when missing)."""
    folder = OUT / "demo"
    config = folder / "driftscope.yaml"
    if not config.exists():
        OUT.mkdir(exist_ok=True)
        subprocess.run([sys.executable, "-m", "driftscope", "demo", "--no-dashboard", "--dir", str(folder)],
                       check=True, stdout=subprocess.DEVNULL)
    return Store("demo", config, "model=credit-default", alert_link(folder / "inbox"))


def big_store(rows: int) -> Store:
    """The large SQLite store of ``bench/dashboard_bench.py --rows ROWS`` (with a config file next to it)."""
    path = OUT / f"dashboard_bench_{rows}.db"
    if not path.exists():
        raise SystemExit(f"{path} is missing: run `python bench/dashboard_bench.py --rows {rows}` first")
    config = OUT / f"dashboard_bench_{rows}.yaml"
    config.write_text(yaml.safe_dump({"database_url": f"sqlite:///{path}"}))
    return Store(f"{rows / 1e6:g}M", config, "model=credit-default&version=1.0")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", action="store_true", help="measure the demo store (default without --big/--config)")
    parser.add_argument("--big", action="store_true", help="measure the large store of dashboard_bench.py")
    parser.add_argument("--rows", type=int, default=10_000_000, help="size of that store (default 10M)")
    parser.add_argument("--config", type=Path, help="measure the store of this driftscope.yaml")
    parser.add_argument("--query", default="", help="query string every page opens with (with --config)")
    parser.add_argument("--repeat", type=int, default=3, help="warm loads per page (median shown)")
    parser.add_argument("--before", metavar="REV", help="also measure git revision REV, interleaved (ratios shown)")
    parser.add_argument("--screenshots", type=Path, metavar="DIR", help="save each page (last warm load) here")
    parser.add_argument("--only", nargs="+", choices=[*PAGES, *PATHS], help="measure these pages/paths only, in order")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        print(f"no Chromium at {CHROMIUM}: install Debian's chromium to run this benchmark")
        return 1
    stores = []
    if args.config:
        stores.append(Store(args.config.stem, args.config.resolve(), args.query))
    if args.demo or not (args.big or args.config):
        stores.append(demo_store())
    if args.big:
        stores.append(big_store(args.rows))
    codes = [export_revision(args.before), Code("after")] if args.before else [Code("after")]
    if args.screenshots:
        args.screenshots.mkdir(parents=True, exist_ok=True)
    print("## Dashboard pages in a real browser\n")
    print("Goal: every page ready in under 2 s. Seconds from navigating to the page's direct URL (``email``: an "
          "alert e-mail's link; ``heatmap``: from clicking a drift-heatmap cell to the Feature page) in headless "
          "Chromium until the script run is over, the status widget is gone and every chart is drawn. Cold: a "
          f"freshly started server (nothing cached). Warm: a new browser session on the same server (median of "
          f"{args.repeat}), with the CPU seconds of the server and of Chromium per load. No request may leave the "
          "machine.\n")
    print("| store | page | code | cold (s) | warm (s) | server CPU (s) | browser CPU (s) |")
    print("|---|---|---|---:|---:|---:|---:|")
    outside: list[str] = []
    for store in stores:
        samples = measure(store, codes, args.repeat, outside, args.screenshots, args.only)
        for (name, label), sample in samples.items():
            print(f"| {store.label} | {name} | {label} | {sample.cold.wall:.2f} | {sample.median('wall'):.2f} | "
                  f"{sample.median('server_cpu'):.2f} | {sample.median('browser_cpu'):.2f} |", flush=True)
        if len(codes) == 2:
            ratios(store, samples, codes, [name for name, _ in samples][::2])
    if outside:
        print(f"\nFAILED: {len(outside)} request(s) left the machine, e.g. {sorted(set(outside))[:3]}")
        return 1
    print("\nNo request left the machine.")
    return 0


def ratios(store: Store, samples: dict[tuple[str, str], Sample], codes: list[Code], names: list[str]) -> None:
    """After/before ratios of the warm medians per scenario (below 1: faster)."""
    before, after = codes[0].label, codes[1].label
    print(f"\n{store.label}: after / before ({before}), warm medians\n")
    print("| page | wall | server CPU | browser CPU |")
    print("|---|---:|---:|---:|")
    for name in names:
        old, new = samples[(name, before)], samples[(name, after)]
        cells = [new.median(a) / old.median(a) if old.median(a) else float("nan")
                 for a in ("wall", "server_cpu", "browser_cpu")]
        print(f"| {name} | " + " | ".join(f"{c:.2f}" for c in cells) + " |")


if __name__ == "__main__":
    sys.exit(main())
