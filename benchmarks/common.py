"""What the benchmark scripts share: warm best-of-k timing, rpact runs, ratios with their spread.

Comparisons are like with like, in one run: the same designs and number of simulated trials on both sides, each
side warmed up once (untimed) and then timed ``rounds`` times; a ratio is given as the ratio of the best times,
with the range of the per-round ratios (round i of one side against round i of the other).
"""

from __future__ import annotations

import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def timed_rounds(run: Callable[[], Any], rounds: int) -> tuple[list[float], Any]:
    """Seconds of each of ``rounds`` calls after one untimed warm-up call, and the last call's value."""
    value = run()
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        value = run()
        times.append(time.perf_counter() - began)
    return times, value


def rpact(
    design_set: str, iterations: int, seed: int, rounds: int
) -> dict[str, dict[str, list[float]]] | None:
    """rpact_bench.R's figures per design (None when Rscript with rpact is not installed)."""
    if shutil.which("Rscript") is None:
        return None
    proc = subprocess.run(
        ["Rscript", str(HERE / "rpact_bench.R"), design_set, str(iterations), str(seed), str(rounds)],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        print("rpact run failed:", proc.stderr.strip().splitlines()[-1:], file=sys.stderr)
        return None
    out = {}
    for line in proc.stdout.splitlines():
        name, times, reject, expected = (part.split() for part in line.split("|"))
        out[name[0]] = {
            "times": [float(v) for v in times],
            "reject": [float(v) for v in reject],
            "expected_n": [float(v) for v in expected],
        }
    return out


def ns_per_trial(times: list[float], trials: int) -> float:
    """Best time per simulated trial, in nanoseconds."""
    return min(times) / trials * 1e9


def ratio(slow: list[float], fast: list[float]) -> str:
    """How many times faster ``fast`` is: best against best, and the range over paired rounds."""
    paired = [s / f for s, f in zip(slow, fast, strict=False)]

    def g(x: float) -> str:
        return f"{x:.0f}" if x >= 10 else f"{x:.2g}"

    return f"{g(min(slow) / min(fast))}x ({g(min(paired))}-{g(max(paired))})"


def spread(times: list[float]) -> str:
    return f"best {min(times):.3f} s, median {statistics.median(times):.3f} s, max {max(times):.3f} s"


def machine() -> str:
    import numpy
    import scipy

    r = ""
    if shutil.which("Rscript"):
        r = subprocess.run(
            [
                "Rscript",
                "-e",
                'cat(R.version$major, ".", R.version$minor, " rpact ", '
                'as.character(packageVersion("rpact")), sep = "")',
            ],
            capture_output=True,
            text=True,
        ).stdout
    import os

    return (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"numpy {numpy.__version__}, scipy {scipy.__version__}" + (f", R {r}" if r else "")
    )
