"""The browser's own clock for app timings (the browser test and benchmarks/bench_app.py).

Playwright's `locator.wait_for` polls with a back-off that reaches 500 ms between checks, so a time taken
in Python around it can be up to half a second late. This script, added to a browser context before a page
opens, records in the page (`performance.now()`, milliseconds since the navigation started) when each
metric card is first drawn with a value (checked on every animation frame), when Enter was last pressed,
and when a watched card first shows an expected value.
"""

from __future__ import annotations

CLOCK_SCRIPT = """
(() => {
  const clock = (window.__clock = { cards: {}, enter: null, watch: null });
  document.addEventListener("keydown", (e) => { if (e.key === "Enter") clock.enter = performance.now(); }, true);
  const tick = () => {
    for (const card of document.querySelectorAll("[data-testid='stMetric']")) {
      const label = (card.querySelector("[data-testid='stMetricLabel']") || {}).innerText;
      const value = (card.querySelector("[data-testid='stMetricValue']") || {}).innerText;
      const box = card.getBoundingClientRect();
      if (!label || !value || box.width === 0 || box.height === 0) continue;
      const name = label.trim();
      if (!(name in clock.cards)) clock.cards[name] = performance.now();
      const w = clock.watch;
      if (w && w.at === null && name.startsWith(w.label) && value.trim() === w.value) w.at = performance.now();
    }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})();
"""


def first_card_seconds(page, label: str) -> float:
    """Seconds from the navigation's start to the first drawing of the card whose label starts with ``label``
    (call after the card is visible)."""
    ms = page.evaluate(
        "(label) => Math.min(...Object.entries(window.__clock.cards)"
        ".filter(([name]) => name.startsWith(label)).map(([, t]) => t))",
        label,
    )
    return ms / 1000


def watch_card(page, label: str, value: str) -> None:
    """Start watching for the card ``label`` to show ``value`` (before the change that should bring it)."""
    page.evaluate(
        "([label, value]) => { window.__clock.watch = { label, value, at: null }; }", [label, value]
    )


def watched_seconds(page) -> float | None:
    """Seconds from the last Enter to the watched card showing its value, or None while it does not."""
    ms = page.evaluate(
        "window.__clock.watch && window.__clock.watch.at !== null ? window.__clock.watch.at - window.__clock.enter : null"
    )
    return None if ms is None else ms / 1000
