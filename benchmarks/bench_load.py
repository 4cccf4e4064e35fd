"""The app under several users: concurrent browser sessions on one server (tests/browser_load.py), each with its
own uploaded design, changing N for a bounded time. Prints the change-to-result times (p50, p95, max), the
peak memory of the server process and its children, and whether any session ever showed another's numbers.

    .venv/bin/python benchmarks/bench_load.py --sessions 5 --seconds 60
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.browser_load import run_load  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "planner.cli", "app", "--port", str(port), "--address", "127.0.0.1"],
        cwd=ROOT,
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
        with tempfile.TemporaryDirectory() as folder:
            figures = run_load(
                url, sessions=args.sessions, seconds=args.seconds, folder=Path(folder), server_pid=proc.pid
            )
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
