"""Several users at once (issue 17, item 4): concurrent browser sessions on one app server, each uploading its
own design (its own scenario name, so a number leaking from another session would show under a name that is
not this session's) and changing N for a bounded time; per change, the time from Enter to the card showing
the API's number for this session's design, and the server's memory. Used by the CI browser test and by
benchmarks/bench_load.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from planner import evaluate, parse_design
from planner.design import design_to_toml
from tests.browser_clock import CLOCK_SCRIPT

CHROMIUM = "/usr/bin/chromium"
SIZES = (40, 50, 60, 45)


@contextlib.contextmanager
def app_server() -> Iterator[tuple[str, int]]:
    """The planner's app on a free port of 127.0.0.1, as `planner app` starts it: (url, server pid)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.Popen(
        [sys.executable, "-m", "planner.cli", "app", "--port", str(port), "--address", "127.0.0.1"],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("streamlit did not start")
        yield url, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def session_design(k: int):
    """Session k's own design: a single-arm binary design whose scenario is named after the session."""
    return parse_design(
        {
            "name": f"session {k}",
            "arms": {"kind": "single-arm", "n": SIZES[0]},
            "endpoint": {"kind": "binary"},
            "analysis": {"rule": "exact-binomial", "performance_goal": 0.5},
            "scenarios": [{"name": f"s{k} power", "treatment": 0.62 + 0.03 * k}],
        }
    )


def heavy_design():
    """A design whose every change is a long simulation (ANCOVA, a target MCSE of 0.0001: about 13 million trials
    per scenario, 6.6 s on this machine's two cores): the load another user puts on the server."""
    from pathlib import Path as _Path

    from planner import load_design

    root = _Path(__file__).resolve().parent.parent
    return load_design(root / "examples" / "hba1c_randomized.toml").with_changes(
        {"name": "heavy", "arms.n": 16, "simulation.n_sims": 30_000_000, "simulation.target_mcse": 0.0001}
    )


async def _heavy_session(browser: Any, url: str, folder: Path, stop: asyncio.Event) -> None:
    """Keeps the server busy: uploads :func:`heavy_design` and changes N until ``stop``."""
    path = folder / "heavy.toml"
    path.write_text(design_to_toml(heavy_design()))
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    try:
        await page.goto(url)
        await page.locator("[data-testid='stMetric']").first.wait_for(timeout=120_000)
        await page.locator("input[type=file]").first.set_input_files(str(path))
        box = page.get_by_label("Participants (total N)")
        i = 0
        while not stop.is_set():
            i += 1
            await box.fill(str(14 + 2 * (i % 4)))
            await box.press("Enter")
            await asyncio.sleep(3.0)
    finally:
        await context.close()


def _rss_kib(pid: int) -> int:
    """Resident memory of a process and its children (KiB), from /proc."""
    total = 0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


async def _session(browser: Any, url: str, k: int, folder: Path, seconds: float, out: dict) -> None:
    design = session_design(k)
    label = f"Power: s{k} power"
    want = {n: f"{evaluate(design.with_n(n))[f's{k} power'].success.value:.4f}" for n in SIZES}
    path = folder / f"session{k}.toml"
    path.write_text(design_to_toml(design))
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    await context.add_init_script(CLOCK_SCRIPT)
    page = await context.new_page()
    latencies: list[float] = []
    leaks: list[str] = []
    try:
        await page.goto(url)
        await page.locator("[data-testid='stMetric']").first.wait_for(timeout=120_000)
        await page.locator("input[type=file]").first.set_input_files(str(path))
        await _wait_value(page, label, want[SIZES[0]], 120)
        box = page.get_by_label("Participants (total N)")
        deadline = time.monotonic() + seconds
        i = 1
        while time.monotonic() < deadline:
            n = SIZES[i % len(SIZES)]
            i += 1
            await page.evaluate(
                "([label, value]) => { window.__clock.watch = { label, value, at: null }; }", [label, want[n]]
            )
            await box.fill(str(n))
            await box.press("Enter")
            seconds_taken = await _wait_watch(page, 120)
            latencies.append(seconds_taken)
            cards = await page.locator("[data-testid='stMetricLabel']").all_inner_texts()
            leaks += [c for c in cards if c.startswith("Power:") and f"s{k} power" not in c]
            value = await _metric(page, label)
            if value != want[n]:
                leaks.append(f"{label} shows {value} at N = {n}, want {want[n]}")
    finally:
        await context.close()
    out[k] = {"latencies": latencies, "leaks": leaks}


async def _metric(page: Any, label: str) -> str:
    card = page.locator("[data-testid='stMetric']", has_text=label).first
    return (await card.locator("[data-testid='stMetricValue']").inner_text()).strip()


async def _wait_value(page: Any, label: str, want: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        cards = page.locator("[data-testid='stMetric']", has_text=label)
        if await cards.count() and await _metric(page, label) == want:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{label} did not show {want}")
        await asyncio.sleep(0.05)


async def _wait_watch(page: Any, seconds: float) -> float:
    deadline = time.monotonic() + seconds
    while True:
        ms = await page.evaluate(
            "window.__clock.watch && window.__clock.watch.at !== null ? "
            "window.__clock.watch.at - window.__clock.enter : null"
        )
        if ms is not None:
            return float(ms) / 1000
        if time.monotonic() > deadline:
            raise AssertionError("the card did not show the API's number")
        await asyncio.sleep(0.02)


async def _run(
    url: str, sessions: int, seconds: float, folder: Path, server_pid: int | None, heavy: bool = False
) -> dict:
    from playwright.async_api import async_playwright

    from planner.report import CHROMIUM_FLAGS

    out: dict = {}
    peak = [0]

    async def watch_memory() -> None:
        while True:
            if server_pid is not None:
                peak[0] = max(peak[0], _rss_kib(server_pid))
            await asyncio.sleep(0.5)

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_FLAGS))
        memory = asyncio.create_task(watch_memory())
        stop = asyncio.Event()
        busy = asyncio.create_task(_heavy_session(browser, url, folder, stop)) if heavy else None
        try:
            await asyncio.gather(*(_session(browser, url, k, folder, seconds, out) for k in range(sessions)))
        finally:
            stop.set()
            if busy is not None:
                await busy
            memory.cancel()
            await browser.close()
    latencies = sorted(x for r in out.values() for x in r["latencies"])
    return {
        "sessions": sessions,
        "changes": len(latencies),
        "p50_seconds": statistics.median(latencies) if latencies else None,
        "p95_seconds": latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))] if latencies else None,
        "max_seconds": latencies[-1] if latencies else None,
        "peak_server_mib": peak[0] / 1024 if server_pid is not None else None,
        "leaks": [x for r in out.values() for x in r["leaks"]],
        "per_session_changes": {k: len(r["latencies"]) for k, r in out.items()},
    }


def run_load(
    url: str,
    *,
    sessions: int = 5,
    seconds: float = 30.0,
    folder: Path,
    server_pid: int | None = None,
    heavy: bool = False,
) -> dict:
    """Run ``sessions`` concurrent browser sessions for ``seconds`` each (with ``heavy``, one more user keeps the
    server busy with long simulations); the figures and any leak."""
    return asyncio.run(_run(url, sessions, seconds, folder, server_pid, heavy))
