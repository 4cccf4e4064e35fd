"""The app under several users: concurrent browser sessions on one server (tests/browser_load.py), each with its
own uploaded design, changing N for a bounded time. Prints the change-to-result times (p50, p95, max), the
peak memory of the server process and its children, and whether any session ever showed another's numbers.

    .venv/bin/python benchmarks/bench_load.py --sessions 5 --seconds 60
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.browser_load import app_server, run_load  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument(
        "--heavy", action="store_true", help="One more user keeps the server busy with long simulations."
    )
    args = parser.parse_args()
    with app_server() as (url, pid), tempfile.TemporaryDirectory() as folder:
        figures = run_load(
            url,
            sessions=args.sessions,
            seconds=args.seconds,
            folder=Path(folder),
            server_pid=pid,
            heavy=args.heavy,
        )
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
