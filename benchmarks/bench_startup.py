"""Start-up: `import planner`, `planner --help`, and the first evaluation of the default design.

Usage: .venv/bin/python benchmarks/bench_startup.py [--rounds 7]
Each figure is the wall time of a fresh process (Python start-up included), best and median of --rounds.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLANNER = str(Path(sys.executable).with_name("planner"))
EXAMPLE = str(ROOT / "examples" / "zimislecel_single_arm.toml")
CASES = {
    "python -c pass (the interpreter alone)": [sys.executable, "-c", "pass"],
    "import planner": [sys.executable, "-c", "import planner"],
    "planner --help": [PLANNER, "--help"],
    "planner --version": [PLANNER, "--version"],
    "planner evaluate (default design, exact)": [PLANNER, "evaluate", EXAMPLE],
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    rounds = parser.parse_args().rounds
    for name, command in CASES.items():
        times = []
        for _ in range(rounds):
            began = time.perf_counter()
            subprocess.run(
                command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True
            )
            times.append(time.perf_counter() - began)
        print(
            f"{name:44s} best {min(times):.3f} s, median {statistics.median(times):.3f} s, "
            f"max {max(times):.3f} s ({rounds} rounds)"
        )


if __name__ == "__main__":
    main()
