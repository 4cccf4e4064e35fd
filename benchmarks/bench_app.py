"""The app in a real browser: first card after the page opens, and change-to-result, with the floors that
Streamlit's own front end sets on this machine.

Usage: .venv/bin/python benchmarks/bench_app.py [--visits 5] [--changes 8]
Starts `planner app` (as scripts/run) on a free port of 127.0.0.1 and, beside it, two Streamlit apps without
planner code as floors: a minimal one (a title, one number field, one metric card) and one with the element
kinds the Design page had before 2026-12-07 (columns, a card, an interactive table, a Vega-Lite chart, fields,
a table editor). Debian's Chromium, driven by
Playwright, opens each app `--visits` times, each visit in a fresh browser context (cold cache) and once more
in the same context (warm cache), and times page open -> first card. On the planner it then changes N
`--changes` times and times Enter -> the power card showing the API's value for the new N. Both are timed by
the browser's own clock (tests/browser_clock.py: checked on every animation frame), not by Playwright's waits,
which poll up to 500 ms apart.
Prints every figure and the median and range of each.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright import sync_api

from planner import evaluate, load_design

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.browser_clock import CLOCK_SCRIPT, first_card_seconds, watch_card, watched_seconds  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
LABEL = "Power: Phase 1/2 estimate"
FLOOR_APPS = {  # no planner code: what Streamlit's front end costs by itself
    "floor minimal": """import streamlit as st
st.title("Floor")
n = st.number_input("N", value=50, step=1)
st.metric("Power: floor", f"{n / 100:.4f}")
""",
    "floor same kinds": """import altair as alt
import pandas as pd
import streamlit as st
st.title("Floor")
left, right = st.columns([1, 2])
with right:
    st.metric("Power: floor", "0.5000")
    st.dataframe(pd.DataFrame({"a": [1, 2]}))
    st.altair_chart(alt.Chart(pd.DataFrame({"a": [1, 2], "b": [3, 4]})).mark_line().encode(x="a", y="b"))
with left:
    st.number_input("N", value=50, step=1)
    st.slider("s", 0.0, 1.0, 0.5)
    st.selectbox("b", ["x", "y"])
    st.select_slider("ss", [1, 2, 3])
    st.checkbox("c")
    st.data_editor(pd.DataFrame({"a": [1, 2]}))
""",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(command: list[str], port_option: str) -> tuple[subprocess.Popen, str, float]:
    """Start a server; return it, its address and the seconds to its health endpoint answering."""
    port = free_port()
    began = time.perf_counter()
    proc = subprocess.Popen(
        command + [port_option, str(port)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    while True:
        try:
            urllib.request.urlopen(url + "/_stcore/health", timeout=1)
            return proc, url, time.perf_counter() - began
        except OSError:
            if time.perf_counter() - began > 120:
                raise RuntimeError(f"{command} did not start") from None
            time.sleep(0.05)


def first_card(context, url: str, label: str):
    """The page, and the seconds from the navigation's start to the first drawing of the card (the
    browser's clock: Playwright's own wait polls up to 500 ms apart)."""
    page = context.new_page()
    page.goto(url)
    page.locator("[data-testid='stMetric']", has_text=label).first.wait_for(timeout=120_000)
    return page, first_card_seconds(page, label)


def changes(page, count: int) -> list[float]:
    """Seconds from Enter in the N field to the power card showing the API's value, for ``count`` new N."""
    design = load_design(ROOT / "examples" / "zimislecel_single_arm.toml")
    out = []
    for n in [80, 60, 70, 55, 90, 65, 75, 45][:count]:
        expected = f"{evaluate(design.with_changes({'arms.n': n}))[LABEL.split(': ')[1]].success.value:.4f}"
        box = page.get_by_label("Participants (total N)")
        watch_card(page, LABEL, expected)
        t1 = time.perf_counter()
        box.fill(str(n))
        box.press("Enter")
        while (seconds := watched_seconds(page)) is None:
            if time.perf_counter() - t1 > 60:
                raise RuntimeError(f"the power did not update for N = {n}")
            time.sleep(0.02)
        out.append(seconds)
        page.wait_for_timeout(2500)  # the curves drawn after the cards
    return out


def summary(values: list[float]) -> str:
    return f"median {statistics.median(values):.2f} s (range {min(values):.2f} to {max(values):.2f}, n = {len(values)})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--visits", type=int, default=5)
    parser.add_argument("--changes", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        servers = {"planner": (*start([sys.executable, "-m", "planner.cli", "app"], "--port"), LABEL)}
        for name, code in FLOOR_APPS.items():
            file = Path(tmp) / (name.replace(" ", "_") + ".py")
            file.write_text(code)
            servers[name] = (
                *start(
                    [
                        sys.executable,
                        "-m",
                        "streamlit",
                        "run",
                        str(file),
                        "--server.address",
                        "127.0.0.1",
                        "--server.headless",
                        "true",
                        "--browser.gatherUsageStats",
                        "false",
                    ],
                    "--server.port",
                ),
                "Power: floor",
            )
        figures: dict[str, list[float]] = {
            f"{name} {cache}": [] for name in servers for cache in ("cold", "warm")
        }
        try:
            with sync_api.sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
                for visit in range(args.visits):
                    for name, (_, url, _, label) in servers.items():
                        context = browser.new_context(viewport={"width": 1400, "height": 1000})
                        context.add_init_script(CLOCK_SCRIPT)
                        page, seconds = first_card(context, url, label)
                        figures[f"{name} cold"].append(seconds)
                        # the run goes on after the cards (curves): let it end, or the next visit competes
                        # with it for the 2 cores (a person does not open the page twice within 0.1 s)
                        page.wait_for_timeout(3000)
                        page.close()
                        page, seconds = first_card(context, url, label)
                        figures[f"{name} warm"].append(seconds)
                        if name == "planner" and visit == 0:
                            page.wait_for_timeout(3000)
                            figures["planner change"] = changes(page, args.changes)
                        context.close()
                browser.close()
        finally:
            for proc, *_ in servers.values():
                proc.terminate()
    print("server ready: " + ", ".join(f"{name} {ready:.2f} s" for name, (_, _, ready, _) in servers.items()))
    for key, values in figures.items():
        print(f"{key:22s} {summary(values)}")
    print(json.dumps({k: [round(v, 3) for v in vs] for k, vs in figures.items()}))


if __name__ == "__main__":
    main()
