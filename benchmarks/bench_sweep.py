"""Sweep throughput in-process vs 2 local Dask workers, and the per-task overhead.

Usage: .venv/bin/python benchmarks/bench_sweep.py
A sweep of the randomized HbA1c design with the Welch test (N x dropout, 3 scenarios, 10^6
simulated trials per cell in tasks of 4 blocks = 262,144 trials) is run in this process and on
a LocalCluster of 2 single-threaded worker processes on 127.0.0.1; the tables must be identical.
Per-task overhead: a sweep of tiny tasks (100 trials each) timed both ways.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from dask.distributed import Client, LocalCluster

from planner.sweep import load_sweep, run_sweep, tasks_of

ROOT = Path(__file__).resolve().parent.parent


def sweep_file(folder: Path, n_sims: int, blocks: int, grid: str) -> Path:
    f = folder / f"sweep_{n_sims}.toml"
    f.write_text(
        f'design = "{ROOT / "examples" / "hba1c_randomized.toml"}"\nn_sims = {n_sims}\n'
        f'blocks_per_task = {blocks}\nmethod = "simulate"\n[grid]\n{grid}'
    )
    return f


def timed(sweep, client=None):
    began = time.perf_counter()
    table = run_sweep(sweep, client=client)
    return table, time.perf_counter() - began


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        heavy = load_sweep(
            sweep_file(
                folder,
                1_000_000,
                4,
                '"arms.n" = [30, 40, 60]\n"dropout.rate" = [0.05, 0.1]\n"analysis.rule" = ["welch"]\n',
            )
        )
        tiny = load_sweep(
            sweep_file(
                folder,
                100,
                1,
                '"arms.n" = [30, 31, 32, 33, 34, 35, 36, 37, 38, 39]\n"analysis.rule" = ["welch"]\n',
            )
        )
        local, t_local = timed(heavy)
        _, t_tiny_local = timed(tiny)
        with (
            LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
            ) as cluster,
            Client(cluster) as client,
        ):
            run_sweep(tiny, client=client)  # warm the workers (imports)
            dist, t_dist = timed(heavy, client)
            _, t_tiny_dist = timed(tiny, client)
        trials = 3 * len(heavy.variations) * heavy.n_sims
        n_heavy, n_tiny = len(tasks_of(heavy)), len(tasks_of(tiny))
        print("| run | tasks | seconds | simulated trials/s |")
        print("|---|---|---|---|")
        print(f"| in-process | {n_heavy} | {t_local:.2f} | {trials / t_local:,.0f} |")
        print(f"| 2 local Dask workers | {n_heavy} | {t_dist:.2f} | {trials / t_dist:,.0f} |")
        print(
            f"\nspeed-up with 2 workers on 2 cores: {t_local / t_dist:.2f}x; tables identical: {dist.equals(local)}"
        )
        print(
            f"per-task overhead (tiny tasks of 100 trials): in-process {1000 * t_tiny_local / n_tiny:.1f} ms, "
            f"Dask {1000 * t_tiny_dist / n_tiny:.1f} ms per task ({n_tiny} tasks)"
        )


if __name__ == "__main__":
    main()
